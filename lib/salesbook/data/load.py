"""Load sales lines from CSV, Excel, Parquet or any ibis table into canonical columns.

The result is a :class:`Sales`: an ibis table of clean sales lines (canonical
columns, see :data:`salesbook.data.mapping.CANONICAL`) and a :class:`LoadReport` that
accounts for every line read: kept, dropped (and why), or kept with a note.

This module orchestrates: a reader of :mod:`salesbook.data.readers` reads the source (text and
spreadsheets as cells with their line numbers, typed files as engine tables) and says what it detected;
text cells are typed here with :mod:`salesbook.data.parse` (decimal mark, amount rules, date order, each
detected unless the mapping gives it) so that a bad value is reported with its line number; the mapping
turns the result into canonical columns in the engine, and :func:`~salesbook.data.validate.clean_lines`
checks and counts.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal

import ibis
import pandas as pd
import pyarrow as pa

from salesbook import paths
from salesbook.data.engines import is_engine_source, open_source, spark_line_numbers
from salesbook.errors import DataError, ParameterError, Problem
from salesbook.i18n import t
from salesbook.data.mapping import (CANONICAL, NUMERIC, REQUIRED, ColumnMapping, UnsafeExpression, evaluate,
                      load_mapping, referenced_columns)
from salesbook.data.parse import date_reading, human_format, parse_dates, parse_numbers, read_amounts, reading_of
from salesbook.data.readers import (Detected, Read, SUFFIXES, detect_decimal, detect_delimiter, detect_encoding,
                                    drop_repeated_headers, read_text_table, reader_for)
from salesbook.data.load_report import ReportLine
from salesbook.data.sqlcache import remember_sql
from salesbook.data.validate import (ROW_ID, LoadReport, clean_lines, listed_values, replay_lines,
                                     value_lists)

__all__ = ["Sales", "load_sales", "read_text_table", "parse_numbers", "parse_dates",
           "detect_encoding", "detect_delimiter", "detect_decimal", "detect_date_format",
           "connect", "read_source"]


def connect() -> ibis.BaseBackend:
    """The default engine: an in-memory DuckDB connection.

    ``SALESBOOK_DUCKDB_MEMORY`` (e.g. ``"1GB"``) caps DuckDB's memory; past it DuckDB
    spills to a temporary folder under the cache instead of growing (slower, smaller).
    """
    limit = paths.current().duckdb_memory
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
    return remember_sql(con)


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
    #: what the checks decided, for :func:`~salesbook.data.validate.replay_lines` to give the same clean lines
    #: again from the source without checking again (JSON); None when the lines were computed ahead
    recipe: "dict[str, Any] | None" = None
    #: drops what this load computed into the engine for ``table`` (a temporary table, a persisted frame)
    held: "Callable[[], None] | None" = field(default=None, repr=False, compare=False)
    #: ``con`` is a DuckDB connection the load opened for these lines alone (no caller's connection)
    own_con: bool = field(default=False, repr=False, compare=False)
    #: the distinct values of the text columns, sorted, as the checks listed them (``load_sales(coded=True)``):
    #: what :meth:`materialize` holds them coded over; None: listed then, if needed
    values: "dict[str, list[str]] | None" = field(default=None, repr=False, compare=False)
    #: ``table`` is a Parquet file's lines, filtered, with every text column as the file holds it (no canonical
    #: expression: :func:`_as_read`): a pass over them is a scan of the file, which costs less than computing
    #: them once into the engine first (a cube then reads the file for each of its tables, :meth:`_Engine.hold`)
    plain: bool = field(default=False, compare=False)

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
        table, file, held = _compute_once(self.table, self.con, path, self.values, self.report.rows_kept)
        return Sales(table, self.report, self.con, True, file, held=held)

    def release(self) -> None:
        """Give back what the engine holds for these lines, once nothing will read them again (a cube whose every
        table is built): the copy computed into the engine, and the connection the load opened for them.
        Dropping a table gives DuckDB's memory back to DuckDB, not to the system: at 10M lines the process
        kept 2.5 GB until its connection was closed, 0.8 GB after. Reading :attr:`table` afterwards fails."""
        if self.held is not None:
            self.held()
            self.held = None
        if self.own_con:
            self.con.disconnect()
            self.own_con = False


def _compute_once(table: ibis.Table, con: ibis.BaseBackend, path: "str | os.PathLike | None",
                  values: "dict[str, list[str]] | None" = None, lines: int | None = None
                  ) -> tuple[ibis.Table, Path | None, "Callable[[], None] | None"]:
    """``table`` computed by the engine once: DuckDB writes it to Parquet at ``path`` (streamed; beside, then in
    place, when ``path`` is what it reads) and reads it back; without a path, or on another engine, the engine
    keeps it (DuckDB: from :data:`CODE_FROM` lines, or under SALESBOOK_DUCKDB_MEMORY, coded in its compressed
    in-memory database, :func:`_held_coded`; else ibis ``Table.cache``, a temporary table in memory; Spark a
    persisted frame) and nothing is written. Also gives what drops
    the engine's copy (``None`` for a file): ibis drops a cached table when Python collects its expression, which
    a reference cycle can put off until long after the lines are read for the last time. ``values``: the text
    columns' distinct values, when the checks listed them over ``lines`` lines (:func:`_held_coded`)."""
    if con.name != "duckdb":
        back, held = engine_copy(table, con)
        return back, None, held
    if path is None and table.get_backend() is not con:
        # lines in memory (an ibis memtable, which ibis would cache in its default DuckDB): computed into this
        # load's own connection, where every later query of the checks and of the cube runs and compiles
        name = ibis.util.gen_name("salesbook_lines")
        back = con.create_table(name, table, temp=True)
        held = functools.partial(con.drop_table, name, force=True)
    elif path is None and ((lines or 0) >= CODE_FROM or paths.current().duckdb_memory):
        back, held = _held_coded(table, con, values, lines)
    elif path is None:
        back = table.cache()
        held = back.release
    else:
        path = Path(path)
        tmp = path.with_suffix(".clean.parquet") if path.exists() else path
        table.to_parquet(str(tmp))
        if tmp != path:
            os.replace(tmp, path)
        back, held = con.read_parquet(str(path)), None
    return back.mutate(date=back.date.cast("timestamp")), path, held  # DuckDB gives timestamp(6): the canonical type


