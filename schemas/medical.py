"""Validation schema for medical rosters (城乡居民基本医疗保险 incl. 大病保险, 职工基本医疗保险)."""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa

from pipelines.config import Config
from schemas.roster import roster_schema


def medical_schema(config: Config, as_of: dt.date) -> pa.DataFrameSchema:
    return roster_schema(config, as_of, "medical")
