"""Writing cells safely: input text stays text, IDs stay text, files appear whole or not at all."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

_UNSAFE_PATH_CHARACTERS = re.compile(r'[\\/:*?"<>|\s]+')


def text_cell(sheet: WriteOnlyWorksheet, value: Any) -> WriteOnlyCell:
    """A cell whose text is never interpreted: a name like `=HYPERLINK(...)` stays a string."""
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
        cell.number_format = "@"
    return cell


def safe_file_name(text: str) -> str:
    """A township or county name as a file name component."""
    return _UNSAFE_PATH_CHARACTERS.sub("_", text).strip("._") or "未命名"


@contextmanager
def written_atomically(target: Path) -> Iterator[Path]:
    """Yield a temporary path; rename it to `target` only once the write has finished."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.partial")
    try:
        yield temporary
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)
