-- Stage 3: an ID whose digits Excel destroyed (a float rendering, a numeric cell, 000 after
-- rounding). Only the address code and birth date (14 characters) are certain; the 15th digit can
-- be off by one after float rounding, so it may differ by at most one. The name decides.

with people as (

    select * from int_match_people
    where prefix14 is not null

),

records as (

    select * from int_match_records
    semi join int_match_open_records using (record_id)
    where prefix14 is not null

),

pairs as (

    select
        people.identity,
        records.record_id,
        records.insurance,
        'id_prefix' as method,
        case
            when people.digit15 = records.digit15 then 'prefix15'
            else 'prefix14'
        end as id_evidence,
        false as birth_digits_damaged,
        false as sex_digit_damaged

    from people
    inner join records using (prefix14)
    semi join int_match_open_people as open
        on open.identity = people.identity and open.insurance = records.insurance
    where (people.id_kind = 'precision_lost' and people.id_number is null
            or records.id_kind = 'precision_lost')
        -- Two trusted IDs that differ belong to two people.
        and not (people.id_number is not null and records.id_number is not null)
        and abs(people.digit15::integer - records.digit15::integer) <= 1

)

select * from pairs
