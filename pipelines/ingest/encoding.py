"""Text encodings of CSV extracts: detect, and transcode to UTF-8 when needed.

Counties send UTF-8, UTF-8 with a BOM, GBK/GB18030 (Excel's "CSV" on Chinese Windows) and
sometimes UTF-16 with a BOM. polars and DuckDB read only UTF-8 as a stream (DuckDB's encodings
extension cannot be installed offline), so anything else is transcoded once, in a streaming copy,
into the run's work folder.
"""

from __future__ import annotations

import codecs
import hashlib
import shutil
from pathlib import Path

from pipelines.ingest.headers import LayoutError

_BLOCK = 1 << 20
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# GB18030 is a superset of GBK and GB2312 and covers the rare characters of names.
_FALLBACK = "gb18030"
_UNREADABLE = (
    "无法识别文件编码（不是 UTF-8、GBK/GB18030 或 UTF-16 文本），可能不是 CSV 文件或已损坏。"
)


def _decodes_cleanly(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            while block := handle.read(_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """BOM first, then strict UTF-8, else GB18030.

    GB18030 is not checked here: the transcode that follows decodes every byte anyway and refuses
    the file if it is not GB18030 either (see `as_utf8`), so one pass over the file is saved.
    """
    with path.open("rb") as handle:
        head = handle.read(4)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    return "utf-8" if _decodes_cleanly(path, "utf-8") else _FALLBACK


def as_utf8(path: Path, encoding: str, work_dir: Path) -> Path:
    """A UTF-8 path for `path`: the file itself if already UTF-8, else a streamed transcode."""
    if encoding in ("utf-8", "utf-8-sig"):
        return path
    work_dir.mkdir(parents=True, exist_ok=True)
    tag = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    target = work_dir / f"{path.stem}.{tag}.utf8.csv"
    try:
        with (
            path.open(encoding=encoding, newline="") as source,
            target.open("w", encoding="utf-8", newline="") as sink,
        ):
            shutil.copyfileobj(source, sink, _BLOCK)
    except UnicodeDecodeError:
        target.unlink(missing_ok=True)
        raise LayoutError(_UNREADABLE) from None
    return target


def read_head_lines(path: Path, encoding: str, count: int) -> list[str]:
    """The first `count` lines, decoded, for header detection."""
    lines: list[str] = []
    try:
        with path.open(encoding=encoding, newline="") as handle:
            for line in handle:
                lines.append(line.rstrip("\r\n"))
                if len(lines) >= count:
                    break
    except UnicodeDecodeError:
        raise LayoutError(_UNREADABLE) from None
    return lines
