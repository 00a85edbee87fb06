"""`make bench`: speed, memory and matching quality on generated data.

Two parts, each measured in a fresh child process so its peak memory (ru_maxrss) is its own:

1. ingest + validation + normalisation of a 1,000,000-row GB18030 roster CSV and a 100,000-row
   xlsx (targets: the CSV in < 10 s and < 2 GiB);
2. matching at 10,000 and 100,000 registry people with rosters about 14 times larger, scored
   against the generator's ground truth, beside the exact-ID join an officer's VLOOKUP gives
   (targets: recall >= 99.9 %, no false write-offs, review <= 0.5 %, matching < 5 s at 100,000).
   Each size runs twice: with names as common as in life (the targets apply), and with the
   sample's few common names, where every name is as common as 张伟 (a stress test for the
   namesake guards, reported beside it).

    python -m pipelines.bench                         # both parts, default sizes
    python -m pipelines.bench --part matching --people 10000,100000,1000000
    python -m pipelines.bench --part matching --people 100000 --names realistic
    python -m pipelines.bench --part ingest --rows 200000
    python -m pipelines.bench --part scale --scale 1 --counties 430527   # one county, full size
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import logging
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from pipelines.paths import INTERIM_DIR, PROJECT_ROOT

BENCH_DIR = INTERIM_DIR / "bench"
NAME_MODEL_LABELS = {
    "realistic": "姓名分布接近实际 realistic names",
    "crowded": "常见姓名集中 crowded names, stress test",
}
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
    "crowds": "match: birth-day crowds (after 1–2)",
    "int_match_s3_id_prefix": "match: 3 ID prefix",
    "int_match_s4_near_miss_id": "match: 4 near-miss ID",
    "int_match_s4b_two_slips": "match: 4b both IDs damaged",
    "int_match_s5_no_usable_id": "match: 5 birth+sex+county",
    "int_match_s6_name_only": "match: 6 name only",
    "decisions": "match: one person per record, reviews",
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


def _child(*arguments: str, show_progress: bool = False) -> dict:
    """Run one measurement in a fresh process; its figures come back as JSON on stdout.

    With `show_progress` the child's log (the nightly run's step lines) goes straight to the
    terminal: a province-sized night is silent for most of an hour otherwise."""
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.bench", *arguments],
        stdout=subprocess.PIPE,
        stderr=None if show_progress else subprocess.PIPE,
        text=True,
    )
    if result.returncode != 0:
        # The child's own traceback, not only its exit status (already shown with progress).
        sys.stderr.write((result.stderr or "")[-8000:])
        raise SystemExit(f"benchmark child failed: {' '.join(arguments[:1])}")
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


def bench_matching(sizes: list[int], roster_ratio: int, name_models: list[str]) -> None:
    for names, people in itertools.product(name_models, sizes):
        out = BENCH_DIR / f"scale-{people}-x{roster_ratio}-{names}"
        _generate(
            out,
            [
                "--scale",
                "--people",
                str(people),
                "--roster-ratio",
                str(roster_ratio),
                "--names",
                names,
            ],
        )
        result = _child("--measure-matching", str(out))
        print(
            f"\n== 比对 matching ({NAME_MODEL_LABELS[names]}): {result['registry_people']:,} "
            f"registry people, {result['roster_records']:,} roster records, "
            f"peak {result['peak_mib']:,.0f} MiB =="
        )
        _print_timings(result)
        print()
        _print_quality(result)
    print(
        "\ntargets (realistic names): recall >= 99.9 %, false write-offs 0, review <= 0.5 %, "
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
    out = BENCH_DIR / f"scale-{people}-x4-realistic"
    _generate(out, ["--scale", "--people", str(people), "--roster-ratio", "4"])
    figures = _child("--measure-reports", str(out))
    seconds = figures["seconds"]
    print(
        f"\n== 报表 reports: {figures['people']:,} registry people, "
        f"{figures['workbooks']} township workbooks ({figures['unenrolled_rows']:,} unenrolled "
        f"rows), {figures['summaries']} summaries =="
    )
    print(f"  all workbooks (one pool)     {seconds['workbooks']:>8.2f} s")
    print("target: a county's workbooks (20 townships, 50,000 people) in a few seconds")


# --- province scale ---------------------------------------------------------------------------
# The nightly steps in the order run_nightly logs them ("[n/5] …"), as keys of RunResult.seconds.
NIGHTLY_STEPS = ("stage", "reconcile", "commit", "summarise", "workbooks")
SCALE_REPORTS_DIR = PROJECT_ROOT / "reports" / "bench"
# Share of registry people whose medical records end (终止参保) before the second night.
SECOND_NIGHT_CHANGE = 0.01
RSS_SAMPLE_SECONDS = 0.05


def _generate_province(out: Path, scale: float, names: str, counties: str = "") -> None:
    """Generate the province set (or only `counties`, comma-separated codes) once; the marker
    says it is complete."""
    marker = out / ".complete"
    if marker.exists():
        return
    print(f"生成全省基准数据 generating {out.name} …", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.scale_data",
            "--out",
            str(out),
            "--scale",
            str(scale),
            "--names",
            names,
            *(["--counties", counties] if counties else []),
        ],
        check=True,
    )
    marker.touch()


def _rss_mib(field: str) -> float:
    """VmRSS (now) or VmHWM (peak so far) of this process, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _tree_rss_mib() -> float:
    """Resident memory of this process and every process it started (the staging and report
    pools' workers), in MiB."""
    me = psutil.Process()
    total = me.memory_info().rss
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += child.memory_info().rss
    return total / 2**20