#: the in-memory database, compressed, that holds the clean lines (:func:`_held_coded`)
HELD_DB = "salesbook_held"


#: text columns never held coded: an order id is nearly one per line, and the cube compares it with text
UNCODED = ("order_id",)
#: the lines computed once in DuckDB's memory are held coded and compressed (:func:`_held_coded`) from this many lines
#: read (and always under SALESBOOK_DUCKDB_MEMORY): below, listing the values, making the types and compressing cost
#: more queries and time than the memory is worth
CODE_FROM = 200_000


def coded_columns(table: ibis.Table) -> list[str]:
    """The text columns of the clean lines that :func:`_held_coded` holds coded."""
    return [c for c, ty in table.schema().items() if ty.is_string() and c not in UNCODED]


def _held_coded(table: ibis.Table, con: ibis.BaseBackend, values: "dict[str, list[str]] | None" = None,
                lines: int | None = None) -> tuple[ibis.Table, "Callable[[], None]"]:
    """``table`` computed into DuckDB's compressed in-memory database (:data:`HELD_DB`, ``ATTACH ':memory:'
    (COMPRESS)``, compressed at its checkpoint), its text columns (clients, names, managers, products,
    categories, regions) coded as DuckDB ENUMs over their sorted values; and what drops it.

    At 10M lines the clean lines take 0.14 GB instead of 1.35 GB as text in a temporary table (0.84 GB coded alone,
    0.17 GB compressed alone). The cube's build peaked at 1.85-1.95 GB instead of 3.1-3.2 GB, and took 0.45 s
    longer than coded alone over three runs in turns (2 cores; -0.2 to +1.1 s). Compressed alone, the text's
    compression had cost 1.2-2.1 s. DuckDB returns ENUM columns as Arrow dictionaries, which
    :func:`salesbook.cube.build.engine_result` keeps and pandas reads as categoricals; ibis sees them as text, and
    the engine compares and groups them as it would text.

    ``values``: each column's distinct values, sorted, as the checks listed them in their last pass
    (:func:`~salesbook.data.validate.clean_lines`) over ``lines`` lines; without them, one pass over ``table``
    lists them first (0.5 s at 10M lines). A column with more distinct values than half the lines stays text, as
    does an empty one."""
    sql = con.compile(table)
    texts = coded_columns(table)
    if texts and (values is None or lines is None or not set(texts) <= set(values)):
        row = table.aggregate(_n=table.count(), **value_lists(table, texts)).to_pyarrow().to_pylist()[0]
        lines, values = row["_n"], listed_values(row, texts)
    name = ibis.util.gen_name("salesbook_lines")
    where = f'{HELD_DB}.main."{name}"'
    types: list[str] = []

    def drop() -> None:
        con.raw_sql(f"DROP TABLE IF EXISTS {where}")
        for typ in types:
            con.raw_sql(f'DROP TYPE IF EXISTS "{typ}"')

    try:
        casts = {}
        for col in texts:
            if not values[col] or 2 * len(values[col]) > lines:
                continue
            typ, listed_name = ibis.util.gen_name("salesbook_enum"), ibis.util.gen_name("salesbook_values")
            con.con.register(listed_name, pa.table({"v": pa.array(values[col], pa.string())}))
            try:
                con.raw_sql(f'CREATE TYPE "{typ}" AS ENUM (SELECT v FROM "{listed_name}")')
            finally:
                con.con.unregister(listed_name)
            types.append(typ)
            casts[col] = f'CAST("{col}" AS "{typ}") AS "{col}"'
        select = ", ".join(casts.get(c, f'"{c}"') for c in table.columns)
        con.raw_sql(f"ATTACH IF NOT EXISTS ':memory:' AS {HELD_DB} (COMPRESS)")
        con.raw_sql(f"CREATE TABLE {where} AS SELECT {select} FROM ({sql}) AS t")
        con.raw_sql(f"CHECKPOINT {HELD_DB}")
    except BaseException:
        drop()
        raise
    return _database_table(name, table.schema(), con, (HELD_DB, "main")), drop


