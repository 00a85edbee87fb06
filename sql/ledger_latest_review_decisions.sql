-- The decision that holds on each reviewed pair: the latest imported (a reviewer may change
-- their mind in a later workbook).

select
    person_key,
    insurance,
    roster_person_no,
    arg_max(decision, decision_id) as decision,
    arg_max(reviewer, decision_id) as reviewer

from review_decisions
group by person_key, insurance, roster_person_no
