-- Final decisions over all scored candidate pairs (int_match_candidates, from Python):
-- a roster record is written off against at most one registry person, so a record that would
-- match several people goes to review for all of them. Then reviewers' decisions from the ledger
-- (int_review_decisions, the latest per pair) are applied: a pair someone confirmed (确认) is
-- written off with method review_confirmed; a pair someone rejected (否决) is dropped, never to be
-- proposed or written off again.

-- Not materialised: read twice below, and a copy of every scored pair cost more than both reads.
with candidates as not materialized (

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

-- Reviewers name a pair by the registry person's key and the record's 个人编号: find the few
-- pairs they are about first, so the candidates need only one join on their own keys.
reviewed_pairs as (

    select
        people.identity,
        review.insurance,
        records.record_id,
        review.decision as review_decision,
        review.reviewer

    from int_review_decisions as review
    inner join int_registry_people as people on people.person_key = review.person_key
    inner join stg_roster_records as records
        on records.roster_person_no = review.roster_person_no

),

reviewed as (

    select
        decided.* exclude (method, score, decision, reason),
        if(review_decision = '确认' and decided.decision = 'review', 'review_confirmed',
            decided.method) as method,
        if(review_decision = '确认' and decided.decision = 'review', 1.0, decided.score)
            as score,
        if(review_decision = '确认', 'match', decided.decision) as decision,
        if(review_decision = '确认' and decided.decision = 'review',
            decided.reason || '；人工核实确认（核实人 ' || reviewed_pairs.reviewer || '）',
            decided.reason) as reason,
        review_decision

    from decided
    left join reviewed_pairs using (identity, insurance, record_id)

)

select * exclude (review_decision)
from reviewed
where review_decision is distinct from '否决'
