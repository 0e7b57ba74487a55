"""Segmentation: ABC/XYZ, RFM, the nine client categories, migration, reactivation lists.

Every function takes the cube and an analysis date and reads only the cube's
aggregates. Months are calendar months; "the last 12 months" at ``as_of`` are
the month of ``as_of`` and the 11 before it. A client is *active* in a month
when it placed at least one order in it (returns alone do not count).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from salesbook.cube import Cube, median_gaps
from salesbook.i18n import t
from salesbook.cube.memo import per_cube

__all__ = ["NO_MANAGER", "ABSENT", "Move", "catalogue_keys", "window_start", "Rules", "CATEGORIES", "TARGET_CATEGORIES", "client_features", "features_at", "abc_xyz", "abc_matrix", "rfm",
           "RFM_SEGMENTS", "classify_clients", "category_summary", "migration", "reactivation_list",
           "reactivation_view", "reactivation_summary", "Segmentation", "segment",
           "explained", "moves_view", "history_note", "migration_lacks"]

#: the nine categories in the order their rules are tried (first match wins)
CATEGORIES = ("new", "reactivated", "one_off", "sleeping", "vip", "partner", "regular", "prospective", "periodic")
TARGET_CATEGORIES = ("periodic", "prospective", "regular", "partner", "vip")
#: the manager of a client in lists grouped by manager when the data have none (a sheet needs a name)
NO_MANAGER = "—"
#: what a client was in a run whose data did not hold him yet (migration and the comparison of runs)
ABSENT = "absent"


class Move(str):
    """A client's move from one category to another (``before`` and ``after``: one of :data:`CATEGORIES` or
    :data:`ABSENT`). Made from its parts (``Move("regular", "sleeping")``); written, as a key of
    ``summary.json``, as ``"regular>sleeping"`` (:meth:`parse` reads it back), so the text is split here only."""

    def __new__(cls, before: str, after: str) -> "Move":
        for part in (before, after):
            if part not in CATEGORIES and part != ABSENT:
                raise ValueError(f"not a category: {part!r}")
        return super().__new__(cls, f"{before}>{after}")

    @classmethod
    def parse(cls, text: str) -> "Move":
        before, _, after = str(text).partition(">")
        return cls(before, after)

    @property
    def before(self) -> str:
        return self.partition(">")[0]

    @property
    def after(self) -> str:
        return self.partition(">")[2]

    def __reduce__(self) -> tuple[Any, ...]:
        return (Move, (self.before, self.after))


def catalogue_keys() -> list[str]:
    """Every catalogue key built from the categories and RFM segments at run time (``t(f"cat.{c}")``): checked by
    ``tests/test_i18n.py``."""
    return ([f"cat.{c}" for c in (*CATEGORIES, ABSENT)] + [f"why.{c}" for c in CATEGORIES]
            + [f"rfm.{name}" for _, name in RFM_SEGMENTS])


@dataclass(frozen=True)
class Rules:
    """Thresholds of the category rules (DOMAIN.md), all parameters. Months are calendar months."""

    new_months: int = 6  #: New: first purchase within this many months
    reactivated_recent_months: int = 3  #: Reactivated: bought within this many months ...
    reactivated_gap_months: int = 6  #: ... after a gap of at least this many months
    sleeping_min_months: int = 6  #: Sleeping: no purchase for longer than this many months ...
    sleeping_gap_multiple: float = 3.0  #: ... and than this many times the client's median gap
    window_months: int = 12  #: the window of activity, revenue and ABC
    vip_active_months: int = 9  #: VIP: class A and active in at least this many months of the window
    partner_tenure_months: int = 36  #: Partner: tenure of at least this many months ...
    partner_active_months: int = 9  #: ... active in at least this many months of the window ...
    partner_categories: int = 3  #: ... and buying at least this many categories in the window
    regular_active_months: int = 6  #: Regular: active in at least this many months of the window
    prospective_growth: float = 1.3  #: Prospective: window revenue >= this x the window before
    abc_a: float = 0.80  #: cumulative revenue share closing class A
    abc_b: float = 0.95  #: cumulative revenue share closing class B

    @classmethod
    def from_params(cls, **params: Any) -> "Rules":
        known = {f.name for f in fields(cls)}
        unknown = set(params) - known
        if unknown:
            raise ValueError(f"unknown rule parameters {sorted(unknown)}; allowed: {sorted(known)}")
        return cls(**params)


def window_start(as_of: pd.Timestamp, n: int) -> pd.Timestamp:
    """First day of the month ``n - 1`` months before ``as_of``'s month (window of n months)."""
    return (as_of.to_period("M") - (n - 1)).to_timestamp()


