-- Stage 6: what is left has no birth date on one side (a roster record without any ID number, or
-- a registry person with neither ID nor 出生日期). Only the name and the place can be compared, so
-- this route proposes pairs for review and never writes anyone off by itself.

with people as (

    select * from int_match_people
    where name_key is not null

),

records as (

    select * from int_match_records
    semi join int_match_open_records using (record_id)
    where name_key is not null

),

pairs as (

    select
        people.identity,
        records.record_id,
        records.insurance,
        'name_only' as method,
        'no_id' as id_evidence,
        false as birth_digits_damaged,
        false as sex_digit_damaged

    from people
    inner join records
        on people.name_key = records.name_key
        and people.place_stem in (records.region_stem, records.id_place_stem)
    semi join int_match_open_people as open
        on open.identity = people.identity and open.insurance = records.insurance
    where people.birth_date is null or records.birth_date is null

)

select * from pairs
