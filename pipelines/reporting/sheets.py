"""One list as one printable sheet: Chinese headers, frozen header row, autofilter, widths, text
that stays text, dates as dates, and a page setup a township prints as is (landscape, fit to
width, header row on every page, page numbers and the as-of date in the footer)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from pipelines.reporting.cells import text_cell

_BOLD = Font(bold=True)


@dataclass(frozen=True)
class Column:
    header: str
    source: str  # the frame column behind it
    width: int = 12
    kind: str = "text"  # text / date / number / percent


def _cell(sheet: WriteOnlyWorksheet, value: object, kind: str) -> object:
    """The value to append. Plain values are written fastest; a cell object only where the value
    needs one: a percentage's format, and text that openpyxl would otherwise store as a formula
    (any string starting with "="; see cells.text_cell). Dates get a date format from openpyxl."""
    if isinstance(value, str):
        return text_cell(sheet, value) if value.startswith("=") else value
    if kind == "percent" and isinstance(value, int | float):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "0.00%"
        return cell
    if kind == "text" and value is not None:
        return str(value)
    return value


def _print_setup(sheet: WriteOnlyWorksheet, title: str, as_of: dt.date) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.oddFooter.left.text = title
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
    sheet.oddFooter.right.text = f"比对基准日 {as_of.isoformat()}"


def write_table(
    book: Workbook,
    title: str,
    columns: list[Column],
    frame: pl.DataFrame,
    as_of: dt.date,
) -> WriteOnlyWorksheet:
    """Append a sheet holding `frame` under `columns`; returns it (for drop-downs)."""
    sheet = book.create_sheet(title)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{frame.height + 1}"
    _print_setup(sheet, title, as_of)
    header = []
    for column in columns:
        cell = text_cell(sheet, column.header)
        cell.font = _BOLD
        header.append(cell)
    sheet.append(header)
    kinds = [column.kind for column in columns]
    for row in frame.select([column.source for column in columns]).iter_rows():
        sheet.append([_cell(sheet, value, kind) for value, kind in zip(row, kinds, strict=True)])
    return sheet
