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
from dataclasses import replace
from pathlib import Path

import duckdb
import polars as pl
import pytest
from openpyxl import load_workbook

from pipelines.backups import backups_dir, restore
from pipelines.config import Config
from pipelines.history import format_history, person_history
from pipelines.lock import lock_path
from pipelines.nightly import RunRefusedError, RunRequest, run_nightly
from pipelines.paths import PROJECT_ROOT
from pipelines.review import ReviewRefusedError, import_review
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


def test_a_night_rewrites_only_the_rows_that_changed(three_nights: Path) -> None:
    last_changed = ledger(
        three_nights, "select name, insurance, last_run_id from person_state"
    ).iter_rows()
    # Night 2 enrols 甲, terminates 乙's record and removes 丙; night 3 changes nothing.
    assert {(name, insurance): run for name, insurance, run in last_changed} == {
        ("甲", "pension"): 2,
        ("乙", "pension"): 2,
        ("丙", "pension"): 2,
        ("丙", "medical"): 2,
        ("甲", "medical"): 1,
        ("乙", "medical"): 1,
        ("丁", "pension"): 1,
        ("丁", "medical"): 1,
    }


def test_a_row_whose_status_holds_but_whose_details_change_is_rewritten(
    tmp_path: Path, config: Config
) -> None:
    """Only the status is compared as it is; the rest of a row through its hash. 甲 moves
    village: the state follows, no event is written, nobody else's row is rewritten."""
    run_nightly(request(tmp_path, 0, NIGHTS[0]), config, tmp_path / "work")
    moved = request(tmp_path, 0, NIGHTS[1])
    people = [person("甲"), person("乙"), person("丁", student="高中"), person("丙")]
    people[0][4] = "二村"
    write_csv(moved.input_dir / "registry" / "r.csv", [REGISTRY_HEADER, *people])
    run_nightly(moved, config, tmp_path / "work")
    state = ledger(
        tmp_path,
        "select insurance, village, source_rows, last_run_id from person_state "
        "where name = '甲' order by insurance",
    ).rows()
    assert state == [
        ("medical", "二村", ["registry/r.csv#2"], 2),
        ("pension", "二村", ["registry/r.csv#2"], 2),
    ]
    assert events_of(tmp_path, 2) == set()
    untouched = ledger(tmp_path, "select count(*) from person_state where last_run_id = 1")
    assert untouched.item() == 6


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


def test_a_county_missing_from_the_registry_is_refused_unless_insisted(
    tmp_path: Path, config: Config
) -> None:
    """A night whose registry file was left out would record the county's people as 移出."""
    run_nightly(request(tmp_path, 0, NIGHTS[0]), config, tmp_path / "work")
    before = snapshot(tmp_path)
    missing = request(tmp_path, 1, NIGHTS[1])
    (missing.input_dir / "registry" / "r.csv").unlink()
    with pytest.raises(RunRefusedError, match=r"1 个县.*宁乡市（4 人）.*未写入台账"):
        run_nightly(missing, config, tmp_path / "work")
    assert snapshot(tmp_path) == before
    run_nightly(replace(missing, allow_partial=True), config, tmp_path / "work")
    assert {event for _, _, event in events_of(tmp_path, 2)} == {"移出"}
    assert ledger(tmp_path, "select count(*) from person_coverage").item() == 0


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
    # The killed run's work folder stays in the test's folder, not the checkout's data/interim.
    overrides = tmp_path / "work.toml"
    overrides.write_text(f'[run]\nwork_dir = "{tmp_path / "work"}"\n', encoding="utf-8")
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
        "--config",
        str(overrides),
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
    assert list((tmp_path / "work").glob("run-*")), "the killed run worked outside [run] work_dir"
    finished = _cli(tmp_path, 1, NIGHTS[1], {})
    output, _ = finished.communicate(timeout=300)
    assert finished.returncode == 0, output
    assert events_of(tmp_path, 2) == {
        ("甲", "pension", "销号"),
        ("乙", "pension", "复登"),
        ("丙", "pension", "移出"),
        ("丙", "medical", "移出"),
    }


def test_work_left_by_a_killed_run_is_removed_the_next_day(tmp_path: Path, config: Config) -> None:
    """A killed run cannot remove its work folder; a later run removes it once it is a day old,
    and leaves alone one that may belong to a run still going."""
    work = tmp_path / "work"
    abandoned, recent = work / "run-2026-01-09-killed", work / "run-2026-01-10-going"
    for folder in (abandoned, recent):
        (folder / "staged").mkdir(parents=True)
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(abandoned, (two_days_ago, two_days_ago))
    run_nightly(request(tmp_path, 0, NIGHTS[0]), config, work)
    assert sorted(work.iterdir()) == [recent]


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


