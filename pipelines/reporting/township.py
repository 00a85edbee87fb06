"""One workbook per township, holding only that township's people.

Sheets: 说明; 未参保-养老 and 未参保-医保 (by village and household, with how long each has been on
the ledger); 本期销号 (crossed off by this run, with the record and method); 待核实 (possible
matches side by side, with a 确认/否决 drop-down and a reviewer column, read back by
`pipelines/review.py`); 不纳入 (exempt, with the reason). A hidden sheet 核验 names the township
and as-of date under a code only this ledger can make, and every review row carries its own code.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import duckdb
import polars as pl
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from pipelines.labels import INSURANCE_LABELS, METHOD_LABELS, STATUS_LABELS
from pipelines.log import get_logger
from pipelines.pool import Job
from pipelines.reporting.cells import safe_file_name, text_cell, written_atomically
from pipelines.reporting.sheets import Column, write_table
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

UNENROLLED_SHEETS = {"pension": "未参保-养老", "medical": "未参保-医保"}
WRITTEN_OFF_SHEET = "本期销号"
EXEMPT_SHEET = "不纳入"

UNENROLLED_COLUMNS = [
    Column("村(社区)", "village", 14),
    Column("户编号", "household_key", 14),
    Column("姓名", "name", 10),
    Column("身份证号", "id_number", 21),
    Column("性别", "sex", 6),
    Column("出生日期", "birth_date", 12, "date"),
    Column("年龄", "age", 6, "number"),
    Column("人员类别", "categories_text", 22),
    Column("首次登记日期", "first_recorded_on", 13, "date"),
    Column("在台账天数", "days_on_ledger", 11, "number"),
    Column("标记", "flags_text", 24),
    Column("人员编号", "person_key", 20),
]
WRITTEN_OFF_COLUMNS = [
    Column("村(社区)", "village", 14),
    Column("户编号", "household_key", 14),
    Column("姓名", "name", 10),
    Column("身份证号", "id_number", 21),
    Column("险种", "insurance_label", 10),
    Column("原状态", "status_before_label", 8),
    Column("首次登记日期", "first_recorded_on", 13, "date"),
    Column("销号日期", "crossed_off_on", 12, "date"),
    Column("参保人编号", "roster_person_no", 16),
    Column("比对方法", "method_label", 18),
    Column("分数", "match_score", 7, "number"),
    Column("比对理由", "match_reason", 48),
    Column("人员编号", "person_key", 20),
]
EXEMPT_COLUMNS = [
    Column("村(社区)", "village", 14),
    Column("户编号", "household_key", 14),
    Column("姓名", "name", 10),
    Column("身份证号", "id_number", 21),
    Column("年龄", "age", 6, "number"),
    Column("险种", "insurance_label", 10),
    Column("不纳入原因", "exempt_reason", 12),
    Column("依据", "exempt_evidence", 24),
    Column("人员编号", "person_key", 20),
]
_REVIEW_LAYOUT = {
    "村(社区)": (14, "text"),
    "姓名": (10, "text"),
    "身份证号": (21, "text"),
    "出生日期": (12, "date"),
    "险种": (10, "text"),
    "参保人编号": (16, "text"),
    "参保人姓名": (10, "text"),
    "参保人身份证号": (21, "text"),
    "参保人出生日期": (12, "date"),
    "参保地": (12, "text"),
    "参保险种": (20, "text"),
    "参保状态": (10, "text"),
    "比对方法": (18, "text"),
    "分数": (7, "number"),
    "比对理由": (48, "text"),
    DECISION_HEADER: (10, "text"),
    REVIEWER_HEADER: (10, "text"),
    "人员编号": (20, "text"),
    "校验码": (18, "text"),
}
REVIEW_SHEET_COLUMNS = [
    Column(header, source, *_REVIEW_LAYOUT[header]) for header, source in REVIEW_COLUMNS.items()
]


def _labelled(frame: pl.DataFrame) -> pl.DataFrame:
    """Codes as the township reads them."""
    labels = {
        "insurance": ("insurance_label", INSURANCE_LABELS),
        "status_before": ("status_before_label", STATUS_LABELS),
        "match_method": ("method_label", METHOD_LABELS),
        "method": ("method_label", METHOD_LABELS),
    }
    return frame.with_columns(
        pl.col(code).replace_strict(mapping, default=pl.col(code)).alias(label)
        for code, (label, mapping) in labels.items()
        if code in frame.columns
    )


def _sheet_frames(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Each list sheet's rows for all townships, labelled, with the columns its sheet shows (and
    the township, to split by). Done once here rather than once per workbook: at 1/100 of the
    province most of 1,559 workbooks hold a few rows, and polars' per-call cost on them was
    about a seventh of each workbook's time."""
    place = ["county", "township"]

    def shown(frame: pl.DataFrame, columns: list[Column]) -> pl.DataFrame:
        return frame.select(*place, *(column.source for column in columns))

    unenrolled = frames["unenrolled"]
    review = _labelled(frames["review"]).with_columns(
        decision=pl.lit(None, pl.String), reviewer=pl.lit(None, pl.String)
    )
    return {
        **{
            title: shown(unenrolled.filter(pl.col("insurance") == insurance), UNENROLLED_COLUMNS)
            for insurance, title in UNENROLLED_SHEETS.items()
        },
        WRITTEN_OFF_SHEET: shown(_labelled(frames["written_off"]), WRITTEN_OFF_COLUMNS),
        REVIEW_SHEET: shown(review, REVIEW_SHEET_COLUMNS),
        EXEMPT_SHEET: shown(_labelled(frames["exempt"]), EXEMPT_COLUMNS),
    }


