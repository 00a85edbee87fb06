"""Staging: every row accepted or quarantined with a reason, every file accounted for."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polars as pl
import pytest

from pipelines.config import Config
from pipelines.stage import StagedInputs, reset_work_dir, stage_inputs
from tests.conftest import AS_OF, REGISTRY_HEADER, registry_row, valid_id, write_csv, write_xlsx

ID_A = valid_id("43012419900101123")
ID_B = valid_id("43312319850505002")
ROSTER_HEADER = ["个人编号", "姓名", "身份证号", "险种", "参保状态"]


def stage(input_dir: Path, config: Config) -> StagedInputs:
    work_dir = input_dir.parent / "work"
    reset_work_dir(work_dir)
    return stage_inputs(input_dir, config, AS_OF, work_dir)


@pytest.fixture
def mixed_inputs(tmp_path: Path) -> Path:
    """Good files beside every kind of broken one."""
    root = tmp_path / "input"
    write_csv(
        root / "registry" / "good.csv",
        [
            REGISTRY_HEADER,
            registry_row("张三", ID_A),
            registry_row("李四", ID_B, township=""),  # township missing
            registry_row("王五", "", category="其他"),  # unknown category, no ID
            registry_row("赵六", f" '{ID_B.lower()} "),  # damaged but repairable ID
        ],
        encoding="gb18030",
    )
    write_xlsx(
        root / "registry" / "book.xlsx",
        {
            "甲镇": [
                ["标题"],
                REGISTRY_HEADER,
                registry_row("孙七", ID_A),
                ["合计", "1"],
            ]
        },
    )
    write_csv(
        root / "pension" / "roster.csv",
        [
            ROSTER_HEADER,
            ["P1", "张三", ID_A, "城乡居民基本养老保险", "参保缴费"],
            ["P2", "李四", ID_B, "城乡居民基本医疗保险", "参保缴费"],  # medical scheme in pension
            ["P3", "王五", ID_B, "城乡居民基本养老保险", "冻结"],  # unknown status
        ],
    )
    (root / "medical").mkdir()
    (root / "medical" / "empty.csv").write_bytes(b"")
    (root / "medical" / "random.csv").write_bytes(os.urandom(2048))
    (root / "medical" / "notes.txt").write_text("说明", encoding="utf-8")
    good = write_xlsx(root / "medical" / "_tmp.xlsx", {"s": [ROSTER_HEADER] * 30})
    (root / "medical" / "truncated.xlsx").write_bytes(good.read_bytes()[:400])
    good.unlink()
    write_csv(root / "medical" / "no_status.csv", [ROSTER_HEADER[:4], ["M1", "张三", ID_A, "x"]])
    return root


def test_every_file_is_accounted_for(mixed_inputs: Path, config: Config) -> None:
    staged = stage(mixed_inputs, config)
    by_name = {f.path.name: f for f in staged.files}
    assert set(by_name) == {
        "good.csv",
        "book.xlsx",
        "roster.csv",
        "empty.csv",
        "random.csv",
        "notes.txt",
        "truncated.xlsx",
        "no_status.csv",
    }
    for report in staged.files:
        assert report.rows_read == report.rows_accepted + report.rows_quarantined, report
    assert (by_name["good.csv"].rows_read, by_name["good.csv"].rows_accepted) == (4, 2)
    assert (by_name["book.xlsx"].rows_read, by_name["book.xlsx"].rows_accepted) == (2, 1)
    assert (by_name["roster.csv"].rows_read, by_name["roster.csv"].rows_accepted) == (3, 1)
    unreadable = {f.path.name for f in staged.unreadable}
    assert unreadable == {"empty.csv", "random.csv", "notes.txt", "truncated.xlsx", "no_status.csv"}
    assert all(f.rows_read == 0 for f in staged.unreadable)
    assert "参保状态" in by_name["no_status.csv"].error


def test_a_link_to_a_file_that_is_gone_is_reported_not_skipped(
    tmp_path: Path, config: Config
) -> None:
    """A folder of shortcuts copied from elsewhere: a link whose file is gone is a file the officer
    meant to send, so it is reported unreadable (and refuses the run) instead of vanishing."""
    root = tmp_path / "input"
    write_csv(root / "registry" / "good.csv", [REGISTRY_HEADER, registry_row("张三", ID_A)])
    (root / "registry" / "gone.csv").symlink_to(tmp_path / "elsewhere" / "gone.csv")
    (root / "registry" / "old").mkdir()  # a sub-folder is not an input file
    staged = stage(root, config)
    by_name = {f.path.name: f for f in staged.files}
    assert set(by_name) == {"good.csv", "gone.csv"}
    assert by_name["good.csv"].rows_accepted == 1
    assert [f.path.name for f in staged.unreadable] == ["gone.csv"]
    assert "链接" in by_name["gone.csv"].error and "elsewhere" in by_name["gone.csv"].error


def test_quarantine_names_file_row_field_and_reason(mixed_inputs: Path, config: Config) -> None:
    quarantine = pl.read_parquet(stage(mixed_inputs, config).quarantine_path)
    rows = {(r["file"], r["row"]): r for r in quarantine.iter_rows(named=True)}
    assert rows[("registry/good.csv", 3)]["reason"] == "乡镇(街道)为空"
    assert rows[("registry/good.csv", 4)]["field"] == "人员类别"
    assert "其他" in rows[("registry/good.csv", 4)]["value"]
    assert rows[("registry/book.xlsx", 4)]["kind"] == "skipped"
    assert rows[("registry/book.xlsx", 4)]["sheet"] == "甲镇"
    assert "险种" in rows[("pension/roster.csv", 3)]["reason"]
    assert rows[("pension/roster.csv", 4)]["field"] == "参保状态"


def test_quarantine_never_holds_a_full_id(tmp_path: Path, config: Config) -> None:
    root = tmp_path / "input"
    write_csv(
        root / "registry" / "r.csv",
        [
            REGISTRY_HEADER,
            [ID_A, ID_B, "宁乡市", "", "一村", "建档立卡贫困人口"],
        ],
    )
    quarantine = pl.read_parquet(stage(root, config).quarantine_path)
    text = " ".join(
        quarantine.select(pl.all().cast(pl.String)).fill_null("").to_series(i).str.join(" ").item()
        for i in range(quarantine.width)
    )
    assert ID_A not in text and ID_B not in text


def test_accepted_rows_are_normalised(mixed_inputs: Path, config: Config) -> None:
    staged = stage(mixed_inputs, config)
    registry = pl.read_parquet(staged.parquet_glob("registry"))
    by_name = {r["name"]: r for r in registry.iter_rows(named=True)}
    assert by_name["张三"]["id_number"] == ID_A
    assert by_name["赵六"]["id_number"] == ID_B
    assert "apostrophe" in by_name["赵六"]["id_flags"]
    assert by_name["孙七"]["_sheet"] == "甲镇"
    assert by_name["张三"]["categories"] == ["建档立卡贫困人口"]


def small_rosters(root: Path) -> Path:
    """Three small pension files, one with a row to quarantine."""
    for number, names in enumerate((["甲一", "甲二"], ["乙一"], ["丙一", "丙二", "丙三"])):
        rows = [
            [f"P{number}{i}", name, ID_A, "城乡居民基本养老保险", "参保缴费"]
            for i, name in enumerate(names)
        ]
        if number == 1:
            rows.append([f"P{number}9", "乙二", ID_B, "城乡居民基本养老保险", "冻结"])
        write_csv(root / "pension" / f"p{number}.csv", [ROSTER_HEADER, *rows])
    write_csv(root / "registry" / "r.csv", [REGISTRY_HEADER, registry_row("甲一", ID_A)])
    return root


def test_small_files_staged_together_keep_their_own_rows_and_accounts(
    tmp_path: Path, config: Config
) -> None:
    """Small files are normalised and validated in one pass, but each row keeps its file, and
    each file its own accounting and its own file number in `_seq`."""
    staged = stage(small_rosters(tmp_path / "input"), config)
    pension = [f for f in staged.files if f.source == "pension"]
    assert [(f.rows_read, f.rows_accepted, f.rows_quarantined) for f in pension] == [
        (2, 2, 0),
        (2, 1, 1),
        (3, 3, 0),
    ]
    rows = pl.read_parquet(staged.parquet_glob("pension")).sort("_seq")
    assert (
        rows.get_column("file").to_list()
        == ["pension/p0.csv"] * 2 + ["pension/p1.csv"] + ["pension/p2.csv"] * 3
    )
    numbers = {f.path.name: n for n, f in enumerate(staged.files, start=1)}
    file_numbers = rows.select(pl.col("_seq") // (1 << 40)).to_series().to_list()
    assert file_numbers == [numbers["p0.csv"]] * 2 + [numbers["p1.csv"]] + [numbers["p2.csv"]] * 3
    assert rows.get_column("_seq").is_unique().all()
    quarantine = pl.read_parquet(staged.quarantine_path)
    assert quarantine.select("file", "row").rows() == [("pension/p1.csv", 3)]


def test_a_small_file_that_breaks_the_shared_pass_is_set_apart(
    tmp_path: Path, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If normalising the stacked small files fails, each is staged alone: only the one that
    fails is reported unreadable, the others are staged as usual."""
    import pipelines.stage as stage_module

    normalise = stage_module._normalise

    def fails_on_p1(rows: pl.DataFrame, source: str, config: Config, as_of: object) -> pl.DataFrame:
        if source == "pension" and rows.get_column("name").is_in(["乙一"]).any():
            raise pl.exceptions.ComputeError("cannot normalise")
        return normalise(rows, source, config, as_of)

    monkeypatch.setattr(stage_module, "_normalise", fails_on_p1)
    staged = stage(small_rosters(tmp_path / "input"), config)
    pension = {f.path.name: f for f in staged.files if f.source == "pension"}
    assert pension["p1.csv"].error is not None and "cannot normalise" in pension["p1.csv"].error
    assert pension["p1.csv"].rows_read == 0
    assert (pension["p0.csv"].rows_accepted, pension["p2.csv"].rows_accepted) == (2, 3)
    rows = pl.read_parquet(staged.parquet_glob("pension"))
    assert sorted(rows.get_column("file").unique().to_list()) == [
        "pension/p0.csv",
        "pension/p2.csv",
    ]


