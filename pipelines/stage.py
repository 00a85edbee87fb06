"""Staging: every input file read, validated and normalised into Parquet, with its accounting.

For each file, rows read = rows accepted + rows quarantined, checked as the chunks go by. A file
that cannot be read at all leaves nothing staged and carries the reason; the others go on.

Normalising and validating a chunk costs about 0.1 s however few its rows (a polars plan, the
name keys, pandera), and a province sends hundreds of small files. So a file that fits in one
chunk waits, and the small files of a source are staged together, up to `[run] chunk_rows` rows;
each row keeps its file, and each file its own accounting. Bigger files are staged chunk by chunk.

Files are independent, so they are staged in `[run] stage_workers` processes (pipelines.pool):
each job is a run of consecutive files of one source, about a chunk's worth of bytes or one big
file. What is staged does not depend on how the files were shared out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.config import REGISTRY_REQUIRED, ROSTER_REQUIRED, Config
from pipelines.ingest import SOURCES, LayoutError, SheetProblems, discover_files, read_chunks
from pipelines.ingest.chunk import RAW_PROVENANCE_SCHEMA
from pipelines.log import get_logger
from pipelines.normalise.records import normalise_registry_rows, normalise_roster_rows
from pipelines.pool import Job, run_jobs
from pipelines.quarantine import QUARANTINE_SCHEMA, split_chunk
from schemas import schema_for

log = get_logger(__name__)


class AccountingError(AssertionError):
    """Rows went missing between reading and staging: a bug, never an input problem."""


@dataclass
class FileReport:
    """What happened to one input file."""

    source: str
    path: Path
    size: int
    sha256: str
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    error: str | None = None
    sheet_errors: dict[str, str] = field(default_factory=dict)

    @property
    def readable(self) -> bool:
        return self.error is None


@dataclass
class StagedInputs:
    """The run's staged data: Parquet folders per source plus the quarantine and file reports."""

    work_dir: Path
    files: list[FileReport]

    def parquet_glob(self, source: str) -> str:
        return str(self.work_dir / source / "*.parquet")

    @property
    def quarantine_path(self) -> Path:
        return self.work_dir / "quarantine.parquet"

    @property
    def unreadable(self) -> list[FileReport]:
        return [f for f in self.files if not f.readable]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _normalise(rows: pl.DataFrame, source: str, config: Config, as_of: dt.date) -> pl.DataFrame:
    if source == "registry":
        return normalise_registry_rows(rows, config, as_of)
    return normalise_roster_rows(rows, config, as_of, insurance=source)


def _with_files(frame: pl.DataFrame, files: dict[int, FileReport], input_dir: Path) -> pl.DataFrame:
    """Each row's source and file (relative to the input folder), from its `_file_number`."""
    relative = {n: report.path.relative_to(input_dir).as_posix() for n, report in files.items()}
    source = next(iter(files.values())).source
    return frame.with_columns(
        source=pl.lit(source),
        file=pl.col("_file_number").replace_strict(relative, return_dtype=pl.String),
    )


# A staged row's `_seq`: file number, chunk number and place in the chunk packed in one integer,
# unique in the run and the same for the same inputs. Joins on it are cheaper than on
# file#sheet#row text. Chunks stay far below 2^24 rows, runs far below 2^23 files.
_SEQ_FILE_SHIFT = 40
_SEQ_CHUNK_SHIFT = 24


def _with_seq(frame: pl.DataFrame, chunk_number: int) -> pl.DataFrame:
    """Each row's `_seq`: its file, the file's chunk, and its place among the file's rows."""
    place = pl.int_range(pl.len(), dtype=pl.Int64).over("_file_number")
    base = (pl.col("_file_number").cast(pl.Int64) * (1 << _SEQ_FILE_SHIFT)) + (
        chunk_number << _SEQ_CHUNK_SHIFT
    )
    return frame.with_columns(_seq=base + place)


