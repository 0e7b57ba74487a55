"""The cube: every aggregate the analyses need, each computed once, in the engine, when first asked for.

Raw sales lines never leave the engine (DuckDB by default, any ibis backend
otherwise): only these aggregates come back to pandas, and they are cached as
Parquet, one file per table, so that notebooks never re-aggregate raw lines. A
notebook that reads two tables builds two (:class:`Cube`); a run builds them all
before its notebooks start (``Cube.build()``).

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

Rows are in key order (``client_day``: by client, then date). ``month`` is the first day of the month (datetime64). Orders are distinct
``order_id`` values, or distinct purchase days where the source has no order id.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from salesbook import __version__
from salesbook import paths
from salesbook.cube.locks import locked as _locked  # a lock file per table being built
from salesbook.cube.memo import release_heap
from salesbook.data.load_report import LoadReport
from salesbook.data.mapping import ColumnMapping, load_mapping

if TYPE_CHECKING:  # the engine side (ibis, pandera) is imported when a cube is built, not when one is read
    import ibis

    from salesbook.data.load import Sales
    from salesbook.cube.profile import DataProfile

__all__ = ["Cube", "build_cube", "get_cube", "content_digest", "cube_expressions", "median_gaps", "text_of", "TABLES",
           "CUBE_VERSION"]

CUBE_VERSION = 11
TABLES = ("client_month", "client_day", "client_category", "client_category_month", "manager_month",
          "client_manager_month", "category_month", "clients", "client_product_window")
#: in a cache entry, how the clean lines are read again from the source (the load's recipe, when it has one)
LINES_FILE = "lines.json"
#: months in each of the two windows of ``client_product_window`` (the revenue walk's year against the year before)
WALK_MONTHS = 12


def _table(name: str) -> property:
    """A cube table as an attribute: built (or read from the cache) the first time it is asked for."""
    return property(lambda self: self.table(name), lambda self, frame: self._frames.__setitem__(name, frame),
                    doc=f"The ``{name}`` table (see the module's docstring), built on first use.")


class Cube:
    """The aggregates of one data set at one analysis date, as pandas frames.

    Each table is built the first time it is asked for (``cube.client_month``, ``cube.table(name)``), from
    the clean lines in their engine, and kept: in this object, and in the cache folder (``folder``) when the
    cube has one, one Parquet file per table written whole, so that another process reading the same cache
    entry reads it instead of building it again. A table another process has not built yet is built there
    from the clean lines read again as the load left them (``reopen``: the source, mapped and filtered as
    the load decided, without validating again). :meth:`build` builds every table (or the ones named) at once.
    """

    client_month = _table("client_month")
    client_day = _table("client_day")
    client_category = _table("client_category")
    client_category_month = _table("client_category_month")
    manager_month = _table("manager_month")
    client_manager_month = _table("client_manager_month")
    category_month = _table("category_month")
    clients = _table("clients")
    client_product_window = _table("client_product_window")

    def __init__(self, *, report: LoadReport, meta: "dict[str, Any] | None" = None, folder: Path | None = None,
                 sales: "Sales | None" = None, reopen: "Callable[[], Sales] | None" = None, owned: bool = False,
                 **tables: pd.DataFrame) -> None:
        unknown = set(tables) - set(TABLES)
        if unknown:
            raise TypeError(f"not cube tables: {', '.join(sorted(unknown))} (tables: {', '.join(TABLES)})")
        self.report = report
        self.meta: dict[str, Any] = dict(meta or {})
        #: the cache folder it was read from or saved to (None: built in memory); analyses keep results there
        self.folder = folder
        #: the tables this object built in the engine (not read from the cache), in the order it built them
        self.built: list[str] = []
        self._frames: dict[str, pd.DataFrame] = dict(tables)
        # ``owned``: ``sales`` were loaded for this cube alone (get_cube), which gives back what the engine holds
        # for them once every table is built; lines a caller passed (build_cube) stay theirs
        self._engine = _Engine(sales, owned) if sales is not None else None
        self._reopen = reopen
        self._lock = threading.RLock()
        #: tables the engine computed whose frame a thread of :meth:`build` is still making (and writing)
        self._pending: dict[str, Future] = {}

    def __repr__(self) -> str:
        held = ", ".join(n for n in TABLES if n in self._frames) or "none yet"
        return f"Cube(as_of={self.report.as_of}, source={self.report.source!r}, tables in memory: {held})"

    def table(self, name: str) -> pd.DataFrame:
        """The table ``name`` (one of :data:`TABLES`): from memory, else the cache folder, else built now."""
        if name not in TABLES:
            raise KeyError(f"no cube table {name!r}; tables: {', '.join(TABLES)}")
        frame = self._frames.get(name)
        if frame is not None:
            return frame
        with self._lock:  # one build per table, whichever thread asks first (the runner's summary and profile)
            pending = self._pending.pop(name, None)
            if pending is not None:  # computed by the engine, its frame being made: in _frames when done
                pending.result()
            if name not in self._frames:
                self._frames[name] = self._read(name) if self._cached(name) else self._make(name)
            return self._frames[name]

    def build(self, *names: str) -> "Cube":
        """Build (or read) the tables named, every table when none is: for a caller that will need them all.

        From :data:`HOLD_FROM` passes over the lines on, the clean lines of a file are first computed once in
        the engine (:meth:`_Engine.hold`), and every table reads them there. While the engine computes a table,
        a thread makes the one before into a frame and writes it (:data:`_STAGES`): at 10M lines that is 2.7 s of
        one core beside the engine's queries, instead of after them."""
        wanted = [n for n in _BUILD_ORDER if n in names] if names else list(_BUILD_ORDER)
        with self._lock:
            if self._engine is not None or self._reopen is not None:
                passes = [n for n in _passes(wanted) if n not in self._frames and not self._cached(n)]
                t0 = time.perf_counter()
                if len(passes) >= HOLD_FROM:  # the lines computed once for the tables: counted in the cube's time
                    self.engine().hold()
                readers = set(passes) & set(_ORDER_READERS)
                if len(readers) >= 2:  # and the orders, for the tables summed from them
                    self.engine().hold_orders(readers)
                self._count(t0)
            with ThreadPoolExecutor(1, thread_name_prefix="salesbook-cube") as finishing:
                try:
                    for name in wanted:
                        if name in _STAGES and name not in self._frames and not self._cached(name):
                            self._start(name, finishing)
                        else:
                            self.table(name)
                    t0 = time.perf_counter()
                    for name in [n for n in wanted if n in self._pending]:
                        self.table(name)  # its frame made and written, or its failure raised here
                    self._count(t0)
                finally:  # after a failure: the thread's work ends before the lock files are let go
                    wait(list(self._pending.values()))
                    self._pending.clear()
            self._release()
        return self

    def _start(self, name: str, finishing: ThreadPoolExecutor) -> None:
        """Compute ``name`` in the engine now, under its lock; ``finishing``'s thread makes its frame, writes it and
        lets the lock go."""
        held = contextlib.ExitStack()
        held.enter_context(_locked(self.folder, name))
        try:
            if self._cached(name):  # another process built it while this one waited
                self._frames[name] = self._read(name)
                held.close()
                return
            t0 = time.perf_counter()
            compute, finish = _STAGES[name]
            computed = compute(self)
            self._count(t0)
        except BaseException:
            held.close()
            raise

        def settle() -> None:
            with held:
                self._settle(name, finish(self, computed))
        self._pending[name] = finishing.submit(settle)

    def _count(self, t0: float) -> None:
        """The seconds since ``t0`` added to this process's cube time (the wall time its tables took)."""
        seconds = self.meta.setdefault("seconds", {})
        seconds["cube"] = round(seconds.get("cube", 0.0) + time.perf_counter() - t0, 2)

    def _release(self) -> None:
        """What the tables built so far no longer need: client x category x month once every table summed from
        it is built, the engine's lines (and its memory) once every table is."""
        if all(n in self._frames for n in _CCM_READERS):
            self.__dict__.pop("_ccm", None)
        if self._engine is not None and all(n in self._frames for n in TABLES):
            self._engine.close()
            self._engine = None

    def forget(self) -> "Cube":
        """Let go of the tables kept in the cache folder: each is read from there again when next asked for. A
        scheduled run's cube, built whole, holds its tables (0.39 GB at 10M lines) while the workbooks run in
        their kernels; its summary, at the end, reads the few it needs again (a tenth of a second each)."""
        with self._lock:
            for name in [n for n in self._frames if self._cached(n)]:
                del self._frames[name]
        return self

    def _cached(self, name: str) -> bool:
        return self.folder is not None and (self.folder / f"{name}.parquet").exists()

    def _read(self, name: str) -> pd.DataFrame:
        path = self.folder / f"{name}.parquet"  # type: ignore[operator]
        if name == "client_category_month":  # the file holds the engine's whole table (see _whole_ccm)
            frame = _public_of(_typed(pd.read_parquet(path, columns=list(CCM_PUBLIC))))
        else:
            frame = _typed(pd.read_parquet(path))
        # the Arrow table it was read into is freed, and Arrow's pool would keep its memory for reuse: at 10M lines
        # a kernel that read five tables (0.33 GB of frames) held 0.63 GB, 0.49 GB with it given back
        pa.default_memory_pool().release_unused()
        return frame

    def _make(self, name: str) -> pd.DataFrame:
        """Build ``name`` in the engine, keep it in the cache folder; another process building the same table at
        the same time waits for this one (a lock file beside it) and reads what it wrote."""
        with _locked(self.folder, name):
            if self._cached(name):  # another process built it while this one waited
                return self._read(name)
            t0 = time.perf_counter()
            frame = self._settle(name, _BUILDERS[name](self))
            self._count(t0)
        self._release()
        return frame

    def _settle(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        """A table just built: listed as built, kept in the cache folder and in memory (client x category x month
        is listed and kept whole where the engine computes it: :func:`_engine_ccm`, :func:`_ccm_frame`)."""
        if name != "client_category_month":
            self.built.append(name)
            _keep(self.folder, name, frame)
        self._frames[name] = frame
        return frame

    def engine(self) -> "_Engine":
        """Where this cube's tables are computed: the clean lines in their engine (read again when needed)."""
        if self._engine is None:
            if self._reopen is None:
                raise RuntimeError("this cube has no clean lines to build its tables from")
            self._engine = _Engine(self._reopen(), owned=True)
        return self._engine

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
        """Every table (built now if need be), the load report and the meta data, into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        _write_entry(folder, self.report, self.meta)
        for name in TABLES:
            if name == "client_category_month":  # the engine's whole table, as a cache entry keeps it
                if self._cached(name):
                    data = pq.read_table(self.folder / f"{name}.parquet")  # type: ignore[operator]
                elif "_ccm" in self.__dict__ or self._engine is not None or self._reopen is not None:
                    data = _whole_ccm(_ccm_of(self))
                else:  # every table built in memory and the lines let go: the tables it sums are saved too
                    data = self.table(name)
                _write_parquet(data, folder / f"{name}.parquet")
            else:
                _write_parquet(self.table(name), folder / f"{name}.parquet")

    @classmethod
    def load(cls, folder: Path, reopen: "Callable[[], Sales] | None" = None) -> "Cube":
        """The cube kept in ``folder``: its tables are read when first asked for (built by ``reopen``'s
        lines when the folder does not hold them yet)."""
        report = LoadReport.from_dict(json.loads((folder / "report.json").read_text(encoding="utf-8")))
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        return cls(report=report, meta=meta, folder=folder, reopen=reopen)


#: the canonical columns the cube reads (cube_expressions); get_cube's staged clean lines keep only these
COLUMNS = ("date", "client_id", "amount", "client_name", "manager", "category", "quantity", "order_id", "region",
           "cost", "product_id")


def _prepared(lines: ibis.Table) -> ibis.Table:
    """The clean lines with what every table groups by: ``month``, ``day`` and ``_order`` (the order id, else
    the purchase day)."""
    t = lines.mutate(month=lines.date.truncate("M"), day=lines.date.truncate("D"))
    return t.mutate(_order=t.order_id.fill_null(t.day.cast("string")))


def _ccm_expression(t: ibis.Table) -> ibis.Table:
    """client x category x month with its lines and first and last purchase dates: ``client_category_month``
    and what ``client_category``, ``category_month`` and ``client_month.categories`` are summed from."""
    buy = t.amount > 0  # a purchase; returns net revenue but are not orders or purchase dates
    # orders counted in two steps, each order's lines first: DuckDB's COUNT(DISTINCT) per group held a set of
    # order ids for each of the 2.4M groups at 10M lines (its query peaked 0.2 GB higher, and took 0.2 s longer)
    each = t.group_by(["client_id", "category", "month", "_order"]).aggregate(
        revenue=t.amount.sum(), lines=t.count(), bought=buy.any(),
        first_date=t.date.min(where=buy), last_date=t.date.max(where=buy))
    return each.group_by(["client_id", "category", "month"]).aggregate(
        revenue=each.revenue.sum(), orders=each.count(where=each.bought), lines=each.lines.sum(),
        first_date=each.first_date.min(), last_date=each.last_date.max())


def _from_ccm(ccm: ibis.Table) -> dict[str, ibis.Table]:
    """The tables summed from client x category x month (see :func:`cube_expressions`)."""
    bought = ccm.orders > 0
    return {"categories": ccm.group_by(["client_id", "month"]).aggregate(
                categories=(bought & ccm.category.notnull()).sum()),
            "client_category": ccm.group_by(["client_id", "category"]).aggregate(
                revenue=ccm.revenue.sum(), lines=ccm.lines.sum(), first_date=ccm.first_date.min(),
                last_date=ccm.last_date.max(), months=bought.sum()),
            "category_month": ccm.group_by(["category", "month"]).aggregate(
                revenue=ccm.revenue.sum(), clients=bought.sum(), lines=ccm.lines.sum())}


def _line_rows(t: ibis.Table) -> ibis.Table:
    """The prepared lines as rows of what :func:`_by_order` and ``manager_month`` sum: ``bought`` (a purchase,
    ``amount > 0``), ``lines`` (1), ``revenue``, ``cost`` and ``quantity``, by client, manager, day, month and order.
    :func:`_orders` sums them per order; the tables are the same sums of either."""
    import ibis
    return t.select("client_id", "manager", "day", "month", "_order", bought=t.amount > 0,
                    lines=ibis.literal(1, "int64"), revenue=t.amount, cost=t.cost, quantity=t.quantity)


def _orders(rows: ibis.Table) -> ibis.Table:
    """Each order's rows summed per client, manager and day (an order id two clients share, or an order of two
    managers or two days, is a row for each): client x day, client x month, client x manager x month and manager x
    month are sums of these rows as of the lines', and read 2M of them at 10M lines instead of 10M lines.
    :meth:`Cube.build` has the engine compute them once for these tables (:meth:`_Engine.hold_orders`)."""
    each = rows.group_by(["client_id", "manager", "day", "_order"]).aggregate(
        bought=rows.bought.any(), lines=rows.lines.sum(), revenue=rows.revenue.sum(), cost=rows.cost.sum(),
        quantity=rows.quantity.sum())
    return each.mutate(month=each.day.truncate("M"))


def _by_order(rows: ibis.Table, keys: list[str], *sums: str) -> ibis.Table:
    """``keys`` with ``orders`` (the orders with a purchase), ``lines`` and the sum of each column of ``sums``, from
    the rows of lines or of orders (:func:`_line_rows`, :func:`_orders`), counted in two steps: each order's rows
    first, then the orders. One step's ``COUNT(DISTINCT)`` held a set of order ids for each group: at 10M lines,
    client x day took 0.8-1.0 s in DuckDB and 0.65-0.7 s in two steps, client x month 0.9 against 0.75 s, client x
    manager x month 0.85 against 0.65 s. The money is added in another order: the cube rounds it to the cent
    (:func:`_frame`)."""
    each = rows.group_by([*keys, "_order"]).aggregate(
        _bought=rows.bought.any(), _lines=rows.lines.sum(), **{f"_{name}": rows[name].sum() for name in sums})
    return each.group_by(keys).aggregate(
        **{name: each[f"_{name}"].sum() for name in sums}, orders=each.count(where=each._bought),
        lines=each._lines.sum())


def _client_month_with_categories(t: ibis.Table) -> ibis.Table:
    """client x month from the prepared lines ``t`` with the categories bought, counted in the same pass: client x
    month on its own, without client x category x month to sum them from."""
    buy = t.amount > 0
    return t.group_by(["client_id", "month"]).aggregate(
        revenue=t.amount.sum(), cost=t.cost.sum(), orders=t._order.nunique(where=buy), lines=t.count(),
        quantity=t.quantity.sum(), categories=t.category.nunique(where=buy))


def _line_expressions(t: ibis.Table, as_of: Any, rows: "ibis.Table | None" = None
                      ) -> dict[str, "Callable[[], ibis.Table]"]:
    """The tables aggregated straight from the prepared lines ``t``, each made when called; client x day, client x
    month, client x manager x month and manager x month from ``rows`` (the lines', else :func:`_orders`)."""
    buy = t.amount > 0
    r = _line_rows(t) if rows is None else rows
    return {
        "client_month": lambda: _by_order(r, ["client_id", "month"], "revenue", "cost", "quantity").select(
            "client_id", "month", "revenue", "cost", "orders", "lines", "quantity"),
        "client_day": lambda: _by_order(r, ["client_id", "day"], "revenue"),
        "manager_month": lambda: r.group_by(["manager", "month"]).aggregate(
            revenue=r.revenue.sum(), clients=r.client_id.nunique(where=r.bought),
            orders=r._order.nunique(where=r.bought), lines=r.lines.sum()),
        "client_manager_month": lambda: _by_order(r, ["client_id", "manager", "month"], "revenue").drop("lines"),
        "clients": lambda: t.group_by("client_id").aggregate(
            client_name=t.client_name.argmax(t.date), region=t.region.argmax(t.date),
            first_date=t.date.min(where=buy), last_date=t.date.max(where=buy),
            first_manager=t.manager.argmin(t.date, where=buy), manager=t.manager.argmax(t.date),
            revenue=t.amount.sum(), orders=t._order.nunique(where=buy), lines=t.count(),
            categories=t.category.nunique()),
        "client_product_window": lambda: _product_windows(t, as_of),
    }


def cube_expressions(lines: ibis.Table, keep: "Callable[[ibis.Table], ibis.Table] | None" = None,
                     as_of: Any = None) -> dict[str, ibis.Table]:
    """The ibis expressions of every cube table over clean canonical lines (any backend).

    ``client_category``, ``category_month`` and ``client_month.categories`` are sums over
    ``client_category_month`` (with its lines and first and last purchase dates), not passes over the
    lines: a client bought in a category in a month exactly when that row has orders, so their
    distinct counts are row counts.
    ``keep`` receives that table and returns what they read (computed once by the engine, say);
    ``None`` leaves it an expression, which each of them then recomputes.
    ``as_of``: the end of ``client_product_window``'s later window (``None``: the last line's date).

    :class:`Cube` builds each table on its own from the same expressions (:func:`_line_expressions`,
    :func:`_from_ccm`), the ones summed from client x category x month on this machine's DuckDB.
    """
    keep = keep or (lambda table: table)
    t = _prepared(lines)
    ccm = keep(_ccm_expression(t))
    derived = _from_ccm(ccm)
    out = {name: make() for name, make in _line_expressions(t, as_of).items()}
    out["client_month"] = out["client_month"].join(derived["categories"], ["client_id", "month"])
    out["client_category_month"] = ccm.select(*CCM_PUBLIC)
    out["client_category"], out["category_month"] = derived["client_category"], derived["category_month"]
    return {name: out[name] for name in TABLES}


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
#: instead of Arrow strings (several times faster at 20k clients, and smaller; the product window's ``period``,
#: "before" or "after" on each of its 3.5M rows at 10M lines, 40 MB as text)
KEYS = ("client_id", "manager", "first_manager", "category", "product_id", "period")


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    for col in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[col]) and df[col].dtype != "datetime64[us]":
            df[col] = df[col].astype("datetime64[us]")
        elif col in KEYS and not isinstance(df[col].dtype, pd.CategoricalDtype):
            df[col] = df[col].astype("category")
        elif col in KEYS and not len(df[col].cat.categories) and df[col].cat.categories.dtype != "str":
            # a key with no value at all (a file without categories) reads back from Parquet with object
            # categories; built, its categories are text, as every other key's
            df[col] = df[col].astype(pd.CategoricalDtype(pd.Index([], dtype="str")))
    return df


