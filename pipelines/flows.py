"""The nightly reconciliation as a Prefect flow: the same steps as `nightly.run_nightly`, each run
as a Prefect task, so that every run (from `make run`, or on the schedule of `make serve`) has a
state, a log and a summary that someone can read in the morning.

The flow is thin wiring. `run_nightly` keeps the order of the steps, the ledger lock and the
clean-up; this module only hands it the steps wrapped as tasks (`task_steps`), turns a refusal
or an error into a Failed state whose message says why in plain words, and publishes the run's
counts and report folders as artifacts.

Without PREFECT_API_URL the flow runs against a temporary embedded server, started and stopped
around the run by `run_flow` (state in $PREFECT_HOME, which the Makefile keeps in the project).
`make serve` serves the flow on the configured schedule (`build_deployment`, `serve_nightly`).
"""

from __future__ import annotations

import ctypes
import dataclasses
import datetime as dt
import functools
import logging
import os
import signal
import subprocess
import sys
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar

import duckdb
import polars as pl
import prefect
from prefect import Flow, Task, flow, get_run_logger, serve, task, unmapped
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.logging.handlers import APILogHandler, PrefectConsoleHandler
from prefect.runtime import flow_run
from prefect.schedules import Cron
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    get_current_settings,
    temporary_settings,
)
from prefect.states import Failed, State
from prefect_dask import DaskTaskRunner

from pipelines import nightly
from pipelines.config import Config, ConfigError, load_config
from pipelines.labels import INSURANCE_LABELS, STATUS_LABELS
from pipelines.log import get_logger, install_record_masking, mask_exception, mask_ids_in_text
from pipelines.match.partitioned import partitioned_scorer
from pipelines.match.scoring import score_pairs
from pipelines.nightly import RunRefusedError, RunRequest, RunResult, Steps, run_nightly
from pipelines.paths import DEFAULT_LEDGER, DEFAULT_REPORTS, SAMPLE_DIR, from_project
from pipelines.stage import StagedInputs

log = get_logger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

FLOW_NAME = "nightly-reconciliation"
DEPLOYMENT_NAME = "nightly"
Executor = Literal["local", "dask"]

# Steps that only read inputs or (re)write report files, each file under a temporary name that
# is renamed when complete, are safe to run again; the ledger commit is not retried (it is one
# transaction: it either landed or it did not, and the officer should hear about it).
FILE_STEP_RETRIES = 2
FILE_STEP_RETRY_DELAYS = [10, 60]


class ExecutorUnavailableError(NotImplementedError):
    """The executor asked for is not available (yet); the message says what to use instead."""


def check_executor(executor: str) -> None:
    """'local' runs every step in this process; 'dask' also scores the matching stages' pairs
    in partitions on a Dask cluster (`dask_task_runner`)."""
    if executor in ("local", "dask"):
        return
    raise ExecutorUnavailableError(
        f"没有执行方式 {executor!r}，可用 local（单机运行）或 dask（打分交给 Dask 集群）。"
        f" Unknown executor {executor!r}; use 'local' or 'dask'."
    )


# --- tasks ------------------------------------------------------------------------------------


