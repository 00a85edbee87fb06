-- One row per registry person: the union of their lists' categories, counted once.
-- Values come from the person's highest-priority row (建档立卡 first, then file order).
-- Parameters: $as_of.

with rows as (

    select * from int_registry_identity

),

people as (

    select
        identity,
        first(person_key order by list_priority, row_seq) filter (where person_key is not null)
            as source_person_key,
        first(resolved_id) as id_number,
        first(id_kind order by list_priority, row_seq) as id_kind,
        first(id_prefix15 order by list_priority, row_seq) filter (where id_prefix15 is not null)
            as id_prefix15,
        first(id_clean order by list_priority, row_seq) filter (where id_clean is not null)
            as id_clean,
        first(name order by list_priority, row_seq) as name,
        first(name_key order by list_priority, row_seq) as name_key,
        first(known_birth_date order by list_priority, row_seq)
            filter (where known_birth_date is not null) as birth_date,
        coalesce(
            first(id_sex order by list_priority, row_seq) filter (where id_sex is not null),
            first(sex_given order by list_priority, row_seq) filter (where sex_given is not null)
        ) as sex,
        first(county order by list_priority, row_seq) as county,
        first(township order by list_priority, row_seq) as township,
        first(village order by list_priority, row_seq) as village,
        first(region_code order by list_priority, row_seq) filter (where region_code is not null)
            as region_code,
        first(household_key order by list_priority, row_seq)
            filter (where household_key is not null) as household_key,
        list_sort(list_distinct(flatten(list(categories)))) as categories,
        first(poverty_exit_norm order by list_priority, row_seq)
            filter (where poverty_exit_norm is not null) as poverty_exit,
        bool_or(is_student) as is_student,
        -- Any list that knows of a death, a sentence or an emigration wins over 正常.
        first(person_state order by person_state = '正常', list_priority, row_seq) as person_state,
        bool_or(has_id_conflict) as has_id_conflict,
        bool_or(id_from_other_list) as id_from_other_list,
        count(*) as list_rows,
        list(file || '#' || coalesce(_sheet || '#', '') || _row::varchar order by row_seq)
            as source_rows

    from rows
    group by identity

),

keyed as (

    select
        *,
        -- The source 人员编号 where it names this person alone; otherwise a key derived from
        -- the identity, which is stable across runs for the same inputs.
        case
            when source_person_key is not null
                and count(*) over (partition by source_person_key) = 1
                then source_person_key
            else 'P' || substr(md5(identity), 1, 15)
        end as person_key,
        date_sub('year', birth_date, $as_of::date) as age

    from people

)

select * from keyed
