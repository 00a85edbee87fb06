"""`make bench`: speed, memory and matching quality on generated data.

Two parts, each measured in a fresh child process so its peak memory (ru_maxrss) is its own:

1. ingest + validation + normalisation of a 1,000,000-row GB18030 roster CSV and a 100,000-row
   xlsx (targets: the CSV in < 10 s and < 2 GiB);
2. matching at 10,000 and 100,000 registry people with rosters about 14 times larger, scored
   against the generator's ground truth, beside the exact-ID join an officer's VLOOKUP gives
   (targets: recall >= 99.9 %, no false write-offs, review <= 0.5 %, matching < 5 s at 100,000).

    python -m pipelines.bench                         # both parts, default sizes
    python -m pipelines.bench --part matching --people 10000,100000,1000000
    python -m pipelines.bench --part ingest --rows 200000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipelines.paths import INTERIM_DIR

BENCH_DIR = INTERIM_DIR / "bench"
INGEST_CASES = {
    # label: (source folder, file name)
    "roster CSV (GB18030)": ("pension", "bench_roster.csv"),
    "registry xlsx": ("registry", "bench_registry.xlsx"),
}
STAGE_LABELS = {
    "stage": "ingest+validate+normalise",
    "people": "registry people",
    "prepare": "match: prepare",
    "int_match_s1_exact_id": "match: 1 exact ID",
    "int_match_s2_upgraded_id": "match: 2 upgraded 15→18",
    "int_match_s3_id_prefix": "match: 3 ID prefix",
    "int_match_s4_near_miss_id": "match: 4 near-miss ID",
    "int_match_s5_no_usable_id": "match: 5 birth+sex+county",
    "int_match_s6_name_only": "match: 6 name only",
    "match": "match: all stages",
    "coverage": "coverage rules",
}


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _generate(out: Path, arguments: list[str]) -> None:
    """Generate once per size; a marker file says the folder is complete."""
    marker = out / ".complete"
    if marker.exists():
        return
    print(f"生成基准数据 generating {out.name} …", flush=True)
    subprocess.run(
        [sys.executable, "-m", "pipelines.sample_data", "--out", str(out), *arguments], check=True
    )
    marker.touch()


def _child(*arguments: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.bench", *arguments],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- ingest -----------------------------------------------------------------------------------


def _measure_ingest(source: str, path: Path) -> dict[str, float]:
    """In the child: stage one file alone and report time, rows and peak memory."""
    from pipelines.config import load_config
    from pipelines.stage import reset_work_dir, stage_inputs

    with tempfile.TemporaryDirectory(dir=BENCH_DIR) as scratch:
        input_dir = Path(scratch) / "input"
        (input_dir / source).mkdir(parents=True)
        (input_dir / source / path.name).symlink_to(path)
        work_dir = Path(scratch) / "work"
        reset_work_dir(work_dir)
        started = time.perf_counter()
        staged = stage_inputs(input_dir, load_config(), dt.date.today(), work_dir)
        seconds = time.perf_counter() - started
    report = staged.files[0]
    if report.error:
        raise SystemExit(f"benchmark file unreadable: {report.error}")
    return {"seconds": seconds, "rows": report.rows_read, "peak_mib": _peak_mib()}


def bench_ingest(rows: int, xlsx_rows: int) -> None:
    out = BENCH_DIR / f"ingest-{rows}-{xlsx_rows}"
    _generate(out, ["--bench", "--rows", str(rows), "--xlsx-rows", str(xlsx_rows)])
    print("\n== 读入、校验、标准化 ingest + validation + normalisation ==")
    print(f"{'case':<24}{'rows':>12}{'seconds':>10}{'rows/s':>12}{'peak MiB':>10}")
    for label, (source, name) in INGEST_CASES.items():
        figures = _child("--measure-ingest", source, str(out / source / name))
        rate = figures["rows"] / figures["seconds"]
        print(
            f"{label:<24}{int(figures['rows']):>12,}{figures['seconds']:>10.2f}"
            f"{rate:>12,.0f}{figures['peak_mib']:>10,.0f}"
        )
    print("targets: 1M-row CSV < 10 s, peak < 2 GiB")


# --- matching ---------------------------------------------------------------------------------


def _measure_matching(input_dir: Path) -> dict:
    from pipelines.bench_matching import measure
    from pipelines.config import load_config

    with tempfile.TemporaryDirectory(dir=BENCH_DIR) as scratch:
        result = measure(input_dir, load_config(), Path(scratch))
    result["peak_mib"] = _peak_mib()
    return result


def _print_quality(result: dict) -> None:
    print(
        f"{'insurance':<10}{'matcher':<10}{'enrolled':>10}{'recall':>10}"
        f"{'false w/o':>11}{'review':>9}"
    )
    exact = {row["insurance"]: row for row in result["exact"]}
    for row in result["cascade"]:
        for name, figures in (("cascade", row), ("exact ID", exact[row["insurance"]])):
            print(
                f"{row['insurance']:<10}{name:<10}{figures['truly_enrolled']:>10,}"
                f"{figures['recall']:>10.4%}{figures['false_write_offs']:>11,}"
                f"{figures['review_rate']:>9.3%}"
            )
    print(f"\n{'insurance':<10}{'registry ID':<22}{'people':>9}{'recall':>10}{'review':>9}")
    for row in result["cascade_by_registry_id"]:
        label = "有号码 ID in some list" if row["registry_has_id"] else "无号码 blank in all"
        print(
            f"{row['insurance']:<10}{label:<22}{row['people']:>9,}{row['recall']:>10.4%}"
            f"{row['review_rate']:>9.3%}"
        )
    exact_damage = {row["damage"]: row for row in result["exact_by_damage"]}
    print(f"\n{'damage':<30}{'cases':>8}{'cascade':>10}{'exact ID':>10}")
    for row in result["by_damage"]:
        other = exact_damage.get(row["damage"], {"recall": float("nan")})
        print(
            f"{row['damage']:<30}{row['cases']:>8,}{row['recall']:>10.2%}{other['recall']:>10.2%}"
        )


def _print_timings(result: dict) -> None:
    seconds = {**result["seconds"], **result["stage_seconds"]}
    for key, label in STAGE_LABELS.items():
        if key in seconds:
            print(f"  {label:<28}{seconds[key]:>8.2f} s")


def bench_matching(sizes: list[int], roster_ratio: int) -> None:
    for people in sizes:
        out = BENCH_DIR / f"scale-{people}-x{roster_ratio}"
        _generate(out, ["--scale", "--people", str(people), "--roster-ratio", str(roster_ratio)])
        result = _child("--measure-matching", str(out))
        print(
            f"\n== 比对 matching: {result['registry_people']:,} registry people, "
            f"{result['roster_records']:,} roster records, peak {result['peak_mib']:,.0f} MiB =="
        )
        _print_timings(result)
        print()
        _print_quality(result)
    print(
        "\ntargets: recall >= 99.9 %, false write-offs 0, review <= 0.5 %, "
        "all matching stages < 5 s at 100,000 people"
    )


# --- reports ----------------------------------------------------------------------------------


def _measure_reports(input_dir: Path) -> dict:
    import datetime as dt

    from pipelines.config import load_config
    from pipelines.nightly import RunRequest, run_nightly

    with tempfile.TemporaryDirectory(dir=BENCH_DIR) as scratch:
        work = Path(scratch)
        request = RunRequest(input_dir, dt.date.today(), work / "ledger.duckdb", work / "reports")
        result = run_nightly(request, load_config(), work / "runs")
        listed = sum(result.counts.get(i, {}).get("unenrolled", 0) for i in result.counts)
        return {
            "people": result.people,
            "unenrolled_rows": listed,
            "workbooks": len(result.workbooks),
            "summaries": len(result.summaries),
            "seconds": result.seconds,
            "peak_mib": _peak_mib(),
        }


def bench_reports(people: int) -> None:
    out = BENCH_DIR / f"scale-{people}-x4"
    _generate(out, ["--scale", "--people", str(people), "--roster-ratio", "4"])
    figures = _child("--measure-reports", str(out))
    seconds = figures["seconds"]
    print(
        f"\n== 报表 reports: {figures['people']:,} registry people, "
        f"{figures['workbooks']} township workbooks ({figures['unenrolled_rows']:,} unenrolled "
        f"rows), {figures['summaries']} summaries =="
    )
    print(f"  township workbooks           {seconds['township_workbooks']:>8.2f} s")
    print(f"  county + province summaries  {seconds['summaries']:>8.2f} s")
    print("target: a county's workbooks (20 townships, 50,000 people) in a few seconds")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--part", choices=["all", "ingest", "matching", "reports"], default="all")
    parser.add_argument("--rows", type=int, default=1_000_000, help="roster CSV rows")
    parser.add_argument("--xlsx-rows", type=int, default=100_000, help="registry xlsx rows")
    parser.add_argument(
        "--people",
        default="10000,100000",
        help="registry sizes for the matching part, comma-separated",
    )
    parser.add_argument("--roster-ratio", type=int, default=14, help="roster rows per person")
    parser.add_argument("--measure-ingest", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument(
        "--report-people", type=int, default=50_000, help="registry size for the reports part"
    )
    parser.add_argument("--measure-matching", help=argparse.SUPPRESS)
    parser.add_argument("--measure-reports", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if args.measure_ingest:
        source, file = args.measure_ingest
        print(json.dumps(_measure_ingest(source, Path(file))))
        return 0
    if args.measure_matching:
        print(json.dumps(_measure_matching(Path(args.measure_matching)), default=str))
        return 0
    if args.measure_reports:
        print(json.dumps(_measure_reports(Path(args.measure_reports)), default=str))
        return 0
    if args.part in ("all", "ingest"):
        bench_ingest(args.rows, args.xlsx_rows)
    if args.part in ("all", "matching"):
        bench_matching([int(n) for n in args.people.split(",")], args.roster_ratio)
    if args.part in ("all", "reports"):
        bench_reports(args.report_people)
    return 0


if __name__ == "__main__":
    sys.exit(main())