def _write_review_sheet(book: Workbook, pairs: pl.DataFrame, as_of: dt.date) -> None:
    sheet = write_table(book, REVIEW_SHEET, REVIEW_SHEET_COLUMNS, pairs, as_of)
    if pairs.height:
        letter = get_column_letter(list(REVIEW_COLUMNS).index(DECISION_HEADER) + 1)
        choices = DataValidation(
            type="list",
            formula1='"' + ",".join(DECISIONS) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="核实结果",
            error="请选择 确认 或 否决",
        )
        choices.add(f"{letter}2:{letter}{pairs.height + 1}")
        sheet.data_validations.append(choices)


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


def _write_notes(
    book: Workbook, as_of: dt.date, county: str, township: str, counts: dict[str, int], masked: bool
) -> None:
    notes = book.create_sheet("说明")
    notes.column_dimensions["A"].width = 100
    lines = [
        f"{county}{township} 社保扶贫参保比对（比对基准日 {as_of.isoformat()}）",
        "",
        *(
            f"{title}：{counts[title]} {'对' if title == REVIEW_SHEET else '人'}"
            for title in counts
        ),
        "",
        "各表说明：",
        "未参保-养老：年满16周岁、应参加养老保险但尚未参保的在册人员，按村、户排列；"
        "「在台账天数」是首次登记为未参保至今的天数。",
        "未参保-医保：应参加医疗保险但尚未参保的在册人员。",
        "本期销号：自上次比对以来已参保、被销号的人员，列明匹配到的参保记录和比对方法。",
        f"{REVIEW_SHEET}：找到了可能的参保记录，但需要人工确认是不是本人。",
        "不纳入：不需要参保的人员（在校学生、死亡、服刑、现役军人、出国定居），列明原因和依据。",
        "",
        "如何交回核实结果：",
        f"1. 在「{REVIEW_SHEET}」表逐行核对两边的姓名、身份证号、出生日期；",
        f"2. 在「{DECISION_HEADER}」列下拉选择 确认（是本人）或 否决（不是本人），"
        f"在「{REVIEWER_HEADER}」列填写核实人姓名；",
        "3. 其他列请勿修改，也不要改文件名中的乡镇名；保存后交回县社保局。"
        "改动过的行或其他乡镇的工作簿会被整份拒收。",
        "",
        "身份证号已部分隐去。"
        if masked
        else "本工作簿含完整身份证号，仅供本乡镇经办人员办理参保使用，请勿外传。",
    ]
    for line in lines:
        notes.append([text_cell(notes, line)])


def _write_township(
    target: Path,
    as_of: dt.date,
    county: str,
    township: str,
    sheets: dict[str, pl.DataFrame],
    secret: str,
    masked: bool,
) -> Path:
    """`sheets`: the township's rows for each list sheet, labelled (`_sheet_frames`)."""
    counts = {title: frame.height for title, frame in sheets.items()}
    book = Workbook(write_only=True)
    _write_notes(book, as_of, county, township, counts, masked)
    for title in UNENROLLED_SHEETS.values():
        write_table(book, title, UNENROLLED_COLUMNS, sheets[title], as_of)
    write_table(book, WRITTEN_OFF_SHEET, WRITTEN_OFF_COLUMNS, sheets[WRITTEN_OFF_SHEET], as_of)
    _write_review_sheet(book, sheets[REVIEW_SHEET], as_of)
    write_table(book, EXEMPT_SHEET, EXEMPT_COLUMNS, sheets[EXEMPT_SHEET], as_of)
    _write_check_sheet(book, secret, as_of, county, township)
    with written_atomically(target) as temporary:
        book.save(temporary)
    return target


def township_jobs(
    con: duckdb.DuckDBPyConnection,
    reports_dir: Path,
    as_of: dt.date,
    run_id: int,
    *,
    mask_ids: bool = False,
) -> list[Job]:
    """One job per township with registry people, each writing
    reports/<as-of>/<county>/<township>.xlsx (run by reporting.workbooks)."""
    started = time.perf_counter()
    secret = review_secret(con)
    run_statement(con, "reporting_macros")
    masked = {"mask_ids": mask_ids}
    queries = {
        "unenrolled": ("rpt_township_unenrolled", {"as_of": as_of, **masked}),
        "written_off": ("rpt_township_written_off", {"run_id": run_id, **masked}),
        "review": ("rpt_township_review", {"secret": secret, **masked}),
        "exempt": ("rpt_township_exempt", masked),
    }
    frames = {
        part: con.sql(load_sql(name), params=params).pl()
        for part, (name, params) in queries.items()
    }
    log.info(
        "乡镇工作簿数据：未参保 %d 行，本期销号 %d 行，待核实 %d 对，不纳入 %d 行（查询 %.1f 秒）",
        *(frames[part].height for part in ("unenrolled", "written_off", "review", "exempt")),
        time.perf_counter() - started,
    )
    sheet_frames = _sheet_frames(frames)
    by_township = {
        title: frame.partition_by(["county", "township"], as_dict=True)
        for title, frame in sheet_frames.items()
    }
    # Townships with nobody to list still get a workbook that says so.
    townships = con.execute(
        "select distinct county, township from person_coverage order by county, township"
    ).fetchall()
    jobs: list[Job] = []
    for county, township in townships:
        target = (
            reports_dir
            / as_of.isoformat()
            / safe_file_name(county)
            / f"{safe_file_name(township)}.xlsx"
        )
        sheets = {
            title: by_township[title].get((county, township), frame.clear())
            for title, frame in sheet_frames.items()
        }
        rows = sum(frame.height for frame in sheets.values())
        args = (target, as_of, county, township, sheets, secret, mask_ids)
        jobs.append(Job(_write_township, args, rows))
    return jobs
