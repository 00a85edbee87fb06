"""CSV extracts: any encoding counties send, any common delimiter, read as text in chunks."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from pipelines.config import Config
from pipelines.ingest.chunk import finish_chunk, raw_column
from pipelines.ingest.encoding import as_utf8, detect_encoding, read_head_lines
from pipelines.ingest.headers import (
    HEADER_SEARCH_ROWS,
    LayoutError,
    aliases_for,
    find_header_row,
    header_score,
    map_columns,
)

_DELIMITERS = (",", "\t", ";", "|")
# Room for lines with more fields than the header, so they can be seen and quarantined.
_EXTRA_FIELDS = 8


def _split(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _detect_layout(lines: list[str], source: str, config: Config) -> tuple[str, int]:
    """The delimiter and header row index that recognise the most fields."""
    aliases = aliases_for(source, config)

    def best_score(delimiter: str) -> int:
        return max((header_score(_split(line, delimiter), aliases) for line in lines), default=0)

    delimiter = max(_DELIMITERS, key=best_score)
    rows = [_split(line, delimiter) for line in lines]
    return delimiter, find_header_row(rows, source, config)


def read_csv_chunks(
    path: Path, source: str, config: Config, work_dir: Path
) -> Iterator[pl.DataFrame]:
    """Yield raw chunks of a CSV file; raise LayoutError when the file cannot be understood."""
    if path.stat().st_size == 0:
        raise LayoutError("文件为空（0 字节）。")
    encoding = detect_encoding(path)
    lines = read_head_lines(path, encoding, HEADER_SEARCH_ROWS)
    delimiter, header_index = _detect_layout(lines, source, config)
    headers = _split(lines[header_index], delimiter)
    columns = map_columns(headers, source, config)
    width = len(headers)
    schema = {raw_column(i): pl.String for i in range(width + _EXTRA_FIELDS)}
    scan = pl.scan_csv(
        as_utf8(path, encoding, work_dir),
        has_header=False,
        skip_lines=header_index + 1,
        separator=delimiter,
        schema=schema,
        truncate_ragged_lines=True,
        row_index_name="_index",
        empty_string_is_null=True,
        missing_columns="insert",
    )
    extra = pl.any_horizontal(
        pl.col(raw_column(i)).is_not_null() for i in range(width, width + _EXTRA_FIELDS)
    )
    # An officer opening the file sees the header on line header_index + 1, data right below.
    first_data_line = header_index + 2
    for batch in scan.collect_batches(chunk_size=config.run.chunk_rows):
        yield finish_chunk(
            batch,
            columns,
            width,
            sheet=None,
            row=pl.col("_index") + first_data_line,
            extra_fields=extra,
        )