def _database_table(name: str, schema: "ibis.Schema", con: ibis.BaseBackend,
                    where: "tuple[str, str] | None" = None) -> ibis.Table:
    """The engine's table or view ``name`` (in catalog and schema ``where``) as an ibis table of the given schema
    (its ENUMs as text): without asking the engine, whose description of an ENUM type lists every value, which
    ibis then parses (0.4 s at 20,000 clients)."""
    import ibis.expr.operations as ops
    namespace = ops.Namespace() if where is None else ops.Namespace(catalog=where[0], database=where[1])
    return ops.DatabaseTable(name, schema=schema, source=con, namespace=namespace).to_expr()


def engine_copy(table: ibis.Table, con: ibis.BaseBackend) -> "tuple[ibis.Table, Callable[[], None]]":
    """``table`` (an expression of ``con``) computed once and kept by its engine, and what gives that copy back:
    DuckDB a temporary table named with its known schema (:func:`_database_table`: ibis's ``cache`` asks DuckDB for
    it, whose description of an ENUM key lists every value), another engine ibis's ``cache`` (Spark a persisted
    frame)."""
    if con.name != "duckdb":
        cached = table.cache()
        return cached, cached.release
    name = ibis.util.gen_name("salesbook_held")
    con.raw_sql(f'CREATE TEMPORARY TABLE "{name}" AS {con.compile(table)}')
    return _database_table(name, table.schema(), con), functools.partial(con.drop_table, name, force=True)


