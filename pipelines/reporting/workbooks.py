"""Every workbook of a run, in one pool: the townships', the counties' summaries and the
province's.

They are independent files, and their sizes are lopsided: a county's summary carries its whole
代缴 and 资助 lists (tens of thousands of rows, one process's work for seconds), while most
township workbooks are small. Written as two pools one after the other, the second core sat idle
while the county summary was written, and each pool paid its own start; in one pool, heaviest
first, the townships fill the other core meanwhile.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.config import Config
from pipelines.log import get_logger
from pipelines.pool import progress_every_tenth, run_jobs
from pipelines.reporting.summaries import summary_jobs
from pipelines.reporting.township import township_jobs

log = get_logger(__name__)


@dataclass
class Workbooks:
    townships: list[Path] = field(default_factory=list)
    summaries: list[Path] = field(default_factory=list)


def write_workbooks(
    con: duckdb.DuckDBPyConnection,
    reports_dir: Path,
    as_of: dt.date,
    run_id: int,
    config: Config,
    *,
    mask_ids: bool = False,
) -> Workbooks:
    """reports/<as-of>/<county>/<township>.xlsx for every township with registry people, and
    reports/<as-of>/汇总/ with a summary per county and one for the province."""
    # The summaries' queries first: their working memory (the province's whole 资助 list) is
    # then reused by the townships' queries instead of held beside their frames. The other way
    # round, at 1/10 of the province, the process held 270 MB more once both were built.
    summaries = summary_jobs(con, reports_dir, as_of, run_id, config, mask_ids=mask_ids)
    townships = township_jobs(con, reports_dir, as_of, run_id, mask_ids=mask_ids)
    jobs = [*summaries, *townships]
    settings = config.reports
    progress = progress_every_tenth(log, "工作簿", jobs)
    written = run_jobs(jobs, settings.workers, settings.parallel_min_rows, progress)
    result = Workbooks(townships=written[len(summaries) :], summaries=written[: len(summaries)])
    log.info("已生成 %d 个乡镇工作簿：%s", len(result.townships), reports_dir / as_of.isoformat())
    log.info("已生成 %d 个县级汇总和全省汇总", len(result.summaries) - 1)
    return result
