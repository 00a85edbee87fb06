-- Pension and medical roster records as staged by pipelines/stage.py, one row per insurance
-- record. Parameters: $roster_glob (a list of globs).

with source as (

    select * from read_parquet($roster_glob, union_by_name = true)

),

keyed as (

    select
        -- Unique within a run: where the record came from.
        concat_ws('#', file, coalesce(_sheet, ''), _row::varchar) as record_id,
        *

    from source

)

select * from keyed
