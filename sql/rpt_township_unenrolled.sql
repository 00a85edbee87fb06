-- The unenrolled in person_coverage, in the order a township prints its lists: by county,
-- township, village and household, with how long each has been on the ledger.
-- Parameters: $as_of, $mask_ids.

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
        shown_id(id_number, $mask_ids) as id_number,
        sex,
        birth_date,
        age,
        insurance,
        person_key,
        first_recorded_on,
        $as_of::date - first_recorded_on as days_on_ledger,
        array_to_string(categories, '、') as categories_text,
        array_to_string(flags, '、') as flags_text

    from coverage

)

select * from readable
order by county, township, village, household_key nulls last, person_key, insurance