def _stage_chunk(
    chunk: pl.DataFrame,
    source: str,
    files: dict[int, FileReport],
    chunk_number: int,
    input_dir: Path,
    config: Config,
    as_of: dt.date,
    target: Path,
) -> pl.DataFrame:
    """Normalise, validate and write one chunk; count its rows into each file's report; return
    its quarantined rows. The chunk is one file's, or several small files' stacked, each row
    tagged with its `_file_number` (one pass over many small files costs what one costs)."""
    schema = schema_for(source, config, as_of)
    # Normalise first, validate second: checks then read the derived columns (parsed dates)
    # instead of deriving them again, and accepted rows come out ready to stage.
    split = split_chunk(_normalise(chunk, source, config, as_of), schema)
    if split.accepted.height + split.quarantined.height != chunk.height:
        names = "、".join(report.path.name for report in files.values())
        raise AccountingError(
            f"{names}: {chunk.height} rows read but "
            f"{split.accepted.height} + {split.quarantined.height} staged"
        )
    accepted = _with_seq(_with_files(split.accepted, files, input_dir), chunk_number)
    accepted.drop("_file_number").write_parquet(target, compression="lz4")
    read, kept, set_apart = (_rows_per_file(f) for f in (chunk, split.accepted, split.quarantined))
    for file_number, report in files.items():
        report.rows_read += read.get(file_number, 0)
        report.rows_accepted += kept.get(file_number, 0)
        report.rows_quarantined += set_apart.get(file_number, 0)
    return _with_files(split.quarantined, files, input_dir).drop("_file_number")


def _rows_per_file(frame: pl.DataFrame) -> dict[int, int]:
    return dict(frame.group_by("_file_number").len().iter_rows())


@dataclass
class _SmallFile:
    """A file read whole into one chunk, waiting to be staged with others of its source."""

    report: FileReport
    file_number: int
    chunk: pl.DataFrame


def _read_file(
    report: FileReport,
    file_number: int,
    input_dir: Path,
    config: Config,
    as_of: dt.date,
    work_dir: Path,
) -> tuple[_SmallFile | None, list[pl.DataFrame]]:
    """Read one file. A file of one chunk comes back whole, to be staged with other small files;
    a bigger one is staged chunk by chunk here (its quarantined rows come back). Raises on
    unreadable files."""
    problems = SheetProblems()
    target = work_dir / report.source
    chunks = iter(
        read_chunks(report.path, report.source, config, work_dir / "transcoded", problems)
    )
    tagged = (chunk.with_columns(_file_number=pl.lit(file_number)) for chunk in chunks)
    first, second = next(tagged, None), None
    if first is not None:
        second = next(tagged, None)
    if second is None:
        report.sheet_errors = problems.errors
        small = _SmallFile(report, file_number, first) if first is not None else None
        return small, []
    quarantined = []
    files = {file_number: report}
    for number, chunk in enumerate(itertools.chain([first, second], tagged)):
        path = target / f"{_stem(file_number)}_{number:05d}.parquet"
        quarantined.append(
            _stage_chunk(chunk, report.source, files, number, input_dir, config, as_of, path)
        )
    report.sheet_errors = problems.errors
    return None, quarantined


def _stage_small_files(
    small: list[_SmallFile],
    source: str,
    input_dir: Path,
    config: Config,
    as_of: dt.date,
    work_dir: Path,
) -> list[pl.DataFrame]:
    """Stage small files of one source together, in one chunk; return their quarantined rows."""
    if not small:
        return []
    files = {f.file_number: f.report for f in small}
    chunk = pl.concat([f.chunk for f in small], how="diagonal_relaxed")
    path = work_dir / source / f"{_stem(small[0].file_number)}_small.parquet"
    try:
        quarantined = [_stage_chunk(chunk, source, files, 0, input_dir, config, as_of, path)]
    except _UNREADABLE:
        # One bad file must not take the others down: stage each alone, as if none were small.
        path.unlink(missing_ok=True)
        for report in files.values():
            report.rows_read = report.rows_accepted = report.rows_quarantined = 0
        quarantined = []
        for f in small:
            alone = work_dir / source / f"{_stem(f.file_number)}_00000.parquet"
            try:
                quarantined.append(
                    _stage_chunk(
                        f.chunk,
                        source,
                        {f.file_number: f.report},
                        0,
                        input_dir,
                        config,
                        as_of,
                        alone,
                    )
                )
            except _UNREADABLE as error:
                _discard_partial(f.report, f.file_number, work_dir)
                _mark_unreadable(f.report, error)
    return quarantined


