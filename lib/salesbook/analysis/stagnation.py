"""Stagnation diagnosis: is turnover flat, where does the change come from, and why.

Reads the cube and reuses the seasonality and segmentation functions. Money in
the revenue bridge is counted in whole cents (integers), so that the bridge ties
to the total change exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import enum

import numpy as np
import pandas as pd

from salesbook.cube import Cube
from salesbook.i18n import t
from salesbook.formats import Kind, Measure, as_money, as_number, as_share, fmt_measure
from salesbook.cube.memo import per_cube
from salesbook.cube.profile import windows as bridge_windows  # (later, earlier) windows of n months
from salesbook.analysis.seasonality import adjusted_series, complete_series, seasonal_profile, trend_fit
from salesbook.analysis.segments import NO_MANAGER, window_start
from salesbook.analysis.assignment import AssignmentRules, stability, unstable_sentence

__all__ = ["BRIDGE_PARTS", "revenue_bridge", "bridge_windows", "last_bridge", "yearly_bridges", "flatness", "cohort_tables", "acquisition",
           "manager_profiles", "saturation", "capacity_correlation", "acquisition_change", "category_breadth",
           "penetration", "whitespace", "concentration", "productivity", "Symptom", "diagnose", "memo", "verdict_text",
           "full_period", "DiagnosisRules", "headline", "Verdict", "Severity", "Finding", "Unknown", "EVIDENCE",
           "CAUSES", "catalogue_keys"]

#: imported on first use, not with this module; a scheduled run's kernels import them ahead (salesbook.run.warm)
DEFERRED = ("scipy.stats",)

BRIDGE_PARTS = ("new", "reactivated", "growth", "decline", "lost")


class Verdict(enum.StrEnum):
    """The verdict on the trend (DOMAIN.md, "Stagnation"); ``UNKNOWN`` below the evidence minimum.
    Its words: ``memo.verdict.<value>``."""

    GROWING = "growing"
    FLAT = "flat"
    DECLINING = "declining"
    UNKNOWN = "unknown"


class Severity(enum.StrEnum):
    """How strongly the data show a symptom. Its words: ``sev.<value>``."""

    NONE = "none"
    MILD = "mild"
    STRONG = "strong"


class Finding(enum.StrEnum):
    """The kinds of finding (the symptoms of DOMAIN.md). Their sentence: ``diag.<value>``; their remedy:
    ``remedy.<value>``; the kind of each figure a sentence carries: :data:`EVIDENCE`."""

    FLAT = "flat"
    ACQUISITION = "acquisition"
    CAPACITY = "capacity"
    CROSSSELL = "crosssell"
    EXISTING = "existing"
    CONCENTRATION = "concentration"
    PRODUCTIVITY = "productivity"
    NO_HUNTERS = "no_hunters"


class Unknown(enum.StrEnum):
    """Why the data cannot tell a finding yet; the value is the catalogue key of the sentence that says so."""

    TREND = "diag.unknown.trend"
    YEARS_ACQUISITION = "diag.unknown.years_acquisition"
    YEARS_CROSSSELL = "diag.unknown.years_crosssell"
    YEARS_CONCENTRATION = "diag.unknown.years_concentration"
    YEARS_PRODUCTIVITY = "diag.unknown.years_productivity"
    NO_MANAGER = "diag.unknown.no_manager"
    NO_CATEGORY = "diag.unknown.no_category"
    POINTS = "diag.unknown.points"
    BRIDGE = "diag.unknown.bridge"
    WON = "diag.unknown.won"
    CAPACITY_NOISE = "diag.unknown.capacity_noise"  #: negative, but the interval includes zero
    UNSTABLE_MANAGERS = "asg.unstable_managers"  #: no stable client -> manager assignment (its measure says why)


#: the kind of every figure a finding's sentence carries (ints are counts, strings periods and names)
EVIDENCE: dict[Finding, dict[str, Kind]] = {
    Finding.FLAT: {"slope": Kind.SHARE, "low": Kind.SHARE, "high": Kind.SHARE},
    Finding.ACQUISITION: {"change": Kind.SHARE},
    Finding.CAPACITY: {"corr": Kind.NUMBER, "low": Kind.NUMBER, "high": Kind.NUMBER},
    Finding.CROSSSELL: {"early": Kind.NUMBER, "recent": Kind.NUMBER, "breadth": Kind.NUMBER},
    Finding.EXISTING: {"change": Kind.SHARE, "new_share": Kind.SHARE},
    Finding.CONCENTRATION: {"top10": Kind.SHARE, "change": Kind.SHARE},
    Finding.PRODUCTIVITY: {"change": Kind.SHARE, "per_manager": Kind.MONEY},
    Finding.NO_HUNTERS: {},
}


#: the findings that explain a stagnation (the mechanism of DOMAIN.md), the others describe it
CAUSES = (Finding.ACQUISITION, Finding.CAPACITY, Finding.CROSSSELL, Finding.NO_HUNTERS)


def catalogue_keys() -> list[str]:
    """Every catalogue key this module builds from its enums at run time (``tests/test_i18n.py`` checks them)."""
    return ([f"memo.verdict.{v}" for v in Verdict] + [f"sev.{s}" for s in Severity]
            + [f"{kind}.{f}" for f in Finding for kind in ("diag", "remedy")] + [str(u) for u in Unknown]
            + [f"stag.part.{p}" for p in BRIDGE_PARTS])


@dataclass(frozen=True)
class DiagnosisRules:
    """Every threshold of the stagnation diagnosis (DOMAIN.md, "Stagnation"), all parameters.

    Shares are fractions (0.25 = 25 %); a change "a year" is a share of the level. The evidence minimums
    (how many months, managers, quarters a claim needs) are :class:`salesbook.cube.profile.Evidence`'s.
    """

    trend_months: int = 36  #: months of the seasonally adjusted series the verdict is fitted on
    flat_threshold: float = 0.03  #: growing / declining only when the trend is at least this a year and its interval excludes 0
    acquisition_mild: float = 0.25  #: acquisition: new clients a year fell by at least this share (first to last full year)
    acquisition_strong: float = 0.50  #: ... strongly by at least this share
    capacity_mild: float = -0.15  #: capacity: correlation of a manager's new clients with his active clients (per quarter) at most this
    capacity_strong: float = -0.30  #: ... strongly at most this
    crosssell_recent: float = 0.05  #: cross-sell saturated: categories per client grew less than this in the last year
    crosssell_early_factor: float = 2.0  #: ... strongly when the early growth was over this many times the recent one
    existing_mild: float = 0.0  #: existing clients: their revenue fell (growth and decline, last bridge) by more than this share
    existing_strong: float = 0.03  #: ... strongly by at least this share
    concentration_mild: float = 0.02  #: concentration: the top-10 clients' share rose by at least this
    concentration_strong: float = 0.05  #: ... strongly by at least this
    productivity_change: float = 0.03  #: productivity: revenue per manager changes by at least this a year
    hunter_share: float = 0.25  #: hunter: at least this share of a manager's 12-month revenue from clients won in it
    farmer_share: float = 0.10  #: account manager: at most this share
    few_hunters: int = 2  #: "few hunters" (mild) up to this many; none at all is strong
    recent_change: float = 0.05  #: the headline calls the last 12 months against the 12 before out from this change on
    #: findings on managers' portfolios (capacity, hunters) and hand-overs need a stable client -> manager
    #: assignment: ``min_stability`` (continuity beyond chance, 0..1) and ``min_pairs`` (analysis.assignment)
    assignment: AssignmentRules = AssignmentRules()


# --------------------------------------------------------------------------- is it flat?


def flatness(cube: Cube, months: int = 36, threshold: float = 0.03) -> dict[str, Any]:
    """Verdict on seasonally adjusted turnover over the last ``months``: growing, flat or declining.

    A trend counts when its 95 % interval excludes zero and its size is at least
    ``threshold`` a year (share of the level). The Mann-Kendall test (Kendall's
    tau of the adjusted series against time, scipy) is reported beside it.
    """
    from scipy.stats import kendalltau
    full = complete_series(cube)
    prof = cube.profile
    if prof.lacks("trend") or prof.lacks("season"):  # below the minimum: no verdict, no figure
        r12 = full.rolling(12).sum().dropna()
        return {"verdict": Verdict.UNKNOWN, "slope_per_year": np.nan, "low": np.nan, "high": np.nan, "p_value": np.nan,
                "months": int(len(full)), "mann_kendall_tau": np.nan, "mann_kendall_p": np.nan, "cagr": np.nan,
                "rolling_12m": r12, "adjusted": full * np.nan, "seasonal": False}
    profile = seasonal_profile(full, stl=False)
    sa = adjusted_series(full, profile) if profile.enough else full
    fit = trend_fit(sa, months)
    tail = sa.dropna().iloc[-months:]
    tau, p_mk = kendalltau(np.arange(len(tail)), tail.to_numpy())
    r12 = full.rolling(12).sum().dropna()
    years = (len(r12) - 1) / 12
    cagr = (r12.iloc[-1] / r12.iloc[0]) ** (1 / years) - 1 if years >= 1 and r12.iloc[0] > 0 else np.nan
    if fit["low"] > 0 and fit["slope_per_year"] >= threshold:
        verdict = Verdict.GROWING
    elif fit["high"] < 0 and fit["slope_per_year"] <= -threshold:
        verdict = Verdict.DECLINING
    else:
        verdict = Verdict.FLAT
    fit = {**fit, **{k: as_share(fit[k]) for k in ("slope_per_year", "low", "high")}}  # shares of the level a year
    return {"verdict": verdict, **fit, "mann_kendall_tau": float(tau), "mann_kendall_p": float(p_mk),
            "cagr": float(cagr), "rolling_12m": r12, "adjusted": sa, "seasonal": profile.enough}


# --------------------------------------------------------------------------- revenue bridge


def _cents(x: pd.Series) -> pd.Series:
    return np.round(x * 100).astype("int64")


def revenue_bridge(cube: Cube, p1: tuple[Any, Any], p0: tuple[Any, Any]) -> tuple[pd.Series, pd.DataFrame]:
    """Revenue change from period ``p0`` to period ``p1`` ((start, end) dates, both inclusive).

    Every client active (any line) in either period is in exactly one part:
    ``new`` (first line ever in p1), ``reactivated`` (active in p1, not in p0,
    active before p0), ``lost`` (active in p0, not in p1), and clients active in
    both: ``growth`` (p1 > p0) or ``decline`` (p1 <= p0). Returns the parts (in
    roubles, from whole cents: they add up to the change exactly) and one row
    per client with ``part``, ``before``, ``after``, ``change``.
    """
    (s1, e1), (s0, e0) = [(pd.Timestamp(a), pd.Timestamp(b) + pd.Timedelta(days=1)) for a, b in (p1, p0)]
    d = cube.client_day
    k = cube.client_rows(d)  # the client of each purchase day, as its position in cube.clients
    n = len(cube.clients)
    cents = _cents(d.revenue).to_numpy()
    date = d.date.to_numpy()
    m1, m0 = (date >= s1) & (date < e1), (date >= s0) & (date < e0)
    # sums of whole cents in float64 are exact below 2**53 cents (about 9e13 in money)
    after = np.rint(np.bincount(k[m1], weights=cents[m1], minlength=n)).astype("int64")
    before = np.rint(np.bincount(k[m0], weights=cents[m0], minlength=n)).astype("int64")
    in1, in0 = np.bincount(k[m1], minlength=n) > 0, np.bincount(k[m0], minlength=n) > 0
    ever_before = np.bincount(k[date < s1], minlength=n) > 0  # any line before the later period
    ids = cube.clients.client_id.astype(str).to_numpy()
    rows = np.flatnonzero(in1 | in0)
    rows = rows[np.argsort(ids[rows], kind="stable")]
    out = pd.DataFrame({"before": before[rows], "after": after[rows]},
                       index=pd.Index(ids[rows], name="client_id", dtype=object))
    in1, in0, ever_before = in1[rows], in0[rows], ever_before[rows]
    part = np.select([in1 & ~in0 & ~ever_before, in1 & ~in0, ~in1 & in0, out.after > out.before],
                     ["new", "reactivated", "lost", "growth"], "decline")
    out["part"] = part
    out["change"] = out.after - out.before
    parts = out.groupby("part").change.sum().reindex(list(BRIDGE_PARTS)).fillna(0).astype("int64")
    out["client_name"] = cube.clients.client_name.to_numpy()[rows]
    for col in ("before", "after", "change"):
        out[col] = out[col] / 100
    return parts / 100, out


def last_bridge(cube: Cube, months: int = 12, end: Any = None) -> tuple[pd.Series, pd.DataFrame]:
    """The bridge of the ``months`` up to ``end`` (default ``as_of``) against the ``months`` before."""
    return revenue_bridge(cube, *bridge_windows(end if end is not None else cube.as_of, months))


def yearly_bridges(cube: Cube, months: int = 12) -> pd.DataFrame:
    """Bridges of consecutive windows of ``months`` ending at ``as_of``, over the whole history.

    One row per window (``end`` date): the revenue before and after and the five parts.
    """
    end = min(cube.as_of.normalize(), cube.profile.end)  # data that stop before as_of: bridges up to their end
    rows = []
    while True:
        later, earlier = bridge_windows(end, months)
        if not cube.profile.covers(earlier[0], later[1]):  # both windows fully covered, or no bridge
            break
        parts, detail = revenue_bridge(cube, later, earlier)
        rows.append({"end": end, "before": detail.before.sum(), "after": detail.after.sum(), **parts.to_dict()})
        end = earlier[1]
    return pd.DataFrame(rows[::-1], columns=["end", "before", "after", *BRIDGE_PARTS])


# --------------------------------------------------------------------------- cohorts


def cohort_tables(cube: Cube, freq: str = "Y") -> dict[str, pd.DataFrame]:
    """Cohorts by acquisition year (``"Y"``) or quarter (``"Q"``).

    ``revenue``: cohort x period revenue; ``retention``: share of the cohort's
    clients active (an order) in each period; ``nrr``: revenue of a period over
    the cohort's revenue in the period before (net revenue retention);
    ``first_year``: mean revenue of a new client in its first 12 months, by cohort,
    with the number of clients. Periods are calendar years or quarters.
    """
    lead_in_end = cube.profile.lead_in_end  # clients first seen before it were there before the data began
    clients = cube.clients[cube.clients.first_date >= lead_in_end]
    first = clients.set_index(clients.client_id.astype(str)).first_date
    cohort = first.dt.to_period(freq)
    every = cube.clients.first_date.where(cube.clients.first_date >= lead_in_end).dt.to_period(freq).array
    cm = cube.client_month
    k = cube.client_rows(cm)
    frame = pd.DataFrame({"cohort": every.take(k, allow_fill=True), "period": cm.month.dt.to_period(freq).array,
                          "revenue": cm.revenue.to_numpy(), "active": (cm.orders > 0).to_numpy(), "client": k})
    frame = frame[frame.cohort.notna()]
    if frame.empty:  # no client won after the lead-in yet
        none = pd.DataFrame()
        return {"revenue": none, "retention": none, "nrr": none, "size": pd.Series(dtype="int64"),
                "first_year": pd.DataFrame(columns=["mean", "size"]), "partial": [], "lead_in_end": lead_in_end}
    revenue = frame.groupby(["cohort", "period"]).revenue.sum().unstack().fillna(0.0)
    active = frame[frame.active].groupby(["cohort", "period"]).client.nunique().unstack().fillna(0)
    size = cohort.value_counts().sort_index()
    retention = active.div(size.reindex(active.index), axis=0)
    # periods before a cohort existed are blank, not zero
    before = lambda tab: np.array([[p < c for p in tab.columns] for c in tab.index], dtype=bool)  # noqa: E731
    revenue = revenue.mask(before(revenue))
    retention = retention.reindex(columns=revenue.columns).mask(before(retention.reindex(columns=revenue.columns)))
    partial = [p for p in revenue.columns if not full_period(cube, p)]
    nrr = revenue / revenue.shift(1, axis=1).where(lambda r: r > 0)
    # a rate between two periods only when both are fully covered by the data
    gaps = [p for i, p in enumerate(revenue.columns) if p in partial or (i > 0 and revenue.columns[i - 1] in partial)]
    nrr = nrr.drop(columns=[revenue.columns[0], *gaps], errors="ignore") if len(revenue.columns) else nrr
    # first-year revenue per new client: its first 12 months from the first purchase
    d = cube.client_day
    dk = cube.client_rows(d)
    start = cube.clients.first_date.to_numpy()[dk]  # NaT (no purchase) compares False
    in_year = (d.date.to_numpy() >= start) & (d.date.to_numpy() < start + np.timedelta64(365, "D"))
    sums = np.bincount(dk[in_year], weights=d.revenue.to_numpy()[in_year], minlength=len(cube.clients))
    fy = pd.Series(sums, index=cube.clients.client_id.astype(str).to_numpy()).reindex(first.index).fillna(0.0)
    complete = first + pd.Timedelta(days=365) <= cube.as_of + pd.Timedelta(days=1)
    fy_tab = pd.DataFrame({"cohort": cohort, "first_year": fy, "complete": complete})
    first_year = fy_tab[fy_tab.complete].groupby("cohort").first_year.agg(["mean", "size"])
    return {"revenue": revenue, "retention": retention, "nrr": nrr, "first_year": first_year, "size": size,
            "partial": partial, "lead_in_end": lead_in_end}


def full_period(cube: Cube, period: pd.Period) -> bool:
    """True when the data fully cover the calendar ``period`` (a year or a quarter)."""
    return cube.profile.covers(period.start_time, period.end_time)


# --------------------------------------------------------------------------- acquisition and servicing


def acquisition(cube: Cube, freq: str = "Q") -> pd.DataFrame:
    """New clients per period (company), their number and first-year revenue (see cohort_tables)."""
    lead_in_end = cube.profile.lead_in_end
    c = cube.clients[cube.clients.first_date >= lead_in_end]  # before it, "first seen" is not "won"
    per = c.first_date.dt.to_period(freq)
    out = per.value_counts().sort_index().rename("new_clients").to_frame()
    last = min(cube.as_of, cube.profile.end).to_period(freq)
    first = lead_in_end.to_period(freq)
    if first > last:
        return out.iloc[:0]
    return out.reindex(pd.period_range(first, last, freq=freq), fill_value=0)


def saturation(cube: Cube, freq: str = "Q") -> pd.DataFrame:
    """Per manager and period: new clients won and active clients serviced (mean per month).

    One row per (manager, period) with ``new_clients`` (first purchases with the
    manager as first manager), ``active_clients`` (mean over the months of the
    period of clients with an order, by the client's first manager: the portfolio
    the manager built and services).
    """
    c = cube.clients[cube.clients.first_date >= cube.profile.lead_in_end]  # won, not there before the data
    new = c.groupby([c.first_manager.astype(str), c.first_date.dt.to_period(freq)]).size().rename("new_clients")
    cm = cube.client_month[cube.client_month.orders > 0]
    # each month's client -> its first manager through the cube's positions (no id turned into text per row);
    # a month with orders is a client with purchases, so with a first manager
    mgr = cube.clients.first_manager.astype(object).to_numpy()[cube.client_rows(cm)]
    monthly = pd.DataFrame({"manager": mgr, "month": cm.month.to_numpy()}).groupby(["manager", "month"]).size()
    monthly = monthly.rename("active").reset_index()
    monthly["period"] = monthly.month.dt.to_period(freq)
    active = monthly.groupby(["manager", "period"]).active.mean().rename("active_clients")
    out = pd.concat([new, active], axis=1).fillna(0.0)
    out.index.names = ["manager", "period"]
    out = out.reset_index()
    last = cube.as_of.to_period(freq)
    first = cube.profile.lead_in_end.to_period(freq)
    keep = (out.period <= last) & (out.period >= first) & out.manager.ne("nan")
    return out[keep].sort_values(["manager", "period"]).reset_index(drop=True)


def manager_profiles(cube: Cube, months: int = 12, hunter: float = 0.25, farmer: float = 0.10) -> pd.DataFrame:
    """Each manager as hunter, account manager or mixed.

    From the share of the manager's revenue in the last ``months`` that came
    from clients won in that time (first purchase inside the window): at least
    ``hunter`` -> hunter; at most ``farmer`` -> account manager; between -> mixed.
    """
    start = cube.as_of.normalize() - pd.DateOffset(months=months) + pd.Timedelta(days=1)
    c = cube.clients
    won_since = max(start, cube.profile.lead_in_end)
    d = cube.client_day[cube.client_day.date >= start]
    rows = cube.client_rows(d)  # positions in cube.clients: every client of client_day is there
    frame = pd.DataFrame({"manager": c.manager.astype(object).to_numpy()[rows], "revenue": d.revenue.to_numpy(),
                          "new": (c.first_date >= won_since).to_numpy()[rows], "client": rows})
    frame = frame[frame.manager.notna()]
    g = frame.groupby("manager")
    out = pd.DataFrame({"revenue": g.revenue.sum(),
                        "revenue_new": frame[frame.new].groupby("manager").revenue.sum(),
                        "clients": g.client.nunique(),
                        "clients_new": frame[frame.new].groupby("manager").client.nunique()}).fillna(0)
    out["share_new"] = (out.revenue_new / out.revenue.where(out.revenue > 0)).fillna(0)
    out["profile"] = np.where(out.share_new >= hunter, "hunter", np.where(out.share_new <= farmer, "farmer", "mixed"))
    return out.sort_values("share_new", ascending=False)


def capacity_correlation(sat: pd.DataFrame, draws: int = 400, seed: int = 0) -> dict[str, Any]:
    """The correlation of new clients won against active clients serviced across the manager-quarters of
    :func:`saturation`, with a 95 % interval from resampling whole managers (a manager's quarters are not
    independent of each other: a seeded cluster bootstrap, ``draws`` resamples).

    Returns ``corr``, ``low``, ``high`` (NaN when undefined), ``points`` and ``managers``."""
    x = sat.new_clients.to_numpy(dtype=float)
    y = sat.active_clients.to_numpy(dtype=float)
    out = {"points": int(len(sat)), "managers": int(sat.manager.nunique()), "corr": float("nan"),
           "low": float("nan"), "high": float("nan")}
    if len(sat) < 3:
        return out
    # per manager: n, sums of x, y, x², y², xy; a resample is a count per manager, its correlation from the
    # counted sums (no rows copied per draw)
    who = pd.factorize(sat.manager)[0]
    stats = np.stack([np.bincount(who, weights=w) for w in (np.ones_like(x), x, y, x * x, y * y, x * y)], axis=1)

    def corr(counts: np.ndarray) -> np.ndarray:
        n, sx, sy, sxx, syy, sxy = (counts @ stats).T
        cov, vx, vy = sxy - sx * sy / n, sxx - sx * sx / n, syy - sy * sy / n
        with np.errstate(invalid="ignore", divide="ignore"):
            return cov / np.sqrt(vx * vy)

    out["corr"] = float(corr(np.ones((1, len(stats))))[0])
    k = len(stats)
    rng = np.random.default_rng(seed)
    counts = np.stack([np.bincount(rng.integers(0, k, k), minlength=k) for _ in range(draws)]).astype(float)
    boot = corr(counts)
    boot = boot[np.isfinite(boot)]
    if len(boot) >= draws // 2 and k >= 2:
        out["low"], out["high"] = (float(v) for v in np.quantile(boot, [0.025, 0.975]))
    return out


def acquisition_change(first: int, last: int, level: float = 0.95) -> tuple[float, float, float]:
    """The change of new clients a year from ``first`` to ``last`` (counts of two equal periods), with its
    exact interval: given the total, ``last`` is binomial with share ``r / (1 + r)`` of it, ``r`` the ratio
    of the two yearly rates (Clopper-Pearson on that share, turned back into a ratio, minus 1)."""
    from scipy.stats import beta
    if first <= 0:
        return float("nan"), float("nan"), float("nan")
    tail = (1 - level) / 2
    lo = float(beta.ppf(tail, last, first + 1)) if last > 0 else 0.0
    hi = float(beta.ppf(1 - tail, last + 1, first))
    return last / first - 1, lo / (1 - lo) - 1, hi / (1 - hi) - 1


# --------------------------------------------------------------------------- cross-sell


def category_breadth(cube: Cube) -> pd.Series:
    """Mean number of categories bought per active client in consecutive 12-month windows ending at the
    data's last full month, each window fully covered by the data (a partial year would read as fewer
    categories). Indexed by the year the window ends in; empty without a category column."""
    prof = cube.profile
    if not prof.has_category or not prof.full_months:
        return pd.Series(dtype=float, name="categories")
    ccm = cube.client_category_month
    ccm = ccm[(ccm.orders > 0) & ccm.category.notna()]
    out = {}
    end = prof.full_months[-1]
    first = prof.full_months[0]
    while end - pd.DateOffset(months=11) >= first:
        start = end - pd.DateOffset(months=11)
        win = ccm[(ccm.month >= start) & (ccm.month <= end)]
        per = win.groupby("client_id", observed=True).category.nunique()
        if len(per):
            out[end.year] = float(per[per > 0].mean())
        end = end - pd.DateOffset(months=12)
    return pd.Series(out, name="categories", dtype=float).sort_index()


def penetration(cube: Cube, months: int = 12) -> pd.Series:
    """Share of the clients active in the last ``months`` that bought each category."""
    start = window_start(cube.as_of, months)
    ccm = cube.client_category_month
    recent = ccm[(ccm.month >= start) & (ccm.orders > 0)]
    active = recent.client_id.nunique()
    share = recent.groupby("category", observed=True).client_id.nunique() / max(active, 1)
    share.index = share.index.astype(str)
    return share.sort_values(ascending=False).rename("penetration")


@per_cube
def whitespace(cube: Cube, months: int = 12, min_lift: float = 0.25, top: int = 3, as_of: Any = None) -> pd.DataFrame:
    """Clients that lack a category similar clients buy, per manager.

    For each pair of categories A -> B, the share of the active clients buying A
    that also buy B. A client buying A but not B is a candidate for B with that
    share as its score (at least ``min_lift``). ``potential`` is this client's own: B's share of
    the window's revenue of the clients who buy A and B, applied to this client's revenue in the
    window (a small client gets a small potential). Up to ``top`` suggestions per client, best first.
    Empty without a category column. ``as_of``: an earlier analysis date (a backtest); default the cube's.
    """
    as_of = pd.Timestamp(as_of or cube.as_of)
    start = window_start(as_of, months)
    ccm = cube.client_category_month
    recent = ccm[(ccm.month >= start) & (ccm.month <= as_of) & (ccm.orders > 0) & ccm.category.notna()]
    if not cube.profile.has_category:
        recent = recent.iloc[:0]
    # keys stay categorical (integer codes) until the small results: ids as text only once each
    owns = recent.groupby(["client_id", "category"], observed=True).size().unstack(fill_value=0).clip(upper=1)
    owns.index, owns.columns = owns.index.astype(str), owns.columns.astype(str)
    owns = owns.sort_index().sort_index(axis=1)
    if owns.empty:
        return pd.DataFrame(columns=["manager", "client_id", "client_name", "category", "score", "potential"])
    counts = owns.T @ owns  # co-occurrence A x B
    cond = counts.div(np.diag(counts), axis=0).to_numpy(copy=True)  # P(B | A)
    np.fill_diagonal(cond, 0.0)
    o = owns.to_numpy(dtype=float)
    via = o[:, :, None] * cond[None, :, :]  # client x A x B
    best = via.argmax(axis=1)  # for each client and B, the category A it is most similar through
    score = pd.DataFrame(via.max(axis=1), index=owns.index, columns=owns.columns).where(owns == 0)
    # potential per client: B's share of the revenue of similar clients (those buying A and B), applied to
    # this client's own revenue in the window
    rev = recent.groupby(["client_id", "category"], observed=True).revenue.sum().unstack(fill_value=0.0)
    rev.index, rev.columns = rev.index.astype(str), rev.columns.astype(str)
    rev = rev.reindex(index=owns.index, columns=owns.columns, fill_value=0.0).clip(lower=0).to_numpy()
    size = rev.sum(axis=1)
    num = o.T @ (rev * o)  # A x B: revenue in B of the clients buying A and B
    den = o.T @ (o * size[:, None])  # A x B: their whole revenue
    share = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    potential = share[best, np.arange(o.shape[1])[None, :]] * size[:, None]
    long = score.stack().rename("score").reset_index()
    long.columns = ["client_id", "category", "score"]
    pot = pd.DataFrame(potential, index=owns.index, columns=owns.columns).stack()
    long["potential"] = pot.reindex(pd.MultiIndex.from_frame(long[["client_id", "category"]])).to_numpy()
    long = long[(long.score >= min_lift) & (long.potential > 0)]
    long = long.sort_values(["client_id", "score", "potential"], ascending=[True, False, False])
    long = long.groupby("client_id").head(top)
    info = cube.clients.set_index(cube.clients.client_id.astype(str))
    long["manager"] = info.manager.reindex(long.client_id).astype(object).fillna(NO_MANAGER).astype(str).to_numpy()
    long["client_name"] = info.client_name.reindex(long.client_id).to_numpy()
    return long[["manager", "client_id", "client_name", "category", "score", "potential"]].sort_values(
        ["manager", "potential"], ascending=[True, False]).reset_index(drop=True)


# --------------------------------------------------------------------------- concentration, productivity


def concentration(cube: Cube) -> pd.DataFrame:
    """Per calendar year: share of the top 10 clients, of the top 20 % of clients, the HHI (0..10000), and
    ``partial`` (the data do not cover the whole year: not comparable with a full one)."""
    cm = cube.client_month
    full = set(cube.profile.full_years())  # a partial year's shares are flagged: the diagnosis compares full ones
    rev = cm.groupby([cm.month.dt.year, cm.client_id], observed=True).revenue.sum()
    rows = {}
    for year, s in rev.groupby(level=0):
        s = s[s > 0].sort_values(ascending=False)
        total = s.sum()
        if total <= 0:
            continue
        share = s / total
        rows[year] = {"clients": len(s), "top10": share.iloc[:10].sum(),
                      "top20pct": share.iloc[:max(1, int(np.ceil(len(s) * 0.2)))].sum(),
                      "hhi": float((share ** 2).sum() * 10_000), "partial": year not in full}
    return pd.DataFrame(rows, index=["clients", "top10", "top20pct", "hhi", "partial"]).T.rename_axis("year")


def productivity(cube: Cube) -> pd.DataFrame:
    """Per full calendar year: revenue, active managers (any sale that year) and revenue per manager.

    Empty without a manager column; partial years are left out (their revenue is not a year's)."""
    years = cube.profile.full_years() if cube.profile.has_manager else []
    mm_all = cube.manager_month[cube.manager_month.month.dt.year.isin(years) & cube.manager_month.manager.notna()]
    mm = mm_all[mm_all.revenue > 0]
    g = mm.groupby(mm.month.dt.year)
    out = pd.DataFrame({"revenue": mm_all.groupby(mm_all.month.dt.year).revenue.sum(),
                        "managers": g.manager.nunique()}, columns=["revenue", "managers"])
    out["per_manager"] = out.revenue / out.managers
    return out.rename_axis("year")


# --------------------------------------------------------------------------- diagnosis


@dataclass
class Symptom:
    """One symptom of DOMAIN.md: whether the data show it, how strongly, on what figures, and the remedy.

    ``unknown``: the data cannot tell (a sentence in the report language says why); such a symptom is
    neither present nor absent, and carries no remedy.
    """

    key: Finding
    present: bool
    severity: Severity
    evidence: dict[str, Any] = field(default_factory=dict)
    unknown: Unknown | None = None  #: what is missing (its message key), with ``evidence`` as its values
    #: the remedy's simulated effect (simulation name, result) from :func:`salesbook.analysis.advice.advise`
    effect: tuple[str, dict[str, Any]] | None = None
    #: rated strong by the figures, shown mild: the simulator finds no gain in the remedy; then the
    #: simulations that do find one (what else the data point to), else ``("",)``
    capped: tuple[str, ...] = ()

    def text(self, lang: str = "en") -> str:
        if self.unknown and self.unknown.startswith("asg."):  # no stable assignment: the measure, in lang
            return unstable_sentence(self.evidence, lang, self.unknown)
        kinds = EVIDENCE.get(self.key, {})
        if self.unknown:
            return t(self.unknown, lang, **{k: _fmt(v, lang, kinds.get(k)) for k, v in self.evidence.items()})
        return t(f"diag.{self.key}", lang, **{k: _fmt(v, lang, kinds.get(k)) for k, v in self.evidence.items()})

    def remedy(self, lang: str = "en") -> str:
        """The remedy, with its simulated effect when the what-if has one (and why it is not rated strong)."""
        text = t(f"remedy.{self.key}", lang)
        if self.effect is not None:
            from salesbook.analysis.advice import effect_text
            text += " " + effect_text(*self.effect, lang)
            others = [c for c in self.capped if c]
            if others:
                text += " " + t("story.capped_others", lang, others=t("story.and", lang).join(t(f"story.sim.{c}", lang) for c in others))
            elif self.capped:
                text += " " + t("story.capped", lang)
        return text


def _fmt(v: Any, lang: str = "en", kind: Kind | None = None) -> str:
    """A finding's figure by the kind it was given where it was computed (:class:`~salesbook.formats.Measure`),
    else by the kind its finding declares (:data:`EVIDENCE`); an int is a count, a string is written as it
    is. A float of no kind is an error, never a guess."""
    if isinstance(v, Measure):
        return fmt_measure(v, lang)
    if isinstance(v, float) and kind is not None:
        return fmt_measure(Measure(v, kind, signed=kind is Kind.SHARE), lang)
    if isinstance(v, float):
        raise TypeError(f"a finding's figure {v!r} has no kind: give it one where it is computed (formats.as_share...)")
    return str(v)


def _slope(y: pd.Series) -> float:
    """Least-squares slope of ``y`` against 0..n-1 as a share of its mean, per step."""
    y = y.dropna()
    if len(y) < 3 or y.mean() == 0:
        return float("nan")
    x = np.arange(len(y), dtype=float)
    return float(np.polyfit(x, y.to_numpy(dtype=float), 1)[0] / y.mean())


def _cannot(key: Finding, why: Unknown, **values: Any) -> Symptom:
    return Symptom(key, False, Severity.NONE, {k: str(v) for k, v in values.items()}, unknown=why)


@per_cube
def diagnose(cube: Cube, rules: DiagnosisRules = DiagnosisRules()) -> dict[str, Any]:
    """The structured finding: the verdict and each symptom with its evidence and severity.

    Each symptom is judged only on the evidence :attr:`Cube.profile` says the data hold (full years,
    the columns it needs, enough managers and quarters); otherwise it is ``unknown``, with the reason.
    ``rules``: every threshold (:class:`DiagnosisRules`); an int is read as ``trend_months`` (old calls).
    The findings on managers' portfolios (``capacity``, ``no_hunters``) also need a stable client ->
    manager assignment (:func:`salesbook.analysis.assignment.stability`, ``rules.assignment``): without
    one they are ``unknown`` and say so with the measure. A comparison that reads an effect is rated
    only when its interval excludes zero: the fall of acquisition (an exact interval of the ratio of two
    years' counts) and the capacity correlation (resampling managers).
    """
    if not isinstance(rules, DiagnosisRules):
        rules = DiagnosisRules(trend_months=int(rules))
    r = rules
    prof = cube.profile
    ev = prof.evidence
    flat = flatness(cube, r.trend_months, r.flat_threshold)
    symptoms: list[Symptom] = []
    need = {"need": ev.trend_months, "months": prof.n_full}
    if flat["verdict"] == Verdict.UNKNOWN:
        symptoms.append(_cannot(Finding.FLAT, Unknown.TREND, **need))
    else:
        symptoms.append(Symptom(Finding.FLAT, flat["verdict"] != Verdict.GROWING, Severity.STRONG if flat["verdict"] == Verdict.DECLINING
                                else (Severity.MILD if flat["verdict"] == Verdict.FLAT else Severity.NONE),
                                {"slope": flat["slope_per_year"], "low": flat["low"], "high": flat["high"],
                                 "months": flat["months"]}))

    def sev(value: float, mild: float, strong: float, lower_is_worse: bool = True) -> str:
        if value is None or np.isnan(value):
            return Severity.NONE
        v = -value if lower_is_worse else value
        return Severity.STRONG if v >= strong else Severity.MILD if v >= mild else Severity.NONE

    # acquisition: new clients in full years after the lead-in, at least two of them
    acq = acquisition(cube, "Y")["new_clients"]
    years = set(prof.full_years())
    per_year = acq[[p.year in years and p.start_time >= prof.lead_in_end for p in acq.index]].astype(float)
    acq_change = per_year.iloc[-1] / per_year.iloc[0] - 1 if len(per_year) > 1 and per_year.iloc[0] > 0 else np.nan
    if len(per_year) < 2:
        symptoms.append(_cannot(Finding.ACQUISITION, Unknown.YEARS_ACQUISITION, years=len(per_year),
                                since=prof.lead_in_end.date()))
    else:
        _, _, acq_high = acquisition_change(int(per_year.iloc[0]), int(per_year.iloc[-1]))
        # a fall within the counts' noise (the interval reaches no change) is not rated
        symptoms.append(Symptom(Finding.ACQUISITION, False,
                                sev(acq_change, r.acquisition_mild, r.acquisition_strong) if acq_high < 0 else Severity.NONE,
                                {"first": int(round(per_year.iloc[0])), "last": int(round(per_year.iloc[-1])),
                                 "change": as_share(acq_change), "first_year": str(per_year.index[0]),
                                 "last_year": str(per_year.index[-1])}))
    # the findings on managers' portfolios (capacity, hunters) need clients that belong to a manager
    stab = stability(cube, r.assignment) if prof.has_manager else {"stable": None}
    unstable = stab["stable"] is False
    # capacity: needs managers, a stable assignment and enough manager-quarters; rated only beyond noise
    sat = saturation(cube, "Q") if prof.has_manager else pd.DataFrame(columns=["manager", "new_clients", "active_clients"])
    enough = len(sat) >= ev.correlation_points and sat.manager.nunique() >= ev.correlation_managers
    cap = capacity_correlation(sat) if enough and not unstable else {"corr": np.nan}
    corr = cap["corr"]
    if not prof.has_manager:
        symptoms.append(_cannot(Finding.CAPACITY, Unknown.NO_MANAGER))
    elif unstable:
        symptoms.append(Symptom(Finding.CAPACITY, False, Severity.NONE, stab, unknown=Unknown.UNSTABLE_MANAGERS))
    elif not enough or np.isnan(corr):
        symptoms.append(_cannot(Finding.CAPACITY, Unknown.POINTS, points=len(sat), need=ev.correlation_points,
                                managers=int(sat.manager.nunique()), need_managers=ev.correlation_managers))
    elif corr <= r.capacity_mild and not cap["high"] < 0:  # negative, but the interval includes zero: noise
        symptoms.append(Symptom(Finding.CAPACITY, False, Severity.NONE,
                                {"points": cap["points"], "corr": as_number(corr, signed=True),
                                 "low": as_number(cap["low"], signed=True), "high": as_number(cap["high"], signed=True)},
                                unknown=Unknown.CAPACITY_NOISE))
    else:
        symptoms.append(Symptom(Finding.CAPACITY, False, Severity.STRONG if corr <= r.capacity_strong else Severity.MILD
                                if corr <= r.capacity_mild else Severity.NONE,
                                {"corr": as_number(corr), "low": as_number(cap["low"]), "high": as_number(cap["high"])}))
    # cross-sell: categories and at least three full years (an early and a recent change)
    breadth = category_breadth(cube)
    if not prof.has_category:
        symptoms.append(_cannot(Finding.CROSSSELL, Unknown.NO_CATEGORY))
    elif len(breadth) < 3:
        symptoms.append(_cannot(Finding.CROSSSELL, Unknown.YEARS_CROSSSELL, years=len(breadth)))
    else:
        b_recent, b_early = breadth.iloc[-1] - breadth.iloc[-2], breadth.iloc[1] - breadth.iloc[0]
        recent_low = b_recent < r.crosssell_recent
        symptoms.append(Symptom(Finding.CROSSSELL, False, Severity.STRONG if (recent_low and b_early > r.crosssell_early_factor
                                                                 * max(b_recent, 0.01))
                                else Severity.MILD if recent_low else Severity.NONE,
                                {"early": as_number(b_early, signed=True), "recent": as_number(b_recent, signed=True),
                                 "breadth": as_number(breadth.iloc[-1])}))
    # existing clients: the last covered bridge
    bridges = yearly_bridges(cube)
    last = bridges.iloc[-1] if len(bridges) else None
    if last is None or not last["before"]:
        symptoms.append(_cannot(Finding.EXISTING, Unknown.BRIDGE, window=ev.bridge_months, need=2 * ev.bridge_months,
                                months=prof.n_full))
    else:
        growth_existing = (last["growth"] + last["decline"]) / last["before"]
        symptoms.append(Symptom(Finding.EXISTING, False, sev(growth_existing, r.existing_mild, r.existing_strong),
                                {"change": as_share(growth_existing), "new_share": as_share(last["new"] / last["before"]),
                                 "end": str(pd.Timestamp(last["end"]).date())}))
    conc = concentration(cube)
    conc = conc[~conc.partial.astype(bool)] if len(conc) else conc
    if len(conc) < 2:
        symptoms.append(_cannot(Finding.CONCENTRATION, Unknown.YEARS_CONCENTRATION, years=len(conc)))
    else:
        top10_change = conc.top10.iloc[-1] - conc.top10.iloc[0]
        symptoms.append(Symptom(Finding.CONCENTRATION, False, Severity.STRONG if top10_change >= r.concentration_strong
                                else Severity.MILD if top10_change >= r.concentration_mild else Severity.NONE,
                                {"top10": as_share(conc.top10.iloc[-1]), "change": as_share(top10_change),
                                 "first_year": str(conc.index[0]), "last_year": str(conc.index[-1])}))
    prod = productivity(cube)
    if not prof.has_manager:
        symptoms.append(_cannot(Finding.PRODUCTIVITY, Unknown.NO_MANAGER))
    elif len(prod) < 3:
        symptoms.append(_cannot(Finding.PRODUCTIVITY, Unknown.YEARS_PRODUCTIVITY, years=len(prod)))
    else:
        prod_change = _slope(prod.per_manager)
        symptoms.append(Symptom(Finding.PRODUCTIVITY, False, Severity.MILD if abs(prod_change) < r.productivity_change
                                and flat["verdict"] == Verdict.FLAT else Severity.STRONG
                                if prod_change <= -r.productivity_change else Severity.NONE,
                                {"change": as_share(prod_change), "per_manager": as_money(prod.per_manager.iloc[-1]),
                                 "year": str(prod.index[-1])}))
    if not prof.has_manager:
        symptoms.append(_cannot(Finding.NO_HUNTERS, Unknown.NO_MANAGER))
    elif unstable:
        symptoms.append(Symptom(Finding.NO_HUNTERS, False, Severity.NONE, stab, unknown=Unknown.UNSTABLE_MANAGERS))
    elif prof.lead_in_end > cube.as_of - pd.DateOffset(months=12):
        symptoms.append(_cannot(Finding.NO_HUNTERS, Unknown.WON, until=prof.lead_in_end.date()))
    else:
        profiles = manager_profiles(cube, hunter=r.hunter_share, farmer=r.farmer_share)
        hunters = int((profiles.profile == "hunter").sum())
        symptoms.append(Symptom(Finding.NO_HUNTERS, False, Severity.STRONG if hunters == 0 else Severity.MILD
                                if hunters <= r.few_hunters else Severity.NONE,
                                {"hunters": hunters, "managers": len(profiles)}))
    by_key = {s.key: s for s in symptoms}
    if by_key[Finding.ACQUISITION].severity == Severity.NONE and not by_key[Finding.NO_HUNTERS].unknown:
        by_key[Finding.NO_HUNTERS].severity = Severity.NONE  # few hunters only matters when acquisition falls
    for s in symptoms:
        s.present = s.severity != Severity.NONE
    causes = [s.key for s in symptoms if s.present and s.key in CAUSES]
    from salesbook.analysis.walk import revenue_walk  # the walk: where the year's change went, in money
    return {"verdict": flat["verdict"], "flatness": flat, "symptoms": symptoms, "causes": causes,
            "bridges": bridges, "acquisition_per_year": per_year, "walk": revenue_walk(cube)}


def verdict_text(diagnosis: dict[str, Any], lang: str = "en") -> str:
    """The one headline sentence: the verdict with its period and interval, or why there is none yet."""
    flat = diagnosis["flatness"]
    if diagnosis["verdict"] == Verdict.UNKNOWN:
        return next(s for s in diagnosis["symptoms"] if s.key == Finding.FLAT).text(lang)
    from salesbook.formats import fact
    f = lambda v: _fmt(v, lang, Kind.SHARE)  # noqa: E731 - the trend and its interval: shares of the level a year
    slope = fact("trend.per_year", f(flat["slope_per_year"]), flat["slope_per_year"])
    return t("memo.verdict." + diagnosis["verdict"], lang, slope=slope, low=f(flat["low"]),
             high=f(flat["high"]), months=flat["months"])


def headline(diagnosis: dict[str, Any], lang: str = "en", rules: DiagnosisRules = DiagnosisRules()) -> str:
    """The one story of the summary's first line: the long-run verdict, the last 12 months against the 12
    before, and what the bridge says made that move, each with its period and base.

    The trend (seasonally adjusted, over ``trend_months``) answers "are we growing?"; the last 12 months
    say where the company stands now, and the bridge of those months names the biggest part of the move
    and what offset it. When the two disagree (a flat trend, a fall of the last 12 months of at least
    ``recent_change``) the sentence says so. Without a covered bridge it is the verdict alone.
    """
    from salesbook.formats import fact, fmt_money, fmt_pct
    text = [verdict_text(diagnosis, lang)]
    bridges = diagnosis.get("bridges")
    if bridges is None or not len(bridges) or not bridges.iloc[-1]["before"]:
        return text[0]
    last = bridges.iloc[-1]
    before, after = float(last["before"]), float(last["after"])
    change = after / before - 1
    end = str(pd.Timestamp(last["end"]).date())
    verdict = diagnosis["verdict"]
    if abs(change) < rules.recent_change:
        kind = "in_line"
    elif change < 0:
        kind = "fell_but" if verdict in (Verdict.FLAT, Verdict.GROWING) else "fell"
    else:
        kind = "rose_but" if verdict in (Verdict.FLAT, Verdict.DECLINING) else "rose"
    if verdict == Verdict.UNKNOWN:
        kind = "only_recent"
    parts = {p: float(last[p]) for p in BRIDGE_PARTS}
    gained = parts["new"] + parts["reactivated"]
    parts["decline"] = parts["growth"] + parts["decline"]  # retained clients on balance
    if change < 0:  # what took the revenue away, and what made up for it
        driver = "lost" if parts["lost"] <= parts["decline"] else "decline"
        text.append(t(f"story.recent.{kind}", lang, change=fact("turnover.change", fmt_pct(
                          change if kind in ("in_line", "only_recent") else -change, lang,
                          signed=kind in ("in_line", "only_recent")), change),
                      end=end, before=fmt_money(before, lang), after=fmt_money(after, lang)))
        text.append(t(f"story.driver.{driver}", lang, money=fmt_money(parts[driver], lang),
                      gained=fmt_money(gained, lang), share=fmt_pct(gained / -parts[driver], lang)
                      if parts[driver] else "–"))
    else:
        parts["growth"] = parts["decline"]  # retained clients on balance
        driver = "new" if gained >= parts["growth"] else "growth"
        text.append(t(f"story.recent.{kind}", lang, change=fact("turnover.change", fmt_pct(
                          change, lang, signed=kind in ("in_line", "only_recent")), change),
                      end=end, before=fmt_money(before, lang), after=fmt_money(after, lang)))
        text.append(t(f"story.driver.up_{driver}", lang, money=fmt_money(gained if driver == "new" else parts["growth"], lang),
                      lost=fmt_money(parts["lost"], lang)))
    if verdict != Verdict.UNKNOWN:
        text.append(t("story.which", lang, months=diagnosis["flatness"]["months"]))
    return " ".join(text)


def memo(diagnosis: dict[str, Any], lang: str = "en", rules: DiagnosisRules = DiagnosisRules(),
         warnings: "list[str] | tuple[str, ...]" = ()) -> str:
    """A one-page finding in Markdown: the headline (:func:`headline`, the summary's first line), the
    symptoms with their figures and remedies, the early warnings (``warnings``:
    :func:`salesbook.analysis.alerts.early_warning_lines`), and what the data cannot tell yet (once each,
    with the reason)."""
    from salesbook.formats import escape
    lines = [f"**{escape(headline(diagnosis, lang, rules))}**", ""]
    present = [s for s in diagnosis["symptoms"] if s.present]
    if diagnosis["verdict"] not in (Verdict.GROWING, Verdict.UNKNOWN) and diagnosis["causes"]:
        lines.append(t("memo.mechanism", lang))
        lines.append("")
    for s in present:
        lines.append(f"- **{t('sev.' + s.severity, lang)}** — {escape(s.text(lang))} "
                     f"{t('memo.remedy', lang)}: {escape(s.remedy(lang))}")
    if not present:
        lines.append(t("memo.no_symptoms", lang))
    if diagnosis.get("walk") is not None:  # the revenue walk's findings: a fall in price, the largest fall
        from salesbook.analysis.walk import memo_lines
        lines += [f"- {escape(x)}" for x in memo_lines(diagnosis["walk"], lang)]
    if warnings:
        lines += ["", t("risk.memo_head", lang)] + [f"- {escape(w)}" for w in warnings]
    unknown = [s for s in diagnosis["symptoms"] if s.unknown and s.key != Finding.FLAT]  # the trend: the headline
    if unknown:
        lines += ["", t("memo.cannot_tell", lang)]
        seen: set[str] = set()
        for s in unknown:
            text = s.text(lang)
            if text not in seen:
                seen.add(text)
                lines.append(f"- {escape(text)}")
    return "\n".join(lines)
