"""The revenue walk: from last year's 12 months to this year's, step by step, in money.

The walk starts from the revenue of the 12 months before the window (``before``) and ends at the
revenue of the 12 months to ``as_of`` (``after``), the windows of the revenue bridge
(:func:`salesbook.analysis.stagnation.revenue_bridge`, :func:`salesbook.cube.profile.windows`). Each
step is money, counted in whole cents, and the steps add up to ``after - before`` to the cent.

Client flow (the bridge's parts, not redefined here)
    ``new``, ``reactivated`` and ``lost`` clients: the bridge's own clients and sums. The bridge's
    ``growth`` and ``decline`` clients are the **retained** clients; their change is split below.

Retained clients, per line (a line is one client's purchases of one product, in one category)
    Gross sales (lines with a positive amount) and returns (negative lines) are kept apart: the
    steps below split the change of gross sales, and ``returns`` is the change of the money returned.

    * **continuing lines** (units bought in both windows): unit price ``p = sales / units`` in each
      window; with ``q`` the units,

      - ``price``  = (p1 - p0) x q1            (the price change, at **this** year's units);
      - ``volume`` = (q1 - q0) x P0            (the change of units, at the **group's** last-year
        average price ``P0``; the group is the client's category: units of one category are counted
        together, as units of different categories cannot be added);
      - ``mix``    = (q1 - q0) x (p0 - P0)     (the residual between the product-level volume effect
        at last year's product prices, (q1 - q0) x p0, and the category-level one: units moved
        towards dearer (+) or cheaper (-) products of the category).

      price + volume + mix = p1 q1 - p0 q0, exactly.
    * ``new_products``: products the client bought this year and not last year (all their sales);
    * ``discontinued``: products the client bought last year and not this year (minus all their sales);
    * ``no_units``: a line sold in both years without units in one of them (no price can be read);
    * ``returns``: returns this year minus returns last year (a negative value: more came back);
    * ``rounding``: the cents by which a client's lines differ from the bridge's sum for that client,
      when the source's amounts carry fractions of a cent (zero on amounts in whole cents).

The order effects (the convention chosen): the price effect is valued at this year's units and the
volume effect at last year's prices (Laspeyres volume, Paasche price). The other order (price at last
year's units, volume at this year's prices) moves the cross term (p1 - p0) x (q1 - q0) from price to
volume: a line whose price fell 10 % while its units doubled shows a larger price loss here than there.
Mix is read within a category; without a category the group is the client's whole basket.

Without ``product_id`` or ``quantity`` in the data the walk stops at client flow: the retained clients'
change is one step, ``retained``, and :attr:`Walk.unknown` says why. Without both windows fully covered
by the data there is no walk (the bridge's own rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np
import pandas as pd

from salesbook.cube import Cube
from salesbook.cube.build import text_codes, text_of
from salesbook.cube.memo import per_cube
from salesbook.i18n import t

__all__ = ["FLOW", "SPLIT", "STEPS", "WalkRules", "WALK", "Walk", "revenue_walk", "split_lines", "walk_frame", "walk_by",
           "contributors", "largest_negative", "causes", "ASSORTMENT", "price_story", "walk_sentences", "step_sentence", "memo_lines"]

#: the client-flow steps (the bridge's parts)
FLOW = ("new", "reactivated", "lost")
#: the steps of the retained clients' change, in the walk's order
SPLIT = ("price", "volume", "mix", "new_products", "discontinued", "no_units", "returns", "rounding")
#: every step, in the walk's order (``retained`` replaces the split when the data have no units)
STEPS = (*FLOW, "retained", *SPLIT)
#: the two steps of a retained client's assortment, netted when the largest fall is named: products begun and
#: products stopped are two sides of one turnover of the assortment (in the sample, 0.76 bn against 0.72 bn)
ASSORTMENT = ("new_products", "discontinued")


def causes(steps: pd.Series) -> pd.Series:
    """The steps as candidate causes: ``new_products`` and ``discontinued`` netted into ``assortment``."""
    if not all(s in steps.index for s in ASSORTMENT):
        return steps
    out = steps.drop(list(ASSORTMENT))
    out["assortment"] = steps[list(ASSORTMENT)].sum()
    return out


@dataclass(frozen=True)
class WalkRules:
    """The walk's thresholds (every one a parameter)."""

    #: biggest contributors listed under each step
    walk_top: int = 10
    #: continuing lines needed before a sentence says on what share of them the price fell
    walk_min_lines: int = 20
    #: a step is named in a sentence when it is at least this share of last year's revenue
    walk_material: float = 0.005


