-- Everything the scorer needs about one stage's candidate pairs (int_match_stage_pairs): both
-- name keys, whether birth date, sex and place agree (null where one side does not say), how
-- crowded the person's block is and whether a damaged ID could as well be a rival's, how common
-- their name is (not for the exact-ID routes, see `crowd`), and who the record's owner is.

-- Nothing is copied: the pairs, people and records are read where they are needed. A copy of a
-- province's 10 million stage-1 pairs is waste, and a copy of just the stage's people and records
-- cost stage 1 30 s against 15 s of joins, for nothing measurable on the fuzzy stages.
with pairs as not materialized (

    select * from int_match_stage_pairs

),

-- Stages 3 and 4: pairs where some ID digits were damaged.
damaged_pairs as (

    select * from pairs
    where method in ('id_prefix', 'near_miss_id')

),

-- What earlier stages wrote off for this stage's damaged-ID people: their other records.
earlier_matches as (

    select earlier.identity, earlier.record_id, earlier.method
    from int_match_candidates as earlier
    semi join damaged_pairs using (identity)
    where earlier.decision = 'match'

),

-- A registry person whose own number is damaged may carry it whole on another record the
-- cascade pairs them with under the same name (their medical record, say, in this stage or
-- matched earlier). When that is a single number, it is theirs: seen again in the block, it is
-- no rival.
paired_own_ids as (

    select
        paired.identity,
        any_value(records.id_number) as own_id,
        count(distinct records.id_number) as numbers

    from (
        select identity, record_id from damaged_pairs
        union
        select identity, record_id from earlier_matches
    ) as paired
    inner join int_match_people as people using (identity)
    inner join int_match_records as records
        on records.record_id = paired.record_id and records.name_key = people.name_key
    where records.id_number is not null
    group by paired.identity

),

