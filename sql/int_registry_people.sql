-- One row per registry person: the union of their lists' categories, counted once.
-- Values come from the person's highest-priority row (建档立卡 first, then file order).
-- Parameters: $as_of.

-- Not materialised: read several times below, and a copy of every registry row is waste.
with rows as not materialized (

    select * from int_registry_identity

),

rows_per_person as (

    select identity, count(*) as list_rows
    from rows
    group by identity

),

-- Most people are on one list, and their one row is their values. Only people on several lists
-- need a value picked from each column in priority order: done for everyone, that ordered
-- aggregation was most of the step's time at province size.
-- Not materialised: read again below for its person keys alone, and a copy of millions of wide
-- rows cost more than scanning them twice.
on_one_list as not materialized (

    select
        identity,
        person_key as source_person_key,
        resolved_id as id_number,
        id_kind,
        id_prefix15,
        id_clean,
        name,
        name_key,
        known_birth_date as birth_date,
        coalesce(id_sex, sex_given) as sex,
        county,
        township,
        village,
        region_code,
        household_key,
        list_sort(list_distinct(coalesce(categories, []))) as categories,
        poverty_exit_norm as poverty_exit,
        is_student,
        person_state,
        has_id_conflict,
        id_from_other_list,
        1::bigint as list_rows,
        [file || '#' || coalesce(_sheet || '#', '') || _row::varchar] as source_rows

    from rows
    semi join (select identity from rows_per_person where list_rows = 1) as single using (identity)

),

on_several_lists as (

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
    semi join (select identity from rows_per_person where list_rows > 1) as several
        using (identity)
    group by identity

),

people as (

    select * from on_one_list
    union all by name
    select * from on_several_lists

),

-- 人员编号 the source gives to more than one person (a grouping, not a window over everyone:
-- that sorted millions of people for the few keys shared). Read from the two halves rather than
-- from `people`, which read twice would be copied whole.
shared_person_keys as (

    select source_person_key
    from (
        select source_person_key from on_one_list
        union all
        select source_person_key from on_several_lists
    )
    where source_person_key is not null
    group by source_person_key
    having count(*) > 1

),

keyed as (

    select
        people.*,
        -- The source 人员编号 where it names this person alone; otherwise a key derived from
        -- the identity, which is stable across runs for the same inputs.
        case
            when people.source_person_key is not null and shared.source_person_key is null
                then people.source_person_key
            else 'P' || substr(md5(people.identity), 1, 15)
        end as person_key,
        date_sub('year', people.birth_date, $as_of::date) as age

    from people
    left join shared_person_keys as shared
        on shared.source_person_key = people.source_person_key

)

select * from keyed
