-- Append this run's coverage snapshot to the ledger. Parameters: $run_id.

insert into coverage_snapshots
select
    $run_id as run_id,
    person_key,
    id_number,
    name,
    sex,
    birth_date,
    age,
    county,
    township,
    village,
    household_key,
    categories,
    poverty_exit,
    insurance,
    status,
    exempt_reason,
    exempt_evidence,
    roster_person_no,
    match_method,
    match_score,
    match_reason,
    flags,
    source_rows

from rpt_person_coverage