def _named(table: ibis.Table, con: ibis.BaseBackend) -> ibis.Table:
    """``table`` (the mapping of a file DuckDB reads) as a temporary view of ``con``: each later query names the
    view instead of carrying the mapping's expression, which ibis would compile again every time (a few hundredths
    of a second per query whatever the size: most of a small file's load). Nothing is computed ahead: DuckDB
    inlines the view in each query, as it would the expression. The view keeps the expression's column types."""
    name = ibis.util.gen_name("salesbook_lines")
    con.raw_sql(f'CREATE TEMPORARY VIEW "{name}" AS {con.compile(table)}')
    return _database_table(name, table.schema(), con)


# --------------------------------------------------------------------------- detection (dates)

#: date formats tried, in order, when :func:`~salesbook.data.parse.date_reading` cannot tell the shape
DATE_FORMATS = (
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
    "%d.%m.%Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%y",
    "%d/%m/%Y", "%d/%m/%Y %H:%M", "%m/%d/%Y", "%m/%d/%Y %H:%M", "%Y%m%d",
)


def detect_date_format(values: pd.Series) -> str | None:
    """The format of a column's dates: from :func:`~salesbook.data.parse.date_reading` (day or month
    first told by the values), else the first of :data:`DATE_FORMATS` that parses a sample, or the best one.
    None when no format reads any value, or when the order is ambiguous (see :func:`date_reading`)."""
    reading = date_reading(values)
    if reading.fmt or reading.ambiguous or reading.conflict:
        return reading.fmt
    return _best_known_format(values)


def _best_known_format(values: pd.Series) -> str | None:
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


def _date_problem(values: pd.Series, given: str | None, col: str, canon: str) -> tuple[str | None, Problem | None]:
    """The format to read a date column with, or the one-line problem saying why it cannot be chosen."""
    if given:
        return given, None
    reading = date_reading(values)
    if reading.ambiguous:
        d, m = reading.readings
        ex = reading.example
        return None, Problem(t("readers.date_ambiguous", "en", example=ex, day=reading_of(d, ex),
                                 month=reading_of(m, ex), day_fmt=d, month_fmt=m),
                             column=canon, source_column=col)
    if reading.conflict:
        d, m = reading.readings
        return None, Problem(t("readers.date_conflict", "en", evidence=reading.evidence, day_fmt=d, month_fmt=m),
                             column=canon, source_column=col)
    return reading.fmt or _best_known_format(values), None


def _date_expected(fmt: str | None, bad_values: pd.Series) -> str:
    """What an unreadable date was read as, and what the unreadable values look like."""
    seems = date_reading(bad_values.astype("string"))
    looks = seems.fmt or (seems.readings[0] if seems.readings else None) or _best_known_format(bad_values)
    tried = f"a date written as {human_format(fmt)} (date_format {fmt!r})" if fmt else "a date"
    if looks and looks != fmt:
        tried += f"; these values look like {human_format(looks)} (date_format {looks!r})"
    elif not looks:
        tried += "; these values match no known date format"
    return tried


