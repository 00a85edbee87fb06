"""The nightly reconciliation as plain functions: stage → people → match → coverage → ledger →
reports. `run_nightly` runs the steps in order under the ledger lock; the Prefect flow
(`pipelines/flows.py`, which the command line calls) runs the same steps as tasks through it."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
from pipelines.match import MatchTimings, Scorer, drop_cascade_tables, match_rosters
from pipelines.match.scoring import score_pairs
from pipelines.paths import from_project
from pipelines.people import build_registry_people
from pipelines.reporting.workbooks import Workbooks, write_workbooks
from pipelines.review import latest_decisions, read_review_folder, review_secret
from pipelines.sqlfiles import load_sql
from pipelines.stage import (
    FileReport,
    StagedInputs,
    export_quarantine,
    reset_work_dir,
    stage_inputs,
)
from pipelines.warehouse import open_work_db, query

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
    # county → people, and county → insurance → status → people (for the Prefect artifacts)
    county_people: dict[str, int] = field(default_factory=dict)
    county_counts: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    quarantine_by_reason: list[tuple[str, int]] = field(default_factory=list)
    id_conflicts: int = 0
    people: int = 0
    workbooks: list[Path] = field(default_factory=list)
    review_problems: list[str] = field(default_factory=list)
    summaries: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    # The reconcile step's parts (Reconciliation.step_seconds), for the benchmark.
    reconcile_seconds: dict[str, float] = field(default_factory=dict)


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
    for county, insurance, status, count in con.execute(
        "select county, insurance, status, count(*) from rpt_person_coverage group by all"
    ).fetchall():
        result.county_counts.setdefault(county, {}).setdefault(insurance, {})[status] = count
    result.county_people = dict(
        con.execute(
            "select county, count(distinct person_key) from rpt_person_coverage group by county"
        ).fetchall()
    )
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

    def step_seconds(self) -> dict[str, float]:
        """People, each part of matching (prepare, then the stages by SQL file), coverage."""
        return {
            "people": self.seconds["people"],
            **self.match_timings.seconds,
            "coverage": self.seconds["coverage"],
        }


def reconcile(
    con: duckdb.DuckDBPyConnection,
    staged: StagedInputs,
    config: Config,
    as_of: dt.date,
    review_decisions: pl.DataFrame | None = None,
    score: Scorer = score_pairs,
    *,
    keep_cascade_tables: bool = False,
) -> Reconciliation:
    """Staged inputs → registry people → matches → rpt_person_coverage, in the work database.

    `score` scores each matching stage's pairs: here, or spread over workers (flows.py, Dask).
    The cascade's intermediates are dropped once it has decided, unless a benchmark that
    inspects them asks to keep them."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    log.info("合并在册人员")
    conflicts = build_registry_people(con, staged, config, as_of)
    seconds["people"] = time.perf_counter() - started
    started = time.perf_counter()
    log.info("比对参保名册")
    timings = match_rosters(con, staged, config, review_decisions, score)
    if not keep_cascade_tables:
        drop_cascade_tables(con)
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


# --- the steps of a run ---------------------------------------------------------------------
# Each step is a plain function. `run_nightly` calls them in order through a `Steps` table: the
# plain path passes the functions themselves, the Prefect flow (pipelines/flows.py) passes the
# same functions wrapped as tasks, so the order, the lock and the clean-up exist only here.


def reports_day_dir(request: RunRequest) -> Path:
    return request.reports_dir / request.as_of.isoformat()


def stage_step(request: RunRequest, config: Config, work_dir: Path) -> StagedInputs:
    """Read, validate and normalise every input file into Parquet in the work folder.

    The work folder is emptied first, so a repeated attempt starts from nothing."""
    reset_work_dir(work_dir)
    log.info("读取输入：%s", request.input_dir)
    return stage_inputs(request.input_dir, config, request.as_of, work_dir)


