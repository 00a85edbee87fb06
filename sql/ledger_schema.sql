-- The ledger (台账): one DuckDB file that persists across runs and is the system of record.
-- Every statement is idempotent so that opening an existing ledger is harmless.

create table if not exists runs (
    run_id integer primary key,
    as_of date not null,
    started_at timestamp not null,
    finished_at timestamp,
    outcome varchar not null,          -- committed
    rebuild boolean not null default false,  -- an as-of date earlier than the latest, on request
    code_version varchar,
    config_sha256 varchar not null,
    input_dir varchar not null
);

-- Every input file of every run: what was read, and what became of its rows.
create table if not exists run_files (
    run_id integer not null,
    source varchar not null,           -- registry / pension / medical
    path varchar not null,
    size_bytes bigint not null,
    sha256 varchar not null,
    rows_read bigint not null,
    rows_accepted bigint not null,
    rows_quarantined bigint not null,
    error varchar,                     -- why the file could not be read, if it could not
    sheet_errors varchar               -- sheets of a workbook that could not be read
);

-- Every input row that was not accepted, with the reason an officer can act on.
-- Values are stored masked: a quarantine is shown and sent around, ID numbers must not be.
create table if not exists quarantine (
    run_id integer not null,
    source varchar not null,
    file varchar not null,
    sheet varchar,
    row bigint not null,
    field varchar,
    value varchar,
    reason varchar not null,
    kind varchar not null              -- invalid / skipped
);

-- The same ID number on registry rows with clearly different names.
create table if not exists id_conflicts (
    run_id integer not null,
    id_number varchar not null,
    name_key varchar not null,
    main_name_key varchar not null,
    name_score double not null
);

-- The write-off ledger (参保销号): every change of a person's state, never updated or deleted.
-- One row per person per insurance per change, with the evidence that caused it.
--   登记   recorded as unenrolled (first time, or again after being exempt or in review)
--   销号   written off: now enrolled, with the matched record as evidence
--   复登   enrolled before, unenrolled again (a record terminated or cancelled)
--   待核实 a possible match waits for a person to confirm it
--   不纳入 not required to enrol (exempt), with the reason and its evidence column
--   移出   no longer in the registry
--   核实   a reviewer's decision (确认 / 否决) on a possible match
create table if not exists events (
    event_id bigint primary key,       -- in the order events were written (no sequence: a
                                       -- backup restores a table, but not a sequence's position)
    run_id integer,                    -- null for review decisions imported between runs
    as_of date not null,
    person_key varchar not null,
    insurance varchar not null,        -- pension / medical
    event_type varchar not null,       -- 登记 / 销号 / 复登 / 待核实 / 不纳入 / 移出 / 核实
    status_before varchar,             -- null: not in the ledger before
    status_after varchar,              -- null: left the registry
    roster_person_no varchar,          -- evidence: the matched roster record
    match_method varchar,
    match_score double,
    match_reason varchar,
    exempt_reason varchar,
    exempt_evidence varchar,
    source_rows varchar[],             -- evidence: the registry rows (file#sheet#row)
    recorded_at timestamp not null default current_timestamp
);

-- Each person's current state per insurance, kept in step with the events in the same
-- transaction. People who left the registry stay, with removed_on set.
create table if not exists person_state (
    person_key varchar not null,
    insurance varchar not null,        -- pension / medical
    id_number varchar,
    name varchar not null,
    sex varchar,
    birth_date date,
    age integer,
    county varchar not null,
    township varchar not null,
    village varchar not null,
    household_key varchar,
    categories varchar[] not null,
    poverty_exit varchar,
    status varchar not null,           -- enrolled / unenrolled / review / exempt
    exempt_reason varchar,
    exempt_evidence varchar,
    roster_person_no varchar,
    roster_scheme varchar,             -- the matched record's 险种 (代缴 needs 城乡居民)
    match_method varchar,
    match_score double,
    match_reason varchar,
    flags varchar[] not null,
    source_rows varchar[] not null,
    first_recorded_on date,            -- the first 登记: first found unenrolled
    crossed_off_on date,               -- the latest 销号
    removed_on date,                   -- left the registry (移出); null while in it
    last_run_id integer not null,      -- the run that last changed this row
    primary key (person_key, insurance)
);

-- The contract's view: one row per registry person per insurance as of the latest run.
create or replace view person_coverage as
select * exclude (removed_on, last_run_id)
from person_state
where removed_on is null;

-- A secret that only this ledger knows: review workbooks carry codes made with it, so that a
-- township cannot return another township's rows, or a pair it edited, as its own decisions.
create table if not exists ledger_settings (
    key varchar primary key,
    value varchar not null
);

insert into ledger_settings
select 'review_secret', md5(uuid()::varchar) || md5(uuid()::varchar)
where not exists (select 1 from ledger_settings where key = 'review_secret');

-- Reviewers' decisions on possible matches (核实), as imported from returned workbooks. The
-- latest decision on a pair holds; a rejected pair is never proposed again, a confirmed one is
-- written off by the next run with method review_confirmed.
create table if not exists review_decisions (
    decision_id bigint primary key,
    person_key varchar not null,
    insurance varchar not null,
    roster_person_no varchar not null,
    decision varchar not null,         -- 确认 / 否决
    reviewer varchar not null,
    workbook_as_of date not null,      -- the run whose workbook proposed the pair
    county varchar not null,
    township varchar not null,
    source_file varchar not null,
    source_row integer not null,
    imported_at timestamp not null default current_timestamp
);

-- Counts per township per insurance per status after every run: the history the province's
-- quarterly report (按季调度) reads, without replaying every person's events.
create table if not exists township_counts (
    run_id integer not null,
    as_of date not null,
    county varchar not null,
    township varchar not null,
    insurance varchar not null,
    status varchar not null,
    people bigint not null
);
