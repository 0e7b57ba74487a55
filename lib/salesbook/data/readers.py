"""One reader per kind of source, behind one small interface, registered by kind.

A reader takes a path (and the mapping's ``read:`` options) and returns a :class:`Read`: either a frame of
cells (text and Excel files: nothing converted yet, with the source's line numbers in ``_row``) or an
engine table (Parquet, DuckDB files), and a :class:`Detected`: what it found out on the way (encoding,
delimiter, sheet, header line). The loader (:mod:`salesbook.data.load`), the proposer
(:mod:`salesbook.data.propose`) and the load report read what a reader returns.

============  ==========================================  =========================================
kind          files                                       what it detects
============  ==========================================  =========================================
``text``      .csv .txt .tsv                              encoding (UTF-8 with or without BOM,
                                                          UTF-16 LE/BE with BOM, cp1251),
                                                          delimiter, header line
``excel``     .xlsx .xlsm .xls .ods (pandas' ``calamine``  the sheet whose header carries the
              engine: python-calamine)                    mapped columns, header row
``parquet``   .parquet .pq                                —
``duckdb``    .duckdb .ddb .db (``file.duckdb#table``)    the table, when there is one
============  ==========================================  =========================================

Why calamine for every spreadsheet: one reader for the three formats (.xls is Excel 97, the default of
older 1C versions; .ods LibreOffice), and on a 100,000-line .xlsx sheet it read in 10.5 s what openpyxl read
in 78.7 s, 7.5 times faster (``benchmarks/readers_benchmark.py``; 2 cores shared with other work).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from salesbook.errors import DataError

__all__ = ["Detected", "Read", "Reader", "READERS", "reader_for", "register", "detect_encoding",
           "detect_delimiter", "detect_decimal", "read_text_table", "read_excel_table", "excel_column",
           "drop_repeated_headers", "SUFFIXES"]

EXCEL_ENGINE = "calamine"


@dataclass
class Detected:
    """What a reader found out about a source (None: not applicable, or given by the mapping)."""

    kind: str = ""
    encoding: str | None = None
    delimiter: str | None = None
    header_line: int = 1
    line_word: str = "line"
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)


@dataclass
class Read:
    """A source as read: ``frame`` (cells, with ``_row``) or ``table`` (an engine's), and what was detected."""

    where: str
    detected: Detected
    frame: pd.DataFrame | None = None
    table: Any = None  # ibis.Table for typed sources
    con: Any = None  # the engine holding ``table``, when it is not the default DuckDB


class Reader(Protocol):
    """Reads one kind of file."""

    kind: str
    suffixes: frozenset[str]

    def read(self, path: Path, wanted: set[str], options: dict[str, Any], **context: Any) -> Read:
        """Read ``path``; ``wanted`` are the source column names the mapping needs (to find the header
        and the sheet), ``options`` the mapping's ``read:`` section with overrides applied."""


READERS: dict[str, Reader] = {}


def register(reader: Reader) -> Reader:
    """Add ``reader`` to :data:`READERS` under its kind."""
    READERS[reader.kind] = reader
    return reader


def reader_for(path: Path) -> Reader | None:
    """The reader of ``path``'s suffix, or None."""
    suffix = path.suffix.lower()
    return next((r for r in READERS.values() if suffix in r.suffixes), None)


# --------------------------------------------------------------------------- detection

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def detect_encoding(head: bytes) -> str:
    """UTF-8 with BOM, UTF-16 LE or BE with BOM (Excel's "Unicode text"), UTF-8, else cp1251 (the Windows
    Cyrillic code page 1C writes)."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # a cut in the middle of a multi-byte character at the end is still UTF-8
        if exc.start >= len(head) - 3:
            return "utf-8"
        return "cp1251"


def detect_delimiter(text: str) -> str:
    """The delimiter of a text table: ``;``, ``,``, tab or ``|``."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    sample = "\n".join(lines)
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t|").delimiter
    except csv.Error:
        counts = {d: sum(ln.count(d) for ln in lines) for d in ";,\t|"}
        return max(counts, key=counts.get) if any(counts.values()) else ","


_COMMA_NUM = re.compile(r"^\(?-?[^\d(]{0,4}\d{1,3}(?:[ \u00a0\u202f.]\d{3})*,\d+\D{0,4}\)?$|^\(?-?\D{0,4}\d+,\d+\D{0,4}\)?$")
_DOT_NUM = re.compile(r"^\(?-?[^\d(]{0,4}\d{1,3}(?:[ \u00a0\u202f,]\d{3})*\.\d+\D{0,4}\)?$|^\(?-?\D{0,4}\d+\.\d+\D{0,4}\)?$")


def detect_decimal(values: pd.Series) -> str:
    """',' when the numbers in ``values`` are written with a decimal comma, else '.' (currency signs and
    parentheses around them allowed)."""
    sample = values.dropna().astype(str).str.strip().head(2000)
    comma = int(sample.str.match(_COMMA_NUM).sum())
    dot = int(sample.str.match(_DOT_NUM).sum())
    return "," if comma > dot else "."


def _find_header(lines: list[list[str]], wanted: set[str]) -> int:
    """Index of the first row holding a wanted source column name (1C puts titles above); else of the first
    row with as many filled cells as the widest of the first 30 (a title above a header of unknown names)."""
    for i, cells in enumerate(lines[:30]):
        if {str(c).strip().strip('"').strip() for c in cells if c is not None} & wanted:
            return i
    filled = [sum(1 for c in cells if c is not None and str(c).strip().strip('"') not in ("", "nan"))
              for cells in lines[:30]]
    return filled.index(max(filled)) if filled else 0


def drop_repeated_headers(frame: pd.DataFrame, drop: bool) -> tuple[pd.DataFrame, list[int]]:
    """Rows that repeat the header (two exports pasted together): with ``drop``, removed and returned by
    line number; otherwise kept (they then fail as unreadable values, naming the line)."""
    cells = frame.drop(columns="_row")
    if not drop or cells.empty:
        return frame, []
    same = pd.Series(True, index=frame.index)
    for col in cells.columns:
        same &= cells[col].astype("string").str.strip().fillna("") == str(col)
    return frame[~same], frame.loc[same, "_row"].tolist()


# --------------------------------------------------------------------------- text


def read_text_table(path: Path, wanted: set[str], options: dict[str, Any]) -> Read:
    """Read a CSV export as text cells (nothing converted yet) with its source line numbers.

    The frame has an extra ``_row`` column (line number in the file, 1-based, as an editor shows it).
    """
    raw = path.read_bytes()
    if not raw.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
        raise DataError(str(path), "the file is empty: no header and no sales lines")
    enc = options.get("encoding") or detect_encoding(raw[:65536])
    codec = {"utf-16-le": "utf-16", "utf-16-be": "utf-16"}.get(enc, enc)  # the BOM tells the decoder
    try:
        text = raw.decode(codec)
    except (UnicodeDecodeError, LookupError) as exc:
        raise DataError(str(path), f"cannot decode the file as {enc}: {exc}. "
                        "Give the encoding (for example cp1251 or utf-8) in the mapping's read: section") from None
    text = text.lstrip("\ufeff")
    delim = options.get("delimiter") or detect_delimiter(text[:20000])
    lines = text.splitlines()
    header_idx = int(options.get("header_row", 0) or 0) - 1
    if header_idx < 0:
        header_idx = _find_header(list(csv.reader(lines[:30], delimiter=delim)) if len(delim) == 1
                                  else [ln.split(delim) for ln in lines[:30]], wanted)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delim, dtype=str, keep_default_na=False,
                            skiprows=header_idx, skip_blank_lines=False, engine="python"
                            if len(delim) > 1 else "c", on_bad_lines="error")
    except pd.errors.ParserError as exc:
        raise DataError(str(path), f"the file is not a table separated by {delim!r}: {exc}") from None
    except pd.errors.EmptyDataError:
        raise DataError(str(path), "the file is empty: no header and no sales lines") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    # line numbers: header is line header_idx+1; data row i is line header_idx+2+i
    frame["_row"] = np.arange(len(frame), dtype="int64") + header_idx + 2
    blank = frame.drop(columns="_row").apply(lambda s: s.str.strip() == "").all(axis=1)
    frame = frame[~blank]
    return Read(str(path), Detected("csv", enc, delim, header_idx + 1, "line"), frame=frame)