class StepMemory(logging.Handler):
    """Peak resident memory per nightly step, worker processes included: a thread samples it,
    and run_nightly's own "[n/5]" progress lines say which step the samples belong to (no hook
    in the pipeline)."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.step = "prefect start"
        self.started: dict[str, float] = {self.step: time.perf_counter()}
        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def emit(self, record: logging.LogRecord) -> None:
        # The masking filter formats messages when they are made, so match the text.
        found = re.match(r"\[(\d+)/\d+\] ", record.getMessage())
        if found:
            self.step = NIGHTLY_STEPS[int(found.group(1)) - 1]
            self.started[self.step] = time.perf_counter()

    def _sample(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_SECONDS):
            step = self.step
            self.peak[step] = max(self.peak.get(step, 0.0), _tree_rss_mib())

    def __enter__(self) -> StepMemory:
        logging.getLogger("pipelines").addHandler(self)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        logging.getLogger("pipelines").removeHandler(self)


def _input_scans(input_dir: Path) -> list[str]:
    """One scan per file kind, every column hashed so that none can be skipped."""

    def csv(files: list[Path], encoding: str) -> str:
        listed = ", ".join(f"'{path}'" for path in sorted(files))
        return (
            f"select count(*) as n, sum(hash(columns(*))) from read_csv([{listed}], "
            f"all_varchar = true, union_by_name = true, encoding = '{encoding}')"
        )

    scans = []
    for source in ("registry", "pension", "medical"):
        folder = input_dir / source
        gb18030 = [p for p in folder.glob("*.csv") if _is_gb18030(p)]
        utf8 = [p for p in folder.glob("*.csv") if p not in gb18030]
        if utf8:
            scans.append(csv(utf8, "utf-8"))
        if gb18030:
            # DuckDB parses no GB18030 without an extension this machine cannot fetch: its
            # bytes are read once as blobs (the floor for them; rows counted as lines).
            listed = ", ".join(f"'{path}'" for path in sorted(gb18030))
            scans.append(
                "select sum(len(string_split(content::varchar, chr(10))) - 2), "
                f"sum(hash(content)) from read_blob([{listed}])"
            )
        if list(folder.glob("*.parquet")):
            scans.append(
                f"select count(*) as n, sum(hash(columns(*))) from "
                f"read_parquet('{folder}/*.parquet', union_by_name = true)"
            )
    return scans


def _is_gb18030(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(4096)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def io_floor(input_dir: Path) -> dict[str, float]:
    """Seconds for DuckDB to read every column of every input file once (all cores)."""
    import duckdb

    con = duckdb.connect()
    started = time.perf_counter()
    rows = sum(con.execute(query).fetchall()[0][0] for query in _input_scans(input_dir))
    return {"seconds": time.perf_counter() - started, "rows": rows}


def second_night_input(input_dir: Path, scratch: Path) -> Path:
    """The same extracts a day later, with SECOND_NIGHT_CHANGE of registry people's medical
    records ended (终止参保): every other file is a link to the first night's."""
    import duckdb

    night = scratch / "night2"
    for path in input_dir.rglob("*"):
        if path.is_file() and path.parts[-2] in ("registry", "pension", "medical"):
            target = night / path.relative_to(input_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    con = duckdb.connect()
    # Whole people change, picked by a hash of their uid (the same people every time).
    con.execute(
        "create table ended as select roster_person_no from read_parquet($truth) "
        "where insurance = 'medical' and person_uid is not null "
        "and hash(person_uid) % 10000 < $per_10000",
        {
            "truth": str(input_dir / "truth" / "roster_rows.parquet"),
            "per_10000": round(SECOND_NIGHT_CHANGE * 10_000),
        },
    )
    for path in sorted((input_dir / "medical").glob("*.parquet")):
        target = night / path.relative_to(input_dir)
        target.unlink()
        con.execute(
            f"copy (select * replace (case when 参保人编号 in (select roster_person_no from ended) "
            f"then '终止参保' else 参保状态 end as 参保状态) from read_parquet('{path}')) "
            f"to '{target}' (format parquet, compression zstd)"
        )
    return night


def _one_night(request_dir: Path, ledger: Path, reports: Path, as_of: dt.date) -> dict:
    """Run the real flow (Prefect's start included) and time and sample it."""
    from pipelines.flows import run_flow
    from pipelines.nightly import RunRequest

    request = RunRequest(request_dir, as_of, ledger, reports)
    with StepMemory() as memory:
        started = time.perf_counter()
        result = run_flow(request, None, "local")
        wall = time.perf_counter() - started
    steps = dict(result.seconds)
    # What the steps do not account for: Prefect's server start, flow bookkeeping, stopping.
    steps["prefect"] = wall - sum(result.seconds.values())
    # Samples before the first step are Prefect's start.
    memory.peak["prefect"] = memory.peak.get("prefect start", 0.0)
    return {
        "wall_seconds": wall,
        "step_seconds": steps,
        "step_peak_mib": {step: memory.peak.get(step, 0.0) for step in steps},
        "reconcile_seconds": result.reconcile_seconds,
        "rows_read": sum(f.rows_read for f in result.files),
        "files": len(result.files),
        "people": result.people,
        "workbooks": len(result.workbooks),
        "summaries": len(result.summaries),
    }


def _measure_scale(input_dir: Path, nights: int) -> dict:
    """In the child: the I/O floor, then the nightly flow on a fresh ledger (and a second
    night on the same ledger)."""
    figures: dict = {"io_floor": io_floor(input_dir)}
    with tempfile.TemporaryDirectory(dir=BENCH_DIR) as scratch:
        work = Path(scratch)
        ledger = work / "ledger.duckdb"
        as_of = dt.date(2026, 1, 1)
        figures["first_night"] = _one_night(input_dir, ledger, work / "reports", as_of)
        if nights > 1:
            night2 = second_night_input(input_dir, work)
            figures["second_night"] = _one_night(
                night2, ledger, work / "reports", as_of + dt.timedelta(days=1)
            )
    nights_run = [figures[n] for n in ("first_night", "second_night") if n in figures]
    sampled = [peak for night in nights_run for peak in night["step_peak_mib"].values()]
    figures["peak_mib"] = max([_rss_mib("VmHWM"), *sampled])
    return figures


STEP_ROWS = (
    ("prefect", "Prefect start + bookkeeping"),
    ("stage", "1 read, validate, normalise"),
    ("reconcile", "2 people + matching + coverage"),
    ("commit", "3 ledger commit (+ backup)"),
    ("summarise", "4 run summary"),
    ("workbooks", "5 workbooks: townships, county + province summaries"),
)


def scale_table(scale: float, figures: dict, night: str) -> list[str]:
    """The per-step table of one night as markdown lines."""
    run = figures[night]
    floor = figures["io_floor"]["seconds"]
    rows = run["rows_read"]
    lines = [
        f"| step ({night.replace('_', ' ')}, scale {scale:g}) | seconds | input rows/s | "
        "peak RSS MiB |",
        "|---|---:|---:|---:|",
    ]
    for key, label in STEP_ROWS:
        seconds = run["step_seconds"].get(key, 0.0)
        rate = f"{rows / seconds:,.0f}" if seconds > 0.05 else "–"
        lines.append(
            f"| {label} | {seconds:.1f} | {rate} | {run['step_peak_mib'].get(key, 0):,.0f} |"
        )
        if key == "reconcile":
            lines += [
                f"| — {STAGE_LABELS.get(part, part)} | {part_seconds:.1f} | | |"
                for part, part_seconds in run.get("reconcile_seconds", {}).items()
            ]
    lines.append(
        f"| **whole run** | **{run['wall_seconds']:.1f}** | {rows / run['wall_seconds']:,.0f} | "
        f"{max(run['step_peak_mib'].values()):,.0f} |"
    )
    lines.append(
        f"| I/O floor (DuckDB reads every column once) | {floor:.2f} | "
        f"{figures['io_floor']['rows'] / floor:,.0f} | |"
    )
    lines.append(f"| run ÷ floor | {run['wall_seconds'] / floor:.0f}× | | |")
    return lines


def bench_scale(scale: float, nights: int, names: str, counties: str = "") -> None:
    """The nightly flow on the province at `scale`, or on some of its counties alone (a real
    county at scale 1 is the shape a county office runs: its own townships, full size)."""
    where = f"-counties-{counties.replace(',', '-')}" if counties else ""
    out = BENCH_DIR / f"province-{scale:g}-{names}{where}"
    _generate_province(out, scale, names, counties)
    figures = _child("--measure-scale", str(out), "--nights", str(nights), show_progress=True)
    figures |= {
        "scale": scale,
        "measured": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {_total_memory_gib():.0f} GiB",
    }
    run = figures["first_night"]
    area = f"Counties {counties}" if counties else "Province"
    lines = [
        f"# {area} at scale {scale:g}: {run['people']:,} registry people, "
        f"{run['rows_read']:,} input rows in {run['files']} files ({NAME_MODEL_LABELS[names]})",
        "",
        f"Measured {figures['measured']} on {figures['machine']}; peak RSS of the benchmark "
        f"process and its workers {figures['peak_mib']:,.0f} MiB.",
        "",
        *scale_table(scale, figures, "first_night"),
    ]
    if "second_night" in figures:
        lines += ["", *scale_table(scale, figures, "second_night")]
    print("\n" + "\n".join(lines))
    SCALE_REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    # Not Path.with_suffix: "scale-0.01" would lose its ".01".
    stem = f"scale-{scale:g}{where}" + ("" if names == "realistic" else f"-{names}")
    (SCALE_REPORTS_DIR / f"{stem}.json").write_text(
        json.dumps(figures, indent=2, default=str) + "\n"
    )
    (SCALE_REPORTS_DIR / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print(f"\nsaved reports/bench/{stem}.md and {stem}.json")
    print("targets: 1/100 ≤ 15 s; whole province ≤ 4 min and ≤ 12 GB; second night no slower")


def _total_memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024**2
    return 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--part", choices=["all", "ingest", "matching", "reports", "scale"], default="all"
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="roster CSV rows")
    parser.add_argument("--xlsx-rows", type=int, default=100_000, help="registry xlsx rows")
    parser.add_argument(
        "--people",
        default="10000,100000",
        help="registry sizes for the matching part, comma-separated",
    )
    parser.add_argument("--roster-ratio", type=int, default=14, help="roster rows per person")
    parser.add_argument(
        "--names",
        default="realistic,crowded",
        help="name models for the matching part, comma-separated; the first alone for --part "
        "scale (realistic: names as common as in life; crowded: the stress test)",
    )
    parser.add_argument("--measure-ingest", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument(
        "--report-people", type=int, default=50_000, help="registry size for the reports part"
    )
    parser.add_argument("--measure-matching", help=argparse.SUPPRESS)
    parser.add_argument("--measure-reports", help=argparse.SUPPRESS)
    parser.add_argument(
        "--scale", type=float, default=0.01, help="--part scale: fraction of the province"
    )
    parser.add_argument(
        "--nights", type=int, default=2, help="--part scale: 1, or 2 with 1%% of people changing"
    )
    parser.add_argument(
        "--counties",
        default="",
        help="--part scale: only these counties (codes, comma-separated), e.g. 430527",
    )
    parser.add_argument("--measure-scale", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = set(args.names.split(",")) - set(NAME_MODEL_LABELS)
    if unknown:
        parser.error(f"--names: unknown model {', '.join(sorted(unknown))}; use realistic, crowded")
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
    if args.measure_scale:
        from pipelines.log import setup_logging

        setup_logging()  # the step lines, for show_progress
        print(json.dumps(_measure_scale(Path(args.measure_scale), args.nights), default=str))
        return 0
    if args.part == "scale":
        bench_scale(args.scale, args.nights, args.names.split(",")[0], args.counties)
        return 0
    if args.part in ("all", "ingest"):
        bench_ingest(args.rows, args.xlsx_rows)
    if args.part in ("all", "matching"):
        bench_matching(
            [int(n) for n in args.people.split(",")], args.roster_ratio, args.names.split(",")
        )
    if args.part in ("all", "reports"):
        bench_reports(args.report_people)
    return 0


if __name__ == "__main__":
    sys.exit(main())