WALK = WalkRules()


@dataclass
class Walk:
    """A revenue walk (see the module's docstring).

    ``steps``: money by step (only the steps that apply: the split, or ``retained`` without units);
    ``lines``: one row per client x product x category line of the two windows (plus a ``rounding``
    line per client where needed) with ``client_id``, ``client_name``, ``manager``, ``product_id``,
    ``category``, ``part`` (the bridge's; these six text columns coded, :data:`TEXT`), ``before``, ``after``
    (net revenue), ``p0``, ``p1`` (unit prices of continuing lines, else NaN) and one money column per step;
    ``unknown``: the reason the retained change is not split (a message key), or the reason there is no walk at
    all (``bridge``).
    """

    #: one walk per process for every caller of the cube's memo (:mod:`salesbook.cube.memo`): nobody changes a
    #: walk; what a view computes from its lines is kept with it (:meth:`derived`)
    memo_shared: ClassVar[bool] = True

    before: float
    after: float
    steps: pd.Series
    lines: pd.DataFrame
    later: tuple[pd.Timestamp, pd.Timestamp]
    earlier: tuple[pd.Timestamp, pd.Timestamp]
    split: bool
    unknown: str | None = None
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def change(self) -> float:
        return self.after - self.before

    def derived(self, name: str, make: "Callable[[], Any]") -> Any:
        """``make()`` computed once per walk and kept with it (not pickled): what several views read from the
        lines (their money in cents, their clients coded), computed from millions of lines once."""
        kept = self.__dict__.setdefault("_derived", {})
        if name not in kept:
            kept[name] = make()
        return kept[name]

    def __getstate__(self) -> dict[str, Any]:
        """Pickled compactly (the cube's memo keeps a walk for every process of a run): each money column as
        its rows that are not zero (most lines have two or three steps of the eleven). At 10M lines the
        walk's 3.2M lines took 658 MB, written twice (the walk and the diagnosis that holds it).
        :meth:`__setstate__` gives the same frame back, exactly."""
        state = dict(self.__dict__)
        state.pop("_derived", None)
        state["lines"] = _pack(self.lines)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        state["lines"] = _unpack(state["lines"])
        self.__dict__.update(state)


def _pack(frame: pd.DataFrame) -> dict[str, Any]:
    """``frame`` as columns that pickle small: a float column mostly of zeros as the positions and values of its rows
    that are not zero (a zero's sign kept), the rest as they are (the text columns are coded already: their codes
    and texts)."""
    cols: dict[str, Any] = {}
    for name in frame.columns:
        col = frame[name]
        v = col.to_numpy() if col.dtype == "float64" else None
        at = np.flatnonzero((v != 0) | np.isnan(v) | np.signbit(v)) if v is not None else None
        if at is not None and len(at) < len(v) / 3:  # a position and a value take 12 bytes, a dense value 8
            cols[name] = ("sparse", len(v), at.astype("int32" if len(v) < 2 ** 31 else "int64"), v[at])
        else:
            cols[name] = ("plain", col)
    return {"index": frame.index, "columns": cols}


def _unpack(packed: dict[str, Any]) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for name, (kind, *rest) in packed["columns"].items():
        if kind == "sparse":
            n, at, v = rest
            data[name] = np.zeros(n, dtype="float64")
            data[name][at] = v
        else:
            data[name] = rest[0]
    return pd.DataFrame(data, index=packed["index"], copy=False)


