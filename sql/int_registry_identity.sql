-- Which registry rows are the same person. Needs int_registry_name_conflicts (id_number,
-- name_key) from Python.
--   * a trusted ID (valid or upgraded) is the identity, unless its name conflicts with the ID's
--     main name, in which case ID + name key is;
--   * a row whose ID is missing or damaged takes the trusted ID of exactly one other row with the
--     same name and village and the same birth date, or a written number one slip from the ID
--     (the same person in another list). With the same birth date, the first 15 digits a
--     damaged ID still shows must agree too. An ID already in the row's own list belongs to
--     someone else (a namesake born the same day in the same village). Two candidates (namesakes
--     born the same day in one village) mean no merge: a wrong merge would hide a person;
--   * otherwise name + birth date + place, and with no birth date the row stands alone.

-- Not materialised: read several times below, and a copy of every registry row is waste.
with rows as not materialized (

    select
        *,
        -- A trusted ID's date first; with a damaged ID, the separately written 出生日期 first.
        case
            when id_number is not null then id_birth_date
            else coalesce(birth_date_given, id_birth_date)
        end as known_birth_date

    from stg_registry_rows

),

trusted_rows as (

    select distinct id_number, name_key, known_birth_date, county, township, village
    from rows
    where id_number is not null

),

trusted_ids_by_file as (

    select distinct file, id_number
    from rows
    where id_number is not null

),

same_person_candidates as (

    select rows.row_seq, trusted_rows.id_number
    from rows
    inner join trusted_rows
        on rows.id_number is null
        and rows.name_key = trusted_rows.name_key
        and rows.county = trusted_rows.county
        and rows.township = trusted_rows.township
        and rows.village = trusted_rows.village
    -- A list names each person once: an ID already in the row's own file is somebody else.
    anti join trusted_ids_by_file
        on trusted_ids_by_file.file = rows.file
        and trusted_ids_by_file.id_number = trusted_rows.id_number
    where
        -- The same birth date, and all 15 surviving digits agree: namesakes born the same day in
        -- one county share the first 14.
        rows.known_birth_date = trusted_rows.known_birth_date
            and (rows.id_prefix15 is null or rows.id_prefix15 = left(trusted_rows.id_number, 15))
        -- Or the number as written is one slip from the trusted one (a digit, a swap, the check
        -- character), wherever the slip is: in the birth digits it spoiled the birth date. At
        -- 100,000 generated people, such a person left as two identities made their damaged
        -- record a tie between the two, sent to review. Not a float: its digits past the 15th
        -- are noise, not a slip.
        or case
            when rows.id_kind <> 'precision_lost'
                and regexp_full_match(rows.id_clean, '[0-9]{17}[0-9X]') then
                one_slip_apart(left(rows.id_clean, 17), left(trusted_rows.id_number, 17))
            else false
        end

),

unique_candidates as (

    select row_seq, min(id_number) as id_number
    from same_person_candidates
    group by row_seq
    having count(distinct id_number) = 1

),

resolved as (

    select
        rows.*,
        coalesce(rows.id_number, unique_candidates.id_number) as resolved_id,
        unique_candidates.id_number is not null as id_from_other_list

    from rows
    left join unique_candidates using (row_seq)

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