-- Where no such record is paired yet (the one that carries the number whole is a later stage's
-- pair: a float judged on stage 3 while the medical record waits for stage 4's check character),
-- the roster numbers of the person's block that the registry's damaged number could have come
-- from: a single one is theirs. At 100,000 generated people 24 people's own records waited in
-- review behind their own number taken for a rival's. A number another registry person of the
-- block carries is never taken: had it been this person's, the registry merge would have joined
-- the two rows.
block_own_ids as (

    select people.identity, any_value(block_ids.id_number) as own_id
    from (select distinct identity from damaged_pairs) as damaged
    anti join paired_own_ids using (identity)
    inner join int_match_people as people using (identity)
    inner join int_match_block_ids as block_ids
        on block_ids.name_key = people.name_key
        and block_ids.birth_date = people.birth_date
        and block_ids.place_stem = people.place_stem
    where people.id_number is null
        and not block_ids.in_registry
        and could_have_become(
            block_ids.id_number,
            if(people.id_kind = 'precision_lost', 'id_prefix', 'near_miss_id'),
            people.first17,
            people.prefix15_number,
            people.float_tail
        )
    group by people.identity
    having count(distinct block_ids.id_number) = 1

),

own_ids as (

    select
        identity,
        if(paired_own_ids.numbers is null, block_own_ids.own_id, paired_own_ids.own_id) as own_id

    from paired_own_ids
    full join block_own_ids using (identity)
    where coalesce(paired_own_ids.numbers, 1) = 1

),

-- A registry name that lost a character (王?) fits every 王 born that day, so a damaged ID's
-- record under it is weak evidence. But where a record carrying the person's own number whole
-- (matched on stage 1 or 2, their medical record, say) names them in full, and only one such
-- name fits, the person's name is known: only a stranger of that very name could then have
-- written a record under it, and it is counted as that name, not as the pattern. At 100,000
-- generated people this let 19 people's own records out of review.
known_full_names as (

    select earlier.identity, any_value(records.name_key) as full_name
    from earlier_matches as earlier
    inner join int_match_people as people using (identity)
    inner join int_match_records as records using (record_id)
    where earlier.method in ('exact_id', 'upgraded_id')
        and contains(people.name_key, '?')
        and not contains(records.name_key, '?')
        and records.name_key like replace(people.name_key, '?', '_')
    group by earlier.identity
    having count(distinct records.name_key) = 1

),

-- A crowded block matters to the ID-digit routes (stages 3 and 4) only if the damaged number
-- could as well have come from another person of the block: a rival whose ID the same damage
-- would have turned into it (the relation stages 3 and 4 test: the same surviving 15 digits, or
-- a carry the float's tail allows; a wrong check character, one digit, or one adjacent swap).
-- Otherwise the digits that survived tell the namesakes apart, as they do for an officer.
damaged_ids as (

    select
        pairs.identity,
        pairs.record_id,
        pairs.method,
        people.name_key,
        people.birth_date,
        people.place_stem,
        coalesce(people.id_number, records.id_number, own_ids.own_id) as trusted_id,
        people.id_number is null as registry_damaged,
        case when people.id_number is null then people.first17 else records.first17 end
            as damaged_first17,
        case
            when people.id_kind = 'precision_lost' and people.id_number is null
                then people.prefix15_number
            else records.prefix15_number
        end as damaged_prefix15,
        case
            when people.id_kind = 'precision_lost' and people.id_number is null
                then people.float_tail
            else records.float_tail
        end as damaged_float_tail,
        -- Both numbers damaged (stage 4b, or a float against a mistyped record on stage 3): the
        -- record's own digits, compared below with the person's own number and with rivals'.
        case
            when people.id_number is null and records.id_number is null then records.first17
        end as damaged_record_first17,
        records.id_kind = 'precision_lost' as record_is_float,
        -- For persons_old_records: a record that cannot write anyone off, and its name.
        records.status_group not in ('enrolled', 'suspended') as record_is_old,
        coalesce(records.id_number, records.first17) as record_number,
        records.name_key = people.name_key as record_has_persons_name

    from damaged_pairs as pairs
    inner join int_match_people as people using (identity)
    inner join int_match_records as records using (record_id)
    left join own_ids using (identity)

),

-- Both numbers damaged (stage 4b), but the person's own number is known from another record of
-- theirs under the same name (own_ids), and this record is one slip from it: the same relation
-- stage 4 writes off on, against a number the person is known to carry. A float's digits past
-- the 15th are noise, so only its first 15 are compared, and they must agree. Which digits the
-- slip hit is then judged against that number, not against the registry's damaged one.
near_own_ids as (

    select
        identity,
        record_id,
        birth_digits_differ(left(trusted_id, 17), damaged_record_first17)
            as own_birth_digits_damaged,
        record_is_float or sex_digit_differs(left(trusted_id, 17), damaged_record_first17)
            as own_sex_digit_damaged

    from damaged_ids
    where method = 'near_miss_id'
        and damaged_record_first17 is not null
        and record_could_come_from(trusted_id, damaged_record_first17, record_is_float)

),

-- A terminated or cancelled record under the person's name whose number is the one the person
-- is known to carry, or could have come from it (mistyped, or a float with the same first 15
-- digits), is taken as theirs: beside their active record, damaged its own way, it is no second
-- owner to choose between (`owners_for_person` in scoring). It cannot write anyone off, and the
-- active record is judged as it would be alone. Two active ones stay two owners: at 1,000,000
-- generated people, taking both as the person's crossed off a stranger whose own number was one
-- digit from the person's.
persons_old_records as (

    select identity, record_id
    from damaged_ids
    where record_is_old
        and record_has_persons_name
        and record_could_come_from(trusted_id, left(record_number, 17), record_is_float)

),

rivals as (

    select damaged.identity, damaged.record_id, count(*) as rival_ids
    from damaged_ids as damaged
    inner join int_match_block_ids as block_ids
        on block_ids.name_key = damaged.name_key
        and block_ids.birth_date = damaged.birth_date
        and block_ids.place_stem = damaged.place_stem
    where block_ids.id_number is distinct from damaged.trusted_id
        and (
            -- A registry person's damaged number is not a copy of another registry person's
            -- trusted one: had they been one person (same name, birth date and village), the
            -- registry merge (int_registry_identity) would have made them one identity. A
            -- damaged roster number may belong to anyone.
            (
                (damaged.registry_damaged is false or not block_ids.in_registry)
                and could_have_become(
                    block_ids.id_number,
                    damaged.method,
                    damaged.damaged_first17,
                    damaged.damaged_prefix15,
                    damaged.damaged_float_tail
                )
            )
            -- Both damaged: the record itself may be a copy of anyone's number, a registry
            -- namesake's too.
            or coalesce(
                record_could_come_from(
                    block_ids.id_number, damaged.damaged_record_first17, damaged.record_is_float
                ),
                false
            )
        )
    group by all

),

-- How crowded the person's block is, whether a damaged ID could as well be a rival's, and how
-- common the name is. The exact-ID routes (stages 1 and 2, most of all pairs) never use these:
-- their ID singles the person out, so they skip the joins and leave the figures null.
crowd as (

    select
        pairs.identity,
        pairs.record_id,
        coalesce(blocks.people_in_block, 1) as people_in_block,
        coalesce(rivals.rival_ids, 0) as rival_ids,
        near_own_ids.record_id is not null as near_own_id,
        near_own_ids.own_birth_digits_damaged,
        near_own_ids.own_sex_digit_damaged,
        coalesce(frequency.name_frequency, 1) as name_frequency,
        known_full_names.full_name is not null as full_name_known,
        -- Strangers expected in the person's birth-day crowd who could have written the
        -- record's name: the person's name or the record's, whichever is commoner (王丽 written
        -- for a rare 王莉 is any 王丽's record as well), or, where one side lost a character,
        -- every name that fits what is left (int_name_patterns), unless the record bears the
        -- person's full name known from elsewhere (known_full_names). The share of the name as
        -- the registry wrote it (王?: the person at least) then remains the floor.
        greatest(
            coalesce(frequency.name_share, 0),
            coalesce(record_frequency.name_share, 0),
            if(known_full_names.full_name is null, coalesce(patterns.pattern_share, 0), 0)
        ) * coalesce(births.people_born_that_day, 1) as expected_namesakes,
        -- How often people with such a common name have a namesake here (int_namesake_rate).
        coalesce(namesakes.namesake_rate, 0) as observed_namesake_rate

    from pairs
    inner join int_match_people as people using (identity)
    inner join int_match_records as records using (record_id)
    left join int_match_blocks as blocks
        on blocks.name_key = people.name_key
        and blocks.birth_date = people.birth_date
        and blocks.place_stem = people.place_stem
    left join rivals using (identity, record_id)
    left join near_own_ids using (identity, record_id)
    left join known_full_names
        on known_full_names.identity = pairs.identity
        and known_full_names.full_name = records.name_key
    left join int_name_frequency as frequency
        on frequency.name_key = people.name_key
    left join int_name_frequency as record_frequency
        on record_frequency.name_key = records.name_key
        and records.name_key is distinct from people.name_key
    left join int_name_patterns as patterns
        on patterns.pattern = case
            when contains(people.name_key, '?') then people.name_key
            when contains(records.name_key, '?') then records.name_key
        end
    left join int_birth_blocks as births
        on births.birth_date = people.birth_date
        and births.sex = people.sex
        and births.place_stem = people.place_stem
    left join int_namesake_rate as namesakes
        on namesakes.frequency_class = floor(log2(coalesce(frequency.name_frequency, 1)))
    where pairs.method not in ('exact_id', 'upgraded_id')

),

evidence as (

    select
        pairs.* replace (
            coalesce(crowd.own_birth_digits_damaged, pairs.birth_digits_damaged)
                as birth_digits_damaged,
            coalesce(crowd.own_sex_digit_damaged, pairs.sex_digit_damaged) as sex_digit_damaged
        ),
        people.name_key as registry_name_key,
        -- The key `pipelines.match.partitioned` spreads scoring by.
        people.birth_date as registry_birth_date,
        records.name_key as roster_name_key,
        records.status_group in ('enrolled', 'suspended') as record_counts,
        case
            when people.birth_date is not null and records.birth_date is not null
                then people.birth_date = records.birth_date
        end as birth_agrees,
        case
            when people.sex is not null and records.sex is not null
                then people.sex = records.sex
        end as sex_agrees,
        case
            when coalesce(records.region_stem, records.id_place_stem) is not null
                then coalesce(people.place_stem = records.region_stem, false)
                    or coalesce(people.place_stem = records.id_place_stem, false)
        end as place_agrees,
        crowd.people_in_block,
        crowd.rival_ids,
        crowd.near_own_id,
        crowd.full_name_known,
        crowd.name_frequency,
        crowd.expected_namesakes,
        crowd.observed_namesake_rate,
        -- Records of one real person share a trusted ID, the 14 certain characters of a
        -- float-damaged one, or at least the first 17 characters as written. None for the
        -- person's own old records (persons_old_records).
        case
            when persons_old_records.record_id is null then coalesce(
                records.id_number,
                records.prefix14,
                records.first17,
                records.record_id::varchar
            )
        end as record_owner

    from pairs
    inner join int_match_people as people using (identity)
    inner join int_match_records as records using (record_id)
    left join crowd using (identity, record_id)
    left join persons_old_records using (identity, record_id)

)

select * from evidence
