-- Stage 3: an ID whose digits Excel destroyed (a float rendering, a numeric cell, 000 after
-- rounding): only its first 15 digits survive. Float rounding can carry into them, so the two
-- numbers they spell may differ by one, but only in the direction the damaged number's tail
-- allows: …0418 0xx may have been …0417 9xx, never …0419; a tail in the middle (…0418 5xx)
-- cannot have carried at all. Without that rule a namesake born the same day whose sequence is
-- one higher would be taken for the person. The name decides the rest.

with people as (

    select * from int_match_people
    where prefix15_number is not null or written15_number is not null

),

records as (

    select * from int_match_records
    anti join int_match_claimed_records using (record_id)
    where prefix15_number is not null or written15_number is not null

),

-- The damaged side proposes the three numbers its true first 15 digits could spell; the other
-- side is looked up by equality, so each join stays a hash join from a short list. The other
-- side's 15 digits are taken as written: a number with a wrong check character or a typo past
-- digit 15 still shows them.
-- difference is always the person's number minus the record's.
damaged_people_numbers as (

    select identity, prefix15_number + shift as wanted, -shift as difference
    from people, unnest([-1, 0, 1]) as shifts(shift)
    where id_kind = 'precision_lost' and id_number is null

),

damaged_record_numbers as (

    select record_id, prefix15_number + shift as wanted, shift as difference
    from records, unnest([-1, 0, 1]) as shifts(shift)
    where id_kind = 'precision_lost'

),

within_one as (

    select damaged.identity, records.record_id, damaged.difference
    from damaged_people_numbers as damaged
    inner join records on records.written15_number = damaged.wanted
    union
    select people.identity, damaged.record_id, damaged.difference
    from damaged_record_numbers as damaged
    inner join people on people.written15_number = damaged.wanted

),

pairs as (

    select
        within_one.identity,
        within_one.record_id,
        records.insurance,
        'id_prefix' as method,
        case when difference = 0 then 'prefix15' else 'prefix15_rounded' end as id_evidence,
        -- A carry reaches the birth date's last digit only from a sequence of 950 or more, which
        -- few people have: a pair whose birth dates differ is far likelier two people born a day
        -- apart (at 1M people all three such automatic matches were), so the dates still count.
        false as birth_digits_damaged,
        false as sex_digit_damaged

    from within_one
    inner join people using (identity)
    inner join records using (record_id)
    semi join int_match_open_people as open
        on open.identity = within_one.identity and open.insurance = records.insurance
    where (people.id_kind = 'precision_lost' and people.id_number is null
            or records.id_kind = 'precision_lost')
        -- Two trusted IDs that differ belong to two people.
        and not (people.id_number is not null and records.id_number is not null)
        and (
            difference = 0
            -- Damaged minus trusted = +1: the damaged value sits just above a boundary (tail
            -- 0xx) and the true digits 16-17 were high enough to round up (>= 50).
            -- Damaged minus trusted = -1: a float just below a boundary (tail 9xx) from true
            -- digits just above it (16-17 < 10). Both sides must say so, or there was no carry.
            or (people.float_tail is not null and records.trusted_tail is not null and (
                (difference = 1 and people.float_tail < 100 and records.trusted_tail >= 50)
                or (difference = -1 and people.float_tail >= 900
                    and records.trusted_tail < 10)))
            or (records.float_tail is not null and people.trusted_tail is not null and (
                (difference = -1 and records.float_tail < 100 and people.trusted_tail >= 50)
                or (difference = 1 and records.float_tail >= 900 and people.trusted_tail < 10)))
        )

)

select * from pairs
