"""The shape every reader yields: one frame per chunk, all text, fields named, provenance kept.

Columns of a raw chunk:
  _sheet            sheet name (xlsx) or null
  _row              the row number an officer sees when opening the file (1-based, header counted)
  _id_numeric_cell  true where the ID cell was a number in Excel (its tail digits are lost)
  _extra_fields     true where a CSV line had more fields than the header
  _skip_reason      set on totals and footer rows, which are not people
  <field>           every recognised field, as text exactly as read
"""

from __future__ import annotations

import polars as pl

from pipelines.ingest.headers import ColumnMap
from pipelines.ingest.layout import drop_blank_rows, mark_layout_rows

RAW_PROVENANCE_SCHEMA = {
    "_sheet": pl.String,
    "_row": pl.Int64,
    "_id_numeric_cell": pl.Boolean,
    "_extra_fields": pl.Boolean,
    "_skip_reason": pl.String,
}


def raw_column(position: int) -> str:
    return f"c{position}"


def finish_chunk(
    frame: pl.DataFrame,
    columns: ColumnMap,
    width: int,
    *,
    sheet: str | None,
    row: pl.Expr,
    id_numeric_cell: pl.Expr | None = None,
    extra_fields: pl.Expr | None = None,
) -> pl.DataFrame:
    """Turn positional text columns `c0…` into a raw chunk with named fields and provenance."""
    data_columns = [raw_column(i) for i in range(width) if raw_column(i) in frame.columns]
    frame = drop_blank_rows(frame, data_columns)
    frame = mark_layout_rows(frame, data_columns)
    return frame.select(
        pl.lit(sheet, dtype=pl.String).alias("_sheet"),
        row.cast(pl.Int64).alias("_row"),
        (id_numeric_cell if id_numeric_cell is not None else pl.lit(False)).alias(
            "_id_numeric_cell"
        ),
        (extra_fields if extra_fields is not None else pl.lit(False)).alias("_extra_fields"),
        pl.col("_skip_reason"),
        *[
            pl.col(raw_column(position)).cast(pl.String).alias(field)
            for field, position in columns.positions.items()
        ],
    )
