"""The synthetic extracts: layout, encodings, aliases, damage labels and truth agree."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipelines import sample_data as sd
from pipelines.normalise.ids import check_character

PEOPLE = 300
SEED = 20171

# Header aliases from shared/contract.md (registry and roster tables).
REGISTRY_ALIASES = {
    "name": ["姓名", "人员姓名", "户主/成员姓名"],
    "id_number": ["证件号码", "公民身份号码", "身份证号", "身份证号码", "身份证件号码"],
    "person_key": ["人员编号", "人编号", "成员编号"],
    "household_key": ["户编号"],
    "sex": ["性别"],
    "birth_date": ["出生日期"],
    "county": ["县市区", "县(市、区)", "所属县区"],
    "township": ["乡镇(街道)", "乡镇", "乡(镇、街道)"],
    "village": ["村(社区)", "行政村", "村"],
    "region_code": ["行政区划代码", "区划代码"],
    "category": ["人员类别", "贫困户属性", "对象类别"],
    "poverty_exit": ["脱贫标志", "脱贫属性", "是否脱贫"],
    "student": ["在校生状况", "是否在校生"],
    "person_state": ["人员状态"],
}
ROSTER_ALIASES = {
    "roster_person_no": ["个人编号", "人员编号", "社保编号", "参保人编号"],
    "name": ["姓名"],
    "id_number": ["证件号码", "公民身份号码", "身份证号", "身份证号码"],
    "scheme": ["险种", "险种类型", "参保险种"],
    "status": ["参保状态", "人员参保状态", "缴费状态"],
    "region": ["参保地", "参保地区划代码", "统筹区"],
    "enrolled_on": ["参保日期", "参保时间"],
}

CSV_LAYOUT = {  # file: (encoding, separator)
    sd.F_NX_REGISTRY: ("gb18030", ","),
    sd.F_DIBAO: ("utf-8-sig", ","),
    sd.F_NX_PENSION: ("utf-8", ","),
    sd.F_FH_PENSION: ("gb18030", "\t"),
    sd.F_EMP_MEDICAL: ("utf-16", ","),
}
XLSX_HEADER_ROW = {sd.F_FH_REGISTRY: 3, sd.F_TEKUN: 1, sd.F_EMP_PENSION: 2}
ID_HEADERS = {"证件号码", "公民身份号码", "身份证号", "身份证号码", "身份证件号码"}
NAME_HEADERS = {"姓名", "人员姓名", "户主/成员姓名"}
ALL_FILES = [*CSV_LAYOUT, *XLSX_HEADER_ROW, sd.F_RES_MEDICAL]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    sd.main(["--out", str(out), "--people", str(PEOPLE), "--seed", str(SEED)])
    return out


@pytest.fixture(scope="module")
def truth(sample: Path) -> dict[str, pl.DataFrame]:
    return {
        name: pl.read_parquet(sample / "truth" / f"{name}.parquet")
        for name in ("persons", "registry_rows", "roster_rows")
    }


@pytest.fixture(scope="module")
def all_rows(truth: dict[str, pl.DataFrame]) -> pl.DataFrame:
    columns = [
        "file",
        "sheet",
        "row",
        "id_written",
        "id_numeric",
        "name_written",
        "damage",
        "expected_quarantine",
    ]
    return pl.concat([truth["registry_rows"].select(columns), truth["roster_rows"].select(columns)])


def read_csv(path: Path, encoding: str, separator: str) -> pl.DataFrame:
    text = path.read_bytes().decode(encoding)
    return pl.read_csv(io.BytesIO(text.encode()), separator=separator, infer_schema=False)


def read_xlsx(path: Path, header_row: int) -> dict[str, tuple[list[str], list[tuple]]]:
    """Per sheet: header and data rows (up to a 合计 row, when there is one)."""
    workbook = openpyxl.load_workbook(path)
    sheets = {}
    for ws in workbook.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        header = list(rows[header_row - 1])
        data = rows[header_row:]
        totals = [i for i, row in enumerate(data) if row[0] == "合计"]
        sheets[ws.title] = (header, data[: totals[0]] if totals else data)
    return sheets


def headers_of(sample: Path, file: str) -> list[str]:
    if file in CSV_LAYOUT:
        return read_csv(sample / file, *CSV_LAYOUT[file]).columns
    if file in XLSX_HEADER_ROW:
        return next(iter(read_xlsx(sample / file, XLSX_HEADER_ROW[file]).values()))[0]
    return pl.read_parquet_schema(sample / file).names()


def test_every_file_is_written(sample: Path) -> None:
    for file in [
        *ALL_FILES,
        "truth/persons.parquet",
        "truth/registry_rows.parquet",
        "truth/roster_rows.parquet",
    ]:
        assert (sample / file).is_file(), file


def test_same_seed_gives_identical_files(sample: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    sd.main(["--out", str(again), "--people", str(PEOPLE), "--seed", str(SEED)])
    for file in [
        *CSV_LAYOUT,
        sd.F_RES_MEDICAL,
        "truth/persons.parquet",
        "truth/registry_rows.parquet",
        "truth/roster_rows.parquet",
    ]:
        assert (sample / file).read_bytes() == (again / file).read_bytes(), file
    for file in XLSX_HEADER_ROW:
        first, second = openpyxl.load_workbook(sample / file), openpyxl.load_workbook(again / file)
        assert first.sheetnames == second.sheetnames
        for a, b in zip(first.worksheets, second.worksheets, strict=True):
            assert list(a.iter_rows(values_only=True)) == list(b.iter_rows(values_only=True)), file
            assert {str(r) for r in a.merged_cells.ranges} == {
                str(r) for r in b.merged_cells.ranges
            }


def test_another_seed_gives_other_people(sample: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    sd.main(["--out", str(other), "--people", str(PEOPLE), "--seed", str(SEED + 1)])
    assert (sample / sd.F_NX_PENSION).read_bytes() != (other / sd.F_NX_PENSION).read_bytes()


def test_every_contract_alias_is_used(sample: Path) -> None:
    registry_headers = {
        h for f in ALL_FILES if f.startswith("registry/") for h in headers_of(sample, f)
    }
    roster_headers = {
        h for f in ALL_FILES if not f.startswith("registry/") for h in headers_of(sample, f)
    }
    for field, aliases in REGISTRY_ALIASES.items():
        assert registry_headers & set(aliases), f"registry field {field} has no header"
    for field, aliases in ROSTER_ALIASES.items():
        assert roster_headers & set(aliases), f"roster field {field} has no header"
    every_alias = {
        a
        for table in (REGISTRY_ALIASES, ROSTER_ALIASES)
        for aliases in table.values()
        for a in aliases
    }
    assert every_alias <= registry_headers | roster_headers, every_alias - (
        registry_headers | roster_headers
    )


def test_trap_columns_hold_the_household_head(sample: Path, truth: dict[str, pl.DataFrame]) -> None:
    table = read_csv(sample / sd.F_NX_REGISTRY, *CSV_LAYOUT[sd.F_NX_REGISTRY])
    assert {"户主姓名", "户主身份证号", "与户主关系"} <= set(table.columns)
    members = table.filter(pl.col("与户主关系") != "户主")
    assert members.height > 0
    assert (members["户主身份证号"] != members["证件号码"].fill_null("")).all()


def test_encodings(sample: Path) -> None:
    ningxiang = (sample / sd.F_NX_REGISTRY).read_bytes()
    ningxiang.decode("gbk")  # GB18030 but restricted to what GBK can encode
    with pytest.raises(UnicodeDecodeError):
        ningxiang.decode("utf-8")
    assert b"\r\n" in ningxiang
    assert (sample / sd.F_DIBAO).read_bytes().startswith(b"\xef\xbb\xbf")
    pension = (sample / sd.F_NX_PENSION).read_bytes()
    assert not pension.startswith(b"\xef\xbb\xbf")
    pension.decode("utf-8")
    fenghuang = (sample / sd.F_FH_PENSION).read_bytes()
    assert "\t" in fenghuang.decode("gb18030").splitlines()[0]
    with pytest.raises(UnicodeDecodeError):
        fenghuang.decode("utf-8")
    employee = (sample / sd.F_EMP_MEDICAL).read_bytes()
    assert employee.startswith(b"\xff\xfe")
    assert employee.decode("utf-16").startswith("个人编号")
    assert all(
        dtype == pl.String for dtype in pl.read_parquet_schema(sample / sd.F_RES_MEDICAL).values()
    )


def test_every_damage_label_occurs(all_rows: pl.DataFrame) -> None:
    counts = dict(
        all_rows.select(pl.col("damage").explode())
        .to_series()
        .drop_nulls()
        .value_counts()
        .iter_rows()
    )
    for label in sd.ALL_DAMAGE_LABELS:
        assert counts.get(label, 0) >= sd.MIN_PER_DAMAGE_KIND, label
    assert set(counts) <= set(sd.ALL_DAMAGE_LABELS)


def test_damage_rates_stay_realistic(all_rows: pl.DataFrame) -> None:
    share = (
        all_rows.select(pl.col("damage").explode())
        .to_series()
        .drop_nulls()
        .value_counts(normalize=True)
    )
    damaged = all_rows.filter(pl.col("damage").list.len() > 0).height / all_rows.height
    assert damaged < 0.45
    assert share.height == len(sd.ALL_DAMAGE_LABELS)


def test_every_quarantine_reason_occurs(all_rows: pl.DataFrame) -> None:
    reasons = set(all_rows["expected_quarantine"].drop_nulls())
    assert reasons == {"missing_township", "unknown_category", "unknown_status", "missing_name"}


def test_truth_rows_match_the_file_rows(sample: Path, all_rows: pl.DataFrame) -> None:
    """Same row numbers, and the ID and name in the file are the ones the truth says."""
    for file, (encoding, separator) in CSV_LAYOUT.items():
        table = read_csv(sample / file, encoding, separator)
        expected = all_rows.filter(pl.col("file") == file).sort("row")
        assert expected["row"].to_list() == list(range(2, table.height + 2)), file
        id_col = next(c for c in table.columns if c in ID_HEADERS and not c.startswith("户主"))
        name_col = next(c for c in table.columns if c in NAME_HEADERS)
        assert table[id_col].to_list() == expected["id_written"].to_list(), file
        assert table[name_col].to_list() == expected["name_written"].to_list(), file
    for file, header_row in XLSX_HEADER_ROW.items():
        for sheet, (header, data) in read_xlsx(sample / file, header_row).items():
            expected = all_rows.filter(pl.col("file") == file, pl.col("sheet") == sheet).sort("row")
            assert expected["row"].to_list() == list(
                range(header_row + 1, header_row + 1 + len(data))
            ), (file, sheet)
            id_at = next(i for i, h in enumerate(header) if h in ID_HEADERS)
            for cell, written, numeric in zip(
                [row[id_at] for row in data],
                expected["id_written"],
                expected["id_numeric"],
                strict=True,
            ):
                if numeric:
                    assert isinstance(cell, int | float) and float(cell) == float(written)
                else:
                    assert cell == written
    parquet = pl.read_parquet(sample / sd.F_RES_MEDICAL)
    expected = all_rows.filter(pl.col("file") == sd.F_RES_MEDICAL).sort("row")
    assert expected["row"].to_list() == list(range(2, parquet.height + 2))
    assert parquet["证件号码"].to_list() == expected["id_written"].to_list()


def test_fenghuang_workbook_layout(sample: Path) -> None:
    workbook = openpyxl.load_workbook(sample / sd.F_FH_REGISTRY)
    townships = pl.read_csv(sd.REFERENCE_DIR / "hunan_townships_2023.csv", infer_schema=False)
    real = set(townships.filter(pl.col("county_code") == sd.FENGHUANG)["township_name"])
    assert 4 <= len(workbook.sheetnames) <= 6
    assert set(workbook.sheetnames) <= real
    for ws in workbook.worksheets:
        merged = {str(r) for r in ws.merged_cells.ranges}
        assert {"A1:N1", "A2:N2"} <= merged
        assert ws["A1"].value == "凤凰县建档立卡贫困人口花名册"
        assert ws["A2"].value.startswith("填报单位：")
        assert any(re.fullmatch(r"[BCDE]\d+:[BCDE]\d+", r) for r in merged), ws.title
        footer = [ws.cell(row=r, column=1).value for r in range(ws.max_row - 2, ws.max_row + 1)]
        assert footer[0] == "合计" and footer[1].startswith("制表人")
    numeric_ids = [
        c.value for ws in workbook.worksheets for c in ws["G"] if isinstance(c.value, int | float)
    ]
    assert numeric_ids


def test_people_are_consistent(truth: dict[str, pl.DataFrame]) -> None:
    persons = truth["persons"]
    assert persons.height == PEOPLE
    checks = persons.select(
        check=(pl.col("id").str.slice(17) == check_character(pl.col("id").str.slice(0, 17))).all(),
        sex=(
            (pl.col("id").str.slice(16, 1).cast(pl.Int32) % 2 == 1) == (pl.col("sex") == "男")
        ).all(),
        birth=(pl.col("id").str.slice(6, 8) == pl.col("birth_date").dt.strftime("%Y%m%d")).all(),
        unique=pl.col("id").is_unique().all(),
        categories=(pl.col("categories").list.len() > 0).all(),
        under_16=(pl.col("birth_date") > pl.date(2009, 12, 31)).any(),
        old_code=(pl.col("id_address_code") == sd.NINGXIANG_OLD).any(),
        collisions=pl.col("shares_name_birth_county").any(),
        dotted=pl.col("name").str.contains("·", literal=True).any(),
    )
    assert all(checks.row(0)), checks
    for surname in sd.HETERONYM_SURNAMES:
        assert persons["name"].str.starts_with(surname).any(), surname


def test_townships_are_real_and_villages_invented(truth: dict[str, pl.DataFrame]) -> None:
    townships = pl.read_csv(sd.REFERENCE_DIR / "hunan_townships_2023.csv", infer_schema=False)
    persons = truth["persons"]
    joined = persons.join(townships, on="township_code", how="left")
    assert (joined["township_name"] == joined["township"]).all()
    assert (joined["county_code_right"] == joined["county_code"]).all()
    per_county = persons.group_by("county_code").agg(pl.col("township_code").n_unique())
    assert per_county["township_code"].is_between(4, 6).all()
    assert persons["village"].str.ends_with("村").all()
    assert (persons["village_code"].str.slice(0, 9) == persons["township_code"]).all()


def test_people_on_two_lists_appear_in_both_files(truth: dict[str, pl.DataFrame]) -> None:
    both = truth["persons"].filter(
        pl.col("categories").list.contains(sd.CAT_POOR),
        pl.col("categories").list.contains(sd.CAT_DIBAO),
    )
    assert both.height > 0
    files = truth["registry_rows"].group_by("person_uid").agg(pl.col("file"))
    listed = both.join(files, on="person_uid")
    assert listed["file"].list.contains(sd.F_DIBAO).all()
    assert (listed["file"].list.len() >= 2).all()


def test_legacy_numbers_upgrade_to_the_true_id(truth: dict[str, pl.DataFrame]) -> None:
    rows = truth["roster_rows"].filter(pl.col("damage").list.contains("id_legacy15"))
    first17 = pl.col("id_written").str.slice(0, 6) + "19" + pl.col("id_written").str.slice(6)
    upgraded = rows.select(first17 + check_character(first17)).to_series()
    assert rows.height > 0 and (upgraded == rows["true_id"]).all()


def test_rosters_are_about_three_times_the_registry(truth: dict[str, pl.DataFrame]) -> None:
    roster = truth["roster_rows"]
    for insurance in ("pension", "medical"):
        size = roster.filter(pl.col("insurance") == insurance).height
        assert 2.2 * PEOPLE < size < 4 * PEOPLE, (insurance, size)
    assert roster["roster_person_no"].is_unique().all()
    assert (roster["roster_person_no"].str.len_chars() != 18).all()
    assert roster["person_uid"].null_count() > roster.height / 2
    # Some registry people have a terminated record next to an active one.
    per_person = (
        roster.filter(pl.col("person_uid").is_not_null())
        .group_by("person_uid", "insurance")
        .agg(
            terminated=pl.col("status").is_in(sd.TERMINATED_STATUSES).any(),
            active=(~pl.col("status").is_in([*sd.TERMINATED_STATUSES, sd.UNKNOWN_STATUS])).any(),
        )
    )
    assert (per_person["terminated"] & per_person["active"]).any()
    assert (per_person["terminated"] & ~per_person["active"]).any()


def test_progress_lines_never_show_an_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sd.main(["--out", str(tmp_path / "quiet"), "--people", "120"])
    printed = capsys.readouterr().out
    assert printed.count("\n") == 12
    assert not re.search(r"\d{15}", printed)


def test_bench_mode_writes_exact_sizes(tmp_path: Path) -> None:
    sd.main(["--out", str(tmp_path), "--bench", "--rows", "5000", "--xlsx-rows", "400"])
    roster = read_csv(tmp_path / sd.F_BENCH_ROSTER, "gb18030", ",")
    assert roster.height == 5000
    assert roster["个人编号"].is_unique().all()
    workbook = openpyxl.load_workbook(tmp_path / sd.F_BENCH_REGISTRY, read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[1][:2] == ("姓名", "证件号码")
    assert len(rows) == 2 + 400


# ---------------------------------------------------------------------------------------------
# --scale: benchmark-size extracts in fast formats, with labelled hard cases
# ---------------------------------------------------------------------------------------------
SCALE_PEOPLE = 2000
SCALE_FILES = [*sd.SCALE_REGISTRY_FILES, *sd.SCALE_ROSTER_FILES]
SCALE_TRUTH = ["persons", "registry_rows", "roster_rows", "coverage"]
SCALE_CSV_ENCODING = {
    sd.F_NX_REGISTRY: "gb18030",
    sd.F_DIBAO: "utf-8-sig",
    sd.F_EMP_MEDICAL: "utf-8-sig",
}


@pytest.fixture(scope="module")
def scale(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scale")
    sd.main(["--out", str(out), "--scale", "--people", str(SCALE_PEOPLE), "--seed", str(SEED)])
    return out


@pytest.fixture(scope="module")
def scale_truth(scale: Path) -> dict[str, pl.DataFrame]:
    return {name: pl.read_parquet(scale / "truth" / f"{name}.parquet") for name in SCALE_TRUTH}


def read_scale_file(path: Path, file: str) -> pl.DataFrame:
    if file.endswith(".parquet"):
        return pl.read_parquet(path)
    return read_csv(path, SCALE_CSV_ENCODING.get(file, "utf-8"), ",")


def test_scale_writes_only_fast_formats(scale: Path) -> None:
    written = {str(p.relative_to(scale)) for p in scale.rglob("*") if p.is_file()}
    assert written == {*SCALE_FILES, *(f"truth/{name}.parquet" for name in SCALE_TRUTH)}
    ningxiang = (scale / sd.F_NX_REGISTRY).read_bytes()
    ningxiang.decode("gbk")
    with pytest.raises(UnicodeDecodeError):
        ningxiang.decode("utf-8")
    assert (scale / sd.F_DIBAO).read_bytes().startswith(b"\xef\xbb\xbf")
    (scale / sd.F_NX_PENSION).read_bytes().decode("utf-8")


def test_scale_same_seed_gives_identical_files(scale: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    sd.main(["--out", str(again), "--scale", "--people", str(SCALE_PEOPLE), "--seed", str(SEED)])
    for file in [*SCALE_FILES, *(f"truth/{name}.parquet" for name in SCALE_TRUTH)]:
        assert (scale / file).read_bytes() == (again / file).read_bytes(), file


def test_scale_truth_rows_match_the_files(
    scale: Path, scale_truth: dict[str, pl.DataFrame]
) -> None:
    for kind, files in (
        ("registry_rows", sd.SCALE_REGISTRY_FILES),
        ("roster_rows", sd.SCALE_ROSTER_FILES),
    ):
        truth = scale_truth[kind]
        assert set(truth["file"]) == set(files)
        for file in files:
            table = read_scale_file(scale / file, file)
            expected = truth.filter(pl.col("file") == file).sort("row")
            assert expected["row"].to_list() == list(range(2, table.height + 2)), file
            id_col = next(c for c in table.columns if c in ID_HEADERS)
            name_col = next(c for c in table.columns if c in NAME_HEADERS)
            assert table[id_col].to_list() == expected["id_written"].to_list(), file
            assert table[name_col].to_list() == expected["name_written"].to_list(), file
    assert scale_truth["persons"].height == SCALE_PEOPLE
    assert scale_truth["coverage"].height == 2 * SCALE_PEOPLE


def test_scale_rosters_follow_the_ratio(scale_truth: dict[str, pl.DataFrame]) -> None:
    roster = scale_truth["roster_rows"]
    assert abs(roster.height / (14 * SCALE_PEOPLE) - 1) < 0.15, roster.height
    pension_share = roster.filter(pl.col("insurance") == "pension").height / roster.height
    assert 0.40 < pension_share < 0.50, pension_share
    assert roster["person_uid"].null_count() > 0.8 * roster.height  # mostly outsiders
    assert roster["roster_person_no"].is_unique().all()
    assert (roster["roster_person_no"].str.len_chars() != 18).all()


def test_scale_damage_is_the_sample_damage(scale_truth: dict[str, pl.DataFrame]) -> None:
    rows = pl.concat(
        [scale_truth[kind].select("damage", "expected_quarantine") for kind in SCALE_TRUTH[1:3]]
    )
    labels = set(rows["damage"].explode().drop_nulls())
    assert labels == set(sd.ALL_DAMAGE_LABELS) - {sd.ID_NUMERIC_CELL}
    reasons = set(rows["expected_quarantine"].drop_nulls())
    assert reasons == {"missing_township", "unknown_category", "unknown_status", "missing_name"}


def test_scale_every_hard_case_occurs(scale_truth: dict[str, pl.DataFrame]) -> None:
    roster = scale_truth["roster_rows"]
    counts = dict(roster["hard_case"].explode().drop_nulls().value_counts().iter_rows())
    assert set(counts) == set(sd.HARD_CASE_LABELS)
    for label in sd.HARD_CASE_LABELS:
        assert counts[label] >= sd.MIN_PER_DAMAGE_KIND, (label, counts)
    for label in (sd.HC_NAMESAKE, sd.HC_REISSUED):
        people = roster.filter(pl.col("hard_case").list.contains(label))
        share = people.select(pl.coalesce("person_uid", "decoy_for")).n_unique() / SCALE_PEOPLE
        assert 0.002 <= share <= 0.01, (label, share)


def test_scale_namesakes_are_near_misses_next_to_a_valid_twin(
    scale_truth: dict[str, pl.DataFrame],
) -> None:
    persons = scale_truth["persons"].select("person_uid", "id", "name", "birth_date", "county")
    roster = scale_truth["roster_rows"]
    near_miss = roster.filter(pl.col("hard_case").list.contains(sd.HC_NAMESAKE))
    assert near_miss["person_uid"].null_count() == 0
    assert (near_miss["id_written"] != near_miss["true_id"]).all()
    assert near_miss["damage"].list.set_intersection(list(sd.NEAR_MISS_ID_DAMAGE)).list.len().min()
    assert (near_miss["name_written"] == near_miss["true_name"]).all()
    decoys = roster.filter(pl.col("hard_case").list.contains(sd.HC_NAMESAKE_DECOY)).join(
        persons, left_on="decoy_for", right_on="person_uid"
    )
    assert decoys.height >= near_miss["person_uid"].n_unique()
    assert (decoys["true_name"] == decoys["name"]).all()
    assert (decoys["id_written"] == decoys["true_id"]).all()
    assert (decoys["true_id"] != decoys["id"]).all()
    birth = decoys["true_id"].str.slice(6, 8)
    assert (birth == decoys["birth_date"].dt.strftime("%Y%m%d")).all()
    # Every target has a decoy in the same insurance.
    pairs = near_miss.select("person_uid", "insurance").unique()
    trapped = decoys.select(person_uid="decoy_for", insurance="insurance").unique()
    assert pairs.join(trapped, on=["person_uid", "insurance"], how="anti").height == 0


def test_scale_outsider_ids_equal_registry_ids_only_when_reissued(
    scale_truth: dict[str, pl.DataFrame],
) -> None:
    persons = scale_truth["persons"].select("person_uid", "id", "name")
    roster = scale_truth["roster_rows"]
    outsiders = roster.filter(pl.col("person_uid").is_null())
    shares_id = outsiders["true_id"].is_in(persons["id"].implode())
    reissued = outsiders["hard_case"].list.contains(sd.HC_REISSUED)
    assert shares_id.sum() >= sd.MIN_PER_DAMAGE_KIND
    assert (shares_id == reissued).all()
    twins = outsiders.filter(reissued).join(persons, left_on="decoy_for", right_on="person_uid")
    assert twins.height == reissued.sum()
    assert (twins["true_id"] == twins["id"]).all()
    assert (twins["id_written"] == twins["true_id"]).all()
    assert (twins["true_name"] != twins["name"]).all()
    # Outsiders' own numbers are distinct: one name a number, at most two records an insurance.
    per_id = (
        outsiders.filter(~reissued)
        .group_by("true_id", "insurance")
        .agg(pl.len(), names=pl.col("true_name").n_unique())
    )
    assert per_id["len"].max() <= 2 and per_id["names"].max() == 1


def test_scale_coverage_lists_each_persons_records(scale_truth: dict[str, pl.DataFrame]) -> None:
    roster = scale_truth["roster_rows"]
    coverage = scale_truth["coverage"]
    own = roster.filter(pl.col("person_uid").is_not_null())
    listed = coverage.select("person_uid", "insurance", "roster_person_nos").explode(
        "roster_person_nos"
    )
    assert listed["roster_person_nos"].drop_nulls().sort().to_list() == (
        own["roster_person_no"].sort().to_list()
    )
    # A person on a terminated-only record has no active record.
    only = own.filter(pl.col("hard_case").list.contains(sd.HC_TERMINATED_ONLY)).select(
        "person_uid", "insurance"
    )
    joined = only.unique().join(coverage, on=["person_uid", "insurance"])
    assert joined.height > 0 and not joined["has_active_record"].any()
    with_active = own.filter(pl.col("hard_case").list.contains(sd.HC_TERMINATED_WITH_ACTIVE))
    joined = (
        with_active.select("person_uid", "insurance")
        .unique()
        .join(coverage, on=["person_uid", "insurance"])
    )
    assert joined.height > 0 and joined["has_active_record"].all()
    labels = set(coverage["hard_case"].explode().drop_nulls())
    assert {sd.HC_NAMESAKE, sd.HC_REISSUED, sd.HC_TERMINATED_ONLY} <= labels


def test_scale_people_appear_on_two_lists(scale_truth: dict[str, pl.DataFrame]) -> None:
    rows = scale_truth["registry_rows"]
    per_person = rows.group_by("person_uid").agg(pl.col("file").n_unique())
    assert (per_person["file"] >= 2).any()
    assert per_person.height == SCALE_PEOPLE


@pytest.mark.parametrize(
    ("model", "commonest_at_most", "unique_at_least"),
    [
        ("realistic", 0.001, 0.3),
        ("crowded", 0.01, 0.0),
    ],
)
def test_name_models(model: str, commonest_at_most: float, unique_at_least: float) -> None:
    """Realistic names: the commonest is under 0.1% of people (0.06% here; 张伟 is 0.02% in China)
    and half the names are held by one person in 200,000; crowded names all repeat."""
    n = 200_000
    people = pl.DataFrame(
        {"county_code": [sd.NINGXIANG] * n, "male": [i % 2 == 0 for i in range(n)]}
    )
    surname, given = sd.draw_names(sd.stage_rng(SEED, "names"), people, model)
    counts = pl.Series(surname + given).value_counts().get_column("count")
    commonest = counts.max() / n
    held_by_one = (counts == 1).sum() / n
    assert commonest <= commonest_at_most
    assert held_by_one >= unique_at_least
    if model == "crowded":
        assert commonest > 0.0008  # every name is about as common as the commonest in China


def test_homophones_give_a_same_sounding_character() -> None:
    from pypinyin import lazy_pinyin

    pairs = sd.homophones()
    assert sd.HOMOPHONES.items() <= pairs.items()
    derived = {a: b for a, b in pairs.items() if a not in sd.HOMOPHONES}
    assert len(derived) > 100
    assert all(a != b and lazy_pinyin(a) == lazy_pinyin(b) for a, b in derived.items())