def _end(as_of: pd.Timestamp) -> pd.Timestamp:
    return as_of.normalize() + pd.Timedelta(days=1)


def client_features(cube: Cube, as_of: "str | pd.Timestamp | None" = None, window_months: int = 12) -> pd.DataFrame:
    """Per client known at ``as_of``, the figures every rule reads (see :func:`_features`)."""
    return _features(cube, as_of, window_months)[0]


def features_at(cube: Cube, as_of: "str | pd.Timestamp | None", window_months: int = 12):
    """Client figures and purchase history at ``as_of``, for :func:`classify_clients` ``features=``."""
    return _features(cube, as_of, window_months)


def _features(cube: Cube, as_of: "str | pd.Timestamp | None", window_months: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per client known at ``as_of``, the figures every rule reads.

    One row per client with a purchase on or before ``as_of``. Columns:
    ``first_date``, ``last_date`` (purchases), ``orders``, ``median_gap_days``,
    ``active_months`` (in the window), ``revenue`` (window), ``revenue_prev``
    (the window before), ``categories`` (bought in the window),
    ``tenure_months``, ``manager`` (the client's latest manager), ``client_name``.
    The second frame holds every purchase day with the one before it (``prev_date``).
    """
    as_of = pd.Timestamp(as_of or cube.as_of).normalize()
    end = _end(as_of)
    days = cube.client_day
    buys = days[(days.orders > 0) & (days.date < end)]  # the cube keeps client_day by client, then date
    if buys.empty:  # no purchase yet at as_of: no client, with every column the rules read
        empty = pd.DataFrame({c: pd.Series(dtype="datetime64[us]") for c in ("first_date", "last_date")}
                             | {c: pd.Series(dtype="int64") for c in ("orders", "active_months", "categories",
                                                                      "tenure_months")}
                             | {c: pd.Series(dtype="float64") for c in ("median_gap_days", "revenue", "revenue_prev")}
                             | {c: pd.Series(dtype="object") for c in ("manager", "client_name")})
        empty.index.name = "client_id"
        return empty, buys.assign(prev_date=buys.date)[["client_id", "date", "prev_date"]]
    g = buys.groupby("client_id", sort=False, observed=True)
    feat = pd.DataFrame({"first_date": g.date.min(), "last_date": g.date.max(), "orders": g.orders.sum()})
    ids = feat.index.astype(str)

    def own(values: pd.Series) -> pd.Series:
        """A per-client group result on ``feat``'s rows: it may be empty (an empty window) or keyed by a
        categorical of other categories, so it is matched on the ids as text (one per client)."""
        return pd.Series(values.to_numpy(), index=values.index.astype(str)).reindex(ids).set_axis(feat.index)

    feat["median_gap_days"] = own(median_gaps(buys))

    win_start = window_start(as_of, window_months)
    prev_start = window_start(win_start - pd.Timedelta(days=1), window_months)
    cm = cube.client_month
    in_win = cm[(cm.month >= win_start) & (cm.month <= as_of)]
    feat["active_months"] = own(in_win[in_win.orders > 0].groupby("client_id", observed=True).size())
    # revenue by day so that a mid-month as_of cuts exactly
    rev_days = days[days.date < end]
    feat["revenue"] = own(rev_days[rev_days.date >= win_start].groupby("client_id", observed=True).revenue.sum())
    prev = rev_days[(rev_days.date >= prev_start) & (rev_days.date < win_start)]
    feat["revenue_prev"] = own(prev.groupby("client_id", observed=True).revenue.sum())
    ccm = cube.client_category_month
    cats = ccm[(ccm.month >= win_start) & (ccm.month <= as_of) & (ccm.orders > 0)]
    feat["categories"] = own(cats.groupby("client_id", observed=True).category.nunique())
    if "cost" in cm and cm.cost.notna().any():
        feat["margin"] = own((in_win.revenue - in_win.cost.fillna(0)).groupby(in_win.client_id, observed=True).sum())
    feat = feat.fillna({"active_months": 0, "revenue": 0.0, "revenue_prev": 0.0, "categories": 0})
    feat = feat.astype({"active_months": "int64", "categories": "int64", "orders": "int64"})
    feat["tenure_months"] = ((as_of.year - feat.first_date.dt.year) * 12
                             + (as_of.month - feat.first_date.dt.month)).astype("int64")

    history = buys.assign(prev_date=g.date.shift())[["client_id", "date", "prev_date"]]
    feat["manager"] = cube.clients.set_index("client_id").manager.reindex(feat.index)
    feat["client_name"] = cube.clients.set_index("client_id").client_name.reindex(feat.index)
    feat.index.name = "client_id"
    return feat, history


def _last_purchases(cube: Cube, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per client with a purchase on or before ``as_of`` (the rows, in the order, of :func:`_features`): the
    last purchase date (``last_date``), ``client_name`` and ``manager``, from client_day and clients only."""
    days = cube.client_day
    buys = days[(days.orders > 0) & (days.date < _end(as_of))]
    last = buys.groupby("client_id", sort=False, observed=True).date.max()
    clients = cube.clients.set_index("client_id")
    feat = pd.DataFrame({"last_date": last, "client_name": clients.client_name.reindex(last.index),
                         "manager": clients.manager.reindex(last.index)})
    feat.index.name = "client_id"
    return feat


def _abc(values: pd.Series, a: float, b: float) -> pd.Series:
    """A / B / C by cumulative share of positive values (largest first); D for <= 0."""
    pos = values[values > 0].sort_values(ascending=False, kind="stable")
    total = pos.sum()
    before = (pos.cumsum() - pos) / total if total > 0 else pos * 0
    cls = pd.Series(np.where(before < a, "A", np.where(before < b, "B", "C")), index=pos.index)
    return cls.reindex(values.index).fillna("D")


def abc_xyz(cube: Cube, as_of: "str | pd.Timestamp | None" = None, window_months: int = 12,
            a: float = 0.80, b: float = 0.95, x: float = 0.5, y: float = 1.0,
            measure: str = "revenue", features: pd.DataFrame | None = None) -> pd.DataFrame:
    """ABC by revenue (or margin) over the window and XYZ by the variation of monthly purchases.

    Returns one row per client known at ``as_of``: ``value`` (revenue or margin in
    the window), ``share`` (of the positive total), ``cum_share`` (cumulative,
    largest first), ``abc`` (A/B/C; D: nothing bought in the window), ``cv``
    (coefficient of variation of monthly revenue over the window's months, zeros
    included, population standard deviation), ``xyz`` (X: cv <= x, Y: cv <= y,
    Z: above; none for D), sorted by value.

    ``x`` and ``y`` default to 0.5 and 1.0: a client's monthly purchases vary
    far more than an item's demand, so the item thresholds (0.1/0.25) would
    put nearly every client in Z.
    """
    as_of = pd.Timestamp(as_of or cube.as_of).normalize()
    feat = features if features is not None else client_features(cube, as_of, window_months)
    if measure == "margin":
        if "margin" not in feat:
            raise ValueError("ABC by margin needs a cost column in the sales data")
        value = feat["margin"].fillna(0.0)
    else:
        value = feat["revenue"]
    out = pd.DataFrame({"client_name": feat.client_name, "manager": feat.manager, "value": value})
    total = value[value > 0].sum()
    out["share"] = np.where(value > 0, value / total, 0.0) if total > 0 else 0.0
    order = out.sort_values("value", ascending=False, kind="stable")
    order["cum_share"] = order["share"].cumsum()
    out["cum_share"] = order["cum_share"]
    out["abc"] = _abc(value, a, b)
    win_start = window_start(as_of, window_months)
    n_months = window_months
    cm = cube.client_month
    win = cm[(cm.month >= win_start) & (cm.month <= as_of)]
    monthly = win.revenue.clip(lower=0)  # a month of net returns counts as no purchase
    sums = monthly.groupby(win.client_id, observed=True).sum().reindex(out.index).fillna(0.0)
    squares = (monthly ** 2).groupby(win.client_id, observed=True).sum().reindex(out.index).fillna(0.0)
    mean = sums / n_months  # months without purchases are zeros
    std = np.sqrt((squares / n_months - mean ** 2).clip(lower=0))
    cv = std / mean.where(mean > 0)
    out["cv"] = cv
    out["xyz"] = np.where(out.abc == "D", "", np.where(cv <= x, "X", np.where(cv <= y, "Y", "Z")))
    return out.sort_values("value", ascending=False, kind="stable")


def abc_matrix(abc: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ABC x XYZ: (number of clients, share of revenue) per cell, A-C rows, X-Z columns."""
    live = abc[abc.abc != "D"]
    counts = pd.crosstab(live.abc, live.xyz).reindex(index=list("ABC"), columns=list("XYZ"), fill_value=0)
    shares = (live.pivot_table(index="abc", columns="xyz", values="share", aggfunc="sum")
              .reindex(index=list("ABC"), columns=list("XYZ")).fillna(0.0))
    return counts, shares


#: the usual RFM segment map on the recency and frequency scores ("RF" as two digits)
RFM_SEGMENTS = (
    (r"[1-2][1-2]", "hibernating"), (r"[1-2][3-4]", "at_risk"), (r"[1-2]5", "cant_lose"),
    (r"3[1-2]", "about_to_sleep"), (r"33", "need_attention"), (r"[3-4][4-5]", "loyal"),
    (r"41", "promising"), (r"51", "new_customers"), (r"[4-5][2-3]", "potential_loyalists"),
    (r"5[4-5]", "champions"),
)


def _score(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """Quintile scores 1..5 on ranks (ties share the lower rank), 5 = best."""
    ranks = values.rank(method="first", ascending=higher_is_better)
    return (np.ceil(ranks / len(values) * 5)).clip(1, 5).astype("int64")


def rfm(cube: Cube, as_of: "str | pd.Timestamp | None" = None, window_months: int = 24,
        features: pd.DataFrame | None = None) -> pd.DataFrame:
    """Recency, frequency and monetary scores 1..5 and the named segment, per client.

    Recency: days from the last purchase to ``as_of``; frequency: orders and
    monetary: revenue, both over the last ``window_months``. Scores are
    quintiles of the clients known at ``as_of`` (5 = most recent, most
    frequent, largest). Segments follow the usual R x F map (``RFM_SEGMENTS``).
    """
    as_of = pd.Timestamp(as_of or cube.as_of).normalize()
    # only the last purchase comes from the client figures (any window); F and M from RFM's own window.
    # Without the figures, the purchase days and the clients' names and managers are all it reads (two
    # cube tables, not the five the client figures read: RFM from a new file builds no more)
    feat = features if features is not None else _last_purchases(cube, as_of)
    days = cube.client_day
    win = days[(days.date >= window_start(as_of, window_months)) & (days.date < _end(as_of))]
    g = win.groupby("client_id", observed=True)
    out = pd.DataFrame(index=feat.index)
    out["client_name"] = feat.client_name
    out["manager"] = feat.manager
    out["recency_days"] = (as_of - feat.last_date).dt.days
    out["frequency"] = g.orders.sum().reindex(feat.index).fillna(0).astype("int64")
    out["monetary"] = g.revenue.sum().reindex(feat.index).fillna(0.0)
    out["r"] = _score(-out.recency_days.astype(float))
    out["f"] = _score(out.frequency.astype(float))
    out["m"] = _score(out.monetary)
    rf = out.r.astype(str) + out.f.astype(str)
    seg = pd.Series("", index=out.index)
    for pattern, name in RFM_SEGMENTS:
        seg = seg.mask((seg == "") & rf.str.fullmatch(pattern), name)
    out["segment"] = seg
    return out


@per_cube
def classify_clients(cube: Cube, as_of: "str | pd.Timestamp | None" = None, rules: Rules = Rules(),
                     lang: str = "en", features: "tuple[pd.DataFrame, pd.DataFrame] | None" = None) -> pd.DataFrame:
    """The nine categories at ``as_of``, first matching rule wins, each with its reason.

    Returns one row per client with a purchase on or before ``as_of``:
    ``category`` (one of :data:`CATEGORIES`), ``label`` (its name in ``lang``),
    ``reason`` (which rule fired, on what figures, in ``lang``), ``target``
    (a forecast target category), the figures the rules read, ``manager``.
    ``features`` may pass ``features_at(cube, as_of, rules.window_months)`` computed
    once, so that changing a threshold only re-applies the rules.
    """
    r = rules
    as_of = pd.Timestamp(as_of or cube.as_of).normalize()
    f, buys = features if features is not None else _features(cube, as_of, r.window_months)
    f = f.copy()
    # --- New
    new_since = as_of - pd.DateOffset(months=r.new_months)
    # first seen in the data's lead-in: probably a client from before the data began, not a new one
    is_new = (f.first_date > new_since) & (f.first_date >= cube.profile.lead_in_end)
    # --- Reactivated: the first purchase in the recent window came after a long gap
    recent_since = as_of - pd.DateOffset(months=r.reactivated_recent_months)
    recent = buys[buys.date > recent_since].groupby("client_id").first()
    gap_ok = recent.prev_date.notna() & (recent.prev_date <= recent.date - pd.DateOffset(months=r.reactivated_gap_months))
    f["comeback_date"] = recent.date.reindex(f.index)
    f["gap_before_days"] = (recent.date - recent.prev_date).dt.days.reindex(f.index)
    is_react = gap_ok.reindex(f.index, fill_value=False)
    # --- One-off
    is_one = f.orders == 1
    # --- Sleeping
    idle_days = (as_of - f.last_date).dt.days
    f["idle_days"] = idle_days
    long_idle = f.last_date < as_of - pd.DateOffset(months=r.sleeping_min_months)
    is_sleep = long_idle & (idle_days > r.sleeping_gap_multiple * f.median_gap_days.fillna(0))
    # --- VIP / Partner / Regular / Prospective
    f["abc"] = _abc(f.revenue, r.abc_a, r.abc_b)
    is_vip = (f.abc == "A") & (f.active_months >= r.vip_active_months)
    is_partner = ((f.tenure_months >= r.partner_tenure_months) & (f.active_months >= r.partner_active_months)
                  & (f.categories >= r.partner_categories))
    is_regular = f.active_months >= r.regular_active_months
    is_prosp = (f.revenue > 0) & (f.revenue >= r.prospective_growth * f.revenue_prev)
    conds = [is_new, is_react, is_one, is_sleep, is_vip, is_partner, is_regular, is_prosp,
             pd.Series(True, index=f.index)]
    f["category"] = np.select([c.to_numpy(dtype=bool) for c in conds], list(CATEGORIES), default="periodic")
    f["label"] = f.category.map(lambda c: t(f"cat.{c}", lang))
    f["target"] = f.category.isin(TARGET_CATEGORIES)
    f["reason"] = _reasons(f, r, as_of, lang)
    cols = ["client_name", "manager", "category", "label", "reason", "target", "first_date", "last_date", "orders",
            "median_gap_days", "idle_days", "active_months", "revenue", "revenue_prev", "categories",
            "tenure_months", "abc", "comeback_date", "gap_before_days"]
    return f[cols]


def _fill(template: str, values: dict[str, Any], index: pd.Index) -> pd.Series:
    """``template.format(**values)`` for whole columns at once (values: Series or scalars)."""
    import string
    out = pd.Series("", index=index, dtype="str")
    for literal, field, spec, _ in string.Formatter().parse(template):
        out = out + literal
        if field is not None:
            v = values[field]
            out = out + (v.astype("str") if isinstance(v, pd.Series) else format(v, spec or ""))
    return out


def _reasons(f: pd.DataFrame, r: Rules, as_of: pd.Timestamp, lang: str) -> pd.Series:
    """Which rule fired and on what figures, one sentence per client, built column-wise."""
    out = pd.Series("", index=f.index, dtype="str")
    day = lambda s: s.dt.strftime("%Y-%m-%d")  # noqa: E731
    whole = lambda s: s.round(0).astype("Int64").astype("str").replace("<NA>", "–")  # noqa: E731
    for cat in CATEGORIES:
        rows = f[f.category == cat]
        if rows.empty:
            continue
        if cat == "new":
            v = {"first": day(rows.first_date), "months": r.new_months}
        elif cat == "reactivated":
            v = {"date": day(rows.comeback_date), "gap": whole(rows.gap_before_days), "months": r.reactivated_gap_months}
        elif cat == "one_off":
            v = {"date": day(rows.first_date)}
        elif cat == "sleeping":
            v = {"last": day(rows.last_date), "idle": whole(rows.idle_days), "gap": whole(rows.median_gap_days),
                 "mult": r.sleeping_gap_multiple, "months": r.sleeping_min_months}
        elif cat == "vip":
            v = {"active": rows.active_months, "window": r.window_months, "min": r.vip_active_months}
        elif cat == "partner":
            v = {"tenure": rows.tenure_months, "active": rows.active_months, "window": r.window_months,
                 "cats": rows.categories}
        elif cat == "regular":
            v = {"active": rows.active_months, "window": r.window_months, "min": r.regular_active_months}
        elif cat == "prospective":
            ratio = (rows.revenue / rows.revenue_prev.where(rows.revenue_prev > 0)).round(2)
            from salesbook.formats import fmt_num
            v = {"ratio": ratio.map(lambda x: fmt_num(x, lang, 2)).where(ratio.notna(), "∞"),
                 "min": fmt_num(r.prospective_growth, lang, 1)}
        else:
            v = {"orders": rows.orders, "active": rows.active_months, "window": r.window_months}
        out.loc[rows.index] = _fill(t(f"why.{cat}", lang), v, rows.index)
    return out


def history_note(cube: Cube, rules: Rules = Rules(), lang: str = "en") -> str | None:
    """A sentence when the data are shorter than the window the categories read (``None`` otherwise)."""
    months = cube.profile.n_full
    if months >= rules.window_months:
        return None
    return t("seg.short_history", lang, months=months, window=rules.window_months, tenure=rules.partner_tenure_months)


def migration_lacks(cube: Cube, from_date: "str | pd.Timestamp", rules: Rules = Rules(), lang: str = "en") -> str | None:
    """Why a migration from ``from_date`` cannot be shown (its categories would read months before the data),
    or ``None``."""
    from_date = pd.Timestamp(from_date).normalize()
    start = window_start(from_date, rules.window_months)
    if cube.profile.covers(start, from_date):
        return None
    return t("seg.migration_lacks", lang, from_date=from_date.date(), window=rules.window_months,
             start=cube.profile.start.date())


def category_summary(classes: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Clients and window revenue per category, in rule order, with shares.

    ``by``: a column of ``classes`` (``"manager"``): the same summary for each of its values at once, one row
    per (value, category), each value's shares of its own clients and revenue (a manager's pack)."""
    if by is None:
        g = classes.groupby("category").agg(clients=("label", "size"), revenue=("revenue", "sum"))
        g = g.reindex(list(CATEGORIES)).fillna(0)
        g["clients_share"] = g.clients / max(g.clients.sum(), 1)
        total = g.revenue.clip(lower=0).sum()
        g["revenue_share"] = g.revenue.clip(lower=0) / total if total else 0.0
        return g.astype({"clients": "int64"})
    g = classes.groupby([by, "category"], observed=True).agg(clients=("label", "size"), revenue=("revenue", "sum"))
    values = sorted(classes[by].dropna().unique())
    g = g.reindex(pd.MultiIndex.from_product([values, list(CATEGORIES)], names=[by, "category"])).fillna(0)
    k = len(CATEGORIES)  # each value's categories are k consecutive rows: its totals are those of its rows
    clients = g.clients.to_numpy(dtype=float).reshape(-1, k)
    positive = g.revenue.clip(lower=0).to_numpy(dtype=float).reshape(-1, k)
    total = positive.sum(axis=1, keepdims=True)
    g["clients_share"] = (clients / np.maximum(clients.sum(axis=1, keepdims=True), 1)).ravel()
    g["revenue_share"] = np.divide(positive, total, out=np.zeros_like(positive), where=total != 0).ravel()
    return g.astype({"clients": "int64"})


def migration(cube: Cube, from_date: "str | pd.Timestamp", to_date: "str | pd.Timestamp | None" = None,
              rules: Rules = Rules()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How clients moved between categories from ``from_date`` to ``to_date``.

    Returns (matrix, moves): the matrix counts clients by category at
    ``from_date`` (rows; ``absent`` for clients not yet known) and at ``to_date``
    (columns); ``moves`` lists every client with ``from`` and ``to``.
    """
    to_date = pd.Timestamp(to_date or cube.as_of)
    a = classify_clients(cube, from_date, rules)[["category"]].rename(columns={"category": "from"})
    b = classify_clients(cube, to_date, rules)[["category", "client_name", "manager", "revenue"]]
    moves = b.rename(columns={"category": "to"}).join(a, how="left").fillna({"from": "absent"})
    order = ["absent", *CATEGORIES]
    matrix = pd.crosstab(moves["from"], moves["to"]).reindex(index=order, columns=list(CATEGORIES), fill_value=0)
    return matrix, moves[["client_name", "manager", "from", "to", "revenue"]]


def reactivation_list(cube: Cube, classes: pd.DataFrame, max_months_asleep: int | None = 24) -> pd.DataFrame:
    """Sleeping clients per manager, ranked by what they bought in their last 12 months of activity.

    ``max_months_asleep`` leaves out clients gone longer than that (``None``: all).

    Columns: ``manager``, ``client_id``, ``client_name``, ``last_order``,
    ``months_asleep``, ``usual_gap_days``, ``yearly_revenue`` (what the client bought in the 12
    months up to its last purchase, not annualised: a client with a shorter history shows what it bought),
    ``categories`` (what it bought, by revenue), ranked within each manager.
    """
    sleeping = classes[classes.category == "sleeping"]
    if sleeping.empty:
        return pd.DataFrame(columns=["manager", "rank", "client_id", "client_name", "last_order", "months_asleep",
                                     "usual_gap_days", "yearly_revenue", "categories"])
    days = cube.client_day[cube.client_day.client_id.isin(sleeping.index)]
    last = sleeping.last_date.reindex(days.client_id).to_numpy()
    # what it actually bought in its last 12 months of activity: never annualised (a short span stays short)
    year_before = days[(days.date > last - np.timedelta64(365, "D")) & (days.date <= last)]
    rev = year_before.groupby("client_id", observed=True).revenue.sum()
    yearly = rev.reindex(sleeping.index).fillna(0)
    cc = cube.client_category[cube.client_category.client_id.isin(sleeping.index)]
    cc = cc[(cc.revenue > 0) & cc.category.notna()].sort_values(["client_id", "revenue"], ascending=[True, False])
    bought: dict[str, list[str]] = {}
    for cid, cat in zip(cc.client_id.astype(str), cc.category.astype(str)):  # already by revenue
        bought.setdefault(cid, []).append(cat)
    cats = pd.Series({cid: ", ".join(v) for cid, v in bought.items()}, dtype="str")
    as_of = pd.Timestamp(cube.as_of)
    out = pd.DataFrame({
        "manager": sleeping.manager.astype(object).fillna(NO_MANAGER), "client_id": sleeping.index, "client_name": sleeping.client_name,
        "last_order": sleeping.last_date.dt.date,
        "months_asleep": (as_of.year - sleeping.last_date.dt.year) * 12 + (as_of.month - sleeping.last_date.dt.month),
        "usual_gap_days": sleeping.median_gap_days.round(0),
        "yearly_revenue": yearly.round(2), "categories": cats.reindex(sleeping.index).fillna(""),
    })
    if max_months_asleep is not None:
        out = out[out.months_asleep <= max_months_asleep]
    out = out.sort_values(["manager", "yearly_revenue"], ascending=[True, False], kind="stable")
    out.insert(1, "rank", out.groupby("manager").cumcount() + 1)
    return out.reset_index(drop=True)


_LIST_COLUMNS = {"manager": "col.manager", "rank": "seg.col.rank", "client_id": "seg.col.client_id",
                 "client_name": "col.client", "last_order": "seg.col.last_order",
                 "months_asleep": "seg.col.months_asleep", "usual_gap_days": "seg.col.usual_gap",
                 "yearly_revenue": "seg.col.yearly_revenue", "categories": "seg.col.categories"}


def reactivation_view(sleepers: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The reactivation list with column names in ``lang``."""
    out = sleepers[list(_LIST_COLUMNS)].assign(usual_gap_days=sleepers.usual_gap_days.round().astype("Int64"))
    out = out.rename(columns={k: t(v, lang) for k, v in _LIST_COLUMNS.items()})
    out.attrs["money"] = [t("seg.col.yearly_revenue", lang)]
    return out


def reactivation_summary(sleepers: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """Per manager: sleeping clients and what they bought a year, largest first."""
    g = sleepers.groupby("manager").agg(clients=("client_id", "size"), revenue=("yearly_revenue", "sum"))
    g = g.sort_values("revenue", ascending=False).reset_index()
    out = g.rename(columns={"manager": t("col.manager", lang), "clients": t("seg.col.clients", lang),
                            "revenue": t("seg.col.yearly_revenue", lang)})
    out.attrs["money"] = [t("seg.col.yearly_revenue", lang)]
    return out


@dataclass
class Segmentation:
    """Categories, ABC/XYZ and RFM of one analysis date, from one pass over the client figures."""

    classes: pd.DataFrame
    abc: pd.DataFrame
    rfm: pd.DataFrame


@per_cube
def segment(cube: Cube, as_of: "str | pd.Timestamp | None" = None, rules: Rules = Rules(), lang: str = "en",
            x: float = 0.5, y: float = 1.0, measure: str = "revenue", rfm_window_months: int = 24) -> Segmentation:
    """Everything the segmentation workbook shows at ``as_of``; the window's figures are computed once.

    RFM counts orders and revenue over its own ``rfm_window_months``.
    """
    as_of = pd.Timestamp(as_of or cube.as_of).normalize()
    feats = _features(cube, as_of, rules.window_months)
    classes = classify_clients(cube, as_of, rules, lang, features=feats)
    abc = abc_xyz(cube, as_of, rules.window_months, rules.abc_a, rules.abc_b, x, y, measure, features=feats[0])
    scores = rfm(cube, as_of, rfm_window_months, features=feats[0])
    return Segmentation(classes, abc, scores)


def explained(classes: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """Client, manager, category and the reason, with column names in ``lang`` (for a table)."""
    view = classes.reset_index()[["client_id", "client_name", "manager", "label", "reason"]]
    return view.rename(columns={"client_id": t("seg.col.client_id", lang), "client_name": t("col.client", lang),
                                "manager": t("col.manager", lang), "label": t("col.category", lang),
                                "reason": t("seg.col.reason", lang)})


def moves_view(moves: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """Moves (from :func:`migration`) with the category they came from, translated."""
    view = moves.reset_index()[["client_id", "client_name", "manager", "from"]].copy()
    view["from"] = view["from"].map(lambda c: t(f"cat.{c}", lang))
    return view.rename(columns={"client_id": t("seg.col.client_id", lang), "client_name": t("col.client", lang),
                                "manager": t("col.manager", lang), "from": t("seg.from", lang)})