def text_of(col: pd.Series, missing: str | None = None) -> pd.Series:
    """A key column of a cube table as text (pandas' ``str``), each missing value as ``missing`` (None: as
    ``astype(str)`` writes it). A categorical column's categories are converted once and taken by code: a
    quarter of ``astype(str)``'s time on millions of rows (the 10M benchmark's product x client table). Keep the
    result a Series: ``.to_numpy()`` gives Python objects, which a new frame converts back again."""
    if isinstance(col.dtype, pd.StringDtype):  # already text: no round trip through Python strings
        return col.fillna(missing) if missing is not None else col.astype(str)
    coded = text_codes(col, missing)
    if coded is None:
        if not isinstance(col.dtype, pd.CategoricalDtype):
            return (col.astype(object).fillna(missing) if missing is not None else col).astype(str)
        return col.astype(str)
    codes, cats = coded
    return pd.Series(cats.take(codes), index=col.index, name=col.name)


def text_codes(col: pd.Series, missing: str | None = None) -> "tuple[np.ndarray, pd.Index] | None":
    """A categorical key column as codes into its categories as text, each missing value coded as ``missing`` (one
    more category, at the end). None when the column is not categorical, or has missing values and no ``missing``."""
    if not isinstance(col.dtype, pd.CategoricalDtype):
        return None
    codes = col.cat.codes.to_numpy()
    cats = col.cat.categories.astype(str)
    if (codes < 0).any():
        if missing is None:
            return None
        cats = cats.append(pd.Index([missing], dtype=cats.dtype))
        codes = np.where(codes < 0, len(cats) - 1, codes)
    return codes, cats