def _retry_file_errors_only(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry only when the file system failed (a network share that went away, a file still
    being copied); a refusal or a bug would fail the same way again."""
    error = state.data
    if not isinstance(error, OSError):
        return False
    log.warning("%s 失败（%s），稍后自动重试", task.name, error)
    return True


def _as_task(step: Callable[P, R], name: str, *, repeatable: bool) -> Task[P, R]:
    """A Prefect task that calls `step`.

    No caching: the inputs are DuckDB connections and folders whose contents change between
    runs, so a cache key would be meaningless or wrong. No stored results: they are in memory
    for the next step, and a pickled copy in $PREFECT_HOME could hold people's data. Exception
    texts are masked before Prefect copies them into the task's state message."""

    @functools.wraps(step)
    def run_step(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return step(*args, **kwargs)
        except Exception as error:
            mask_exception(error)
            raise

    retry_options: dict[str, Any] = (
        {
            "retries": FILE_STEP_RETRIES,
            "retry_delay_seconds": FILE_STEP_RETRY_DELAYS,
            "retry_condition_fn": _retry_file_errors_only,
        }
        if repeatable
        else {}
    )
    return task(run_step, name=name, cache_policy=NO_CACHE, persist_result=False, **retry_options)


stage_task = _as_task(nightly.stage_step, "读取输入 stage inputs", repeatable=True)
quarantine_task = _as_task(
    nightly.quarantine_step, "校验与隔离 validate and quarantine", repeatable=True
)
reviews_task = _as_task(nightly.review_step, "读取核实结果 read reviews", repeatable=True)
reconcile_task = _as_task(nightly.reconcile, "比对 reconcile", repeatable=False)
commit_task = _as_task(nightly.commit_step, "写入台账 commit ledger", repeatable=False)
summarise_task = _as_task(nightly.summarise_step, "统计 summarise", repeatable=False)
reports_task = _as_task(nightly.reports_step, "工作簿 workbooks", repeatable=True)


# The task wraps `score_pairs` itself (not a function of this module that the decorator would
# replace), so that Dask can send it to a worker by reference.
score_partition_task = task(
    score_pairs, name="打分 score a partition", cache_policy=NO_CACHE, persist_result=False
)


def _score_on_task_runner(parts: Sequence[pl.DataFrame], config: Config) -> list[pl.DataFrame]:
    """Each partition as a task on the flow's task runner (Dask for executor 'dask')."""
    return [future.result() for future in score_partition_task.map(parts, unmapped(config))]


def reconcile_partitioned(
    con: duckdb.DuckDBPyConnection,
    staged: StagedInputs,
    config: Config,
    as_of: dt.date,
    review_decisions: pl.DataFrame | None = None,
) -> nightly.Reconciliation:
    """The reconcile step with each stage's scoring spread over the flow's task runner; the
    pairs are proposed, and the decisions recorded, in this process's DuckDB as always.

    Called in the flow itself, not as a task: a task submitted from inside another task takes
    the outer task's context along to the worker, and with it the DuckDB connection it was
    given, which cannot travel."""
    score = partitioned_scorer(_score_on_task_runner, config.run.dask_partitions)
    return nightly.reconcile(con, staged, config, as_of, review_decisions, score)


def dask_task_runner(config: Config) -> DaskTaskRunner:
    """The cluster at `[run] dask_address`, or else a temporary local one of one-thread worker
    processes (Python scoring holds the GIL, so threads would not help)."""
    if config.run.dask_address:
        return DaskTaskRunner(address=config.run.dask_address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": config.run.dask_local_workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
        }
    )


def flow_for(executor: str, config_path: Path | None) -> Flow[..., Any]:
    """The flow with the task runner `executor` needs: the default, or Dask."""
    if executor != "dask":
        return nightly_reconciliation
    return nightly_reconciliation.with_options(
        task_runner=dask_task_runner(load_config(config_path))
    )


def steps_for(executor: str, committed: list[int]) -> Steps:
    """The run's steps as tasks for `executor`; the commit's run id is noted in `committed`, so
    that a failure after it can say the ledger was written."""
    check_executor(executor)
    steps = task_steps(committed)
    if executor == "dask":
        steps = dataclasses.replace(steps, reconcile=reconcile_partitioned)
    return steps


def task_steps(committed: list[int]) -> Steps:
    """The run's steps as tasks; the commit's run id is noted in `committed`, so that a failure
    after it can say the ledger was written."""

    def commit(*args: Any) -> int:
        run_id = commit_task(*args)
        committed.append(run_id)
        return run_id

    return Steps(
        stage=stage_task,
        quarantine=quarantine_task,
        reviews=reviews_task,
        reconcile=reconcile_task,
        commit=commit,
        summarise=summarise_task,
        reports=reports_task,
    )


# --- logging and artifacts --------------------------------------------------------------------


@contextmanager
def _our_logs_in_prefect() -> Iterator[None]:
    """Send our progress lines (the `pipelines` loggers) to the flow run's log in Prefect too,
    masked like everything else (`install_record_masking`)."""
    install_record_masking()
    logger = logging.getLogger("pipelines")
    handler = APILogHandler()
    logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        # A run started by `make serve` has not been through the command line's setup.
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def county_table(result: RunResult) -> list[dict[str, Any]]:
    """One row per county (and a total): people, then each insurance's statuses."""
    rows = []
    for county in sorted(result.county_people):
        row: dict[str, Any] = {"县市区": county, "在册人数": result.county_people[county]}
        for insurance, insurance_label in INSURANCE_LABELS.items():
            counts = result.county_counts.get(county, {}).get(insurance, {})
            for status, status_label in STATUS_LABELS.items():
                row[f"{insurance_label[:2]}{status_label}"] = counts.get(status, 0)
        rows.append(row)
    if rows:
        total: dict[str, Any] = {"县市区": "合计"}
        for key in rows[0]:
            if key != "县市区":
                total[key] = sum(row[key] for row in rows)
        rows.append(total)
    return rows


def reports_markdown(request: RunRequest, result: RunResult) -> str:
    day = nightly.reports_day_dir(request)
    summaries = result.summaries[0].parent if result.summaries else day / "汇总"
    lines = [
        f"# 比对基准日 {request.as_of.isoformat()}，台账第 {result.run_id} 次运行",
        "",
        "| 内容 | 位置 |",
        "|---|---|",
        f"| 乡镇工作簿（{len(result.workbooks)} 个） | `{day}` |",
        f"| 县级和全省汇总（{len(result.summaries)} 个） | `{summaries}` |",
        f"| 隔离记录 | `{day / '隔离记录.csv'}` |",
        f"| 台账 | `{request.ledger_path}` |",
    ]
    lines += [f"\n核实结果未采用：{problem}" for problem in result.review_problems]
    return mask_ids_in_text("\n".join(lines))


def publish_artifacts(request: RunRequest, result: RunResult) -> None:
    create_table_artifact(
        county_table(result),
        key="nightly-counts",
        description=f"各县市区参保情况（基准日 {request.as_of.isoformat()}）",
    )
    create_markdown_artifact(
        reports_markdown(request, result),
        key="nightly-reports",
        description="本次生成的报表位置",
    )


# --- the flow ---------------------------------------------------------------------------------


def _run_name() -> str:
    """'比对-2026-11-30': the as-of date, which a scheduled run leaves to the flow to decide."""
    parameters = flow_run.parameters
    if parameters.get("as_of"):
        return f"比对-{parameters['as_of']}"
    try:
        timezone = load_config(parameters.get("config_path")).schedule.timezone
    except ConfigError:
        return "比对"  # the flow itself reports the bad configuration
    return f"比对-{today_in(timezone).isoformat()}"


def today_in(timezone: str) -> dt.date:
    """'Today' where the officers are: a 02:00 Asia/Shanghai run on a server kept in UTC
    happens on the previous UTC day."""
    return dt.datetime.now(zoneinfo.ZoneInfo(timezone)).date()


def _failure_message(error: BaseException, committed: list[int]) -> str:
    where = (
        f"台账已写入（第 {committed[0]} 次运行），但报表未全部生成；用同一基准日重新运行即可补齐"
        if committed
        else "台账未改动，修正后重新运行即可"
    )
    return mask_ids_in_text(f"运行出错（{type(error).__name__}: {error}），{where}。")


@flow(name=FLOW_NAME, flow_run_name=_run_name, persist_result=False, log_prints=False)
def nightly_reconciliation(
    input_dir: Path = SAMPLE_DIR,
    as_of: dt.date | None = None,
    ledger: Path = DEFAULT_LEDGER,
    reports: Path = DEFAULT_REPORTS,
    config_path: Path | None = None,
    allow_partial: bool = False,
    rebuild: bool = False,
    mask_ids: bool = False,
    executor: Executor = "local",
) -> RunResult | State[Any]:
    """社保扶贫参保比对：读取输入 → 校验与隔离 → 比对 → 写入台账 → 乡镇工作簿 → 汇总工作簿。

    as_of defaults to today in the schedule's time zone. A refused or failed run leaves the
    ledger as it was and ends Failed, with the reason as the state's message."""
    committed: list[int] = []
    with _our_logs_in_prefect():
        try:
            config = load_config(config_path)
            steps = steps_for(executor, committed)
            request = RunRequest(
                input_dir,
                as_of or today_in(config.schedule.timezone),
                ledger,
                reports,
                allow_partial,
                rebuild,
                mask_ids,
            )
            result = run_nightly(request, config, steps=steps)
        except (RunRefusedError, ConfigError, ExecutorUnavailableError) as refused:
            # The run logger writes to the flow run's log in Prefect; at the terminal the command
            # line prints the reason itself (`_OfficerTerminal`).
            mask_exception(refused)
            get_run_logger().error("本次运行未提交：%s", refused)
            return Failed(message=str(refused), data=refused)
        except Exception as error:
            mask_exception(error)
            message = _failure_message(error, committed)
            get_run_logger().error(message, exc_info=True)
            return Failed(message=message, data=error)
        publish_artifacts(request, result)
        return result


def _die_with_parent() -> None:
    """Runs in the embedded server's process between fork and exec: the kernel sends it SIGTERM
    when the thread that started it (this process's main thread) dies, even by SIGKILL."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


EMBEDDED_SERVER_START_SECONDS = 180


def _embedded_server_command(port: int | None) -> subprocess.Popen[Any]:
    """Prefect 3.9's own command and environment for its temporary server
    (SubprocessASGIServer._run_uvicorn_command), with the parent-death signal added."""
    return subprocess.Popen(
        args=[
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(prefect.__module_path__.parent),
            "--factory",
            "prefect.server.api.server:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "error",
            "--lifespan",
            "on",
        ],
        env={
            **os.environ,
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
            **get_current_settings().to_environment_variables(exclude_unset=True),
        },
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )


@contextmanager
def _embedded_server_unless_configured() -> Iterator[None]:
    """Prefect's temporary server for a run without PREFECT_API_URL, made to die with the run.

    Prefect starts it as a plain child process and stops it at exit; a run killed with SIGKILL
    (a scheduler's timeout, the crash tests) would leave it running for ever. Started here
    first, it is the instance Prefect's client then finds and uses (one per process)."""
    if api_url():
        yield
        return
    # Imported only here: the server module takes about 3 s to import.
    from prefect.server.api.server import SubprocessASGIServer

    class EmbeddedServer(SubprocessASGIServer):
        def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
            return _embedded_server_command(self.port)

    log.info("启动 Prefect 运行记录（本机临时服务）……")
    server = EmbeddedServer()
    # Prefect waits 20 s by default; a first run on a fresh $PREFECT_HOME creates and migrates its
    # database first (11–13 s on an idle 2-core machine), and under load that overran the 20 s on
    # a fresh clone. A configured longer wait still wins.
    configured = PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
    server.start(timeout=max(EMBEDDED_SERVER_START_SECONDS, configured))
    # Processes this run starts (Dask's local workers) report their task runs to this server
    # rather than each starting a temporary server of its own.
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        # Heartbeats let a lasting server mark a run whose process died as crashed. This server
        # dies with the run, so nobody would read them, and stopping their thread at the end
        # of the run cost up to a second (it sleeps in whole seconds).
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        # Log lines still queued for the server go out before it stops, not into a closed port.
        APILogHandler().flush()
        server.stop()


def run_flow(request: RunRequest, config_path: Path | None, executor: str = "local") -> RunResult:
    """Run the flow in this process (the command line's path); return its result, or raise
    what made it fail (RunRefusedError for a refusal)."""
    with _embedded_server_unless_configured():
        state = flow_for(executor, config_path)(
            input_dir=request.input_dir,
            as_of=request.as_of,
            ledger=request.ledger_path,
            reports=request.reports_dir,
            config_path=config_path,
            allow_partial=request.allow_partial,
            rebuild=request.rebuild,
            mask_ids=request.mask_ids,
            executor=executor,
            return_state=True,
        )
    return state.result()


# --- the terminal -----------------------------------------------------------------------------


class _OfficerTerminal(logging.Filter):
    """At the officer's terminal our own progress lines tell the story. Prefect's chatter (the
    temporary server, each task finishing) and its failure reports with tracebacks stay in the
    flow run's log in Prefect; the command line prints the outcome itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("prefect"):
            return True
        if record.name.startswith(("prefect.flow_runs", "prefect.task_runs")):
            return logging.WARNING <= record.levelno < logging.ERROR
        return record.levelno >= logging.WARNING


def quiet_prefect_terminal() -> None:
    # Dask's scheduler and workers narrate their start and stop at INFO; the worker processes
    # (started later, with this environment) would print each task's end to the terminal.
    logging.getLogger("distributed").setLevel(logging.WARNING)
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler) and not any(
            isinstance(f, _OfficerTerminal) for f in handler.filters
        ):
            handler.addFilter(_OfficerTerminal())


# --- the schedule -----------------------------------------------------------------------------


def schedule_parameters(config: Config, config_path: Path | None) -> dict[str, Any]:
    """The scheduled run's parameters, as absolute paths: the runs need not start where
    `make serve` did."""
    parameters: dict[str, Any] = {
        "input_dir": str(from_project(config.schedule.input)),
        "ledger": str(from_project(config.schedule.ledger)),
        "reports": str(from_project(config.schedule.reports)),
    }
    if config_path is not None:
        parameters["config_path"] = str(config_path.resolve())
    return parameters


def build_deployment(config: Config, config_path: Path | None = None) -> RunnerDeployment:
    """The nightly deployment `make serve` serves: the flow on the configured cron schedule.
    Building it needs no server (the schedule test builds it)."""
    return nightly_reconciliation.to_deployment(
        name=DEPLOYMENT_NAME,
        schedules=[Cron(config.schedule.cron, timezone=config.schedule.timezone)],
        parameters=schedule_parameters(config, config_path),
        description="每晚比对贫困人口名单与养老、医疗保险参保名册，写入参保销号台账并生成报表。",
        tags=["社保扶贫"],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def api_url() -> str | None:
    return PREFECT_API_URL.value() or None


def serve_nightly(deployment: RunnerDeployment) -> None:
    """Register the deployment with the Prefect server and run its scheduled runs, one at a
    time, until stopped (Ctrl-C or SIGTERM pauses the schedule on the way out)."""
    serve(deployment, limit=1)
