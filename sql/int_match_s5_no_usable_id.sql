-- Stage 5: no usable ID on one side (missing, invalid, or damaged beyond the earlier stages).
-- Candidates are blocked on birth date + sex + county, then names are scored; only a name that
-- agrees, with the sex known on both sides, in a block with nobody else in it, can be written off
-- automatically.

with people as (

    select * from int_match_people
    semi join (select distinct identity from int_match_open_people) as open using (identity)
    where birth_date is not null

),

records as (

    select * from int_match_records
    anti join int_match_claimed_records using (record_id)
    where birth_date is not null

),

-- "No usable ID": one side has not even 15 trustworthy digits. Where both have them, stage 3
-- already compared them, and digits that disagree mean two different people. Such sides are
-- few, so each is joined to the whole other side on its own: a join on the birth date alone
-- between both whole sides would pair everyone born the same day.
people_without_id as (

    select * from people where prefix15_number is null

),

records_without_id as (

    select * from records where prefix15_number is null

),

same_birth_date as (

    select
        people.identity,
        people.sex as person_sex,
        people.place_stem,
        records.record_id,
        records.insurance,
        records.sex as record_sex,
        records.region_stem,
        records.id_place_stem

    from people_without_id as people
    inner join records using (birth_date)
    union
    select
        people.identity,
        people.sex,
        people.place_stem,
        records.record_id,
        records.insurance,
        records.sex,
        records.region_stem,
        records.id_place_stem

    from people
    inner join records_without_id as records using (birth_date)

),

pairs as (

    select
        identity,
        record_id,
        insurance,
        'no_usable_id' as method,
        'no_usable_id' as id_evidence,
        false as birth_digits_damaged,
        false as sex_digit_damaged

    from same_birth_date
    semi join int_match_open_people as open using (identity, insurance)
    -- Where one side cannot say (a float-damaged ID loses its sex digit), the pair can still be
    -- reviewed, but not written off: that needs the sex to agree.
    where (person_sex = record_sex or person_sex is null or record_sex is null)
        and place_stem in (region_stem, id_place_stem)

)

select * from pairs
