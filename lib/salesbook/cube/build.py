"""The cube: every aggregate the analyses need, computed once per run in the engine.

Raw sales lines never leave the engine (DuckDB by default, any ibis backend
otherwise): only these aggregates come back to pandas, and they are cached as
Parquet so that notebooks never re-aggregate raw lines.

=====================  ==========================================================
table                  one row per ... and its columns
=====================  ==========================================================
``client_month``       client x month: revenue, cost (null without a cost column),
                       orders, lines, quantity, categories bought (distinct counts)
``client_day``         client x day with purchases: revenue, orders, lines
``client_category``    client x category: revenue, lines, first_date, last_date, months
``client_category_month``  client x category x month: revenue, orders
``manager_month``      manager x month: revenue, clients, orders, lines
``client_manager_month``  client x manager x month: revenue, orders (who served each client when)
``category_month``     category x month: revenue, clients, lines
``client_product_window``  client x product x category x period, over the revenue walk's two windows
                       (``period`` ``"after"``: the 12 months to ``as_of``; ``"before"``: the 12 months
                       before them, :func:`salesbook.cube.profile.windows`): ``sales`` and ``units``
                       (lines with a positive amount), ``returns`` and ``returned`` (negative lines:
                       their amount and quantity, both <= 0). Lines before the two windows are not in it
``clients``            client: client_name, region, first_date, last_date,
                       first_manager, manager (latest), revenue, orders, lines,
                       categories, median_gap_days (between purchase days)
=====================  ==========================================================

Rows come in no particular order, except ``client_day``: by client, then date. ``month`` is the first day of the month (datetime64). Orders are distinct
``order_id`` values, or distinct purchase days where the source has no order id.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from salesbook import __version__
from salesbook import paths
from salesbook.data.load_report import LoadReport
from salesbook.data.mapping import ColumnMapping, load_mapping

if TYPE_CHECKING:  # the engine side (ibis, pandera) is imported when a cube is built, not when one is read
    import ibis

    from salesbook.data.load import Sales
    from salesbook.cube.profile import DataProfile

__all__ = ["Cube", "build_cube", "get_cube", "content_digest", "cube_expressions", "median_gaps", "TABLES", "CUBE_VERSION"]

CUBE_VERSION = 9
TABLES = ("client_month", "client_day", "client_category", "client_category_month", "manager_month",
          "client_manager_month", "category_month", "clients", "client_product_window")
#: months in each of the two windows of ``client_product_window`` (the revenue walk's year against the year before)
WALK_MONTHS = 12


@dataclass
class Cube:
    """The aggregates of one data set at one analysis date, as pandas frames."""

    client_month: pd.DataFrame
    client_day: pd.DataFrame
    client_category: pd.DataFrame
    client_category_month: pd.DataFrame
    manager_month: pd.DataFrame
    client_manager_month: pd.DataFrame
    category_month: pd.DataFrame
    clients: pd.DataFrame
    client_product_window: pd.DataFrame
    report: LoadReport
    meta: dict[str, Any] = field(default_factory=dict)
    #: the cache folder it was read from or saved to (None: built in memory); analyses keep results there
    folder: Path | None = None

    @property
    def as_of(self) -> pd.Timestamp:
        return pd.Timestamp(self.report.as_of)

    @functools.cached_property
    def profile(self) -> "DataProfile":
        """What the data cover and can support (:mod:`salesbook.cube.profile`), computed once per cube."""
        from salesbook.cube.profile import data_profile
        return data_profile(self)

    @property
    def has(self) -> set[str]:
        """Canonical columns the source had (``cost``, ``category``, ...)."""
        return set(self.report.columns_present)

    def client_rows(self, table: pd.DataFrame) -> np.ndarray:
        """For each row of a cube table, the position of its client in :attr:`clients` (-1: none).

        Through the categorical codes: no client id is hashed or turned into a string per row, which
        matters at millions of rows (client_day at 10M sales lines has about 2M).
        """
        ids = pd.Index(self.clients.client_id.astype(str))
        col = table.client_id
        if isinstance(col.dtype, pd.CategoricalDtype):
            pos = ids.get_indexer(col.cat.categories.astype(str))
            codes = col.cat.codes.to_numpy()
            return np.where(codes >= 0, pos[codes], -1)
        return ids.get_indexer(col.astype(str))

    def monthly(self) -> pd.DataFrame:
        """Company turnover per month, every month from the first to the data's last (zeros, not gaps)."""
        m = self.client_month.groupby("month", as_index=False).agg(
            revenue=("revenue", "sum"), clients=("client_id", "nunique"), orders=("orders", "sum"))
        first = self.client_month["month"].min()
        # up to the data's last month: months after it up to as_of have no data, not zero sales (profile)
        last = min(self.as_of, pd.Timestamp(self.report.last_date)).to_period("M").to_timestamp()
        full = pd.DataFrame({"month": pd.date_range(first, last, freq="MS").astype("datetime64[us]")})
        out = full.merge(m, on="month", how="left").fillna({"revenue": 0.0, "clients": 0, "orders": 0})
        return out.astype({"clients": "int64", "orders": "int64"})

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in TABLES:
            getattr(self, name).to_parquet(folder / f"{name}.parquet", index=False)
        (folder / "report.json").write_text(self.report.to_json(), encoding="utf-8")
        (folder / "meta.json").write_text(json.dumps(self.meta, ensure_ascii=False, indent=1, default=str),
                                          encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "Cube":
        frames = {name: _typed(pd.read_parquet(folder / f"{name}.parquet")) for name in TABLES}
        report = LoadReport.from_dict(json.loads((folder / "report.json").read_text(encoding="utf-8")))
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        return cls(**frames, report=report, meta=meta, folder=folder)


#: the canonical columns the cube reads (cube_expressions); get_cube's staged clean lines keep only these
COLUMNS = ("date", "client_id", "amount", "client_name", "manager", "category", "quantity", "order_id", "region",
           "cost", "product_id")


def cube_expressions(lines: ibis.Table, keep: "Callable[[ibis.Table], ibis.Table] | None" = None,
                     as_of: Any = None) -> dict[str, ibis.Table]:
    """The ibis expressions of every cube table over clean canonical lines (any backend).

    ``client_category``, ``category_month`` and ``client_month.categories`` are sums over
    ``client_category_month`` (with its lines and first and last purchase dates), not passes over the
    lines: a client bought in a category in a month exactly when that row has orders, so their
    distinct counts are row counts.
    ``keep`` receives that table and returns what they read (``build_cube`` has the engine compute
    it once); ``None`` leaves it an expression, which each of them then recomputes.
    ``as_of``: the end of ``client_product_window``'s later window (``None``: the last line's date).
    """
    keep = keep or (lambda table: table)
    t = lines.mutate(month=lines.date.truncate("M"), day=lines.date.truncate("D"))
    order_key = t.order_id.fill_null(t.day.cast("string"))
    t = t.mutate(_order=order_key)
    buy = t.amount > 0  # a purchase; returns net revenue but are not orders or purchase dates
    ccm = keep(t.group_by(["client_id", "category", "month"]).aggregate(
        revenue=t.amount.sum(), orders=t._order.nunique(where=buy), lines=t.count(),
        first_date=t.date.min(where=buy), last_date=t.date.max(where=buy)))
    bought = ccm.orders > 0
    cats = ccm.group_by(["client_id", "month"]).aggregate(categories=(bought & ccm.category.notnull()).sum())
    client_month = t.group_by(["client_id", "month"]).aggregate(
        revenue=t.amount.sum(), cost=t.cost.sum(), orders=t._order.nunique(where=buy), lines=t.count(),
        quantity=t.quantity.sum()).join(cats, ["client_id", "month"])
    client_category_month = ccm.select("client_id", "category", "month", "revenue", "orders")
    client_day = t.group_by(["client_id", "day"]).aggregate(
        revenue=t.amount.sum(), orders=t._order.nunique(where=buy), lines=t.count())
    client_category = ccm.group_by(["client_id", "category"]).aggregate(
        revenue=ccm.revenue.sum(), lines=ccm.lines.sum(), first_date=ccm.first_date.min(),
        last_date=ccm.last_date.max(), months=bought.sum())
    manager_month = t.group_by(["manager", "month"]).aggregate(
        revenue=t.amount.sum(), clients=t.client_id.nunique(where=buy), orders=t._order.nunique(where=buy),
        lines=t.count())
    client_manager_month = t.group_by(["client_id", "manager", "month"]).aggregate(
        revenue=t.amount.sum(), orders=t._order.nunique(where=buy))
    category_month = ccm.group_by(["category", "month"]).aggregate(
        revenue=ccm.revenue.sum(), clients=bought.sum(), lines=ccm.lines.sum())
    clients = t.group_by("client_id").aggregate(
        client_name=t.client_name.argmax(t.date), region=t.region.argmax(t.date),
        first_date=t.date.min(where=buy), last_date=t.date.max(where=buy),
        first_manager=t.manager.argmin(t.date, where=buy), manager=t.manager.argmax(t.date),
        revenue=t.amount.sum(), orders=t._order.nunique(where=buy), lines=t.count(),
        categories=t.category.nunique())
    return {"client_month": client_month, "client_day": client_day, "client_category": client_category,
            "client_category_month": client_category_month,
            "manager_month": manager_month, "client_manager_month": client_manager_month,
            "category_month": category_month, "clients": clients,
            "client_product_window": _product_windows(t, as_of)}


def _product_windows(t: ibis.Table, as_of: Any) -> ibis.Table:
    """client x product x category x period over the walk's two windows (the bridge's, day for day)."""
    import ibis
    from salesbook.cube.profile import windows
    if as_of is None:
        as_of = t.date.max().to_pyarrow().as_py()
    (s1, e1), (s0, _) = windows(as_of, WALK_MONTHS)
    s0, s1, end = (pd.Timestamp(x).to_pydatetime() for x in (s0, s1, e1 + pd.Timedelta(days=1)))
    w = t.filter((t.date >= s0) & (t.date < end))
    w = w.mutate(period=ibis.ifelse(w.date >= s1, "after", "before"))
    sale, back = w.amount > 0, w.amount < 0
    return w.group_by(["client_id", "product_id", "category", "period"]).aggregate(
        sales=w.amount.sum(where=sale), units=w.quantity.sum(where=sale),
        returns=w.amount.sum(where=back), returned=w.quantity.sum(where=back))


#: key columns held as pandas categoricals: filters, sorts and group-bys work on integer codes
#: instead of Arrow strings (several times faster at 20k clients, and smaller)
KEYS = ("client_id", "manager", "first_manager", "category", "product_id")


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    for col in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[col]) and df[col].dtype != "datetime64[us]":
            df[col] = df[col].astype("datetime64[us]")
        elif col in KEYS and not isinstance(df[col].dtype, pd.CategoricalDtype):
            df[col] = df[col].astype("category")
    return df