# What makes a file unreadable (as opposed to a bug, which stops the run).
_UNREADABLE = (LayoutError, pl.exceptions.PolarsError, OSError, UnicodeError)


def _mark_unreadable(report: FileReport, error: Exception) -> None:
    report.error = _why_unreadable(report.path, error)


def _why_unreadable(path: Path, error: Exception) -> str:
    if isinstance(error, LayoutError):
        return str(error)
    if isinstance(error, FileNotFoundError) and path.is_symlink():
        return f"这是一个快捷方式（链接），它指向的文件已不存在：{path.readlink()}"
    if isinstance(error, FileNotFoundError):
        return "文件在读取前被移走或删除了"
    if isinstance(error, PermissionError):
        return "没有读取这个文件的权限"
    return f"读取失败（{type(error).__name__}）：{error}"


def _log_report(report: FileReport) -> None:
    """One line per file, in the run's process (staging jobs may run in others)."""
    if not report.readable:
        log.warning("无法读取 %s/%s：%s", report.source, report.path.name, report.error)
        return
    log.info(
        "%s/%s：读入 %d 行，接受 %d 行，隔离 %d 行",
        report.source,
        report.path.name,
        report.rows_read,
        report.rows_accepted,
        report.rows_quarantined,
    )


def _stem(file_number: int) -> str:
    return f"file{file_number:05d}"


def _discard_partial(report: FileReport, file_number: int, work_dir: Path) -> None:
    """An unreadable file must not leave half of its rows staged."""
    stem = _stem(file_number)
    for partial in (work_dir / report.source).glob(f"{stem}_*"):
        partial.unlink()
    report.rows_read = report.rows_accepted = report.rows_quarantined = 0


@dataclass(frozen=True)
class _InputFile:
    """An input file and its number in the run (discovery order, from 1)."""

    source: str
    number: int
    path: Path
    size: int


# Bytes a staged row takes in a CSV extract, roughly: a chunk's worth of small files is about
# chunk_rows of these (xlsx and Parquet hold more rows per byte, so their jobs run a little big).
_BYTES_PER_ROW = 100


