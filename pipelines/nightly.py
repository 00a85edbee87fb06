"""The nightly reconciliation as plain functions: stage → people → match → coverage → ledger →
reports. The command line calls `run_nightly`; the Prefect flow (issue 6) is to wrap these same
steps as tasks rather than re-implement them."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipelines.backups import back_up
from pipelines.config import Config
from pipelines.coverage import compute_coverage
from pipelines.faults import fault_point
from pipelines.labels import INSURANCE_LABELS
from pipelines.ledger import LEDGER_ALIAS, RunInfo, attach_ledger, commit_run, latest_as_of
from pipelines.lock import LedgerLockedError, ledger_lock
from pipelines.log import get_logger
from pipelines.match import MatchTimings, match_rosters
from pipelines.paths import INTERIM_DIR
from pipelines.people import build_registry_people
from pipelines.reporting.summaries import write_summaries
from pipelines.reporting.township import write_township_workbooks
from pipelines.review import latest_decisions, read_review_folder, review_secret
from pipelines.sqlfiles import load_sql
from pipelines.stage import (
    FileReport,
    StagedInputs,
    export_quarantine,
    reset_work_dir,
    stage_inputs,
)
from pipelines.warehouse import open_work_db

log = get_logger(__name__)

# Returned township workbooks with reviewers' decisions, in the input folder.
REVIEW_FOLDER = "review"


class RunRefusedError(Exception):
    """The run did not commit; the message says why in words an officer can act on."""

    def __init__(self, message: str, files: list[FileReport] | None = None) -> None:
        super().__init__(message)
        self.files = files or []


@dataclass(frozen=True)
class RunRequest:
    input_dir: Path
    as_of: dt.date
    ledger_path: Path
    reports_dir: Path
    allow_partial: bool = False
    rebuild: bool = False
    mask_ids: bool = False


@dataclass
class RunResult:
    run_id: int | None
    files: list[FileReport]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    quarantine_by_reason: list[tuple[str, int]] = field(default_factory=list)
    id_conflicts: int = 0
    people: int = 0
    workbooks: list[Path] = field(default_factory=list)
    review_problems: list[str] = field(default_factory=list)
    summaries: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def _check_inputs(request: RunRequest) -> None:
    if not request.input_dir.is_dir():
        raise RunRefusedError(f"输入文件夹不存在：{request.input_dir}")
    if not (request.input_dir / "registry").is_dir():
        raise RunRefusedError(
            f"输入文件夹 {request.input_dir} 中没有 registry 子文件夹（放贫困人口名单）。"
        )


def _refuse_if_incomplete(staged: StagedInputs, allow_partial: bool) -> None:
    """An unread roster would make its people look unenrolled; an unread registry file would
    drop people from the ledger. So the ledger is left untouched unless the officer insists."""
    if staged.unreadable and not allow_partial:
        names = "、".join(f"{f.source}/{f.path.name}" for f in staged.unreadable)
        raise RunRefusedError(
            f"有 {len(staged.unreadable)} 个文件无法读取（{names}），本次比对未写入台账。"
            "请修正或移走这些文件后重新运行；确需忽略它们时可加 --allow-partial。",
            staged.files,
        )


def _unapplied_reviews(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        f"人员编号 {person_key} 的{INSURANCE_LABELS[insurance]}与参保人编号 {roster_no} 的匹配"
        f"已由 {reviewer} 确认，但本次比对已不再出现这一对（记录可能已终止或被删除），未采用"
        for person_key, insurance, roster_no, _, reviewer in con.sql(
            load_sql("rpt_review_unapplied")
        ).fetchall()
    ]


def _summarise(con: duckdb.DuckDBPyConnection, result: RunResult) -> None:
    rows = con.execute(
        "select insurance, status, count(*) from rpt_person_coverage group by all"
    ).fetchall()
    for insurance, status, count in rows:
        result.counts.setdefault(insurance, {})[status] = count
    result.people = con.execute("select count(*) from int_registry_people").fetchall()[0][0]
    result.quarantine_by_reason = con.execute(
        "select reason, count(*) from quarantine where run_id = $run_id "
        "group by reason order by count(*) desc, reason",
        {"run_id": result.run_id},
    ).fetchall()


@dataclass
class Reconciliation:
    """What deriving coverage produced besides its tables, and how long each step took."""

    id_conflicts: int
    match_timings: MatchTimings
    seconds: dict[str, float]


def reconcile(
    con: duckdb.DuckDBPyConnection,
    staged: StagedInputs,
    config: Config,
    as_of: dt.date,
    review_decisions: pl.DataFrame | None = None,
) -> Reconciliation:
    """Staged inputs → registry people → matches → rpt_person_coverage, in the work database."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    log.info("合并在册人员")
    conflicts = build_registry_people(con, staged, config, as_of)
    seconds["people"] = time.perf_counter() - started
    started = time.perf_counter()
    log.info("比对参保名册")
    timings = match_rosters(con, staged, config, review_decisions)
    seconds["match"] = time.perf_counter() - started
    started = time.perf_counter()
    compute_coverage(con, config)
    seconds["coverage"] = time.perf_counter() - started
    return Reconciliation(conflicts.height, timings, seconds)


