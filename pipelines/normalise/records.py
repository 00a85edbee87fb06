"""Accepted rows → normalised records: trimmed text, ID numbers, name keys, dates, value sets.

The original text of every field is kept beside what is derived from it: an officer must be able
to see what the source said, and stored names are never rewritten. Each chunk is normalised as one
lazy query, so polars shares the ID number's intermediate steps and runs them in parallel.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.config import Config
from pipelines.normalise.dates import parse_date
from pipelines.normalise.ids import normalise_id
from pipelines.normalise.names import add_name_key
from schemas.checks import split_tokens

REGISTRY_TEXT_FIELDS = (
    "person_key",
    "household_key",
    "sex",
    "birth_date",
    "county",
    "township",
    "village",
    "region_code",
    "category",
    "poverty_exit",
    "student",
    "person_state",
)
ROSTER_TEXT_FIELDS = ("roster_person_no", "scheme", "status", "region", "enrolled_on")


def _with_optional_columns(frame: pl.DataFrame, fields: tuple[str, ...]) -> pl.DataFrame:
    """Optional fields a file did not have become null columns, so every chunk has one shape."""
    missing = [f for f in fields if f not in frame.columns]
    return frame.with_columns(pl.lit(None, pl.String).alias(f) for f in missing)


def _trimmed(fields: tuple[str, ...]) -> list[pl.Expr]:
    return [pl.col(f).str.strip_chars().replace("", None).alias(f) for f in fields]


def _id_columns(as_of: dt.date) -> list[pl.Expr]:
    return [
        pl.col("id_number").alias("id_raw"),
        normalise_id(
            pl.col("id_number"), numeric_cell=pl.col("_id_numeric_cell"), as_of=as_of
        ).alias("_id"),
    ]


def _categories(config: Config) -> pl.Expr:
    """Every category a cell names, unified; one value may stand for several (低保贫困户)."""
    mapping = {value: "\x1f".join(unified) for value, unified in config.values.categories.items()}
    return (
        split_tokens(pl.col("category"))
        .list.eval(pl.element().str.strip_chars().replace_strict(mapping, default=None))
        .list.drop_nulls()
        .list.join("\x1f")
        .str.split("\x1f")
        .list.eval(pl.element().filter(pl.element() != ""))
        .list.unique()
        .list.sort()
    )


def _is_student(config: Config) -> pl.Expr:
    not_student = config.values.student.not_student
    return pl.col("student").is_not_null() & ~pl.col("student").is_in(not_student)


def normalise_registry_rows(rows: pl.DataFrame, config: Config, as_of: dt.date) -> pl.DataFrame:
    """One registry row per list entry, with derived columns for matching and coverage."""
    rows = _with_optional_columns(rows, REGISTRY_TEXT_FIELDS)
    values = config.values
    frame = (
        rows.lazy()
        .with_columns(
            *_trimmed(REGISTRY_TEXT_FIELDS),
            pl.col("name").str.strip_chars().alias("name"),
            *_id_columns(as_of),
        )
        .drop("id_number")
        .unnest("_id")
    )
    frame = frame.with_columns(
        categories=_categories(config),
        birth_date_given=parse_date(pl.col("birth_date")),
        sex_given=pl.col("sex").replace_strict(values.sex, default=None),
        poverty_exit_norm=pl.col("poverty_exit").replace_strict(values.poverty_exit, default=None),
        is_student=_is_student(config),
        person_state=pl.col("person_state").fill_null("正常"),
    )
    return add_name_key(frame, "name").collect()


def normalise_roster_rows(
    rows: pl.DataFrame, config: Config, as_of: dt.date, insurance: str
) -> pl.DataFrame:
    """One roster record per row, with its status group (enrolled/suspended/terminated)."""
    rows = _with_optional_columns(rows, ROSTER_TEXT_FIELDS)
    statuses = config.statuses
    status_group = {
        **dict.fromkeys(statuses.enrolled, "enrolled"),
        **dict.fromkeys(statuses.suspended, "suspended"),
        **dict.fromkeys(statuses.terminated, "terminated"),
    }
    frame = (
        rows.lazy()
        .with_columns(
            *_trimmed(ROSTER_TEXT_FIELDS),
            pl.col("name").str.strip_chars().alias("name"),
            *_id_columns(as_of),
        )
        .drop("id_number")
        .unnest("_id")
    )
    frame = frame.with_columns(
        insurance=pl.lit(insurance),
        status_group=pl.col("status").replace_strict(status_group, default=None),
        enrolled_on_date=parse_date(pl.col("enrolled_on")),
    )
    return add_name_key(frame, "name").collect()