# --- review decisions ---------------------------------------------------------------------------

REVIEW_IDS = {
    "戊": valid_id("43012419660606551"),  # a reviewer confirms the pair
    "己": valid_id("43012419670707662"),  # a reviewer rejects it
}


def write_review_inputs(root: Path) -> Path:
    """Two people whose ID appears in the roster under a clearly different name: the same number
    on someone else (重号) or a typo in the name? Only a person can tell, so both go to review."""
    people = [
        [name, number, "宁乡市", "甲镇", "一村", "建档立卡贫困人口", ""]
        for name, number in REVIEW_IDS.items()
    ]
    pension = [
        ["P5", "王大锤", REVIEW_IDS["戊"], PENSION, "参保缴费", "宁乡市"],
        ["P6", "李四光", REVIEW_IDS["己"], PENSION, "参保缴费", "宁乡市"],
    ]
    write_csv(root / "registry" / "r.csv", [REGISTRY_HEADER, *people])
    write_csv(root / "pension" / "p.csv", [ROSTER_HEADER, *pension])
    write_csv(root / "medical" / "m.csv", [ROSTER_HEADER])
    return root


def review_run(tmp_path: Path, config: Config, as_of: dt.date) -> None:
    run_nightly(
        RunRequest(
            write_review_inputs(tmp_path / "inputs"),
            as_of,
            tmp_path / "ledger.duckdb",
            tmp_path / "reports",
        ),
        config,
        tmp_path / "work",
    )


def fill_review(workbook: Path, target: Path, decisions: dict[str, tuple[str, str]]) -> Path:
    """What a township officer does: pick 确认/否决 and sign, per roster record number."""
    book = load_workbook(workbook)
    sheet = book["待核实"]
    headers = [cell.value for cell in sheet[1]]
    number, result, reviewer = (headers.index(h) + 1 for h in ("参保人编号", "核实结果", "核实人"))
    for row in range(2, sheet.max_row + 1):
        choice = decisions.get(sheet.cell(row, number).value)
        if choice:
            sheet.cell(row, result).value, sheet.cell(row, reviewer).value = choice
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target


def township_workbook(tmp_path: Path, as_of: dt.date) -> Path:
    return tmp_path / "reports" / as_of.isoformat() / "宁乡市" / "甲镇.xlsx"


def pension_state(tmp_path: Path) -> dict[str, tuple]:
    rows = ledger(
        tmp_path,
        "select name, status, match_method, roster_person_no from person_coverage "
        "where insurance = 'pension'",
    ).rows()
    return {name: tuple(rest) for name, *rest in rows}


def test_review_decisions_returned_with_the_inputs_are_applied(
    tmp_path: Path, config: Config
) -> None:
    review_run(tmp_path, config, NIGHTS[0])
    assert {name: state[0] for name, state in pension_state(tmp_path).items()} == {
        "戊": "review",
        "己": "review",
    }
    fill_review(
        township_workbook(tmp_path, NIGHTS[0]),
        tmp_path / "inputs" / "review" / "甲镇-已核实.xlsx",
        {"P5": ("确认", "张核实"), "P6": ("否决", "张核实")},
    )
    review_run(tmp_path, config, NIGHTS[1])
    assert pension_state(tmp_path)["戊"] == ("enrolled", "review_confirmed", "P5")
    assert pension_state(tmp_path)["己"] == ("unenrolled", None, None)
    assert events_of(tmp_path, 2) == {
        ("戊", "pension", "核实"),
        ("己", "pension", "核实"),
        ("戊", "pension", "销号"),
        ("己", "pension", "登记"),
    }
    # The same workbook still in the folder the next night: nothing new, and the rejected pair
    # never comes back for review.
    review_run(tmp_path, config, NIGHTS[2])
    assert events_of(tmp_path, 3) == set()
    assert pension_state(tmp_path)["己"] == ("unenrolled", None, None)


