"""Township workbooks, re-opened the way an office would (openpyxl, and calamine as a second
reader): sheets, headers, counts against person_coverage, text IDs, dates, the drop-down, print
settings, township isolation, formula safety and masking."""

from __future__ import annotations

import csv
import datetime as dt
import logging
import re
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from pipelines.config import Config
from pipelines.nightly import RunRequest, run_nightly
from pipelines.paths import SAMPLE_DIR
from pipelines.pool import Job, progress_every_tenth
from pipelines.reporting.township import (
    EXEMPT_COLUMNS,
    REVIEW_SHEET_COLUMNS,
    UNENROLLED_COLUMNS,
    WRITTEN_OFF_COLUMNS,
)
from tests.conftest import valid_id, write_csv

AS_OF = dt.date(2026, 11, 29)
SHEETS = ["说明", "未参保-养老", "未参保-医保", "本期销号", "待核实", "不纳入", "核验"]
HEADERS = {
    "未参保-养老": [c.header for c in UNENROLLED_COLUMNS],
    "未参保-医保": [c.header for c in UNENROLLED_COLUMNS],
    "本期销号": [c.header for c in WRITTEN_OFF_COLUMNS],
    "待核实": [c.header for c in REVIEW_SHEET_COLUMNS],
    "不纳入": [c.header for c in EXEMPT_COLUMNS],
}
FULL_ID = re.compile(r"(?<![0-9])\d{17}[0-9X](?![0-9])")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data/sample on two nights: the second adds a roster with twenty people enrolling, so
    本期销号 has rows."""
    from pipelines.config import load_config

    config = load_config()
    root = tmp_path_factory.mktemp("reports")
    night1 = root / "night1"
    shutil.copytree(SAMPLE_DIR, night1, ignore=shutil.ignore_patterns("truth"))
    ledger = root / "ledger.duckdb"
    run_nightly(RunRequest(night1, AS_OF, ledger, root / "reports"), config, root / "work")
    with duckdb.connect(str(ledger), read_only=True) as con:
        enrolling = con.sql(
            "select name, id_number from person_coverage where insurance = 'medical' "
            "and status = 'unenrolled' and id_number is not null order by person_key limit 20"
        ).fetchall()
    night2 = root / "night2"
    shutil.copytree(night1, night2)
    write_csv(
        night2 / "medical" / "新参保.csv",
        [
            ["个人编号", "姓名", "身份证号", "险种", "参保状态"],
            *(
                [f"N{i}", n, i_, "城乡居民基本医疗保险", "参保缴费"]
                for i, (n, i_) in enumerate(enrolling)
            ),
        ],
    )
    next_day = AS_OF + dt.timedelta(days=1)
    run_nightly(RunRequest(night2, next_day, ledger, root / "reports"), config, root / "work")
    return root


def workbooks(root: Path) -> list[Path]:
    folder = root / "reports" / (AS_OF + dt.timedelta(days=1)).isoformat()
    return sorted(p for p in folder.glob("*/*.xlsx") if p.parent.name != "汇总")


def coverage(root: Path) -> pl.DataFrame:
    with duckdb.connect(str(root / "ledger.duckdb"), read_only=True) as con:
        return con.sql("select * from person_coverage").pl()


def rows_of(path: Path, sheet: str) -> list[tuple]:
    book = load_workbook(path, read_only=True)
    try:
        return list(book[sheet].iter_rows(values_only=True))
    finally:
        book.close()


def test_every_township_gets_a_workbook_with_every_sheet(sample: Path) -> None:
    books = workbooks(sample)
    townships = coverage(sample).select("county", "township").unique().height
    assert len(books) == townships > 1
    for path in books:
        assert load_workbook(path, read_only=True).sheetnames == SHEETS
        assert CalamineWorkbook.from_path(str(path)).sheet_names == SHEETS
        book = load_workbook(path)
        assert book["核验"].sheet_state == "hidden"
        for sheet, headers in HEADERS.items():
            assert [cell.value for cell in book[sheet][1]] == headers


def test_counts_match_person_coverage_and_no_one_from_elsewhere(sample: Path) -> None:
    people = coverage(sample)
    written_off_total = 0
    for path in workbooks(sample):
        township = path.stem
        mine = people.filter(pl.col("township") == township)
        for sheet, insurance in (("未参保-养老", "pension"), ("未参保-医保", "medical")):
            expected = mine.filter(
                pl.col("insurance") == insurance, pl.col("status") == "unenrolled"
            )
            listed = rows_of(path, sheet)[1:]
            assert len(listed) == expected.height
        exempt = mine.filter(pl.col("status") == "exempt")
        assert len(rows_of(path, "不纳入")) - 1 == exempt.height
        written_off_total += len(rows_of(path, "本期销号")) - 1
        # Township isolation: every person key on every sheet is this township's.
        keys = set(mine.get_column("person_key"))
        for sheet in HEADERS:
            rows = rows_of(path, sheet)
            column = rows[0].index("人员编号")
            assert {row[column] for row in rows[1:]} <= keys, (path, sheet)
    assert written_off_total >= 20


def test_ids_are_text_dates_are_dates_and_the_drop_down_is_there(sample: Path) -> None:
    path = next(p for p in workbooks(sample) if len(rows_of(p, "待核实")) > 1)
    book = load_workbook(path)
    sheet = book["未参保-医保"]
    id_column = [c.value for c in sheet[1]].index("身份证号") + 1
    birth_column = [c.value for c in sheet[1]].index("出生日期") + 1
    ids = [sheet.cell(r, id_column) for r in range(2, sheet.max_row + 1)]
    assert ids and all(c.data_type == "s" for c in ids if c.value is not None)
    births = [sheet.cell(r, birth_column) for r in range(2, sheet.max_row + 1)]
    assert any(c.is_date for c in births)
    review = book["待核实"]
    validations = review.data_validations.dataValidation
    assert len(validations) == 1 and validations[0].formula1 == '"确认,否决"'
    decision = [c.value for c in review[1]].index("核实结果") + 1
    assert f"{chr(64 + decision)}2" in str(validations[0].sqref)


def test_lists_print_as_they_are(sample: Path) -> None:
    book = load_workbook(workbooks(sample)[0])
    for title in HEADERS:
        sheet = book[title]
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.fitToWidth == 1
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.print_title_rows == "$1:$1"
        assert "&P" in sheet.oddFooter.center.text
        assert (AS_OF + dt.timedelta(days=1)).isoformat() in sheet.oddFooter.right.text
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref.startswith("A1:")


def test_input_text_never_becomes_a_formula(tmp_path: Path, config: Config) -> None:
    nasty = ['=HYPERLINK("http://example.com","点我")', "+cmd|' /C calc'!A0", "@SUM(A1)"]
    people = [
        [name, valid_id(f"4301241970010{i}123"), "宁乡市", "甲镇", "=1+1", "建档立卡贫困人口"]
        for i, name in enumerate(nasty)
    ]
    inputs = tmp_path / "inputs"
    (inputs / "registry").mkdir(parents=True)
    with (inputs / "registry" / "r.csv").open("w", newline="", encoding="utf-8") as handle:
        # Properly quoted CSV: the values arrive exactly as written.
        csv.writer(handle).writerows(
            [["姓名", "身份证号", "县市区", "乡镇", "村", "人员类别"], *people]
        )
    write_csv(inputs / "pension" / "p.csv", [["个人编号", "姓名", "身份证号", "险种", "参保状态"]])
    run_nightly(
        RunRequest(inputs, AS_OF, tmp_path / "l.duckdb", tmp_path / "r"), config, tmp_path / "work"
    )
    path = tmp_path / "r" / AS_OF.isoformat() / "宁乡市" / "甲镇.xlsx"
    sheet = load_workbook(path)["未参保-医保"]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value]
    assert {c.value for c in cells} >= set(nasty) | {"=1+1"}
    assert all(c.data_type != "f" for c in cells)


def test_masking_hides_every_full_id(tmp_path: Path, config: Config) -> None:
    inputs = tmp_path / "inputs"
    shutil.copytree(SAMPLE_DIR, inputs, ignore=shutil.ignore_patterns("truth"))
    run_nightly(
        RunRequest(inputs, AS_OF, tmp_path / "l.duckdb", tmp_path / "r", mask_ids=True),
        config,
        tmp_path / "work",
    )
    books = sorted((tmp_path / "r" / AS_OF.isoformat()).glob("*/*.xlsx"))
    assert books
    for path in books:
        reader = CalamineWorkbook.from_path(str(path))
        for name in reader.sheet_names:
            text = " ".join(
                str(v) for row in reader.get_sheet_by_name(name).to_python() for v in row
            )
            assert not FULL_ID.search(text), (path, name)
            if name.startswith("未参保") and len(text) > 200:
                assert "********" in text


# --- county and province summaries --------------------------------------------------------------


def summary_rows(path: Path, sheet: str) -> list[dict]:
    rows = rows_of(path, sheet)
    # Read-only mode leaves out a row's empty trailing cells (the 合计 rows).
    width = len(rows[0])
    return [
        dict(zip(rows[0], (*row, *[None] * (width - len(row))), strict=True)) for row in rows[1:]
    ]


def test_county_summaries_add_up_to_person_coverage(sample: Path) -> None:
    people = coverage(sample)
    folder = sample / "reports" / (AS_OF + dt.timedelta(days=1)).isoformat() / "汇总"
    for county in people.get_column("county").unique().to_list():
        path = folder / f"{county}汇总.xlsx"
        book = load_workbook(path)
        assert book.sheetnames == ["说明", "养老汇总", "医保汇总", "代缴名单", "医保资助名单"]
        assert len(book["医保汇总"]._charts) == 1
        for sheet, insurance in (("养老汇总", "pension"), ("医保汇总", "medical")):
            rows = summary_rows(path, sheet)
            mine = people.filter(pl.col("county") == county, pl.col("insurance") == insurance)
            total = rows[-1]
            assert total["乡镇(街道)"] == "合计"
            assert total["在册人数"] == mine.height == sum(r["在册人数"] for r in rows[:-1])
            assert total["已参保"] == mine.filter(pl.col("status") == "enrolled").height
            assert total["应参保人数"] == mine.filter(pl.col("status") != "exempt").height
            assert total["参保率"] == pytest.approx(total["已参保"] / total["应参保人数"])
        medical_written_off = summary_rows(path, "医保汇总")[-1]["本期销号"]
        assert medical_written_off >= 0


def test_daijiao_and_subsidy_amounts_follow_the_money_tables(sample: Path, config: Config) -> None:
    folder = sample / "reports" / (AS_OF + dt.timedelta(days=1)).isoformat() / "汇总"
    path = sorted(p for p in folder.glob("*汇总.xlsx") if p.name != "全省汇总.xlsx")[0]
    daijiao = summary_rows(path, "代缴名单")
    tier = config.money.pension.daijiao_tier[2026]
    assert daijiao[-1]["乡镇(街道)"] == "合计"
    assert daijiao[-1]["代缴金额（元）"] == pytest.approx(tier * (len(daijiao) - 1))
    assert all("建档立卡" not in r["代缴类别"] or r["脱贫标志"] != "已脱贫" for r in daijiao[:-1])
    # Only people who still pay contributions: from 60 the scheme pays them (and the sample has
    # enrolled resident-pension people of 60 and over, who are left out).
    with duckdb.connect(str(sample / "ledger.duckdb"), read_only=True) as con:
        resident = con.sql(
            "select person_key, age from person_coverage where insurance = 'pension' "
            "and status = 'enrolled' and roster_scheme like '城乡居民%'"
        ).fetchall()
    ages = dict(resident)
    listed = [ages[r["人员编号"]] for r in daijiao[:-1]]
    assert listed and all(age is None or age < 60 for age in listed)
    assert any(age is not None and age >= 60 for age in ages.values())
    subsidies = summary_rows(path, "医保资助名单")
    contribution = config.money.medical.individual_contribution[2026]
    expected = {"特困人员": contribution, "低保对象": 150, "建档立卡贫困人口": contribution * 0.5}
    for row in subsidies[:-1]:
        assert row["资助金额（元）"] == pytest.approx(expected[row["资助类别"]])
    assert subsidies[-1]["资助金额（元）"] == pytest.approx(
        sum(r["资助金额（元）"] for r in subsidies[:-1])
    )


def test_province_summary_has_the_quarter_by_county(sample: Path) -> None:
    path = (
        sample / "reports" / (AS_OF + dt.timedelta(days=1)).isoformat() / "汇总" / "全省汇总.xlsx"
    )
    book = load_workbook(path)
    assert book.sheetnames == ["说明", "养老汇总", "医保汇总", "按季调度", "全省趋势"]
    quarters = summary_rows(path, "按季调度")
    counties = coverage(sample).get_column("county").n_unique()
    assert len(quarters) == counties * 2
    assert all(r["季度"] == "2026年第4季度" and isinstance(r["已参保"], int) for r in quarters)
    # Both nights fall in one quarter: its write-offs are the second night's.
    assert sum(r["本季销号"] for r in quarters) >= 20
    assert len(book["按季调度"]._charts) == 1


def all_sheets(folder: Path) -> dict[str, dict[str, list]]:
    return {
        str(path.relative_to(folder)): {
            name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names
        }
        for path in sorted(folder.rglob("*.xlsx"))
        for book in [CalamineWorkbook.from_path(str(path))]
    }


def test_workbooks_written_in_worker_processes_are_the_same(
    sample: Path, tmp_path: Path, config: Config
) -> None:
    """The sample is below the size that starts worker processes; forced into two workers, the
    workbooks come out exactly as written in one process. (Both ledgers start from one empty
    ledger: review codes are made with the ledger's own secret.)"""
    from pipelines.ledger import attach_ledger

    with duckdb.connect() as con:
        attach_ledger(con, tmp_path / "empty.duckdb")
    in_workers = config.reports.model_copy(update={"workers": 2, "parallel_min_rows": 0})
    variants = {"one": config, "two": config.model_copy(update={"reports": in_workers})}
    for name, variant in variants.items():
        shutil.copy(tmp_path / "empty.duckdb", tmp_path / f"{name}.duckdb")
        request = RunRequest(sample / "night1", AS_OF, tmp_path / f"{name}.duckdb", tmp_path / name)
        result = run_nightly(request, variant, tmp_path / "work")
        assert len(result.workbooks) == 8 and len(result.summaries) == 3
        # One pool writes both kinds, heaviest first; each list still holds its own kind.
        assert all(path.parent.name != "汇总" for path in result.workbooks)
        assert all(path.parent.name == "汇总" for path in result.summaries)
    one, two = (all_sheets(tmp_path / name / AS_OF.isoformat()) for name in variants)
    assert len(one) == 11
    assert two == one


def test_long_workbook_runs_report_each_tenth_done(caplog: pytest.LogCaptureFixture) -> None:
    """A province's workbooks take many minutes: the officer sees them advance a tenth of the
    rows at a time, from the first (heaviest) workbook on, and the closing line (written by the
    caller) is not repeated. A handful of workbooks, written in seconds, gets no such lines."""
    log = logging.getLogger("pipelines.test_progress")
    # One county summary of 42 rows, then 19 townships of 2 (each job weighs rows + 1).
    jobs = [Job(str, (), 42), *(Job(str, (), 2) for _ in range(19))]
    done = progress_every_tenth(log, "工作簿", jobs)
    few = progress_every_tenth(log, "工作簿", jobs[:8])
    with caplog.at_level(logging.INFO, logger="pipelines.test_progress"):
        for job in jobs:
            done(job, None)
        for job in jobs[:8]:
            few(job, None)
    assert [r.getMessage() for r in caplog.records] == [
        f"工作簿：已完成 {n}/20 个（按行数约 {percent}%）"
        for n, percent in ((1, 40), (4, 50), (7, 60), (10, 70), (14, 80), (17, 90))
    ]
