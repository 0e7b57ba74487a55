"""What-if: the account-management levers and their 12-month revenue effect, calibrated on the data.

Plain functions of plain parameters (a papermill run and a test call them
directly); the widgets only move the parameters.

The baseline is the revenue of the last 12 months per client category. The
levers apply in a fixed order, each to what the previous ones left:

1. reactivate ``reactivate`` (share) of the sleeping clients: they bring back
   that share of what they bought a year before they stopped;
2. raise purchase frequency of the repeat buyers (target categories) by ``frequency``;
3. raise their average deal by ``deal_size``;
4. sell ``categories`` more categories per active client, each worth the
   average revenue of one category of one client;
5. cut the revenue lost with lost clients (last 12 months' bridge) by ``retain``.

With every lever at zero the result is the baseline exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salesbook.cube import Cube
from salesbook.analysis.segments import TARGET_CATEGORIES, classify_clients, reactivation_list

__all__ = ["Calibration", "calibrate", "Levers", "simulate", "LEVERS", "OrgCalibration", "calibrate_org", "project",
           "reorg_lacks", "active_managers", "hunter_rates"]

LEVERS = ("reactivation", "frequency", "deal_size", "categories", "retention")


@dataclass
class Calibration:
    """The company's own numbers each lever starts from."""

    baseline: pd.Series  #: revenue of the last 12 months by client category
    sleeping_clients: int
    sleeping_yearly: float  #: what the sleeping clients bought a year before stopping
    repeat_revenue: pd.Series  #: last-12-month revenue of repeat buyers (target categories), by category
    active_clients: pd.Series  #: clients with an order in the last 12 months, by category
    revenue_per_category: float  #: revenue of one category of one client a year (mean)
    lost_revenue: float  #: what lost clients bought in the 12 months before (bridge, positive)
    extras: dict[str, float] = field(default_factory=dict)
    as_of: str = ""  #: the analysis date the figures run to (ISO): the 12 months to it, and the 12 after

    @property
    def total(self) -> float:
        return float(self.baseline.sum())


def calibrate(cube: Cube, max_months_asleep: int = 24, rules: Any = None) -> Calibration:
    """Read every baseline figure from the data at ``cube.as_of``, with the run's category ``rules``
    (:class:`salesbook.analysis.segments.Rules`; default the defaults) and reactivation lists."""
    from salesbook.analysis.stagnation import last_bridge
    classes = classify_clients(cube, cube.as_of, rules) if rules is not None else classify_clients(cube)
    base = classes.groupby("category").revenue.sum()
    sleepers = reactivation_list(cube, classes, max_months_asleep)
    target = classes[classes.category.isin(TARGET_CATEGORIES)]
    active = classes[classes.active_months > 0]
    cat_slots = float(active.categories.sum()) if cube.profile.has_category else 0.0
    # the loss of the last 12 months, only when the data cover them and the 12 before (else no retention lever)
    covered = cube.profile.lacks("bridge") is None
    parts = last_bridge(cube)[0] if covered else pd.Series({"lost": 0.0})
    return Calibration(
        baseline=base, sleeping_clients=int(len(sleepers)), sleeping_yearly=float(sleepers.yearly_revenue.sum()),
        repeat_revenue=target.groupby("category").revenue.sum(),
        active_clients=active.groupby("category").size(),
        revenue_per_category=float(active.revenue.clip(lower=0).sum() / cat_slots) if cat_slots else 0.0,
        lost_revenue=float(-parts["lost"]), extras={"bridge_covered": float(covered)},
        as_of=str(cube.as_of.date()))


@dataclass(frozen=True)
class Levers:
    """Lever settings: shares are fractions (0.1 = 10 %), ``categories`` is a count per client."""

    reactivate: float = 0.0
    frequency: float = 0.0
    deal_size: float = 0.0
    categories: float = 0.0
    retain: float = 0.0


