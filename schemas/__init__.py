"""Pandera (polars) schemas, one per source. Rows that fail go to the quarantine with the reason."""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa

from pipelines.config import Config
from schemas.medical import medical_schema
from schemas.pension import pension_schema
from schemas.registry import registry_schema

_BUILDERS = {"registry": registry_schema, "pension": pension_schema, "medical": medical_schema}


def schema_for(source: str, config: Config, as_of: dt.date) -> pa.DataFrameSchema:
    return _BUILDERS[source](config, as_of)
