"""A province-shaped input folder: Hunan's 122 counties at a fraction of the 2014 peak.

    python -m pipelines.scale_data --out DIR --scale 0.01 [--seed S] [--counties CODE,CODE]
                                   [--names realistic|crowded]

The people, damage, hard cases and truth are those of `sample_data --scale` (the same functions
draw them); what changes is the geography. Every official county (`hunan_counties_2023.csv`,
statistical-only units left out) gets its own registry people, in its own real townships, and
its own roster-only people, and is written before the next is drawn, so memory is bounded by
the largest county, never the province:

    registry/建档立卡_<code><county>.csv         one per county; one row per person, all the
                                                   lists they are on in 人员类别 (、-separated);
                                                   every third county GB18030 with CRLF and the
                                                   head-of-household columns, the rest UTF-8
    pension/城乡居民养老保险_<code><county>.csv|.parquet   one per county, CSV or Parquet
    medical/城乡居民医保_<code><county>.parquet  one per county
    pension/职工养老保险_<city>.csv              one per city (市州): every county's employees
    medical/职工医保_<city>.csv                  one per city, UTF-8 with BOM
    truth/persons, registry_rows, roster_rows, coverage .parquet   as in --scale, province-wide

Sizes. At SCALE = 1 the registry holds PROVINCE_REGISTRY_PEOPLE (6.8 million, the 2014 peak)
and the rosters about 6.8x (pension) and 8.4x (medical) that: about 110 million rows, 12 GB.
A county's share is drawn once from a seeded log-normal, lower for city districts (市辖区 hold
few registered poor) and higher in the western mountain prefectures, then held between
COUNTY_PEOPLE_BOUNDS (20,000-150,000 at full scale, the range of real counties).

ID numbers carry the county's code, or for people born before it changed, the county's old
code from the 1980-2019 history (宁乡县 430124 → 宁乡市 430182, 株洲县 → 渌口区, 邵东县 → 邵东市
and about eighty more, paired by name): each address code belongs to one county only, so IDs
are distinct across the province without a province-wide check.
"""

from __future__ import annotations

import argparse
import itertools
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from pipelines import sample_data as sd
from pipelines.paths import REFERENCE_DIR

PROVINCE_REGISTRY_PEOPLE = 6_800_000
# Pension and medical roster rows per registry person, together (6.8 + 8.4).
PROVINCE_ROSTER_RATIO = 15.2
COUNTY_PEOPLE_BOUNDS = (20_000, 150_000)
# Below this a county cannot hold every hard case (force_rare_names needs a handful of people).
MIN_COUNTY_PEOPLE = 60
# Share of people born before their county's code changed who still carry the old code.
OLD_CODE_SHARE = 0.4
# Prefectures in the Wuling and Xuefeng mountains, where most of Hunan's poor lived.
MOUNTAIN_CITIES = ("湘西土家族苗族自治州", "怀化市", "张家界市", "邵阳市", "永州市", "娄底市")
# Name stems of renamed counties the history cannot pair by name.
RENAMED = {"430221": "430212"}  # 株洲县 → 渌口区 (2018)


@dataclass(frozen=True)
class County:
    index: int
    code: str
    name: str
    city_code: str
    city_name: str
    people: int
    old_code: str | None
    old_until: int | None  # people born before this year may carry old_code


# =============================================================================================
# Geography: the counties, their sizes and old codes
# =============================================================================================
def name_stem(name: pl.Expr) -> pl.Expr:
    """宁乡县 and 宁乡市 are the same place: the name without its level suffix."""
    return name.str.replace(
        r"(土家族苗族自治县|苗族自治县|侗族自治县|瑶族自治县|自治县|县|市|区)$", ""
    )


