-- Every trusted ID seen in a (name, birth date, county) block that a registry person sits in,
-- from either side, and which side carries it. Two uses:
--   int_match_blocks counts the distinct people in each block;
--   int_match_evidence asks, for a damaged ID in a crowded block, whether any other person of
--   the block has an ID it could equally be a damaged copy of (a rival).

with registry_people as (

    select name_key, birth_date, place_stem, id_number
    from int_match_people
    where name_key is not null and birth_date is not null

),

roster_ids as (

    -- Only blocks a registry person sits in are ever looked up. Not made distinct here: the
    -- grouping in block_ids does that once for both sides (at province size, grouping the 10
    -- million records in registry blocks twice cost 1.5-2.5 s of about 10).
    select
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

sides as (

    select *, true as in_registry, false as in_roster
    from registry_people
    where id_number is not null
    union all
    select *, false, true
    from roster_ids

),

block_ids as (

    select
        name_key,
        birth_date,
        place_stem,
        id_number,
        bool_or(in_registry) as in_registry,
        bool_or(in_roster) as in_roster

    from sides
    group by name_key, birth_date, place_stem, id_number

)

select * from block_ids
