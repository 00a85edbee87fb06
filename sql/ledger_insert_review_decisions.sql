-- Returned review decisions (_returned_decisions) not recorded before, after their 核实 events
-- (ledger_insert_review_events). The latest decision on a pair is the one matching applies.

insert into review_decisions (
    decision_id, person_key, insurance, roster_person_no, decision, reviewer, workbook_as_of,
    county, township, source_file, source_row
)
select
    (select coalesce(max(decision_id), 0) from review_decisions)
        + row_number() over (order by person_key, insurance, roster_person_no),
    person_key, insurance, roster_person_no, decision, reviewer, workbook_as_of,
    county, township, source_file, source_row
from _returned_decisions
anti join review_decisions
    using (person_key, insurance, roster_person_no, decision, reviewer, workbook_as_of)
