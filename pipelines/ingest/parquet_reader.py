"""Parquet extracts: already typed, so only the headers need recognising; read in chunks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from pipelines.config import Config
from pipelines.ingest.chunk import finish_chunk, raw_column
from pipelines.ingest.headers import LayoutError, map_columns


def read_parquet_chunks(path: Path, source: str, config: Config) -> Iterator[pl.DataFrame]:
    """Yield raw chunks; every column is cast to text so IDs are never numbers downstream."""
    try:
        names = list(pl.read_parquet_schema(path))
    except Exception as error:  # polars raises ComputeError/OSError variants for broken files
        raise LayoutError(f"无法读取 Parquet 文件（文件损坏）：{error}") from None
    columns = map_columns(names, source, config)
    scan = (
        pl.scan_parquet(path)
        .select(pl.col(name).cast(pl.String).alias(raw_column(i)) for i, name in enumerate(names))
        .with_row_index("_index")
    )
    for batch in scan.collect_batches(chunk_size=config.run.chunk_rows):
        # A Parquet file has no rows to look at; number records as the same table saved as CSV
        # or opened in Excel would show them: header on row 1, first record on row 2.
        yield finish_chunk(batch, columns, len(names), sheet=None, row=pl.col("_index") + 2)
