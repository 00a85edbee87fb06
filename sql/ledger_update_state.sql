-- Swap the rows ledger_next_state changes (held in person_state_next, inside the commit's
-- transaction) into person_state. Delete, then insert: DuckDB's INSERT OR REPLACE checks the primary key row by
-- row, about 20 s for the 135,000 rows of a 1/100 province against under 1 s.
-- (A first night inserts ledger_next_state straight into the empty person_state instead:
-- pipelines/ledger.py.)

delete from person_state
where (person_key, insurance) in (select person_key, insurance from person_state_next);

insert into person_state
select * from person_state_next;

drop table person_state_next;
