"""Logging for people at a terminal, with ID numbers masked on the way out.

Every record passes through `MaskIdNumbers`, so even a message that carelessly includes an ID
(an exception text, a library's warning) never shows more than its first 6 and last 4 characters.
"""

from __future__ import annotations

import logging
import re
import sys

# 15 to 18 characters that look like an ID number (digits, maybe ending in X).
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{5,8})(\d{3}[\dXx])(?![0-9A-Za-z])")


def mask_ids_in_text(text: str) -> str:
    """Mask anything shaped like an ID number inside free text."""
    return _ID_LIKE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)


class MaskIdNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_ids_in_text(record.getMessage())
        record.args = None
        return True


def setup_logging(verbose: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    handler.addFilter(MaskIdNumbers())
    root = logging.getLogger("pipelines")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name if name.startswith("pipelines") else f"pipelines.{name}")
