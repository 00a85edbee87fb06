"""Stage 1: the same normalised ID. The names still have to agree before anyone is crossed off."""

from __future__ import annotations

import polars as pl

from pipelines.config import Config
from pipelines.match.candidates import CANDIDATE_SCHEMA
from pipelines.normalise.names import name_similarity


def decide_exact_id_pairs(pairs: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Score exact-ID pairs by name; a clearly different name is sent to review, never matched."""
    if pairs.is_empty():
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)
    scores = name_similarity(
        pairs.get_column("registry_name_key"), pairs.get_column("roster_name_key")
    )
    name_score = pl.Series("name_score", scores).fill_nan(0.0)
    same_key = pl.col("registry_name_key") == pl.col("roster_name_key")
    similar = pl.col("name_score") >= config.matching.same_name
    return pairs.with_columns(name_score).select(
        "identity",
        "record_id",
        "insurance",
        pl.lit("exact_id").alias("method"),
        # An exact ID with an agreeing name is as certain as this data gets; a similar name
        # (homophone, traditional form) keeps the ID's weight but not full certainty.
        pl.when(same_key)
        .then(1.0)
        .when(similar)
        .then(0.9 + 0.1 * pl.col("name_score"))
        .otherwise(pl.col("name_score") * 0.5)
        .alias("score"),
        pl.when(same_key | similar)
        .then(pl.lit("match"))
        .otherwise(pl.lit("review"))
        .alias("decision"),
        pl.when(same_key)
        .then(pl.lit("身份证号一致；姓名一致"))
        .when(similar)
        .then(pl.lit("身份证号一致；姓名相近（同音或繁简不同）"))
        .otherwise(pl.lit("身份证号一致；姓名明显不同（疑似重号或错号），需人工核实"))
        .alias("reason"),
    )
