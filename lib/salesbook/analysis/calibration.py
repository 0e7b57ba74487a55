"""Opportunities calibrated on the company's own history: a backtest at earlier analysis dates.

The reactivation list says what sleeping clients used to buy: a potential, not an expectation. The
backtest moves the analysis date back (12 and 24 months by default), takes the clients who were
sleeping then by the same rules (asleep at most ``max_months_asleep``), and reads what they did in the
next ``horizon`` months: the share that came back, and what the returners bought against what they
used to buy in their last 12 months of activity. Applied to today's list, bucket by bucket of how long
the client has slept, that gives an expected value; its 90 % interval comes from resampling the
backtest's clients (a bootstrap, seeded: the same data give the same interval).

The whitespace list is also held against chance: at the same earlier dates, the categories the same
clients did not buy and the list did not suggest are the placebo. When suggested categories are taken
up no more often than those (the interval of the difference includes zero), the sentence says the list
picks no better than chance: its expectation is what these clients buy anyway.

Only origins whose history before (``window_months``) and outcome after (``horizon``) the data fully
cover are used; below ``min_clients`` backtest clients there is no calibration, and no money figure.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import pandas as pd

from salesbook.cube import Cube
from salesbook.cube.build import text_of
from salesbook.cube.memo import per_cube
from salesbook.i18n import t
from salesbook.analysis.segments import Rules, classify_clients, reactivation_list

__all__ = ["Unknown", "catalogue_keys", "CalibrationRules", "reactivation_backtest", "expected_reactivation",
           "expected_reactivation_by", "reactivation_sentence", "whitespace_backtest", "whitespace_others",
           "whitespace_lift", "expected_whitespace", "expected_whitespace_by", "whitespace_sentence", "lift_sentence"]


#: whether the whitespace list picks better than chance (:func:`lift_sentence`): ``cal.lift.<verdict>``
LIFTS = ("better", "chance", "worse")


class Unknown(enum.StrEnum):
    """Why a calibration gives no expectation (a status; its sentence is ``cal.<calibration>_short``)."""

    SHORT = "cal.short"  #: too few origins or clients to calibrate on


def catalogue_keys() -> list[str]:
    """Every catalogue key built here at run time (``cal.<key>``, ``cal.<key>_short``, ``cal.lift.<verdict>``)."""
    return ([f"cal.{key}{end}" for key in ("reactivation", "whitespace") for end in ("", "_short")]
            + [f"cal.lift.{v}" for v in LIFTS])


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


@per_cube  # one backtest per run: the workbooks, the summary's advice and the packs read the same
def reactivation_backtest(cube: Cube, rules: Rules = Rules(), max_months_asleep: int = 24,
                          cal: CalibrationRules = CalibrationRules()) -> pd.DataFrame:
    """One row per client asleep at an earlier analysis date: ``origin``, ``client_id``, ``months_asleep``,
    ``yearly_revenue`` (its last 12 months of activity), ``came_back``, ``brought`` (revenue in the
    ``horizon`` months after ``origin``)."""
    cols = ["origin", "client_id", "months_asleep", "yearly_revenue", "came_back", "brought"]
    days = cube.client_day.assign(client_id=text_of(cube.client_day.client_id))
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
    def totals(mask: np.ndarray) -> tuple[float, ...]:
        back = mask & came_back
        return mask.sum(), back.sum(), used[back].sum(), brought[back].sum()
    return _rates_of(np.array([totals(m) for m in _rate_groups(bucket, cal)], dtype=float).ravel(), cal)


def _rate_groups(bucket: np.ndarray, cal: CalibrationRules) -> list[np.ndarray]:
    """The rows of each group the rates are told for: everyone, then each bucket of months asleep."""
    return [np.ones(len(bucket), dtype=bool)] + [bucket == b for b in range(len(cal.asleep_edges) + 1)]


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
        res["unknown"] = Unknown.SHORT
        return res
    now_bucket = _bucket(_months_between(pd.to_datetime(sleepers.last_order), pd.Timestamp(cube.as_of)),
                         cal.asleep_edges) if len(sleepers) else np.array([], dtype=int)
    yearly = sleepers.yearly_revenue.to_numpy(dtype=float) if len(sleepers) else np.array([])
    arrays = (bt.came_back.to_numpy(dtype=bool), bt.yearly_revenue.clip(lower=0).to_numpy(dtype=float),
              bt.brought.to_numpy(dtype=float), _bucket(bt.months_asleep, cal.asleep_edges))
    res.update(came_back=int(bt.came_back.sum()), **_expected(arrays, now_bucket, yearly, cal))
    return res


def expected_reactivation_by(cube: Cube, sleepers: pd.DataFrame, by: str = "manager", rules: Rules = Rules(),
                             max_months_asleep: int = 24, cal: CalibrationRules = CalibrationRules(),
                             backtest: pd.DataFrame | None = None, keys: Iterable[Any] = ()) -> dict[Any, dict[str, Any]]:
    """:func:`expected_reactivation` of each group's share of today's reactivation list, ``sleepers`` grouped
    by its column ``by`` (each manager's clients): one backtest and one bootstrap for every group, so that a
    group's expectation is its clients' share of the company's (the groups' ``expected`` add up to the
    list's) and its interval comes from the company's draws. Keys: the groups' values in ``sleepers`` and
    ``keys`` (groups without a client on the list: nothing expected)."""
    bt = reactivation_backtest(cube, rules, max_months_asleep, cal) if backtest is None else backtest
    codes, keys = _groups(sleepers, by, keys)
    yearly = sleepers.yearly_revenue.to_numpy(dtype=float) if len(sleepers) else np.array([])
    origins = sorted({str(o) for o in bt.origin})
    out = {key: {"clients": int(len(bt)), "origins": list(origins), "potential": float(yearly[codes == g].sum()),
                 "horizon": cal.horizon, "unknown": None} for g, key in enumerate(keys)}
    if len(bt) < cal.min_clients:
        for res in out.values():
            res["unknown"] = Unknown.SHORT
        return out
    now_bucket = _bucket(_months_between(pd.to_datetime(sleepers.last_order), pd.Timestamp(cube.as_of)),
                         cal.asleep_edges) if len(sleepers) else np.array([], dtype=int)
    arrays = (bt.came_back.to_numpy(dtype=bool), bt.yearly_revenue.clip(lower=0).to_numpy(dtype=float),
              bt.brought.to_numpy(dtype=float), _bucket(bt.months_asleep, cal.asleep_edges))
    for key, values in zip(keys, _expected_by(arrays, now_bucket, yearly, codes, len(keys), cal)):
        out[key].update(came_back=int(bt.came_back.sum()), **values)
    return out


def _groups(rows: pd.DataFrame, by: str, keys: Iterable[Any]) -> tuple[np.ndarray, list[Any]]:
    """Each row's group (0..k-1, by its column ``by``) and the k groups, sorted: those of the rows and ``keys``."""
    values = rows[by].tolist() if len(rows) else []
    groups = sorted(set(values) | set(keys), key=str)
    where = {g: i for i, g in enumerate(groups)}
    return np.array([where[v] for v in values], dtype=np.int64), groups


def _bootstrap(arrays: tuple[np.ndarray, ...], cal: CalibrationRules) -> tuple[dict, list[dict]]:
    """The backtest's rates (success, base, brought, bucket: :func:`_rates`) and those of each of its
    ``cal.draws`` seeded resamples of rows: one bootstrap, whatever list it is applied to."""
    rng = np.random.default_rng(20261201)
    n = len(arrays[0])
    sums = _sums_of(*arrays, cal=cal)
    draws: list[dict] = []
    picks = np.empty((10, n), dtype=np.int64)
    while len(draws) < cal.draws:  # 10 draws at a time: their counts as one matrix, their totals one product
        k = min(len(picks), cal.draws - len(draws))
        for i in range(k):  # the draws of rng.integers(0, n, n), one by one (int32: the same numbers)
            np.add(rng.integers(0, n, n, dtype=np.int32), i * n, out=picks[i])
        counts = np.bincount(picks[:k].ravel(), minlength=k * n).reshape(k, n)
        draws += [_rates_of(totals, cal) for totals in counts.astype(float) @ sums]
    return _rates(*arrays, cal), draws


def _sums_of(came_back: np.ndarray, used: np.ndarray, brought: np.ndarray, bucket: np.ndarray,
             cal: CalibrationRules) -> np.ndarray:
    """What :func:`_rates` adds up, per row, for everyone and for each bucket: rows, rows that came back, what
    those used to buy and what they brought (one row's four columns per group)."""
    back = came_back.astype(float)
    groups = [g.astype(float) for g in _rate_groups(bucket, cal)]
    return np.column_stack([c for g in groups for c in (g, g * back, g * back * used, g * back * brought)])


def _rates_of(totals: np.ndarray, cal: CalibrationRules) -> dict[int, tuple[float, float]]:
    """:func:`_rates` from each group's totals (everyone, then each bucket; four each: rows, rows that came back,
    what those used to buy, what they brought). A resample's totals are the counts of times it drew each row times
    :func:`_sums_of`: no copy of the rows (the bootstrap's 1000 draws of 120,000 suggestions at 10M lines copied
    four arrays a draw). Its shares are the same numbers as the drawn rows'; its money sums the same sums added
    in another order."""
    def rates(rows: float, back: float, base: float, brought: float) -> tuple[float, float]:
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.float64(back) / rows
        return float(share), float(brought / base) if base > 0 else 0.0
    group = totals.reshape(-1, 4)
    out = {-1: rates(*group[0])}
    for b in range(len(cal.asleep_edges) + 1):
        out[b] = rates(*group[b + 1]) if group[b + 1][0] >= cal.min_bucket else out[-1]
    return out


def _expected(arrays: tuple[np.ndarray, ...], now_bucket: np.ndarray, now_base: np.ndarray,
              cal: CalibrationRules) -> dict[str, float]:
    """Rates from the backtest (success, base, brought, bucket), applied to today's bases bucket by bucket;
    a seeded bootstrap over the backtest's rows gives the interval: :func:`_expected_by` with the whole list as
    its one group."""
    return _expected_by(arrays, now_bucket, now_base, np.zeros(len(now_bucket), dtype=np.int64), 1, cal)[0]


def _expected_by(arrays: tuple[np.ndarray, ...], now_bucket: np.ndarray, now_base: np.ndarray, groups: np.ndarray,
                 k: int, cal: CalibrationRules) -> list[dict[str, float]]:
    """:func:`_expected` of each of ``k`` groups of today's list (``groups``: each row's group, 0..k-1) from one
    bootstrap. A group's ``expected`` is the sum of its rows' expected values (each row's base times its
    bucket's rates), added up as :func:`_expected` adds up the group's rows alone; its interval comes from
    the same draws, each draw's value being the group's bases per bucket times that draw's rates."""
    rates, boot = _bootstrap(arrays, cal)
    buckets = len(cal.asleep_edges) + 1
    base = np.clip(now_base, 0, None)
    p = np.array([rates[b][0] for b in range(buckets)])[now_bucket]
    r = np.array([rates[b][1] for b in range(buckets)])[now_bucket]
    each = p * r * base  # each row's expected value, as _expected computes it
    rows = np.argsort(groups, kind="stable")  # each group's rows in the list's order
    cuts = np.searchsorted(groups[rows], np.arange(k + 1))
    bases = np.bincount(groups * buckets + now_bucket, weights=base, minlength=k * buckets).reshape(k, buckets)
    per_draw = np.array([[d[b][0] * d[b][1] for b in range(buckets)] for d in boot]).reshape(len(boot), buckets)
    values = bases @ per_draw.T  # group x draw
    tail = (1 - cal.level) / 2
    low, high = np.quantile(values, [tail, 1 - tail], axis=1) if len(boot) else (np.zeros(k), np.zeros(k))
    return [{"share": rates[-1][0], "ratio": rates[-1][1], "expected": float(each[rows[cuts[g]:cuts[g + 1]]].sum()),
             "low": float(low[g]), "high": float(high[g])} for g in range(k)]


@per_cube
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
    ccm = cube.client_category_month
    ccm = ccm.assign(client_id=text_of(ccm.client_id), category=text_of(ccm.category))
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


def whitespace_others(cube: Cube, backtest: pd.DataFrame, cal: CalibrationRules = CalibrationRules(),
                      months: int = 12) -> pd.DataFrame:
    """The placebo of :func:`whitespace_backtest`: at each of its earlier dates, every category that a client
    the list made a suggestion to did not buy in the ``months`` before and was not suggested. One row per
    ``origin``, ``client_id``, ``category``, with ``started`` (bought it within ``horizon`` months)."""
    cols = ["origin", "client_id", "category", "started"]
    if not len(backtest) or not cube.profile.has_category:
        return pd.DataFrame(columns=cols)
    ccm = cube.client_category_month
    ccm = ccm[(ccm.orders > 0) & ccm.category.notna()]
    ccm = ccm.assign(client_id=text_of(ccm.client_id), category=text_of(ccm.category))
    cats = np.array(sorted(ccm.category.unique()), dtype=object)
    out = []
    for origin, rows in backtest.groupby("origin"):
        at = pd.Timestamp(origin)
        until = at + pd.DateOffset(months=cal.horizon)
        clients = np.array(sorted(rows.client_id.astype(str).unique()), dtype=object)
        every = pd.MultiIndex.from_product([clients, cats], names=["client_id", "category"])
        mine = ccm[ccm.client_id.isin(clients)]
        before = mine[(mine.month > at - pd.DateOffset(months=months)) & (mine.month <= at)]
        owned = pd.MultiIndex.from_frame(before[["client_id", "category"]].drop_duplicates())
        suggested = pd.MultiIndex.from_frame(rows[["client_id", "category"]].astype(str))
        other = every.difference(owned).difference(suggested)
        after = mine[(mine.month > at) & (mine.month <= until)]
        started = pd.MultiIndex.from_frame(after[["client_id", "category"]].drop_duplicates())
        out.append(pd.DataFrame({"origin": origin, "client_id": other.get_level_values(0),
                                 "category": other.get_level_values(1), "started": other.isin(started)}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)


def whitespace_lift(backtest: pd.DataFrame, others: pd.DataFrame,
                    cal: CalibrationRules = CalibrationRules()) -> dict[str, Any]:
    """Suggested categories against the placebo: the share of earlier suggestions taken up, the share of the
    same clients' other not-bought categories taken up, the difference and its ``level`` interval (a seeded
    bootstrap over the clients at each date: a client's categories go together). ``unknown`` below
    ``min_clients`` pairs on either side."""
    res: dict[str, Any] = {"n": int(len(backtest)), "n_other": int(len(others)), "unknown": None}
    if len(backtest) < cal.min_clients or len(others) < cal.min_clients:
        res["unknown"] = Unknown.SHORT
        return res
    unit = lambda d: d.origin.astype(str) + "|" + d.client_id.astype(str)  # noqa: E731
    codes, uniques = pd.factorize(pd.concat([unit(backtest), unit(others)], ignore_index=True))
    k = len(uniques)
    a, b = codes[:len(backtest)], codes[len(backtest):]
    stats = np.stack([np.bincount(a, minlength=k), np.bincount(a, weights=backtest.started.to_numpy(dtype=float),
                                                                minlength=k),
                      np.bincount(b, minlength=k), np.bincount(b, weights=others.started.to_numpy(dtype=float),
                                                               minlength=k)], axis=1).astype(float)

    def diff(totals: np.ndarray) -> np.ndarray:
        n1, s1, n0, s0 = totals.T
        with np.errstate(invalid="ignore", divide="ignore"):
            return s1 / n1 - s0 / n0

    rng = np.random.default_rng(20261206)
    # each draw's totals (pairs and starts on each side) over its resampled units, one draw at a time: the draws'
    # counts as one matrix took cal.draws x k floats (about 1 GB at 10M lines). The totals are whole numbers, exact
    # in any order of addition
    boot = diff(np.array([np.bincount(rng.integers(0, k, k), minlength=k) @ stats for _ in range(cal.draws)]))
    boot = boot[np.isfinite(boot)]
    tail = (1 - cal.level) / 2
    share, base = float(backtest.started.mean()), float(others.started.mean())
    res.update(share=share, base=base, diff=share - base, low=float(np.quantile(boot, tail)),
               high=float(np.quantile(boot, 1 - tail)))
    return res


def expected_whitespace(cube: Cube, ws: pd.DataFrame, cal: CalibrationRules = CalibrationRules(),
                        backtest: pd.DataFrame | None = None, min_lift: float = 0.25,
                        others: pd.DataFrame | None = None) -> dict[str, Any]:
    """Today's whitespace list's expected revenue in the next ``horizon`` months: the share of earlier
    suggestions that started, and what they brought against their potential, applied to today's potentials.
    ``min_lift``: the whitespace rule today's list was drawn with (the backtest draws its lists the same way).

    ``lift`` (:func:`whitespace_lift`): the suggestions against the same clients' other categories, from
    ``others`` (:func:`whitespace_others`; computed here when ``backtest`` is, else only when given)."""
    bt = whitespace_backtest(cube, cal, min_lift=min_lift) if backtest is None else backtest
    if others is None and backtest is None:
        others = whitespace_others(cube, bt, cal)
    res: dict[str, Any] = {"suggestions": int(len(bt)), "origins": sorted({str(o) for o in bt.origin}),
                           "potential": float(ws.potential.sum()) if len(ws) else 0.0, "horizon": cal.horizon,
                           "unknown": None, "level": cal.level}
    res["lift"] = whitespace_lift(bt, others, cal) if others is not None else {"unknown": Unknown.SHORT}
    if len(bt) < cal.min_clients:
        res["unknown"] = Unknown.SHORT
        return res
    flat = CalibrationRules(**{**cal.__dict__, "asleep_edges": ()})  # one bucket: every suggestion alike
    arrays = (bt.started.to_numpy(dtype=bool), bt.potential.to_numpy(dtype=float), bt.brought.to_numpy(dtype=float),
              np.zeros(len(bt), dtype=int))
    now = ws.potential.to_numpy(dtype=float) if len(ws) else np.array([])
    res.update(started=int(bt.started.sum()), **_expected(arrays, np.zeros(len(now), dtype=int), now, flat))
    return res


def expected_whitespace_by(cube: Cube, ws: pd.DataFrame, by: str = "manager", cal: CalibrationRules = CalibrationRules(),
                           backtest: pd.DataFrame | None = None, min_lift: float = 0.25,
                           others: pd.DataFrame | None = None, keys: Iterable[Any] = ()) -> dict[Any, dict[str, Any]]:
    """:func:`expected_whitespace` of each group's share of today's whitespace list, ``ws`` grouped by its
    column ``by`` (each manager's suggestions): one backtest, one bootstrap and one ``lift`` (the list
    against chance, a property of the company's list) for every group; the groups' ``expected`` add up to
    the list's. Keys: the groups' values in ``ws`` and ``keys``."""
    bt = whitespace_backtest(cube, cal, min_lift=min_lift) if backtest is None else backtest
    if others is None and backtest is None:
        others = whitespace_others(cube, bt, cal)
    lift = whitespace_lift(bt, others, cal) if others is not None else {"unknown": Unknown.SHORT}
    codes, keys = _groups(ws, by, keys)
    now = ws.potential.to_numpy(dtype=float) if len(ws) else np.array([])
    origins = sorted({str(o) for o in bt.origin})
    out = {key: {"suggestions": int(len(bt)), "origins": list(origins), "potential": float(now[codes == g].sum()),
                 "horizon": cal.horizon, "unknown": None, "level": cal.level, "lift": lift}
           for g, key in enumerate(keys)}
    if len(bt) < cal.min_clients:
        for res in out.values():
            res["unknown"] = Unknown.SHORT
        return out
    flat = CalibrationRules(**{**cal.__dict__, "asleep_edges": ()})  # one bucket: every suggestion alike
    arrays = (bt.started.to_numpy(dtype=bool), bt.potential.to_numpy(dtype=float), bt.brought.to_numpy(dtype=float),
              np.zeros(len(bt), dtype=int))
    for key, values in zip(keys, _expected_by(arrays, np.zeros(len(now), dtype=int), now, codes, len(keys), flat)):
        out[key].update(started=int(bt.started.sum()), **values)
    return out


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
    """How the whitespace expectation was calibrated, or why it is not; then, when it can be told, whether
    the list picks better than chance (:func:`lift_sentence`)."""
    text = _sentence(res, lang, "whitespace", "suggestions", "n")
    lift = lift_sentence(res, lang)
    return text + " " + lift if lift else text


def lift_sentence(res: dict[str, Any], lang: str = "en") -> str | None:
    """Whether the whitespace list of :func:`expected_whitespace` picks better than chance: its earlier
    suggestions against the same clients' other categories, with the interval; None when not calibrated."""
    from salesbook.formats import fmt_pct, fmt_points
    lift = res.get("lift") or {"unknown": Unknown.SHORT}
    if res["unknown"] or lift["unknown"]:
        return None
    verdict = "better" if lift["low"] > 0 else "worse" if lift["high"] < 0 else "chance"
    return t(f"cal.lift.{verdict}", lang, share=fmt_pct(lift["share"], lang, 1), base=fmt_pct(lift["base"], lang, 1),
             diff=fmt_points(lift["diff"], lang, 1), low=fmt_points(lift["low"], lang, 1),
             high=fmt_points(lift["high"], lang, 1), level=fmt_pct(res["level"], lang, 0), horizon=res["horizon"])


def reactivation_sentence(res: dict[str, Any], lang: str = "en") -> str:
    """How the reactivation expectation was calibrated, or why it is not."""
    return _sentence(res, lang, "reactivation", "clients", "clients")
