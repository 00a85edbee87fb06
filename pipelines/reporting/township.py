"""One workbook per township, holding only that township's people.

Sheets: 说明, the unenrolled per insurance, and 待核实: the possible matches a person must confirm
or reject. Reviewers fill in 核实结果 (确认/否决, a drop-down) and 核实人 and send the file back;
`pipelines/review.py` reads it. A hidden sheet 核验 names the township and as-of date under a code
only this ledger can make, and every review row carries its own code (see rpt_township_review).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
from openpyxl import Workbook
from openpyxl.worksheet.datavalidation import DataValidation

from pipelines.log import get_logger
from pipelines.reporting.cells import safe_file_name, text_cell, written_atomically
from pipelines.review import (
    CHECK_SHEET,
    DECISION_HEADER,
    DECISIONS,
    REVIEW_COLUMNS,
    REVIEW_SHEET,
    REVIEWER_HEADER,
    review_secret,
    workbook_code,
)
from pipelines.sqlfiles import load_sql
from pipelines.warehouse import run_statement

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
INSURANCE_LABELS = {"pension": "养老保险", "medical": "医疗保险"}
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


def _write_review_sheet(book: Workbook, pairs: pl.DataFrame) -> None:
    sheet = book.create_sheet(REVIEW_SHEET)
    sheet.freeze_panes = "A2"
    headers = list(REVIEW_COLUMNS)
    decision_column = chr(65 + headers.index(DECISION_HEADER))
    if pairs.height:
        choices = DataValidation(
            type="list", formula1='"' + ",".join(DECISIONS) + '"', allow_blank=True
        )
        choices.add(f"{decision_column}2:{decision_column}{pairs.height + 1}")
        sheet.data_validations.append(choices)
    sheet.append([text_cell(sheet, header) for header in headers])
    readable = pairs.with_columns(
        insurance_label=pl.col("insurance").replace_strict(INSURANCE_LABELS),
        decision=pl.lit(None, pl.String),
        reviewer=pl.lit(None, pl.String),
    )
    for row in readable.select(list(REVIEW_COLUMNS.values())).iter_rows():
        sheet.append([text_cell(sheet, value) for value in row])


def _write_check_sheet(
    book: Workbook, secret: str, as_of: dt.date, county: str, township: str
) -> None:
    sheet = book.create_sheet(CHECK_SHEET)
    sheet.sheet_state = "hidden"
    for label, value in (
        ("县市区", county),
        ("乡镇", township),
        ("基准日", as_of.isoformat()),
        ("校验码", workbook_code(secret, county, township, as_of)),
    ):
        sheet.append([text_cell(sheet, label), text_cell(sheet, value)])


def _write_township(
    target: Path,
    as_of: dt.date,
    county: str,
    township: str,
    people: pl.DataFrame,
    pairs: pl.DataFrame,
    secret: str,
) -> None:
    book = Workbook(write_only=True)
    notes = book.create_sheet("说明")
    notes.append([f"{county}{township} 未参保人员名单（比对基准日 {as_of.isoformat()}）"])
    for insurance, title in SHEETS.items():
        count = people.filter(pl.col("insurance") == insurance).height
        notes.append([f"{title}：{count} 人"])
    notes.append([f"{REVIEW_SHEET}：{pairs.height} 对可能的匹配"])
    notes.append(
        [
            f"核实方法：在「{REVIEW_SHEET}」表的「{DECISION_HEADER}」列选择 确认 或 否决，"
            f"在「{REVIEWER_HEADER}」列填写姓名，保存后交回县社保局。其他列请勿修改，"
            "修改过的行会被拒收。"
        ]
    )
    for insurance, title in SHEETS.items():
        _write_sheet(book, title, people.filter(pl.col("insurance") == insurance))
    _write_review_sheet(book, pairs)
    _write_check_sheet(book, secret, as_of, county, township)
    with written_atomically(target) as temporary:
        book.save(temporary)


def write_township_workbooks(
    con: duckdb.DuckDBPyConnection, reports_dir: Path, as_of: dt.date
) -> list[Path]:
    """Write reports/<as-of>/<county>/<township>.xlsx for every township with registry people."""
    unenrolled = con.sql(load_sql("rpt_township_unenrolled")).pl()
    secret = review_secret(con)
    run_statement(con, "macro_review_code")
    review = con.sql(load_sql("rpt_township_review"), params={"secret": secret}).pl()
    review_by_township = review.partition_by(["county", "township"], as_dict=True)
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
        pairs = review_by_township.get((county, township), review.clear())
        _write_township(target, as_of, county, township, people, pairs, secret)
        written.append(target)
    log.info("已生成 %d 个乡镇工作簿：%s", len(written), reports_dir / as_of.isoformat())
    return written
