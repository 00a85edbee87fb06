"""Registry rows → registry people: one person per human, however many lists name them."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from pipelines.config import Config
from pipelines.normalise.names import name_similarity
from pipelines.stage import StagedInputs
from pipelines.warehouse import materialise, query, run_statement, table_from_frame

CONFLICT_SCHEMA = {
    "id_number": pl.String,
    "name_key": pl.String,
    "main_name_key": pl.String,
    "name_score": pl.Float64,
}


def score_name_conflicts(id_names: pl.DataFrame, same_name: float) -> pl.DataFrame:
    """Names under one ID that are clearly not the ID's main name (the one on most rows)."""
    if id_names.is_empty():
        return pl.DataFrame(schema=CONFLICT_SCHEMA)
    # Rows arrive ordered by row_count desc within each ID, so the first name is the main one.
    with_main = id_names.with_columns(
        main_name_key=pl.col("name_key")
        .first()
        .over("id_number", order_by="row_count", descending=True)
    ).filter(pl.col("name_key") != pl.col("main_name_key"))
    scores = name_similarity(
        with_main.get_column("name_key"), with_main.get_column("main_name_key")
    )
    return (
        with_main.with_columns(name_score=pl.Series(scores).fill_nan(0.0))
        .filter(pl.col("name_score") < same_name)
        .select(list(CONFLICT_SCHEMA))
    )


def build_registry_people(
    con: duckdb.DuckDBPyConnection, staged: StagedInputs, config: Config, as_of: dt.date
) -> pl.DataFrame:
    """Create int_registry_people in the work database; return the ID conflicts found."""
    materialise(con, "stg_registry_rows", registry_glob=staged.parquet_glob("registry"))
    conflicts = score_name_conflicts(query(con, "int_registry_id_names"), config.matching.same_name)
    table_from_frame(con, "int_registry_name_conflicts", conflicts)
    # The registry merge compares damaged numbers as the matcher does (one_slip_apart).
    run_statement(con, "matching_macros")
    materialise(con, "int_registry_identity")
    # Every row is in int_registry_identity now; a province's registry is too big to keep twice.
    con.execute("drop table stg_registry_rows").fetchall()
    materialise(con, "int_registry_people", as_of=as_of)
    return conflicts
