"""The province generator at a tiny fraction: files per county, IDs, truth, determinism."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.normalise.ids import check_character
from pipelines.scale_data import generate_province, old_codes, province_counties

# 宁乡市 (an old code, 430124) and 凤凰县 (another city), at 60 registry people each.
COUNTIES = ("430182", "433123")
SCALE = 0.0001


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("province")
    generate_province(out, SCALE, only=COUNTIES)
    return out


def test_one_registry_pension_and_medical_file_per_county_and_employee_files_per_city(
    province: Path,
):
    for code in COUNTIES:
        for source in ("registry", "pension", "medical"):
            assert len(list((province / source).glob(f"*_{code}*"))) == 1, (source, code)
    cities = {"长沙市", "湘西土家族苗族自治州"}
    assert {p.stem.split("_")[1] for p in (province / "pension").glob("职工养老保险_*")} == cities
    assert {p.stem.split("_")[1] for p in (province / "medical").glob("职工医保_*")} == cities


def test_ids_are_valid_and_carry_their_county_code_or_its_old_code(province: Path):
    persons = pl.read_parquet(province / "truth" / "persons.parquet")
    assert persons["id"].is_unique().all()
    checks = persons.select(
        ok=check_character(pl.col("id").str.slice(0, 17)) == pl.col("id").str.slice(17)
    )
    assert checks["ok"].all()
    address = dict(
        persons.group_by("county_code").agg(pl.col("id_address_code").unique()).iter_rows()
    )
    assert set(address) == set(COUNTIES)
    assert set(address["433123"]) == {"433123"}
    assert set(address["430182"]) == {"430182", "430124"}  # 宁乡县 until 2017


def test_old_codes_belong_to_one_county_each():
    codes = old_codes()
    assert codes["old_code"].is_unique().all()
    assert dict(codes.select("county_code", "old_code").iter_rows())["430182"] == "430124"


def test_county_sizes_fill_the_province_within_real_county_bounds():
    sizes = [c.people for c in province_counties(20171, 1.0)]
    assert len(sizes) == 122
    assert sum(sizes) == pytest.approx(6_800_000, abs=200)
    assert min(sizes) >= 20_000 and max(sizes) <= 150_000


def test_truth_rows_are_the_rows_in_the_files(province: Path):
    truth = pl.read_parquet(province / "truth" / "roster_rows.parquet")
    for path in (province / "medical").glob("城乡居民医保_*.parquet"):
        written = pl.read_parquet(path)
        mine = truth.filter(pl.col("file") == f"medical/{path.name}").sort("row")
        assert written.height == mine.height
        assert written["参保人编号"].to_list() == mine["roster_person_no"].to_list()
        assert written["证件号码"].to_list() == mine["id_written"].to_list()
    assert truth["roster_person_no"].is_unique().all()
    registry = pl.read_parquet(province / "truth" / "registry_rows.parquet")
    persons = pl.read_parquet(province / "truth" / "persons.parquet")
    assert registry.height == persons.height  # one registry row per person
    assert registry["person_uid"].is_unique().all()


def test_the_same_seed_writes_the_same_files(province: Path, tmp_path: Path):
    generate_province(tmp_path, SCALE, only=COUNTIES)
    for path in sorted(province.rglob("*.csv")):
        assert (tmp_path / path.relative_to(province)).read_bytes() == path.read_bytes()
    for name in ("persons", "roster_rows"):
        assert pl.read_parquet(tmp_path / "truth" / f"{name}.parquet").equals(
            pl.read_parquet(province / "truth" / f"{name}.parquet")
        )
