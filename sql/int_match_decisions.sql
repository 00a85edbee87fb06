-- Final decisions over all scored candidate pairs (int_match_candidates, from Python):
-- a roster record is written off against at most one registry person, so a record that would
-- match several people goes to review for all of them.

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

)

select * from decided
