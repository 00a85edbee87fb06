"""Reading what counties send: CSV, xlsx and Parquet extracts into uniform raw chunks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from pipelines.config import Config
from pipelines.ingest.csv_reader import read_csv_chunks
from pipelines.ingest.headers import SOURCES, LayoutError
from pipelines.ingest.parquet_reader import read_parquet_chunks
from pipelines.ingest.xlsx_reader import SheetProblems, read_xlsx_chunks

__all__ = [
    "SOURCES",
    "LayoutError",
    "SheetProblems",
    "discover_files",
    "read_chunks",
]


def discover_files(input_dir: Path) -> dict[str, list[Path]]:
    """Every file in each source folder, sorted so runs are reproducible.

    Files with other suffixes are returned too: the caller reports them rather than ignoring them,
    and so are links whose file is gone (a copied folder of shortcuts), which cannot be read.
    Hidden files, Office lock files (~$name.xlsx) and sub-folders are left out.
    """
    found: dict[str, list[Path]] = {}
    for source in SOURCES:
        folder = input_dir / source
        found[source] = (
            sorted(
                p
                for p in folder.glob("*")
                if (p.is_file() or p.is_symlink()) and not p.name.startswith((".", "~$"))
            )
            if folder.is_dir()
            else []
        )
    return found


def read_chunks(
    path: Path, source: str, config: Config, work_dir: Path, problems: SheetProblems
) -> Iterator[pl.DataFrame]:
    """Raw chunks of one file, whatever its kind; LayoutError when it cannot be read at all."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv_chunks(path, source, config, work_dir)
    if suffix == ".xlsx":
        return read_xlsx_chunks(path, source, config, problems)
    if suffix == ".parquet":
        return read_parquet_chunks(path, source, config)
    if suffix == ".xls":
        raise LayoutError("不支持旧版 .xls 格式：请在 Excel 中另存为 .xlsx 后重新放入。")
    raise LayoutError(
        f"不支持的文件类型 {path.suffix or '（无扩展名）'}：只接受 .csv、.xlsx、.parquet。"
    )
