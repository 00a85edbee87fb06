"""The whole nightly job on data/sample, run as an officer runs it, checked against ground truth."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest
from openpyxl import load_workbook

from pipelines.paths import PROJECT_ROOT

SAMPLE = PROJECT_ROOT / "data" / "sample"
TRUTH = SAMPLE / "truth"
AS_OF = "2026-11-29"
CONTRACT_COLUMNS = {
    "person_key",
    "id_number",
    "name",
    "county",
    "township",
    "village",
    "insurance",
    "status",
    "roster_person_no",
    "match_method",
    "match_score",
}
FULL_ID = re.compile(r"(?<![0-9])\d{17}[0-9Xx](?![0-9])")


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str
    ledger: Path
    reports: Path


def run_cli(input_dir: Path, tmp: Path) -> Run:
    ledger, reports = tmp / "ledger.duckdb", tmp / "reports"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines",
            "run",
            "--input",
            str(input_dir),
            "--as-of",
            AS_OF,
            "--ledger",
            str(ledger),
            "--reports",
            str(reports),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=600,
        check=False,
    )
    return Run(result.returncode, result.stdout + result.stderr, ledger, reports)


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    run = run_cli(SAMPLE, tmp_path_factory.mktemp("e2e"))
    assert run.returncode == 0, run.output
    return run


def ledger_frame(run: Run, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(run.ledger), read_only=True) as con:
        return con.sql(sql).pl()


def test_no_full_id_number_reaches_the_terminal(sample_run: Run) -> None:
    true_ids = set(pl.read_parquet(TRUTH / "persons.parquet").get_column("id").to_list())
    assert not FULL_ID.search(sample_run.output)
    assert not any(i in sample_run.output for i in true_ids)
    quarantine_csv = (sample_run.reports / AS_OF / "隔离记录.csv").read_text(encoding="utf-8-sig")
    assert not FULL_ID.search(quarantine_csv)


def test_person_coverage_honours_the_contract(sample_run: Run) -> None:
    coverage = ledger_frame(sample_run, "select * from person_coverage")
    assert set(coverage.columns) >= CONTRACT_COLUMNS
    assert coverage.select(pl.struct("person_key", "insurance").is_unique().all()).item()
    assert set(coverage.get_column("insurance").unique()) == {"pension", "medical"}
    assert set(coverage.get_column("status").unique()) <= {
        "enrolled",
        "unenrolled",
        "review",
        "exempt",
    }
    ids = coverage.get_column("id_number").drop_nulls()
    assert ids.str.contains(r"^\d{17}[0-9X]$").all()


def test_every_row_of_every_file_is_accounted_for(sample_run: Run) -> None:
    files = ledger_frame(sample_run, "select * from run_files")
    assert files.filter(pl.col("error").is_not_null()).is_empty()
    assert (files["rows_read"] == files["rows_accepted"] + files["rows_quarantined"]).all()
    truth = pl.concat(
        [
            pl.read_parquet(TRUTH / "registry_rows.parquet").select(
                "file", "sheet", "row", "expected_quarantine"
            ),
            pl.read_parquet(TRUTH / "roster_rows.parquet").select(
                "file", "sheet", "row", "expected_quarantine"
            ),
        ]
    )
    quarantine = ledger_frame(sample_run, "select * from quarantine")
    invalid = quarantine.filter(pl.col("kind") == "invalid")
    expected = truth.filter(pl.col("expected_quarantine").is_not_null())
    assert set(invalid.select("file", "sheet", "row").iter_rows()) == set(
        expected.select("file", "sheet", "row").iter_rows()
    )
    # Person rows in the truth = rows read minus the totals and footers that were skipped.
    skipped = quarantine.filter(pl.col("kind") == "skipped").group_by("file").len()
    per_file = files.with_columns(file=pl.col("path").str.replace(r"^.*/(\w+/[^/]+)$", "$1"))
    counted = per_file.join(skipped, on="file", how="left").with_columns(
        people_rows=pl.col("rows_read") - pl.col("len").fill_null(0)
    )
    truth_rows = truth.group_by("file").len("truth_rows")
    joined = counted.join(truth_rows, on="file", how="full", coalesce=True)
    assert (joined["people_rows"] == joined["truth_rows"]).all(), joined


def test_no_one_is_crossed_off_against_someone_elses_record(sample_run: Run) -> None:
    coverage = ledger_frame(
        sample_run,
        "select id_number, insurance, roster_person_no from person_coverage "
        "where status = 'enrolled'",
    )
    roster = pl.read_parquet(TRUTH / "roster_rows.parquet").select(
        "roster_person_no", "insurance", pl.col("true_id").alias("record_owner_id")
    )
    matched = coverage.join(roster, on=["roster_person_no", "insurance"], how="left")
    assert matched.height > 1000
    wrong = matched.filter(pl.col("record_owner_id") != pl.col("id_number"))
    assert wrong.is_empty(), wrong


def test_each_township_workbook_holds_only_its_own_people(sample_run: Run) -> None:
    coverage = ledger_frame(sample_run, "select id_number, county, township from person_coverage")
    home = {
        (r["id_number"]): (r["county"], r["township"])
        for r in coverage.drop_nulls("id_number").iter_rows(named=True)
    }
    folder = sample_run.reports / AS_OF
    workbooks = sorted(p for p in folder.glob("*/*.xlsx") if p.parent.name != "汇总")
    assert len(workbooks) == coverage.select("county", "township").n_unique()
    listed = 0
    for path in workbooks:
        book = load_workbook(path, read_only=True)
        for title in ("未参保-养老", "未参保-医保"):
            rows = list(book[title].iter_rows(values_only=True))
            id_column = rows[0].index("身份证号")
            for row in rows[1:]:
                if row[id_column]:
                    listed += 1
                    county, township = home[row[id_column]]
                    assert (path.parent.name, path.stem) == (county, township)
        book.close()
    assert listed > 100


def test_a_broken_file_leaves_the_ledger_untouched(sample_run: Run, tmp_path: Path) -> None:
    before = ledger_frame(sample_run, "select count(*) as n from runs").item()
    broken = tmp_path / "input"
    shutil.copytree(SAMPLE, broken, ignore=shutil.ignore_patterns("truth"))
    (broken / "pension" / "坏文件.csv").write_bytes(b"\x00\xff" * 300)
    shutil.copy(sample_run.ledger, tmp_path / "ledger.duckdb")
    refused = run_cli(broken, tmp_path)
    assert refused.returncode == 1
    assert "坏文件.csv" in refused.output and "未写入台账" in refused.output
    after = Run(0, "", tmp_path / "ledger.duckdb", tmp_path)
    assert ledger_frame(after, "select count(*) as n from runs").item() == before
