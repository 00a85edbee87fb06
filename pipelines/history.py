"""Reading the ledger back: one person's trail (`history`) and the whole ledger as files (`export`).

Both open the ledger read-only, so they can run while nobody writes; a nightly run in progress
holds DuckDB's write lock and they wait for it to finish rather than read half a run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
from openpyxl import Workbook

from pipelines.labels import INSURANCE_LABELS, STATUS_LABELS
from pipelines.log import mask_ids_in_text
from pipelines.reporting.cells import text_cell, written_atomically
from pipelines.sqlfiles import load_sql

# Sheets stop short of Excel's 1,048,576 rows; bigger tables continue on further sheets.
_ROWS_PER_SHEET = 1_000_000


class LedgerMissingError(Exception):
    """The ledger file does not exist."""


def _open(ledger_path: Path) -> duckdb.DuckDBPyConnection:
    if not ledger_path.exists():
        raise LedgerMissingError(f"台账文件不存在：{ledger_path}")
    return duckdb.connect(str(ledger_path), read_only=True)


def person_history(
    ledger_path: Path, id_number: str | None, person_key: str | None
) -> pl.DataFrame:
    """Every event of the person with this ID number (or person key), oldest first."""
    normalised = id_number.strip().upper() if id_number else None
    with _open(ledger_path) as con:
        return con.sql(
            load_sql("ledger_person_history"),
            params={"id_number": normalised, "person_key": person_key},
        ).pl()


def format_history(trail: pl.DataFrame) -> str:
    """The trail as lines an officer reads, with the ID masked."""
    if trail.is_empty():
        return "台账中没有此人的记录。"
    first = trail.row(0, named=True)
    lines = [
        mask_ids_in_text(
            f"{first['name']}  身份证号 {first['id_number'] or '（无）'}  人员编号 "
            f"{first['person_key']}  {first['county']}{first['township']}{first['village']}"
        )
    ]
    for event in trail.iter_rows(named=True):
        before = STATUS_LABELS.get(event["status_before"], "（无）")
        after = STATUS_LABELS.get(event["status_after"], "（已移出）")
        evidence = "；".join(
            part
            for part in (
                event["match_reason"],
                event["roster_person_no"] and f"参保人编号 {event['roster_person_no']}",
                event["exempt_reason"] and f"不纳入原因：{event['exempt_reason']}",
            )
            if part
        )
        lines.append(
            f"  {event['as_of']}  {INSURANCE_LABELS.get(event['insurance'], event['insurance'])}"
            f"  {event['event_type']}  {before} → {after}"
            + (f"  依据：{evidence}" if evidence else "")
        )
    return mask_ids_in_text("\n".join(lines))


_EXPORTS = {
    "在册人员参保状态": "select * from person_coverage order by township, person_key, insurance",
    "销号记录": "select * from events order by event_id",
    "运行记录": "select * from runs order by run_id",
    "输入文件": "select * from run_files order by run_id, path",
}


def export_ledger(ledger_path: Path, out_dir: Path) -> Path:
    """Write the ledger's tables to `out_dir/<timestamp>/` as Parquet and one xlsx workbook."""
    target = out_dir / dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    target.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    with _open(ledger_path) as con:
        for title, sql in _EXPORTS.items():
            frame = con.sql(sql).pl()
            frame.write_parquet(target / f"{title}.parquet")
            _add_sheets(workbook, title, frame)
    with written_atomically(target / "台账导出.xlsx") as temporary:
        workbook.save(temporary)
    return target


def _add_sheets(workbook: Workbook, title: str, frame: pl.DataFrame) -> None:
    for start in range(0, max(frame.height, 1), _ROWS_PER_SHEET):
        part = frame.slice(start, _ROWS_PER_SHEET)
        sheet = workbook.create_sheet(
            title if start == 0 else f"{title}{start // _ROWS_PER_SHEET + 1}"
        )
        sheet.append([text_cell(sheet, column) for column in frame.columns])
        for row in part.iter_rows():
            sheet.append([text_cell(sheet, _cell_value(value)) for value in row])


def _cell_value(value: object) -> object:
    # Lists (categories, flags, source rows) read as one text cell.
    if isinstance(value, list):
        return "、".join(str(item) for item in value)
    return value
