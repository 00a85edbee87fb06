-- 按季调度: per county per quarter, coverage at the quarter's last run and write-offs during it,
-- from the ledger's history (township_counts after every run, events).

with last_runs as (

    select date_trunc('quarter', as_of) as quarter, max(run_id) as run_id
    from runs
    where outcome = 'committed'
    group by all

),

coverage as (

    select
        last_runs.quarter,
        counts.county,
        counts.insurance,
        sum(counts.people) filter (where counts.status <> 'exempt')::bigint as population,
        sum(counts.people) filter (where counts.status = 'enrolled')::bigint as enrolled

    from township_counts as counts
    inner join last_runs using (run_id)
    group by all

),

write_offs as (

    select
        date_trunc('quarter', events.as_of) as quarter,
        state.county,
        events.insurance,
        count(*) as written_off

    from events
    inner join person_state as state using (person_key, insurance)
    where events.event_type = '销号'
    group by all

)

select
    year(coverage.quarter) || '年第' || quarter(coverage.quarter) || '季度' as quarter_label,
    coverage.quarter,
    coverage.county,
    coverage.insurance,
    coverage.population,
    coverage.enrolled,
    round(coverage.enrolled / nullif(coverage.population, 0), 4) as coverage,
    coalesce(write_offs.written_off, 0) as written_off

from coverage
left join write_offs using (quarter, county, insurance)
order by coverage.county, coverage.insurance, coverage.quarter
