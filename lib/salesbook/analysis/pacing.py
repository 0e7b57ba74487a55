"""Each manager's pace against the plan: fact to date, plan to date, and where this pace ends the year.

The plan is the run's plan file (:func:`salesbook.analysis.forecast.read_plan`): ``month``, ``plan``, and
optionally ``manager`` and ``new_clients``. The **plan year** is the calendar year of ``as_of``; the
plan's months in it make the **year's plan**.

Plan to date (the pace)
    The year's plan is spread over its months by **weights** ``w``: the company's own seasonal index of
    each calendar month (:func:`salesbook.analysis.seasonality.seasonal_profile` on the full months,
    which needs :attr:`PaceRules.pace_season_months`, 24 by default) and, within the month of ``as_of``, by
    the working days elapsed (:func:`salesbook.analysis.seasonality.working_days`). The plan to date is
    ``year's plan x (sum of w over the elapsed months, the current one by its elapsed working days) /
    (sum of w over the plan's months)``. With fewer full months the weights are all 1 (linear pacing)
    and :attr:`Pace.seasonal` is False: the sentences say so. Only the year's total of the plan is
    paced: the plan's own split between its months is not read as a season.
Fact to date
    A manager's revenue over the plan year's months up to ``as_of`` (the manager of each sales line,
    ``cube.manager_month``); new clients: clients whose first purchase falls in that span, by the
    manager of their first purchase.
Year-end projection
    The fact to date plus the rest of the year sold at **today's pace**: the revenue of the last
    :attr:`PaceRules.pace_recent_months` elapsed months over their share of the year's weights, times the
    share still to come (so a manager who slowed down lately ends lower than his year to date says). Its interval: the remaining months' part of it, give or take the
    baseline forecast's backtested error (:func:`salesbook.analysis.forecast.baseline_backtest`, WAPE of
    one-month-ahead forecasts over 12 months, on the company's series; a manager's own series is
    noisier, so his interval is, if anything, too narrow). Without a backtest (short history) there is
    no interval, and the sentence says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salesbook.cube import Cube
from salesbook.i18n import t

__all__ = ["PaceRules", "PACE", "Pace", "pace_weights", "pace_figures", "plan_pace", "pace_sentence", "pace_view_columns", "shared_cause",
           "COMPANY"]

#: the row of the whole company in :attr:`Pace.table`
COMPANY = "__company__"


@dataclass(frozen=True)
class PaceRules:
    """The pace's thresholds (every one a parameter)."""

    #: full months of history before the plan is paced by the company's season (else linear)
    pace_season_months: int = 24
    #: public-holiday calendar of the working days within the current month
    pace_country: str = "RU"
    #: spread the plan by the season at all (False: linear always)
    pace_seasonal: bool = True
    #: "today's pace": the last this many elapsed months of the plan year (fewer when fewer have elapsed)
    pace_recent_months: int = 3


PACE = PaceRules()


@dataclass
class Pace:
    """The plan's pace at ``as_of``.

    ``table``: one row per manager named in the plan (and one :data:`COMPANY` row): ``plan_year``,
    ``plan_to_date`` (paced), ``plan_to_date_linear``, ``fact``, ``pct`` (fact / plan to date), ``gap``
    (fact - plan to date), ``projected``, ``projected_pct`` (of the year's plan), ``low_pct``,
    ``high_pct`` (NaN without a backtest), ``new_plan_to_date``, ``new_fact`` (NaN without a
    ``new_clients`` column); sorted by ``gap``, the furthest behind first (the company row last).
    """

    table: pd.DataFrame
    year: int
    start: pd.Timestamp
    end: pd.Timestamp
    seasonal: bool
    months: int  #: full months of history the season was (or could not be) read from
    wape: float | None
    elapsed_share: float  #: the share of the year's weights elapsed at ``as_of``
    recent: list[pd.Timestamp]  #: the months of today's pace
    last: pd.Timestamp  #: the plan year's last planned month
    whole: bool  #: the plan has company rows: the :data:`COMPANY` row is the whole company, else its managers'
    rules: PaceRules = field(default_factory=PaceRules)


def pace_weights(months: pd.DatetimeIndex, as_of: Any, index: pd.Series | None = None,
                 days: pd.Series | None = None, days_done: int | None = None) -> tuple[pd.Series, pd.Series]:
    """The weight of each plan month and how much of it has elapsed at ``as_of`` (0..1 per month).

    ``index``: seasonal index by calendar month 1..12 (None: all 1, linear). ``days``: working days per
    month of ``months``, and ``days_done`` those elapsed in the month of ``as_of`` (None: calendar days).
    """
    as_of = pd.Timestamp(as_of).normalize()
    months = pd.DatetimeIndex(months)
    w = pd.Series(1.0, index=months) if index is None else pd.Series(
        index.reindex(months.month).to_numpy(dtype="float64"), index=months)
    current = as_of.to_period("M").to_timestamp()
    done = pd.Series(np.where(months < current, 1.0, 0.0), index=months)
    if current in months:
        if days is not None and days_done is not None and days.get(current, 0) > 0:
            done[current] = min(1.0, days_done / float(days[current]))
        else:
            done[current] = as_of.day / ((current + pd.offsets.MonthEnd(0)).day)
    return w, done


