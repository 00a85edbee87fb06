"""Where things live in the project, derived from this file's location, not the working dir."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DIR = PROJECT_ROOT / "data" / "reference"
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
INTERIM_DIR = PROJECT_ROOT / "data" / "interim"
DEFAULT_LEDGER = PROJECT_ROOT / "data" / "ledger.duckdb"
DEFAULT_REPORTS = PROJECT_ROOT / "reports"


def from_project(path: Path) -> Path:
    """A configured path: relative ones are taken from the project folder, not the working dir."""
    return path if path.is_absolute() else PROJECT_ROOT / path
