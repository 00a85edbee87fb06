-- Registry rows as staged by pipelines/stage.py: one row per person per list (建档立卡, 低保, 特困),
-- already validated and normalised. Parameters: $registry_glob.
--
-- Only the columns the people are built from: the raw text beside each derived value stays in the
-- staged files (a province's registry is millions of rows, and every column copied is memory).

with source as (

    select
        file,
        _sheet,
        _row,
        _seq,
        person_key,
        household_key,
        name,
        name_key,
        id_number,
        id_clean,
        id_prefix15,
        id_kind,
        id_birth_date,
        id_sex,
        birth_date_given,
        sex_given,
        county,
        township,
        village,
        region_code,
        categories,
        poverty_exit_norm,
        is_student,
        person_state

    from read_parquet($registry_glob, union_by_name = true)

),

-- Rows numbered in file order on the three columns that set it, then joined back by the staged
-- row's own key: a window sorting every column of millions of rows took most of this step.
file_order as (

    select _seq, row_number() over (order by file, _sheet, _row) as row_seq
    from read_parquet($registry_glob, union_by_name = true)

),

numbered as (

    select
        source.* exclude (_seq),
        -- 建档立卡 rows first: their 人员编号 is the registry's own key for the person.
        case when list_contains(source.categories, '建档立卡贫困人口') then 0 else 1 end
            as list_priority,
        file_order.row_seq

    from source
    inner join file_order using (_seq)

)

select * from numbered
