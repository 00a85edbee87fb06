-- How many distinct real people share each (name, birth date, county) block. Several people with
-- one name and birth date in a county is exactly where a damaged ID can point at the wrong one, so
-- the fuzzy routes never write off anyone in such a block automatically.
--
-- Trusted IDs tell people apart on both sides. A registry person without a trusted ID may be the
-- owner of any roster ID no registry person claims, so they only add to the count when there are
-- more of them than such unclaimed IDs:
--   people_in_block = |trusted IDs, both sides| + max(0, untrusted registry people − unclaimed IDs)

with registry_people as (

    select name_key, birth_date, place_stem, id_number
    from int_match_people
    where name_key is not null and birth_date is not null

),

roster_ids as (

    -- Only blocks a registry person sits in are ever looked up.
    select distinct
        records.name_key,
        records.birth_date,
        coalesce(records.region_stem, records.id_place_stem) as place_stem,
        records.id_number

    from int_match_records as records
    semi join registry_people
        on registry_people.name_key = records.name_key
        and registry_people.birth_date = records.birth_date
        and registry_people.place_stem = coalesce(records.region_stem, records.id_place_stem)
    where records.id_number is not null

),

trusted_ids as (

    select name_key, birth_date, place_stem, id_number
    from registry_people
    where id_number is not null
    union
    select name_key, birth_date, place_stem, id_number
    from roster_ids

),

unclaimed_roster_ids as (

    select name_key, birth_date, place_stem, id_number from roster_ids
    except
    select name_key, birth_date, place_stem, id_number from registry_people

),

counts as (

    select name_key, birth_date, place_stem, count(*) as trusted, 0 as untrusted, 0 as unclaimed
    from trusted_ids group by all
    union all
    select name_key, birth_date, place_stem, 0, count(*), 0
    from registry_people where id_number is null group by all
    union all
    select name_key, birth_date, place_stem, 0, 0, count(*)
    from unclaimed_roster_ids group by all

),

blocks as (

    select
        name_key,
        birth_date,
        place_stem,
        sum(trusted) + greatest(0, sum(untrusted) - sum(unclaimed)) as people_in_block

    from counts
    group by name_key, birth_date, place_stem

)

select * from blocks