#: the order of each table's rows (its key)
ORDER = {"client_month": ["client_id", "month"], "client_category_month": ["client_id", "category", "month"],
         "client_day": ["client_id", "day"], "client_category": ["client_id", "category"],
         "manager_month": ["manager", "month"], "client_manager_month": ["client_id", "month", "manager"],
         "category_month": ["category", "month"], "clients": ["client_id"],
         "client_product_window": ["client_id", "product_id", "category", "period"]}
#: money columns of the cube, kept in whole cents
MONEY = ("revenue", "cost", "sales", "returns")


#: the columns of ``client_category_month``; its cache file also holds ``lines``, ``first_date`` and ``last_date``
#: (and money as the engine summed it, unrounded), from which the tables summed from it are built
CCM_PUBLIC = ("client_id", "category", "month", "revenue", "orders")
#: the order tables are built in by :meth:`Cube.build`: the product window first, the largest frame (3.5M rows at
#: 10M lines), made while the engine computes client x category x month (before the three tables summed from it);
#: then the tables summed from the orders (:meth:`_Engine.hold_orders`: computed at the first of them, given back
#: after the last), the clients last. At 10M lines, three builds each, in turns: the window after the orders' tables
#: 9.0-9.8 s and a peak of 1.96-2.09 GB (the orders held from the start, with the window second: 8.5-9.7 s, 2.15-2.28
#: GB; without the orders, client x category x month first: 9.6-9.7 s, 1.85-1.88 GB); the window first 8.2-8.8 s,
#: 1.72-1.88 GB
_BUILD_ORDER = ("client_product_window", "client_category_month", "client_day", "client_month", "client_category",
                "manager_month", "client_manager_month", "category_month", "clients")
