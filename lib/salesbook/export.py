"""Exports a manager can print: Excel (one sheet per manager plus a summary) and CSV.

Client names are data: a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return could be read as a formula by a spreadsheet. In CSV such a
value gets a leading apostrophe (OWASP's advice); in Excel every text cell is
written as a string cell, never a formula, and the same apostrophe is added so
that a copy-paste out of the sheet stays inert too.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["inert", "to_csv", "to_excel", "sheet_name"]

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """A text that a spreadsheet will not execute; other values unchanged."""
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def _inert_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(inert)
    out.columns = [inert(str(c)) for c in out.columns]
    return out


def to_csv(df: pd.DataFrame, path: "str | Path", lang: str = "en") -> Path:
    """CSV that Excel opens directly: UTF-8 with BOM; ``;`` and decimal comma for ``ru``."""
    path = Path(path)
    sep, dec = (";", ",") if lang == "ru" else (",", ".")
    _inert_frame(df).to_csv(path, index=False, sep=sep, decimal=dec, encoding="utf-8-sig")
    return path


def sheet_name(name: str, taken: set[str]) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = re.sub(r"[\[\]:*?/\\]", "_", str(name)).strip("'") or "sheet"
    base = base[:31]
    candidate, k = base, 2
    while candidate.lower() in {t.lower() for t in taken}:
        suffix = f" ({k})"
        candidate = base[: 31 - len(suffix)] + suffix
        k += 1
    taken.add(candidate)
    return candidate


def _write_sheet(ws, df: pd.DataFrame, title: str | None, money: set[str]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    row0 = 1
    if title:
        cell = ws.cell(row=1, column=1)
        cell.value, cell.data_type = inert(title), "s"
        cell.font = Font(bold=True, size=13)
        row0 = 3
    for j, col in enumerate(df.columns, 1):
        cell = ws.cell(row=row0, column=j)
        cell.value, cell.data_type = inert(str(col)), "s"
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, row in enumerate(df.itertuples(index=False), row0 + 1):
        for j, value in enumerate(row, 1):
            cell = ws.cell(row=i, column=j)
            if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
                continue
            if isinstance(value, (pd.Timestamp, datetime, date)):
                cell.value = pd.Timestamp(value).to_pydatetime()
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                cell.value = float(value) if isinstance(value, float) else int(value)
                if df.columns[j - 1] in money:
                    cell.number_format = "#,##0"
            else:
                cell.value = inert(str(value))
                cell.data_type = "s"  # text, never a formula
    for j, col in enumerate(df.columns, 1):
        width = max([len(str(col))] + [len(str(v)) for v in df.iloc[:200, j - 1].tolist()]) + 2
        ws.column_dimensions[get_column_letter(j)].width = min(max(width, 8), 60)
    ws.freeze_panes = ws.cell(row=row0 + 1, column=1)
    if len(df):
        ws.auto_filter.ref = f"A{row0}:{get_column_letter(len(df.columns))}{row0 + len(df)}"
    ws.print_title_rows = f"{row0}:{row0}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def to_excel(sheets: dict[str, pd.DataFrame], path: "str | Path", summary: pd.DataFrame | None = None,
             summary_title: str = "Summary", money: set[str] | None = None) -> Path:
    """An .xlsx with a summary sheet first and one sheet per key of ``sheets``, formatted for printing."""
    from openpyxl import Workbook

    path = Path(path)
    wb = Workbook()
    taken: set[str] = set()
    ws = wb.active
    ws.title = sheet_name(summary_title, taken)
    _write_sheet(ws, summary if summary is not None else pd.DataFrame(), summary_title, money or set())
    for name, df in sheets.items():
        _write_sheet(wb.create_sheet(sheet_name(name, taken)), df, str(name), money or set())
    wb.save(path)
    return path
