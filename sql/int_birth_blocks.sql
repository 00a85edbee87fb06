-- How many roster people share each birth date, sex and county: the crowd a stranger with the
-- same name would have to come from. Used for the common-name (term-frequency) adjustment in
-- pipelines/match/scoring.py: expected namesakes = this count × the name's share of the registry.
-- Only the stages after the ID stages look it up (int_match_evidence), for people still open,
-- so it is counted once those stages have run, for the blocks open people were born into. At
-- province size registry people occupy most (birth date, sex, county) blocks, and counting every
-- registry person's block grouped two thirds of the roster (68 million records).

with registry_blocks as (

    -- Numbered (any order does): see people_in_registry_blocks.
    select birth_date, sex, place_stem, row_number() over () as block
    from (
        select distinct birth_date, sex, place_stem
        from int_match_people
        semi join int_match_open_people using (identity)
        where birth_date is not null
    )

),

records as (

    select
        birth_date,
        sex,
        coalesce(region_stem, id_place_stem) as place_stem,
        -- A person's pension and medical records are one person. Hashed: a number is cheaper to
        -- tell apart than 18 characters, and this only estimates a crowd, where a collision
        -- between two people born the same day in one county (1 in 2^64) changes nothing.
        hash(coalesce(id_number, first17, record_id::varchar)) as person

    from int_roster_records
    where birth_date is not null

),

records_in_registry_blocks as (

    select blocks.block, records.person
    from records
    inner join registry_blocks as blocks using (birth_date, sex, place_stem)

),

-- Each person once, then counted: at province size some 40 million records fall into open
-- people's blocks, and grouping them once by (block, person) cost less than a distinct count
-- per block (34 s against 40 s). The blocks are numbered so that this grouping is on two numbers
-- rather than a date, a sex and a place name (24 s against 27 s).
people_in_registry_blocks as (

    select distinct block, person
    from records_in_registry_blocks

),

people_per_block as (

    select block, count(*) as people_born_that_day
    from people_in_registry_blocks
    group by block

)

select blocks.birth_date, blocks.sex, blocks.place_stem, people_per_block.people_born_that_day
from people_per_block
inner join registry_blocks as blocks using (block)
