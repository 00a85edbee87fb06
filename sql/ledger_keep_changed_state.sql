-- Keep in person_state_next (ledger_next_state, inside the commit's transaction) only the rows
-- that differ from person_state, last_run_id aside: an ordinary night moves a few people, and
-- rewriting everyone's row made DuckDB's commit take most of a minute for a 1/10 province.
-- (Skipped on the first night, when there is nothing to compare with: pipelines/ledger.py.)

delete from person_state_next
where (person_key, insurance) not in (
    select person_key, insurance
    from (
        select * exclude (last_run_id) from person_state_next
        except
        select * exclude (last_run_id) from person_state
    )
);
