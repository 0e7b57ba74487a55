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

import pandas as pd

from .cube import Cube
from .segments import TARGET_CATEGORIES, classify_clients, reactivation_list

__all__ = ["Calibration", "calibrate", "Levers", "simulate", "LEVERS"]

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

    @property
    def total(self) -> float:
        return float(self.baseline.sum())


def calibrate(cube: Cube, max_months_asleep: int = 24) -> Calibration:
    """Read every baseline figure from the data at ``cube.as_of``."""
    from .stagnation import revenue_bridge
    classes = classify_clients(cube)
    base = classes.groupby("category").revenue.sum()
    sleepers = reactivation_list(cube, classes, max_months_asleep)
    target = classes[classes.category.isin(TARGET_CATEGORIES)]
    active = classes[classes.active_months > 0]
    cat_slots = float(active.categories.sum())
    end = cube.as_of.normalize()
    s1 = end - pd.DateOffset(months=12) + pd.Timedelta(days=1)
    parts, _ = revenue_bridge(cube, (s1, end), (s1 - pd.DateOffset(months=12), s1 - pd.Timedelta(days=1)))
    return Calibration(
        baseline=base, sleeping_clients=int(len(sleepers)), sleeping_yearly=float(sleepers.yearly_revenue.sum()),
        repeat_revenue=target.groupby("category").revenue.sum(),
        active_clients=active.groupby("category").size(),
        revenue_per_category=float(active.revenue.clip(lower=0).sum() / cat_slots) if cat_slots else 0.0,
        lost_revenue=float(-parts["lost"]))


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
