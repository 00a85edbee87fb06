-- Stage 5: no usable ID on one side (missing, invalid, or damaged beyond the earlier stages).
-- Candidates are blocked on birth date + sex + county, then names are scored; only a name that
-- agrees, with the sex known on both sides, in a block with nobody else in it, can be written off
-- automatically.

with people as (

    select * from int_match_people
    where birth_date is not null

),

records as (

    select * from int_match_records
    anti join int_match_claimed_records using (record_id)
    where birth_date is not null

),

pairs as (

    select
        people.identity,
        records.record_id,
        records.insurance,
        'no_usable_id' as method,
        'no_usable_id' as id_evidence,
        false as birth_digits_damaged,
        false as sex_digit_damaged

    from people
    inner join records
        on people.birth_date = records.birth_date
        -- Where one side cannot say (a float-damaged ID loses its sex digit), the pair can
        -- still be reviewed, but not written off: that needs the sex to agree.
        and (people.sex = records.sex or people.sex is null or records.sex is null)
        and people.place_stem in (records.region_stem, records.id_place_stem)
    semi join int_match_open_people as open
        on open.identity = people.identity and open.insurance = records.insurance
    -- "No usable ID": one side has not even 15 trustworthy digits. Where both have them, stage 3
    -- already compared them, and digits that disagree mean two different people.
    where people.prefix15_number is null or records.prefix15_number is null

)

select * from pairs
