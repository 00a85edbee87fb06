-- People still to be matched, per insurance: everyone without an automatic match to a record that
-- counts (active or suspended). A person matched only to a terminated record stays open, because
-- their active record may carry a damaged ID that a later stage finds. Built once before the
-- first stage; after each stage, int_match_settle removes the people it settled.

with people as (

    select identity from int_match_people

),

insurances as (

    select unnest(['pension', 'medical']) as insurance

),

settled as (

    select distinct identity, insurance
    from int_match_candidates
    where decision = 'match' and record_counts

)

select people.identity, insurances.insurance
from people
cross join insurances
anti join settled
    on settled.identity = people.identity
    and settled.insurance = insurances.insurance
