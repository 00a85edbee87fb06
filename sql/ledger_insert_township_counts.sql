-- This run's counts per township, insurance and status, from the state just brought in step.
-- Parameters: $run_id, $as_of.

insert into township_counts
select
    $run_id,
    $as_of::date,
    county,
    township,
    insurance,
    status,
    count(*)

from person_state
where removed_on is null
group by county, township, insurance, status