def test_staging_in_two_processes_stages_what_one_process_does(
    tmp_path: Path, mixed_inputs: Path, config: Config
) -> None:
    """The sample beside broken files, with jobs of a few files each and the pool forced on:
    the same rows, reports and quarantine as staging everything in this process."""
    from pipelines.paths import SAMPLE_DIR

    root = tmp_path / "both"
    shutil.copytree(SAMPLE_DIR, root, ignore=shutil.ignore_patterns("truth"))
    for source in ("registry", "pension", "medical"):
        for path in (mixed_inputs / source).iterdir():
            shutil.copy(path, root / source / f"broken_{path.name}")
    small_jobs = {"chunk_rows": 1000, "stage_parallel_min_bytes": 0}
    variants = {
        "one": config.model_copy(update={"run": config.run.model_copy(update=small_jobs)}),
        "two": config.model_copy(
            update={"run": config.run.model_copy(update={**small_jobs, "stage_workers": 2})}
        ),
    }
    results = {}
    for name, variant in variants.items():
        work_dir = tmp_path / name
        reset_work_dir(work_dir)
        staged = stage_inputs(root, variant, AS_OF, work_dir)
        results[name] = (
            [
                (f.path.name, f.rows_read, f.rows_accepted, f.rows_quarantined, f.error)
                for f in staged.files
            ],
            {
                source: pl.read_parquet(staged.parquet_glob(source)).sort("_seq")
                for source in ("registry", "pension", "medical")
            },
            pl.read_parquet(staged.quarantine_path),
        )
    (files_one, rows_one, quarantine_one), (files_two, rows_two, quarantine_two) = results.values()
    assert files_two == files_one
    assert any(error for *_, error in files_one)  # the broken files are among them
    assert len({name for name, *_ in files_one}) > 10
    for source, rows in rows_one.items():
        assert rows.height > 0
        assert rows_two[source].equals(rows), source
    assert quarantine_two.equals(quarantine_one)