def old_codes() -> pl.DataFrame:
    """county_code → its most recent retired code and the year that code stopped.

    A retired code (absent from the 2023 list) is paired with the 2023 county of the same name
    stem; codes two counties could claim are dropped, so every address code has one owner.
    """
    current = pl.read_csv(REFERENCE_DIR / "hunan_counties_2023.csv", infer_schema=False).filter(
        pl.col("statistical_only") == "0"
    )
    history = pl.read_csv(
        REFERENCE_DIR / "hunan_division_codes_history_1980_2019.csv", infer_schema=False
    ).filter(pl.col("level") == "county", ~pl.col("code").is_in(current["county_code"].implode()))
    stems = current.select("county_code", stem=name_stem(pl.col("county_name")))
    by_stem = stems.filter(pl.col("stem").is_unique())
    paired = history.with_columns(stem=name_stem(pl.col("name"))).join(by_stem, on="stem")
    renamed = history.filter(pl.col("code").is_in(list(RENAMED))).with_columns(
        county_code=pl.col("code").replace_strict(RENAMED)
    )
    return (
        pl.concat([paired.select(renamed.columns), renamed], how="vertical_relaxed")
        .filter(pl.col("code").n_unique().over("code") == 1)
        .filter(pl.col("county_code").n_unique().over("code") == 1)
        .with_columns(until=pl.col("last_revision").str.slice(0, 4).cast(pl.Int32) + 1)
        .sort("until", descending=True)
        .unique("county_code", keep="first")
        .select("county_code", old_code="code", old_until="until")
    )


def county_weights(seed: int, counties: pl.DataFrame) -> np.ndarray:
    """Relative number of registered poor per county (seeded, so the same every run)."""
    rng = sd.stage_rng(seed, "province_county_sizes")
    weights = rng.lognormal(0.0, 0.45, counties.height)
    district = counties["county_name"].str.ends_with("区").to_numpy()
    mountain = counties["city_name"].is_in(list(MOUNTAIN_CITIES)).to_numpy()
    return weights * np.where(district, 0.35, 1.0) * np.where(mountain, 1.6, 1.0)


def county_sizes(weights: np.ndarray, total: int, bounds: tuple[int, int]) -> np.ndarray:
    """Split total by weight, every county within bounds (clip, then share out the rest)."""
    low, high = bounds
    sizes = weights / weights.sum() * total
    for _ in range(50):
        sizes = np.clip(sizes, low, high)
        free = (sizes > low) & (sizes < high)
        gap = total - sizes.sum()
        if abs(gap) < 1 or not free.any():
            break
        sizes[free] += gap * weights[free] / weights[free].sum()
    return np.round(sizes).astype(np.int64)


def province_counties(seed: int, scale: float, only: tuple[str, ...] = ()) -> list[County]:
    """Every official county with its size at this scale (only: a subset, for tests)."""
    counties = (
        pl.read_csv(REFERENCE_DIR / "hunan_counties_2023.csv", infer_schema=False)
        .filter(pl.col("statistical_only") == "0")
        .sort("county_code")
    )
    low, high = COUNTY_PEOPLE_BOUNDS
    full = county_sizes(county_weights(seed, counties), PROVINCE_REGISTRY_PEOPLE, (low, high))
    people = np.maximum(np.round(full * scale), MIN_COUNTY_PEOPLE).astype(np.int64)
    counties = counties.with_columns(people=pl.Series(people)).join(
        old_codes(), on="county_code", how="left", maintain_order="left"
    )
    if only:
        counties = counties.filter(pl.col("county_code").is_in(list(only)))
    return [
        County(
            index=i,
            code=row["county_code"],
            name=row["county_name"],
            city_code=row["city_code"],
            city_name=row["city_name"],
            people=row["people"],
            old_code=row["old_code"],
            old_until=row["old_until"],
        )
        for i, row in enumerate(counties.iter_rows(named=True))
    ]


def county_seed(seed: int, county: County) -> int:
    """Each county draws from its own streams: no two counties share a damage pattern."""
    return zlib.crc32(f"{seed}:{county.code}".encode())


