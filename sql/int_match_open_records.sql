-- Roster records no earlier stage has claimed, either as a match or as a pair to review.

with records as (

    select record_id from int_match_records

),

claimed as (

    select distinct record_id
    from int_match_candidates
    where decision in ('match', 'review')

)

select records.record_id
from records
anti join claimed using (record_id)