#: the tables summed from each order's lines (:func:`_orders`)
_ORDER_READERS = ("client_month", "client_day", "manager_month", "client_manager_month")
#: the tables that read client x category x month
_CCM_READERS = ("client_month", "client_category_month", "client_category", "category_month")
#: the tables that are a pass over the lines (client_category_month: the one the three others are summed from)
_LINE_PASSES = ("client_category_month", "client_month", "client_day", "manager_month", "client_manager_month",
                "clients", "client_product_window")
#: :meth:`Cube.build` computes the clean lines of a file once in the engine before this many passes over them
HOLD_FROM = 3


def _passes(names: list[str]) -> list[str]:
    """The passes over the lines that building ``names`` takes (with the tables they read)."""
    needs = set(names)
    if needs & {"client_category", "category_month"}:
        needs.add("client_category_month")
    if "clients" in needs:
        needs.add("client_day")
    return [n for n in _LINE_PASSES if n in needs]


def _frame(table: "pa.Table", name: str, rounded: bool = True) -> pd.DataFrame:
    """An engine's result as the cube keeps it: timestamps as datetime64[us], keys categorical, money rounded
    to the cent (engines add floats in different orders: DuckDB and Spark differ in the ninth decimal, and
    rounding makes every figure built on the cube the same whatever the engine), rows in key order (purchase
    days by client and date, as every reader of the history wants: an engine returns groups in any order, and
    sums over them must not depend on it). ``rounded=False``: money as the engine summed it."""
    coded = [n for n, t in zip(table.column_names, table.schema.types) if pa.types.is_dictionary(t)]
    df = table.to_pandas()
    for col in coded:  # an ENUM's every value, sorted: cut to the values the table holds, as astype("category")
        df[col] = df[col].cat.remove_unused_categories()
    df = _typed(df)
    if rounded:
        _round_money(df)
    df = df.sort_values(ORDER[name], kind="stable", ignore_index=True)
    if name == "client_day":
        df = df.rename(columns={"day": "date"})
    if name == "client_product_window":
        df = df.fillna({"sales": 0.0, "units": 0.0, "returns": 0.0, "returned": 0.0})
    return df