# --------------------------------------------------------------------------- cells to typed columns


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

    Returns the typed frame (source column names + ``_row``), what was detected (decimal marks, the date
    format, the amount rules applied), problems (bad values) and per-source-column masks of bad values.
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
    detected: dict[str, Any] = {"decimal": {}, "date_format": None, "amount_rules": {}}
    problems: list[Problem] = []
    bad_masks: dict[str, pd.Series] = {}
    for col, kind in kinds.items():
        values = frame[col]
        if kind == "number":
            dec = opts.get("decimal") or detect_decimal(values)
            if not pd.api.types.is_numeric_dtype(values) and \
                    values.astype("string").str.contains(r"[.,]", regex=True).fillna(False).any():
                detected["decimal"][col] = dec  # a mark was read (typed cells and whole numbers have none)
            parsed, bad, rules = read_amounts(values, dec)
            if rules:
                detected["amount_rules"][col] = rules
            expected = ("a number such as 1 234,50" if dec == "," else "a number such as 1234.50")
        elif kind == "date":
            fmt, problem = _date_problem(values, opts.get("date_format"), col, canon_of[col])
            if problem is not None:  # the column is there: only its order is unknown (no 'missing' problem)
                problems.append(problem)
                typed[col] = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
                continue
            detected["date_format"] = fmt if not pd.api.types.is_datetime64_any_dtype(values) else None
            parsed, bad = parse_dates(values, fmt)
            expected = _date_expected(fmt, values[bad]) if bad.any() else ""
            empty = values.isna() | (values.astype("string").str.strip() == "")
            if empty.any():
                rows = frame.loc[empty.fillna(True).astype(bool), "_row"].tolist()
                problems.append(Problem("{n} line(s) with no date", column=canon_of[col], source_column=col,
                                        rows=rows, count=len(rows), expected=expected or None))
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
               file_columns: list[str] | None = None, as_read: "frozenset[str]" = frozenset()
               ) -> tuple[ibis.Table, list[str], list[Problem]]:
    """Apply the mapping in the engine: canonical columns with canonical types. ``as_read``: text columns taken as
    the source holds them, without their canonical expression (:func:`_as_read`: it changes none of their values)."""
    available = set(table.columns)
    file_columns = file_columns or sorted(available - {"_row", ROW_ID})
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
            if canon in as_read:
                out[canon] = val
                continue
        else:
            try:
                val = evaluate(str(spec), {c: table[c] for c in available})
            except (ValueError, KeyError, TypeError) as exc:
                problems.append(Problem(f"mapping expression cannot be used: {exc}", column=canon))
                out[canon] = ibis.null(_TYPES[canon])
                continue
        out[canon] = _coerce(val, canon)
    for col in ("_row", ROW_ID):  # the lines' numbers in the source, for examples and duplicates
        if col in available:
            out[col] = table[col]
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
    # text columns: integral floats (Customer ID 13085.0) are ids, not decimals. A number written as text has no
    # whitespace to strip, is never empty and is never an id written "18.0": it is taken as it is, once (the steps
    # below repeated its conversion inside their expression, up to eight times a line: a quarter of each pass over
    # the real file)
    if typ.is_floating():
        return ibis.ifelse(val == val.floor(), val.cast("int64").cast("string"), val.cast("string"))
    if not typ.is_string():
        return val.cast("string")
    val = _strip(val)
    if canon in _ID_COLUMNS:  # "18.0" written by a spreadsheet is the id "18"
        # the regular expression only where there is a dot: a third of the load's expression time otherwise
        val = ibis.ifelse(val.contains("."), val.re_replace(r"^(\d+)\.0+$", r"\1"), val)
    return val.nullif("")


_ID_COLUMNS = frozenset({"client_id", "product_id", "order_id"})

#: a Parquet file of at least this many lines is first asked which text columns its canonical expression leaves
#: unchanged (:func:`_as_read`); below, the check's query costs more than the passes it makes cheaper
AS_READ_FROM = 200_000


def _named_text(raw: ibis.Table, mapping: ColumnMapping) -> dict[str, str]:
    """The canonical text columns that the mapping takes from one text column of ``raw`` as it is (not joined
    from several, nor computed): each with that column's name."""
    out = {}
    for canon in CANONICAL:
        spec = mapping.target(canon)
        if _TYPES[canon] == "string" and not isinstance(spec, list) and str(spec) in raw.columns \
                and raw[str(spec)].type().is_string():
            out[canon] = str(spec)
    return out


def _as_read(raw: ibis.Table, mapping: ColumnMapping) -> frozenset[str]:
    """The canonical text columns that are, on every line, what the source column they name holds: no value with
    whitespace at an end, no empty value, no id written as a decimal ("18.0"). One pass over the source decides it,
    and every later pass reads those columns as they are, without their canonical expression: each of the checks'
    passes over a Parquet file evaluates it again, for every line (at 10M lines with clean text: 0.8-1.0 s for
    this pass, against 0.45-0.8 s saved from the duplicates' hashing, 0.2-0.4 s from listing the values, 0.1-0.25 s
    from each of the other checks, and from computing the lines held for the cube). Empty when the source has
    fewer than :data:`AS_READ_FROM` lines."""
    same = {canon: (~_coerce(raw[col], canon).identical_to(raw[col])).sum()
            for canon, col in _named_text(raw, mapping).items()}
    if not same or raw.count().to_pyarrow().as_py() < AS_READ_FROM:
        return frozenset()
    row = raw.aggregate(**same).to_pyarrow().to_pylist()[0]
    return frozenset(c for c, n in row.items() if not n)


