"""One workbook per township, holding only that township's people.

This first version lists the unenrolled for each insurance; the write-offs, the review sheet and
the print setup are built on the same helpers.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
from openpyxl import Workbook

from pipelines.log import get_logger
from pipelines.reporting.cells import safe_file_name, text_cell, written_atomically
from pipelines.sqlfiles import load_sql

log = get_logger(__name__)

# Column headers as the township reads them, and the person_coverage column behind each.
UNENROLLED_COLUMNS = {
    "村(社区)": "village",
    "户编号": "household_key",
    "姓名": "name",
    "身份证号": "id_number",
    "性别": "sex",
    "年龄": "age",
    "人员类别": "categories_text",
    "标记": "flags_text",
    "人员编号": "person_key",
}
SHEETS = {"pension": "未参保-养老", "medical": "未参保-医保"}
_COLUMN_WIDTHS = {
    "村(社区)": 14,
    "户编号": 14,
    "姓名": 10,
    "身份证号": 21,
    "性别": 6,
    "年龄": 6,
    "人员类别": 22,
    "标记": 24,
    "人员编号": 18,
}


def _write_sheet(book: Workbook, title: str, people: pl.DataFrame) -> None:
    sheet = book.create_sheet(title)
    for index, header in enumerate(UNENROLLED_COLUMNS, start=1):
        sheet.column_dimensions[chr(64 + index)].width = _COLUMN_WIDTHS[header]
    sheet.freeze_panes = "A2"
    sheet.append([text_cell(sheet, header) for header in UNENROLLED_COLUMNS])
    for row in people.select(list(UNENROLLED_COLUMNS.values())).iter_rows():
        sheet.append([text_cell(sheet, value) for value in row])


def _write_township(
    target: Path, as_of: dt.date, county: str, township: str, people: pl.DataFrame
) -> None:
    book = Workbook(write_only=True)
    notes = book.create_sheet("说明")
    notes.append([f"{county}{township} 未参保人员名单（比对基准日 {as_of.isoformat()}）"])
    for insurance, title in SHEETS.items():
        count = people.filter(pl.col("insurance") == insurance).height
        notes.append([f"{title}：{count} 人"])
    for insurance, title in SHEETS.items():
        _write_sheet(book, title, people.filter(pl.col("insurance") == insurance))
    with written_atomically(target) as temporary:
        book.save(temporary)


def write_township_workbooks(
    con: duckdb.DuckDBPyConnection, reports_dir: Path, as_of: dt.date
) -> list[Path]:
    """Write reports/<as-of>/<county>/<township>.xlsx for every township with registry people."""
    unenrolled = con.sql(load_sql("rpt_township_unenrolled")).pl()
    # Townships with nobody unenrolled still get a workbook that says so.
    townships = con.execute(
        "select distinct county, township from person_coverage order by county, township"
    ).fetchall()
    by_township = unenrolled.partition_by(["county", "township"], as_dict=True)
    nobody = unenrolled.clear()
    written: list[Path] = []
    for county, township in townships:
        target = (
            reports_dir
            / as_of.isoformat()
            / safe_file_name(county)
            / f"{safe_file_name(township)}.xlsx"
        )
        people = by_township.get((county, township), nobody)
        _write_township(target, as_of, county, township, people)
        written.append(target)
    log.info("已生成 %d 个乡镇工作簿：%s", len(written), reports_dir / as_of.isoformat())
    return written
