-- Every code each Hunan county has carried (2017 and 2023 statistical codes, GB/T 2260 from 1980
-- to 2019), keyed by a name stem: 宁乡县 430124, 宁乡市 430182 and 益阳地区's 宁乡县 432324 all
-- stem to 宁乡. An ID number keeps the address code it was issued under for life, so this is how an
-- old code on an ID is recognised as today's county. Parameters: $counties_2023, $counties_2017,
-- $code_history (paths under data/reference/).

with counties_2023 as (

    select county_code as code, county_name as name
    from read_csv($counties_2023, all_varchar = true)

),

counties_2017 as (

    select county_code as code, county_name as name
    from read_csv($counties_2017, all_varchar = true)

),

history as (

    select code, name
    from read_csv($code_history, all_varchar = true)
    where level = 'county'

),

all_codes as (

    select * from counties_2023
    union
    select * from counties_2017
    union
    select * from history

),

stemmed as (

    select distinct
        code,
        regexp_replace(name, '(自治县|县|市|区|特区|管理区)$', '') as stem

    from all_codes

)

select * from stemmed
