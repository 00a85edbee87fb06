"""Validation schema for poverty registry extracts (建档立卡, 低保, 特困 lists)."""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa

from pipelines.config import Config
from schemas.checks import every_token_one_of, filled, one_of, real_date, text_column


def registry_schema(config: Config, as_of: dt.date) -> pa.DataFrameSchema:
    values = config.values
    return pa.DataFrameSchema(
        {
            "name": text_column(filled("姓名")),
            # A missing or damaged ID is not a reason to drop a poor person: it is flagged and
            # the matcher falls back to name and birth date.
            "id_number": text_column(),
            "county": text_column(filled("县市区")),
            "township": text_column(filled("乡镇(街道)")),
            "village": text_column(filled("村(社区)")),
            "category": text_column(
                filled("人员类别"), every_token_one_of("人员类别", values.categories)
            ),
            "person_key": text_column(required=False),
            "household_key": text_column(required=False),
            "sex": text_column(one_of("性别", values.sex), required=False),
            "birth_date": text_column(
                real_date("出生日期", "birth_date_given", as_of), required=False
            ),
            "region_code": text_column(required=False),
            "poverty_exit": text_column(one_of("脱贫标志", values.poverty_exit), required=False),
            "student": text_column(required=False),
            "person_state": text_column(
                one_of("人员状态", values.person_state.allowed), required=False
            ),
        },
        strict=False,
        name="registry",
    )