def simulate(cal: Calibration, levers: Levers) -> dict[str, object]:
    """The 12-month revenue with the levers: the waterfall by lever and the effect by client category.

    Returns ``baseline``, ``result``, ``steps`` (lever -> revenue added, in the
    order of the module doc) and ``by_category`` (frame: baseline, effect, result).
    """
    base = cal.baseline.astype(float)
    effect = pd.Series(0.0, index=base.index.union(["sleeping"]))
    steps: dict[str, float] = {}
    # 1. reactivation: on the sleeping clients
    react = levers.reactivate * cal.sleeping_yearly
    effect["sleeping"] += react
    steps["reactivation"] = react
    # 2.-3. frequency and deal size: on the repeat buyers' revenue, multiplicative
    repeat = cal.repeat_revenue.reindex(effect.index).fillna(0.0)
    freq = repeat * levers.frequency
    deal = repeat * (1 + levers.frequency) * levers.deal_size
    effect += freq + deal
    steps["frequency"] = float(freq.sum())
    steps["deal_size"] = float(deal.sum())
    # 4. breadth: more categories per active client
    cats = cal.active_clients.reindex(effect.index).fillna(0) * levers.categories * cal.revenue_per_category
    effect += cats
    steps["categories"] = float(cats.sum())
    # 5. fewer lost clients: part of last year's loss is kept (spread over the categories by revenue)
    kept = levers.retain * cal.lost_revenue
    weights = base.clip(lower=0) / base.clip(lower=0).sum() if base.clip(lower=0).sum() else base * 0
    effect += (weights.reindex(effect.index).fillna(0.0) * kept)
    steps["retention"] = kept
    table = pd.DataFrame({"baseline": base.reindex(effect.index).fillna(0.0), "effect": effect})
    table["result"] = table.baseline + table.effect
    return {"baseline": cal.total, "result": cal.total + sum(steps.values()), "steps": steps, "by_category": table}


# --------------------------------------------------------------------------- reorganisation simulator


@dataclass
class OrgCalibration:
    """The company's own numbers the reorganisation simulator starts from (all at ``as_of``)."""

    managers: int  #: managers with sales in the last 12 months
    active_clients: int  #: clients with an order in the last 12 months
    capacity: float  #: buying clients a month one account manager services (90th percentile, last 4 quarters)
    load: float  #: buying clients a month per manager now (mean, last 4 quarters)
    new_per_month: float  #: new clients a month now (last 12 months)
    hunter_rate: float  #: new clients a month a manager won while his portfolio was below the median
    first_year_revenue: float  #: mean first-year revenue of a new client (complete recent cohorts)
    retention: float  #: share of a new client's first-year revenue kept in the following years
    existing_change: float  #: yearly change of existing clients' revenue (bridge: growth+decline+lost)
    base_revenue: float  #: revenue of the last 12 months
    season: list[float]  #: seasonal index by calendar month (1 = average)
    deals_per_month: float = 1.0  #: orders a month of a new client in its first year (a trigger in deals -> months)
    handover_retention: float = 1.0  #: handed clients still buying a year on, against kept ones (handovers.compare)
    handover_measured: dict[str, Any] = field(default_factory=dict)  #: what that rests on (empty: not measured)


def parse_trigger(trigger: str) -> tuple[str, float]:
    """``deals:N``, ``months:N`` or ``amount:X`` as (kind, number); anything else a :class:`ParameterError`."""
    from salesbook.errors import ParameterError
    kind, _, value = str(trigger).partition(":")
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if kind not in ("deals", "months", "amount") or number < 0:
        raise ParameterError(f"handover {trigger!r}: write deals:N, months:N or amount:X (e.g. deals:2)")
    return kind, number


def handover_months(cal: OrgCalibration, trigger: str = "deals:2") -> float:
    """A hand-over trigger as months after a client is won: ``deals:N`` (its N-th deal, at the pace of new
    clients' first year), ``months:N``, or ``amount:X`` (its purchases reaching X at first-year pace)."""
    kind, number = parse_trigger(trigger)
    if kind == "months":
        return number
    if kind == "deals":
        return number / cal.deals_per_month if cal.deals_per_month > 0 else number
    monthly = cal.first_year_revenue / 12
    return number / monthly if monthly > 0 else 12.0


def active_managers(cube: Cube) -> int:
    """Managers with sales in the 12 months up to ``as_of`` (from the first day of that window's month)."""
    from salesbook.analysis.stagnation import bridge_windows
    since = bridge_windows(cube.as_of.normalize())[0][0].to_period("M").to_timestamp()
    mm = cube.manager_month
    return int(mm.loc[(mm.month >= since) & (mm.revenue > 0), "manager"].nunique())


