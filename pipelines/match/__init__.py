"""Matching registry people to roster records: a cascade of SQL stages, each scored in Python.

Each stage is one file in `sql/` (`int_match_s<n>_<route>.sql`) that proposes candidate pairs from
what the earlier stages left open: people without an automatic match to a record that counts
(`int_match_open_people`, shrunk after each stage by `int_match_settle`), and records nobody has
claimed. `scoring.score_pairs` decides each pair; `int_match_decisions` then
makes sure no roster record is written off against two people.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import duckdb
import polars as pl

from pipelines.config import Config
from pipelines.log import get_logger
from pipelines.match.candidates import CANDIDATE_SCHEMA
from pipelines.match.scoring import score_pairs
from pipelines.paths import REFERENCE_DIR
from pipelines.review import APPLIED_DECISION_SCHEMA
from pipelines.sqlfiles import load_sql
from pipelines.stage import StagedInputs
from pipelines.warehouse import (
    append_frame,
    create_empty,
    define_view,
    materialise,
    query,
    run_statement,
    table_from_frame,
)

log = get_logger(__name__)

# Scores one stage's candidate pairs with their evidence (int_match_evidence). Each pair is scored
# on its own row and the rows of one person together, so any split that keeps a person's pairs
# together gives the same result: `pipelines.match.partitioned` spreads it over Dask that way.
Scorer = Callable[[pl.DataFrame, Config], pl.DataFrame]

# The cascade, in order: (stage SQL file, what it is called in the run summary).
STAGES = (
    ("int_match_s1_exact_id", "身份证号一致"),
    ("int_match_s2_upgraded_id", "15位号码升级"),
    ("int_match_s3_id_prefix", "号码被截断"),
    ("int_match_s4_near_miss_id", "号码一位之差"),
    ("int_match_s4b_two_slips", "两边号码都有误"),
    ("int_match_s5_no_usable_id", "出生日期+性别+县"),
    ("int_match_s6_name_only", "仅姓名（待核实）"),
)


# Stages whose pairs an ID singles out: they never read how crowded a person's birth day is, so
# the crowds are counted after them, for the people they left open (`_count_crowds`).
ID_STAGES = ("int_match_s1_exact_id", "int_match_s2_upgraded_id")

# What `_prepare` builds from both sides, in order, before the first stage.
PREPARED_TABLES = (
    "int_match_records",
    "int_match_block_ids",
    "int_match_blocks",
    "int_name_frequency",
    "int_name_patterns",
    "int_namesake_rate",
)

# What only the cascade reads. Coverage, the ledger and the reports need the decisions, the
# registry people and the staged rosters; a province's intermediates are several GB, which
# would crowd DuckDB's memory limit for the rest of the run (see `drop_cascade_tables`).
CASCADE_TABLES = (
    "int_registry_identity",
    "int_match_people",
    *PREPARED_TABLES,
    "int_birth_blocks",
    "int_match_open_people",
    "int_match_claimed_records",
    "int_match_stage_pairs",
    "int_match_evidence",
    "int_match_stage_settled",
    "int_match_candidates",
)


@dataclass
class MatchTimings:
    """Seconds per step, for the run summary and the benchmark."""

    seconds: dict[str, float] = field(default_factory=dict)
    pairs: dict[str, int] = field(default_factory=dict)


def _prepare(con: duckdb.DuckDBPyConnection, staged: StagedInputs) -> None:
    run_statement(con, "matching_macros")
    # A view: the matcher reads a few of its columns (int_roster_records), and copying every
    # staged column of millions of records into a table cost more than the matching stages.
    define_view(
        con,
        "stg_roster_records",
        roster_glob=[staged.parquet_glob("pension"), staged.parquet_glob("medical")],
    )
    materialise(
        con,
        "stg_county_codes",
        counties_2023=str(REFERENCE_DIR / "hunan_counties_2023.csv"),
        counties_2017=str(REFERENCE_DIR / "hunan_counties_2017.csv"),
        code_history=str(REFERENCE_DIR / "hunan_division_codes_history_1980_2019.csv"),
    )
    materialise(con, "int_match_people")
    # Every record is read, but only the few a registry person could be paired with are kept as
    # a table (int_match_records): at province size the whole roster, ~100 million records, is
    # more than DuckDB's memory limit holds.
    define_view(con, "int_roster_records")
    for name in PREPARED_TABLES:
        materialise(con, name)
    table_from_frame(con, "int_match_candidates", pl.DataFrame(schema=CANDIDATE_SCHEMA))
    materialise(con, "int_match_open_people")
    # The ID stages' evidence names the crowds without reading them (`_count_crowds`).
    create_empty(con, "int_birth_blocks")


def _evidence_batches(con: duckdb.DuckDBPyConnection, batch_pairs: int) -> Iterator[pl.DataFrame]:
    """The stage's pairs with their evidence, about `batch_pairs` at a time, each person's pairs
    in one batch (scoring compares a person's candidates with each other, never across people).

    A province's exact-ID stage proposes some 10 million pairs: fetched and scored in one piece,
    they took about 5 GB in Python on top of DuckDB's memory limit."""
    pairs = con.execute("select count(*) from int_match_stage_pairs").fetchall()[0][0]
    batches = -(-pairs // batch_pairs)
    if batches <= 1:
        yield query(con, "int_match_evidence")
        return
    # Kept as a table with each pair's batch number, so that each batch is a scan of that column
    # rather than the joins again, or a hash of every pair's identity per batch.
    evidence = load_sql("int_match_evidence")
    con.execute(
        "create or replace temp table int_match_evidence as\n"
        f"select *, hash(identity) % $batches as scoring_batch\nfrom (\n{evidence}\n)",
        {"batches": batches},
    ).fetchall()
    for batch in range(batches):
        yield con.sql(
            "select * exclude (scoring_batch) from int_match_evidence where scoring_batch = $batch",
            params={"batch": batch},
        ).pl()


def _run_stage(con: duckdb.DuckDBPyConnection, stage: str, config: Config, score: Scorer) -> int:
    """Propose, score and record one stage's pairs; return how many were kept."""
    materialise(con, "int_match_claimed_records")
    materialise(con, stage, as_table="int_match_stage_pairs")
    kept = 0
    settled = [pl.DataFrame(schema=CANDIDATE_SCHEMA).select("identity", "insurance")]
    for pairs in _evidence_batches(con, config.run.score_batch_pairs):
        scored = score(pairs, config)
        append_frame(con, "int_match_candidates", scored)
        matched = scored.filter(pl.col("decision") == "match", pl.col("record_counts"))
        settled.append(matched.select("identity", "insurance"))
        kept += scored.height
    table_from_frame(con, "int_match_stage_settled", pl.concat(settled))
    run_statement(con, "int_match_settle")
    return kept


def _count_crowds(con: duckdb.DuckDBPyConnection, timings: MatchTimings) -> None:
    """int_birth_blocks for the people the ID stages left open. At province size nearly every
    roster record falls in some registry person's birth-day block, so counting them for
    everyone grouped some 68 million records; the fuzzy stages only look up the open few."""
    started = time.perf_counter()
    materialise(con, "int_birth_blocks")
    timings.seconds["crowds"] = time.perf_counter() - started


def match_rosters(
    con: duckdb.DuckDBPyConnection,
    staged: StagedInputs,
    config: Config,
    review_decisions: pl.DataFrame | None = None,
    score: Scorer = score_pairs,
) -> MatchTimings:
    """Create int_match_decisions: every kept pair with its decision, method, score and reason.

    `review_decisions` are reviewers' decisions on pairs (person_key, insurance,
    roster_person_no, decision, reviewer; the latest per pair), applied after the cascade.
    `score` is where each stage's pairs are scored: here by default, or spread over workers.
    """
    timings = MatchTimings()
    table_from_frame(
        con,
        "int_review_decisions",
        review_decisions
        if review_decisions is not None
        else pl.DataFrame(schema=APPLIED_DECISION_SCHEMA),
    )
    started = time.perf_counter()
    _prepare(con, staged)
    timings.seconds["prepare"] = time.perf_counter() - started
    crowds_counted = False
    for stage, label in STAGES:
        if stage not in ID_STAGES and not crowds_counted:
            _count_crowds(con, timings)
            crowds_counted = True
        started = time.perf_counter()
        timings.pairs[stage] = _run_stage(con, stage, config, score)
        timings.seconds[stage] = time.perf_counter() - started
        log.info(
            "比对 %s：%d 对候选（%.1f 秒）", label, timings.pairs[stage], timings.seconds[stage]
        )
    started = time.perf_counter()
    materialise(con, "int_match_decisions")
    timings.seconds["decisions"] = time.perf_counter() - started
    return timings


def drop_cascade_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Free what only the cascade read, once int_match_decisions holds its outcome."""
    for name in CASCADE_TABLES:
        con.execute(f"drop table if exists {name}").fetchall()