#: the order of each table's rows (its key)
ORDER = {"client_month": ["client_id", "month"], "client_category_month": ["client_id", "category", "month"],
         "client_day": ["client_id", "day"], "client_category": ["client_id", "category"],
         "manager_month": ["manager", "month"], "client_manager_month": ["client_id", "month", "manager"],
         "category_month": ["category", "month"], "clients": ["client_id"],
         "client_product_window": ["client_id", "product_id", "category", "period"]}
#: money columns of the cube, kept in whole cents
MONEY = ("revenue", "cost", "sales", "returns")


def _to_pandas(expr: ibis.Table, name: str) -> pd.DataFrame:
    """As the engine returns it, timestamps as datetime64[us], keys categorical,
    money rounded to the cent: engines add floats in different orders (DuckDB and Spark differ in the
    ninth decimal), and rounding makes every figure built on the cube the same whatever the engine."""
    df = _typed(expr.to_pyarrow().to_pandas())
    for col in MONEY:
        if col in df.columns:
            df[col] = df[col].round(2)
    return df


def median_gaps(days: pd.DataFrame) -> pd.Series:
    """Median days between consecutive purchase days, per client (NaN with one purchase day).

    ``days``: purchase days (``client_id``, ``date``) by client, then date, as client_day keeps them.
    """
    gaps = days.date.diff().dt.days.where(days.client_id.eq(days.client_id.shift()))
    return gaps.groupby(days.client_id, observed=True).median()


