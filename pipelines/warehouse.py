"""The run's working DuckDB database: where staged Parquet is matched and coverage is derived.

It lives in memory and spills to the run's work folder, so a province-sized roster never has
to fit in RAM. Each SQL file in `sql/` becomes a temp table named after the file (Splink's idea of
a stable name for every intermediate), so any step can be inspected by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines.config import Config
from pipelines.sqlfiles import load_sql


def open_work_db(config: Config, work_dir: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    spill = work_dir / "duckdb_spill"
    spill.mkdir(parents=True, exist_ok=True)
    con.execute("set memory_limit = $limit", {"limit": config.run.duckdb_memory_limit}).fetchall()
    con.execute("set temp_directory = $dir", {"dir": str(spill)}).fetchall()
    con.execute("set preserve_insertion_order = false").fetchall()
    return con


def materialise(
    con: duckdb.DuckDBPyConnection, name: str, *, as_table: str | None = None, **params: Any
) -> None:
    """Run `sql/<name>.sql` and keep its result as temp table `name` (or `as_table`)."""
    sql = f"create or replace temp table {as_table or name} as\n{load_sql(name)}"
    con.execute(sql, params or None).fetchall()


def create_empty(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """An empty temp table `name` with the columns `sql/<name>.sql` returns: for a table filled
    later in the run that queries must already be able to name. Runs nothing (LIMIT 0)."""
    sql = f"create or replace temp table {name} as\nselect * from (\n{load_sql(name)}\n) limit 0"
    con.execute(sql).fetchall()


def define_view(con: duckdb.DuckDBPyConnection, name: str, **params: str | list[str]) -> None:
    """Run `sql/<name>.sql` as temp view `name`: read where it is used, never stored.

    Views cannot take prepared parameters, so `params` (strings or lists of strings, such as
    file globs) are written into the SQL as quoted literals."""
    sql = load_sql(name)
    for key, value in params.items():
        sql = sql.replace(f"${key}", _string_literal(value))
    con.execute(f"create or replace temp view {name} as\n{sql}").fetchall()


def _string_literal(value: str | list[str]) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_string_literal(item) for item in value) + "]"
    return "'" + value.replace("'", "''") + "'"


def _from_frame(con: duckdb.DuckDBPyConnection, statement: str, frame: pl.DataFrame) -> None:
    con.register("_incoming_frame", frame)
    try:
        con.execute(statement).fetchall()
    finally:
        con.unregister("_incoming_frame")


def table_from_frame(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Keep a polars frame computed in Python as temp table `name`."""
    _from_frame(con, f"create or replace temp table {name} as select * from _incoming_frame", frame)


def append_frame(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Append a polars frame computed in Python to table `name` (same columns, same order)."""
    _from_frame(con, f"insert into {name} select * from _incoming_frame", frame)


def run_statement(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Run `sql/<name>.sql`, a statement that changes tables in place (an insert or a delete)."""
    con.execute(load_sql(name)).fetchall()


def query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pl.DataFrame:
    """Run `sql/<name>.sql` and return its rows to Python (only for small results)."""
    return con.sql(load_sql(name), params=params or None).pl()
