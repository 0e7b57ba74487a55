"""Load sales lines from CSV, Excel, Parquet or any ibis table into canonical columns.

The result is a :class:`Sales`: an ibis table of clean sales lines (canonical
columns, see :data:`salesbook.data.mapping.CANONICAL`) and a :class:`LoadReport` that
accounts for every line read: kept, dropped (and why), or kept with a note.

Text files are parsed here (encoding, delimiter, decimal mark and date format
are detected, each can be overridden) so that a bad value is reported with its
line number; typed sources (Parquet, database tables) stay in the engine and
only counts and a few examples come back to Python.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Literal

import ibis
import numpy as np
import pandas as pd

from salesbook import paths
from salesbook.data.engines import is_engine_source, open_source
from salesbook.errors import DataError, ParameterError, Problem
from salesbook.data.mapping import (CANONICAL, NUMERIC, REQUIRED, ColumnMapping, UnsafeExpression, evaluate,
                      load_mapping, referenced_columns)
from salesbook.data.parse import parse_dates, parse_numbers
from salesbook.data.validate import LoadReport, clean_lines

__all__ = ["Sales", "load_sales", "read_text_table", "parse_numbers", "parse_dates",
           "detect_encoding", "detect_delimiter", "detect_decimal", "detect_date_format",
           "connect"]

TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
DUCKDB_SUFFIXES = {".duckdb", ".ddb", ".db"}

#: date formats tried, in order, when a text column's format is not given
DATE_FORMATS = (
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
    "%d.%m.%Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%y",
    "%d/%m/%Y", "%d/%m/%Y %H:%M", "%m/%d/%Y", "%m/%d/%Y %H:%M", "%Y%m%d",
)


def connect() -> ibis.BaseBackend:
    """The default engine: an in-memory DuckDB connection.

    ``SALESBOOK_DUCKDB_MEMORY`` (e.g. ``"1GB"``) caps DuckDB's memory; past it DuckDB
    spills to a temporary folder under the cache instead of growing (slower, smaller).
    """
    limit = os.environ.get("SALESBOOK_DUCKDB_MEMORY")
    if limit and not re.fullmatch(r"\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", limit, re.IGNORECASE):
        raise ParameterError(f"SALESBOOK_DUCKDB_MEMORY={limit!r}: expected an amount of memory such as 2GB or "
                             "512MB (or unset it for no cap)")
    if not limit:
        con = ibis.duckdb.connect()
    else:
        spill = paths.CACHE_DIR / "duckdb-spill"
        spill.mkdir(parents=True, exist_ok=True)
        con = ibis.duckdb.connect(memory_limit=limit, temp_directory=str(spill))
    con.raw_sql("SET enable_progress_bar = false")  # DuckDB's bar would fill the logs of scheduled runs
    return con


@dataclass
class Sales:
    """Clean sales lines and the account of how they were loaded.

    ``table`` has one row per sales line and the canonical columns: ``date``
    (timestamp), ``client_id`` (string, never null), ``amount`` (float64, net
    of VAT as exported, returns negative), and the optional columns (null where
    the source has none, see ``report.columns_present``).
    """

    table: ibis.Table
    report: LoadReport
    con: ibis.BaseBackend
    #: ``table`` is already computed: held in the engine's cache, or (DuckDB) read as it is from ``file``
    computed: bool = False
    file: Path | None = None

    def materialize(self, path: "str | os.PathLike | None" = None) -> "Sales":
        """Compute the clean lines once, so that the mapping and cleaning steps do not run once per aggregate.

        DuckDB writes them to Parquet at ``path`` (streamed) and reads them from there; without a
        ``path``, or on another engine (Spark, a warehouse), the engine keeps them on its side
        (ibis's ``cache``: DuckDB and databases a temporary table, Spark a persisted frame). Lines
        already computed (``load_sales(stage=...)``) are not computed again.
        """
        if self.computed and (self.con.name != "duckdb" or path is None or (
                self.file is not None and self.file.resolve() == Path(path).resolve())):
            return self
        table, file = _compute_once(self.table, self.con, path)
        return Sales(table, self.report, self.con, True, file)


def _compute_once(table: ibis.Table, con: ibis.BaseBackend,
                  path: "str | os.PathLike | None") -> tuple[ibis.Table, Path | None]:
    """``table`` computed by the engine once: DuckDB writes it to Parquet at ``path`` (streamed; beside, then in
    place, when ``path`` is what it reads) and reads it back; without a path, or on another engine, the engine
    keeps it in its cache (ibis ``Table.cache``: DuckDB a temporary table in memory, spilled to its temporary
    folder past SALESBOOK_DUCKDB_MEMORY; Spark a persisted frame) and nothing is written."""
    if con.name != "duckdb":
        return table.cache(), None
    if path is None:
        back = table.cache()
    else:
        path = Path(path)
        tmp = path.with_suffix(".clean.parquet") if path.exists() else path
        table.to_parquet(str(tmp))
        if tmp != path:
            os.replace(tmp, path)
        back = con.read_parquet(str(path))
    return back.mutate(date=back.date.cast("timestamp")), path  # DuckDB gives timestamp(6): the canonical type


# --------------------------------------------------------------------------- detection


def detect_encoding(head: bytes) -> str:
    """UTF-8 with BOM, UTF-8, else cp1251 (the Windows Cyrillic code page 1C writes)."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # a cut in the middle of a multi-byte character at the end is still UTF-8
        if exc.start >= len(head) - 3:
            return "utf-8"
        return "cp1251"


def detect_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    sample = "\n".join(lines)
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t|").delimiter
    except csv.Error:
        counts = {d: sum(ln.count(d) for ln in lines) for d in ";,\t|"}
        return max(counts, key=counts.get) if any(counts.values()) else ","


_COMMA_NUM = re.compile(r"^-?\d{1,3}(?:[ \u00a0\u202f.]\d{3})*,\d+$|^-?\d+,\d+$")
_DOT_NUM = re.compile(r"^-?\d{1,3}(?:[ \u00a0\u202f,]\d{3})*\.\d+$|^-?\d+\.\d+$")


def detect_decimal(values: pd.Series) -> str:
    """',' when the numbers in ``values`` are written with a decimal comma, else '.'."""
    sample = values.dropna().astype(str).str.strip().head(2000)
    comma = int(sample.str.match(_COMMA_NUM).sum())
    dot = int(sample.str.match(_DOT_NUM).sum())
    return "," if comma > dot else "."


def detect_date_format(values: pd.Series) -> str | None:
    """The first of :data:`DATE_FORMATS` that parses every value of a sample, or the best one."""
    sample = values.dropna().astype(str).str.strip()
    sample = sample[sample != ""].head(500)
    if sample.empty:
        return None
    best, best_ok = None, -1
    for fmt in DATE_FORMATS:
        ok = int(pd.to_datetime(sample, format=fmt, errors="coerce").notna().sum())
        if ok == len(sample):
            return fmt
        if ok > best_ok:
            best, best_ok = fmt, ok
    return best if best_ok > 0 else None


# --------------------------------------------------------------------------- parsing


def _strftime_human(fmt: str | None) -> str:
    if not fmt:
        return "a date"
    human = (fmt.replace("%Y", "yyyy").replace("%y", "yy").replace("%m", "mm").replace("%d", "dd")
             .replace("%H", "hh").replace("%M", "mm").replace("%S", "ss"))
    return f"a date written as {human}"


# --------------------------------------------------------------------------- text files


@dataclass
class _TextInfo:
    encoding: str | None = None
    delimiter: str | None = None
    header_line: int = 1
    line_word: str = "line"
    total_rows: list[int] | None = None


def _find_header(lines: list[str], delimiter: str, wanted: set[str]) -> int:
    """Index of the first line holding a required source column name (1C puts titles above)."""
    if not wanted:
        return 0
    for i, line in enumerate(lines[:30]):
        cells = {c.strip().strip('"').strip() for c in line.split(delimiter)}
        if cells & wanted:
            return i
    return 0


def read_text_table(path: Path, mapping: ColumnMapping, *, encoding: str | None = None,
                    delimiter: str | None = None) -> tuple[pd.DataFrame, _TextInfo]:
    """Read a CSV export as text cells (nothing converted yet) with its source line numbers.

    Returns a frame of strings with an extra ``_row`` column (line number in the
    file, 1-based, as an editor shows it) and what was detected.
    """
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(str(path), "the file is empty: no header and no sales lines")
    enc = encoding or mapping.read.get("encoding") or detect_encoding(raw[:65536])
    try:
        text = raw.decode(enc)
    except (UnicodeDecodeError, LookupError) as exc:
        raise DataError(str(path), f"cannot decode the file as {enc}: {exc}. "
                        "Give the encoding (for example cp1251 or utf-8) in the mapping's read: section") from None
    text = text.lstrip("\ufeff")
    delim = delimiter or mapping.read.get("delimiter") or detect_delimiter(text[:20000])
    lines = text.splitlines()
    wanted = {str(mapping.target(c)) for c in REQUIRED}
    header_idx = int(mapping.read.get("header_row", 0) or 0) - 1
    if header_idx < 0:
        header_idx = _find_header(lines, delim, wanted)
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
    return frame, _TextInfo(enc, delim, header_idx + 1, "line")


def read_excel_table(path: Path, mapping: ColumnMapping, sheet: Any = None) -> tuple[pd.DataFrame, _TextInfo]:
    """Read an Excel sheet as cells (Excel numbers and dates stay typed) with Excel row numbers."""
    sheet = sheet if sheet is not None else mapping.read.get("sheet", 0)
    try:
        probe = pd.read_excel(path, sheet_name=sheet, header=None, nrows=30, dtype=object)
    except ValueError as exc:
        raise DataError(str(path), f"cannot read sheet {sheet!r}: {exc}") from None
    if probe.empty:
        raise DataError(str(path), "the sheet is empty: no header and no sales lines")
    wanted = {str(mapping.target(c)) for c in REQUIRED}
    header_idx = 0
    for i, row in probe.iterrows():
        if {str(v).strip() for v in row if v is not None} & wanted:
            header_idx = int(i)
            break
    frame = pd.read_excel(path, sheet_name=sheet, header=header_idx, dtype=object)
    frame.columns = [str(c).strip() for c in frame.columns]
    frame["_row"] = np.arange(len(frame), dtype="int64") + header_idx + 2
    cells = frame.drop(columns="_row")
    blank = cells.isna().all(axis=1)
    frame = frame[~blank]
    return frame, _TextInfo(None, None, header_idx + 1, "row")


def _excel_column(values: pd.Series) -> pd.Series:
    """Excel cells of mixed types -> typed column when all are numbers/dates, else text."""
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
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    return values.map(cell).astype("string")


def _drop_total_rows(frame: pd.DataFrame, marker: str | None) -> tuple[pd.DataFrame, list[int]]:
    if not marker:
        return frame, []
    cells = frame.drop(columns="_row")
    first = cells.apply(lambda row: next((str(v).strip() for v in row
                                          if v is not None and str(v).strip() not in ("", "nan")), ""), axis=1)
    is_total = first.str.lower().str.startswith(marker.lower())
    return frame[~is_total], frame.loc[is_total, "_row"].tolist()


def _type_source_columns(frame: pd.DataFrame, mapping: ColumnMapping,
                         opts: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any], list[Problem], dict[str, pd.Series]]:
    """Parse the source columns the mapping reads into numbers, dates or text.

    Returns the typed frame (source column names + ``_row``), what was detected,
    problems (bad values) and per-source-column masks of bad values.
    """
    available = set(frame.columns) - {"_row"}
    kinds: dict[str, str] = {}  # source column -> how to parse it, from the first canonical column reading it
    canon_of: dict[str, str] = {}
    for canon in CANONICAL:
        for col in referenced_columns(mapping.target(canon), available):
            if col in available and col not in kinds:
                kinds[col] = "number" if canon in NUMERIC else "date" if canon == "date" else "text"
                canon_of[col] = canon
    typed = pd.DataFrame({"_row": frame["_row"].to_numpy()}, index=frame.index)
    detected: dict[str, Any] = {"decimal": {}, "date_format": None}
    problems: list[Problem] = []
    bad_masks: dict[str, pd.Series] = {}
    for col, kind in kinds.items():
        values = frame[col]
        if kind == "number":
            dec = opts.get("decimal") or mapping.read.get("decimal") or detect_decimal(values)
            detected["decimal"][col] = dec
            parsed, bad = parse_numbers(values, dec)
            expected = ("a number such as 1 234,50" if dec == "," else "a number such as 1234.50")
        elif kind == "date":
            fmt = opts.get("date_format") or mapping.read.get("date_format") or detect_date_format(values)
            detected["date_format"] = fmt
            parsed, bad = parse_dates(values, fmt)
            expected = _strftime_human(fmt)
            empty = values.isna() | (values.astype("string").str.strip() == "")
            if empty.any():
                rows = frame.loc[empty.fillna(True).astype(bool), "_row"].tolist()
                problems.append(Problem("{n} line(s) with no date", column=canon_of[col], source_column=col,
                                        rows=rows, count=len(rows), expected=expected))
                bad = bad | empty.fillna(True).astype(bool)
        else:
            parsed = values.astype("string").str.strip()
            parsed = parsed.mask(parsed.isin(["", "nan", "None"]))
            bad = pd.Series(False, index=values.index)
        typed[col] = parsed
        if bad.any():
            bad_masks[col] = bad
            nonempty = bad & ~(values.isna() | (values.astype("string").str.strip() == "")).fillna(True)
            if nonempty.any():
                what = "not a number" if kind == "number" else "not a date"
                problems.append(Problem("{n} value(s) " + what, column=canon_of[col], source_column=col,
                                        rows=frame.loc[nonempty, "_row"].tolist(),
                                        values=values[nonempty].tolist(), count=int(nonempty.sum()),
                                        expected=expected))
    return typed, detected, problems, bad_masks