def build_cube(sales: Sales) -> Cube:
    """Aggregate clean sales lines into a :class:`Cube` (one query per table, in the engine)."""
    held: list[ibis.Table] = []

    def keep(table: ibis.Table) -> ibis.Table:  # computed once in the engine (DuckDB: a temporary table)
        held.append(table.cache())
        return held[-1]

    try:
        frames = {name: _to_pandas(expr, name)
                  for name, expr in cube_expressions(sales.table, keep, sales.report.as_of).items()}
    finally:
        for table in held:
            table.release()
    # rows in key order (purchase days by client and date, as every reader of the history wants):
    # an engine returns groups in any order, and sums over them must not depend on it
    frames = {name: df.sort_values(ORDER[name], kind="stable", ignore_index=True) for name, df in frames.items()}
    frames["client_day"] = days = frames["client_day"].rename(columns={"day": "date"})
    frames["client_product_window"] = frames["client_product_window"].fillna(
        {"sales": 0.0, "units": 0.0, "returns": 0.0, "returned": 0.0})
    # from client_day here rather than in the engine, which would aggregate the lines into days a second time
    gap = median_gaps(days[days.orders > 0])
    frames["clients"]["median_gap_days"] = gap.set_axis(gap.index.astype(str)).reindex(
        frames["clients"].client_id.astype(str)).to_numpy(dtype="float64")
    meta = {"salesbook": __version__, "cube_version": CUBE_VERSION, "source": sales.report.source}
    return Cube(**frames, report=sales.report, meta=meta)


