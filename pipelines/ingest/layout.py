"""Rows that are part of a sheet's layout rather than people: totals, sub-totals and footers.

They are not dropped silently: readers mark them with `_skip_reason`, and staging records them in
the quarantine as skipped rows, so the accounting still adds up.

Each row's cells are joined into one string and searched once, rather than each cell on its own:
a county's roster has millions of rows and a dozen columns.
"""

from __future__ import annotations

import polars as pl

SKIP_REASON = "_skip_reason"

# Joins a row's cells; no extract puts the ASCII unit separator inside a cell.
_CELL_SEPARATOR = "\x1f"
_CELL_START = rf"(?:^|{_CELL_SEPARATOR})\s*"
# A cell that is exactly (or starts with) one of these marks a totals row.
_TOTALS = rf"{_CELL_START}(?:合计|小计|总计|共计|累计)"
# Footers signed under the table, and notes.
_FOOTER = rf"制表人|审核人|填表人|制表日期|填报日期|负责人|审核日期|{_CELL_START}注[:：]"
_ANY_VALUE = rf"[^\s{_CELL_SEPARATOR}]"


def _row_text(data_columns: list[str]) -> pl.Expr:
    return pl.concat_str(data_columns, separator=_CELL_SEPARATOR, ignore_nulls=True)


def mark_layout_rows(frame: pl.DataFrame, data_columns: list[str]) -> pl.DataFrame:
    """Add `_skip_reason` (null for person rows) based on the cells of the data columns."""
    text = _row_text(data_columns)
    return frame.with_columns(
        pl.when(text.str.contains(_TOTALS).fill_null(False))
        .then(pl.lit("合计/小计行，不是人员记录，已跳过"))
        .when(text.str.contains(_FOOTER).fill_null(False))
        .then(pl.lit("表尾（制表人/审核人等），不是人员记录，已跳过"))
        .otherwise(None)
        .alias(SKIP_REASON)
    )


def drop_blank_rows(frame: pl.DataFrame, data_columns: list[str]) -> pl.DataFrame:
    """Rows with nothing in any cell carry nothing to lose."""
    return frame.filter(_row_text(data_columns).str.contains(_ANY_VALUE).fill_null(False))