class TextReader:
    """CSV and text exports (see :func:`read_text_table`)."""

    kind = "text"
    suffixes = frozenset({".csv", ".txt", ".tsv"})

    def read(self, path: Path, wanted: set[str], options: dict[str, Any], **context: Any) -> Read:
        return read_text_table(path, wanted, options)


# --------------------------------------------------------------------------- spreadsheets


def _sheet_header(cells: pd.DataFrame, wanted: set[str]) -> int | None:
    for i in range(min(30, len(cells))):
        if {str(v).strip() for v in cells.iloc[i] if v is not None and not (isinstance(v, float) and np.isnan(v))} \
                & wanted:
            return i
    return None


def _first_columns(cells: pd.DataFrame, n: int = 4) -> str:
    if cells.empty:
        return "empty"
    row = [str(v) for v in cells.iloc[0] if v is not None and str(v) not in ("", "nan")]
    return ", ".join(row[:n]) + (", …" if len(row) > n else "") if row else "empty"


def read_excel_table(path: Path, wanted: set[str], options: dict[str, Any], *, largest: bool = False) -> Read:
    """Read a spreadsheet (.xlsx, .xls, .ods) as cells (numbers and dates stay typed) with its row numbers.

    The sheet: the mapping's ``sheet:``; else the one sheet whose first 30 rows hold a wanted column
    name; else, with one sheet, that one; else (``largest``, for the proposer) the sheet with the most
    rows; else a :class:`DataError` listing each sheet with its first columns.
    """
    sheet = options.get("sheet")
    listed = ""
    try:
        if sheet is not None:
            chosen = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object, engine=EXCEL_ENGINE)
            names = [str(sheet)]
        else:
            every = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine=EXCEL_ENGINE)
            names = list(every)
            matching = [n for n in names if _sheet_header(every[n], wanted) is not None]
            if matching:
                sheet = matching[0]
            elif len(names) == 1 or largest:
                sheet = max(names, key=lambda n: len(every[n])) if names else 0
            else:
                listed = "; ".join(f"'{n}' ({len(every[n])} rows: {_first_columns(every[n])})" for n in names)
            chosen = every[sheet] if not listed else None
    except ValueError as exc:
        raise DataError(str(path), f"cannot read sheet {sheet!r}: {exc}") from None
    if chosen is None:
        raise DataError(str(path), f"no sheet has a header with {', '.join(sorted(wanted))}: sheets {listed}. "
                        "Name one in the mapping's read: sheet: ...")
    if chosen.dropna(how="all").empty:
        raise DataError(str(path), f"the sheet {sheet!r} is empty: no header and no sales lines")
    header_idx = int(options.get("header_row", 0) or 0) - 1
    if header_idx < 0:
        found = _sheet_header(chosen, wanted)
        header_idx = found if found is not None else _find_header(
            [list(chosen.iloc[i]) for i in range(min(30, len(chosen)))], set())
    header = [str(v).strip() if v is not None and str(v) != "nan" else f"Unnamed: {j}"
              for j, v in enumerate(chosen.iloc[header_idx])]
    frame = chosen.iloc[header_idx + 1:].copy()
    frame.columns = _unique(header)
    frame["_row"] = np.arange(len(frame), dtype="int64") + header_idx + 2
    blank = frame.drop(columns="_row").isna().all(axis=1)
    frame = frame[~blank].reset_index(drop=True)
    for col in frame.columns:
        if col != "_row":
            frame[col] = excel_column(frame[col])
    return Read(str(path), Detected("excel", header_line=header_idx + 1, line_word="row", sheet=str(sheet),
                                    sheets=[str(n) for n in names]), frame=frame)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}.{seen[n] - 1}")
    return out


