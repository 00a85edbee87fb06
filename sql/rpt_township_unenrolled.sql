-- The unenrolled in person_coverage, in the order a township prints its lists: by county,
-- township, village and household.

with coverage as (

    select * from person_coverage
    where status = 'unenrolled'

),

readable as (

    select
        county,
        township,
        village,
        household_key,
        name,
        id_number,
        sex,
        age,
        insurance,
        status,
        person_key,
        array_to_string(categories, '、') as categories_text,
        array_to_string(flags, '、') as flags_text

    from coverage

)

select * from readable
order by county, township, village, household_key nulls last, person_key, insurance