# --------------------------------------------------------------------------- cache


def content_digest(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, streamed (0.67 s a GB on one core here: benchmarks/digest_benchmark.py);
    of a folder of parts (as Spark writes them): of each part's relative path and bytes, in name order."""
    h = hashlib.sha256()
    files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode() + b"\0")
        with open(f, "rb") as handle:
            while block := handle.read(chunk):
                h.update(block)
    return h.hexdigest()


def _cache_key(source: Any, mapping: ColumnMapping, as_of: Any, options: dict[str, Any]) -> str | None:
    if not isinstance(source, (str, os.PathLike)):
        return None
    from salesbook.data.engines import is_engine_source, source_path
    engine = "duckdb"
    if is_engine_source(source):  # spark:<file> is keyed by its file; a table has no file to watch
        path, engine = source_path(str(source)), str(source).split(":", 1)[0]
        if path is None:
            return None
    else:
        path = paths.resolve_source(source)
    if not path.exists():
        return None
    # the content, not its size and modification time: a file replaced by another of the same size with the
    # same mtime (cp -p, rsync, some export jobs) must never be served from the old cube
    digest = content_digest(path)
    ident = {"path": str(path), "engine": engine, "content": digest,
             "mapping": {"columns": mapping.columns, "read": mapping.read,
                         **({"guessed": list(mapping.guessed)} if mapping.guessed else {})}, "as_of": str(as_of),
             "options": {k: str(v) for k, v in sorted(options.items())},
             "version": __version__, "cube": CUBE_VERSION}
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:16]


def get_cube(source: Any = "sample", mapping: Any = None, as_of: "str | date | None" = None, *,
             cache: bool = True, cache_dir: Path | None = None, **load_options: Any) -> Cube:
    """Load, validate and aggregate ``source`` once; later calls read the cached cube.

    The cache key is the file (its path and a SHA-256 digest of its content), the mapping,
    ``as_of``, the load options and the salesbook version, so a changed file
    or option is never served from an old cache. A table in another engine (``spark:erp.sales``,
    ``postgres://...#lines``) has no content to digest cheaply: it is never cached, each call reads
    the engine. ``cache=False`` never reads nor writes the cache. ``as_of`` may be ``None`` or
    ``""`` for the last date in the data.
    """
    as_of = as_of or None
    m = load_mapping(mapping)
    key = _cache_key(source, m, as_of, load_options) if cache else None
    root = Path(cache_dir or paths.CACHE_DIR) / "cubes"
    if key and (root / key / "meta.json").exists():
        return Cube.load(root / key)
    from salesbook.data.load import load_sales
    if not key:
        return build_cube(load_sales(source, m, as_of=as_of, stage=True, columns=COLUMNS, **load_options))
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
    try:
        # the clean lines are computed once, in the engine (DuckDB: a temporary table in memory, faster to
        # aggregate than a Parquet file it would write and read back), with the columns the cube reads, and
        # the cube is aggregated from them
        t0 = time.perf_counter()
        sales = load_sales(source, m, as_of=as_of, stage=True, columns=COLUMNS, **load_options)
        t1 = time.perf_counter()
        cube = build_cube(sales)
        del sales  # the engine drops the temporary table
        seconds = {"load": round(t1 - t0, 2), "cube": round(time.perf_counter() - t1, 2)}
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        cube.save(tmp)
        target = root / key
        # atomic: the entry appears whole or not at all. Two runs that built the same entry at once: the
        # second rename fails on the first one's folder (same key, same content) and its copy is dropped;
        # an entry is never removed while another process may be reading it
        os.replace(tmp, target)
        cube.folder = target
    except OSError:  # already there, or a cache that cannot be written: only costs time
        shutil.rmtree(tmp, ignore_errors=True)
        if (root / key / "meta.json").exists():
            cube.folder = root / key
    cube.meta["seconds"] = seconds  # of this build; not in the cache, so a cached cube carries none
    return cube