def _round_money(df: pd.DataFrame) -> pd.DataFrame:
    for col in MONEY:
        if col in df.columns:
            df[col] = df[col].round(2)
    return df


def _whole_ccm(held: "pa.Table") -> pd.DataFrame:
    """The engine's whole client x category x month table as the cache folder keeps it: typed and in key order, as
    every cube table, its money as the engine summed it (the tables summed from it round their own sums). Each
    process that read the table used to type and sort the engine's table again: 0.9 s at 10M lines, 0.1 s now."""
    return _frame(held, "client_category_month", rounded=False)


def _public_of(whole: pd.DataFrame) -> pd.DataFrame:
    """The cube's ``client_category_month`` from :func:`_whole_ccm`'s frame: its public columns, money to the cent."""
    return _round_money(whole[list(CCM_PUBLIC)])


def _plain(table: "pa.Table") -> "pa.Table":
    """A kept frame read back for the tables summed from it: categorical keys as their text, no pandas metadata
    (the engine's own table may keep its keys as dictionaries: the same sums either way)."""
    columns = [pc.cast(col, col.type.value_type) if pa.types.is_dictionary(col.type) else col for col in table.columns]
    return pa.table(columns, names=table.column_names)


_LOCAL = threading.local()


def _local(expr: ibis.Table) -> "pa.Table":
    """``expr`` over tables held here (``ibis.memtable``), computed by a DuckDB of this process: one connection per
    thread, opened on first use (opening one takes DuckDB a fiftieth of a second; ibis drops each memtable from it
    when the memtable is collected)."""
    con = getattr(_LOCAL, "con", None)
    if con is None:
        import ibis
        from salesbook.data.sqlcache import remember_sql
        con = _LOCAL.con = remember_sql(ibis.duckdb.connect())
    return con.to_pyarrow(expr)


def engine_result(expr: ibis.Table) -> "pa.Table":
    """``expr`` computed by its engine, as Arrow. From DuckDB, a key (:data:`KEYS`) that the clean lines hold coded
    (ENUMs, :func:`salesbook.data.load._held_coded`) comes back as an Arrow dictionary, which :func:`_frame` reads
    as a categorical without hashing millions of strings again (ibis's own result would decode it to text); every
    other column as ibis gives it (a client's name, coded too, as text)."""
    con = expr.get_backend()
    relation = getattr(con, "_to_duckdb_relation", None)  # ibis 12's DuckDB backend: its query, tables registered
    if con.name != "duckdb" or relation is None:
        return expr.to_pyarrow()
    from ibis.backends.duckdb.converter import DuckDBPyArrowData
    table = relation(expr).to_arrow_table()
    schema = expr.schema()
    columns = [col if pa.types.is_dictionary(col.type) and schema[name].is_string() and name in KEYS
               else DuckDBPyArrowData.convert_column(col, schema[name])
               for name, col in zip(table.column_names, table.columns)]
    return pa.table(columns, names=table.column_names)