def test_a_workbook_imported_between_runs_counts_at_the_next_run(
    tmp_path: Path, config: Config
) -> None:
    review_run(tmp_path, config, NIGHTS[0])
    returned = fill_review(
        township_workbook(tmp_path, NIGHTS[0]),
        tmp_path / "returned" / "甲镇.xlsx",
        {"P5": ("确认", "张核实"), "P6": ("否决", "")},
    )
    added, problems = import_review(returned, tmp_path / "ledger.duckdb")
    assert added == 1
    assert len(problems) == 1 and "已选择「否决」，但未填写核实人" in problems[0]
    assert import_review(returned, tmp_path / "ledger.duckdb")[0] == 0  # twice: nothing new
    verified = ledger(tmp_path, "select run_id, event_type from events where event_type = '核实'")
    assert verified.rows() == [(None, "核实")]
    review_run(tmp_path, config, NIGHTS[1])
    assert pension_state(tmp_path)["戊"][:2] == ("enrolled", "review_confirmed")
    assert pension_state(tmp_path)["己"][0] == "review"


def test_a_confirmation_whose_pair_is_gone_is_reported_not_applied(
    tmp_path: Path, config: Config
) -> None:
    review_run(tmp_path, config, NIGHTS[0])
    inputs = tmp_path / "inputs"
    fill_review(
        township_workbook(tmp_path, NIGHTS[0]),
        inputs / "review" / "甲镇.xlsx",
        {"P5": ("确认", "张核实")},
    )
    # Before the next night, record P5 disappears from the roster.
    write_csv(
        inputs / "pension" / "p.csv",
        [ROSTER_HEADER, ["P6", "李四光", REVIEW_IDS["己"], PENSION, "参保缴费", "宁乡市"]],
    )
    result = run_nightly(
        RunRequest(inputs, NIGHTS[1], tmp_path / "ledger.duckdb", tmp_path / "reports"),
        config,
        tmp_path / "work",
    )
    assert any("P5" in problem and "未采用" in problem for problem in result.review_problems)
    assert pension_state(tmp_path)["戊"][0] == "unenrolled"


def test_an_edited_pair_refuses_the_whole_workbook(tmp_path: Path, config: Config) -> None:
    review_run(tmp_path, config, NIGHTS[0])
    returned = fill_review(
        township_workbook(tmp_path, NIGHTS[0]),
        tmp_path / "returned" / "甲镇.xlsx",
        {"P5": ("确认", "张核实")},
    )
    book = load_workbook(returned)
    sheet = book["待核实"]
    column = [cell.value for cell in sheet[1]].index("参保人编号") + 1
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, column).value == "P5")
    sheet.cell(row, column).value = "P6"  # point the confirmation at the other record
    book.save(returned)
    with pytest.raises(ReviewRefusedError, match=f"第 {row} 行的比对信息被修改"):
        import_review(returned, tmp_path / "ledger.duckdb")
    assert ledger(tmp_path, "select count(*) from review_decisions").item() == 0


def test_another_townships_workbook_is_refused(tmp_path: Path, config: Config) -> None:
    review_run(tmp_path, config, NIGHTS[0])
    returned = fill_review(
        township_workbook(tmp_path, NIGHTS[0]),
        tmp_path / "returned" / "乙镇.xlsx",
        {"P5": ("确认", "张核实")},
    )
    with pytest.raises(
        ReviewRefusedError, match="这是「宁乡市甲镇」的工作簿，文件名却不含「甲镇」"
    ):
        import_review(returned, tmp_path / "ledger.duckdb")


def test_a_workbook_from_another_ledger_is_refused(tmp_path: Path, config: Config) -> None:
    review_run(tmp_path / "a", config, NIGHTS[0])
    review_run(tmp_path / "b", config, NIGHTS[0])
    returned = fill_review(
        township_workbook(tmp_path / "a", NIGHTS[0]),
        tmp_path / "returned" / "甲镇.xlsx",
        {"P5": ("确认", "张核实")},
    )
    with pytest.raises(ReviewRefusedError, match="不是由本台账生成"):
        import_review(returned, tmp_path / "b" / "ledger.duckdb")


# --- several nights on generated data -----------------------------------------------------------

SAMPLE_NIGHTS = [dt.date(2026, 11, 29), dt.date(2026, 11, 30), dt.date(2026, 12, 1)]


