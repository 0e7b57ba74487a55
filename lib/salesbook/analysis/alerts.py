"""Alerts that hold up: a month far from its seasonal expectation, with the rule's false-alarm rate measured.

Definitions (every threshold is a field of :class:`AlertRules`):

- **Series**: monthly revenue (full months only) by manager (who served the client that month), by
  product category, and of the ``largest_clients`` clients by revenue over the last 12 full months.
  A series whose share of the company's revenue over the 12 months before the month is under
  ``min_share`` is left out (a tiny series moves by noise).
- **Seasonal expectation of month m**, from the data before m only: the series' level (its mean month
  over the 12 months before m) times its seasonal ratio, the mean over the earlier years k = 1..``years``
  of (revenue in m - 12k) / (level at m - 12k), the classical ratio-to-moving-level idea of
  :mod:`salesbook.analysis.seasonality` per series. The **range of earlier years** is the level times
  the lowest and the highest of those ratios. At least ``min_years`` earlier years are needed.
- **Noise** of a series at month m: the robust spread of its month-to-month departures from the season
  over the ``noise_months`` before m (see :func:`evaluate`). A gap is measured in those units (z).
- **Alert**: the month's revenue is outside that range, at least ``threshold`` noise units and
  ``min_change`` away from the expectation, and the month before already moved the same way by
  ``confirm`` x the threshold (``persist`` months in a row): one wild month is not a story.
- **It held** when the next month moved the same way by at least ``confirm`` x the threshold;
  otherwise it was a **false alarm**.
- **Replay**: the rule is run on each of the last ``replay_months`` full months whose next month the
  data hold, each against the data before it. The threshold is the smallest of ``thresholds`` whose
  replay raised at least ``min_replayed`` alerts with at most ``max_false`` of them false alarms; when
  none does, no alert is raised and the sentence says why.
- **Largest contributors**: for a manager or a category, the clients whose own gap (revenue against their
  own level times the series' seasonal ratio) made most of the series' gap; for a client, its
  categories. The contributors' gaps add up to the series' gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesbook.cube import Cube
from salesbook.cube.memo import per_cube
from salesbook.i18n import t

__all__ = ["early_warning_lines", "AlertRules", "series", "evaluate", "replayed", "replay", "alerts", "alert_sentences", "alerts_json",
           "alerts_view"]


@dataclass(frozen=True)
class AlertRules:
    """Thresholds of the alert rule and of its replay."""

    level_months: int = 12  #: the level is the mean month over this many months before
    years: int = 3  #: earlier years whose same month gives the seasonal ratio (at most)
    min_years: int = 2  #: ... and at least
    thresholds: tuple[float, ...] = (2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0)  #: candidate thresholds (units of noise)
    noise_months: int = 24  #: months before whose year-on-year changes measure a series' noise
    min_noise: int = 6  #: ... at least this many of them
    min_change: float = 0.10  #: an alert also differs from the expectation by at least this share
    persist: int = 2  #: months in a row the series has moved the same way when the alert is raised
    confirm: float = 0.5  #: the next month held if it moved the same way by this x the threshold
    max_false: float = 0.10  #: the replayed false-alarm rate the chosen threshold keeps under
    min_replayed: int = 5  #: replayed alerts needed to measure that rate
    replay_months: int = 24  #: months replayed
    largest_clients: int = 10  #: the largest clients watched one by one
    min_share: float = 0.01  #: series smaller than this share of the company's revenue are not watched
    contributors: int = 3  #: contributors named per alert


@per_cube
def series(cube: Cube, rules: AlertRules = AlertRules()) -> pd.DataFrame:
    """Monthly revenue of every watched series over the full months: one row per series (index: ``kind``
    in manager / category / client, and ``name``), one column per month. The clients are every client that
    is among the ``largest_clients`` by its revenue over the ``level_months`` before some month (which
    of them are watched in a month is decided in :func:`evaluate`, from the data before it)."""
    months = pd.DatetimeIndex(cube.profile.full_months)
    parts = []
    if cube.profile.has_manager:
        parts.append(_wide(cube.client_manager_month, "manager", months).pipe(_keyed, "manager"))
    if cube.profile.has_category:
        parts.append(_wide(cube.category_month, "category", months).pipe(_keyed, "category"))
    if len(months):
        clients = _wide(cube.client_month, "client_id", months)
        if len(clients):
            top = _largest(_levels(clients.to_numpy(dtype=float), rules.level_months), rules.largest_clients)
            parts.append(clients[top.any(axis=1)].pipe(_keyed, "client"))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=months, index=pd.MultiIndex.from_tuples([], names=["kind", "name"]))
    return pd.concat(parts)


def _largest(levels: np.ndarray, n: int) -> np.ndarray:
    """Per month, whether each row is among the ``n`` largest levels (a positive level; none before one)."""
    filled = np.where(np.isnan(levels), -np.inf, levels)
    order = (-filled).argsort(axis=0, kind="stable").argsort(axis=0, kind="stable")
    return (order < n) & (filled > 0)


def _wide(df: pd.DataFrame, key: str, months: pd.DatetimeIndex) -> pd.DataFrame:
    d = df[df.month.isin(months) & df[key].notna()]
    out = d.pivot_table(index=d[key].astype(str), columns="month", values="revenue", aggfunc="sum", observed=True)
    return out.reindex(columns=months).fillna(0.0)


def _keyed(wide: pd.DataFrame, kind: str) -> pd.DataFrame:
    wide.index = pd.MultiIndex.from_arrays([[kind] * len(wide), wide.index], names=["kind", "name"])
    return wide


def _levels(values: np.ndarray, n: int) -> np.ndarray:
    """Mean of the ``n`` months before each month (NaN for the first ``n``)."""
    c = np.concatenate([np.zeros((values.shape[0], 1)), np.cumsum(values, axis=1)], axis=1)
    out = np.full(values.shape, np.nan)
    if values.shape[1] > n:
        out[:, n:] = (c[:, n:-1] - c[:, :-n - 1]) / n
    return out


def evaluate(wide: pd.DataFrame, rules: AlertRules = AlertRules()) -> dict[str, pd.DataFrame]:
    """Per series and month: ``expected``, ``low``, ``high`` (range of earlier years), ``dev`` (revenue
    against the expectation, a share), ``z`` (the gap in units of the series' own noise), ``share`` (of the
    company's revenue over the level's months), each a frame shaped like ``wide``; NaN where the history
    before the month is too short.

    The noise of a series at month m is the robust spread (1.4826 x the median absolute value, over the
    ``noise_months`` months before m, of the change of its ratio to level from the same month a year
    before, over the square root of 2): how far a month strays by chance, with the season taken out."""
    import warnings
    v = wide.to_numpy(dtype=float)
    lvl = _levels(v, rules.level_months)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(lvl > 0, v / lvl, np.nan)
    stacks = []
    for k in range(1, rules.years + 1):
        shifted = np.full(v.shape, np.nan)
        if v.shape[1] > 12 * k:
            shifted[:, 12 * k:] = ratio[:, :-12 * k]
        stacks.append(shifted)
    r = np.stack(stacks)
    enough = np.sum(~np.isnan(r), axis=0) >= rules.min_years
    yoy = np.full(v.shape, np.nan)
    if v.shape[1] > 12:
        yoy[:, 12:] = np.abs(ratio[:, 12:] - ratio[:, :-12])
    noise = np.full(v.shape, np.nan)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean, low, high = np.nanmean(r, axis=0), np.nanmin(r, axis=0), np.nanmax(r, axis=0)
        for j in range(v.shape[1]):
            past = yoy[:, max(0, j - rules.noise_months):j]
            ok = np.sum(~np.isnan(past), axis=1) >= rules.min_noise
            noise[ok, j] = 1.4826 * np.nanmedian(past[ok], axis=1) / np.sqrt(2)
    expected = np.where(enough, lvl * mean, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = np.where(expected > 0, v / expected - 1, np.nan)
        z = np.where(enough & (noise > 0), (ratio - mean) / noise, np.nan)
    total = np.nansum(np.where(np.isnan(lvl), 0, lvl), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = lvl / np.where(total > 0, total, np.nan)
    watched = np.ones(v.shape, dtype=bool)
    is_client = np.asarray(wide.index.get_level_values(0) == "client") if len(wide) else np.zeros(0, dtype=bool)
    if is_client.any():
        watched[is_client] = _largest(lvl[is_client], rules.largest_clients)
    shape = lambda a: pd.DataFrame(a, index=wide.index, columns=wide.columns)  # noqa: E731
    return {"expected": shape(expected), "low": shape(np.where(enough, lvl * low, np.nan)),
            "high": shape(np.where(enough, lvl * high, np.nan)), "dev": shape(dev), "z": shape(z),
            "watched": shape(watched),
            "share": shape(share), "actual": wide.astype(float), "ratio": shape(np.where(enough, mean, np.nan))}


def _flags(ev: dict[str, pd.DataFrame], threshold: float, rules: AlertRules) -> pd.DataFrame:
    """+1 / -1 where the rule alerts (up / down), 0 elsewhere: outside the earlier years' range, at least
    ``threshold`` noise units and ``min_change`` from the expectation, the ``persist - 1`` months before
    already the same way by ``confirm`` x the threshold, on a watched series."""
    a, dev, z = ev["actual"], ev["dev"], ev["z"]
    big = (ev["share"] >= rules.min_share) & ev["watched"]
    up = (a > ev["high"]) & (z >= threshold) & (dev >= rules.min_change) & big
    down = (a < ev["low"]) & (z <= -threshold) & (dev <= -rules.min_change) & big
    for k in range(1, rules.persist):
        before = z.shift(k, axis=1)
        up &= before >= rules.confirm * threshold
        down &= before <= -rules.confirm * threshold
    return up.astype(int) - down.astype(int)


def replayed(ev: dict[str, pd.DataFrame], threshold: float, rules: AlertRules = AlertRules()) -> pd.DataFrame:
    """Every alert the rule would have raised at ``threshold`` over the last ``replay_months`` months that
    have a next month, each against the data before it: ``kind``, ``name``, ``month``, ``direction``
    (+1 up, -1 down), ``held`` (the next month moved the same way by ``confirm`` x the threshold)."""
    months = ev["z"].columns
    judged = list(months[:-1][-rules.replay_months:]) if len(months) > 1 else []
    flags = _flags(ev, threshold, rules)
    rows = []
    for m in judged:
        nxt = months[months.get_loc(m) + 1]
        f = flags[m]
        raised = f[f != 0]
        follow = ev["z"].loc[raised.index, nxt] * raised
        for (kind, name), d in raised.items():
            rows.append({"kind": kind, "name": name, "month": m, "direction": int(d),
                         "held": bool(follow.loc[(kind, name)] >= rules.confirm * threshold)})
    return pd.DataFrame(rows, columns=["kind", "name", "month", "direction", "held"])


def replay(ev: dict[str, pd.DataFrame], rules: AlertRules = AlertRules()) -> pd.DataFrame:
    """The rule replayed at each candidate threshold (:func:`replayed`): one row per threshold with
    ``alerts``, ``held``, ``false``, ``false_rate``, ``months`` judged, ``first`` and ``last`` of them."""
    months = ev["z"].columns
    judged = list(months[:-1][-rules.replay_months:]) if len(months) > 1 else []
    rows = []
    for thr in rules.thresholds:
        r = replayed(ev, thr, rules)
        alerts, held = len(r), int(r.held.sum())
        rows.append({"threshold": thr, "alerts": alerts, "held": held, "false": alerts - held,
                     "false_rate": (alerts - held) / alerts if alerts else np.nan, "months": len(judged),
                     "first": str(judged[0].date()) if judged else None,
                     "last": str(judged[-1].date()) if judged else None})
    return pd.DataFrame(rows)


@per_cube  # the summary's, workbook 03's section and its memo's early warnings: one replay per run
def alerts(cube: Cube, rules: AlertRules = AlertRules()) -> dict[str, Any]:
    """The last full month's alerts under the threshold the replay chose.

    Returns ``month`` (the last full month), ``threshold`` (None when no candidate kept the false alarms
    under ``max_false``), ``replay`` (:func:`replay`), ``chosen`` (the replay row of the threshold),
    ``alerts`` (one row per alert: ``kind``, ``name``, ``month``, ``actual``, ``expected``, ``low``,
    ``high``, ``dev``, ``direction``, ``contributors`` (a list of (name, gap))), ``unknown`` (a message
    key when the history is too short to judge any month)."""
    wide = series(cube, rules)
    res: dict[str, Any] = {"month": None, "threshold": None, "replay": pd.DataFrame(), "chosen": None,
                           "alerts": _empty(), "unknown": None, "rules": rules}
    if wide.shape[1] == 0:
        res["unknown"] = "alert.short"
        return res
    res["month"] = str(wide.columns[-1].date())
    ev = evaluate(wide, rules)
    rep = replay(ev, rules)
    res["replay"] = rep
    if rep.empty or rep.alerts.sum() == 0 and ev["expected"].iloc[:, -1].isna().all():
        res["unknown"] = "alert.short"
        return res
    ok = rep[(rep.alerts >= rules.min_replayed) & (rep.false_rate <= rules.max_false)]
    if ok.empty:
        return res
    chosen = ok.iloc[0]
    res["threshold"] = float(chosen.threshold)
    res["chosen"] = chosen.to_dict()
    last = wide.columns[-1]
    flags = _flags(ev, res["threshold"], rules)[last]
    rows = []
    for (kind, name), d in flags[flags != 0].items():
        rows.append({"kind": kind, "name": name, "month": str(last.date()),
                     "actual": float(ev["actual"].at[(kind, name), last]),
                     "expected": float(ev["expected"].at[(kind, name), last]),
                     "low": float(ev["low"].at[(kind, name), last]), "high": float(ev["high"].at[(kind, name), last]),
                     "dev": float(ev["dev"].at[(kind, name), last]), "direction": "up" if d > 0 else "down",
                     "contributors": _contributors(cube, kind, name, last, float(ev["ratio"].at[(kind, name), last]),
                                                   int(d), rules)})
    if rows:
        out = pd.DataFrame(rows)
        out = out.reindex(out.dev.abs().sort_values(ascending=False).index).reset_index(drop=True)
        res["alerts"] = out
    return res


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["kind", "name", "month", "actual", "expected", "low", "high", "dev", "direction",
                                 "contributors"])


def _contributors(cube: Cube, kind: str, name: str, month: pd.Timestamp, ratio: float, direction: int,
                  rules: AlertRules) -> list[tuple[str, float]]:
    """The parts whose own gap (revenue against their level x the series' seasonal ratio) made most of the
    series' gap in ``direction``: clients of a manager or a category, categories of a client."""
    start = month - pd.DateOffset(months=rules.level_months)
    if kind == "manager":
        d, part = cube.client_manager_month, "client_id"
        d = d[d.manager.astype(str) == name]
    elif kind == "category":
        d, part = cube.client_category_month, "client_id"
        d = d[d.category.astype(str) == name]
    else:
        if not cube.profile.has_category:
            return []
        d, part = cube.client_category_month, "category"
        d = d[d.client_id.astype(str) == name]
    d = d[(d.month >= start) & (d.month <= month) & d[part].notna()]
    if d.empty:
        return []
    keys = d[part].astype(str)
    level = d[d.month < month].groupby(keys[d.month < month]).revenue.sum() / rules.level_months
    actual = d[d.month == month].groupby(keys[d.month == month]).revenue.sum()
    gap = actual.reindex(level.index.union(actual.index)).fillna(0) - level.reindex(
        level.index.union(actual.index)).fillna(0) * ratio
    gap = gap[gap * direction > 0].sort_values(ascending=direction < 0)
    names = cube.clients.set_index(cube.clients.client_id.astype(str)).client_name if part == "client_id" else None
    out = []
    for key, value in gap.head(rules.contributors).items():
        label = str(names.get(key, key)) if names is not None else str(key)
        out.append((label, float(value)))
    return out


def _name(kind: str, name: str, cube: Cube | None) -> str:
    if kind == "client" and cube is not None:
        names = cube.clients.set_index(cube.clients.client_id.astype(str)).client_name
        return f"{names.get(name, name)} ({name})"
    return name


def alert_sentences(res: dict[str, Any], lang: str = "en", cube: Cube | None = None) -> list[str]:
    """The month's alerts, each with its expectation, range and contributors, after the sentence that
    states the rule's replayed false-alarm rate; or why no alert can be raised."""
    from salesbook.formats import fmt_int, fmt_money, fmt_num, fmt_pct
    rules: AlertRules = res["rules"]
    if res["unknown"]:
        return [t("alert.cannot_tell", lang, years=rules.min_years)]
    rep = res["replay"]
    if res["threshold"] is None:
        return [t("alert.no_threshold", lang, max_false=fmt_pct(rules.max_false, lang, 0),
                  min_replayed=fmt_int(rules.min_replayed, lang), months=fmt_int(int(rep.months.max()), lang))]
    c = res["chosen"]
    out = [t("alert.rule", lang, n=fmt_int(len(res["alerts"]), lang), month=res["month"][:7],
             months=fmt_int(int(c["months"]), lang), first=str(c["first"])[:7], last=str(c["last"])[:7],
             alerts=fmt_int(int(c["alerts"]), lang), held=fmt_int(int(c["held"]), lang),
             rate=fmt_pct(1 - c["false_rate"], lang, 0), threshold=fmt_num(res["threshold"], lang, 1),
             min_change=fmt_pct(rules.min_change, lang, 0),
             max_false=fmt_pct(rules.max_false, lang, 0))]
    for a in res["alerts"].itertuples():
        parts = ", ".join(f"{n} {fmt_money(g, lang)}" for n, g in a.contributors) or "—"
        out.append(t(f"alert.item.{a.direction}", lang, kind=t(f"alert.kind.{a.kind}", lang),
                     name=_name(a.kind, a.name, cube), month=a.month[:7], actual=fmt_money(a.actual, lang),
                     expected=fmt_money(a.expected, lang), low=fmt_money(a.low, lang), high=fmt_money(a.high, lang),
                     dev=fmt_pct(a.dev, lang, 0, signed=True), contributors=parts))
    return out


def alerts_json(res: dict[str, Any], cube: Cube | None = None) -> dict[str, Any]:
    """The month's alerts for ``summary.json``: the month, the threshold, the chosen threshold's replayed
    counts, the replay at every candidate threshold (``replay``: alerts, held, false-alarm rate, so the
    scheduler sees why none was chosen), and each alert with its figures and contributors (JSON-ready)."""
    c = res["chosen"] or {}
    rep = res["replay"]
    table = [{"threshold": float(r.threshold), "alerts": int(r.alerts), "held": int(r.held),
              "false_rate": None if np.isnan(r.false_rate) else round(float(r.false_rate), 4)}
             for r in rep.itertuples()] if len(rep) else []
    return {"month": res["month"], "threshold": res["threshold"], "unknown": res["unknown"],
            "max_false": res["rules"].max_false, "replay": table,
            "replayed": {k: (None if isinstance(c.get(k), float) and np.isnan(c.get(k)) else c.get(k))
                         for k in ("alerts", "held", "false", "false_rate", "months", "first", "last")} if c else None,
            "alerts": [{"kind": a.kind, "name": _name(a.kind, a.name, cube), "month": a.month,
                        "actual": round(a.actual, 2), "expected": round(a.expected, 2), "low": round(a.low, 2),
                        "high": round(a.high, 2), "change": round(a.dev, 4), "direction": a.direction,
                        "contributors": [{"name": n, "gap": round(g, 2)} for n, g in a.contributors]}
                       for a in res["alerts"].itertuples()]}


def alerts_view(res: dict[str, Any], lang: str = "en", cube: Cube | None = None) -> pd.DataFrame:
    """The month's alerts as a table with translated column names (money marked)."""
    from salesbook.formats import fmt_money, fmt_pct
    a = res["alerts"]
    cols = [t("alert.col.kind", lang), t("alert.col.name", lang), t("col.month", lang), t("alert.col.actual", lang),
            t("alert.col.expected", lang), t("alert.col.range", lang), t("alert.col.change", lang),
            t("alert.col.contributors", lang)]
    rows = [[t(f"alert.kind.{x.kind}", lang), _name(x.kind, x.name, cube), x.month[:7], x.actual, x.expected,
             f"{fmt_money(x.low, lang)} – {fmt_money(x.high, lang)}", fmt_pct(x.dev, lang, 0, signed=True),
             "; ".join(f"{n}: {fmt_money(g, lang)}" for n, g in x.contributors)] for x in a.itertuples()]
    out = pd.DataFrame(rows, columns=cols)
    out.attrs["money"] = cols[3:5]
    return out


def early_warning_lines(cube: Cube, lang: str = "en", classes: pd.DataFrame | None = None,
                        rules: Any = None) -> list[str]:
    """The memo's early warnings: how many clients are at risk with the ranking's backtested precision (or
    why it cannot tell), then the month's alerts with the rule's replayed record. ``rules``: the category
    rules (:class:`salesbook.analysis.segments.Rules`, the run's)."""
    from salesbook.analysis.atrisk import at_risk, at_risk_sentence
    from salesbook.analysis.segments import Rules
    res = alerts(cube)
    return [at_risk_sentence(at_risk(cube, rules or Rules(), classes=classes), lang), *alert_sentences(res, lang, cube)]