# --------------------------------------------------------------------------- canonical columns (ibis)


def _canonical(table: ibis.Table, mapping: ColumnMapping, where: str,
               file_columns: list[str] | None = None) -> tuple[ibis.Table, list[str], list[Problem]]:
    """Apply the mapping in the engine: canonical columns with canonical types."""
    available = set(table.columns)
    file_columns = file_columns or sorted(available - {"_row"})
    out: dict[str, ibis.Value] = {}
    present: list[str] = []
    problems: list[Problem] = []
    for canon in CANONICAL:
        spec = mapping.target(canon)
        try:
            refs = referenced_columns(spec, available)
        except UnsafeExpression as exc:  # a mapping that could build a terabyte string, or run code
            problems.append(Problem(str(exc), column=canon))
            out[canon] = ibis.null(_TYPES[canon])
            continue
        missing = [r for r in refs if r not in available]
        if missing:
            explicit = canon in mapping.columns
            if canon in REQUIRED:
                problems.append(Problem(
                    f"required column is missing: no source column {', '.join(repr(m) for m in missing)}.",
                    column=canon,
                    expected=("a column named " + repr(str(spec)) if not explicit
                              else f"the mapping's {canon}: {spec!r} to name columns of the file")
                    + "; the file has " + ", ".join(repr(c) for c in file_columns)))
            out[canon] = ibis.null(_TYPES[canon])
            continue
        present.append(canon)
        if isinstance(spec, list):
            parts = [table[c].cast("string").strip() for c in spec]
            val = parts[0]
            for p in parts[1:]:
                val = val.concat(" / ", p)
        elif str(spec) in available:
            val = table[str(spec)]
        else:
            try:
                val = evaluate(str(spec), {c: table[c] for c in available})
            except (ValueError, KeyError, TypeError) as exc:
                problems.append(Problem(f"mapping expression cannot be used: {exc}", column=canon))
                out[canon] = ibis.null(_TYPES[canon])
                continue
        out[canon] = _coerce(val, canon)
    if "_row" in available:
        out["_row"] = table["_row"]
    return table.select(**out), present, problems


