"""Matching registry people to roster records: a cascade of SQL stages, each scored in Python.

Stage 1 (exact normalised ID, names compared) is here; the repaired-ID and name-based stages
join the cascade as further `int_match_*` SQL files working on what earlier stages left.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.config import Config
from pipelines.match.candidates import CANDIDATE_SCHEMA
from pipelines.match.exact import decide_exact_id_pairs
from pipelines.stage import StagedInputs
from pipelines.warehouse import materialise, query, table_from_frame


def match_rosters(con: duckdb.DuckDBPyConnection, staged: StagedInputs, config: Config) -> None:
    """Create int_match_decisions: every candidate pair with its decision, method and reason."""
    materialise(
        con,
        "stg_roster_records",
        roster_glob=[staged.parquet_glob("pension"), staged.parquet_glob("medical")],
    )
    exact = decide_exact_id_pairs(query(con, "int_match_exact_id"), config)
    candidates = pl.concat([pl.DataFrame(schema=CANDIDATE_SCHEMA), exact], how="vertical")
    table_from_frame(con, "int_match_candidates", candidates)
    materialise(con, "int_match_decisions")
