-- Registry rows as staged by pipelines/stage.py: one row per person per list (建档立卡, 低保, 特困),
-- already validated and normalised. Parameters: $registry_glob.

with source as (

    select * from read_parquet($registry_glob, union_by_name = true)

),

numbered as (

    select
        *,
        -- 建档立卡 rows first: their 人员编号 is the registry's own key for the person.
        case when list_contains(categories, '建档立卡贫困人口') then 0 else 1 end as list_priority,
        row_number() over (order by file, _sheet, _row) as row_seq

    from source

)

select * from numbered
