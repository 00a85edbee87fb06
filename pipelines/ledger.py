"""The ledger (台账): the DuckDB file that is the system of record across nightly runs.

A run is committed in one transaction: its run row, file accounting, quarantine, ID conflicts,
its events (登记, 销号, 复登, ... see sql/ledger_schema.sql) and the people's current state all land
together or not at all. Events are only ever appended.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines.faults import fault_point
from pipelines.review import record_decisions
from pipelines.sqlfiles import load_sql
from pipelines.stage import StagedInputs
from pipelines.warehouse import run_statement

LEDGER_ALIAS = "ledger"


@dataclass(frozen=True)
class RunInfo:
    as_of: dt.date
    started_at: dt.datetime
    config_sha256: str
    input_dir: Path


def code_version() -> str:
    """The git commit the code runs from, when it runs from a checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"


def _file_rows(staged: StagedInputs, run_id: int) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "run_id": run_id,
                "source": f.source,
                "path": str(f.path),
                "size_bytes": f.size,
                "sha256": f.sha256,
                "rows_read": f.rows_read,
                "rows_accepted": f.rows_accepted,
                "rows_quarantined": f.rows_quarantined,
                "error": f.error,
                "sheet_errors": "；".join(f"{k}：{v}" for k, v in f.sheet_errors.items()) or None,
            }
            for f in staged.files
        ],
        schema={
            "run_id": pl.Int32,
            "source": pl.String,
            "path": pl.String,
            "size_bytes": pl.Int64,
            "sha256": pl.String,
            "rows_read": pl.Int64,
            "rows_accepted": pl.Int64,
            "rows_quarantined": pl.Int64,
            "error": pl.String,
            "sheet_errors": pl.String,
        },
    )


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"use {LEDGER_ALIAS}").fetchall()
    con.execute(load_sql("ledger_schema")).fetchall()


def attach_ledger(con: duckdb.DuckDBPyConnection, ledger_path: Path) -> None:
    ledger_path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"attach $path as {LEDGER_ALIAS}", {"path": str(ledger_path)}).fetchall()
    ensure_schema(con)


def latest_as_of(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The as-of date of the latest committed run, or None for a new ledger."""
    return con.execute("select max(as_of) from runs where outcome = 'committed'").fetchall()[0][0]


def _holds_state(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether person_state has rows yet (after a first night it always has)."""
    return bool(con.execute("select exists (select 1 from person_state)").fetchall()[0][0])


def commit_run(
    con: duckdb.DuckDBPyConnection,
    run: RunInfo,
    staged: StagedInputs,
    review_decisions: pl.DataFrame,
    *,
    rebuild: bool = False,
) -> int:
    """Write the run into the attached ledger in one transaction; return its run id.

    Everything lands together or not at all: the run and its files, the quarantine, ID
    conflicts, reviewers' decisions returned with the inputs (核实 events), the events that
    compare this run with the ledger's current state, and that state.
    """
    con.execute("begin transaction").fetchall()
    try:
        run_id = con.execute("select coalesce(max(run_id), 0) + 1 from runs").fetchall()[0][0]
        con.execute(
            "insert into runs (run_id, as_of, started_at, finished_at, outcome, rebuild, "
            "code_version, config_sha256, input_dir) values ($run_id, $as_of, $started_at, "
            "now()::timestamp, 'committed', $rebuild, $code_version, $config_sha256, $input_dir)",
            {
                "run_id": run_id,
                "as_of": run.as_of,
                "started_at": run.started_at,
                "rebuild": rebuild,
                "code_version": code_version(),
                "config_sha256": run.config_sha256,
                "input_dir": str(run.input_dir),
            },
        ).fetchall()
        con.register("_run_files", _file_rows(staged, run_id))
        con.execute("insert into run_files select * from _run_files").fetchall()
        con.execute(
            "insert into quarantine select $run_id, * from read_parquet($path)",
            {"run_id": run_id, "path": str(staged.quarantine_path)},
        ).fetchall()
        con.execute(
            "insert into id_conflicts select $run_id, * from int_registry_name_conflicts",
            {"run_id": run_id},
        ).fetchall()
        record_decisions(con, review_decisions, run_id, run.as_of)
        state = {"run_id": run_id, "as_of": run.as_of}
        con.execute(load_sql("ledger_insert_events"), state).fetchall()
        fault_point("before_state_update")
        next_state = load_sql("ledger_next_state")
        if _holds_state(con):
            con.execute(f"create temp table person_state_next as {next_state}", state).fetchall()
            run_statement(con, "ledger_update_state")
        else:
            # A first night has nothing to compare or replace: the state goes straight in,
            # without a copy of every person's row held in memory first (a province's is GBs).
            con.execute(f"insert into person_state {next_state}", state).fetchall()
        con.execute(load_sql("ledger_insert_township_counts"), state).fetchall()
        fault_point("before_commit")
        con.execute("commit").fetchall()
    except BaseException:
        con.execute("rollback").fetchall()
        raise
    finally:
        con.unregister("_run_files")
    return run_id
