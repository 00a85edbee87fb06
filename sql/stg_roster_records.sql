-- Pension and medical roster records as staged by pipelines/stage.py, one row per insurance
-- record. Parameters: $roster_glob (a list of globs).

with source as (

    select * from read_parquet($roster_glob, union_by_name = true)

),

keyed as (

    select
        -- Unique within a run and stable for the same inputs (see pipelines/stage.py); file,
        -- _sheet and _row say where the record came from.
        _seq as record_id,
        -- What matching, coverage and provenance read; the rest (the raw ID text among it) stays
        -- in the staged Parquet, and Parquet column pruning never reads it.
        file,
        _sheet,
        _row,
        roster_person_no,
        name,
        insurance,
        scheme,
        status,
        status_group,
        region,
        id_number,
        id_clean,
        id_prefix15,
        id_kind,
        id_birth_date,
        id_sex,
        name_key

    from source

)

select * from keyed
