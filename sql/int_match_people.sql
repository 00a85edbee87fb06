-- Registry people as the matcher sees them: the parts of their ID that can be trusted, birth date,
-- sex, the county stem (see stg_county_codes) and the name key.

with people as (

    select * from int_registry_people

),

county_codes as (

    select * from stg_county_codes

),

prepared as (

    select
        identity,
        id_number,
        id_kind,
        -- The first 15 digits as a number: float rounding can carry into them, by at most one.
        try_cast(left(coalesce(id_number, id_prefix15), 15) as bigint) as prefix15_number,
        -- What a float left of digits 16-18: near 000 or 999 the first 15 may have carried.
        case
            when id_kind = 'precision_lost' and id_number is null
                then try_cast(substr(id_clean, 16, 3) as integer)
        end as float_tail,
        -- A trusted ID's digits 16-17 (18 is the check character, maybe X): whether rounding it
        -- to 15 digits could have carried.
        case when id_number is not null then substr(id_number, 16, 2)::integer end as trusted_tail,
        -- The first 17 characters as written, for near-miss comparison of damaged numbers.
        case
            when regexp_full_match(coalesce(id_number, id_clean), '[0-9]{17}[0-9X]')
                then left(coalesce(id_number, id_clean), 17)
        end as first17,
        -- The first 15 digits as written, trusted or not: what a number Excel cut to 15 digits
        -- is compared with when this side has a typo elsewhere (both sides damaged).
        case
            when regexp_full_match(coalesce(id_number, id_clean), '[0-9]{17}[0-9X]')
                then left(coalesce(id_number, id_clean), 15)::bigint
        end as written15_number,
        birth_date,
        -- As for roster records: the sex digit survives a damaged birth date.
        coalesce(
            sex,
            case
                when id_kind = 'invalid' and regexp_full_match(id_clean, '[0-9]{17}[0-9X]')
                    then case when substr(id_clean, 17, 1)::integer % 2 = 1 then '男' else '女' end
            end
        ) as sex,
        county,
        coalesce(
            (select min(stem) from county_codes where code = left(region_code, 6)),
            regexp_replace(county, '(自治县|县|市|区|特区|管理区)$', '')
        ) as place_stem,
        name_key

    from people

)

select * from prepared