def _size_or_zero(path: Path) -> int:
    """The file's size; 0 for one that cannot even be looked at (reading it reports why)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _plan_jobs(found: dict[str, list[Path]], chunk_bytes: int) -> list[list[_InputFile]]:
    """Consecutive files of one source, up to about `chunk_bytes` together (a big file alone)."""
    jobs: list[list[_InputFile]] = []
    number = 0
    for source, paths in found.items():
        current: list[_InputFile] = []
        current_bytes = 0
        for path in paths:
            number += 1
            file = _InputFile(source, number, path, _size_or_zero(path))
            if current and current_bytes + file.size > chunk_bytes:
                jobs.append(current)
                current, current_bytes = [], 0
            current.append(file)
            current_bytes += file.size
        if current:
            jobs.append(current)
    return jobs


def _stage_files(
    files: list[_InputFile], input_dir: Path, config: Config, as_of: dt.date, work_dir: Path
) -> tuple[list[FileReport], list[pl.DataFrame]]:
    """Stage a run of files of one source; return their reports and quarantined rows. Never
    stops at a bad file."""
    reports: list[FileReport] = []
    quarantined: list[pl.DataFrame] = []
    small: list[_SmallFile] = []
    source = files[0].source
    for file in files:
        report = FileReport(source, file.path, file.size, sha256="")
        reports.append(report)
        try:
            report.sha256 = sha256_of(file.path)
            whole, rows = _read_file(report, file.number, input_dir, config, as_of, work_dir)
        except _UNREADABLE as error:
            _discard_partial(report, file.number, work_dir)
            _mark_unreadable(report, error)
            continue
        quarantined += rows
        if whole is None:
            continue
        small.append(whole)
        if sum(f.chunk.height for f in small) >= config.run.chunk_rows:
            quarantined += _stage_small_files(small, source, input_dir, config, as_of, work_dir)
            small = []
    quarantined += _stage_small_files(small, source, input_dir, config, as_of, work_dir)
    return reports, quarantined


def _log_reports(_job: Job, staged: tuple[list[FileReport], list[pl.DataFrame]]) -> None:
    for report in staged[0]:
        _log_report(report)


def stage_inputs(input_dir: Path, config: Config, as_of: dt.date, work_dir: Path) -> StagedInputs:
    """Read every file under input_dir/{registry,pension,medical}; never stop at a bad file."""
    planned = _plan_jobs(discover_files(input_dir), config.run.chunk_rows * _BYTES_PER_ROW)
    jobs = [
        Job(_stage_files, (files, input_dir, config, as_of, work_dir), sum(f.size for f in files))
        for files in planned
    ]
    staged = run_jobs(
        jobs,
        config.run.stage_workers,
        config.run.stage_parallel_min_bytes,
        on_done=_log_reports,
    )
    reports = [report for job_reports, _ in staged for report in job_reports]
    _write_quarantine([rows for _, job_rows in staged for rows in job_rows], work_dir)
    for source in SOURCES:
        if not any((work_dir / source).glob("*.parquet")):
            _write_empty_stage(source, config, as_of, work_dir)
    return StagedInputs(work_dir, reports)


def _write_empty_stage(source: str, config: Config, as_of: dt.date, work_dir: Path) -> None:
    """A source with no rows still gets a (zero-row) table of the right shape, so SQL can run."""
    fields = REGISTRY_REQUIRED if source == "registry" else ROSTER_REQUIRED
    raw = pl.DataFrame(schema={**RAW_PROVENANCE_SCHEMA, **dict.fromkeys(fields, pl.String)})
    staged = _normalise(raw, source, config, as_of).with_columns(
        source=pl.lit(source), file=pl.lit(None, pl.String), _seq=pl.lit(None, pl.Int64)
    )
    staged.write_parquet(work_dir / source / "empty.parquet")


def _write_quarantine(frames: list[pl.DataFrame], work_dir: Path) -> None:
    empty = pl.DataFrame(schema=QUARANTINE_SCHEMA)
    columns = list(QUARANTINE_SCHEMA)
    quarantine = pl.concat([empty, *(f.select(columns) for f in frames)], how="vertical")
    quarantine.write_parquet(work_dir / "quarantine.parquet")


QUARANTINE_HEADERS = {
    "source": "来源",
    "file": "文件",
    "sheet": "工作表",
    "row": "行号",
    "field": "字段",
    "value": "内容（已脱敏）",
    "reason": "原因",
    "kind": "类型",
}


def export_quarantine(staged: StagedInputs, folder: Path) -> Path:
    """The run's quarantine as a CSV an officer opens in Excel (UTF-8 with BOM)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "隔离记录.csv"
    quarantine = pl.read_parquet(staged.quarantine_path).with_columns(
        pl.col("kind").replace({"invalid": "未通过校验", "skipped": "非人员行（已跳过）"})
    )
    quarantine.rename(QUARANTINE_HEADERS).write_csv(target, include_bom=True)
    return target


def reset_work_dir(work_dir: Path) -> None:
    if work_dir.exists():
        shutil.rmtree(work_dir)
    for source in SOURCES:
        (work_dir / source).mkdir(parents=True)
