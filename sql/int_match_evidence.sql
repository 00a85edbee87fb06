-- Everything the scorer needs about one stage's candidate pairs (int_match_stage_pairs): both
-- name keys, whether birth date, sex and place agree (null where one side does not say), how
-- crowded the person's block is, how common their name is, and who the record's owner is.

with pairs as (

    select * from int_match_stage_pairs

),

people as (

    select * from int_match_people

),

records as (

    select * from int_match_records

),

evidence as (

    select
        pairs.*,
        people.name_key as registry_name_key,
        records.name_key as roster_name_key,
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
        coalesce(blocks.people_in_block, 1) as people_in_block,
        coalesce(frequency.name_frequency, 1) as name_frequency,
        -- Strangers expected to share the name in the person's birth-day crowd.
        coalesce(frequency.name_share, 0) * coalesce(births.people_born_that_day, 1)
            as expected_namesakes,
        -- Records of one real person share a trusted ID, the 14 certain characters of a
        -- float-damaged one, or at least the first 17 characters as written.
        coalesce(
            records.id_number,
            case when records.id_kind = 'precision_lost' then records.prefix14 end,
            records.first17,
            records.record_id
        ) as record_owner

    from pairs
    inner join people using (identity)
    inner join records using (record_id)
    left join int_match_blocks as blocks
        on blocks.name_key = people.name_key
        and blocks.birth_date = people.birth_date
        and blocks.place_stem = people.place_stem
    left join int_name_frequency as frequency
        on frequency.name_key = people.name_key
    left join int_birth_blocks as births
        on births.birth_date = people.birth_date
        and births.sex = people.sex
        and births.place_stem = people.place_stem

)

select * from evidence