_TYPES = {c: ("float64" if c in NUMERIC else "timestamp" if c == "date" else "string") for c in CANONICAL}


def _coerce(val: ibis.Value, canon: str) -> ibis.Value:
    typ = val.type()
    if canon in NUMERIC:
        if typ.is_string():
            txt = val.strip().re_replace("[ \u00a0\u202f]", "").replace(",", ".")
            return txt.try_cast("float64")
        return val.cast("float64")
    if canon == "date":
        if typ.is_string():
            return val.strip().try_cast("timestamp")
        return val.cast("timestamp")
    # text columns: integral floats (Customer ID 13085.0) are ids, not decimals
    if typ.is_floating():
        val = ibis.ifelse(val == val.floor(), val.cast("int64").cast("string"), val.cast("string"))
    elif not typ.is_string():
        val = val.cast("string")
    val = val.strip()
    if canon in _ID_COLUMNS:  # "18.0" written by a spreadsheet is the id "18"
        # the regular expression only where there is a dot: a third of the load's expression time otherwise
        val = ibis.ifelse(val.contains("."), val.re_replace(r"^(\d+)\.0+$", r"\1"), val)
    return val.nullif("")


_ID_COLUMNS = frozenset({"client_id", "product_id", "order_id"})


# --------------------------------------------------------------------------- entry point


