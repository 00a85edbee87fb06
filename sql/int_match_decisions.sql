-- Final decisions over all scored candidate pairs (int_match_candidates, from Python):
-- a roster record is written off against at most one registry person, so a record that would
-- match several people goes to review for all of them. Then reviewers' decisions from the ledger
-- (int_review_decisions, the latest per pair) are applied: a pair someone confirmed (确认) is
-- written off with method review_confirmed; a pair someone rejected (否决) is dropped, never to be
-- proposed or written off again.

with candidates as (

    select * from int_match_candidates

),

automatic_per_record as (

    select record_id, count(*) as people_matched
    from candidates
    where decision = 'match'
    group by record_id

),

decided as (

    select
        candidates.* exclude (decision, reason),
        case
            when candidates.decision = 'match' and automatic_per_record.people_matched > 1
                then 'review'
            else candidates.decision
        end as decision,
        case
            when candidates.decision = 'match' and automatic_per_record.people_matched > 1
                then candidates.reason || '；同一条参保记录对应多名在册人员，需人工核实'
            else candidates.reason
        end as reason

    from candidates
    left join automatic_per_record using (record_id)

),

reviewed as (

    select
        decided.* exclude (method, score, decision, reason),
        if(review.decision = '确认' and decided.decision = 'review', 'review_confirmed',
            decided.method) as method,
        if(review.decision = '确认' and decided.decision = 'review', 1.0, decided.score)
            as score,
        if(review.decision = '确认', 'match', decided.decision) as decision,
        if(review.decision = '确认' and decided.decision = 'review',
            decided.reason || '；人工核实确认（核实人 ' || review.reviewer || '）',
            decided.reason) as reason,
        review.decision as review_decision

    from decided
    inner join int_registry_people as people using (identity)
    inner join stg_roster_records as records using (record_id)
    left join int_review_decisions as review
        on review.person_key = people.person_key
        and review.insurance = decided.insurance
        and review.roster_person_no = records.roster_person_no

)

select * exclude (review_decision)
from reviewed
where review_decision is distinct from '否决'
