"""Check builders shared by the source schemas; each check's `error` is what an officer reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandera.polars as pa
import polars as pl

# Separators between several categories in one cell: 低保对象、特困人员
CATEGORY_SEPARATORS = r"[、，,;；／/]"


def _is_blank(column: pl.Expr) -> pl.Expr:
    return column.is_null() | (column.str.strip_chars() == "")


def filled(label: str) -> pa.Check:
    """The cell must hold something."""
    return pa.Check(
        lambda data: data.lazyframe.select(~_is_blank(pl.col(data.key))),
        name="filled",
        error=f"{label}为空",
    )


def one_of(label: str, allowed: Iterable[str]) -> pa.Check:
    """A filled cell must be one of the configured values (blank cells are left to `filled`)."""
    values = sorted(set(allowed))
    return pa.Check(
        lambda data: data.lazyframe.select(
            _is_blank(pl.col(data.key)) | pl.col(data.key).str.strip_chars().is_in(values)
        ),
        name="one_of",
        error=f"{label}的取值不在配置的范围内（可用：{'、'.join(values)}）",
    )


def split_tokens(cell: pl.Expr) -> pl.Expr:
    """A multi-valued cell as a list of its parts."""
    return cell.str.replace_all(CATEGORY_SEPARATORS, "\x1f").str.split("\x1f")


def every_token_one_of(label: str, allowed: Iterable[str]) -> pa.Check:
    """Every part of a multi-valued cell (建档立卡贫困人口、低保对象) must be a known value."""
    values = sorted(set(allowed))

    def check(data: pa.PolarsData) -> pl.LazyFrame:
        tokens = (
            split_tokens(pl.col(data.key))
            .list.eval(pl.element().str.strip_chars())
            .list.eval(pl.element().filter(pl.element() != ""))
        )
        known = tokens.list.eval(pl.element().is_in(values)).list.all()
        return data.lazyframe.select(_is_blank(pl.col(data.key)) | known.fill_null(False))

    return pa.Check(
        check, name="tokens_one_of", error=f"{label}中有未知的取值（可用：{'、'.join(values)}）"
    )


def real_date(label: str, parsed_column: str, as_of: dt.date) -> pa.Check:
    """A filled date must be a real calendar date, not in the future and not before 1880.

    Rows are normalised before they are validated, so the date is read from `parsed_column`
    (parsed once, by pipelines/normalise/dates.py) and a failure shows the text as written.
    """
    return pa.Check(
        lambda data: data.lazyframe.select(
            _is_blank(pl.col(data.key))
            | pl.col(parsed_column).is_between(dt.date(1880, 1, 1), as_of).fill_null(False)
        ),
        name="real_date",
        error=f"{label}不是有效日期（无法识别、日期不存在、早于1880年或晚于比对基准日）",
    )


def text_column(*checks: pa.Check, required: bool = True) -> pa.Column:
    """A text column; `required` means the header must exist (values are checked by `filled`)."""
    return pa.Column(pl.String, list(checks), nullable=True, required=required)