def give_back_memory() -> None:
    """Once a process has built its cube and will not build more for a while (a run's runner, whose workbooks run
    in their kernels): give the memory its build freed back to the system. This thread's DuckDB for the tables
    summed here (:func:`_local`) is closed (a new one opens when next needed), Arrow's pool lets go of what it
    keeps for reuse, and glibc's heap is trimmed. At 10M lines the runner kept 0.74 GB after its build, 0.42 GB
    after this."""
    con = getattr(_LOCAL, "con", None)
    if con is not None:
        _LOCAL.con = None
        con.disconnect()
    release_heap()


def median_gaps(days: pd.DataFrame) -> pd.Series:
    """Median days between consecutive purchase days, per client (NaN with one purchase day).

    ``days``: purchase days (``client_id``, ``date``) by client, then date, as client_day keeps them.
    """
    gaps = days.date.diff().dt.days.where(days.client_id.eq(days.client_id.shift()))
    return gaps.groupby(days.client_id, observed=True).median()


class _Engine:
    """Where a cube's tables are computed: its clean lines (:class:`~salesbook.data.load.Sales`) in their engine."""

    def __init__(self, sales: "Sales", owned: bool = False) -> None:
        #: the lines this engine computed or was given to own, whose engine copy :meth:`close` gives back
        self._owned = [sales] if owned else []
        self._use(sales)

    def _use(self, sales: "Sales") -> None:
        self.sales = sales
        self.lines = _prepared(sales.table)
        #: gives back the engine's copy of the orders (:meth:`hold_orders`); None while the tables read the lines
        self._drop_orders: "Callable[[], None] | None" = None
        #: the tables still to be computed from the orders the engine holds (:meth:`hold_orders`)
        self._orders_for: set[str] = set()
        self.expressions = _line_expressions(self.lines, sales.report.as_of)

    def hold(self) -> None:
        """Before many tables: the clean lines computed once, held by the engine (DuckDB: a temporary table in
        memory), when they are still an expression over the file. Each table's pass over the file (read,
        mapped, filtered) cost about as much again as the same pass over lines in memory (3 s of CPU at 10M
        lines against 3 s); computing them once costs about three such passes. Lines that are a plain scan of the
        file (:attr:`~salesbook.data.load.Sales.plain`: no text column needs its canonical expression) stay there:
        at 10M lines, holding them cost 3.5-4.9 s and saved 0.3-0.8 s a table, about 2 s more than it saved over the
        seven passes of a whole cube."""
        if self.sales.recipe and not self.sales.computed and not self.sales.plain:
            self.drop_orders()
            self._use(self.sales.materialize())
            self._owned.append(self.sales)

    def hold_orders(self, tables: "set[str]") -> None:
        """Before two or more of the tables summed from the orders (:data:`_ORDER_READERS`), ``tables``: each
        order's lines summed once in the engine (:func:`_orders`; DuckDB: a temporary table), those tables read from
        there, and the orders given back once the last of them is computed. At 10M lines (2M orders) computing them
        took 0.6-0.7 s in DuckDB, and the four tables 1.4-1.5 s from them against 3.0 s from the lines
        (hand-written SQL of the same queries). They take 0.19 GB in DuckDB's memory, so they are computed when the
        first of those tables is (:meth:`aggregate`), not before."""
        self._orders_for = set(tables)

    def _hold_orders(self) -> None:
        if self._drop_orders is not None:
            return
        from salesbook.data.load import engine_copy
        held, self._drop_orders = engine_copy(_orders(_line_rows(self.lines)), self.sales.con)
        self.expressions = _line_expressions(self.lines, self.sales.report.as_of, held)

    def drop_orders(self) -> None:
        """The tables summed from the orders are built: the engine's copy of them is given back."""
        self._orders_for = set()
        if self._drop_orders is not None:
            self._drop_orders()
            self._drop_orders = None
            self.expressions = _line_expressions(self.lines, self.sales.report.as_of)

    def close(self) -> None:
        """Every table is built: the engine's copies of the lines it owns are given back now (at 10M lines,
        1.4 GB of DuckDB's memory that a run held while its workbooks ran), not when Python collects them."""
        self.drop_orders()
        for sales in reversed(self._owned):  # the lines computed from the loaded ones first: the load's own
            sales.release()                   # connection, which they share, is closed last
        self._owned.clear()

    def aggregate(self, name: str) -> "pa.Table":
        if name in self._orders_for:
            self._hold_orders()
        result = engine_result(self.expressions[name]())
        self.computed(name)
        return result

    def computed(self, name: str) -> None:
        """``name`` is computed: after the last table that reads them, the orders are given back before the next."""
        self._orders_for.discard(name)
        if not self._orders_for:
            self.drop_orders()

    def ccm(self) -> "pa.Table":
        return engine_result(_ccm_expression(self.lines))


def _ccm_of(cube: Cube) -> "pa.Table":
    """The engine's whole client x category x month table: kept on the cube while a table that reads it is
    still to be built, and in the cache folder as ``client_category_month.parquet``."""
    held = cube.__dict__.get("_ccm")
    if held is None:
        path = None if cube.folder is None else cube.folder / "client_category_month.parquet"
        with _locked(cube.folder, "client_category_month"):
            if path is not None and path.exists():
                held = _plain(pq.read_table(path))
            else:  # its time is counted by the table whose build asked for it (Cube._make); typed and sorted
                held = _engine_ccm(cube)  # once, for the file and the cube's frame alike
                cube._frames["client_category_month"] = _ccm_frame(cube, held)
        cube.__dict__["_ccm"] = held
    return held


