-- After each stage: people it matched automatically to a record that counts (active or
-- suspended) leave int_match_open_people, so later stages work only on the remainder. Deleting
-- this stage's few settled people is cheaper than rebuilding the open list from every candidate
-- so far. int_match_stage_settled holds the stage's (identity, insurance) pairs to remove.

delete from int_match_open_people as open
using int_match_stage_settled as settled
where open.identity = settled.identity
    and open.insurance = settled.insurance
