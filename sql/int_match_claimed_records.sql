-- Roster records an earlier stage has already claimed, as a match or as a pair to review. Later
-- stages leave them alone (an anti join against this short list, rather than rebuilding the list
-- of open records, which is most of the roster, before every stage).

select distinct record_id
from int_match_candidates
where decision in ('match', 'review')