def _sum_by(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """``values`` summed by ``index`` (0 to ``n`` - 1), in their type, in the order they come (``np.add.at``:
    whole cents exactly; numpy 2's is as fast as ``np.bincount`` here, which would sum cents as floats)."""
    total = np.zeros(n, dtype=values.dtype)
    if len(index) > 1 and (index[1:] > index[:-1]).all():  # each index once, in order (one period of a window
        total[index] = values                                  # kept sorted): placed, not added (0.3 s at 10M)
        total += 0  # as a sum from zero: -0.0 becomes 0.0
    else:
        np.add.at(total, index, values)
    return total


def _cents(x: Any) -> np.ndarray:
    return np.rint(np.asarray(x, dtype="float64") * 100).astype("int64")


def _empty(cube: Cube, later: Any, earlier: Any, why: str) -> Walk:
    return Walk(0.0, 0.0, pd.Series(dtype="float64"), pd.DataFrame(columns=["client_id", *STEPS]), later, earlier,
                False, unknown=why)


@per_cube
def revenue_walk(cube: Cube) -> Walk:
    """The walk from the 12 months before the window to the 12 months to ``as_of`` (see the module)."""
    from salesbook.analysis.stagnation import bridge_windows, revenue_bridge
    from salesbook.cube.build import WALK_MONTHS
    later, earlier = bridge_windows(cube.as_of, WALK_MONTHS)
    if cube.profile.lacks("bridge") is not None:
        return _empty(cube, later, earlier, "bridge")
    parts, detail = revenue_bridge(cube, later, earlier)
    split = "product_id" in cube.has and "quantity" in cube.has
    unknown = None if split else ("walk.unknown.product" if "product_id" not in cube.has else "walk.unknown.quantity")
    lines = _lines(cube, detail, split)
    cols = [s for s in STEPS if s in lines.columns]
    totals = lines[cols].sum().astype("int64")
    steps = (totals / 100).reindex([s for s in STEPS if s in cols])
    # steps that only sometimes apply are shown when they move (returns, lines without units, sub-cent amounts)
    steps = steps.drop([s for s in ("no_units", "rounding", "returns") if s in steps.index and totals[s] == 0])
    before, after = int(_cents(detail.before).sum()), int(_cents(detail.after).sum())
    for col in cols:
        lines[col] = lines[col] / 100
    return Walk(before / 100, after / 100, steps, lines, later, earlier, split, unknown)


def _lines(cube: Cube, detail: pd.DataFrame, split: bool) -> pd.DataFrame:
    """Each line's steps in whole cents (int64), reconciled with the bridge's clients to the cent."""
    part = detail.part.where(~detail.part.isin(["growth", "decline"]), "retained")
    out, client, clients, groups = _two_windows(cube.client_product_window)
    # per client first (thousands), then taken by each line's client (millions): no text compared per line
    out["part"] = _each(part.reindex(clients), client)
    out = split_lines(out, split, groups, copy=False)  # a frame of its own, made just above
    change = (out.after - out.before).to_numpy()
    # the bridge's clients, to the cent: what a client's lines miss (sub-cent amounts) is its rounding
    bridge = pd.Series(_cents(detail.after) - _cents(detail.before), index=detail.index.astype(str))
    mine = _sum_by(client, change.astype("int64"), len(clients))
    gap = bridge.sub(pd.Series(mine, index=clients).reindex(bridge.index).fillna(0).astype("int64"))
    gap = gap[gap != 0]
    known = cube.clients.set_index(cube.clients.client_id.astype(str))
    out["client_name"] = _each(known.client_name.reindex(clients), client)
    out["manager"] = _each(known.manager.astype(object).reindex(clients), client)
    if len(gap):
        extra = pd.DataFrame({"client_id": gap.index, "product_id": "—", "category": "—", "before": 0, "after": 0,
                              "part": part.reindex(gap.index).to_numpy(),
                              "client_name": known.client_name.reindex(gap.index).to_numpy(),
                              "manager": known.manager.astype(object).reindex(gap.index).to_numpy()})
        out = _appended(out, extra)
    steps = [s for s in STEPS if s in out.columns]
    out[steps] = out[steps].fillna(0).astype("int64")
    out["rounding"] = 0
    if len(gap):
        out.loc[out.index[-len(gap):], "rounding"] = gap.to_numpy()
    keep = ["client_id", "client_name", "manager", "product_id", "category", "part", "before", "after", "p0", "p1",
            *[s for s in STEPS if s in out.columns]]
    out = out[keep]
    out[["before", "after"]] = out[["before", "after"]].astype("int64") / 100
    return out


#: the walk's text columns, each a categorical of its texts sorted (a missing value missing): at 10M lines its 3.2M
#: lines held 660 MB as text and 410 MB coded, took 0.6 s to pickle and 0.35 s to read back as text (0.1 and
#: 0.02 s coded), and each filter copied every text
TEXT = ("client_id", "client_name", "manager", "product_id", "category", "part")


def _coded(codes: np.ndarray, texts: Any) -> pd.Categorical:
    """A text column as codes into ``texts`` (distinct, sorted), as the walk keeps its text columns (:data:`TEXT`)."""
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(pd.Index(texts, dtype="str")))