def _engine_ccm(cube: Cube) -> "pa.Table":
    """The engine's whole client x category x month table, computed now and held on the cube for the tables summed
    from it."""
    held = cube.__dict__["_ccm"] = cube.engine().ccm()
    cube.built.append("client_category_month")
    return held


def _ccm_frame(cube: Cube, held: "pa.Table") -> pd.DataFrame:
    """The engine's whole client x category x month table kept in the cache folder (the tables summed from it read
    it there), and its public columns as the cube's frame."""
    whole = _whole_ccm(held)
    _keep(cube.folder, "client_category_month", whole)
    return _public_of(whole)


def _build_ccm(cube: Cube) -> pd.DataFrame:
    """The cube's client x category x month: the frame :func:`_ccm_of` made as it computed the engine's table."""
    held = _ccm_of(cube)
    frame = cube._frames.get("client_category_month")
    return frame if frame is not None else _public_of(_whole_ccm(held))


def _has_ccm(cube: Cube) -> bool:
    return cube.__dict__.get("_ccm") is not None or cube._cached("client_category_month")


def _build_client_month(cube: Cube) -> pd.DataFrame:
    import ibis
    e = cube.engine()
    if _has_ccm(cube):  # the categories summed from client x category x month, as cube_expressions does
        cats = _from_ccm(ibis.memtable(_ccm_of(cube)))["categories"]
        return _frame(_local(ibis.memtable(e.aggregate("client_month")).join(cats, ["client_id", "month"])),
                      "client_month")
    # on its own: the categories bought counted in the same pass over the lines, the same count (a client
    # bought in a category in a month exactly when one of its lines there has a positive amount)
    table = engine_result(_client_month_with_categories(e.lines))
    e.computed("client_month")
    return _frame(table, "client_month")


def _build_from_ccm(name: str) -> "Callable[[Cube], pd.DataFrame]":
    def build(cube: Cube) -> pd.DataFrame:
        import ibis
        return _frame(_local(_from_ccm(ibis.memtable(_ccm_of(cube)))[name]), name)
    return build


def _line_stages(name: str) -> "tuple[Callable[[Cube], pa.Table], Callable[[Cube, pa.Table], pd.DataFrame]]":
    """A pass over the lines in two steps: the engine's aggregate, then its frame."""
    return (lambda cube: cube.engine().aggregate(name)), (lambda cube, table: _frame(table, name))


#: the tables that are a pass over the lines, each in two steps: the engine's work, then the frame made of its result
#: (:meth:`Cube.build` computes one in the engine while a thread makes the one before into its frame and writes it);
#: in the order :data:`_BUILD_ORDER` builds them
_STAGES: dict[str, "tuple[Callable[[Cube], Any], Callable[[Cube, Any], pd.DataFrame]]"] = {
    "client_category_month": (_engine_ccm, _ccm_frame),
    **{name: _line_stages(name) for name in ("client_product_window", "client_day", "manager_month",
                                             "client_manager_month")},
}


def _build_clients(cube: Cube) -> pd.DataFrame:
    clients = _frame(cube.engine().aggregate("clients"), "clients")
    days = cube.client_day
    # from client_day here rather than in the engine, which would aggregate the lines into days a second time
    gap = median_gaps(days[days.orders > 0])
    clients["median_gap_days"] = gap.set_axis(gap.index.astype(str)).reindex(
        clients.client_id.astype(str)).to_numpy(dtype="float64")
    return clients


_BUILDERS: dict[str, "Callable[[Cube], pd.DataFrame]"] = {
    "client_month": _build_client_month,
    "client_category_month": _build_ccm,
    "client_category": _build_from_ccm("client_category"),
    "category_month": _build_from_ccm("category_month"),
    "clients": _build_clients,
    **{name: (lambda cube, stages=stages: stages[1](cube, stages[0](cube))) for name, stages in _STAGES.items()
       if name != "client_category_month"},
}


def build_cube(sales: Sales) -> Cube:
    """A :class:`Cube` over clean sales lines: each table aggregated in the engine when first asked for
    (``build_cube(sales).build()`` aggregates every table now)."""
    meta = {"salesbook": __version__, "cube_version": CUBE_VERSION, "source": sales.report.source}
    return Cube(report=sales.report, meta=meta, sales=sales)


# --------------------------------------------------------------------------- one table at a time in the cache


