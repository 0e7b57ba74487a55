"""Exports a manager can print: Excel (one sheet per manager plus a summary) and CSV.

Client names are data: a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return could be read as a formula by a spreadsheet. In CSV such a
value gets a leading apostrophe (OWASP's advice); in Excel every text cell is
written as a string cell, never a formula, and the same apostrophe is added so
that a copy-paste out of the sheet stays inert too.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["inert", "restored", "to_csv", "to_excel", "sheet_name", "write_plain_csv"]

#: imported on first use, not with this module; a scheduled run's kernels import them ahead (salesbook.warm)
DEFERRED = ("xlsxwriter",)

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """A text that a spreadsheet will not execute; other values unchanged."""
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def restored(value: Any) -> Any:
    """The text :func:`inert` neutralised, as it was (for salesbook reading back its own files)."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(_DANGEROUS):
        return value[1:]
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


def write_plain_csv(df: pd.DataFrame, path: "str | Path") -> Path:
    """A CSV for salesbook itself (a run's ``categories.csv``): plain UTF-8 and commas, but every text
    neutralised like the other exports, since a spreadsheet may open it; :func:`restored` reads it back."""
    path = Path(path)
    _inert_frame(df).to_csv(path, index=False)
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


def _write_sheet(ws, df: pd.DataFrame, title: str | None, money: set[str], fmt: dict[str, Any]) -> None:
    """One sheet with XlsxWriter: every text a string cell (never a formula), numbers and dates typed."""
    row0 = 0
    if title:
        ws.write_string(0, 0, inert(title), fmt["title"])
        row0 = 2
    for j, col in enumerate(df.columns):
        ws.write_string(row0, j, inert(str(col)), fmt["header"])
    number_format = [fmt["money"] if col in money else None for col in df.columns]
    for i, row in enumerate(zip(*(df[c].tolist() for c in df.columns)), row0 + 1):
        for j, value in enumerate(row):
            if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float, date)):
                ws.write_string(i, j, inert(str(value)))
            elif isinstance(value, date):  # datetime and pandas Timestamp too
                ws.write_datetime(i, j, pd.Timestamp(value).to_pydatetime(), fmt["date"])
            else:
                ws.write_number(i, j, value, number_format[j])
    for j, col in enumerate(df.columns):
        width = max([len(str(col))] + [len(str(v)) for v in df.iloc[:200, j].tolist()]) + 2
        ws.set_column(j, j, min(max(width, 8), 60))
    ws.freeze_panes(row0 + 1, 0)
    if len(df.columns):
        ws.autofilter(row0, 0, row0 + len(df), len(df.columns) - 1)
    ws.repeat_rows(row0)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)


def to_excel(sheets: dict[str, pd.DataFrame], path: "str | Path", summary: pd.DataFrame | None = None,
             summary_title: str = "Summary", money: set[str] | None = None) -> Path:
    """An .xlsx with a summary sheet first and one sheet per key of ``sheets``, formatted for printing.

    Written with XlsxWriter in its constant-memory mode (row by row, inline strings): a few
    times faster than openpyxl on lists of tens of thousands of clients.
    """
    import xlsxwriter

    path = Path(path)
    taken: set[str] = set()
    with xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False, "strings_to_numbers": False}) as wb:
        fmt = {"title": wb.add_format({"bold": True, "font_size": 13}),
               "header": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top"}),
               "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
               "money": wb.add_format({"num_format": "#,##0"})}
        ws = wb.add_worksheet(sheet_name(summary_title, taken))
        _write_sheet(ws, summary if summary is not None else pd.DataFrame(), summary_title, money or set(), fmt)
        for name, df in sheets.items():
            _write_sheet(wb.add_worksheet(sheet_name(name, taken)), df, str(name), money or set(), fmt)
    return path