def _source_table(source: Any, con: ibis.BaseBackend, table: str | None) -> tuple[ibis.Table, str, str]:
    if isinstance(source, ibis.Table):
        return source, "ibis table", "table"
    if isinstance(source, pd.DataFrame):
        return ibis.memtable(source), "data frame", "frame"
    path = paths.resolve_source(source)
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return con.read_parquet(str(path)), str(path), "parquet"
    if suffix in DUCKDB_SUFFIXES:
        db = ibis.duckdb.connect(str(path), read_only=True)  # the user's file: never written
        tables = db.list_tables()
        if not table and len(tables) == 1:
            table = tables[0]
        if not table:
            raise DataError(str(path), "a DuckDB file holds tables: name one as file.duckdb#table "
                            f"(tables: {', '.join(tables) or 'none'})")
        if table not in tables:
            raise DataError(str(path), f"no table {table!r}; tables: {', '.join(db.list_tables())}")
        return db.table(table), f"{path}:{table}", "duckdb"
    raise DataError(str(path), f"unknown file type {suffix!r}: expected CSV, Excel (.xlsx), Parquet or DuckDB")


def load_sales(source: "str | os.PathLike | ibis.Table | pd.DataFrame", mapping: Any = None, **options: Any) -> Sales:
    """Load sales lines, map them to canonical columns, validate and clean them (see :func:`_load_sales`).

    A file that cannot be read as what it claims to be (a corrupt Parquet file, a truncated XLSX) is a
    :class:`DataError` naming it, not an engine's traceback.
    """
    import zipfile

    import duckdb
    try:
        return _load_sales(source, mapping, **options)
    except (duckdb.Error, zipfile.BadZipFile, EOFError) as exc:
        if isinstance(source, (ibis.Table, pd.DataFrame)):
            raise
        where = str(source) if is_engine_source(source) else str(paths.resolve_source(source))
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(where, f"cannot read the file ({_kind_of(where)}): {first}") from None


