"""Running independent jobs at once, one process per core.

Staging an input file and writing a workbook both spend much of their time in Python (pandera
and the name keys; openpyxl cell by cell), so one process works on one core. Files and workbooks
are independent of each other, so they spread over processes. Each job is a module-level function
and its arguments (polars frames, dates, paths, the config: all picklable). A process pool costs
about a second to start (each worker imports polars, pandera and openpyxl), so light sets (the
sample, a quiet night) run in this process instead.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Job:
    """One piece of work, `run(*args)`, and its weight (rows, bytes) to weigh the pool."""

    run: Callable[..., Any]
    args: tuple[Any, ...]
    weight: int


def run_jobs(
    jobs: Sequence[Job],
    workers: int,
    parallel_min_weight: int,
    on_done: Callable[[Job, Any], None] | None = None,
) -> list[Any]:
    """Run every job, in processes when they weigh enough to repay starting them.

    The results come back in the jobs' order, and the first failure is raised here. `on_done`
    sees each job and its result in this process as the job finishes (to report progress), in
    any order.
    """
    done = on_done or (lambda _job, _result: None)
    workers = min(workers, len(jobs))
    if workers <= 1 or sum(job.weight for job in jobs) < parallel_min_weight:
        results = []
        for job in jobs:
            results.append(job.run(*job.args))
            done(job, results[-1])
        return results
    # spawn, not fork: the parent holds DuckDB's and polars' threads, which a forked child
    # would inherit half-way through whatever they were doing.
    context = multiprocessing.get_context("spawn")
    # The heaviest first, so that no core is left with a heavy one at the end.
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].weight)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(jobs[i].run, *jobs[i].args): i for i in order}
        by_job: dict[int, Any] = {}
        for future in as_completed(futures):
            by_job[futures[future]] = future.result()
            done(jobs[futures[future]], by_job[futures[future]])
        return [by_job[i] for i in range(len(jobs))]


# Below this many jobs a run ends in seconds, and a line per tenth would be a line per job.
PROGRESS_MIN_JOBS = 20


def progress_every_tenth(
    log: logging.Logger, label: str, jobs: Sequence[Job]
) -> Callable[[Job, Any], None]:
    """An `on_done` that logs "<label>：已完成 n/total 个（按行数约 k0%）" as each tenth of the
    work finishes: a province's workbooks take many minutes, and the officer should see them
    advance. Tenths of the weight, not of the jobs: the pool starts with the heaviest (a
    province's county summaries, minutes of work before the first township's), so counting jobs
    left the officer minutes without a line. Each job weighs one more than its rows, for its own
    fixed cost (and so that a set of empty workbooks still advances)."""
    if len(jobs) < PROGRESS_MIN_JOBS:
        return lambda _job, _result: None
    total_weight = sum(job.weight + 1 for job in jobs)
    done_jobs = 0
    done_weight = 0
    shown = 0

    def count(job: Job, _result: Any) -> None:
        nonlocal done_jobs, done_weight, shown
        done_jobs += 1
        done_weight += job.weight + 1
        tenth = done_weight * 10 // total_weight
        if tenth > shown and done_jobs < len(jobs):
            shown = tenth
            log.info(
                "%s：已完成 %d/%d 个（按行数约 %d%%）", label, done_jobs, len(jobs), tenth * 10
            )

    return count