def test_three_generated_nights_record_what_changed_and_nothing_else(
    tmp_path: Path, config: Config
) -> None:
    """Night 1 on data/sample. Night 2: the 低保 list is gone (its people leave), the 职工养老
    workbook is gone (its enrolments end), fifty unenrolled people enrol in medical insurance, and
    a township returns its review sheet with every pair confirmed. Night 3: the same again."""
    import shutil

    from pipelines.paths import SAMPLE_DIR

    night1 = tmp_path / "night1"
    shutil.copytree(SAMPLE_DIR, night1, ignore=shutil.ignore_patterns("truth"))
    ledger_path = tmp_path / "ledger.duckdb"

    def run(folder: Path, as_of: dt.date) -> None:
        run_nightly(
            RunRequest(folder, as_of, ledger_path, tmp_path / "reports"), config, tmp_path / "work"
        )

    run(night1, SAMPLE_NIGHTS[0])
    state = ledger(tmp_path, "select * from person_state")

    night2 = tmp_path / "night2"
    shutil.copytree(night1, night2)
    (night2 / "registry" / "低保对象.csv").unlink()
    (night2 / "pension" / "职工养老保险_市级.xlsx").unlink()
    only_dibao = set(
        state.filter(
            pl.col("source_rows")
            .list.eval(pl.element().str.starts_with("registry/低保对象.csv"))
            .list.all()
        ).get_column("person_key")
    )
    employee_pension = set(
        pl.read_parquet(SAMPLE_DIR / "truth" / "roster_rows.parquet")
        .filter(pl.col("file") == "pension/职工养老保险_市级.xlsx")
        .get_column("roster_person_no")
    )
    enrolling = (
        state.filter(
            pl.col("insurance") == "medical",
            pl.col("status") == "unenrolled",
            pl.col("id_number").is_not_null(),
            ~pl.col("person_key").is_in(list(only_dibao)),
        )
        .sort("person_key")
        .head(50)
    )
    write_csv(
        night2 / "medical" / "新参保.csv",
        [
            ROSTER_HEADER,
            *(
                [f"N{i:04d}", row["name"], row["id_number"], MEDICAL, "参保缴费", ""]
                for i, row in enumerate(enrolling.iter_rows(named=True))
            ),
        ],
    )
    night1_reports = tmp_path / "reports" / SAMPLE_NIGHTS[0].isoformat()
    workbooks = sorted(p for p in night1_reports.glob("*/*.xlsx") if p.parent.name != "汇总")
    reviewed = next(w for w in workbooks if load_workbook(w)["待核实"].max_row > 1)
    pairs = load_workbook(reviewed)["待核实"]
    column = [cell.value for cell in pairs[1]].index("参保人编号")
    numbers = [row[column] for row in pairs.iter_rows(min_row=2, values_only=True)]
    fill_review(
        reviewed, night2 / "review" / reviewed.name, dict.fromkeys(numbers, ("确认", "张核实"))
    )

    run(night2, SAMPLE_NIGHTS[1])
    events = ledger(tmp_path, "select * from events where run_id = 2")
    by_type = {
        t: set(events.filter(pl.col("event_type") == t).get_column("person_key"))
        for t in ("移出", "销号", "复登", "核实", "不纳入")
    }
    assert by_type["移出"] == only_dibao and only_dibao
    # Everyone who enrolled is written off, on medical, by their new record.
    medical_write_offs = events.filter(
        pl.col("event_type") == "销号", pl.col("insurance") == "medical"
    )
    assert set(enrolling.get_column("person_key")) <= set(
        medical_write_offs.get_column("person_key")
    )
    # 复登 only for people whose enrolment rested on the removed workbook; everyone else who did
    # is still enrolled through another record.
    before = {
        r["person_key"]: r
        for r in state.filter(pl.col("insurance") == "pension").iter_rows(named=True)
    }
    rested = {
        k
        for k, r in before.items()
        if r["status"] == "enrolled" and r["roster_person_no"] in employee_pension
    }
    assert by_type["复登"] <= rested and by_type["复登"]
    now = ledger(tmp_path, "select * from person_coverage where insurance = 'pension'")
    # (Dropping the 低保 list can also change what is known of someone: an exemption.)
    changed = by_type["复登"] | by_type["不纳入"] | only_dibao
    still = now.filter(pl.col("person_key").is_in(list(rested - changed)))
    assert (still.get_column("status") == "enrolled").all()
    assert not set(still.get_column("roster_person_no")) & employee_pension
    # Every returned decision is a 核实 event; confirmed pairs still proposed are written off.
    assert len(events.filter(pl.col("event_type") == "核实")) == len(numbers)
    confirmed = ledger(
        tmp_path, "select person_key from person_coverage where match_method = 'review_confirmed'"
    )
    assert confirmed.height > 0

    run(night2, SAMPLE_NIGHTS[2])
    assert ledger(tmp_path, "select count(*) from events where run_id = 3").item() == 0