def quarantine_step(staged: StagedInputs, request: RunRequest) -> Path:
    """Write the quarantine for the officer, then refuse the run if a file could not be read:
    the officer needs the list of bad rows most when the run is refused."""
    exported = export_quarantine(staged, reports_day_dir(request))
    _refuse_if_incomplete(staged, request.allow_partial)
    return exported


def open_run_db(request: RunRequest, config: Config, work_dir: Path) -> duckdb.DuckDBPyConnection:
    """The run's work database, with the ledger attached (read before commit, written by it)."""
    con = open_work_db(config, work_dir)
    try:
        attach_ledger(con, request.ledger_path)
    except BaseException:
        con.close()
        raise
    return con


@dataclass
class Reviews:
    """Reviewers' decisions: those returned with this run's inputs, and the ones that hold."""

    returned: pl.DataFrame
    problems: list[str]
    decisions: pl.DataFrame


def review_step(con: duckdb.DuckDBPyConnection, request: RunRequest) -> Reviews:
    """Read the returned township workbooks in the input's review/ folder."""
    returned, problems = read_review_folder(request.input_dir / REVIEW_FOLDER, review_secret(con))
    return Reviews(returned, problems, latest_decisions(con, returned))


def _refuse_if_counties_vanished(
    con: duckdb.DuckDBPyConnection, staged: StagedInputs, allow_partial: bool
) -> None:
    """A county whose people all left the registry at once is a county whose file is missing."""
    vanished = query(con, "ledger_vanished_counties")
    if vanished.is_empty() or allow_partial:
        return
    names = "、".join(f"{county}（{people} 人）" for county, people in vanished.iter_rows())
    raise RunRefusedError(
        f"台账中有 {vanished.height} 个县的在册人员在本次输入中一个也没有：{names}。"
        "多半是漏放了这些县的贫困人口名单，本次比对未写入台账；放齐文件后重新运行即可。"
        "确属整县移出时可加 --allow-partial，这些人将记为移出。",
        staged.files,
    )


def commit_step(
    con: duckdb.DuckDBPyConnection,
    request: RunRequest,
    config: Config,
    staged: StagedInputs,
    reviews: Reviews,
    started_at: dt.datetime,
) -> int:
    """Back the ledger up, then commit the run in one transaction; return its run id."""
    _refuse_if_counties_vanished(con, staged, request.allow_partial)
    backup = back_up(con, LEDGER_ALIAS, request.ledger_path, request.as_of, config.run.backups_keep)
    if backup:
        log.info("写入前的台账已备份到 %s", backup)
    run_info = RunInfo(request.as_of, started_at, config.fingerprint(), request.input_dir)
    run_id = commit_run(con, run_info, staged, reviews.returned, rebuild=request.rebuild)
    log.info("已写入台账 %s（第 %d 次运行）", request.ledger_path, run_id)
    return run_id


def summarise_step(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    staged: StagedInputs,
    reconciliation: Reconciliation,
    reviews: Reviews,
) -> RunResult:
    """The committed run's counts for the officer's summary."""
    result = RunResult(run_id, staged.files, id_conflicts=reconciliation.id_conflicts)
    result.reconcile_seconds = reconciliation.step_seconds()
    result.review_problems = reviews.problems + _unapplied_reviews(con)
    _summarise(con, result)
    return result


def _mask_ids(request: RunRequest, config: Config) -> bool:
    return request.mask_ids or config.reports.mask_ids


def reports_step(
    con: duckdb.DuckDBPyConnection, request: RunRequest, config: Config, run_id: int
) -> Workbooks:
    """One workbook per township, and the county and province summaries (each written under a
    temporary name, then renamed)."""
    return write_workbooks(
        con, request.reports_dir, request.as_of, run_id, config, mask_ids=_mask_ids(request, config)
    )


