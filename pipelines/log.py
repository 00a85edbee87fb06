"""Logging for people at a terminal, with ID numbers masked before any handler sees them.

Every log record in the process is masked when it is created (`install_record_masking`), not by
a filter on one handler: Prefect attaches handlers of its own (its console, and the one that
sends log lines to the Prefect server for the UI), and a filter on ours would not cover them.
So even a message that carelessly includes an ID (an exception text, a library's warning, a
traceback) never shows more than its first 6 and last 4 characters, wherever it goes.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Callable
from typing import Any

# 15 to 18 characters that look like an ID number (digits, maybe ending in X).
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{5,8})(\d{3}[\dXx])(?![0-9A-Za-z])")


def mask_ids_in_text(text: str) -> str:
    """Mask anything shaped like an ID number inside free text."""
    return _ID_LIKE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Replace the record's message, traceback and stack with masked text, once and for all.

    The traceback is rendered here (as the standard formatter would) because formatters print
    `exc_text` when it is set instead of rendering `exc_info` again; `exc_info` itself stays, so
    a handler can still tell which exception the record is about."""
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        # A malformed logging call (arguments that do not fit the format): kept as plain text,
        # rather than raising here or leaving logging to print the raw arguments later.
        message = f"{record.msg} {record.args!r}"
    record.msg = mask_ids_in_text(message)
    record.args = None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    if record.exc_text:
        record.exc_text = mask_ids_in_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_ids_in_text(record.stack_info)
    return record


class _MaskingRecordFactory:
    """Wraps the record factory in force, so that every record is born masked."""

    def __init__(self, wrapped: Callable[..., logging.LogRecord]) -> None:
        self.wrapped = wrapped

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(self.wrapped(*args, **kwargs))


def install_record_masking() -> None:
    """Mask every log record of this process at creation (idempotent)."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, _MaskingRecordFactory):
        logging.setLogRecordFactory(_MaskingRecordFactory(current))


def mask_exception(error: BaseException) -> BaseException:
    """Mask ID-shaped text in an exception's own texts, in place, and return it.

    Prefect writes a failed task's exception into the run's state message, which the server
    stores and the UI shows; that text never passes through logging."""
    error.args = tuple(mask_ids_in_text(a) if isinstance(a, str) else a for a in error.args)
    if isinstance(error, OSError):
        for attribute in ("filename", "filename2", "strerror"):
            value = getattr(error, attribute)
            if isinstance(value, str):
                setattr(error, attribute, mask_ids_in_text(value))
    return error


def setup_logging(verbose: bool = False) -> None:
    install_record_masking()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    root = logging.getLogger("pipelines")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name if name.startswith("pipelines") else f"pipelines.{name}")
