"""Reviewers' decisions (核实) on possible matches, from the township workbooks they send back.

A township workbook (pipelines/reporting/township.py) lists each possible match on its 待核实
sheet with a check code; the hidden 核验 sheet names the township and as-of date under a code made
with the ledger's secret. A returned workbook is read here and refused whole, with the reason,
when it is not this ledger's, names another township than its file name, or has an edited pair.
Otherwise every row marked 确认 or 否决 with a reviewer's name becomes a decision; a row with a
result but no name, or with another word, is reported and skipped.

Decisions are recorded in the ledger (review_decisions, and a 核实 event each) by `import_review`
(`make review FILE=…`) or by the nightly run from the input's review/ folder. The next matching
applies the latest decision on each pair: 确认 writes the record off (review_confirmed), 否决
drops the pair for good. A decision whose pair is no longer proposed is reported, not applied.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
from openpyxl import load_workbook

from pipelines.sqlfiles import load_sql

REVIEW_SHEET = "待核实"
CHECK_SHEET = "核验"
DECISION_HEADER = "核实结果"
REVIEWER_HEADER = "核实人"
DECISIONS = ("确认", "否决")
# The 待核实 sheet's columns as the township reads them, and the column behind each.
REVIEW_COLUMNS = {
    "村(社区)": "village",
    "姓名": "name",
    "身份证号": "id_number",
    "出生日期": "birth_date",
    "险种": "insurance_label",
    "参保人编号": "roster_person_no",
    "参保人姓名": "roster_name",
    "参保人身份证号": "roster_id",
    "参保人出生日期": "roster_birth_date",
    "参保地": "roster_region",
    "参保险种": "scheme",
    "参保状态": "roster_status",
    "比对方法": "method",
    "分数": "score",
    "比对理由": "reason",
    DECISION_HEADER: "decision",
    REVIEWER_HEADER: "reviewer",
    "人员编号": "person_key",
    "校验码": "check_code",
}
_INSURANCES = {"养老保险": "pension", "医疗保险": "medical"}

# The decision that holds on a pair, as matching applies it (int_review_decisions).
APPLIED_DECISION_SCHEMA = {
    "person_key": pl.String,
    "insurance": pl.String,
    "roster_person_no": pl.String,
    "decision": pl.String,
    "reviewer": pl.String,
}
# A decision as read from a returned workbook, with where it came from.
DECISION_SCHEMA = {
    **APPLIED_DECISION_SCHEMA,
    "workbook_as_of": pl.Date,
    "county": pl.String,
    "township": pl.String,
    "source_file": pl.String,
    "source_row": pl.Int32,
}


class ReviewRefusedError(Exception):
    """A returned workbook that cannot be trusted; nothing of it was imported."""


@dataclass
class ReturnedReview:
    """What one returned workbook says: its decisions, and rows that could not be used."""

    path: Path
    decisions: pl.DataFrame
    problems: list[str] = field(default_factory=list)


def review_secret(con: duckdb.DuckDBPyConnection) -> str:
    """The attached ledger's secret (created with its schema)."""
    return con.execute("select value from ledger_settings where key = 'review_secret'").fetchall()[
        0
    ][0]


def workbook_code(secret: str, county: str, township: str, as_of: dt.date) -> str:
    text = "|".join((secret, county, township, as_of.isoformat()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _sheet_rows(path: Path, name: str) -> list[tuple]:
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        if name not in book.sheetnames:
            raise ReviewRefusedError(f"{path.name}：没有「{name}」表，不是本系统生成的乡镇工作簿。")
        return [tuple(row) for row in book[name].iter_rows(values_only=True)]
    finally:
        book.close()


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _check_workbook(path: Path, secret: str) -> tuple[str, str, dt.date]:
    """The workbook's county, township and as-of date, once its 核验 sheet proves them."""
    values = {_text(row[0]): _text(row[1]) for row in _sheet_rows(path, CHECK_SHEET) if row}
    county, township, as_of_text = values.get("县市区"), values.get("乡镇"), values.get("基准日")
    try:
        as_of = dt.date.fromisoformat(as_of_text or "")
    except ValueError:
        raise ReviewRefusedError(
            f"{path.name}：核验信息不完整，无法确认是哪个乡镇的工作簿。"
        ) from None
    if not county or not township:
        raise ReviewRefusedError(f"{path.name}：核验信息不完整，无法确认是哪个乡镇的工作簿。")
    if values.get("校验码") != workbook_code(secret, county, township, as_of):
        raise ReviewRefusedError(
            f"{path.name}：核验信息被修改，或工作簿不是由本台账生成的，未导入。"
        )
    if township not in path.stem:
        raise ReviewRefusedError(
            f"{path.name}：这是「{county}{township}」的工作簿，文件名却不含「{township}」；"
            "请各乡镇交回自己的工作簿（文件名保留乡镇名）。"
        )
    return county, township, as_of


def _review_rows(path: Path) -> pl.DataFrame:
    rows = _sheet_rows(path, REVIEW_SHEET)
    if not rows:
        raise ReviewRefusedError(f"{path.name}：「{REVIEW_SHEET}」表是空的。")
    headers = [_text(value) for value in rows[0]]
    missing = [header for header in REVIEW_COLUMNS if header not in headers]
    if missing:
        raise ReviewRefusedError(
            f"{path.name}：「{REVIEW_SHEET}」表缺少列 {'、'.join(missing)}，请勿删改表头。"
        )
    wanted = {header: headers.index(header) for header in REVIEW_COLUMNS}
    columns = {
        REVIEW_COLUMNS[header]: [
            _text(row[index]) if index < len(row) else None for row in rows[1:]
        ]
        for header, index in wanted.items()
    }
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))
    # Excel row numbers: the header is row 1.
    return frame.with_row_index("source_row", offset=2).filter(
        pl.any_horizontal(pl.all().exclude("source_row").is_not_null())
    )


