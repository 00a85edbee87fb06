-- People crossed off (销号) by this run, with the record and method that crossed them off.
-- Parameters: $run_id, $mask_ids.

with written_off as (

    select * from events
    where run_id = $run_id and event_type = '销号'

),

readable as (

    select
        state.county,
        state.township,
        state.village,
        state.household_key,
        state.name,
        shown_id(state.id_number, $mask_ids) as id_number,
        written_off.insurance,
        written_off.status_before,
        state.first_recorded_on,
        written_off.as_of as crossed_off_on,
        written_off.roster_person_no,
        written_off.match_method,
        written_off.match_score,
        written_off.match_reason,
        state.person_key

    from written_off
    inner join person_state as state using (person_key, insurance)

)

select * from readable
order by county, township, village, household_key nulls last, person_key, insurance
