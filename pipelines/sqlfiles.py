"""Loads the SQL files in `sql/` by name: matching and ledger logic lives there, not in strings."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


@cache
def load_sql(name: str) -> str:
    """The text of `sql/<name>.sql`."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
