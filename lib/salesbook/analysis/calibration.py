"""Opportunities calibrated on the company's own history: a backtest at earlier analysis dates.

The reactivation list says what sleeping clients used to buy: a potential, not an expectation. The
backtest moves the analysis date back (12 and 24 months by default), takes the clients who were
sleeping then by the same rules (asleep at most ``max_months_asleep``), and reads what they did in the
next ``horizon`` months: the share that came back, and what the returners bought against what they
used to buy in their last 12 months of activity. Applied to today's list, bucket by bucket of how long
the client has slept, that gives an expected value; its 90 % interval comes from resampling the
backtest's clients (a bootstrap, seeded: the same data give the same interval).

Only origins whose history before (``window_months``) and outcome after (``horizon``) the data fully
cover are used; below ``min_clients`` backtest clients there is no calibration, and no money figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesbook.cube import Cube
from salesbook.i18n import t
from salesbook.analysis.segments import Rules, classify_clients, reactivation_list

__all__ = ["CalibrationRules", "reactivation_backtest", "expected_reactivation", "reactivation_sentence",
           "whitespace_backtest", "expected_whitespace", "whitespace_sentence"]


@dataclass(frozen=True)
class CalibrationRules:
    back_months: tuple[int, ...] = (12, 24)  #: analysis dates moved back this many months
    horizon: int = 12  #: months after each earlier date in which a comeback counts
    min_clients: int = 20  #: backtest clients needed to calibrate at all
    min_bucket: int = 10  #: a bucket of months asleep is calibrated on its own from this many clients
    asleep_edges: tuple[int, ...] = (12,)  #: buckets of months asleep: up to 12, then above
    draws: int = 1000  #: bootstrap resamples of the interval
    level: float = 0.9  #: the interval's coverage


def _months_between(a: pd.Series, b: pd.Timestamp) -> pd.Series:
    a = pd.to_datetime(a)
    return (b.year - a.dt.year) * 12 + (b.month - a.dt.month)


def _bucket(months: pd.Series, edges: tuple[int, ...]) -> np.ndarray:
    return np.searchsorted(np.asarray(edges), months.to_numpy(), side="left")


def _origins(cube: Cube, window_months: int, cal: CalibrationRules):
    """The earlier analysis dates whose ``window_months`` before and ``horizon`` after the data fully cover:
    (origin, end of its outcome window)."""
    for back in cal.back_months:
        origin = (pd.Timestamp(cube.as_of) - pd.DateOffset(months=back)).normalize()
        until = origin + pd.DateOffset(months=cal.horizon)
        if cube.profile.covers(origin - pd.DateOffset(months=window_months) + pd.Timedelta(days=1), until):
            yield origin, until


def reactivation_backtest(cube: Cube, rules: Rules = Rules(), max_months_asleep: int = 24,
                          cal: CalibrationRules = CalibrationRules()) -> pd.DataFrame:
    """One row per client asleep at an earlier analysis date: ``origin``, ``client_id``, ``months_asleep``,
    ``yearly_revenue`` (its last 12 months of activity), ``came_back``, ``brought`` (revenue in the
    ``horizon`` months after ``origin``)."""
    cols = ["origin", "client_id", "months_asleep", "yearly_revenue", "came_back", "brought"]
    days = cube.client_day.astype({"client_id": str})
    out = []
    for origin, until in _origins(cube, rules.window_months, cal):
        classes = classify_clients(cube, origin, rules)
        asleep = reactivation_list(cube, classes, None)
        if asleep.empty:
            continue
        asleep = asleep.assign(months_asleep=_months_between(pd.to_datetime(asleep.last_order), origin))
        asleep = asleep[asleep.months_asleep <= max_months_asleep]
        after = days[(days.date > origin) & (days.date <= until) & days.client_id.isin(asleep.client_id.astype(str))]
        brought = after.groupby("client_id").revenue.sum()
        bought = after[after.orders > 0].client_id.unique()
        ids = asleep.client_id.astype(str)
        out.append(pd.DataFrame({"origin": origin.date(), "client_id": ids.to_numpy(),
                                 "months_asleep": asleep.months_asleep.to_numpy(),
                                 "yearly_revenue": asleep.yearly_revenue.to_numpy(dtype=float),
                                 "came_back": ids.isin(bought).to_numpy(),
                                 "brought": brought.reindex(ids).fillna(0.0).to_numpy()}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)


def _rates(came_back: np.ndarray, used: np.ndarray, brought: np.ndarray, bucket: np.ndarray,
           cal: CalibrationRules) -> dict[int, tuple[float, float]]:
    """Per bucket of months asleep: (share that came back, revenue the returners brought against what they
    used to buy in a year); a bucket with fewer than ``min_bucket`` clients takes the overall rates (key -1)."""
    def rates(mask: np.ndarray) -> tuple[float, float]:
        back = mask & came_back
        base = used[back].sum()
        return float(came_back[mask].mean()), float(brought[back].sum() / base) if base > 0 else 0.0
    everyone = np.ones(len(came_back), dtype=bool)
    out = {-1: rates(everyone)}
    for b in range(len(cal.asleep_edges) + 1):
        mask = bucket == b
        out[b] = rates(mask) if mask.sum() >= cal.min_bucket else out[-1]
    return out


def expected_reactivation(cube: Cube, sleepers: pd.DataFrame, rules: Rules = Rules(), max_months_asleep: int = 24,
                          cal: CalibrationRules = CalibrationRules(),
                          backtest: pd.DataFrame | None = None) -> dict[str, Any]:
    """The expected revenue of today's reactivation list in the next ``horizon`` months, with its interval.

    Keys: ``clients`` (backtest clients), ``came_back``, ``share``, ``ratio``, ``origins``, ``expected``,
    ``low``, ``high``, ``potential`` (what today's list bought in its last active year), ``unknown`` (a
    message key when the history is too short: then no money figure). ``backtest``: a
    :func:`reactivation_backtest` computed once, for several lists (each manager's)."""
    bt = reactivation_backtest(cube, rules, max_months_asleep, cal) if backtest is None else backtest
    res: dict[str, Any] = {"clients": int(len(bt)), "origins": sorted({str(o) for o in bt.origin}),
                           "potential": float(sleepers.yearly_revenue.sum()) if len(sleepers) else 0.0,
                           "horizon": cal.horizon, "unknown": None}
    if len(bt) < cal.min_clients:
        res["unknown"] = "cal.short"
        return res
    now_bucket = _bucket(_months_between(pd.to_datetime(sleepers.last_order), pd.Timestamp(cube.as_of)),
                         cal.asleep_edges) if len(sleepers) else np.array([], dtype=int)
    yearly = sleepers.yearly_revenue.to_numpy(dtype=float) if len(sleepers) else np.array([])
    arrays = (bt.came_back.to_numpy(dtype=bool), bt.yearly_revenue.clip(lower=0).to_numpy(dtype=float),
              bt.brought.to_numpy(dtype=float), _bucket(bt.months_asleep, cal.asleep_edges))
    res.update(came_back=int(bt.came_back.sum()), **_expected(arrays, now_bucket, yearly, cal))
    return res


def _expected(arrays: tuple[np.ndarray, ...], now_bucket: np.ndarray, now_base: np.ndarray,
              cal: CalibrationRules) -> dict[str, float]:
    """Rates from the backtest (success, base, brought, bucket), applied to today's bases bucket by bucket;
    a seeded bootstrap over the backtest's rows gives the interval."""
    def value(rates: dict[int, tuple[float, float]]) -> float:
        p = np.array([rates[b][0] for b in now_bucket])
        r = np.array([rates[b][1] for b in now_bucket])
        return float((p * r * np.clip(now_base, 0, None)).sum())
    rates = _rates(*arrays, cal)
    rng = np.random.default_rng(20261201)
    n = len(arrays[0])
    draws = [value(_rates(*(a[pick] for a in arrays), cal)) for pick in (rng.integers(0, n, n) for _ in range(cal.draws))]
    tail = (1 - cal.level) / 2
    return {"share": rates[-1][0], "ratio": rates[-1][1], "expected": value(rates),
            "low": float(np.quantile(draws, tail)), "high": float(np.quantile(draws, 1 - tail))}


def whitespace_backtest(cube: Cube, cal: CalibrationRules = CalibrationRules(), months: int = 12,
                        min_lift: float = 0.25) -> pd.DataFrame:
    """One row per whitespace suggestion at an earlier analysis date: ``origin``, ``client_id``, ``category``,
    ``potential`` (as the list then put it), ``started`` (bought the category within ``horizon`` months),
    ``brought`` (its revenue in that category then)."""
    from salesbook.analysis.stagnation import whitespace
    cols = ["origin", "client_id", "category", "potential", "started", "brought"]
    prof = cube.profile
    if not prof.has_category:
        return pd.DataFrame(columns=cols)
    ccm = cube.client_category_month.astype({"client_id": str, "category": str})
    out = []
    for origin, until in _origins(cube, months, cal):
        ws = whitespace(cube, months, min_lift, as_of=origin)
        if ws.empty:
            continue
        after = ccm[(ccm.month > origin) & (ccm.month <= until)]
        bought = after[after.orders > 0].groupby(["client_id", "category"]).revenue.sum()
        key = pd.MultiIndex.from_arrays([ws.client_id.astype(str), ws.category.astype(str)])
        got = bought.reindex(key)
        out.append(pd.DataFrame({"origin": origin.date(), "client_id": ws.client_id.astype(str).to_numpy(),
                                 "category": ws.category.astype(str).to_numpy(),
                                 "potential": ws.potential.to_numpy(dtype=float), "started": got.notna().to_numpy(),
                                 "brought": got.fillna(0.0).clip(lower=0).to_numpy()}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)


def expected_whitespace(cube: Cube, ws: pd.DataFrame, cal: CalibrationRules = CalibrationRules(),
                        backtest: pd.DataFrame | None = None, min_lift: float = 0.25) -> dict[str, Any]:
    """Today's whitespace list's expected revenue in the next ``horizon`` months: the share of earlier
    suggestions that started, and what they brought against their potential, applied to today's potentials.
    ``min_lift``: the whitespace rule today's list was drawn with (the backtest draws its lists the same way)."""
    bt = whitespace_backtest(cube, cal, min_lift=min_lift) if backtest is None else backtest
    res: dict[str, Any] = {"suggestions": int(len(bt)), "origins": sorted({str(o) for o in bt.origin}),
                           "potential": float(ws.potential.sum()) if len(ws) else 0.0, "horizon": cal.horizon,
                           "unknown": None}
    if len(bt) < cal.min_clients:
        res["unknown"] = "cal.short"
        return res
    flat = CalibrationRules(**{**cal.__dict__, "asleep_edges": ()})  # one bucket: every suggestion alike
    arrays = (bt.started.to_numpy(dtype=bool), bt.potential.to_numpy(dtype=float), bt.brought.to_numpy(dtype=float),
              np.zeros(len(bt), dtype=int))
    now = ws.potential.to_numpy(dtype=float) if len(ws) else np.array([])
    res.update(started=int(bt.started.sum()), **_expected(arrays, np.zeros(len(now), dtype=int), now, flat))
    return res


def _sentence(res: dict[str, Any], lang: str, key: str, count: str, name: str) -> str:
    """A calibration's sentence in ``lang`` (``cal.<key>``), or why there is none (``cal.<key>_short``)."""
    from salesbook.formats import fmt_int, fmt_money, fmt_pct
    n = {name: fmt_int(res[count], lang)}
    if res["unknown"]:
        return t(f"cal.{key}_short", lang, horizon=res["horizon"], **n)
    return t(f"cal.{key}", lang, origins=", ".join(res["origins"]), share=fmt_pct(res["share"], lang, 0),
             horizon=res["horizon"], ratio=fmt_pct(res["ratio"], lang, 0), expected=fmt_money(res["expected"], lang),
             low=fmt_money(res["low"], lang), high=fmt_money(res["high"], lang),
             potential=fmt_money(res["potential"], lang), **n)


def whitespace_sentence(res: dict[str, Any], lang: str = "en") -> str:
    """How the whitespace expectation was calibrated, or why it is not."""
    return _sentence(res, lang, "whitespace", "suggestions", "n")


def reactivation_sentence(res: dict[str, Any], lang: str = "en") -> str:
    """How the reactivation expectation was calibrated, or why it is not."""
    return _sentence(res, lang, "reactivation", "clients", "clients")
