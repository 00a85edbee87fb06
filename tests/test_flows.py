"""The Prefect flow: the same results as the plain run, a failure that leaves the ledger as it was
and ends Failed with the reason, the nightly schedule, and no full ID number in anything Prefect
stores. Flow runs share one Prefect test harness (a temporary server, ~8 s to start)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import duckdb
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.logging.handlers import APILogHandler
from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.states import Failed, State
from prefect.testing.utilities import prefect_test_harness
from python_calamine import CalamineWorkbook

from pipelines import cli, flows, nightly
from pipelines import ledger as ledger_module
from pipelines.config import Config, ConfigError, load_config
from pipelines.flows import (
    _retry_file_errors_only,
    build_deployment,
    nightly_reconciliation,
    stage_task,
)
from pipelines.labels import INSURANCE_LABELS, STATUS_LABELS
from pipelines.ledger import attach_ledger
from pipelines.lock import lock_path
from pipelines.log import get_logger, install_record_masking, mask_ids_in_text
from pipelines.nightly import RunRefusedError, RunRequest, run_nightly
from pipelines.paths import PROJECT_ROOT
from tests.conftest import valid_id, write_csv

pytestmark = pytest.mark.prefect

SAMPLE = PROJECT_ROOT / "data" / "sample"
AS_OF = dt.date(2026, 11, 29)
FULL_ID = re.compile(r"(?<![0-9])\d{17}[0-9Xx](?![0-9])")

REGISTRY_HEADER = ["姓名", "身份证号", "县市区", "乡镇", "村", "人员类别"]
ROSTER_HEADER = ["个人编号", "姓名", "身份证号", "险种", "参保状态", "参保地"]
IDS = {"甲": valid_id("43012419700101123"), "乙": valid_id("43012419750505224")}
NIGHTS = [dt.date(2026, 1, 10), dt.date(2026, 2, 10)]


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=120):
        yield


def run_flow(input_dir: Path, as_of: dt.date, root: Path, **options: object) -> State:
    return nightly_reconciliation(
        input_dir=input_dir,
        as_of=as_of,
        ledger=root / "ledger.duckdb",
        reports=root / "reports",
        return_state=True,
        **options,
    )


def write_night(root: Path, night: int, registry_name: str = "r.csv") -> Path:
    """Two people; 甲 enrols on the second night."""
    people = [[name, IDS[name], "宁乡市", "甲镇", "一村", "建档立卡贫困人口"] for name in IDS]
    pension = [["P2", "乙", IDS["乙"], "城乡居民基本养老保险", "参保缴费", "宁乡市"]]
    if night == 1:
        pension.append(["P1", "甲", IDS["甲"], "城乡居民基本养老保险", "参保缴费", "宁乡市"])
    folder = root / f"night{night}"
    shutil.rmtree(folder, ignore_errors=True)
    write_csv(folder / "registry" / registry_name, [REGISTRY_HEADER, *people])
    write_csv(folder / "pension" / "p.csv", [ROSTER_HEADER, *pension])
    write_csv(folder / "medical" / "m.csv", [ROSTER_HEADER])
    return folder


def ledger_rows(ledger: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(ledger), read_only=True) as con:
        return con.sql(sql).fetchall()


def snapshot(ledger: Path) -> dict[str, list[tuple]]:
    return {
        table: ledger_rows(ledger, f"select * from {table} order by all")
        for table in ("runs", "run_files", "events", "person_state", "quarantine")
    }


def flow_run_id(state: State) -> UUID:
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    return run_id


def prefect_logs(state: State) -> list[str]:
    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id(state)]))
        )
    return [log.message for log in logs]


def prefect_artifacts(state: State) -> dict[str, object]:
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id(state)])
            )
        )
    return {artifact.key: artifact.data for artifact in artifacts}


def task_run_messages(state: State) -> list[tuple[str, str]]:
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id(state)]))
        )
    return [(run.name, run.state.message or "") for run in runs if run.state]


# --- the flow gives what the plain run gives ---------------------------------------------------


def sheet_rows(path: Path) -> dict[str, list[list[object]]]:
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def report_contents(reports: Path) -> dict[str, object]:
    return {
        str(path.relative_to(reports)): (
            sheet_rows(path) if path.suffix == ".xlsx" else path.read_bytes()
        )
        for path in sorted(reports.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def plain_and_flow(
    tmp_path_factory: pytest.TempPathFactory, prefect_api: None, config: Config
) -> tuple[Path, Path, State]:
    root = tmp_path_factory.mktemp("plain-and-flow")
    # Both ledgers start from one empty ledger: review codes in the workbooks are made with the
    # ledger's own secret, so two fresh ledgers would write different codes.
    empty = root / "empty.duckdb"
    with duckdb.connect() as con:
        attach_ledger(con, empty)
    plain, flowed = root / "plain", root / "flow"
    for side in (plain, flowed):
        side.mkdir()
        shutil.copy(empty, side / "ledger.duckdb")
    request = RunRequest(SAMPLE, AS_OF, plain / "ledger.duckdb", plain / "reports")
    run_nightly(request, config, root / "work")
    state = run_flow(SAMPLE, AS_OF, flowed)
    assert state.is_completed(), state.message
    return plain, flowed, state


def test_the_flow_records_the_same_coverage_as_the_plain_run(
    plain_and_flow: tuple[Path, Path, State],
) -> None:
    plain, flowed, _ = plain_and_flow
    query = "select * from person_coverage order by person_key, insurance"
    expected = ledger_rows(plain / "ledger.duckdb", query)
    assert len(expected) > 5000
    assert ledger_rows(flowed / "ledger.duckdb", query) == expected


def test_the_flow_writes_the_same_reports_as_the_plain_run(
    plain_and_flow: tuple[Path, Path, State],
) -> None:
    plain, flowed, _ = plain_and_flow
    expected = report_contents(plain / "reports")
    assert sum(name.endswith(".xlsx") for name in expected) == 11
    assert report_contents(flowed / "reports") == expected


def test_the_run_summary_is_published_as_artifacts(
    plain_and_flow: tuple[Path, Path, State],
) -> None:
    _, flowed, state = plain_and_flow
    artifacts = prefect_artifacts(state)
    table = {row["县市区"]: row for row in json.loads(str(artifacts["nightly-counts"]))}
    counts = ledger_rows(
        flowed / "ledger.duckdb",
        "select county, insurance, status, count(*) from person_coverage group by all",
    )
    people = dict(
        ledger_rows(
            flowed / "ledger.duckdb",
            "select county, count(distinct person_key) from person_coverage group by county",
        )
    )
    assert set(table) == {*people, "合计"}
    for county, insurance, status, count in counts:
        column = f"{INSURANCE_LABELS[insurance][:2]}{STATUS_LABELS[status]}"
        assert table[county][column] == count
    for county, count in people.items():
        assert table[county]["在册人数"] == count
    assert table["合计"]["在册人数"] == sum(people.values())
    markdown = str(artifacts["nightly-reports"])
    assert str(flowed / "reports" / AS_OF.isoformat()) in markdown
    assert str(flowed / "reports" / AS_OF.isoformat() / "汇总") in markdown


def test_our_progress_lines_reach_the_flow_runs_log(
    plain_and_flow: tuple[Path, Path, State],
) -> None:
    logs = prefect_logs(plain_and_flow[2])
    assert any(line.startswith("[1/5]") for line in logs)
    assert any(line.startswith("已写入台账") for line in logs)


# --- failure ----------------------------------------------------------------------------------


def test_a_failed_run_leaves_the_ledger_untouched_and_the_next_run_proceeds(
    tmp_path: Path, prefect_api: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = tmp_path / "ledger.duckdb"
    assert run_flow(write_night(tmp_path, 0), NIGHTS[0], tmp_path).is_completed()
    before = snapshot(ledger)

    unreadable = write_night(tmp_path, 1)
    (unreadable / "pension" / "坏.xlsx").write_text("不是 xlsx", encoding="utf-8")
    refused = run_flow(unreadable, NIGHTS[1], tmp_path)
    assert refused.is_failed()
    assert refused.message.startswith("有 1 个文件无法读取（pension/坏.xlsx），本次比对未写入台账")
    with pytest.raises(RunRefusedError):
        refused.result()
    assert snapshot(ledger) == before

    def disk_full(point: str) -> None:
        if point == "before_commit":
            raise OSError(28, "No space left on device")

    # Inside the ledger's transaction, after every insert.
    monkeypatch.setattr(ledger_module, "fault_point", disk_full)
    failed = run_flow(write_night(tmp_path, 1), NIGHTS[1], tmp_path)
    monkeypatch.undo()
    assert failed.is_failed()
    assert failed.message.startswith("运行出错（OSError: [Errno 28] No space left on device）")
    assert failed.message.endswith("台账未改动，修正后重新运行即可。")
    assert snapshot(ledger) == before
    assert not lock_path(ledger).exists()
    # The commit is not retried: it ran once and failed once.
    commits = [name for name, _ in task_run_messages(failed) if name.startswith("写入台账")]
    assert len(commits) == 1

    assert run_flow(write_night(tmp_path, 1), NIGHTS[1], tmp_path).is_completed()
    events = ledger_rows(ledger, "select person_key, insurance, event_type from events")
    assert len([e for e in events if e[2] == "销号"]) == 1
    assert ledger_rows(ledger, "select count(*) from runs") == [(2,)]


def test_a_passing_file_error_is_retried_and_the_run_completes(
    tmp_path: Path, prefect_api: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[int] = []
    real_stage_inputs = nightly.stage_inputs

    def share_drops_once(*args: object) -> object:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError(5, "Input/output error")
        return real_stage_inputs(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(nightly, "stage_inputs", share_drops_once)
    monkeypatch.setattr(flows, "stage_task", flows.stage_task.with_options(retry_delay_seconds=0))
    state = run_flow(write_night(tmp_path, 0), NIGHTS[0], tmp_path)
    assert state.is_completed(), state.message
    assert len(attempts) == 2


def test_refusals_and_bugs_are_not_retried() -> None:
    def retried(error: Exception) -> bool:
        return _retry_file_errors_only(stage_task, None, Failed(data=error))  # type: ignore[arg-type]

    assert retried(OSError(5, "Input/output error"))
    assert not retried(RunRefusedError("有 1 个文件无法读取"))
    assert not retried(ValueError("a bug"))


@pytest.fixture(scope="module")
def on_dask(
    plain_and_flow: tuple[Path, Path, State], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, State]:
    """The sample through the flow with executor 'dask': a local cluster of worker processes
    scores every stage's pairs, partitioned by birth date."""
    plain, _, _ = plain_and_flow
    side = tmp_path_factory.mktemp("dask")
    shutil.copy(plain.parent / "empty.duckdb", side / "ledger.duckdb")
    state = flows.flow_for("dask", None)(
        input_dir=SAMPLE,
        as_of=AS_OF,
        ledger=side / "ledger.duckdb",
        reports=side / "reports",
        executor="dask",
        return_state=True,
    )
    assert state.is_completed(), state.message
    return side, state


