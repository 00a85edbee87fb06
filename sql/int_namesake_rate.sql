-- How often, in this data, two different people share a name, birth date and county: among
-- registry people whose ID is trusted, the share whose block holds another trusted ID (from
-- either side), by how common their name is (power-of-two classes of name_frequency).
--
-- The expected namesakes a name's frequency predicts (int_name_frequency × int_birth_blocks)
-- assume people are named independently of when and where they were born. Where namesakes are
-- commoner than that (families reusing a name, a clerk copying a neighbour's row, or the
-- benchmark's planted look-alikes), this observed rate is higher, and the scorer takes it as a
-- floor for stage 5: a person with no usable ID is told from a namesake born the same day by
-- nothing at all. Stages 3 and 4 need no floor: there a namesake's own ID is compared with the
-- damaged digits (rivals, int_match_evidence).

with registry_with_id as (

    select
        people.name_key,
        people.birth_date,
        people.place_stem,
        floor(log2(frequency.name_frequency))::integer as frequency_class

    from int_match_people as people
    inner join int_name_frequency as frequency using (name_key)
    where people.id_number is not null and people.birth_date is not null

),

ids_per_block as (

    select name_key, birth_date, place_stem, count(*) as ids_in_block
    from int_match_block_ids
    group by all

),

namesake_rate as (

    select
        registry_with_id.frequency_class,
        count(*) as people,
        avg((ids_per_block.ids_in_block > 1)::integer) as namesake_rate

    from registry_with_id
    inner join ids_per_block using (name_key, birth_date, place_stem)
    group by registry_with_id.frequency_class

)

select * from namesake_rate
