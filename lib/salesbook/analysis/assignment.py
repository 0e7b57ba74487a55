"""Assignment stability: do clients have a manager, or does each order go to whoever is free?

Every finding about managers' portfolios (hand-overs, hunters against account managers, the load of a
portfolio against acquisition) assumes that a client *belongs* to a manager for a while. When clients
change manager with nearly every order (a call centre, a pool, an export where the manager column is the
clerk who keyed the order in), a "hand-over" is noise and a manager's "portfolio" is a random draw: any
comparison built on them finds effects that are not there. This module measures the assignment, and
the analyses that need one say so, with the measure, instead of a comparison.

Operational definitions (every threshold a parameter of :class:`AssignmentRules`):

- **Serving manager** of a client in a month: the manager of its purchases that month (the one with
  most revenue when there are several; ties by name). Months without a purchase have none.
- **Continuity**: over every pair of consecutive purchase months of one client, the share in which the
  serving manager is the same as in the previous purchase month.
- **Chance**: the continuity a random assignment would give with the same managers' loads: for each
  pair, the probability that two independent draws from the two months' shares of clients by manager
  agree (the sum over managers of the product of the shares), averaged over the pairs. With ``M``
  managers of equal load it is ``1 / M``.
- **Stability**: continuity beyond chance, ``(continuity - chance) / (1 - chance)`` (Cohen's kappa of a
  client's manager against its manager the purchase month before): 1 when clients keep their manager,
  0 when they change it as often as a random draw would. With a single manager it is 1.
- **Stable assignment**: stability at least ``min_stability``. Below ``min_pairs`` consecutive purchase
  months the data cannot tell (``stable`` is ``None``) and nothing is gated on it.

Why the continuity of consecutive months, not "the share of clients served by one manager through a
year": a company that hands a client over once changes its manager once, and the yearly share counts
that whole year as unstable. A hand-made history where two thirds of the clients are handed over in one
year reads 71 % on the yearly share although each client changed manager once in three years; its
continuity is 97 %. Chance is subtracted because a random assignment among few managers, or with one
manager taking most orders, agrees with itself often (two managers of equal load: 50 %).

Default ``min_stability`` = 0.8: a client who changes manager once in every five purchase months on
top of chance is already more "pool" than "portfolio"; a company with a real assignment and the
occasional hand-over reads above 0.9 (the committed sample reads 1.0 without hand-overs, 0.98 with
the planted ones), and managers drawn at random within each month read about 0 (tests/test_placebo.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesbook.cube import Cube
from salesbook.cube.build import text_of
from salesbook.cube.memo import per_cube
from salesbook.i18n import t

__all__ = ["AssignmentRules", "serving_months", "stability", "unstable_sentence", "lacks"]


@dataclass(frozen=True)
class AssignmentRules:
    min_stability: float = 0.8  #: continuity beyond chance (0..1) for a stable client -> manager assignment
    min_pairs: int = 30  #: consecutive purchase months of one client needed to judge at all


def _index(month: pd.Series) -> pd.Series:
    m = pd.to_datetime(month)
    return m.dt.year * 12 + m.dt.month - 1


def serving_months(cube: Cube) -> pd.DataFrame:
    """client_id, month, k (month index), manager: the serving manager of each purchase month of each client
    (empty without a manager column)."""
    cmm = cube.client_manager_month
    if cmm is None or not len(cmm) or cmm.manager.isna().all():
        return pd.DataFrame(columns=["client_id", "month", "k", "manager"])
    m = cmm[(cmm.orders > 0) & cmm.manager.notna()]
    # keys whose categories are their sorted texts (the cube's) sort by code as their texts would: the texts are
    # made for the rows that stay (at 10M lines, 870k rows made text and sorted as text took 0.44 s a call)
    coded = all(isinstance(m[c].dtype, pd.CategoricalDtype) and m[c].cat.categories.is_monotonic_increasing
                for c in ("client_id", "manager"))
    if not coded:
        m = m.astype({"client_id": str, "manager": str})
    m = m.sort_values(["client_id", "month", "revenue", "manager"], ascending=[True, True, False, True])
    m = m.drop_duplicates(["client_id", "month"])[["client_id", "month", "manager"]].reset_index(drop=True)
    if coded:
        m = m.assign(client_id=text_of(m.client_id), manager=text_of(m.manager))
    m["k"] = _index(m.month)
    return m


@per_cube  # asked by workbook 03, the hand-overs, the what-if and each run's packs: computed once
def stability(cube: Cube, rules: AssignmentRules = AssignmentRules()) -> dict[str, Any]:
    """The assignment's continuity, its chance level and the stability beyond chance.

    Returns ``pairs`` (consecutive purchase months of one client), ``clients`` (clients with such a
    pair), ``same`` (pairs with the same serving manager), ``continuity``, ``chance``, ``stability``
    (shares, NaN without pairs), ``stable`` (True / False, or None below ``min_pairs``), ``min_stability``,
    ``start`` and ``end`` (the first day of the first purchase month read, the last day of the last)."""
    s = serving_months(cube)
    out: dict[str, Any] = {"pairs": 0, "clients": 0, "same": 0, "continuity": float("nan"),
                           "chance": float("nan"), "stability": float("nan"), "stable": None,
                           "min_stability": rules.min_stability, "min_pairs": rules.min_pairs,
                           "start": None, "end": None}
    if not len(s):
        return out
    s = s.sort_values(["client_id", "k"]).reset_index(drop=True)
    out.update(start=pd.Timestamp(s.month.min()).date(),
               end=(pd.Timestamp(s.month.max()) + pd.offsets.MonthEnd(0)).date())
    prev = s.groupby("client_id").manager.shift()
    prev_k = s.groupby("client_id").k.shift()
    has = prev.notna().to_numpy()
    if not has.any():
        return out
    same = (s.manager.to_numpy() == prev.to_numpy())[has]
    # each month's share of clients by manager; chance of a pair: the dot product of its two months' shares
    shares = pd.crosstab(s.k, s.manager, normalize="index")
    row = pd.Series(np.arange(len(shares)), index=shares.index)
    agree = shares.to_numpy() @ shares.to_numpy().T  # month x month: two independent draws agree
    chance = agree[row.reindex(prev_k[has].astype(int)).to_numpy(), row.reindex(s.k[has]).to_numpy()]
    continuity, level = float(same.mean()), float(chance.mean())
    kappa = 1.0 if level >= 1 - 1e-12 else (continuity - level) / (1 - level)
    out.update(pairs=int(has.sum()), clients=int(s.client_id[has].nunique()), same=int(same.sum()),
               continuity=continuity, chance=level, stability=float(kappa))
    if out["pairs"] >= rules.min_pairs:
        out["stable"] = bool(kappa >= rules.min_stability)
    return out


def unstable_sentence(res: dict[str, Any], lang: str = "en", what: str = "asg.unstable") -> str:
    """Why there is no stable assignment, with the measure: ``what`` is the message of the section
    (``asg.unstable`` for a general one, ``asg.unstable_ho`` for hand-overs, ``asg.unstable_managers``
    for the manager findings)."""
    from salesbook.formats import fmt_int, fmt_pct
    return t(what, lang, start=res["start"], end=res["end"], pairs=fmt_int(res["pairs"], lang),
             clients=fmt_int(res["clients"], lang), continuity=fmt_pct(res["continuity"], lang, 0),
             chance=fmt_pct(res["chance"], lang, 0), stability=fmt_pct(max(res["stability"], 0.0), lang, 0),
             min=fmt_pct(res["min_stability"], lang, 0))


def lacks(cube: Cube, lang: str = "en", what: str = "asg.unstable",
          rules: AssignmentRules = AssignmentRules()) -> str | None:
    """None when the data have a stable client -> manager assignment (or too few months to tell, or no
    manager column: the profile says that); else the sentence of :func:`unstable_sentence`."""
    if not cube.profile.has_manager:
        return None
    res = stability(cube, rules)
    return unstable_sentence(res, lang, what) if res["stable"] is False else None
