-- The rows of person_state this run changes, after ledger_insert_events has compared the two:
-- everyone in the registry gets this run's state, with the dates of their first 登记 and latest
-- 销号 carried forward; everyone no longer in it keeps their last state, marked removed. Only rows
-- that differ from the ledger's are returned: an ordinary night moves a few people, and holding
-- every person's new row to compare it afterwards spilled a province's 13.6 million rows to disk
-- (over 100 s of the commit). They replace theirs in person_state (ledger_update_state); a first
-- night inserts them all. Parameters: $run_id, $as_of.

-- This run's rows come from rpt_person_coverage, named where it is read rather than once in a CTE
-- of its own: a CTE read twice is materialised, a province's whole coverage spilled to disk first.

-- What present rows carry forward from the ledger, and what tells whether a row changed: its
-- status, and a hash of the whole row (the run that wrote it aside). Narrow, so the join below
-- holds a few columns per person, not every person's lists.
with before as (

    select
        person_key,
        insurance,
        status,
        first_recorded_on,
        crossed_off_on,
        removed_on,
        hash(*columns(* exclude (last_run_id))) as row_hash
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
        now.age::integer as age,  -- as person_state stores it, so the row hashes alike
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
        $run_id as last_run_id,
        before.row_hash is null as is_new,
        before.status as status_before,
        before.row_hash as row_hash_before

    from rpt_person_coverage as now
    left join before using (person_key, insurance)

),

present_changed as (

    select * exclude (is_new, status_before, row_hash_before)
    from present
    -- The status is compared as it is, the rest through the hash: a status never goes unwritten
    -- on the strength of a hash.
    where is_new
        or status is distinct from status_before
        or hash(*columns(* exclude (last_run_id, is_new, status_before, row_hash_before)))
        <> row_hash_before

),

removed as (

    select
        before.* exclude (removed_on, last_run_id),
        $as_of::date as removed_on,
        $run_id as last_run_id

    from person_state as before
    anti join rpt_person_coverage as now using (person_key, insurance)
    where before.removed_on is null

)

select * from present_changed
union all
select * from removed
