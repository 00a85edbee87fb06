-- Stage 4: a near-miss ID on one side: a wrong check character, one mistyped digit, or two
-- adjacent digits swapped. Cut the first 17 digits into four segments: address (6), year+month
-- (6), day (2), sequence (3). A typo, or a swap inside a segment, spoils one segment, so the pair
-- shares the other three: four keys, each leaving one segment out (sql/matching_macros.sql). The
-- sequence key also pairs everyone born the same day in one place, so its join keeps only
-- sequences one slip apart (at province size it paired some 3.4 million that no slip explains,
-- which were merged with the other keys' pairs before the last check threw them away). A
-- swap across a segment boundary is undone instead: the person's number with the two digits at
-- one of the three boundaries swapped is the record's number exactly. Every join is an equality
-- on 11 or more digits, never everyone against everyone.
--
-- Names are not part of the join: a homophone or a lost character on top of a damaged ID must
-- still be found, and the scorer judges the names. Two trusted IDs that differ are two people,
-- so one side of every pair has a typo (a bad check character, or digits that make no valid
-- number). A float-damaged number's digits past the 15th are noise: stage 3 compares what
-- survives with trusted numbers and other floats, and a near miss on the noise would only find
-- strangers (at 1M people, all 6 such automatic matches were), so here a float is compared only
-- with a number that has a typo, both sides damaged.

with people as (

    select
        identity,
        id_number is null and id_kind <> 'precision_lost' as has_typo,
        first17,
        first17::bigint as digits,
        -- The number with the digits at one segment boundary swapped (6|7, 12|13, 14|15).
        swapped_at(first17, 6) as swapped_address_month,
        swapped_at(first17, 12) as swapped_month_day,
        swapped_at(first17, 14) as swapped_day_sequence

    from int_match_people
    semi join (select distinct identity from int_match_open_people) as open using (identity)
    where first17 is not null

),

records as (

    select
        record_id,
        insurance,
        id_number is null and id_kind <> 'precision_lost' as has_typo,
        coalesce(first17, left(id_number, 17))::bigint as digits

    from int_match_records
    anti join int_match_claimed_records using (record_id)
    where first17 is not null or id_number is not null

),

segment_matches as (

    select p.identity, r.record_id, r.insurance, r.digits
    from people as p
    inner join records as r on without_address(r.digits) = without_address(p.digits)
    where p.has_typo or r.has_typo
    union
    select p.identity, r.record_id, r.insurance, r.digits
    from people as p
    inner join records as r on without_month(r.digits) = without_month(p.digits)
    where p.has_typo or r.has_typo
    union
    select p.identity, r.record_id, r.insurance, r.digits
    from people as p
    inner join records as r on without_day(r.digits) = without_day(p.digits)
    where p.has_typo or r.has_typo
    union
    select p.identity, r.record_id, r.insurance, r.digits
    from people as p
    inner join records as r on without_sequence(r.digits) = without_sequence(p.digits)
    where (p.has_typo or r.has_typo) and sequence_near_miss(p.digits % 1000, r.digits % 1000)
    union
    select p.identity, r.record_id, r.insurance, r.digits
    from people as p inner join records as r on r.digits = p.swapped_address_month
    where p.has_typo or r.has_typo
    union
    select p.identity, r.record_id, r.insurance, r.digits
    from people as p inner join records as r on r.digits = p.swapped_month_day
    where p.has_typo or r.has_typo
    union
    select p.identity, r.record_id, r.insurance, r.digits
    from people as p inner join records as r on r.digits = p.swapped_day_sequence
    where p.has_typo or r.has_typo

),

compared as (

    select
        segment_matches.identity,
        segment_matches.record_id,
        segment_matches.insurance,
        people.first17,
        lpad(segment_matches.digits::varchar, 17, '0') as record_first17

    from segment_matches
    inner join people using (identity)

),

located as (

    select
        identity,
        record_id,
        insurance,
        hamming(first17, record_first17) as differing_digits,
        damerau_levenshtein(first17, record_first17) as edits,
        -- Where the one damaged digit (or swapped pair) lies: a birth date or sex that differs
        -- only because of it is no evidence against the pair.
        birth_digits_differ(first17, record_first17) as birth_digits_damaged,
        sex_digit_differs(first17, record_first17) as sex_digit_damaged

    from compared

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

    from located
    semi join int_match_open_people as open using (identity, insurance)
    where differing_digits <= 1 or (differing_digits = 2 and edits = 1)

)

select * from pairs
