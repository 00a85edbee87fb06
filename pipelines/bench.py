"""`make bench`: ingest + validation + normalisation speed and peak memory on generated data.

Each measurement runs in a fresh child process, so its peak memory (ru_maxrss) is its own:
imports included, nothing left over from generating the data or from another measurement.

    python -m pipelines.bench                 # generate if needed, measure, print the table
    python -m pipelines.bench --rows 200000   # a smaller roster, for a quick look
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

from pipelines.paths import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT / "data" / "interim" / "bench"
CASES = {
    # label: (source folder, file name)
    "roster CSV (GB18030)": ("pension", "bench_roster.csv"),
    "registry xlsx": ("registry", "bench_registry.xlsx"),
}


def _generate(out: Path, rows: int, xlsx_rows: int) -> None:
    marker = out / f".generated-{rows}-{xlsx_rows}"
    if marker.exists():
        return
    print(f"生成基准数据 generating benchmark data into {out} …", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.sample_data",
            "--out",
            str(out),
            "--bench",
            "--rows",
            str(rows),
            "--xlsx-rows",
            str(xlsx_rows),
        ],
        check=True,
    )
    marker.touch()


def _measure_one(source: str, path: Path) -> dict[str, float]:
    """In the child: stage one file alone and report time, rows and peak memory."""
    from pipelines.config import load_config
    from pipelines.stage import reset_work_dir, stage_inputs

    config = load_config()
    with tempfile.TemporaryDirectory(dir=BENCH_DIR) as scratch:
        input_dir = Path(scratch) / "input"
        (input_dir / source).mkdir(parents=True)
        (input_dir / source / path.name).symlink_to(path)
        work_dir = Path(scratch) / "work"
        reset_work_dir(work_dir)
        started = time.perf_counter()
        staged = stage_inputs(input_dir, config, dt.date.today(), work_dir)
        seconds = time.perf_counter() - started
    report = staged.files[0]
    if report.error:
        raise SystemExit(f"benchmark file unreadable: {report.error}")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "rows": report.rows_read, "peak_mib": peak_mib}


def _run_case(source: str, path: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.bench", "--measure", source, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="roster CSV rows")
    parser.add_argument("--xlsx-rows", type=int, default=100_000, help="registry xlsx rows")
    parser.add_argument("--measure", nargs=2, metavar=("SOURCE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        source, file = args.measure
        print(json.dumps(_measure_one(source, Path(file))))
        return 0
    out = BENCH_DIR / f"data-{args.rows}-{args.xlsx_rows}"
    _generate(out, args.rows, args.xlsx_rows)
    print(f"\n{'case':<24}{'rows':>12}{'seconds':>10}{'rows/s':>12}{'peak MiB':>10}")
    for label, (source, name) in CASES.items():
        figures = _run_case(source, out / source / name)
        rate = figures["rows"] / figures["seconds"]
        print(
            f"{label:<24}{int(figures['rows']):>12,}{figures['seconds']:>10.2f}"
            f"{rate:>12,.0f}{figures['peak_mib']:>10,.0f}"
        )
    print(
        "\n(ingest + validation + normalisation, one child process per case; "
        "targets: 1M-row CSV < 10 s, < 2 GiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