def _kind_of(where: str) -> str:
    suffix = Path(where).suffix.lower()
    return {".parquet": "not a readable Parquet file", ".pq": "not a readable Parquet file",
            ".xlsx": "not a readable Excel workbook", ".xlsm": "not a readable Excel workbook"}.get(
        suffix, "not readable as sales lines")


def _load_sales(
    source: "str | os.PathLike | ibis.Table | pd.DataFrame",
    mapping: Any = None,
    *,
    as_of: "str | date | None" = None,
    table: str | None = None,
    con: ibis.BaseBackend | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    date_format: str | None = None,
    sheet: Any = None,
    returns: Literal["net", "drop"] = "net",
    duplicates: Literal["drop", "keep"] = "drop",
    zero_amounts: Literal["drop", "keep"] = "drop",
    bad_values: Literal["raise", "drop"] = "raise",
    future: Literal["drop", "raise"] = "drop",
    odd_dates: Literal["drop", "keep"] = "drop",
    stage: "str | os.PathLike | bool | None" = None,
    columns: "Iterable[str] | None" = None,
) -> Sales:
    """Load sales lines, map them to canonical columns, validate and clean them.

    Parameters
    ----------
    source
        A path (CSV/TXT, XLSX, Parquet, DuckDB file with ``table``), ``"sample"``
        for the committed sample, an ibis table of any backend, or a pandas frame.
    mapping
        A YAML path, a preset name (``"1c"``), a dict or a :class:`ColumnMapping`.
        ``None`` expects canonical column names.
    as_of
        Analysis date. Lines after it are dropped and counted (``future="raise"``
        makes them an error). ``None``: the last date in the data.
    encoding, delimiter, decimal, date_format, sheet
        Override what is detected for text and Excel files.
    returns
        ``"net"`` (default) keeps negative lines (returns, cancellations) so
        that they net against sales; ``"drop"`` removes them. Either way they
        are counted in the report.
    duplicates
        ``"drop"`` (default) removes exact duplicate lines (every canonical
        column equal), counted; ``"keep"`` keeps them, still counted.
    zero_amounts
        ``"drop"`` (default) removes lines of amount 0 (free samples, price
        adjustments), counted.
    odd_dates
        ``"drop"`` (default): a few isolated dates far after the rest (a typo year, see
        :func:`salesbook.data.validate.suspicious_from`) are set aside and counted; ``"keep"``: every date is real.
    bad_values
        ``"raise"`` (default): unreadable dates or amounts in a text file are a
        :class:`DataError` naming every line; ``"drop"``: they are dropped and counted.
    stage
        Where the lines that pass the checks (deduplicated) are computed, once: the later counts,
        the schema check and every aggregate read them there instead of mapping and deduplicating
        the source again. ``True``: in the engine (ibis ``Table.cache``; DuckDB: a temporary table
        in memory, what :func:`~salesbook.cube.get_cube` uses); a path: DuckDB writes them to that
        Parquet file (other engines keep them in their cache whatever ``stage`` says). ``None`` with
        DuckDB: one lazy expression (small data, or a single use).
    columns
        The canonical columns the clean lines keep (``date``, ``client_id`` and ``amount`` always);
        ``None``: all. Every column still counts when lines are compared for duplicates.
        :func:`~salesbook.cube.get_cube` keeps the ones the cube reads, so that the staged lines
        hold no product names it never uses (a sixth less memory at 10M lines).

    Returns
    -------
    Sales
        ``table``: one row per clean line, canonical columns; ``report``: what
        was read, detected, dropped and kept.

    Raises
    ------
    DataError
        Naming the file, the column, the lines and the offending text.
    """
    if isinstance(source, (str, os.PathLike)) and "#" in str(source) and not is_engine_source(source) \
            and table is None:  # file.duckdb#table
        source, table = str(source).rsplit("#", 1)
    con = con or (None if is_engine_source(source) else connect())
    m = load_mapping(mapping)
    opts = {"decimal": decimal, "date_format": date_format}
    info = _TextInfo()
    typed_frame: pd.DataFrame | None = None
    problems: list[Problem] = []
    parse_drops: dict[str, list[int]] = {}
    detected: dict[str, Any] = {}
    total_rows: list[int] = []
    file_columns: list[str] | None = None

    if isinstance(source, (ibis.Table, pd.DataFrame)):
        raw, where, kind = _source_table(source, con, table)
    elif is_engine_source(source):  # spark:..., <ibis URL>#<table>: read and aggregated in that engine
        raw, where, kind, con = open_source(source, table)
    else:
        path = paths.resolve_source(source)
        where = str(path)
        if not path.exists():
            raise DataError(where, "file not found")
        suffix = path.suffix.lower()
        if suffix in TEXT_SUFFIXES or suffix in EXCEL_SUFFIXES:
            kind = "csv" if suffix in TEXT_SUFFIXES else "excel"
            if kind == "csv":
                frame, info = read_text_table(path, m, encoding=encoding, delimiter=delimiter)
            else:
                frame, info = read_excel_table(path, m, sheet)
                for col in frame.columns:
                    if col != "_row":
                        frame[col] = _excel_column(frame[col])
            file_columns = [c for c in frame.columns if c != "_row"]
            frame, total_rows = _drop_total_rows(frame, m.read.get("total_row"))
            typed_frame, detected, problems, bad_masks = _type_source_columns(frame, m, opts)
            if bad_masks and bad_values == "drop":
                taken = pd.Series(False, index=typed_frame.index)
                for col, mask in bad_masks.items():  # each line counted once, under its first bad column
                    mine = mask & ~taken
                    parse_drops[col] = typed_frame.loc[mine, "_row"].tolist()
                    taken |= mask
                typed_frame = typed_frame[~taken]
                problems = []
            elif bad_masks:
                pass  # problems already describe every bad value
            raw = ibis.memtable(typed_frame.reset_index(drop=True))
        else:
            raw, where, kind = _source_table(path, con, table)

    canon, present, map_problems = _canonical(raw, m, where, file_columns)
    problems = map_problems + problems
    if problems:
        raise DataError(where, problems, info.line_word)

    report = LoadReport(source=where, kind=kind, mapping=m.name, encoding=info.encoding,
                        delimiter=info.delimiter, header_line=info.header_line,
                        decimal=detected.get("decimal") or None,
                        date_format=detected.get("date_format"), line_word=info.line_word,
                        columns_present=present)
    report.rows_read = sum(len(v) for v in parse_drops.values()) + len(total_rows)
    staged: dict[str, Any] = {}

    wanted = set(CANONICAL) if columns is None else set(columns) | set(REQUIRED)
    dropped = [c for c in CANONICAL if c not in wanted]

    def keep(lines: ibis.Table) -> ibis.Table:
        """The lines that passed the checks, computed once: in the engine's cache, or in a Parquet file."""
        lines = lines.drop(*dropped) if dropped else lines
        if con.name == "duckdb" and stage is None:
            return lines
        staged["table"], staged["file"] = _compute_once(lines, con, None if stage is True else stage)
        return staged["table"]

    clean = clean_lines(canon, report, as_of=as_of, returns=returns, duplicates=duplicates,
                        zero_amounts=zero_amounts, future=future, odd_dates=odd_dates, total_rows=total_rows,
                        parse_drops=parse_drops, stage=keep)
    # nothing filtered after staging: the staged lines are the clean lines, no need to compute them again
    done = "table" in staged and clean.equals(staged["table"])
    return Sales(clean, report, con, done, staged.get("file") if done else None)