def _refuse_if_earlier(request: RunRequest) -> None:
    """The ledger records forward in time: an earlier as-of date needs an explicit rebuild."""
    if request.rebuild or not request.ledger_path.exists():
        return
    with duckdb.connect(str(request.ledger_path), read_only=True) as ledger:
        has_runs = ledger.execute(
            "select count(*) from duckdb_tables() where table_name = 'runs'"
        ).fetchall()[0][0]
        latest = latest_as_of(ledger) if has_runs else None
    if latest is not None and request.as_of < latest:
        raise RunRefusedError(
            f"基准日 {request.as_of.isoformat()} 早于台账最近一次运行的基准日 "
            f"{latest.isoformat()}，台账只能按日期向前记录，本次未运行。确需按较早日期重算，"
            "请加 --rebuild（只追加记录，不删除、不改写已有记录）。"
        )


def run_nightly(request: RunRequest, config: Config, work_root: Path | None = None) -> RunResult:
    """Run the whole reconciliation once; commit to the ledger or raise RunRefusedError."""
    _check_inputs(request)
    try:
        with ledger_lock(request.ledger_path, request.as_of):
            _refuse_if_earlier(request)
            return _run_locked(request, config, work_root)
    except LedgerLockedError as locked:
        raise RunRefusedError(str(locked)) from None


def _run_locked(request: RunRequest, config: Config, work_root: Path | None) -> RunResult:
    started_at = dt.datetime.now()
    work_root = work_root or INTERIM_DIR
    work_root.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix=f"run-{request.as_of.isoformat()}-", dir=work_root))
    try:
        reset_work_dir(work_dir)
        log.info("读取输入：%s", request.input_dir)
        staged = stage_inputs(request.input_dir, config, request.as_of, work_dir)
        export_quarantine(staged, request.reports_dir / request.as_of.isoformat())
        _refuse_if_incomplete(staged, request.allow_partial)
        fault_point("after_staging")
        con = open_work_db(config, work_dir)
        try:
            attach_ledger(con, request.ledger_path)
            returned, review_problems = read_review_folder(
                request.input_dir / REVIEW_FOLDER, review_secret(con)
            )
            decisions = latest_decisions(con, returned)
            reconciliation = reconcile(con, staged, config, request.as_of, decisions)
            fault_point("after_matching")
            backup = back_up(
                con, LEDGER_ALIAS, request.ledger_path, request.as_of, config.run.backups_keep
            )
            if backup:
                log.info("写入前的台账已备份到 %s", backup)
            run_info = RunInfo(request.as_of, started_at, config.fingerprint(), request.input_dir)
            run_id = commit_run(con, run_info, staged, returned, rebuild=request.rebuild)
            log.info("已写入台账 %s（第 %d 次运行）", request.ledger_path, run_id)
            result = RunResult(run_id, staged.files, id_conflicts=reconciliation.id_conflicts)
            result.review_problems = review_problems + _unapplied_reviews(con)
            _summarise(con, result)
            mask_ids = request.mask_ids or config.reports.mask_ids
            started = time.perf_counter()
            result.workbooks = write_township_workbooks(
                con, request.reports_dir, request.as_of, run_id, mask_ids=mask_ids
            )
            result.seconds["township_workbooks"] = time.perf_counter() - started
            started = time.perf_counter()
            result.summaries = write_summaries(
                con, request.reports_dir, request.as_of, run_id, config, mask_ids=mask_ids
            )
            result.seconds["summaries"] = time.perf_counter() - started
        finally:
            con.close()
        return result
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
