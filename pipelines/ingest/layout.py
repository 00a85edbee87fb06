"""Rows that are part of a sheet's layout rather than people: totals, sub-totals and footers.

They are not dropped silently: readers mark them with `_skip_reason`, and staging records them in
the quarantine as skipped rows, so the accounting still adds up.
"""

from __future__ import annotations

import polars as pl

SKIP_REASON = "_skip_reason"

# A cell that is exactly (or starts with) one of these marks a totals row.
_TOTALS = r"^(合计|小计|总计|共计|累计)"
# Footers signed under the table, and notes.
_FOOTER = r"(制表人|审核人|填表人|制表日期|填报日期|负责人|审核日期|^注[:：])"


def mark_layout_rows(frame: pl.DataFrame, data_columns: list[str]) -> pl.DataFrame:
    """Add `_skip_reason` (null for person rows) based on the cells of the data columns."""
    cells = [pl.col(c).str.strip_chars() for c in data_columns]
    is_totals = pl.any_horizontal(c.str.contains(_TOTALS).fill_null(False) for c in cells)
    is_footer = pl.any_horizontal(c.str.contains(_FOOTER).fill_null(False) for c in cells)
    return frame.with_columns(
        pl.when(is_totals)
        .then(pl.lit("合计/小计行，不是人员记录，已跳过"))
        .when(is_footer)
        .then(pl.lit("表尾（制表人/审核人等），不是人员记录，已跳过"))
        .otherwise(None)
        .alias(SKIP_REASON)
    )


def drop_blank_rows(frame: pl.DataFrame, data_columns: list[str]) -> pl.DataFrame:
    """Rows with nothing in any cell carry nothing to lose."""
    has_value = pl.any_horizontal(
        (pl.col(c).str.strip_chars().str.len_chars() > 0).fill_null(False) for c in data_columns
    )
    return frame.filter(has_value)
