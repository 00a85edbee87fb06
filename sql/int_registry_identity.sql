-- Which registry rows are the same person. Needs int_registry_name_conflicts (id_number,
-- name_key) from Python.
--   * a trusted ID (valid or upgraded) is the identity, unless its name conflicts with the ID's
--     main name, in which case ID + name key is;
--   * a row whose ID is damaged but whose trusted 15-character prefix and name match exactly one
--     trusted ID elsewhere in the registry takes that ID (the same person in another list);
--   * otherwise name + birth date + place, and with no birth date the row stands alone.

with rows as (

    select * from stg_registry_rows

),

trusted_prefixes as (

    select
        id_prefix15,
        name_key,
        min(id_number) as id_number,
        count(distinct id_number) as id_count

    from rows
    where id_number is not null
    group by id_prefix15, name_key

),

resolved as (

    select
        rows.*,
        coalesce(rows.id_number, trusted_prefixes.id_number) as resolved_id,
        rows.id_number is null and trusted_prefixes.id_number is not null as id_from_other_list,
        coalesce(rows.id_birth_date, rows.birth_date_given) as known_birth_date

    from rows
    left join trusted_prefixes
        on rows.id_number is null
        and rows.id_prefix15 = trusted_prefixes.id_prefix15
        and rows.name_key = trusted_prefixes.name_key
        and trusted_prefixes.id_count = 1

),

identified as (

    select
        resolved.*,
        conflicts.id_number is not null as has_id_conflict,
        case
            when conflicts.id_number is not null then 'id:' || resolved_id || '#' || resolved.name_key
            when resolved_id is not null then 'id:' || resolved_id
            when known_birth_date is not null then 'nb:' || md5(concat_ws('|',
                resolved.name_key, known_birth_date::varchar, county, township, village))
            else 'nr:' || md5(concat_ws('|', file, coalesce(_sheet, ''), _row::varchar))
        end as identity

    from resolved
    left join int_registry_name_conflicts as conflicts
        on resolved.resolved_id = conflicts.id_number
        and resolved.name_key = conflicts.name_key

)

select * from identified
