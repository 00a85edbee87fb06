"""Ledger backups: before each commit, the ledger as it was is exported to Parquet beside it.

`<ledger>.backups/<timestamp>-before-<as-of>/` holds DuckDB's EXPORT DATABASE output (schema.sql,
load.sql and one Parquet file per table); the newest `run.backups_keep` are kept. `restore`
builds a fresh ledger file from one of them with IMPORT DATABASE.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb

from pipelines.log import get_logger

log = get_logger(__name__)


class RestoreError(Exception):
    """A backup could not be restored; the message says why."""


def backups_dir(ledger_path: Path) -> Path:
    return ledger_path.with_name(ledger_path.name + ".backups")


def back_up(
    con: duckdb.DuckDBPyConnection, alias: str, ledger_path: Path, as_of: dt.date, keep: int
) -> Path | None:
    """Export the attached ledger `alias` (as it is before this run commits); prune old ones."""
    if keep == 0:
        return None
    folder = backups_dir(ledger_path)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
    target = folder / f"{stamp}-before-{as_of.isoformat()}"
    # Exported under a hidden name and renamed when complete: a run killed mid-export leaves
    # no half backup that looks whole (and the next backup clears it away).
    partial = folder / f".{target.name}.partial"
    con.execute(f"export database {alias} to '{_quoted(partial)}' (format parquet)").fetchall()
    partial.rename(target)
    for leftover in folder.glob(".*.partial"):
        shutil.rmtree(leftover, ignore_errors=True)
    complete = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in complete[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def restore(backup: Path, ledger_path: Path) -> None:
    """Build `ledger_path` from a backup folder; refuses to overwrite an existing file."""
    if not (backup / "schema.sql").is_file():
        raise RestoreError(f"{backup} 不是台账备份文件夹（缺少 schema.sql）")
    if ledger_path.exists():
        raise RestoreError(
            f"{ledger_path} 已存在。为免覆盖，请先把它改名或移走，再恢复到这个路径。"
        )
    ledger_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(ledger_path))
    try:
        con.execute(f"import database '{_quoted(backup)}'").fetchall()
    except duckdb.Error:
        con.close()
        ledger_path.unlink(missing_ok=True)
        raise
    con.close()
    log.info("已从 %s 恢复台账到 %s", backup, ledger_path)


def _quoted(path: Path) -> str:
    # EXPORT/IMPORT DATABASE take a literal, not a parameter.
    return str(path).replace("'", "''")
