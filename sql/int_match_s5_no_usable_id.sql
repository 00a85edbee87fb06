-- Stage 5: no usable ID on one side (missing, invalid, or damaged beyond the earlier stages).
-- Candidates are blocked on birth date + sex + county, then names are scored; only a name that
-- agrees, with the sex known on both sides, in a block with nobody else in it, can be written off
-- automatically.

with people as (

    select * from int_match_people
    semi join (select distinct identity from int_match_open_people) as open using (identity)
    where birth_date is not null

),

-- A record belongs to the county it is insured in (参保地) and to the one its ID was issued in:
-- one row per place, so that the joins below are equi-joins on the birth date and the county
-- together. Joined on the birth date alone and filtered on the place afterwards, the
-- province's people without an ID each met every record born that day in all of Hunan, and
-- the join grew with the square of the data (at 1/10 of the province 714,734 rows against
-- 63,657; at province the stage took 28.6 s against 0.6 s at 1/10).
records as (

    -- A record insured where its ID was issued shows up twice; the union of pairs below
    -- makes them one.
    select
        record_id, insurance, birth_date, sex, prefix15_number,
        unnest([region_stem, id_place_stem]) as place_stem
    from int_match_records
    anti join int_match_claimed_records using (record_id)
    where birth_date is not null

),

-- "No usable ID": one side has not even 15 trustworthy digits. Where both have them, stage 3
-- already compared them, and digits that disagree mean two different people. Such sides are
-- few, so each is joined to the whole other side on its own: a join between both whole sides
-- would pair everyone born the same day in the county.
people_without_id as (

    select * from people where prefix15_number is null

),

records_without_id as (

    select * from records where prefix15_number is null

),

same_birth_date_and_place as (

    select
        people.identity,
        people.sex as person_sex,
        records.record_id,
        records.insurance,
        records.sex as record_sex

    from people_without_id as people
    inner join records using (birth_date, place_stem)
    union
    select people.identity, people.sex, records.record_id, records.insurance, records.sex
    from people
    inner join records_without_id as records using (birth_date, place_stem)

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

    from same_birth_date_and_place
    semi join int_match_open_people as open using (identity, insurance)
    -- Where one side cannot say (a float-damaged ID loses its sex digit), the pair can still be
    -- reviewed, but not written off: that needs the sex to agree.
    where person_sex = record_sex or person_sex is null or record_sex is null

)

select * from pairs
