"""The 参保销号 ledger across simulated nights: the right events and nothing else, reruns that add
nothing, refusals that leave it untouched, kills that lose nothing, backups that restore it."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.backups import backups_dir, restore
from pipelines.config import Config
from pipelines.history import format_history, person_history
from pipelines.lock import lock_path
from pipelines.nightly import RunRefusedError, RunRequest, run_nightly
from pipelines.paths import PROJECT_ROOT
from tests.conftest import valid_id, write_csv

REGISTRY_HEADER = ["姓名", "身份证号", "县市区", "乡镇", "村", "人员类别", "在校生状况"]
ROSTER_HEADER = ["个人编号", "姓名", "身份证号", "险种", "参保状态", "参保地"]
PENSION = "城乡居民基本养老保险"
MEDICAL = "城乡居民基本医疗保险"

IDS = {
    "甲": valid_id("43012419700101123"),  # enrols on night 2
    "乙": valid_id("43012419750505224"),  # enrolled, then the record is terminated
    "丙": valid_id("43012419800303331"),  # leaves the registry on night 2
    "丁": valid_id("43012420080808442"),  # a student: exempt from pension
}
NIGHTS = [dt.date(2026, 1, 10), dt.date(2026, 2, 10), dt.date(2026, 3, 10)]


def person(name: str, student: str = "") -> list[str]:
    return [name, IDS[name], "宁乡市", "甲镇", "一村", "建档立卡贫困人口", student]


def record(number: str, name: str, status: str = "参保缴费", scheme: str = PENSION) -> list[str]:
    return [number, name, IDS[name], scheme, status, "宁乡市"]


def write_night(root: Path, night: int) -> Path:
    """The inputs as they stand on each night."""
    people = [person("甲"), person("乙"), person("丁", student="高中")]
    pension = [record("P2", "乙")]
    medical = [record("M4", "丁", scheme=MEDICAL)]
    if night == 0:
        people.append(person("丙"))
    else:
        pension.append(record("P1", "甲"))
        pension[0] = record("P2", "乙", status="终止参保")
    folder = root / f"night{night}"
    write_csv(folder / "registry" / "r.csv", [REGISTRY_HEADER, *people])
    write_csv(folder / "pension" / "p.csv", [ROSTER_HEADER, *pension])
    write_csv(folder / "medical" / "m.csv", [ROSTER_HEADER, *medical])
    return folder


def request(tmp_path: Path, night: int, as_of: dt.date, **options: bool) -> RunRequest:
    return RunRequest(
        write_night(tmp_path / "inputs", night),
        as_of,
        tmp_path / "ledger.duckdb",
        tmp_path / "reports",
        **options,
    )


def ledger(tmp_path: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(tmp_path / "ledger.duckdb"), read_only=True) as con:
        return con.sql(sql).pl()


def events_of(tmp_path: Path, run_id: int) -> set[tuple[str, str, str]]:
    frame = ledger(
        tmp_path,
        "select s.name, e.insurance, e.event_type from events e "
        f"join person_state s using (person_key, insurance) where e.run_id = {run_id}",
    )
    return set(frame.iter_rows())


def snapshot(tmp_path: Path) -> dict[str, list]:
    """Everything a run could change, to compare before and after a failure."""
    return {
        table: ledger(tmp_path, f"select * from {table} order by all").rows()
        for table in ("runs", "run_files", "events", "person_state", "quarantine")
    }


@pytest.fixture
def three_nights(tmp_path: Path, config: Config) -> Path:
    for night, as_of in enumerate(NIGHTS):
        run_nightly(request(tmp_path, min(night, 1), as_of), config, tmp_path / "work")
    return tmp_path


def test_first_night_records_every_unenrolled_person(three_nights: Path) -> None:
    assert events_of(three_nights, 1) == {
        ("甲", "pension", "登记"),
        ("乙", "medical", "登记"),
        ("甲", "medical", "登记"),
        ("丙", "pension", "登记"),
        ("丙", "medical", "登记"),
        ("丁", "pension", "不纳入"),
    }


def test_enrolment_termination_and_leaving_are_events(three_nights: Path) -> None:
    assert events_of(three_nights, 2) == {
        ("甲", "pension", "销号"),
        ("乙", "pension", "复登"),
        ("丙", "pension", "移出"),
        ("丙", "medical", "移出"),
    }
    write_off = ledger(
        three_nights,
        "select roster_person_no, match_method, match_reason, source_rows from events "
        "where event_type = '销号'",
    ).row(0, named=True)
    assert write_off["roster_person_no"] == "P1"
    assert write_off["match_method"] == "exact_id"
    assert "身份证号一致" in write_off["match_reason"]
    assert write_off["source_rows"] == ["registry/r.csv#2"]


def test_a_night_with_nothing_new_adds_no_events(three_nights: Path) -> None:
    assert events_of(three_nights, 3) == set()
    assert ledger(three_nights, "select count(*) from runs").item() == 3


def test_person_coverage_carries_the_dates_and_leaves_out_who_left(three_nights: Path) -> None:
    coverage = ledger(
        three_nights,
        "select name, insurance, status, first_recorded_on, crossed_off_on from person_coverage",
    )
    rows = {(r["name"], r["insurance"]): r for r in coverage.iter_rows(named=True)}
    assert "丙" not in {name for name, _ in rows}
    assert rows["甲", "pension"]["status"] == "enrolled"
    assert rows["甲", "pension"]["first_recorded_on"] == NIGHTS[0]
    assert rows["甲", "pension"]["crossed_off_on"] == NIGHTS[1]
    assert rows["乙", "pension"]["status"] == "unenrolled"
    assert rows["乙", "pension"]["first_recorded_on"] == NIGHTS[1]
    assert rows["丁", "medical"]["status"] == "enrolled"
    assert rows["丁", "medical"]["first_recorded_on"] is None


def test_history_shows_the_trail_with_the_id_masked(three_nights: Path) -> None:
    trail = person_history(three_nights / "ledger.duckdb", IDS["甲"], None)
    assert trail.get_column("event_type").to_list() == ["登记", "登记", "销号"]
    text = format_history(trail)
    assert IDS["甲"] not in text
    assert IDS["甲"][:6] in text and "销号" in text


def test_the_same_night_again_adds_nothing(tmp_path: Path, config: Config) -> None:
    run_nightly(request(tmp_path, 0, NIGHTS[0]), config, tmp_path / "work")
    before = ledger(tmp_path, "select count(*) from events").item()
    run_nightly(request(tmp_path, 0, NIGHTS[0]), config, tmp_path / "work")
    assert ledger(tmp_path, "select count(*) from events").item() == before
    assert ledger(tmp_path, "select count(*) from runs").item() == 2


def test_an_earlier_date_is_refused_unless_rebuilding(tmp_path: Path, config: Config) -> None:
    run_nightly(request(tmp_path, 0, NIGHTS[1]), config, tmp_path / "work")
    before = snapshot(tmp_path)
    with pytest.raises(RunRefusedError, match="早于台账最近一次运行的基准日 2026-02-10"):
        run_nightly(request(tmp_path, 1, NIGHTS[0]), config, tmp_path / "work")
    assert snapshot(tmp_path) == before
    run_nightly(request(tmp_path, 1, NIGHTS[0], rebuild=True), config, tmp_path / "work")
    assert ledger(tmp_path, "select rebuild from runs where run_id = 2").item() is True
    # Appended, never rewritten: the first run's events are all still there.
    first_run = ledger(tmp_path, "select * from events where run_id = 1 order by all").rows()
    assert first_run == before["events"]


def test_a_second_writer_is_refused_and_touches_nothing(tmp_path: Path, config: Config) -> None:
    run_nightly(request(tmp_path, 0, NIGHTS[0]), config, tmp_path / "work")
    before = snapshot(tmp_path)
    holder = {
        "pid": os.getpid(),
        "host": os.uname().nodename,
        "user": "值班员",
        "started_at": "2026-02-10T01:00:00",
        "as_of": "2026-02-10",
    }
    lock_path(tmp_path / "ledger.duckdb").write_text(json.dumps(holder), encoding="utf-8")
    with pytest.raises(
        RunRefusedError,
        match=f"正被另一次运行使用：值班员@.*进程 {os.getpid()}，自 2026-02-10T01:00:00",
    ):
        run_nightly(request(tmp_path, 1, NIGHTS[1]), config, tmp_path / "work")
    assert snapshot(tmp_path) == before


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path: Path, config: Config) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    holder = {"pid": dead.pid, "host": os.uname().nodename, "started_at": "2026-02-10T01:00:00"}
    lock_path(tmp_path / "ledger.duckdb").write_text(json.dumps(holder), encoding="utf-8")
    run_nightly(request(tmp_path, 0, NIGHTS[0]), config, tmp_path / "work")
    assert ledger(tmp_path, "select count(*) from runs").item() == 1
    assert not lock_path(tmp_path / "ledger.duckdb").exists()


def _cli(tmp_path: Path, night: int, as_of: dt.date, env: dict[str, str]) -> subprocess.Popen:
    folder = write_night(tmp_path / "inputs", night)
    command = [
        sys.executable,
        "-m",
        "pipelines",
        "run",
        "--input",
        str(folder),
        "--as-of",
        as_of.isoformat(),
        "--ledger",
        str(tmp_path / "ledger.duckdb"),
        "--reports",
        str(tmp_path / "reports"),
    ]
    return subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize(
    "point", ["after_staging", "after_matching", "before_state_update", "before_commit"]
)
def test_a_kill_at_any_point_loses_nothing(tmp_path: Path, config: Config, point: str) -> None:
    run_nightly(request(tmp_path, 0, NIGHTS[0]), config, tmp_path / "work")
    before = snapshot(tmp_path)
    marker = tmp_path / "paused"
    process = _cli(
        tmp_path,
        1,
        NIGHTS[1],
        {"PIPELINES_FAULT_PAUSE": point, "PIPELINES_FAULT_MARKER": str(marker)},
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, process.stdout.read()
        assert time.monotonic() < deadline, "the run never reached " + point
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert snapshot(tmp_path) == before
    finished = _cli(tmp_path, 1, NIGHTS[1], {})
    output, _ = finished.communicate(timeout=300)
    assert finished.returncode == 0, output
    assert events_of(tmp_path, 2) == {
        ("甲", "pension", "销号"),
        ("乙", "pension", "复登"),
        ("丙", "pension", "移出"),
        ("丙", "medical", "移出"),
    }


def test_a_backup_restores_the_ledger_as_it_was(tmp_path: Path, config: Config) -> None:
    run_nightly(request(tmp_path, 0, NIGHTS[0]), config, tmp_path / "work")
    after_first = ledger(tmp_path, "select * from person_coverage order by all")
    run_nightly(request(tmp_path, 1, NIGHTS[1]), config, tmp_path / "work")
    assert not ledger(tmp_path, "select * from person_coverage order by all").equals(after_first)
    newest = sorted(backups_dir(tmp_path / "ledger.duckdb").iterdir())[-1]
    restored = tmp_path / "restored.duckdb"
    restore(newest, restored)
    with duckdb.connect(str(restored), read_only=True) as con:
        assert con.sql("select * from person_coverage order by all").pl().equals(after_first)
        assert con.sql("select count(*) from runs").fetchall()[0][0] == 1