def _write_parquet(data: "pd.DataFrame | pa.Table", path: Path) -> None:
    """``data`` written whole beside ``path``, then moved into place: a reader (in any process) sees the whole
    file or none; two processes writing the same table each move a whole file, the same."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".parquet", dir=path.parent)
    os.close(fd)
    try:
        if isinstance(data, pd.DataFrame):
            data.to_parquet(tmp, index=False)
        else:
            pq.write_table(data, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _keep(folder: Path | None, name: str, data: "pd.DataFrame | pa.Table") -> None:
    """Table ``name`` into the cache entry ``folder``; a cache that cannot be written only costs time."""
    if folder is None:
        return
    try:
        _write_parquet(data, folder / f"{name}.parquet")
    except OSError:
        pass


def _write_entry(folder: Path, report: LoadReport, meta: dict[str, Any]) -> None:
    (folder / "report.json").write_text(report.to_json(), encoding="utf-8")
    kept = {k: v for k, v in meta.items() if k != "seconds"}  # of one process's build, not of the cache
    (folder / "meta.json").write_text(json.dumps(kept, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


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


def _cache_key(source: Any, mapping: ColumnMapping, as_of: Any, options: dict[str, Any],
               run_cache: bool = False) -> str | None:
    if not isinstance(source, (str, os.PathLike)):
        return None
    from salesbook.data.engines import is_engine_source, is_engine_table, source_path
    engine = str(source).split(":", 1)[0] if is_engine_source(source) else "duckdb"
    if is_engine_table(source):  # no file to watch: kept under its name in one run's own cache only
        if not run_cache:
            return None
        where, digest = str(source), "table read by this run"
    else:  # spark:<file> is keyed by its file, as any file
        path = source_path(str(source)) if is_engine_source(source) else paths.resolve_source(source)
        if not path.exists():
            return None
        # the content, not its size and modification time: a file replaced by another of the same size with the
        # same mtime (cp -p, rsync, some export jobs) must never be served from the old cube
        where, digest = str(path), content_digest(path)
    ident = {"path": where, "engine": engine, "content": digest,
             "mapping": {"columns": mapping.columns, "read": mapping.read,
                         **({"guessed": list(mapping.guessed)} if mapping.guessed else {})}, "as_of": str(as_of),
             "options": {k: str(v) for k, v in sorted(options.items())},
             "version": __version__, "cube": CUBE_VERSION}
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:16]


def get_cube(source: Any = "sample", mapping: Any = None, as_of: "str | date | None" = None, *,
             cache: bool = True, cache_dir: Path | None = None, tables: "bool | tuple[str, ...]" = (),
             run_cache: bool = False, **load_options: Any) -> Cube:
    """Load and validate ``source`` once, and give its cube, whose tables are aggregated when first asked for;
    later calls, in this process or another, read the cached load report and each table already built.

    The cache key is the file (its path and a SHA-256 digest of its content), the mapping,
    ``as_of``, the load options and the salesbook version, so a changed file
    or option is never served from an old cache. A table in another engine (``spark:erp.sales``,
    ``postgres://...#lines``) has no content to digest cheaply: it is never cached, each call reads
    the engine; except in a run's own cache (``run_cache``, or ``SALESBOOK_RUN_CACHE=1`` as a run sets for its
    kernels: :attr:`salesbook.paths.Setup.run_cache`), where it is kept under its name, so that the run reads it
    once and its kernels read that cube. ``cache=False`` never reads nor writes the cache. ``as_of`` may be ``None`` or
    ``""`` for the last date in the data. ``tables``: the tables to build now (``True``: every table, as a
    run does): with three passes over the lines or more to make, a file's clean lines are computed once, in
    the engine, and every table reads them there.

    The cache entry (``<cache>/cubes/<key>/``) holds the load report and how to read the clean lines again
    (``lines.json``: what the checks decided), then each table as one Parquet file, written whole when it is
    first built (:class:`Cube`). A process that reads an entry and asks for a table nobody built yet builds it
    from the source's clean lines, read again as the load left them, without checking them again.
    """
    as_of = as_of or None
    m = load_mapping(mapping)
    run_cache = run_cache or paths.current().run_cache
    key = _cache_key(source, m, as_of, load_options, run_cache) if cache else None
    root = Path(cache_dir or paths.CACHE_DIR) / "cubes"

    def reopen() -> "Sales":
        """The clean lines again, for a table this process must build from a cached entry: as the load left
        them (its recipe, kept in the entry), else loaded again (a source whose lines were computed ahead)."""
        from salesbook.data.load import load_sales
        recipe = root / key / LINES_FILE if key else None
        if recipe is not None and recipe.exists():
            replay = json.loads(recipe.read_text(encoding="utf-8"))
            return load_sales(source, m, as_of=as_of, columns=COLUMNS, replay=replay, **load_options)
        return load_sales(source, m, as_of=as_of, stage=True, columns=COLUMNS, **load_options)

    wanted = list(_BUILD_ORDER) if tables is True else [n for n in _BUILD_ORDER if n in (tables or ())]
    if key and (root / key / "meta.json").exists():
        return Cube.load(root / key, reopen).build(*wanted) if wanted else Cube.load(root / key, reopen)
    from salesbook.data.load import load_sales
    t0 = time.perf_counter()
    # the clean lines, with the columns the cube reads: a Parquet file read by DuckDB stays where it is (each
    # table reads it, filtered as the load decided: its duplicates found by a hash of each line), and when many
    # tables are wanted at once Cube.build computes the lines that passed once in the engine (_Engine.hold);
    # other sources are computed once, in the engine. Each table is aggregated from them when first asked for.
    # (Computing the distinct lines in the load instead, for a run's nine tables, took longer by the clock at
    # 10M lines, 18.2-18.9 s against 16.6-17.8 s, and held every line in the hash table of its DISTINCT: 2.8 GB.)
    sales = load_sales(source, m, as_of=as_of, stage=True, columns=COLUMNS, in_place=True,
                       coded=len(_passes(wanted)) >= HOLD_FROM, **load_options)
    meta = {"salesbook": __version__, "cube_version": CUBE_VERSION, "source": sales.report.source}
    seconds = {"load": round(time.perf_counter() - t0, 2), "cube": 0.0}
    if not key:
        cube = Cube(report=sales.report, meta={**meta, "seconds": seconds}, sales=sales, owned=True)
        return cube.build(*wanted) if wanted else cube
    root.mkdir(parents=True, exist_ok=True)
    target = root / key
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
    try:
        _write_entry(tmp, sales.report, meta)
        if sales.recipe:
            (tmp / LINES_FILE).write_text(json.dumps(sales.recipe), encoding="utf-8")
        # atomic: the entry appears whole (its load report) or not at all. Two runs that loaded the same source
        # at once: the second rename fails on the first one's folder (same key, same content) and its copy is
        # dropped; an entry is never removed while another process may be reading it
        os.replace(tmp, target)
    except OSError:  # already there, or a cache that cannot be written: only costs time
        shutil.rmtree(tmp, ignore_errors=True)
    folder = target if (target / "meta.json").exists() else None
    # the seconds of this process's load and tables: not in the cache, so a cached cube carries none
    cube = Cube(report=sales.report, meta={**meta, "seconds": seconds}, folder=folder, sales=sales, reopen=reopen,
                owned=True)
    return cube.build(*wanted) if wanted else cube
