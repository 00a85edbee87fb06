-- The roster records some registry person could be paired with at some stage, or that tell the
-- people of a registry person's (name, birth date, county) block apart. Most of a roster belongs
-- to people who are not in the registry: their whole IDs equal no registry number, and few of
-- them share a name and birthday with a registry person. Every stage would only read past them,
-- and at province size (~100 million records) all of them are more than the memory limit holds.
-- The rules below are each stage's join conditions, loosened, so a record some stage would pair
-- is always kept: the decisions are those of the whole roster, row for row (a test checks).

-- Not materialised: read by every lookup below, each wanting a few columns of a table.
with people as not materialized (

    select * from int_match_people

),

-- Stages 1 and 2 (and the exact-ID join of the benchmark): the same number.
registry_ids as (

    select id_number from people where id_number is not null

),

-- Stage 3: the first 15 digits a number Excel destroyed may have spelt (its tail may have
-- carried into them by one).
destroyed_number_prefixes as (

    select prefix15_number + shift as written15_number
    from people, unnest([-1, 0, 1]) as shifts(shift)
    where id_kind = 'precision_lost' and id_number is null

),

-- Stage 4: a number with a typo pairs with a whole number that shares three of its four segments,
-- or that undoes a swap across a segment boundary.
typo_digits as (

    select first17::bigint as digits, first17
    from people
    where id_number is null and id_kind <> 'precision_lost' and first17 is not null

),

typo_swaps as (

    select swapped_at(first17, 6) as digits from typo_digits
    union all
    select swapped_at(first17, 12) from typo_digits
    union all
    select swapped_at(first17, 14) from typo_digits

),

-- Stage 5: people without a usable number are looked for among everyone born that day in their
-- county.
born_where_no_usable_id as (

    select distinct birth_date, place_stem
    from people
    where prefix15_number is null and birth_date is not null and place_stem is not null

),

-- Stage 6: people without even a birth date, by name and county.
named_where_no_birth_date as (

    select distinct name_key, place_stem
    from people
    where birth_date is null and name_key is not null and place_stem is not null

),

-- int_match_block_ids: the blocks registry people sit in.
registry_blocks as (

    select distinct name_key, birth_date, place_stem
    from people
    where name_key is not null and birth_date is not null

),

records as (

    select * exclude (digits17), digits17 as digits
    from int_roster_records

),

-- The lookups with two or three columns are left joins against distinct keys: a hash join each
-- (written as `(a, b) in (...)` the whole query ran seven times slower at 100k people).
kept as (

    select records.* exclude (digits)
    from records
    left join born_where_no_usable_id as born_in_region
        on born_in_region.birth_date = records.birth_date
        and born_in_region.place_stem = records.region_stem
    left join born_where_no_usable_id as born_in_id_place
        on born_in_id_place.birth_date = records.birth_date
        and born_in_id_place.place_stem = records.id_place_stem
    left join named_where_no_birth_date as named_in_region
        on named_in_region.name_key = records.name_key
        and named_in_region.place_stem = records.region_stem
    left join named_where_no_birth_date as named_in_id_place
        on named_in_id_place.name_key = records.name_key
        and named_in_id_place.place_stem = records.id_place_stem
    left join registry_blocks as block
        on block.name_key = records.name_key
        and block.birth_date = records.birth_date
        and block.place_stem = coalesce(records.region_stem, records.id_place_stem)
    where
        -- A number that is missing or damaged, or no birth date: stages 3 to 6 may need it.
        records.id_number is null
        or records.birth_date is null
        or records.id_number in (select id_number from registry_ids)
        or records.written15_number in (select written15_number from destroyed_number_prefixes)
        or without_address(records.digits) in (select without_address(digits) from typo_digits)
        or without_month(records.digits) in (select without_month(digits) from typo_digits)
        or without_day(records.digits) in (select without_day(digits) from typo_digits)
        or without_sequence(records.digits) in (select without_sequence(digits) from typo_digits)
        or records.digits in (select digits from typo_swaps)
        or born_in_region.birth_date is not null
        or born_in_id_place.birth_date is not null
        or named_in_region.name_key is not null
        or named_in_id_place.name_key is not null
        or block.name_key is not null

)

select * from kept
