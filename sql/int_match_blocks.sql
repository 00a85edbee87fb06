-- How many distinct real people share each (name, birth date, county) block. Several people with
-- one name and birth date in a county is exactly where a damaged ID can point at the wrong one, so
-- the fuzzy routes never write off anyone in such a block automatically.
--
-- Trusted IDs tell people apart on both sides (int_match_block_ids). A registry person without a
-- trusted ID may be the owner of any roster ID no registry person claims, so they only add to the
-- count when there are more of them than such unclaimed IDs:
--   people_in_block = |trusted IDs, both sides| + max(0, untrusted registry people − unclaimed IDs)

with trusted as (

    select
        name_key,
        birth_date,
        place_stem,
        count(*) as trusted,
        count(*) filter (where in_roster and not in_registry) as unclaimed

    from int_match_block_ids
    group by all

),

untrusted as (

    select name_key, birth_date, place_stem, count(*) as untrusted
    from int_match_people
    where name_key is not null and birth_date is not null and id_number is null
    group by all

),

blocks as (

    select
        name_key,
        birth_date,
        place_stem,
        coalesce(trusted.trusted, 0)
            + greatest(0, coalesce(untrusted.untrusted, 0) - coalesce(trusted.unclaimed, 0))
            as people_in_block

    from trusted
    full outer join untrusted using (name_key, birth_date, place_stem)

)

select * from blocks
