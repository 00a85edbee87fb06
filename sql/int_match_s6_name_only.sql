-- Stage 6: what is left has no birth date on one side (a roster record without any ID number, or
-- a registry person with neither ID nor 出生日期). Only the name and the place can be compared, so
-- this route proposes pairs for review and never writes anyone off by itself.

with people as (

    select * from int_match_people
    where name_key is not null

),

-- One row per place a record belongs to (参保地, and where its ID was issued), so that the joins
-- below are on the name and the county together. Joined on the name alone and filtered on the
-- place afterwards, a common name met all its namesakes in the province.
records as (

    -- A record insured where its ID was issued shows up twice; the union of pairs below
    -- makes them one.
    select
        record_id, insurance, name_key, birth_date,
        unnest([region_stem, id_place_stem]) as place_stem
    from int_match_records
    anti join int_match_claimed_records using (record_id)
    where name_key is not null

),

-- Split by which side lacks the birth date, so each join starts from a short list.
same_name_and_place as (

    select people.identity, records.record_id, records.insurance
    from people
    inner join records using (name_key, place_stem)
    where people.birth_date is null
    union
    select people.identity, records.record_id, records.insurance
    from records
    inner join people using (name_key, place_stem)
    where records.birth_date is null

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
