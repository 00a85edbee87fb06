-- Stage 4: a near-miss ID on one side: a wrong check character, one mistyped digit, or two
-- adjacent digits swapped. Cut the first 17 digits into four segments: address (6), year+month
-- (6), day (2), sequence (3). A typo, or a swap inside a segment, spoils one segment, so the pair
-- shares the other three: four keys, each leaving one segment out. A swap across a segment
-- boundary is undone instead: the person's number with the two digits at one of the three
-- boundaries swapped is the record's number exactly. Every join is an equality on 11 or more
-- digits, never everyone against everyone.
--
-- Names are not part of the join: a homophone or a lost character on top of a damaged ID must
-- still be found, and the scorer judges the names. Two trusted IDs that differ are two people,
-- so one side of every pair is damaged.

with people as (

    select
        identity,
        id_number is null as damaged,
        first17,
        substr(first17, 7) as without_address,
        left(first17, 6) || substr(first17, 13) as without_month,
        left(first17, 12) || substr(first17, 15) as without_day,
        left(first17, 14) as without_sequence,
        -- The number with the digits at one segment boundary swapped (6|7, 12|13, 14|15).
        left(first17, 5) || substr(first17, 7, 1) || substr(first17, 6, 1) || substr(first17, 8)
            as swapped_address_month,
        left(first17, 11) || substr(first17, 13, 1) || substr(first17, 12, 1)
            || substr(first17, 14) as swapped_month_day,
        left(first17, 13) || substr(first17, 15, 1) || substr(first17, 14, 1)
            || substr(first17, 16) as swapped_day_sequence

    from int_match_people
    semi join (select distinct identity from int_match_open_people) as open using (identity)
    where first17 is not null

),

records as (

    select
        record_id,
        insurance,
        id_number is null as damaged,
        first17,
        substr(first17, 7) as without_address,
        left(first17, 6) || substr(first17, 13) as without_month,
        left(first17, 12) || substr(first17, 15) as without_day,
        left(first17, 14) as without_sequence

    from int_match_records
    anti join int_match_claimed_records using (record_id)
    where first17 is not null

),

segment_matches as (

    select p.identity, r.record_id
    from people as p inner join records as r using (without_address)
    where p.damaged or r.damaged
    union
    select p.identity, r.record_id
    from people as p inner join records as r using (without_month)
    where p.damaged or r.damaged
    union
    select p.identity, r.record_id
    from people as p inner join records as r using (without_day)
    where p.damaged or r.damaged
    union
    select p.identity, r.record_id
    from people as p inner join records as r using (without_sequence)
    where p.damaged or r.damaged
    union
    select p.identity, r.record_id
    from people as p inner join records as r on r.first17 = p.swapped_address_month
    where p.damaged or r.damaged
    union
    select p.identity, r.record_id
    from people as p inner join records as r on r.first17 = p.swapped_month_day
    where p.damaged or r.damaged
    union
    select p.identity, r.record_id
    from people as p inner join records as r on r.first17 = p.swapped_day_sequence
    where p.damaged or r.damaged

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
        substr(people.first17, 17, 1) <> substr(records.first17, 17, 1) as sex_digit_damaged

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
    where differing_digits <= 1 or (differing_digits = 2 and edits = 1)

)

select * from pairs
