"""Dates as extracts write them."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipelines.normalise.dates import parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1990-01-05", dt.date(1990, 1, 5)),
        ("1990-1-5", dt.date(1990, 1, 5)),
        ("1990/1/5", dt.date(1990, 1, 5)),
        ("1990.01.05", dt.date(1990, 1, 5)),
        ("19900105", dt.date(1990, 1, 5)),
        ("1990年1月5日", dt.date(1990, 1, 5)),
        (" 1990-01-05 00:00:00 ", dt.date(1990, 1, 5)),  # an Excel date cell read as text
        ("32874", dt.date(1990, 1, 1)),  # an Excel serial number
        ("32874.0", dt.date(1990, 1, 1)),
        ("20000229", dt.date(2000, 2, 29)),
        ("19000229", None),  # 1900 was not a leap year
        ("1990-02-30", None),
        ("2024-13-01", None),
        ("不详", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(text: str | None, expected: dt.date | None) -> None:
    frame = pl.DataFrame({"text": [text]}, schema={"text": pl.String})
    assert frame.select(parse_date(pl.col("text"))).item() == expected