def pace_figures(year_plan: float, fact: float, share: float, wape: float | None = None,
                 recent_fact: float | None = None, recent_share: float | None = None) -> dict[str, float]:
    """Plan to date, share of it done, gap, and the year at today's pace.

    ``share``: the share of the year's weights elapsed (0..1); ``recent_fact`` and ``recent_share``: the
    revenue and the share of the year's weights of the last few elapsed months (today's pace; None: the
    pace since the year began). The rest of the year, ``1 - share`` of its weights, is sold at today's pace:
    ``recent_fact / recent_share x (1 - share)``; the interval is that rest give or take ``wape``."""
    to_date = year_plan * share
    if recent_fact is None or not recent_share:
        recent_fact, recent_share = fact, share
    remaining = recent_fact / recent_share * (1 - share) if recent_share > 0 else np.nan
    projected = fact + remaining
    ok = wape is not None and year_plan
    return {"plan_year": year_plan, "plan_to_date": to_date, "fact": fact,
            "pct": fact / to_date if to_date else np.nan, "gap": fact - to_date, "projected": projected,
            "projected_pct": projected / year_plan if year_plan else np.nan,
            "low_pct": (fact + remaining * (1 - wape)) / year_plan if ok else np.nan,
            "high_pct": (fact + remaining * (1 + wape)) / year_plan if ok else np.nan}


def _season(cube: Cube, rules: PaceRules) -> tuple[pd.Series | None, int]:
    from salesbook.analysis.seasonality import complete_series, seasonal_profile
    full = complete_series(cube)
    n = int(len(full))
    if not rules.pace_seasonal or n < rules.pace_season_months:
        return None, n
    prof = seasonal_profile(full, stl=False)
    if not prof.enough or prof.index.isna().any():
        return None, n
    return prof.index, n


def plan_pace(cube: Cube, plan: pd.DataFrame, rules: PaceRules = PACE, backtest: dict[str, Any] | None = None
              ) -> Pace | None:
    """The pace of each manager named in ``plan`` (:func:`read_plan`'s frame) and of the company.

    ``None`` when the plan has no month in ``as_of``'s year. ``backtest``: the baseline's
    (:func:`salesbook.analysis.forecast.baseline_backtest`; computed here when None).
    """
    from salesbook.analysis.seasonality import working_days
    as_of = cube.as_of.normalize()
    year = as_of.year
    rows = plan[plan.month.dt.year == year]
    if rows.empty:
        return None
    months = pd.DatetimeIndex(sorted(rows.month.unique()))
    index, n_full = _season(cube, rules)
    current = as_of.to_period("M").to_timestamp()
    try:  # working days of the plan's months, and of the current month up to as_of
        import holidays as hol
        days = working_days(months, rules.pace_country)
        cal = hol.country_holidays(rules.pace_country, years=[year])
        done_days = sum(1 for d in pd.date_range(current, as_of, freq="D").date if cal.is_working_day(d))
    except (ImportError, NotImplementedError, KeyError):  # a calendar the holidays package lacks: calendar days
        days, done_days = None, None
    w, done = pace_weights(months, as_of, index, days, done_days)
    share = float((w * done).sum() / w.sum())
    share_linear = float(done.sum() / len(done))
    if backtest is None:
        from salesbook.analysis.forecast import baseline_backtest
        backtest = baseline_backtest(cube)
    wape = None if backtest is None else float(backtest["wape_baseline"])
    start, end = months[0], min(as_of, (months[-1] + pd.offsets.MonthEnd(0)).normalize())
    mm = cube.manager_month
    span = (mm.month >= start) & (mm.month <= end)
    fact_by = mm[span].groupby(mm.manager.astype(object)[span]).revenue.sum()
    # today's pace: the last ``recent_months`` elapsed months (the current one by its elapsed working days)
    elapsed = done[done > 0].index
    recent = elapsed[-rules.pace_recent_months:] if len(elapsed) else elapsed
    recent_share = float((w * done)[recent].sum() / w.sum())
    near = mm.month.isin(recent) & span
    recent_by = mm[near].groupby(mm.manager.astype(object)[near]).revenue.sum()
    monthly = cube.monthly()
    fact_company = float(monthly[(monthly.month >= start) & (monthly.month <= end)].revenue.sum())
    recent_company = float(monthly[monthly.month.isin(recent)].revenue.sum())
    named = [str(m) for m in rows.manager.dropna().unique()]
    # the company's plan: it has company rows, or names every manager who sold in the span; else its managers'
    sold = {str(m) for m, v in fact_by.items() if v}
    whole = bool(rows.manager.isna().any()) or sold <= set(named)
    if not whole:
        fact_company = float(sum(fact_by.get(m, 0.0) for m in named))
        recent_company = float(sum(recent_by.get(m, 0.0) for m in named))
    cl = cube.clients
    won = cl[(cl.first_date >= start) & (cl.first_date <= end + pd.Timedelta(days=1))]
    new_by = won.groupby(won.first_manager.astype(object)).size() if "first_manager" in won else pd.Series(dtype=float)
    has_new = rows.new_clients.notna().any()
    out = []
    groups = [(str(m), rows[rows.manager.astype(str) == str(m)]) for m in sorted(rows.manager.dropna().unique())]
    groups.append((COMPANY, rows))
    for name, r in groups:
        year_plan = float(r.plan.sum())
        fact = fact_company if name == COMPANY else float(fact_by.get(name, 0.0))
        new_plan = float(r.new_clients.sum()) if has_new and r.new_clients.notna().any() else np.nan
        new_company = float(len(won)) if whole else float(sum(new_by.get(m, 0) for m in named))
        new_fact = (new_company if name == COMPANY else float(new_by.get(name, 0))) if has_new else np.nan
        near_fact = recent_company if name == COMPANY else float(recent_by.get(name, 0.0))
        out.append({"manager": name, **pace_figures(year_plan, fact, share, wape, near_fact, recent_share),
                    "plan_to_date_linear": year_plan * share_linear,
                    "new_plan_to_date": new_plan * share, "new_fact": new_fact})
    table = pd.DataFrame(out).set_index("manager")
    people = table.drop(index=COMPANY).sort_values("gap", kind="stable")
    table = pd.concat([people, table.loc[[COMPANY]]])
    return Pace(table, year, start, end, index is not None, n_full, wape, share, list(recent), months[-1], bool(whole),
                rules)


