"""Shared fixtures: the default configuration and small real input files written on the fly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pytest
from openpyxl import Workbook

from pipelines.config import Config, load_config
from pipelines.normalise.ids import check_character

AS_OF = dt.date(2026, 11, 29)


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config()


def valid_id(first17: str) -> str:
    """A real-looking 18-character ID: the 17 digits given plus their check character."""
    check = pl.DataFrame({"first17": [first17]}).select(check_character(pl.col("first17"))).item()
    return first17 + check


REGISTRY_HEADER = ["姓名", "身份证号", "县市区", "乡镇", "村", "人员类别"]


def registry_row(
    name: str, id_number: str, township: str = "甲镇", category: str = "建档立卡贫困人口"
) -> list[str]:
    return [name, id_number, "宁乡市", township, "一村", category]


def write_csv(
    path: Path,
    rows: Sequence[Sequence[str]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    title_lines: Sequence[str] = (),
) -> Path:
    """Write rows as a CSV in the given encoding ('utf-8-sig', 'gb18030', 'utf-16', …)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [*title_lines, *(delimiter.join(row) for row in rows)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_xlsx(
    path: Path,
    sheets: dict[str, Sequence[Sequence[object]]],
    merges: dict[str, Sequence[str]] | None = None,
) -> Path:
    """Write one sheet per entry; `merges` lists ranges like 'C3:C5' per sheet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
        for cell_range in (merges or {}).get(title, []):
            sheet.merge_cells(cell_range)
    book.save(path)
    return path