def county_villages(seed: int, county: County) -> pl.DataFrame:
    """The county's real 乡/镇 (街道 where it has none), each with 3-8 invented villages.

    The sample's household builder spreads people over two counties; here the villages are
    labelled alternately with its two template counties (in `county_code`) so it spreads them
    over all of this county's villages, and the labels also pick the surname pools (Hunan-wide
    and 湘西). The real county replaces the labels before any ID is drawn.
    """
    rng = sd.stage_rng(seed, "province_villages")
    townships = pl.read_csv(REFERENCE_DIR / "hunan_townships_2023.csv", infer_schema=False).filter(
        pl.col("county_code") == county.code
    )
    rural = townships.filter(pl.col("township_type").is_in(["镇", "乡"]))
    townships = (rural if rural.height else townships).sort("township_code")
    n_villages = rng.integers(3, 9, size=townships.height)
    stems = np.array(sd.NINGXIANG_VILLAGE_STEMS + sd.FENGHUANG_VILLAGE_STEMS)
    total = int(n_villages.sum())
    names = rng.choice(stems, size=total, replace=total > stems.size)
    village_no = np.concatenate([np.arange(k) for k in n_villages])
    label = np.where(np.arange(total) % 2 == 0, sd.NINGXIANG, sd.FENGHUANG)
    return (
        pl.DataFrame(
            {
                "township_code": np.repeat(townships["township_code"].to_numpy(), n_villages),
                "township_name": np.repeat(townships["township_name"].to_numpy(), n_villages),
                "village_name": [f"{stem}村" for stem in names],
                "village_suffix": [f"{201 + k:03d}" for k in village_no],
                "county_code": label,
            }
        )
        .with_columns(village_code=pl.col("township_code") + pl.col("village_suffix"))
        .drop("village_suffix")
        .with_row_index("village_idx")
    )


# =============================================================================================
# People of one county
# =============================================================================================
def county_address_codes(rng: np.random.Generator, people: pl.DataFrame, county: County):
    """The county's code, or its old code for some of those born before the change."""
    code = np.full(people.height, county.code, dtype=object)
    if county.old_code is not None:
        born_before = people["birth_date"].dt.year().to_numpy() < county.old_until
        keeps_old = born_before & (rng.random(people.height) < OLD_CODE_SHARE)
        code[keeps_old] = county.old_code
    return code


def county_population(
    seed: int, county: County, n_registry: int, n_outsiders: int, names: str = "realistic"
) -> pl.DataFrame:
    """Registry people (pid 0..n_registry-1) and outsiders of one county, as build_population
    draws them, with the county's own codes (no one moves in from another county: that would
    need a province-wide uniqueness check of IDs)."""
    villages = county_villages(seed, county)
    population = sd.named_people(seed, n_registry, n_outsiders, villages, names)
    population = population.with_columns(
        county_code=pl.lit(county.code),
        age=sd.age_on(pl.col("birth_date"), sd.EXTRACT_DATE),
    )
    id_rng = sd.stage_rng(seed, "ids")
    population = population.with_columns(
        address_code=sd.text_series(county_address_codes(id_rng, population, county))
    )
    population = sd.assign_id_numbers(id_rng, population).with_columns(
        is_registry=pl.col("pid") < n_registry,
        county_name=pl.lit(county.name),
        sex=pl.when(pl.col("male")).then(pl.lit("男")).otherwise(pl.lit("女")),
    )
    registry = sd.assign_categories(
        sd.stage_rng(seed, "categories"), population.filter(pl.col("is_registry"))
    )
    registry = sd.number_households(registry).with_columns(
        # Unique across the province: the county code, then the person's number in it.
        person_uid=pl.lit("P" + county.code) + (pl.col("pid") + 1).cast(pl.String).str.zfill(7),
        relation=sd.relation_text(),
    )
    population = pl.concat(
        [registry, population.filter(~pl.col("is_registry"))], how="diagonal"
    ).sort("pid")
    return sd.reissue_ids(sd.stage_rng(seed, "scale_reissue"), population, n_registry)


# =============================================================================================
# Files of one county
# =============================================================================================
def registry_template(county: County) -> str:
    """Which of the sample's registry layouts (and its FileSpec) this county's file takes."""
    return sd.F_NX_REGISTRY if county.index % 3 == 0 else sd.S_FH_REGISTRY


def registry_path(county: County) -> str:
    return f"registry/建档立卡_{county.code}{county.name}.csv"


def county_registry_rows(seed: int, county: County, population: pl.DataFrame) -> pl.DataFrame:
    """One row per registry person (every list they are on in one cell), damaged, numbered."""
    rng = sd.stage_rng(seed, "province_registry_rows")
    registry = population.filter(pl.col("is_registry"))
    template = registry_template(county)
    rows = sd.system_registry_rows(
        registry.with_columns(student_text=sd.school_text(rng, registry)),
        registry,
        template,
        pl.col("categories").list.join("、"),
    ).with_columns(order_key=pl.int_range(0, pl.len()))
    rows = sd.apply_damage(
        seed, sd.attach_truth_columns(rows, population), stage="province_registry_damage"
    )
    rows = sd.inject_bad_rows(seed, rows, sd.scaled_bad_rows(county.people, (template,)))
    return sd.number_rows(rows)


