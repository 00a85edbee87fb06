-- Coverage per township per insurance, as of the run just committed: people in the registry,
-- the population that should enrol (everyone not exempt), enrolled, unenrolled, awaiting
-- review, exempt, and the write-offs this run. Counties and the province add these up.
-- Parameters: $run_id.

with coverage as (

    select * from person_coverage

),

written_off as (

    select state.county, state.township, events.insurance, count(*) as written_off
    from events
    inner join person_state as state using (person_key, insurance)
    where events.run_id = $run_id and events.event_type = '销号'
    group by all

),

counts as (

    select
        county,
        township,
        insurance,
        count(*) as people,
        count(*) filter (where status <> 'exempt') as population,
        count(*) filter (where status = 'enrolled') as enrolled,
        count(*) filter (where status = 'unenrolled') as unenrolled,
        count(*) filter (where status = 'review') as review,
        count(*) filter (where status = 'exempt') as exempt

    from coverage
    group by county, township, insurance

)

select
    counts.*,
    coalesce(written_off.written_off, 0) as written_off

from counts
left join written_off using (county, township, insurance)
order by county, township, insurance
