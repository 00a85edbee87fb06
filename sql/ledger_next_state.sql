-- person_state as this run leaves it, after ledger_insert_events has compared the two: everyone
-- in the registry gets this run's state, with the dates of their first 登记 and latest 销号
-- carried forward; everyone no longer in it keeps their last state, marked removed. These rows
-- replace theirs in person_state (ledger_update_state); others stay. Parameters: $run_id, $as_of.

with now as (

    select * from rpt_person_coverage

),

-- What present rows carry forward from the ledger: a few columns, so the whole state (with its
-- lists) is read only for the people who left, below.
before as (

    select person_key, insurance, status, first_recorded_on, crossed_off_on, removed_on
    from person_state

),

present as (

    select
        now.person_key,
        now.insurance,
        now.id_number,
        now.name,
        now.sex,
        now.birth_date,
        now.age,
        now.county,
        now.township,
        now.village,
        now.household_key,
        now.categories,
        now.poverty_exit,
        now.status,
        now.exempt_reason,
        now.exempt_evidence,
        now.roster_person_no,
        now.roster_scheme,
        now.match_method,
        now.match_score,
        now.match_reason,
        now.flags,
        now.source_rows,
        coalesce(
            before.first_recorded_on, if(now.status = 'unenrolled', $as_of::date, null)
        ) as first_recorded_on,
        if(
            now.status = 'enrolled' and before.removed_on is null
                and before.status in ('unenrolled', 'review'),
            $as_of::date,
            before.crossed_off_on
        ) as crossed_off_on,
        null::date as removed_on,
        $run_id as last_run_id

    from now
    left join before using (person_key, insurance)

),

removed as (

    select
        before.* exclude (removed_on, last_run_id),
        $as_of::date as removed_on,
        $run_id as last_run_id

    from person_state as before
    anti join now using (person_key, insurance)
    where before.removed_on is null

)

select * from present
union all
select * from removed
