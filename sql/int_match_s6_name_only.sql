-- Stage 6: what is left has no birth date on one side (a roster record without any ID number, or
-- a registry person with neither ID nor 出生日期). Only the name and the place can be compared, so
-- this route proposes pairs for review and never writes anyone off by itself.

with people as (

    select * from int_match_people
    where name_key is not null

),

records as (

    select * from int_match_records
    anti join int_match_claimed_records using (record_id)
    where name_key is not null

),

same_name_and_place as (

    -- Split by which side lacks the birth date, so each join starts from a short list.
    select people.identity, records.record_id, records.insurance
    from people
    inner join records
        on people.name_key = records.name_key
        and people.place_stem in (records.region_stem, records.id_place_stem)
    where people.birth_date is null
    union
    select people.identity, records.record_id, records.insurance
    from (select * from records where birth_date is null) as records
    inner join people
        on people.name_key = records.name_key
        and people.place_stem in (records.region_stem, records.id_place_stem)

),

pairs as (

    select
        identity,
        record_id,
        insurance,
        'name_only' as method,
        'no_id' as id_evidence,
        false as birth_digits_damaged,
        false as sex_digit_damaged

    from same_name_and_place
    semi join int_match_open_people as open using (identity, insurance)

)

select * from pairs
