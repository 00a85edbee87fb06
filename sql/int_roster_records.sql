-- Every roster record as the matcher sees it: the same ID parts as int_match_people, the birth
-- date and sex its ID carries, and place stems from the ID's address code and from 参保地. A view,
-- read twice: for the birth-day crowds registry people were born into (int_birth_blocks), and cut
-- down to the records some registry person could be paired with (int_match_records), the only ones
-- kept as a table.

with records as (

    select
        *,
        -- A trusted ID has 18 characters by definition; only damaged ones need the pattern
        -- (a case, not an or: DuckDB then runs the pattern on those rows alone).
        case
            when id_number is not null then true
            else coalesce(regexp_full_match(id_clean, '[0-9]{17}[0-9X]'), false)
        end as has_18_characters,
        -- A trusted number's first 17 digits as one number: its prefix, tail and segments below
        -- are arithmetic on it, cheaper than slicing and casting the text again for each one
        -- (and this view reads every record of the province).
        left(id_number, 17)::bigint as trusted17

    from stg_roster_records

),

county_codes as (

    select code, min(stem) as stem from stg_county_codes group by code

),

-- 参保地 takes a few hundred distinct values over millions of records: read each once.
regions as (

    select
        region,
        case
            when regexp_full_match(region, '[0-9]{6,12}')
                then (select min(stem) from county_codes where code = left(region, 6))
            else regexp_replace(region, '(自治县|县|市|区|特区|管理区)$', '')
        end as region_stem

    from (select distinct region from stg_roster_records where region is not null)

),

prepared as (

    select
        records.record_id,
        records.insurance,
        records.status_group,
        records.id_number,
        records.id_kind,
        -- The 14 characters a float leaves certain: what ties a float-damaged record to its
        -- owner's other records (see int_match_evidence).
        case when records.id_kind = 'precision_lost' then left(records.id_prefix15, 14) end
            as prefix14,
        -- The first 15 digits as a number: float rounding can carry into them, by at most one.
        case
            when records.id_number is not null then records.trusted17 // 100
            else try_cast(left(records.id_prefix15, 15) as bigint)
        end as prefix15_number,
        -- What a float left of digits 16-18: near 000 or 999 the first 15 may have carried.
        case
            when records.id_kind = 'precision_lost'
                then try_cast(substr(records.id_clean, 16, 3) as integer)
        end as float_tail,
        (records.trusted17 % 100)::integer as trusted_tail,
        -- The first 17 characters of a damaged number as written, for near-miss comparison (a
        -- trusted number's are left(id_number, 17): not stored twice for millions of records).
        case
            when records.id_number is null and records.has_18_characters
                then left(records.id_clean, 17)
        end as first17,
        -- The first 15 digits as written, trusted or not (see int_match_people).
        case
            when records.id_number is not null then records.trusted17 // 100
            when records.has_18_characters then left(records.id_clean, 15)::bigint
        end as written15_number,
        -- The first 17 digits of any 18-character number as one number: int_match_records looks
        -- up stage 4's segments with it.
        case
            when records.id_number is not null then records.trusted17
            when records.has_18_characters then left(records.id_clean, 17)::bigint
        end as digits17,
        records.id_birth_date as birth_date,
        -- The sex digit survives a damaged birth date, so read it even when the ID is invalid
        -- (but not after a float destroyed the tail: that digit is noise).
        coalesce(
            records.id_sex,
            case
                when records.id_kind = 'invalid' and records.has_18_characters
                    then case
                        when substr(records.id_clean, 17, 1)::integer % 2 = 1 then '男' else '女'
                    end
            end
        ) as sex,
        id_county.stem as id_place_stem,
        regions.region_stem,
        records.name_key

    from records
    left join county_codes as id_county
        on id_county.code = left(records.id_prefix15, 6)
    left join regions using (region)

)

select * from prepared
