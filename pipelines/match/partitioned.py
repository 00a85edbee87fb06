"""Scoring a cascade stage's candidate pairs in partitions, for workers elsewhere (Dask).

Proposing pairs is set-based work that DuckDB does in one place (it already uses every core);
scoring them is Python (rapidfuzz, polars) that one process runs on one core. So the scoring is
what spreads: each stage's pairs are cut into partitions by the registry person's birth date, the
key every route blocks on, which keeps all of a person's pairs together (`score_pairs` compares a
person's candidates with each other, never across people). Put back in their original order, the
partitions' results are the single-process result row for row.

`partitioned_scorer(run_partitions, partitions)` makes a `Scorer` for `match_rosters`; the caller
supplies how partitions run (the Prefect flow maps a task over them on a DaskTaskRunner).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

from pipelines.config import Config
from pipelines.match import Scorer
from pipelines.match.candidates import CANDIDATE_SCHEMA

# A pair is unique within a stage: one person, one roster record (the record fixes the insurance).
_PAIR_KEY = ["identity", "record_id", "insurance"]

# Scores every partition (anywhere, in any order) and returns their results (in any order).
RunPartitions = Callable[[Sequence[pl.DataFrame], Config], Sequence[pl.DataFrame]]


def split_by_birth_date(pairs: pl.DataFrame, partitions: int) -> list[pl.DataFrame]:
    """Cut pairs into at most `partitions` frames; one person's pairs always share a frame."""
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, got {partitions}")
    # A person without a birth date still has one identity: hash that instead.
    key = (
        pl.coalesce(pl.col("registry_birth_date").cast(pl.String), pl.col("identity")).hash()
        % partitions
    )
    parts = pairs.with_columns(_partition=key).partition_by("_partition", include_key=False)
    return [part for part in parts if not part.is_empty()]


def in_original_order(pairs: pl.DataFrame, scored: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The partitions' scored pairs as one frame, in the order the pairs were proposed."""
    if not scored:
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)
    order = pairs.select(_PAIR_KEY).with_row_index("_order")
    return pl.concat(scored).join(order, on=_PAIR_KEY, how="left").sort("_order").drop("_order")


def partitioned_scorer(run_partitions: RunPartitions, partitions: int) -> Scorer:
    """A scorer that hands each stage's pairs, cut by birth date, to `run_partitions`."""

    def score(pairs: pl.DataFrame, config: Config) -> pl.DataFrame:
        if pairs.is_empty():
            return pl.DataFrame(schema=CANDIDATE_SCHEMA)
        parts = split_by_birth_date(pairs, partitions)
        return in_original_order(pairs, run_partitions(parts, config))

    return score