def _strip(val: ibis.StringValue) -> ibis.StringValue:
    """``val`` without the whitespace at its ends, stripped only where an end may have some: most values have
    none, and stripping every value took half a scan's time on DuckDB (each of the load's passes over a Parquet
    file reads it through this expression). Every character of ``string.whitespace`` is at most 32 (a space or
    a control character): a value is stripped when its first or last character is (an empty value too, which
    stays empty). Testing the two ends' codes instead of each whitespace character at each end (twelve tests)
    took the expression of a file's eight text columns from 1.25 to 0.84 s a pass at 10M lines."""
    edge = (val.ascii_str() <= 32) | (val.right(1).ascii_str() <= 32)
    return ibis.ifelse(edge, val.strip(), val)


# --------------------------------------------------------------------------- entry point


def load_sales(source: "str | os.PathLike | ibis.Table | pd.DataFrame", mapping: Any = None, **options: Any) -> Sales:
    """Load sales lines, map them to canonical columns, validate and clean them (see :func:`_load_sales`).

    A file that cannot be read as what it claims to be (a corrupt Parquet file, a truncated XLSX) is a
    :class:`DataError` naming it, not an engine's traceback.
    """
    with unreadable_as_data_error(source):
        return _load_sales(source, mapping, **options)


@contextlib.contextmanager
def unreadable_as_data_error(source: Any) -> Iterator[None]:
    """A file that its engine cannot read (a corrupt Parquet file, a truncated workbook) becomes one
    :class:`DataError` naming it."""
    import zipfile

    import duckdb
    from python_calamine import CalamineError
    try:
        yield
    except (duckdb.Error, zipfile.BadZipFile, EOFError, CalamineError) as exc:
        if isinstance(source, (ibis.Table, pd.DataFrame)):
            raise
        where = str(source) if is_engine_source(source) else str(paths.resolve_source(source))
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(where, f"cannot read the file ({_kind_of(where)}): {first}") from None


