"""Splitting a raw chunk into accepted rows and quarantined rows, each with its reason.

Nothing is dropped here: every row of the chunk ends up in exactly one of the two outputs, which
is what lets staging check rows read = rows accepted + rows quarantined for every file.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandera.polars as pa
import polars as pl

from pipelines.ingest.headers import FIELD_LABELS

QUARANTINE_SCHEMA = {
    "source": pl.String,
    "file": pl.String,
    "sheet": pl.String,
    "row": pl.Int64,
    "field": pl.String,
    "value": pl.String,
    "reason": pl.String,
    "kind": pl.String,  # invalid: failed a check; skipped: a totals/footer row, not a person
}

# Anything shaped like an ID number in a quarantined value is masked: 430124********1234.
_ID_LIKE = r"(\d{6})\d{5,8}(\d{3}[\dXx])"
_MAX_VALUE_CHARS = 60
_EXTRA_FIELDS_REASON = (
    "该行的字段数多于表头（可能是姓名或地址中含有未加引号的分隔符），请检查原文件"
)


@dataclass(frozen=True)
class Split:
    accepted: pl.DataFrame
    quarantined: pl.DataFrame


def _masked(value: pl.Expr) -> pl.Expr:
    return (
        value.str.replace_all(_ID_LIKE, "${1}********${2}")
        .str.slice(0, _MAX_VALUE_CHARS)
        .fill_null("（空）")
    )


def _quarantine_rows(
    rows: pl.DataFrame, field: pl.Expr, value: pl.Expr, reason: pl.Expr, kind: str
) -> pl.DataFrame:
    return rows.select(
        # Which file the row came from, when a chunk stacks several (see pipelines/stage.py).
        pl.col("_file_number"),
        pl.col("_sheet").alias("sheet"),
        pl.col("_row").alias("row"),
        field.alias("field"),
        _masked(value).alias("value"),
        reason.alias("reason"),
        pl.lit(kind).alias("kind"),
    )


def _failures_by_row(errors: pa.errors.SchemaErrors) -> pl.DataFrame:
    """One line per failing row: the fields, their values and the reasons, joined."""
    cases = errors.failure_cases
    if cases.get_column("index").null_count():
        # Readers guarantee the required columns, so a failure without a row is a bug in a check.
        raise RuntimeError(f"validation failed outside any row: {errors.message}")
    labels = pl.col("column").replace_strict(FIELD_LABELS, default=pl.col("column"))
    return (
        cases.with_columns(label=labels, value=pl.col("failure_case").fill_null("（空）"))
        .group_by("index", maintain_order=True)
        .agg(
            field=pl.col("label").str.join("；"),
            value=pl.col("value").str.join("；"),
            reason=pl.col("check").str.join("；"),
        )
        .with_columns(pl.col("index").cast(pl.UInt32))
    )


def split_chunk(chunk: pl.DataFrame, schema: pa.DataFrameSchema) -> Split:
    """Accepted rows (all columns kept) and quarantined rows (without source/file yet)."""
    skipped = chunk.filter(pl.col("_skip_reason").is_not_null())
    ragged = chunk.filter(pl.col("_skip_reason").is_null() & pl.col("_extra_fields"))
    candidates = chunk.filter(pl.col("_skip_reason").is_null() & ~pl.col("_extra_fields"))
    quarantined = [
        _quarantine_rows(
            skipped,
            pl.lit(None, pl.String),
            pl.lit(None, pl.String),
            pl.col("_skip_reason"),
            "skipped",
        ),
        _quarantine_rows(
            ragged,
            pl.lit(None, pl.String),
            pl.lit(None, pl.String),
            pl.lit(_EXTRA_FIELDS_REASON),
            "invalid",
        ),
    ]
    try:
        schema.validate(candidates, lazy=True)
        accepted = candidates
    except pa.errors.SchemaErrors as errors:
        failures = _failures_by_row(errors)
        located = candidates.with_row_index("index").join(failures, on="index", how="inner")
        quarantined.append(
            _quarantine_rows(located, pl.col("field"), pl.col("value"), pl.col("reason"), "invalid")
        )
        accepted = (
            candidates.with_row_index("index").join(failures, on="index", how="anti").drop("index")
        )
    return Split(accepted, pl.concat(quarantined, how="vertical"))
