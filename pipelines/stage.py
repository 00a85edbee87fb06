"""Staging: every input file read, validated and normalised into Parquet, with its accounting.

For each file, rows read = rows accepted + rows quarantined, checked as the chunks go by. A file
that cannot be read at all leaves nothing staged and carries the reason; the others go on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.config import REGISTRY_REQUIRED, ROSTER_REQUIRED, Config
from pipelines.ingest import SOURCES, LayoutError, SheetProblems, discover_files, read_chunks
from pipelines.ingest.chunk import RAW_PROVENANCE_SCHEMA
from pipelines.log import get_logger
from pipelines.normalise.records import normalise_registry_rows, normalise_roster_rows
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


def _with_file(frame: pl.DataFrame, report: FileReport, input_dir: Path) -> pl.DataFrame:
    relative = report.path.relative_to(input_dir).as_posix()
    return frame.with_columns(source=pl.lit(report.source), file=pl.lit(relative))


# A staged row's `_seq`: file number, chunk number and place in the chunk packed in one integer,
# unique in the run and the same for the same inputs. Joins on it are cheaper than on
# file#sheet#row text. Chunks stay far below 2^24 rows, runs far below 2^23 files.
_SEQ_FILE_SHIFT = 40
_SEQ_CHUNK_SHIFT = 24


def _with_seq(frame: pl.DataFrame, file_number: int, chunk_number: int) -> pl.DataFrame:
    base = (file_number << _SEQ_FILE_SHIFT) + (chunk_number << _SEQ_CHUNK_SHIFT)
    return frame.with_columns(_seq=pl.int_range(pl.len(), dtype=pl.Int64) + base)


def _stage_file(
    report: FileReport,
    file_number: int,
    input_dir: Path,
    config: Config,
    as_of: dt.date,
    work_dir: Path,
) -> list[pl.DataFrame]:
    """Stage one file's chunks; return its quarantine frames. Raises on unreadable files."""
    schema = schema_for(report.source, config, as_of)
    problems = SheetProblems()
    quarantined: list[pl.DataFrame] = []
    target = work_dir / report.source
    target.mkdir(parents=True, exist_ok=True)
    stem = _stem(file_number)
    for number, chunk in enumerate(
        read_chunks(report.path, report.source, config, work_dir / "transcoded", problems)
    ):
        # Normalise first, validate second: checks then read the derived columns (parsed dates)
        # instead of deriving them again, and accepted rows come out ready to stage.
        split = split_chunk(_normalise(chunk, report.source, config, as_of), schema)
        if split.accepted.height + split.quarantined.height != chunk.height:
            raise AccountingError(
                f"{report.path.name}: {chunk.height} rows read but "
                f"{split.accepted.height} + {split.quarantined.height} staged"
            )
        staged = _with_seq(_with_file(split.accepted, report, input_dir), file_number, number)
        staged.write_parquet(target / f"{stem}_{number:05d}.parquet", compression="lz4")
        quarantined.append(_with_file(split.quarantined, report, input_dir))
        report.rows_read += chunk.height
        report.rows_accepted += split.accepted.height
        report.rows_quarantined += split.quarantined.height
    report.sheet_errors = problems.errors
    return quarantined


def _stem(file_number: int) -> str:
    return f"file{file_number:05d}"


def _discard_partial(report: FileReport, file_number: int, work_dir: Path) -> None:
    """An unreadable file must not leave half of its rows staged."""
    stem = _stem(file_number)
    for partial in (work_dir / report.source).glob(f"{stem}_*"):
        partial.unlink()
    report.rows_read = report.rows_accepted = report.rows_quarantined = 0


def stage_inputs(input_dir: Path, config: Config, as_of: dt.date, work_dir: Path) -> StagedInputs:
    """Read every file under input_dir/{registry,pension,medical}; never stop at a bad file."""
    reports: list[FileReport] = []
    quarantined: list[pl.DataFrame] = []
    for source, paths in discover_files(input_dir).items():
        for path in paths:
            report = FileReport(source, path, path.stat().st_size, sha256_of(path))
            reports.append(report)
            file_number = len(reports)
            try:
                quarantined += _stage_file(report, file_number, input_dir, config, as_of, work_dir)
            except (LayoutError, pl.exceptions.PolarsError, OSError, UnicodeError) as error:
                _discard_partial(report, file_number, work_dir)
                report.error = (
                    str(error)
                    if isinstance(error, LayoutError)
                    else (f"读取失败（{type(error).__name__}）：{error}")
                )
                log.warning("无法读取 %s/%s：%s", source, path.name, report.error)
                continue
            log.info(
                "%s/%s：读入 %d 行，接受 %d 行，隔离 %d 行",
                source,
                path.name,
                report.rows_read,
                report.rows_accepted,
                report.rows_quarantined,
            )
    _write_quarantine(quarantined, work_dir)
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
