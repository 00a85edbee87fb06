"""Fault injection for the crash tests: a run can be made to stop dead at a named point.

With PIPELINES_FAULT_PAUSE=<point> in the environment, reaching that point writes
PIPELINES_FAULT_MARKER (a file path) and sleeps, so that a test can kill the process there
with SIGKILL. Unset in every real run, where fault_point does nothing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PAUSE_VARIABLE = "PIPELINES_FAULT_PAUSE"
MARKER_VARIABLE = "PIPELINES_FAULT_MARKER"


def fault_point(name: str) -> None:
    if os.environ.get(PAUSE_VARIABLE) != name:
        return
    marker = os.environ.get(MARKER_VARIABLE)
    if marker:
        Path(marker).write_text(name, encoding="utf-8")
    time.sleep(600)