def write_county_registry(rows: pl.DataFrame, county: County, out: Path) -> str:
    path = out / registry_path(county)
    if registry_template(county) == sd.F_NX_REGISTRY:
        sd.write_ningxiang_registry(rows, path)
    else:
        sd.write_county_system_registry(rows, path)
    return registry_path(county)


@dataclass(frozen=True)
class RosterTarget:
    """Where a sample template file's records go for one county."""

    path: str
    city_level: bool
    number_prefix: str  # roster_person_no prefix: unique per file, never ID-shaped
    region: str  # 参保地 / 统筹区 as this file writes it


def roster_targets(county: County) -> dict[str, RosterTarget]:
    """Template roster file (SCALE_ROSTER_FILES) → this county's or its city's real file."""
    city = county.city_name
    pension_ext = "csv" if county.index % 2 == 0 else "parquet"
    county_pension = RosterTarget(
        f"pension/城乡居民养老保险_{county.code}{county.name}.{pension_ext}",
        False,
        county.code + "1",
        county.name if pension_ext == "csv" else county.code,
    )
    return {
        sd.F_NX_PENSION: county_pension,
        sd.S_FH_PENSION: county_pension,
        sd.S_EMP_PENSION: RosterTarget(
            f"pension/职工养老保险_{city}.csv", True, county.city_code[:4] + "2", city
        ),
        sd.F_RES_MEDICAL: RosterTarget(
            f"medical/城乡居民医保_{county.code}{county.name}.parquet", False, county.code + "3", ""
        ),
        sd.F_EMP_MEDICAL: RosterTarget(
            f"medical/职工医保_{city}.csv", True, county.city_code[:4] + "4", city
        ),
    }


def county_roster_codes(seed: int, county: County, population: pl.DataFrame) -> pl.DataFrame:
    """Every roster record of the county as small codes, routed to template files and numbered
    within each (resident pension goes to one file per county)."""
    code = sd.ROSTER_FILE_CODE
    resident_pension = code[sd.F_NX_PENSION if county.index % 2 == 0 else sd.S_FH_PENSION]
    return sd.scale_roster_codes(seed, population, resident_pension=resident_pension)


def place_chunk(
    chunk: pl.DataFrame, targets: dict[str, RosterTarget], offsets: dict[str, int]
) -> pl.DataFrame:
    """Template file names → real ones; rows and 个人编号 continue where the file left off
    (a city file holds several counties)."""
    template = pl.col("file")
    real = template.replace_strict({t: x.path for t, x in targets.items()})
    offset = real.replace_strict(offsets, default=0, return_dtype=pl.Int64)
    first_row = template.replace_strict(
        {t: sd.FILE_SPECS[t].first_data_row for t in targets}, return_dtype=pl.Int64
    )
    within = pl.col("row") - first_row + offset  # scale_roster_chunk numbered from first_row
    number = (within + 1) * 7 + 10_000
    return chunk.with_columns(
        file=real,
        row=within + 2,  # every file here is flat: header on line 1
        roster_person_no=template.replace_strict({t: x.number_prefix for t, x in targets.items()})
        + number.cast(pl.String).str.zfill(8),
        region_text=template.replace_strict({t: x.region for t, x in targets.items()}),
    )


