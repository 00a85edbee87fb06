-- Reviewers' confirmations that this run could not apply: the pair was not proposed again (the
-- record was terminated or removed, the person left the registry, or another record now matches
-- them). They are reported to the officer, never forced onto the ledger.

with confirmed as (

    select * from int_review_decisions
    where decision = '确认'

),

applied as (

    select people.person_key, decisions.insurance, records.roster_person_no
    from int_match_decisions as decisions
    inner join int_registry_people as people using (identity)
    inner join stg_roster_records as records using (record_id)
    where decisions.method = 'review_confirmed'

)

select confirmed.*
from confirmed
anti join applied using (person_key, insurance, roster_person_no)
order by person_key, insurance, roster_person_no
