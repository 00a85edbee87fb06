-- People not required to enrol (不纳入), with the reason and the column it came from.
-- Parameters: $mask_ids.

select
    county,
    township,
    village,
    household_key,
    name,
    shown_id(id_number, $mask_ids) as id_number,
    age,
    insurance,
    exempt_reason,
    exempt_evidence,
    person_key

from person_coverage
where status = 'exempt'
order by county, township, village, household_key nulls last, person_key, insurance
