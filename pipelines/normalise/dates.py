"""Dates as they arrive in extracts: 1990-01-05, 1990/1/5, 19900105, 1990年1月5日, Excel serials."""

from __future__ import annotations

import datetime as dt

import polars as pl

# Excel's day zero (it counts 1900 as a leap year, so serials after Feb 1900 start here).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Serial numbers for 1900-01-01 … 2100-12-31: anything else is not a date.
_SERIAL_RANGE = (1, 73415)


def parse_date(text: pl.Expr) -> pl.Expr:
    """A Date, or null when the text is not a real calendar date."""
    # Plain string operations and strict parsers only: this runs on every row of every roster,
    # and regex group extraction was five times slower.
    cleaned = (
        text.str.strip_chars()
        .str.replace(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "")
        .str.replace_all(r"[年月/.]", "-")
        .str.strip_suffix("日")
    )
    # %m and %d accept one or two digits, so 1990-1-5 parses as well as 1990-01-05.
    as_calendar = pl.coalesce(
        cleaned.str.to_date("%Y-%m-%d", strict=False),
        cleaned.str.to_date("%Y%m%d", strict=False),
    )
    # After the separators became '-', a serial written 32874.0 reads 32874-0.
    serial = cleaned.str.strip_suffix("-0").cast(pl.Int64, strict=False)
    as_serial = pl.when(serial.is_between(*_SERIAL_RANGE)).then(
        pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial)
    )
    return pl.coalesce(as_calendar, as_serial)