def write_county_rosters(
    seed: int,
    county: County,
    population: pl.DataFrame,
    writers: tuple[sd.ChunkWriter, sd.ChunkWriter],
    offsets: dict[str, int],
) -> tuple[dict[str, int], pl.DataFrame]:
    """Draw, damage and write the county's roster records in chunks; return rows per file and
    the records the coverage truth needs."""
    county_writer, province_writer = writers
    codes = sd.mark_hard_cases(
        seed, county_roster_codes(seed, county, population), population, county.people
    )
    lookup = population.select("person_uid", true_id="id", true_name="name")
    targets = roster_targets(county)
    counts: dict[str, int] = {}
    kept = []
    n_chunks = max(1, -(-codes.height // sd.SCALE_CHUNK_ROWS))
    bounds = np.linspace(0, codes.height, n_chunks + 1).round().astype(np.int64)
    for index, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        chunk = sd.scale_roster_chunk(seed, index, codes.slice(lo, hi - lo), lookup)
        chunk = place_chunk(chunk, targets, offsets)
        for template, target in targets.items():
            part = chunk.filter(pl.col("file_code") == sd.ROSTER_FILE_CODE[template])
            if part.height == 0:
                continue
            encoding, layout = sd.SCALE_ROSTER_LAYOUT[template]
            writer = province_writer if target.city_level else county_writer
            writer.write(target.path, part.select(**layout), encoding)
            counts[target.path] = counts.get(target.path, 0) + part.height
        province_writer.write(
            "truth/roster_rows.parquet", chunk.select(sd.SCALE_ROSTER_TRUTH_COLUMNS), "parquet"
        )
        kept.append(sd.coverage_truth_records(chunk))
    # `within` counts the whole county, so a shared file's offset moves once per county.
    for path, rows in counts.items():
        offsets[path] = offsets.get(path, 0) + rows
    return counts, pl.concat(kept)


# =============================================================================================
# The province
# =============================================================================================
def generate_county(
    seed: int,
    county: County,
    out: Path,
    province_writer: sd.ChunkWriter,
    offsets: dict[str, int],
    names: str = "realistic",
) -> dict[str, int]:
    """Everything of one county, written before the next county is drawn."""
    seed = county_seed(seed, county)
    outsiders = sd.scale_outsider_count(county.people, PROVINCE_ROSTER_RATIO)
    population = county_population(seed, county, county.people, outsiders, names)
    persons = sd.persons_truth(population)
    registry_rows = county_registry_rows(seed, county, population)
    counts = {write_county_registry(registry_rows, county, out): registry_rows.height}
    province_writer.write("truth/persons.parquet", persons, "parquet")
    province_writer.write(
        "truth/registry_rows.parquet",
        sd.registry_rows_truth(registry_rows.with_columns(file=pl.lit(registry_path(county)))),
        "parquet",
    )
    county_writer = sd.ChunkWriter(out)
    try:
        roster_counts, kept = write_county_rosters(
            seed, county, population, (county_writer, province_writer), offsets
        )
    finally:
        county_writer.close()
    province_writer.write("truth/coverage.parquet", sd.coverage_truth(persons, kept), "parquet")
    return counts | roster_counts


def generate_province(
    out: Path,
    scale: float,
    seed: int = 20171,
    only: tuple[str, ...] = (),
    names: str = "realistic",
) -> dict[str, int]:
    """Write the province at this scale, county by county; return rows per file."""
    started = time.perf_counter()
    counties = province_counties(seed, scale, only)
    province_writer = sd.ChunkWriter(out)
    offsets: dict[str, int] = {}
    counts: dict[str, int] = {}
    try:
        for county in counties:
            county_counts = generate_county(seed, county, out, province_writer, offsets, names)
            for path, rows in county_counts.items():
                counts[path] = counts.get(path, 0) + rows
            sd.report(
                f"{county.code} {county.name}: {county.people} registry people, "
                f"{sum(county_counts.values())} rows ({time.perf_counter() - started:.1f}s)"
            )
    finally:
        province_writer.close()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.scale_data", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--scale", type=float, default=0.01, help="fraction of the 2014 province (default 0.01)"
    )
    parser.add_argument("--seed", type=int, default=20171, help="random seed (default 20171)")
    parser.add_argument(
        "--counties", default="", help="comma-separated county codes (default: all 122)"
    )
    parser.add_argument(
        "--names",
        choices=sd.NAME_MODELS,
        default="realistic",
        help="name model, as in sample_data --scale (default realistic)",
    )
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1:
        parser.error("--scale is a fraction of the province, in (0, 1]")
    only = tuple(code for code in args.counties.split(",") if code)
    counts = generate_province(args.out, args.scale, args.seed, only, args.names)
    sd.report(f"wrote {sum(counts.values())} rows in {len(counts)} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
