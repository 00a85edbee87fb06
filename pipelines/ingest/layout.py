"""Rows that are part of a sheet's layout rather than people: totals, sub-totals and footers.

They are not dropped silently: readers mark them with `_skip_reason`, and staging records them in
the quarantine as skipped rows, so the accounting still adds up.
"""

from __future__ import annotations

import polars as pl

SKIP_REASON = "_skip_reason"

# A cell that is exactly (or starts with) one of these marks a totals row.
_TOTALS_WORDS = ("合计", "小计", "总计", "共计", "累计")
# Footers signed under the table, and notes (a cell starting 注: or 注：).
_FOOTER_WORDS = ("制表人", "审核人", "填表人", "制表日期", "填报日期", "负责人", "审核日期")
_NOTE_STARTS = ("注:", "注：")
_TOTALS = rf"^({'|'.join(_TOTALS_WORDS)})"
_FOOTER = rf"({'|'.join(_FOOTER_WORDS)}|^({'|'.join(_NOTE_STARTS)}))"


def _might_hold_layout_rows(frame: pl.DataFrame, data_columns: list[str]) -> bool:
    """Whether any cell holds one of the words anywhere: a literal search, without copying each
    cell stripped, that rules out the great majority of chunks (they have no such row)."""
    words = [*_TOTALS_WORDS, *_FOOTER_WORDS, *_NOTE_STARTS]
    found = pl.any_horizontal(
        pl.col(c).str.contains_any(words).fill_null(False) for c in data_columns
    )
    return bool(frame.select(found.any()).item())


def mark_layout_rows(frame: pl.DataFrame, data_columns: list[str]) -> pl.DataFrame:
    """Add `_skip_reason` (null for person rows) based on the cells of the data columns."""
    if not _might_hold_layout_rows(frame, data_columns):
        return frame.with_columns(pl.lit(None, pl.String).alias(SKIP_REASON))
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