def test_on_dask_the_flow_records_the_same_coverage_as_the_plain_run(
    plain_and_flow: tuple[Path, Path, State], on_dask: tuple[Path, State]
) -> None:
    plain, _, _ = plain_and_flow
    side, state = on_dask
    query = "select * from person_coverage order by person_key, insurance"
    expected = ledger_rows(plain / "ledger.duckdb", query)
    assert ledger_rows(side / "ledger.duckdb", query) == expected
    # The scoring really was spread: one task per partition per stage that had pairs.
    scored = [name for name, _ in task_run_messages(state) if name.startswith("打分")]
    assert len(scored) > load_config().run.dask_partitions


def test_an_unknown_executor_is_refused_plainly() -> None:
    with pytest.raises(flows.ExecutorUnavailableError, match="没有执行方式"):
        flows.check_executor("spark")


# --- ID numbers -------------------------------------------------------------------------------


def test_prefect_never_receives_a_full_id_number(tmp_path: Path, prefect_api: None) -> None:
    """A file named after an ID number is named in log lines, in the refusal reason (the flow's
    and the task's state messages) and nowhere in full."""
    folder = write_night(tmp_path, 0, registry_name=f"{IDS['甲']}.csv")
    committed = run_flow(folder, NIGHTS[0], tmp_path)
    assert committed.is_completed()
    (folder / "medical" / f"{IDS['乙']}.xlsx").write_text("不是 xlsx", encoding="utf-8")
    refused = run_flow(folder, NIGHTS[1], tmp_path)
    assert refused.is_failed()

    logs = prefect_logs(committed) + prefect_logs(refused)
    stored = [
        *logs,
        refused.message or "",
        *(message for _, message in task_run_messages(refused)),
        *(str(data) for data in prefect_artifacts(committed).values()),
    ]
    assert any(mask_ids_in_text(IDS["甲"]) in line for line in logs)
    assert mask_ids_in_text(IDS["乙"]) in (refused.message or "")
    assert not [text for text in stored if FULL_ID.search(text)]


