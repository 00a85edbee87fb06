-- Stage 4: a near-miss ID on one side: a wrong check character, one mistyped digit, or two
-- adjacent digits swapped, with the same name key. Cut the first 17 digits into four segments:
-- address (6), year+month (6), day (2), sequence (3). A typo touches one segment and a swap at
-- most two neighbours, so every such pair shares its name and two whole segments from one of the
-- four combinations below: four selective equi-joins, never everyone against everyone.

with people as (

    select * from int_match_people
    where first17 is not null and name_key is not null

),

records as (

    select * from int_match_records
    anti join int_match_claimed_records using (record_id)
    where first17 is not null and name_key is not null

),

people_keys as (

    select
        identity,
        name_key,
        substr(first17, 7, 8) as birth_digits,                          -- damage in address or sequence
        left(first17, 6) || substr(first17, 15, 3) as address_sequence,  -- damage in the date
        left(first17, 12) as address_month,                             -- damage in day or sequence
        substr(first17, 13, 5) as day_sequence                          -- damage in address or month
    from people

),

record_keys as (

    select
        record_id,
        name_key,
        substr(first17, 7, 8) as birth_digits,
        left(first17, 6) || substr(first17, 15, 3) as address_sequence,
        left(first17, 12) as address_month,
        substr(first17, 13, 5) as day_sequence
    from records

),

segment_matches as (

    select p.identity, r.record_id
    from people_keys as p inner join record_keys as r using (name_key, birth_digits)
    union
    select p.identity, r.record_id
    from people_keys as p inner join record_keys as r using (name_key, address_sequence)
    union
    select p.identity, r.record_id
    from people_keys as p inner join record_keys as r using (name_key, address_month)
    union
    select p.identity, r.record_id
    from people_keys as p inner join record_keys as r using (name_key, day_sequence)

),

compared as (

    select
        segment_matches.identity,
        segment_matches.record_id,
        records.insurance,
        hamming(people.first17, records.first17) as differing_digits,
        damerau_levenshtein(people.first17, records.first17) as edits,
        -- Where the one damaged digit (or swapped pair) lies: a birth date or sex that differs
        -- only because of it is no evidence against the pair.
        substr(people.first17, 7, 8) <> substr(records.first17, 7, 8) as birth_digits_damaged,
        substr(people.first17, 17, 1) <> substr(records.first17, 17, 1) as sex_digit_damaged,
        people.id_number is not null and records.id_number is not null as both_trusted

    from segment_matches
    inner join people using (identity)
    inner join records using (record_id)

),

pairs as (

    select
        identity,
        record_id,
        insurance,
        'near_miss_id' as method,
        case
            when differing_digits = 0 then 'check_character'
            when differing_digits = 1 then 'one_digit'
            else 'adjacent_swap'
        end as id_evidence,
        birth_digits_damaged,
        sex_digit_damaged

    from compared
    semi join int_match_open_people as open
        on open.identity = compared.identity and open.insurance = compared.insurance
    where not both_trusted
        and (differing_digits <= 1 or (differing_digits = 2 and edits = 1))

)

select * from pairs