def calibrate_org(cube: Cube) -> OrgCalibration:
    from salesbook.analysis.seasonality import complete_series, seasonal_profile
    from salesbook.analysis.stagnation import bridge_windows, cohort_tables, last_bridge, saturation
    end = cube.as_of.normalize()
    s1 = bridge_windows(end)[0][0]
    parts, detail = last_bridge(cube)
    before = float(detail.before.sum())
    sat = saturation(cube, "Q")
    recent = sat[sat.period >= (cube.as_of.to_period("Q") - 3)]
    rates = hunter_rates(sat)
    co = cohort_tables(cube, "Y")
    fy = co["first_year"]
    fy = fy[fy["size"] >= 10]
    ret = co["revenue"]
    kept = []
    for c in ret.index:  # revenue of the 2nd full year over the 1st full year of each cohort
        cols = [p for p in ret.columns if p > c]
        if len(cols) >= 2 and ret.loc[c, cols[0]] > 0:
            kept.append(ret.loc[c, cols[1]] / ret.loc[c, cols[0]])
    prof = seasonal_profile(complete_series(cube), stl=False)
    season = prof.index.fillna(1.0).tolist() if prof.enough else [1.0] * 12
    new_12 = int(((cube.clients.first_date >= s1) & (cube.clients.first_date <= end + pd.Timedelta(days=1))).sum())
    return OrgCalibration(
        managers=active_managers(cube),
        active_clients=int(cube.client_day.loc[(cube.client_day.date >= s1) & (cube.client_day.orders > 0),
                                               "client_id"].nunique()),
        capacity=float(recent.active_clients.quantile(0.9)) if len(recent) else 0.0,
        load=float(recent.groupby("manager").active_clients.mean().mean()) if len(recent) else 0.0,
        new_per_month=new_12 / 12,
        hunter_rate=float(rates.mean()) if len(rates) else 0.0,
        first_year_revenue=float(fy["mean"].iloc[-3:].mean()) if len(fy) else 0.0,
        retention=float(pd.Series(kept).median()) if kept else 1.0,
        existing_change=float((parts["growth"] + parts["decline"] + parts["lost"]) / before) if before else 0.0,
        base_revenue=float(detail.after.sum()), season=[float(s) for s in season],
        deals_per_month=_new_client_pace(cube), **_handover_retention(cube))


def hunter_rates(sat: pd.DataFrame) -> np.ndarray:
    """New clients a month won by managers with a lighter load (at most the median active clients), one value
    per manager and quarter of ``stagnation.saturation``: what a hunter's rate is calibrated on."""
    low = sat[sat.active_clients <= sat.active_clients.median()]
    return low.new_clients.to_numpy(dtype=float) / 3


def _new_client_pace(cube: Cube) -> float:
    """Orders a month of clients won in the two years before the last one, over their first 12 months."""
    c = cube.clients
    end = cube.as_of.normalize() - pd.DateOffset(months=12)
    won = c[(c.first_date > end - pd.DateOffset(months=24)) & (c.first_date <= end)]
    if won.empty:
        return 1.0
    d = cube.client_day
    d = d[d.client_id.isin(won.client_id)]
    first = won.set_index(won.client_id.astype(str)).first_date.reindex(d.client_id.astype(str)).to_numpy()
    year = d[(d.date.to_numpy() < first + np.timedelta64(365, "D"))]
    return float(year.orders.sum() / len(won) / 12) or 1.0


def _handover_retention(cube: Cube) -> dict[str, Any]:
    """Handed clients' retention against kept ones, measured (handovers.compare), or none lost when it
    cannot be measured (and then said so)."""
    from salesbook.analysis.handovers import compare
    if not cube.profile.has_manager:
        return {}
    res = compare(cube)
    if res["unknown"] or not res.get("retained_kept"):
        return {"handover_measured": {}}
    return {"handover_retention": float(min(1.0, res["retained_handed"] / res["retained_kept"])),
            "handover_measured": {"handed": res["handed"], "kept": res["kept"], "low": res["low"], "high": res["high"]}}