def test_every_log_record_is_masked_when_it_is_made() -> None:
    """Handlers we do not own (Prefect's console and API handlers) get masked records too,
    tracebacks included."""
    install_record_masking()
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    other = logging.getLogger("some.library")
    handler = Keep()
    other.addHandler(handler)
    other.propagate = False
    try:
        try:
            raise ValueError(f"bad {IDS['甲']}")
        except ValueError:
            other.error("seen %s", IDS["乙"], exc_info=True)
        other.warning("malformed %d", IDS["甲"])
        get_logger("test").warning("无法匹配 %s", IDS["甲"])
    finally:
        other.removeHandler(handler)
    text = "\n".join(logging.Formatter().format(record) for record in records)
    assert "ValueError: bad 430124" in text
    assert "malformed %d ('430124" in text
    assert not FULL_ID.search(text)


# --- the schedule -----------------------------------------------------------------------------


def next_run(deployment_schedule: object, after: dt.datetime) -> dt.datetime:
    """When the Prefect server's scheduler would next run it (its own schedule class)."""
    from prefect.server.schemas.schedules import CronSchedule

    schedule = deployment_schedule.schedule  # type: ignore[attr-defined]
    server_side = CronSchedule(cron=schedule.cron, timezone=schedule.timezone)
    [date] = asyncio.run(server_side.get_dates(n=1, start=after))
    return date


