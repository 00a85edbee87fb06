"""Writing several workbooks at once, one process per core.

openpyxl spends its time in Python, cell by cell, so one process writes on one core; workbooks
are independent of each other, so a county's set spreads over processes. Each job is a
module-level function and its arguments (polars frames, dates, paths: all picklable) that writes
one workbook. A process pool costs about a second to start (each worker imports polars and
openpyxl), so small sets (the sample, a quiet night) are written in this process instead.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from pipelines.config import ReportSettings


@dataclass(frozen=True)
class Job:
    """One workbook to write: `write(*args)`, and how many rows it holds (to weigh the pool)."""

    write: Callable[..., Any]
    args: tuple[Any, ...]
    rows: int


def run_jobs(jobs: Sequence[Job], settings: ReportSettings) -> list[Any]:
    """Run every job, in processes when there are enough rows to repay starting them; the
    results come back in the jobs' order, and the first failure is raised here."""
    workers = min(settings.workers, len(jobs))
    if workers <= 1 or sum(job.rows for job in jobs) < settings.parallel_min_rows:
        return [job.write(*job.args) for job in jobs]
    # spawn, not fork: the parent holds DuckDB's and polars' threads, which a forked child
    # would inherit half-way through whatever they were doing.
    context = multiprocessing.get_context("spawn")
    # The biggest first, so that no core is left with a big one at the end.
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].rows)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {i: pool.submit(jobs[i].write, *jobs[i].args) for i in order}
        return [futures[i].result() for i in range(len(jobs))]