def project(cal: OrgCalibration, hunters: int = 0, hunter_rate: float | None = None, ramp_months: int = 3,
            months: int = 36, overflow_loss: float = 0.3, start: Any = None, handover: str = "deals:2") -> pd.DataFrame:
    """Monthly revenue for ``months`` under the status quo and with ``hunters`` split from the account managers.

    Status quo: existing clients' revenue changes by ``existing_change`` a year;
    new clients keep coming at today's rate, each bringing its first-year revenue
    in its first year and ``retention`` of it every year after. Reorganised (``hunters`` > 0): the
    hunters win ``hunter_rate`` new clients a month each after a linear ramp of
    ``ramp_months``; the account managers left win at today's rate per manager;
    clients beyond the account managers' capacity are at risk: a share
    ``overflow_loss`` of their revenue is lost a year. The hunters hand each client they win to an account
    manager at the ``handover`` trigger (:func:`handover_months`); from then on only ``handover_retention`` of
    those clients stay (measured on the company's own hand-overs, else none lost). Seasonal by calendar month.
    """
    hand_at = handover_months(cal, handover)
    rate_h = cal.hunter_rate if hunter_rate is None else hunter_rate
    am = max(cal.managers - hunters, 1)
    load_after = cal.load * cal.managers / am  # the hunters' clients move to the account managers left
    overflow = max(0.0, 1 - cal.capacity / load_after) if load_after > 0 else 0.0
    start = pd.Timestamp(start) if start is not None else pd.Timestamp.today().to_period("M").to_timestamp()
    idx = pd.date_range(start, periods=months, freq="MS")
    monthly_base = cal.base_revenue / 12

    def run(new_rate: list[float], extra_loss: float, handed: list[float] | None = None) -> list[float]:
        out, cohorts = [], []  # cohorts: (month index of acquisition, clients)
        for k in range(months):
            cohorts.append((k, new_rate[k] - (handed[k] if handed else 0.0)))
            if handed:  # the hunters' clients: kept at the measured rate once handed over
                cohorts.append((k, handed[k], True))
            # the base year's level sits at its middle, 6.5 months before the first projected month
            existing = monthly_base * (1 + cal.existing_change - extra_loss) ** ((k + 6.5) / 12)
            fresh = 0.0
            for k0, n, *was_handed in cohorts:
                age = k - k0
                kept = cal.handover_retention if was_handed and age >= hand_at else 1.0
                fresh += n * kept * cal.first_year_revenue / 12 * (1.0 if age < 12 else cal.retention)
            out.append((existing + fresh) * cal.season[idx[k].month - 1])
        return out

    status = run([cal.new_per_month] * months, 0.0)
    ramp = [min(1.0, (k + 1) / max(ramp_months, 1)) for k in range(months)]
    per_manager = cal.new_per_month / max(cal.managers, 1)
    hunted = [hunters * rate_h * r for r in ramp]
    reorg = run([am * per_manager + h for h in hunted], overflow * overflow_loss if hunters else 0.0, hunted)
    return pd.DataFrame({"status_quo": status, "reorganised": reorg}, index=idx)


def reorg_lacks(cube: Cube, hunters: int) -> tuple[str, dict[str, Any]] | None:
    """Why the reorganisation cannot be simulated on these data (a message key and its values), or ``None``.

    It needs managers (a manager column, at least two active), a stable client -> manager assignment (the
    portfolios, their load and a hunter's rate are read from it: ``asg.unstable_reorg`` with the measure
    of :func:`salesbook.analysis.assignment.stability` otherwise), fewer hunters than managers, and the
    last 12 months with the 12 before fully covered (the existing clients' change comes from that bridge).
    """
    from salesbook.analysis.assignment import stability
    prof = cube.profile
    if not prof.has_manager:
        return "wi.lacks.no_manager", {}
    stab = stability(cube)
    if stab["stable"] is False:
        return "asg.unstable_reorg", stab
    managers = active_managers(cube)
    if managers < 2:
        return "wi.lacks.managers", {"managers": managers}
    if hunters >= managers:
        return "wi.lacks.hunters", {"hunters": hunters, "managers": managers}
    if prof.lacks("bridge") is not None:
        return "wi.lacks.bridge", {"months": prof.n_full}
    return None