def test_the_deployment_runs_every_night_at_two_shanghai_time(config: Config) -> None:
    deployment = build_deployment(config)
    assert deployment.name == "nightly"
    assert deployment.entrypoint == "pipelines.flows.nightly_reconciliation"
    [schedule] = deployment.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "Asia/Shanghai")
    after = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
    assert next_run(schedule, after) == dt.datetime(2026, 11, 29, 18, 0, tzinfo=dt.UTC)
    assert deployment.parameters == {
        "input_dir": str(PROJECT_ROOT / "data" / "sample"),
        "ledger": str(PROJECT_ROOT / "data" / "ledger.duckdb"),
        "reports": str(PROJECT_ROOT / "reports"),
    }


def test_the_schedule_and_its_folders_come_from_the_configuration(tmp_path: Path) -> None:
    override = tmp_path / "县里.toml"
    override.write_text(
        '[schedule]\ncron = "30 1 * * 1-5"\ninput = "/data/extracts"\nledger = "台账.duckdb"\n',
        encoding="utf-8",
    )
    deployment = build_deployment(load_config(override), override)
    [schedule] = deployment.schedules
    assert schedule.schedule.cron == "30 1 * * 1-5"
    after = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)  # a Saturday
    assert next_run(schedule, after) == dt.datetime(2026, 11, 29, 17, 30, tzinfo=dt.UTC)
    assert deployment.parameters["input_dir"] == "/data/extracts"
    assert deployment.parameters["ledger"] == str(PROJECT_ROOT / "台账.duckdb")
    assert deployment.parameters["config_path"] == str(override)


def test_serving_without_a_server_says_what_to_start(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert cli.main(["serve"]) == cli.EXIT_USAGE
    assert "make server" in capsys.readouterr().err


def test_runs_on_the_temporary_server_send_no_heartbeats() -> None:
    """Heartbeats let a lasting server mark a dead run as crashed; the temporary server dies
    with the run, so its runs start no heartbeat thread (stopping it cost up to a second per
    run). A configured server keeps Prefect's setting."""
    configured = PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value()
    assert configured is not None
    unset = temporary_settings(restore_defaults={PREFECT_API_URL})
    with unset, flows._embedded_server_unless_configured():
        assert PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value() is None
    lasting = temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"})
    with lasting, flows._embedded_server_unless_configured():
        assert PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value() == configured
    assert PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value() == configured


def test_a_wrong_time_zone_is_a_configuration_error(tmp_path: Path) -> None:
    override = tmp_path / "bad.toml"
    override.write_text('[schedule]\ntimezone = "Beijing"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"schedule.*Beijing"):
        load_config(override)


def test_a_cron_prefect_does_not_accept_stops_serve_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    override = tmp_path / "bad.toml"
    override.write_text('[schedule]\ncron = "99 2 * * *"\n', encoding="utf-8")
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert cli.main(["serve", "--config", str(override)]) == cli.EXIT_USAGE
    assert "[schedule] 有误" in capsys.readouterr().err
