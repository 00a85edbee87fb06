-- Roster records as the matcher sees them: the same ID parts as int_match_people, the birth date
-- and sex their ID carries, and place stems from the ID's address code and from 参保地.

with records as (

    select * from stg_roster_records

),

county_codes as (

    select * from stg_county_codes

),

prepared as (

    select
        record_id,
        insurance,
        status_group,
        id_number,
        id_kind,
        left(coalesce(id_number, id_prefix15), 14) as prefix14,
        -- The first 15 digits as a number: float rounding can carry into them, by at most one.
        try_cast(left(coalesce(id_number, id_prefix15), 15) as bigint) as prefix15_number,
        -- What a float left of digits 16-18: near 000 or 999 the first 15 may have carried.
        case
            when id_kind = 'precision_lost' then try_cast(substr(id_clean, 16, 3) as integer)
        end as float_tail,
        case
            when regexp_full_match(coalesce(id_number, id_clean), '[0-9]{17}[0-9X]')
                then left(coalesce(id_number, id_clean), 17)
        end as first17,
        id_birth_date as birth_date,
        -- The sex digit survives a damaged birth date, so read it even when the ID is invalid
        -- (but not after a float destroyed the tail: that digit is noise).
        coalesce(
            id_sex,
            case
                when id_kind = 'invalid' and regexp_full_match(id_clean, '[0-9]{17}[0-9X]')
                    then case
                        when substr(id_clean, 17, 1)::integer % 2 = 1 then '男' else '女'
                    end
            end
        ) as sex,
        (select min(stem) from county_codes where code = left(id_prefix15, 6)) as id_place_stem,
        case
            when regexp_full_match(region, '[0-9]{6,12}')
                then (select min(stem) from county_codes where code = left(region, 6))
            else regexp_replace(region, '(自治县|县|市|区|特区|管理区)$', '')
        end as region_stem,
        name_key

    from records

)

select * from prepared