def _with_codes(frame: pl.DataFrame, secret: str, county: str, township: str) -> pl.DataFrame:
    """The check code each row should carry, computed the way the workbook writer did."""
    with duckdb.connect() as con:
        con.execute(load_sql("reporting_macros")).fetchall()
        con.register("returned", frame)
        return con.sql(
            "select *, review_code($secret, $county, $township, person_key, insurance, "
            "roster_person_no) as expected_code from returned",
            params={"secret": secret, "county": county, "township": township},
        ).pl()


def read_returned_workbook(path: Path, secret: str) -> ReturnedReview:
    """The decisions in one returned workbook; raises ReviewRefusedError if it can't be trusted."""
    county, township, as_of = _check_workbook(path, secret)
    rows = _review_rows(path).with_columns(
        insurance=pl.col("insurance_label").replace_strict(_INSURANCES, default=None)
    )
    checked = _with_codes(rows, secret, county, township)
    edited = checked.filter(pl.col("check_code").ne_missing(pl.col("expected_code")))
    if edited.height:
        where = "、".join(str(n) for n in edited.get_column("source_row").head(10).to_list())
        raise ReviewRefusedError(
            f"{path.name}：第 {where} 行的比对信息被修改，或复制自其他乡镇的工作簿，"
            "整个工作簿未导入。请在原表上只填写核实结果和核实人。"
        )
    problems = [
        f"{path.name} 第 {row['source_row']} 行：核实结果应为 确认 或 否决，"
        f"收到「{row['decision']}」"
        for row in checked.filter(
            pl.col("decision").is_not_null() & ~pl.col("decision").is_in(DECISIONS)
        ).iter_rows(named=True)
    ] + [
        f"{path.name} 第 {row['source_row']} 行：已选择「{row['decision']}」，但未填写核实人"
        for row in checked.filter(
            pl.col("decision").is_in(DECISIONS) & pl.col("reviewer").is_null()
        ).iter_rows(named=True)
    ]
    decisions = checked.filter(
        pl.col("decision").is_in(DECISIONS) & pl.col("reviewer").is_not_null()
    ).select(
        "person_key",
        "insurance",
        "roster_person_no",
        "decision",
        "reviewer",
        workbook_as_of=pl.lit(as_of),
        county=pl.lit(county),
        township=pl.lit(township),
        source_file=pl.lit(path.name),
        source_row=pl.col("source_row").cast(pl.Int32),
    )
    return ReturnedReview(path, decisions.cast(DECISION_SCHEMA), problems)


def record_decisions(
    con: duckdb.DuckDBPyConnection, decisions: pl.DataFrame, run_id: int | None, as_of: dt.date
) -> int:
    """Append new decisions and their 核实 events to the attached ledger (inside the caller's
    transaction); a decision already recorded for the pair is not recorded twice."""
    con.register("_returned_decisions", decisions)
    try:
        before = con.execute("select count(*) from review_decisions").fetchall()[0][0]
        con.execute(
            load_sql("ledger_insert_review_events"), {"run_id": run_id, "as_of": as_of}
        ).fetchall()
        con.execute(load_sql("ledger_insert_review_decisions")).fetchall()
        return con.execute("select count(*) from review_decisions").fetchall()[0][0] - before
    finally:
        con.unregister("_returned_decisions")


def latest_decisions(con: duckdb.DuckDBPyConnection, returned: pl.DataFrame) -> pl.DataFrame:
    """The decision that holds on each pair: the ledger's latest, unless returned anew."""
    known = con.sql(load_sql("ledger_latest_review_decisions")).pl()
    fresh = returned.select(list(APPLIED_DECISION_SCHEMA))
    return pl.concat([known, fresh], how="vertical_relaxed").unique(
        ["person_key", "insurance", "roster_person_no"], keep="last", maintain_order=True
    )


def read_review_folder(folder: Path, secret: str) -> tuple[pl.DataFrame, list[str]]:
    """Every returned workbook in `folder`: their decisions together, and what was refused or
    skipped (one bad workbook never stops the others)."""
    frames, problems = [pl.DataFrame(schema=DECISION_SCHEMA)], []
    for path in sorted(folder.glob("*.xlsx")) if folder.is_dir() else []:
        if path.name.startswith(("~$", ".")):
            continue
        try:
            returned = read_returned_workbook(path, secret)
        except ReviewRefusedError as refused:
            problems.append(str(refused))
            continue
        frames.append(returned.decisions)
        problems.extend(returned.problems)
    return pl.concat(frames), problems


def import_review(path: Path, ledger_path: Path) -> tuple[int, list[str]]:
    """Record one returned workbook's decisions in the ledger now (`make review FILE=…`); the
    next nightly run applies them. Returns how many were new, and what was skipped."""
    # Imported here: the ledger module records decisions through this one.
    from pipelines.ledger import attach_ledger
    from pipelines.lock import ledger_lock

    today = dt.date.today()
    with ledger_lock(ledger_path, today), duckdb.connect() as con:
        attach_ledger(con, ledger_path)
        returned = read_returned_workbook(path, review_secret(con))
        con.execute("begin transaction").fetchall()
        try:
            added = record_decisions(con, returned.decisions, None, today)
            con.execute("commit").fetchall()
        except BaseException:
            con.execute("rollback").fetchall()
            raise
    return added, returned.problems
