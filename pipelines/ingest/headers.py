"""Recognising headers: which column is which field, and which row is the header row.

Headers are matched exactly against the configured aliases after a light normalisation
(spaces, line breaks, full-width brackets and commas). Exact matching, not "contains", is what
keeps the traps out: 户主身份证号 contains 身份证号 but is the household head's number.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipelines.config import REGISTRY_REQUIRED, ROSTER_REQUIRED, Config

# How many rows at the top of a sheet may be title rows before the header.
HEADER_SEARCH_ROWS = 20
# A header row must name at least this many known fields.
MIN_HEADER_SCORE = 3

SOURCES = ("registry", "pension", "medical")

# How fields are named to officers (messages, quarantine, reports).
FIELD_LABELS = {
    "name": "姓名",
    "id_number": "身份证号",
    "person_key": "人员编号",
    "household_key": "户编号",
    "sex": "性别",
    "birth_date": "出生日期",
    "county": "县市区",
    "township": "乡镇(街道)",
    "village": "村(社区)",
    "region_code": "行政区划代码",
    "category": "人员类别",
    "poverty_exit": "脱贫标志",
    "student": "在校生状况",
    "person_state": "人员状态",
    "roster_person_no": "个人编号",
    "scheme": "险种",
    "status": "参保状态",
    "region": "参保地",
    "enrolled_on": "参保日期",
}


class LayoutError(Exception):
    """A file (or sheet) whose columns cannot be understood; the message is for an officer."""


def normalise_header(text: object) -> str:
    """Fold a header cell to the form the alias table is compared in."""
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text))
    return "".join(folded.split()).replace("\u200b", "").replace("\ufeff", "")


def aliases_for(source: str, config: Config) -> dict[str, str]:
    """Normalised header → field name, for one source."""
    table = config.headers.registry if source == "registry" else config.headers.roster
    return {
        normalise_header(alias): field
        for field, aliases in table.model_dump().items()
        for alias in aliases
    }


def required_fields(source: str) -> tuple[str, ...]:
    return REGISTRY_REQUIRED if source == "registry" else ROSTER_REQUIRED


@dataclass(frozen=True)
class ColumnMap:
    """Where each field sits: field name → column position, plus what was left unused."""

    positions: dict[str, int]
    unknown_headers: tuple[str, ...]


def header_score(cells: Sequence[object], aliases: Mapping[str, str]) -> int:
    """How many distinct fields a candidate header row names (`aliases` from aliases_for)."""
    return len({aliases[h] for h in map(normalise_header, cells) if h in aliases})


def find_header_row(rows: Sequence[Sequence[object]], source: str, config: Config) -> int:
    """The index of the row that best matches the alias table (title rows above it are normal)."""
    aliases = aliases_for(source, config)
    scores = [header_score(row, aliases) for row in rows[:HEADER_SEARCH_ROWS]]
    if not scores or max(scores) < MIN_HEADER_SCORE:
        raise LayoutError(
            f"前 {HEADER_SEARCH_ROWS} 行中找不到表头（没有一行包含至少 {MIN_HEADER_SCORE} 个"
            "可识别的列名）。请检查文件是否放错了文件夹，或在配置文件 [headers] 中添加表头别名。"
        )
    return scores.index(max(scores))


def map_columns(headers: Sequence[object], source: str, config: Config) -> ColumnMap:
    """Map header cells to fields; fail with a plain reason when a required field is missing."""
    aliases = aliases_for(source, config)
    ignored = {normalise_header(h) for h in config.headers.ignored.columns}
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for position, cell in enumerate(headers):
        header = normalise_header(cell)
        field = aliases.get(header)
        if field is not None and field not in positions:
            positions[field] = position
        elif header and header not in ignored and field is None:
            unknown.append(header)
    missing = [field for field in required_fields(source) if field not in positions]
    if missing:
        raise LayoutError(_missing_columns_message(missing, source, config, headers))
    return ColumnMap(positions, tuple(unknown))


def _missing_columns_message(
    missing: list[str], source: str, config: Config, headers: Sequence[object]
) -> str:
    table = config.headers.registry if source == "registry" else config.headers.roster
    wanted = "；".join(
        f"「{FIELD_LABELS[field]}」（可用表头：{'/'.join(getattr(table, field))}）"
        for field in missing
    )
    present = {normalise_header(h) for h in headers}
    hint = ""
    if "id_number" in missing and present & {"户主身份证号", "户主身份证号码", "户主证件号码"}:
        hint = "（注意：户主身份证号是户主的号码，不是本人的，不能代替本人身份证号）"
    return f"缺少必需的列：{wanted}{hint}。请在配置文件 [headers] 中为实际表头添加别名。"
