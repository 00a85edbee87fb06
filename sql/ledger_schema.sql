-- The ledger (台账): one DuckDB file that persists across runs and is the system of record.
-- Every statement is idempotent so that opening an existing ledger is harmless.

create table if not exists runs (
    run_id integer primary key,
    as_of date not null,
    started_at timestamp not null,
    finished_at timestamp,
    outcome varchar not null,          -- committed
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

-- Coverage per registry person per insurance, one snapshot per committed run.
create table if not exists coverage_snapshots (
    run_id integer not null,
    person_key varchar not null,
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
    insurance varchar not null,        -- pension / medical
    status varchar not null,           -- enrolled / unenrolled / review / exempt
    exempt_reason varchar,
    exempt_evidence varchar,
    roster_person_no varchar,
    match_method varchar,
    match_score double,
    match_reason varchar,
    flags varchar[] not null,
    source_rows varchar[] not null
);

-- The contract's view: one row per registry person per insurance as of the latest run.
create or replace view person_coverage as
select * exclude (run_id)
from coverage_snapshots
where run_id = (select max(run_id) from runs where outcome = 'committed');
