-- This run's events: every person whose state differs from the ledger's current state
-- (person_state), with the evidence behind the new state. Nothing changed, nothing written: a
-- rerun on the same inputs adds no events. Parameters: $run_id, $as_of.

insert into events (
    event_id, run_id, as_of, person_key, insurance, event_type, status_before, status_after,
    roster_person_no, match_method, match_score, match_reason, exempt_reason, exempt_evidence,
    source_rows
)

with now as (

    select * from rpt_person_coverage

),

before as (

    -- People who left the registry earlier have no current state to compare with.
    select * exclude (status), if(removed_on is null, status, null) as status
    from person_state

),

compared as (

    select
        coalesce(now.person_key, before.person_key) as person_key,
        coalesce(now.insurance, before.insurance) as insurance,
        before.status as status_before,
        now.status as status_after,
        now.person_key is null as left_registry,
        now.roster_person_no,
        now.match_method,
        now.match_score,
        now.match_reason,
        now.exempt_reason,
        now.exempt_evidence,
        coalesce(now.source_rows, before.source_rows) as source_rows

    from now
    full outer join before using (person_key, insurance)

),

changes as (

    select
        *,
        case
            when left_registry then if(status_before is not null, '移出', null)
            when status_before is not distinct from status_after then null
            when status_after = 'unenrolled' then if(status_before = 'enrolled', '复登', '登记')
            -- Only someone the ledger listed as unenrolled or pending is crossed off; a person
            -- enrolled when first compared was never on the list.
            when status_after = 'enrolled'
                then if(status_before in ('unenrolled', 'review'), '销号', null)
            when status_after = 'exempt' then '不纳入'
            when status_after = 'review' then '待核实'
        end as event_type

    from compared

)

select
    (select coalesce(max(event_id), 0) from events)
        + row_number() over (order by person_key, insurance),
    $run_id,
    $as_of::date,
    person_key,
    insurance,
    event_type,
    status_before,
    status_after,
    roster_person_no,
    match_method,
    match_score,
    match_reason,
    exempt_reason,
    exempt_evidence,
    source_rows

from changes
where event_type is not null
