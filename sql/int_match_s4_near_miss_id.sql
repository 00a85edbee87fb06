-- Stage 4: a near-miss ID on one side: a wrong check character, one mistyped digit, or two
-- adjacent digits swapped, with the same name key. A typo touches one of the three segments of the
-- first 17 digits (address, birth date, sequence) and a swap at most two, so every such pair shares
-- its name and at least one whole segment: three equi-joins find them without comparing everyone.

with people as (

    select * from int_match_people
    where first17 is not null and name_key is not null

),

records as (

    select * from int_match_records
    semi join int_match_open_records using (record_id)
    where first17 is not null and name_key is not null

),

segment_matches as (

    select people.identity, records.record_id
    from people inner join records
        on people.name_key = records.name_key
        and left(people.first17, 6) = left(records.first17, 6)
    union
    select people.identity, records.record_id
    from people inner join records
        on people.name_key = records.name_key
        and substr(people.first17, 7, 8) = substr(records.first17, 7, 8)
    union
    select people.identity, records.record_id
    from people inner join records
        on people.name_key = records.name_key
        and substr(people.first17, 15, 3) = substr(records.first17, 15, 3)

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
