"""Validation schema for pension rosters (城乡居民, 企业职工, 机关事业单位 基本养老保险)."""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa

from pipelines.config import Config
from schemas.roster import roster_schema


def pension_schema(config: Config, as_of: dt.date) -> pa.DataFrameSchema:
    return roster_schema(config, as_of, "pension")