def excel_column(values: pd.Series) -> pd.Series:
    """Spreadsheet cells of mixed types -> a typed column when all are numbers (or all dates), else text."""
    present = values.dropna()
    if len(present) and present.map(lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, bool)).all():
        return pd.to_numeric(values, errors="coerce").astype("float64")
    if len(present) and present.map(lambda v: isinstance(v, (datetime, date, pd.Timestamp))).all():
        return pd.to_datetime(values, errors="coerce").astype("datetime64[us]")

    def cell(v: Any) -> Any:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, (datetime, pd.Timestamp)):
            return v.strftime("%d.%m.%Y %H:%M:%S") if (v.hour or v.minute or v.second) else v.strftime("%d.%m.%Y")
        if isinstance(v, date):
            return v.strftime("%d.%m.%Y")
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    return values.map(cell).astype("string")


class ExcelReader:
    """Spreadsheets: .xlsx, .xlsm, .xls (Excel 97) and .ods, one engine (see :func:`read_excel_table`)."""

    kind = "excel"
    suffixes = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})

    def read(self, path: Path, wanted: set[str], options: dict[str, Any], **context: Any) -> Read:
        return read_excel_table(path, wanted, options, largest=bool(context.get("largest")))


# --------------------------------------------------------------------------- typed files (read by the engine)


class ParquetReader:
    """Parquet files, read by the engine (nothing to detect: the columns are typed)."""

    kind = "parquet"
    suffixes = frozenset({".parquet", ".pq"})

    def read(self, path: Path, wanted: set[str], options: dict[str, Any], **context: Any) -> Read:
        con = context["con"]
        if not context.get("row_id") or con.name != "duckdb":
            return Read(str(path), Detected("parquet"), table=con.read_parquet(str(path)))
        # each line's position in the file (from 0), read with the line: duplicates are dropped by it and
        # example lines numbered from it, with no window over every line
        table = con.read_parquet(str(path), file_row_number=True)
        return Read(str(path), Detected("parquet"), table=table.rename(_rid="file_row_number"))


class DuckDBReader:
    """A table of a DuckDB file (``file.duckdb#table``; the only table when it has one), never written."""

    kind = "duckdb"
    suffixes = frozenset({".duckdb", ".ddb", ".db"})

    def read(self, path: Path, wanted: set[str], options: dict[str, Any], **context: Any) -> Read:
        import ibis
        table = context.get("table")
        db = ibis.duckdb.connect(str(path), read_only=True)  # the user's file: never written
        tables = db.list_tables()
        if not table and len(tables) == 1:
            table = tables[0]
        if not table:
            raise DataError(str(path), "a DuckDB file holds tables: name one as file.duckdb#table "
                            f"(tables: {', '.join(tables) or 'none'})")
        if table not in tables:
            raise DataError(str(path), f"no table {table!r}; tables: {', '.join(tables)}")
        return Read(f"{path}:{table}", Detected("duckdb"), table=db.table(table))


for _reader in (TextReader(), ExcelReader(), ParquetReader(), DuckDBReader()):
    register(_reader)

#: every suffix a reader takes
SUFFIXES = frozenset().union(*(r.suffixes for r in READERS.values()))