def _each(per_client: pd.Series, client: np.ndarray) -> pd.Categorical:
    """A value per client taken for each line (``client`` numbers the lines' clients in ``per_client``'s order),
    coded (:data:`TEXT`) over the clients: thousands of texts, not millions."""
    codes, texts = pd.factorize(per_client.to_numpy(dtype=object), sort=True)
    return _coded(codes[client], texts)


def _appended(out: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    """``extra``'s rows after ``out``'s, each text column (:data:`TEXT`) still coded, over the texts of both."""
    texts = {c: sorted(set(out[c].cat.categories) | set(extra[c].dropna())) for c in TEXT}
    for c, cats in texts.items():
        dtype = pd.CategoricalDtype(pd.Index(cats, dtype="str"))
        out[c], extra[c] = out[c].cat.set_categories(dtype.categories), pd.Categorical(extra[c], dtype=dtype)
    return pd.concat([out, extra], ignore_index=True)


def _sorted_codes(col: pd.Series, missing: str | None) -> tuple[np.ndarray, pd.Index]:
    """Each value's position among the column's distinct texts sorted (missing values as ``missing``), and those
    texts. A categorical column is coded through its categories (thousands), not its values (millions)."""
    coded = text_codes(col, missing)
    if coded is None:
        at, texts = pd.factorize(text_of(col, missing), sort=True)
        return at.astype("int64"), texts
    codes, cats = coded
    at, texts = pd.factorize(cats, sort=True)  # two categories may have one text ("—" and a missing value)
    return at[codes].astype("int64"), texts


def _two_windows(w: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, pd.Index, np.ndarray]:
    """``client_product_window`` as one row per line (client, product, category; in that order of their texts,
    a missing product or category as "—") with its gross sales, units and returns in each window (``sales_before``,
    ``sales_after``, ...; sales and returns in whole cents, zeros where the line has none), each row's client as a
    code, the distinct clients those codes number, and each row's client and category as one code. The pivot of
    the periods by integer codes: pandas' ``pivot_table`` grouped the millions of lines by their text (most of the
    walk's time at 10M lines)."""
    parts = [_sorted_codes(w[c], m) for c, m in (("client_id", None), ("product_id", "—"), ("category", "—"))]
    if float(np.prod([float(len(texts)) for _, texts in parts])) >= 2.0 ** 62:  # never in practice
        raise OverflowError("too many distinct clients x products x categories to number in 64 bits")
    key = np.zeros(len(w), dtype="int64")
    for codes, texts in parts:
        key = key * len(texts) + codes
    _, first, row = np.unique(key, return_index=True, return_inverse=True)
    out = pd.DataFrame({c: _coded(codes[first], texts) for c, (codes, texts) in
                        zip(("client_id", "product_id", "category"), parts)})
    values = {"sales": _cents(w.sales), "units": np.nan_to_num(w.units.to_numpy(dtype="float64")),
              "returns": _cents(w.returns)}
    at = {p: (w.period == p).to_numpy() for p in ("before", "after")}  # a categorical compares its codes
    for name, v in values.items():
        for p in ("before", "after"):
            out[f"{name}_{p}"] = _sum_by(row[at[p]], v[at[p]], len(first))
    client, category = parts[0][0][first], parts[2][0][first]
    return out, client, parts[0][1], client * len(parts[2][1]) + category


def split_lines(out: pd.DataFrame, split: bool = True, groups: np.ndarray | None = None,
                copy: bool = True) -> pd.DataFrame:
    """Each line's steps in whole cents (int64 columns, one per step), from its two windows.

    ``out``: one row per line with ``client_id``, ``category``, ``part`` (``new``, ``reactivated``,
    ``lost``, ``retained``), ``sales_before``, ``sales_after``, ``returns_before``, ``returns_after``
    (whole cents) and ``units_before``, ``units_after``. Adds ``before``, ``after`` (net, cents),
    ``p0``, ``p1`` (money a unit on continuing lines, else NaN) and the steps; on every row the steps
    add up to ``after - before`` exactly (``mix`` takes the cents the other two round away).
    ``groups``: each row's client and category as one integer, when the caller has them (else read from the text).
    ``copy=False``: the columns are added to ``out`` itself (a caller's own frame: at 10M lines, a copy of 3.5M
    lines).
    """
    if copy:
        out = out.copy()
    s0, s1 = out.sales_before.astype("int64").to_numpy(), out.sales_after.astype("int64").to_numpy()
    r0, r1 = out.returns_before.astype("int64").to_numpy(), out.returns_after.astype("int64").to_numpy()
    q0, q1 = out.units_before.to_numpy(dtype="float64"), out.units_after.to_numpy(dtype="float64")
    out["before"], out["after"] = s0 + r0, s1 + r1
    change = (s1 + r1) - (s0 + r0)
    retained = (out.part == "retained").to_numpy()
    for p in FLOW:
        out[p] = np.where((out.part == p).to_numpy(), change, 0)
    out["p0"] = out["p1"] = np.nan
    if not split:
        out["retained"] = np.where(retained, change, 0)
    else:
        b0, b1 = s0 > 0, s1 > 0
        cont = retained & b0 & b1 & (q0 > 0) & (q1 > 0)
        p0 = np.where(cont, s0 / np.where(q0 > 0, q0, 1), np.nan)  # cents a unit
        p1 = np.where(cont, s1 / np.where(q1 > 0, q1, 1), np.nan)
        # the group's last-year average price: the client's category, over its continuing lines
        if groups is None:
            groups = pd.MultiIndex.from_arrays([out.client_id, out.category]).factorize()[0]
        g, uniques = pd.factorize(groups)
        sum_s0 = _sum_by(g, np.where(cont, s0, 0), len(uniques))[g]
        sum_q0 = np.bincount(g, weights=np.where(cont, q0, 0.0), minlength=len(uniques))[g]
        pg0 = np.where(cont, sum_s0 / np.where(sum_q0 > 0, sum_q0, 1), np.nan)
        price = np.where(cont, np.rint(s1 - np.nan_to_num(p0) * q1), 0).astype("int64")
        volume = np.where(cont, np.rint((q1 - q0) * np.nan_to_num(pg0)), 0).astype("int64")
        out["price"], out["volume"] = price, volume
        out["mix"] = np.where(cont, (s1 - s0) - price - volume, 0)
        out["new_products"] = np.where(retained & ~b0 & b1, s1 - s0, 0)
        out["discontinued"] = np.where(retained & b0 & ~b1, s1 - s0, 0)
        out["no_units"] = np.where(retained & b0 & b1 & ~cont, s1 - s0, 0)
        out["returns"] = np.where(retained, r1 - r0, 0)
        out["p0"], out["p1"] = p0 / 100, p1 / 100
    return out


def walk_frame(walk: Walk) -> pd.DataFrame:
    """The walk as rows: ``step`` (``before``, each step, ``after``) and ``amount``; the steps add up."""
    rows = [("before", walk.before), *walk.steps.items(), ("after", walk.after)]
    return pd.DataFrame(rows, columns=["step", "amount"])


def walk_by(cube: Cube, walk: Walk, by: str, lang: str = "en") -> pd.DataFrame:
    """The walk of each manager, category or client segment (``by``: ``manager``, ``category``, ``segment``).

    One row per group: ``before``, ``after``, ``change`` and one column per step of ``walk.steps``
    (they add up to ``change`` in each row), ``worst`` (the group's most negative step) and
    ``worst_amount``; sorted by ``worst_amount``, the largest fall first. A client belongs to its latest
    manager and to its segment at ``as_of``; a line to its product's category.
    """
    lines = walk.lines
    steps = list(walk.steps.index)
    if by == "segment":
        from salesbook.analysis.segments import segment
        classes = segment(cube, cube.as_of, lang=lang).classes
        cat = classes.category.astype(str)
        cat.index = cat.index.astype(str)
        codes, clients = walk.derived("clients", lambda: text_codes(lines.client_id) or pd.factorize(lines.client_id))
        key = cat.reindex(clients).fillna("—").to_numpy()[codes]  # per client, then taken by each line's
    elif by == "manager":
        from salesbook.analysis.segments import NO_MANAGER
        key = text_of(lines.manager, NO_MANAGER)
    elif by == "category":
        key = text_of(lines.category)
    else:
        raise ValueError(f"walk_by: by must be manager, category or segment, not {by!r}")
    codes, groups = pd.factorize(key, sort=True)
    cols = ["before", "after", *steps]
    g = pd.DataFrame(_sums_in_cents(lines, cols, codes, len(groups)), index=pd.Index(groups), columns=cols)
    g["change"] = g["after"] - g["before"]
    out = g[["before", "after", "change", *steps]] / 100
    vals = out[steps].copy()
    if all(s in steps for s in ASSORTMENT):
        vals = vals.drop(columns=list(ASSORTMENT)).assign(assortment=out[list(ASSORTMENT)].sum(axis=1))
    out["worst"] = vals.idxmin(axis=1) if steps else ""
    out["worst_amount"] = vals.min(axis=1) if steps else 0.0
    return out.rename_axis(by).sort_values("worst_amount", kind="stable")


def _sums_in_cents(lines: pd.DataFrame, cols: list[str], codes: np.ndarray, n: int) -> np.ndarray:
    """Each money column ``cols`` of ``lines`` in whole cents, summed by ``codes`` (0 to ``n`` - 1): one column at a
    time through one buffer, never the lines' cents all at once (a block of them, kept on the walk for each grouping,
    held 0.36 GB at 10M lines in workbook 03's kernel for the rest of its run: its peak was there, 1.65 GB). The cents
    are summed as floats, exactly: every partial sum is a whole number below 2**52 (else as integers,
    :func:`_sum_by`). At 10M lines: 0.2-0.25 s a grouping, against 0.45 s for the block and 0.1 s a grouping."""
    keep = codes >= 0  # a missing key (none in practice) is left out, as a group-by leaves it
    every = bool(keep.all())
    out = np.empty((n, len(cols)), dtype="int64")
    buffer = np.empty(len(lines), dtype="float64")
    for j, c in enumerate(cols):
        np.multiply(lines[c].to_numpy(dtype="float64"), 100, out=buffer)
        np.rint(buffer, out=buffer)
        at, cents = (codes, buffer) if every else (codes[keep], buffer[keep])
        if np.abs(cents).sum() < 2.0 ** 52:
            out[:, j] = np.bincount(at, weights=cents, minlength=n)
        else:
            out[:, j] = _sum_by(at, cents.astype("int64"), n)
    return out


def contributors(walk: Walk, step: str, top: int | None = None) -> pd.DataFrame:
    """The clients behind ``step``: one row per client, its amount in that step, the biggest in the step's
    direction first (the largest falls for a negative step), at most ``top`` (``None``: all).

    Columns: client_id, client_name, manager, amount, lines (its lines in the step), share (of the step)."""
    lines = walk.lines
    if step == "assortment":
        lines = lines.assign(assortment=lines[list(ASSORTMENT)].sum(axis=1))
    lines = lines[lines[step] != 0]
    g = lines.groupby("client_id", sort=False).agg(client_name=("client_name", "first"),
                                                   manager=("manager", "first"), amount=(step, "sum"),
                                                   lines=(step, "size"))
    total = float(causes(walk.steps).get(step, 0.0))
    g = g.sort_values("amount", ascending=total < 0, kind="stable")
    g["share"] = g.amount / total if total else np.nan
    g = g.reset_index()
    return g if top is None else g.head(top)


def largest_negative(walk: Walk) -> str | None:
    """The step that took the most money away (None: no step is negative); new and discontinued products
    count as one, ``assortment`` (:func:`causes`)."""
    c = causes(walk.steps)
    neg = c[c < 0]
    return None if neg.empty else str(neg.idxmin())


def price_story(walk: Walk) -> dict[str, Any]:
    """On how many of the retained clients' continuing lines the unit price fell, and the money it cost.

    ``lines`` (continuing lines), ``fell`` (of them, price down), ``share``, ``money`` (the price
    effect of those lines, <= 0) and ``net`` (the whole price step)."""
    if not walk.split:
        return {"lines": 0, "fell": 0, "share": np.nan, "money": 0.0, "net": 0.0}
    cont = walk.lines[walk.lines.p0.notna()]
    down = cont[cont.p1 < cont.p0 - 1e-9]
    return {"lines": int(len(cont)), "fell": int(len(down)), "share": len(down) / len(cont) if len(cont) else np.nan,
            "money": float(down.price.sum()), "net": float(walk.steps.get("price", 0.0))}


def _period(walk: Walk) -> dict[str, str]:
    return {"start": str(walk.later[0].date()), "end": str(walk.later[1].date()),
            "start0": str(walk.earlier[0].date()), "end0": str(walk.earlier[1].date())}


def step_sentence(walk: Walk, step: str, lang: str = "en", rules: WalkRules = WALK, largest: bool = False) -> str:
    """One step in a sentence, with its money, period and base (``largest``: said as the largest fall)."""
    from salesbook.formats import fmt_money, fmt_pct
    amount = float(causes(walk.steps).get(step, walk.steps.get(step, 0.0)))
    base = walk.before
    values = dict(_period(walk), amount=fmt_money(amount, lang), step=t(f"walk.step.{step}", lang),
                  share=fmt_pct(amount / base, lang, signed=True) if base else "–",
                  before=fmt_money(base, lang))
    if step == "assortment":  # the turnover of the assortment: both sides and the net
        return t("walk.say.assortment", lang, **values, new=fmt_money(float(walk.steps["new_products"]), lang),
                 stopped=fmt_money(float(walk.steps["discontinued"]), lang))
    if step == "price":
        story = price_story(walk)
        if story["lines"] >= rules.walk_min_lines:
            return t("walk.say.price", lang, **values, fell=fmt_pct(story["share"], lang, decimals=0),
                     lines=story["lines"], money=fmt_money(story["money"], lang))
    return t("walk.say.largest" if largest else "walk.say.step", lang, **values)


def walk_sentences(walk: Walk, lang: str = "en", rules: WalkRules = WALK) -> list[str]:
    """The walk in sentences: the change with its period and base, the largest negative step (named only
    when material), and what the walk cannot split and why."""
    from salesbook.formats import fmt_money, fmt_pct
    if walk.unknown == "bridge":
        return [t("walk.cannot_tell", lang, **_period(walk))]
    out = [t("walk.say.total", lang, **_period(walk), before=fmt_money(walk.before, lang),
             after=fmt_money(walk.after, lang), change=fmt_money(walk.change, lang),
             pct=fmt_pct(walk.change / walk.before, lang, signed=True) if walk.before else "–")]
    worst = largest_negative(walk)
    if worst is not None and abs(causes(walk.steps)[worst]) >= rules.walk_material * max(walk.before, 1.0):
        out.append(step_sentence(walk, worst, lang, rules, largest=True))
    if not walk.split and walk.unknown:
        out.append(t(walk.unknown, lang))
    return out


def memo_lines(walk: Walk, lang: str = "en", rules: WalkRules = WALK) -> list[str]:
    """The walk's findings for the memo: when retained clients' revenue fell on price (by at least
    ``rules.walk_material`` of last year's revenue), that sentence with its money and what to check; and the
    largest fall, when it is another step and material."""
    if walk.steps.empty:
        return []
    out = []
    base = max(walk.before, 1.0)
    price = float(walk.steps.get("price", 0.0))
    if price < 0 and abs(price) >= rules.walk_material * base:
        out.append(step_sentence(walk, "price", lang, rules) + " " + t("walk.memo.price", lang))
    worst = largest_negative(walk)
    if worst is not None and worst != "price" and abs(causes(walk.steps)[worst]) >= rules.walk_material * base:
        out.append(step_sentence(walk, worst, lang, rules, largest=True))
    return out
