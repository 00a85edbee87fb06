"""What pension and medical rosters share: one row per insurance record, keyed by 个人编号."""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa

from pipelines.config import Config
from schemas.checks import filled, one_of, real_date, text_column

INSURANCE_LABELS = {"pension": "养老保险", "medical": "医疗保险"}


def roster_schema(config: Config, as_of: dt.date, insurance: str) -> pa.DataFrameSchema:
    schemes = getattr(config.values.schemes, insurance)
    return pa.DataFrameSchema(
        {
            "roster_person_no": text_column(filled("个人编号")),
            "name": text_column(filled("姓名")),
            "id_number": text_column(),
            "scheme": text_column(
                filled("险种"),
                one_of(f"险种（{INSURANCE_LABELS[insurance]}名册）", schemes),
            ),
            "status": text_column(filled("参保状态"), one_of("参保状态", config.statuses.known())),
            "region": text_column(required=False),
            "enrolled_on": text_column(
                real_date("参保日期", "enrolled_on_date", as_of), required=False
            ),
        },
        strict=False,
        name=f"{insurance}_roster",
    )
