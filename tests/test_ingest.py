"""Reading what counties send: encodings, delimiters, layouts, aliases, traps and broken files."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from pipelines.config import Config
from pipelines.ingest import LayoutError, SheetProblems, read_chunks
from tests.conftest import REGISTRY_HEADER, registry_row, valid_id, write_csv, write_xlsx

ID_A = valid_id("43012419900101123")
ID_B = valid_id("43312319850505002")


def read_all(
    path: Path, config: Config, source: str = "registry", problems: SheetProblems | None = None
) -> pl.DataFrame:
    chunks = list(
        read_chunks(path, source, config, path.parent / "_work", problems or SheetProblems())
    )
    return pl.concat(chunks, how="diagonal") if chunks else pl.DataFrame()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_csv_encodings_read_the_same_rows(tmp_path: Path, config: Config, encoding: str) -> None:
    rows = [REGISTRY_HEADER, registry_row("张三", ID_A), registry_row("曾䶮", ID_B)]
    if encoding == "gbk":  # 䶮 is outside GBK; GBK files simply do not carry it
        rows[2] = registry_row("曾岩", ID_B)
    path = write_csv(tmp_path / "r.csv", rows, encoding=encoding)
    frame = read_all(path, config)
    assert frame.get_column("name").to_list() == [rows[1][0], rows[2][0]]
    assert frame.get_column("id_number").to_list() == [ID_A, ID_B]
    assert frame.get_column("_row").to_list() == [2, 3]


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_csv_delimiters_are_detected(tmp_path: Path, config: Config, delimiter: str) -> None:
    path = write_csv(
        tmp_path / "r.csv", [REGISTRY_HEADER, registry_row("张三", ID_A)], delimiter=delimiter
    )
    assert read_all(path, config).get_column("township").to_list() == ["甲镇"]


def test_csv_ids_are_never_parsed_as_numbers(tmp_path: Path, config: Config) -> None:
    header = [*REGISTRY_HEADER, "人员编号"]
    rows = [header, [*registry_row("张三", "430124199001011000"), "000123"]]
    frame = read_all(write_csv(tmp_path / "r.csv", rows), config)
    assert frame.schema["id_number"] == pl.String
    assert frame.get_column("person_key").to_list() == ["000123"]
    assert frame.get_column("id_number").to_list() == ["430124199001011000"]


def test_csv_title_lines_above_the_header(tmp_path: Path, config: Config) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        [REGISTRY_HEADER, registry_row("张三", ID_A)],
        encoding="gb18030",
        title_lines=["宁乡市建档立卡贫困人口名单", "单位：人"],
    )
    frame = read_all(path, config)
    assert frame.get_column("_row").to_list() == [4]


def test_csv_line_with_extra_fields_is_marked(tmp_path: Path, config: Config) -> None:
    rows = [REGISTRY_HEADER, registry_row("张三", ID_A), [*registry_row("李四", ID_B), "多余"]]
    frame = read_all(write_csv(tmp_path / "r.csv", rows), config)
    assert frame.get_column("_extra_fields").to_list() == [False, True]


@pytest.mark.parametrize("source", ["registry", "pension"])
def test_every_configured_alias_is_recognised(tmp_path: Path, config: Config, source: str) -> None:
    table = config.headers.registry if source == "registry" else config.headers.roster
    required = (
        ("name", "id_number", "county", "township", "village", "category")
        if (source == "registry")
        else ("roster_person_no", "name", "id_number", "scheme", "status")
    )
    for field, aliases in table.model_dump().items():
        for alias in aliases:
            others = [table.model_dump()[f][0] for f in required if f != field]
            header = [alias, *others]
            values = ["值" if f != "id_number" else ID_A for f in [field, *required]]
            path = write_csv(
                tmp_path / f"{field}-{len(alias)}.csv", [header, values[: len(header)]]
            )
            frame = read_all(path, config, source)
            assert field in frame.columns, f"{alias} was not recognised as {field}"


def test_household_head_id_is_never_the_persons_id(tmp_path: Path, config: Config) -> None:
    header = ["姓名", "户主姓名", "户主身份证号", "县市区", "乡镇", "村", "人员类别"]
    path = write_csv(
        tmp_path / "r.csv", [header, ["张三", "张大", ID_B, "宁乡市", "甲镇", "一村", "低保对象"]]
    )
    with pytest.raises(LayoutError, match="户主身份证号是户主的号码"):
        read_all(path, config)


def test_household_head_columns_beside_the_persons_are_ignored(
    tmp_path: Path, config: Config
) -> None:
    header = ["户主姓名", "户主身份证号", *REGISTRY_HEADER]
    path = write_csv(tmp_path / "r.csv", [header, ["张大", ID_B, *registry_row("张三", ID_A)]])
    frame = read_all(path, config)
    assert frame.get_column("name").to_list() == ["张三"]
    assert frame.get_column("id_number").to_list() == [ID_A]


def test_roster_personal_number_is_not_an_id(tmp_path: Path, config: Config) -> None:
    header = ["个人编号", "姓名", "身份证号", "险种", "参保状态"]
    path = write_csv(
        tmp_path / "p.csv",
        [header, ["43000000000001", "张三", ID_A, "城乡居民基本养老保险", "参保缴费"]],
    )
    frame = read_all(path, config, "pension")
    assert frame.get_column("roster_person_no").to_list() == ["43000000000001"]
    assert frame.get_column("id_number").to_list() == [ID_A]


def test_xlsx_layout_title_rows_merged_cells_totals_and_numeric_ids(
    tmp_path: Path, config: Config
) -> None:
    header = ["姓名", "公民身份号码", "县(市、区)", "乡(镇、街道)", "行政村", "贫困户属性"]
    rows = [
        ["凤凰县建档立卡贫困人口花名册"],
        ["填报单位：凤凰县扶贫办"],
        header,
        ["张三", int(ID_A), "凤凰县", "沱江镇", "一村", "一般贫困户"],
        ["李四", ID_B, None, None, None, "低保贫困户"],
        ["合计", "2"],
        ["制表人：王某  审核人：李某"],
    ]
    path = write_xlsx(
        tmp_path / "r.xlsx",
        {"沱江镇": rows, "空表": []},
        merges={"沱江镇": ["A1:F1", "C4:C5", "D4:D5", "E4:E5"]},
    )
    frame = read_all(path, config)
    people = frame.filter(pl.col("_skip_reason").is_null())
    assert people.get_column("_row").to_list() == [4, 5]
    assert people.get_column("township").to_list() == ["沱江镇", "沱江镇"]
    assert people.get_column("village").to_list() == ["一村", "一村"]
    assert people.get_column("_id_numeric_cell").to_list() == [True, False]
    assert people.get_column("id_number").item(1) == ID_B
    skipped = frame.filter(pl.col("_skip_reason").is_not_null())
    assert skipped.get_column("_row").to_list() == [6, 7]


def test_xlsx_reads_every_sheet_and_reports_unreadable_ones(tmp_path: Path, config: Config) -> None:
    sheets = {
        "甲镇": [REGISTRY_HEADER, registry_row("张三", ID_A, "甲镇")],
        "乙镇": [["名单"], REGISTRY_HEADER, registry_row("李四", ID_B, "乙镇")],
        "说明": [["本表由扶贫办提供"]],
    }
    problems = SheetProblems()
    frame = read_all(write_xlsx(tmp_path / "r.xlsx", sheets), config, problems=problems)
    assert frame.get_column("_sheet").to_list() == ["甲镇", "乙镇"]
    assert frame.get_column("_row").to_list() == [2, 3]
    assert list(problems.errors) == ["说明"]


def test_xlsx_rows_are_numbered_as_excel_shows_them(tmp_path: Path, config: Config) -> None:
    rows = [[], [], [None, *REGISTRY_HEADER], [None, *registry_row("张三", ID_A)]]
    frame = read_all(write_xlsx(tmp_path / "r.xlsx", {"甲镇": rows}), config)
    assert frame.get_column("_row").to_list() == [4]


def test_parquet_numbers_become_text(tmp_path: Path, config: Config) -> None:
    path = tmp_path / "m.parquet"
    pl.DataFrame(
        {
            "参保人编号": [1001],
            "姓名": ["张三"],
            "证件号码": [ID_A],
            "险种": ["城乡居民基本医疗保险"],
            "参保状态": ["参保缴费"],
        }
    ).write_parquet(path)
    frame = read_all(path, config, "medical")
    assert frame.get_column("roster_person_no").to_list() == ["1001"]
    assert frame.get_column("_row").to_list() == [2]


BROKEN_FILES = {
    "empty.csv": b"",
    "random.csv": os.urandom(4096),
    "truncated.xlsx": None,  # filled in by the test from a real workbook
    "wrong_encoding.csv": ",".join(REGISTRY_HEADER).encode("big5", errors="replace") + b"\r\n",
    "missing_column.csv": "姓名,身份证号,县市区\r\n张三,1,宁乡市\r\n".encode(),
    "legacy.xls": b"\xd0\xcf\x11\xe0" + b"\x00" * 100,
}


@pytest.mark.parametrize("name", list(BROKEN_FILES))
def test_broken_files_raise_a_plain_reason(tmp_path: Path, config: Config, name: str) -> None:
    path = tmp_path / name
    if name == "truncated.xlsx":
        good = write_xlsx(
            tmp_path / "good.xlsx", {"甲镇": [REGISTRY_HEADER, registry_row("张三", ID_A)] * 50}
        )
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    else:
        path.write_bytes(BROKEN_FILES[name])
    with pytest.raises(LayoutError) as raised:
        read_all(path, config)
    assert str(raised.value)  # a reason an officer can read
