"""Exports a manager can print: Excel (one sheet per manager plus a summary) and CSV.

Client names are data: a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return could be read as a formula by a spreadsheet. In CSV such a
value gets a leading apostrophe (OWASP's advice); in Excel every text cell is
written as a string cell, never a formula, and the same apostrophe is added so
that a copy-paste out of the sheet stays inert too.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["inert", "restored", "to_csv", "to_excel", "sheet_name", "write_plain_csv", "call_columns",
           "PRINT_WIDTH", "Cells"]

#: imported on first use, not with this module; a scheduled run's kernels import them ahead (salesbook.run.warm)
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


#: Excel's limit on a sheet name
SHEET_NAME_MAX = 31
#: the width (in Excel's character units) that prints on landscape A4 at 9 pt or larger: 277 mm of paper at
#: 82 % (9 pt of the default 11 pt) is 338 mm of sheet, and a character unit of Calibri 11 is 1.85 mm wide
PRINT_WIDTH = 182
#: a text column wraps beyond this width instead of widening the sheet
TEXT_WIDTH = 40
#: a workbook of at most this many cells is written in memory (faster for small ones), a larger one row by row
SMALL_CELLS = 20_000


def sheet_name(name: str, taken: set[str]) -> str:
    """An Excel sheet name, unique in the workbook: none of []:*?/\\, at most 31 characters, shortened at
    a word boundary (``Незакрытые категории: где...`` -> ``Незакрытые категории где``), never mid-word; a
    single word longer than that ends in an ellipsis."""
    text = re.sub(r"[\[\]:*?/\\]", " ", str(name)).replace("'", "")
    text = re.sub(r"\s+", " ", text).strip() or "sheet"

    def shorten(value: str, room: int) -> str:
        if len(value) <= room:
            return value
        words, out = value.split(" "), ""
        for word in words:
            nxt = f"{out} {word}".strip()
            if len(nxt) > room:
                break
            out = nxt
        out = out.rstrip(" ,.;-–—>")
        return out or value[: room - 1] + "…"
    base = shorten(text, SHEET_NAME_MAX)
    candidate, k = base, 2
    while candidate.lower() in {t.lower() for t in taken}:
        suffix = f" ({k})"
        candidate = shorten(text, SHEET_NAME_MAX - len(suffix)) + suffix
        k += 1
    taken.add(candidate)
    return candidate


def _widths(names: list[Any], columns: list[list[Any]], is_text: list[bool], extra: list[str]) -> list[int]:
    """Column widths that print at 9 pt or more: text columns wrap at :data:`TEXT_WIDTH` and shrink (to 14)
    while the sheet is wider than :data:`PRINT_WIDTH`. ``names``: the headers; ``columns``: each column's
    values (its first 200 are measured)."""
    widths, text = [], []
    for col, values, wrap in zip(names, columns, is_text):
        lengths = [len(str(v)) for v in values[:200]]
        head = max(len(w) for w in str(col).split()) if str(col).split() else 8
        width = max([head, min(len(str(col)), 16)] + lengths) + 2
        widths.append(min(max(width, 8), TEXT_WIDTH if wrap else 24))
        text.append(wrap)
    widths += [max(14, min(len(c) + 2, 30)) for c in extra]
    text += [True] * len(extra)
    while sum(widths) > PRINT_WIDTH:
        wide = [j for j, w in enumerate(widths) if text[j] and w > 14]
        if not wide:
            break
        j = max(wide, key=lambda j: widths[j])
        widths[j] -= 1
    return widths


class Cells:
    """A frame's cells as Python lists, one per column, with the columns' names and dtypes: what a sheet
    writes. Many sheets cut from one long frame (a manager's pack each) take their rows here
    (:meth:`take`) instead of through pandas, once per sheet."""

    def __init__(self, names: list[Any], columns: list[list[Any]], dtypes: list[Any]):
        self.names, self.columns, self.dtypes = names, columns, dtypes

    @classmethod
    def of(cls, df: pd.DataFrame) -> "Cells":
        columns = ([df[c].tolist() for c in df.columns] if df.columns.is_unique
                   else [df.iloc[:, j].tolist() for j in range(df.shape[1])])
        return cls(list(df.columns), columns, df.dtypes.tolist())

    def take(self, rows: Any) -> "Cells":
        """These rows (positions), in this order."""
        return Cells(self.names, [[col[i] for i in rows] for col in self.columns], self.dtypes)

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    @property
    def size(self) -> int:
        return len(self) * len(self.names)


#: Excel's longest text in a cell, in UTF-16 units
_TEXT_MAX = 32767


def _text_cell(sheet: Any, text: str) -> str:
    """A text cell's type and content as XlsxWriter 3.3 writes them in constant-memory mode, with its own
    escapes (``write_string``'s cut at Excel's 32,767 characters, ``_write_cell``'s control characters as
    ``_xHHHH_`` and blanks at the ends preserved, ``_xml_inline_string``'s markup): what follows
    ``<c r=".." s=".."``."""
    from xlsxwriter.utility import _preserve_whitespace, _utf16_len, _utf16_truncate
    if len(text) > _TEXT_MAX // 2 and _utf16_len(text) > _TEXT_MAX:
        text = _utf16_truncate(text, _TEXT_MAX)
    text = sheet._escape_control_characters(text)
    space = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
    return f' t="inlineStr"><is><t{space}>{sheet._escape_data(text)}</t></is></c>'


def _list_rows(sheet: Any, columns: list[list[Any]], first: int, xf: dict[str, int], number_xf: list[int],
               plain: list[bool], chunk: int = 2000) -> Any:
    """A list's rows as sheet XML, ``chunk`` rows at a time, from row ``first`` (0-based): the cells
    :func:`_write_sheet` wrote one by one through XlsxWriter before (the same XML: a test compares them),
    at a tenth of the time. A missing value is no cell; a text (and a boolean) is a string cell, never a
    formula, made inert; a date a dated number; a whole float in a plain number column shows without
    decimals; another number has its column's format. ``plain``: the column's format is the plain number."""
    from xlsxwriter.utility import xl_col_to_name
    letters = [xl_col_to_name(j) for j in range(len(columns))]
    text_xf, date_xf, whole_xf = xf["text"], xf["date"], xf["money"]
    parts: list[str] = []
    texts: dict[str, str] = {}  # a text's cell, made once: names of managers and categories repeat
    for i, row in enumerate(zip(*columns), first + 1):
        start = len(parts)
        parts.append(f'<row r="{i}">')
        for j, value in enumerate(row):
            if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float, date)):
                value = value if type(value) is str else str(value)
                text = texts.get(value)
                if text is None:
                    text = texts[value] = _text_cell(sheet, inert(value))
                parts.append(f'<c r="{letters[j]}{i}" s="{text_xf}"{text}')
            elif isinstance(value, date):  # datetime and pandas Timestamp too
                number = sheet._convert_date_time(pd.Timestamp(value).to_pydatetime())
                parts.append(f'<c r="{letters[j]}{i}" s="{date_xf}"><v>{number:.16G}</v></c>')
            elif isinstance(value, float) and value - value != 0.0:  # inf: XlsxWriter refused it too
                raise ValueError(f"cell {letters[j]}{i}: {value} is not a number a spreadsheet can hold")
            elif isinstance(value, float) and plain[j] and value == int(value):
                parts.append(f'<c r="{letters[j]}{i}" s="{whole_xf}"><v>{value:.16G}</v></c>')
            else:
                parts.append(f'<c r="{letters[j]}{i}" s="{number_xf[j]}"><v>{value:.16G}</v></c>')
        if len(parts) == start + 1:  # no cell: no row, as XlsxWriter
            parts.pop()
        else:
            parts.append("</row>")
        if len(parts) >= chunk * 8:
            yield "".join(parts)
            parts = []
    yield "".join(parts)


@functools.lru_cache(maxsize=1)
def _list_sheet() -> type:
    """XlsxWriter's worksheet (3.3; ``Workbook.add_worksheet(worksheet_class=...)``) whose list rows are written
    by :func:`_list_rows` when the sheet is assembled, after its title and header rows; XlsxWriter's
    per-cell path (about 10 µs a cell, most of a long list's export) is left for those few cells. Made on
    first use: xlsxwriter is imported with the first export."""
    from xlsxwriter.worksheet import Worksheet

    class ListSheet(Worksheet):
        body = None  # a callable of the sheet giving the list rows' XML in pieces

        def _write_sheet_data(self) -> None:
            if self.body is None:
                return super()._write_sheet_data()
            self._xml_start_tag("sheetData")
            self._write_rows()  # the title and the header, written through XlsxWriter
            for piece in self.body(self):
                self.fh.write(piece)
            self._xml_end_tag("sheetData")

    return ListSheet


def _write_sheet(ws, df: "pd.DataFrame | Cells", title: str | None, money: set[str], fmt: dict[str, Any],
                 shares: set[str] = frozenset(), extra: list[str] | None = None,
                 headers: dict[Any, str] | None = None) -> None:
    """One sheet with XlsxWriter: every text a string cell (never a formula), numbers and dates typed with
    thousands separators, long text wrapped, and ``extra`` empty columns (the call list's) at the end.
    ``headers``: the header written for a column (a money column's, with the currency), default its name;
    ``money`` and ``shares`` name columns by their headers."""
    extra = list(extra or [])
    cells = df if isinstance(df, Cells) else Cells.of(df)
    names = [(headers or {}).get(c, c) for c in cells.names]
    row0 = 0
    if title:
        ws.write_string(0, 0, inert(title), fmt["title"])
        row0 = 2
    for j, col in enumerate(names + extra):
        ws.write_string(row0, j, inert(str(col)), fmt["header"])
    dtypes = cells.dtypes
    number_format = []
    for col, dtype in zip(names, dtypes):
        if col in shares:
            number_format.append(fmt["share"])
        elif col in money or pd.api.types.is_integer_dtype(dtype):
            number_format.append(fmt["money"])
        else:
            number_format.append(fmt["number"])
    columns = cells.columns
    if len(cells):
        last = row0 + len(cells)
        if ws._check_dimensions(last, 0) < 0:  # the sheet's extent, as a written cell would set it
            raise ValueError(f"{len(cells):,} rows do not fit in an Excel sheet ({ws.xls_rowmax:,} rows at most)")
        # the formats' style numbers, taken now (a format is in the workbook's styles once it has one)
        xf = {key: fmt[key]._get_xf_index() for key in ("text", "date", "money")}
        ws.body = functools.partial(_list_rows, columns=columns, first=row0 + 1, xf=xf,
                                    number_xf=[f._get_xf_index() for f in number_format],
                                    plain=[f is fmt["number"] for f in number_format])
        if extra:
            # a box to write the call's result in, on every row of the list: one rule over the range, not a
            # blank cell each (those were a third of a call list's cells, and of its writing time)
            ws.conditional_format(row0 + 1, len(names), last, len(names) + len(extra) - 1,
                                  {"type": "no_errors", "format": fmt["blank"]})
    is_text = [not pd.api.types.is_numeric_dtype(d) and not pd.api.types.is_datetime64_any_dtype(d) for d in dtypes]
    for j, width in enumerate(_widths(names, columns, is_text, extra)):
        ws.set_column(j, j, width)
    ws.freeze_panes(row0 + 1, 0)
    if len(names):
        ws.autofilter(row0, 0, row0 + len(cells), len(names) + len(extra) - 1)
    ws.repeat_rows(row0)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)  # one page wide: the widths above keep that at 9 pt or more


def to_excel(sheets: "dict[str, pd.DataFrame | Cells]", path: "str | Path", summary: "pd.DataFrame | Cells | None" = None,
             summary_title: str = "Summary", money: set[str] | None = None, shares: set[str] | None = None,
             call_columns: list[str] | None = None, lang: str | None = None, summary_sheet: str | None = None,
             titles: dict[str, str] | None = None) -> Path:
    """An .xlsx with a summary sheet first and one sheet per key of ``sheets``, formatted for printing.

    Sheet names are short names (``Мост выручки``), each sheet's first line its full title
    (``Мост выручки: откуда изменение``): ``summary_sheet`` names the summary's sheet (default: its title),
    ``titles`` gives the title of a sheet by its key (default: the key). A name longer than Excel's 31
    characters is shortened at a word (:func:`sheet_name`): fit for a manager's name, not for a phrase.
    ``money`` columns get the run's currency in their header when ``lang`` is given (``Выручка, ₽``);
    ``shares`` show as percentages; ``call_columns``: empty columns at the end of every list sheet (the call's
    result, the next step and its date). Written with XlsxWriter: formats, widths, panes, filters and print
    settings through its API, a list's rows by :func:`_list_rows` (XlsxWriter's per-cell path cost about 10 µs
    a cell, most of a long list's export); a workbook of at most :data:`SMALL_CELLS` cells is assembled in
    memory, a larger one through temporary files. A sheet (and the summary) may be given as :class:`Cells`.
    """
    import xlsxwriter

    path = Path(path)
    money, shares = set(money or ()), set(shares or ())
    renamed: dict[Any, str] = {}
    if lang:
        from salesbook.views.display import money_header
        renamed = {c: money_header(c, lang) for c in money}
        money = set(renamed.values())
    cells = sum(df.size for df in sheets.values()) + (summary.size if summary is not None else 0)
    # a small workbook (a manager's pack) is assembled in memory, a long one through temporary files
    memory = {"in_memory": True} if cells <= SMALL_CELLS else {}
    taken: set[str] = set()
    with xlsxwriter.Workbook(str(path), {**memory, "strings_to_formulas": False,
                                         "strings_to_urls": False, "strings_to_numbers": False}) as wb:
        fmt = {"title": wb.add_format({"bold": True, "font_size": 13}),
               "header": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top",
                                        "border": 1}),
               "text": wb.add_format({"text_wrap": True, "valign": "top"}),
               "date": wb.add_format({"num_format": "yyyy-mm-dd", "valign": "top"}),
               "money": wb.add_format({"num_format": "#,##0", "valign": "top"}),
               "number": wb.add_format({"num_format": "#,##0.00", "valign": "top"}),
               "share": wb.add_format({"num_format": "0.0%", "valign": "top"}),
               "blank": wb.add_format({"border": 1, "border_color": "#BFBFBF"})}
        def sheet(name: str) -> Any:
            return wb.add_worksheet(sheet_name(name, taken), worksheet_class=_list_sheet())
        _write_sheet(sheet(summary_sheet or summary_title), summary if summary is not None else pd.DataFrame(),
                     summary_title, money, fmt, shares, headers=renamed)
        titles = titles or {}
        for name, df in sheets.items():
            _write_sheet(sheet(name), df, str(titles.get(name, name)), money, fmt, shares, call_columns,
                         headers=renamed)
    return path


def call_columns(lang: str = "en") -> list[str]:
    """The empty columns of a call list: what the call gave, the next step, and its date."""
    from salesbook.i18n import t
    return [t("xl.call_result", lang), t("xl.next_step", lang), t("xl.next_date", lang)]