@dataclass(frozen=True)
class Steps:
    """How each step is called: directly (the default), or as a Prefect task (flows.py)."""

    stage: Callable[[RunRequest, Config, Path], StagedInputs] = stage_step
    quarantine: Callable[[StagedInputs, RunRequest], Path] = quarantine_step
    reviews: Callable[[duckdb.DuckDBPyConnection, RunRequest], Reviews] = review_step
    reconcile: Callable[
        [duckdb.DuckDBPyConnection, StagedInputs, Config, dt.date, pl.DataFrame | None],
        Reconciliation,
    ] = reconcile
    commit: Callable[
        [duckdb.DuckDBPyConnection, RunRequest, Config, StagedInputs, Reviews, dt.datetime], int
    ] = commit_step
    summarise: Callable[
        [duckdb.DuckDBPyConnection, int, StagedInputs, Reconciliation, Reviews], RunResult
    ] = summarise_step
    reports: Callable[[duckdb.DuckDBPyConnection, RunRequest, Config, int], Workbooks] = (
        reports_step
    )


PLAIN_STEPS = Steps()
STEP_COUNT = 5


class _Progress:
    """'[2/5] 比对' lines at the terminal, and each step's seconds for the run result."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._number = 0

    @contextmanager
    def step(self, key: str, label: str) -> Iterator[None]:
        self._number += 1
        log.info("[%d/%d] %s", self._number, STEP_COUNT, label)
        started = time.perf_counter()
        yield
        self.seconds[key] = time.perf_counter() - started


def run_nightly(
    request: RunRequest,
    config: Config,
    work_root: Path | None = None,
    steps: Steps = PLAIN_STEPS,
) -> RunResult:
    """Run the whole reconciliation once; commit to the ledger or raise RunRefusedError.

    The run works in a folder under `work_root` (default: the config's [run] work_dir).
    `steps` says how each step is called; the Prefect flow passes its tasks."""
    _check_inputs(request)
    try:
        with ledger_lock(request.ledger_path, request.as_of):
            _refuse_if_earlier(request)
            return _run_locked(request, config, work_root, steps)
    except LedgerLockedError as locked:
        raise RunRefusedError(str(locked)) from None


# A run's work folder is removed when the run ends; one that has outlived this was left by a run
# that was killed (power cut, SIGKILL) and holds nothing anyone will read.
ABANDONED_AFTER = dt.timedelta(days=1)


def _remove_abandoned_work_dirs(work_root: Path) -> None:
    cutoff = time.time() - ABANDONED_AFTER.total_seconds()
    for folder in work_root.glob("run-*"):
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            log.info("删除中断运行留下的工作文件夹 %s", folder.name)
            shutil.rmtree(folder, ignore_errors=True)


def _run_locked(
    request: RunRequest, config: Config, work_root: Path | None, steps: Steps
) -> RunResult:
    started_at = dt.datetime.now()
    work_root = work_root or from_project(config.run.work_dir)
    work_root.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_work_dirs(work_root)
    work_dir = Path(tempfile.mkdtemp(prefix=f"run-{request.as_of.isoformat()}-", dir=work_root))
    progress = _Progress()
    try:
        with progress.step("stage", "读取、校验输入文件"):
            staged = steps.stage(request, config, work_dir)
            steps.quarantine(staged, request)
        fault_point("after_staging")
        con = open_run_db(request, config, work_dir)
        try:
            with progress.step("reconcile", "比对（合并在册人员、比对参保名册、判定参保状态）"):
                reviews = steps.reviews(con, request)
                reconciliation = steps.reconcile(
                    con, staged, config, request.as_of, reviews.decisions
                )
            fault_point("after_matching")
            with progress.step("commit", "写入台账"):
                run_id = steps.commit(con, request, config, staged, reviews, started_at)
            with progress.step("summarise", "统计本次结果"):
                result = steps.summarise(con, run_id, staged, reconciliation, reviews)
            with progress.step("workbooks", "生成乡镇工作簿和县级、全省汇总"):
                workbooks = steps.reports(con, request, config, run_id)
                result.workbooks, result.summaries = workbooks.townships, workbooks.summaries
        finally:
            con.close()
        result.seconds = progress.seconds
        return result
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
