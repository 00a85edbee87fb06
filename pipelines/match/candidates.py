"""The shape every matching stage hands to the decision step."""

from __future__ import annotations

import polars as pl

CANDIDATE_SCHEMA = {
    "identity": pl.String,
    "record_id": pl.Int64,
    "insurance": pl.String,
    "method": pl.String,  # exact_id, … (see the cascade in pipelines/match/__init__.py)
    "score": pl.Float64,  # 0–1
    "decision": pl.String,  # match / review / no_match
    "reason": pl.String,  # short Chinese reason an officer can read
    # The record's status counts as enrolled (active or suspended): a person matched to such a
    # record is settled, and later stages leave them alone.
    "record_counts": pl.Boolean,
}
