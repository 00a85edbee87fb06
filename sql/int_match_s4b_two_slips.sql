-- Stage 4b: both numbers damaged, each by one slip (a typo on both sides, or a typo on one and
-- Excel's rounding on the other). They are two slips apart, so no key of stage 4 finds them, and
-- stage 5 does not look, since both still have digits. Found this way: among damaged numbers
-- only, under the same name, where the address, the birth or the sequence digits agree (two
-- slips spoil at most two of the three). At 100,000 generated people these were most of the
-- people with an ID who were truly enrolled and neither found nor shown for review.
--
-- A stage of its own, after stage 4: someone stage 4 wrote off is settled, and a farther
-- candidate beside a nearer one in the same stage would only make the nearer one ambiguous.

with people as (

    select
        identity,
        name_key,
        first17,
        id_kind = 'precision_lost' as is_float

    from int_match_people
    semi join (select distinct identity from int_match_open_people) as open using (identity)
    where id_number is null and first17 is not null and name_key is not null

),

records as (

    select
        record_id,
        insurance,
        name_key,
        first17,
        id_kind = 'precision_lost' as is_float

    from int_match_records
    anti join int_match_claimed_records using (record_id)
    where id_number is null and first17 is not null and name_key is not null

),

same_name_and_part as (

    select
        p.identity, r.record_id, r.insurance, p.first17, r.first17 as record_first17,
        p.is_float or r.is_float as one_float, p.is_float and r.is_float as both_float
    from people as p
    inner join records as r
        on r.name_key = p.name_key and left(r.first17, 6) = left(p.first17, 6)
    union
    select
        p.identity, r.record_id, r.insurance, p.first17, r.first17,
        p.is_float or r.is_float, p.is_float and r.is_float
    from people as p
    inner join records as r
        on r.name_key = p.name_key and substr(r.first17, 7, 8) = substr(p.first17, 7, 8)
    union
    -- A slip in the address and one in the birth digits spoil both keys above; the sequence
    -- digits then agree (a float has lost them).
    select
        p.identity, r.record_id, r.insurance, p.first17, r.first17,
        false, false
    from people as p
    inner join records as r
        on r.name_key = p.name_key and right(r.first17, 3) = right(p.first17, 3)
    where not p.is_float and not r.is_float

),

-- Two floats are stage 3's (their 15 digits agree or they are two people). A float's digits
-- past the 15th are noise, so with one float only the first 15 are compared, and one slip
-- there is the other side's typo.
slips as (

    select
        *,
        if(
            one_float,
            damerau_levenshtein(left(first17, 15), left(record_first17, 15)) = 1,
            damerau_levenshtein(first17, record_first17) = 2
        ) as two_slips_apart,
        -- The birth and sequence digits agree wherever both sides have them, so the slips are in
        -- the address code (or the check character). A namesake born the same day differs in
        -- the sequence: only such pairs may be written off (see scoring); the rest are shown.
        substr(first17, 7, if(one_float, 9, 11)) = substr(record_first17, 7, if(one_float, 9, 11))
            as slips_in_address

    from same_name_and_part
    where not both_float

),

two_slip_pairs as (

    -- Scored as stage 4's route: a near miss, here on both sides.
    select
        identity,
        record_id,
        insurance,
        'near_miss_id' as method,
        if(slips_in_address, 'two_slips_in_address', 'two_slips') as id_evidence,
        birth_digits_differ(first17, record_first17) as birth_digits_damaged,
        -- A float's 17th digit is noise: its sex digit is unknown.
        one_float or sex_digit_differs(first17, record_first17) as sex_digit_damaged

    from slips
    semi join int_match_open_people as open using (identity, insurance)
    -- A pair an earlier stage proposed (one slip apart, say) was judged there.
    anti join int_match_candidates as earlier using (identity, record_id)
    where two_slips_apart

)

select * from two_slip_pairs