def _span(months: list[pd.Timestamp], lang: str) -> str:
    from salesbook.i18n import month_labels
    labels = month_labels(months, lang)
    return labels[0] if len(labels) == 1 else f"{labels[0]} – {labels[-1]}" if labels else "–"


def _month(m: pd.Timestamp, lang: str) -> str:
    from salesbook.i18n import month_names
    return f"{month_names(lang, short=False)[m.month - 1]} {m.year}"


def pace_sentence(pace: Pace, who: str = COMPANY, lang: str = "en") -> str:
    """"At 92 % of the plan to date; at this pace 96 % by December", with its period, base and method."""
    from salesbook.formats import fmt_money, fmt_pct
    r = pace.table.loc[who]
    how = (t("pace.how.seasonal", lang, months=pace.months) if pace.seasonal
           else t("pace.how.linear_chosen", lang) if not pace.rules.pace_seasonal
           else t("pace.how.linear", lang, months=pace.months, need=pace.rules.pace_season_months))
    interval = (t("pace.interval", lang, low=fmt_pct(r.low_pct, lang, decimals=0), high=fmt_pct(r.high_pct, lang, decimals=0),
                  wape=fmt_pct(pace.wape, lang, decimals=0)) if pace.wape is not None and not np.isnan(r.low_pct)
                else t("pace.no_interval", lang))
    name = (t("pace.company", lang) if pace.whole else t("pace.planned", lang)) if who == COMPANY else who
    return t("pace.say", lang, who=name, start=str(pace.start.date()), end=str(pace.end.date()),
             fact=fmt_money(r.fact, lang), plan=fmt_money(r.plan_to_date, lang), pct=fmt_pct(r.pct, lang, decimals=0),
             projected=fmt_pct(r.projected_pct, lang, decimals=0), year=pace.year, last=_month(pace.last, lang),
             recent=_span(pace.recent, lang),
             year_plan=fmt_money(r.plan_year, lang), how=how, interval=interval)


def pace_view_columns() -> list[str]:
    """The columns of the managers' pace table, in order (views translate them)."""
    return ["plan_year", "plan_to_date", "fact", "pct", "gap", "projected_pct", "low_pct", "high_pct",
            "new_plan_to_date", "new_fact"]


def shared_cause(cube: Cube, pace: Pace, lang: str = "en", min_managers: int = 2) -> str | None:
    """When most managers behind their plan to date (at least ``min_managers``, and more than half of them)
    lost the most on the same step of the revenue walk, one sentence naming that step and its money;
    else None. A manager's walk is that of the clients he serves last (``walk_by(..., "manager")``)."""
    from salesbook.analysis import walk as wk
    from salesbook.formats import fmt_money
    behind = [m for m in pace.table.index if m != COMPANY and pace.table.loc[m, "gap"] < 0]
    walk = wk.revenue_walk(cube)
    if len(behind) < min_managers or walk.steps.empty:
        return None
    by = wk.walk_by(cube, walk, "manager", lang)
    rows = by.reindex([m for m in behind if m in by.index])
    rows = rows[rows.worst_amount < 0]
    if rows.empty:
        return None
    counts = rows.worst.value_counts()
    step, k = str(counts.index[0]), int(counts.iloc[0])
    if k < min_managers or k * 2 <= len(behind):
        return None
    amount = float(rows.loc[rows.worst == step, step].sum())
    return t("pace.shared", lang, n=len(behind), k=k, step=t(f"walk.step.{step}", lang), amount=fmt_money(amount, lang),
             start=str(walk.later[0].date()), end=str(walk.later[1].date()))