def _kind_of(where: str) -> str:
    suffix = Path(where).suffix.lower()
    return {".parquet": "not a readable Parquet file", ".pq": "not a readable Parquet file",
            ".xlsx": "not a readable Excel workbook", ".xlsm": "not a readable Excel workbook",
            ".xls": "not a readable Excel workbook", ".ods": "not a readable OpenDocument spreadsheet"}.get(
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
    replay: "dict[str, Any] | None" = None,
    in_place: bool = True,
    coded: bool = False,
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
    replay
        A :attr:`Sales.recipe` of an earlier load of the same source with the same options: the clean lines
        are given again as that load left them, without checking again (``report`` then holds what was read
        and the analysis date only: the earlier load's report is the account of the lines).

    in_place
        ``True`` (default): a Parquet file read by DuckDB is not computed ahead, whatever ``stage`` says: its
        lines carry their position in the file, by which duplicates are dropped (see
        :func:`~salesbook.data.validate.clean_lines`), and the clean lines stay one expression over the file,
        each aggregate reading the file itself (for a few aggregates). ``False``: staged as other sources
        are (for many aggregates: one pass computes the distinct lines, which every aggregate then reads).
    coded
        The lines will be computed once later (:meth:`Sales.materialize`, as a cube that builds many tables
        does): the checks' last pass also lists the distinct values of the text columns (:attr:`Sales.values`),
        over which the engine then holds them coded (DuckDB, from :data:`CODE_FROM` lines).

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
    own_con = con is None and not is_engine_source(source)
    con = con or (None if is_engine_source(source) else connect())
    m = load_mapping(mapping)
    options = {**m.read, **{k: v for k, v in dict(encoding=encoding, delimiter=delimiter, decimal=decimal,
                                                    date_format=date_format, sheet=sheet).items() if v is not None}}
    read = read_source(source, m, options, con=con, table=table, row_id=in_place)
    own_con = own_con and read.con is None
    con = read.con or con
    dropped_rows: dict[str, list[int]] = {}
    parse_drops: dict[str, list[int]] = {}
    detected: dict[str, Any] = {}
    file_columns: list[str] | None = None
    problems: list[Problem] = []
    raw = read.table
    if read.frame is not None:  # cells: drop what the mapping says, type the columns it reads
        frame = read.frame
        file_columns = [c for c in frame.columns if c != "_row"]
        frame, dropped_rows["total_row"] = _drop_total_rows(frame, options.get("total_row"))
        frame, dropped_rows["repeated_header"] = drop_repeated_headers(
            frame, str(options.get("repeated_headers", "raise")) == "drop")
        typed_frame, detected, problems, bad_masks = _type_source_columns(frame, m, options)
        if bad_masks and bad_values == "drop":
            typed_frame, parse_drops = _drop_bad(typed_frame, bad_masks)
            problems = [p for p in problems if not p.message.startswith("{n}")]
        raw = ibis.memtable(typed_frame.reset_index(drop=True))

    canon, present, map_problems = _canonical(raw, m, read.where, file_columns)
    problems = map_problems + problems
    if problems:
        raise DataError(read.where, problems, read.detected.line_word)
    canon_held = None  # drops the lines as read, when this load put them in the engine
    as_read: frozenset[str] = frozenset()
    if (read.frame is not None or isinstance(source, pd.DataFrame)) and con.name == "duckdb":
        # lines already in memory: mapped once into the engine, and the checked lines computed once there too,
        # so that each query of the checks and of the cube reads a table instead of compiling the mapping and
        # the cleaning again (a tenth of a second per query, whatever the size)
        canon, _, canon_held = _compute_once(canon, con, None)
        stage = True if stage is None else stage
    elif read.con is None and con.name == "duckdb" and canon.get_backend() is con:
        # a file read by our own DuckDB (not a user's database, an ibis table of theirs or another engine)
        if ROW_ID in canon.columns:
            # a Parquet file, passed over by every check: its columns that need no canonical expression read as they
            # are (a replay: as the load it replays found them)
            as_read = frozenset(replay.get("as_read", ())) if replay is not None else _as_read(raw, m)
            if as_read:
                canon = _canonical(raw, m, read.where, file_columns, as_read)[0]
        canon = _named(canon, con)

    report = _report(read, m, detected, present)
    report.rows_read = sum(len(v) for v in parse_drops.values()) + sum(len(v) for v in dropped_rows.values())
    if dropped_rows.get("repeated_header"):
        rows = dropped_rows["repeated_header"]
        report.lines.append(ReportLine("repeated_header", len(rows), "dropped", rows=rows[:5]))
    staged: dict[str, Any] = {}

    wanted = set(CANONICAL) if columns is None else set(columns) | set(REQUIRED)
    dropped = [c for c in CANONICAL if c not in wanted]
    # every text column kept read as the file holds it: the clean lines are a plain scan of the file, which a cube
    # reads for each table rather than holding them (Sales.plain); else the values are listed, to hold them coded
    plain = ROW_ID in canon.columns and {c for c in present if _TYPES[c] == "string" and c in wanted} <= as_read
    if replay is not None and ROW_ID in canon.columns:
        report.as_of = replay["as_of"]
        clean = replay_lines(canon, replay)
        return Sales(clean.drop(*dropped) if dropped else clean, report, con, recipe=replay, own_con=own_con,
                     plain=plain)
    recipe: dict[str, Any] = {"as_read": sorted(as_read)} if as_read else {}
    values = {c: [] for c in coded_columns(canon) if c in wanted} \
        if coded and not plain and con.name == "duckdb" and ROW_ID in canon.columns else None

    def keep(lines: ibis.Table) -> ibis.Table:
        """The lines that passed the checks, computed once: in the engine's cache, or in a Parquet file."""
        lines = lines.drop(*dropped) if dropped else lines
        if con.name == "duckdb" and stage is None:
            return lines
        staged["table"], staged["file"], staged["held"] = _compute_once(
            lines, con, None if stage is True else stage, lines=report.rows_read)
        return staged["table"]

    clean = clean_lines(canon, report, as_of=as_of, returns=returns, duplicates=duplicates,
                        zero_amounts=zero_amounts, future=future, odd_dates=odd_dates,
                        total_rows=dropped_rows.get("total_row"), parse_drops=parse_drops, stage=keep,
                        # on Spark, lines numbered per file split (no global window); a CSV's header is line 1
                        number=(lambda t: spark_line_numbers(t, 2 if read.where.lower().endswith(".csv") else 1))
                        if read.detected.kind == "spark" else None, recipe=recipe, listed=values)
    if recipe:  # lines left where they are (a Parquet file read by DuckDB), filtered as the checks decided
        return Sales(clean.drop(*dropped) if dropped else clean, report, con, recipe=recipe, own_con=own_con,
                     values=values, plain=plain)
    # nothing filtered after staging: the staged lines are the clean lines, no need to compute them again
    done = "table" in staged and clean.equals(staged["table"])
    if "table" in staged and canon_held is not None:  # the lines as read are read no more: the staged ones are
        canon_held()
    return Sales(clean, report, con, done, staged.get("file") if done else None, held=staged.get("held"),
                 own_con=own_con)


def _drop_bad(typed: pd.DataFrame, bad_masks: dict[str, pd.Series]) -> tuple[pd.DataFrame, dict[str, list[int]]]:
    """Lines with an unreadable value removed; each counted once, under its first bad column."""
    taken = pd.Series(False, index=typed.index)
    drops: dict[str, list[int]] = {}
    for col, mask in bad_masks.items():
        mine = mask & ~taken
        drops[col] = typed.loc[mine, "_row"].tolist()
        taken |= mask
    return typed[~taken], drops


def _report(read: Read, m: ColumnMapping, detected: dict[str, Any], present: list[str]) -> LoadReport:
    d = read.detected
    return LoadReport(source=read.where, kind=d.kind, mapping=m.name, encoding=d.encoding,
                      delimiter=d.delimiter, header_line=d.header_line,
                      decimal=detected.get("decimal") or None,
                      date_format=detected.get("date_format"), line_word=d.line_word,
                      columns_present=present, sheet=d.sheet,
                      amount_rules=detected.get("amount_rules") or {},
                      guessed=list(m.guessed))


def read_source(source: Any, mapping: ColumnMapping, options: dict[str, Any], *, con: Any = None,
                table: str | None = None, largest: bool = False, row_id: bool = False) -> Read:
    """``source`` read by its reader (:mod:`salesbook.data.readers`): a frame of cells or an engine table.

    ``largest``: a workbook none of whose sheets holds the mapped columns gives its largest sheet (the
    proposer's case) instead of an error listing the sheets. ``row_id``: a reader that can give each line its
    position in the file without computing it (DuckDB's Parquet reader) adds it as the column ``_rid``.
    """
    if isinstance(source, ibis.Table):
        return Read("ibis table", Detected("table"), table=source)
    if isinstance(source, pd.DataFrame):
        return Read("data frame", Detected("frame"), table=ibis.memtable(source))
    if is_engine_source(source):  # spark:..., <ibis URL>#<table>: read and aggregated in that engine
        raw, where, kind, engine = open_source(source, table)
        return Read(where, Detected(kind), table=raw, con=engine)
    path = paths.resolve_source(source)
    if not path.exists():
        raise DataError(str(path), "file not found")
    reader = reader_for(path)
    if reader is None:
        raise DataError(str(path), f"unknown file type {path.suffix.lower()!r}: expected CSV or text, a spreadsheet "
                        "(.xlsx, .xls, .ods), Parquet or DuckDB")
    wanted = {str(mapping.target(c)) for c in REQUIRED}
    return reader.read(path, wanted, options, con=con, table=table, largest=largest, row_id=row_id)
