-- A 核实 event for each returned review decision (_returned_decisions, from pipelines/review.py)
-- not recorded before; ledger_insert_review_decisions then records the decisions themselves.
-- Importing the same workbook twice records nothing the second time. Parameters: $run_id (null
-- for an import between runs), $as_of.

insert into events (
    event_id, run_id, as_of, person_key, insurance, event_type, status_before, status_after,
    roster_person_no, match_method, match_reason, source_rows
)

with new_decisions as (

    select * from _returned_decisions
    anti join review_decisions
        using (person_key, insurance, roster_person_no, decision, reviewer, workbook_as_of)

)

select
    (select coalesce(max(event_id), 0) from events)
        + row_number() over (order by new.person_key, new.insurance, new.roster_person_no),
    $run_id,
    $as_of::date,
    new.person_key,
    new.insurance,
    '核实',
    state.status,
    state.status,
    new.roster_person_no,
    'review',
    concat(new.decision, '（核实人 ', new.reviewer, '，', new.township, ' ',
        new.workbook_as_of, ' 工作簿第 ', new.source_row, ' 行）'),
    [new.source_file || '#' || new.source_row]

from new_decisions as new
left join person_state as state using (person_key, insurance)
