"""Seasonality: monthly indices, their stability, the seasonally adjusted trend, working days.

Monthly series here are company (or segment) revenue per calendar month with
every month present (zeros, not gaps). Indices are multiplicative: 1.18 means a
month sells 18 % above the deseasonalised level.

The classical index is the ratio of each month to the centred 12-month moving
average (2x12), averaged per calendar month and normalised to mean 1: exactly
statsmodels' ``seasonal_decompose(model="multiplicative")``, written out here
only so that months with no sales (zeros) and a partial last month can be left
out instead of making the decomposition fail. STL (statsmodels) on the log of
the series gives a second estimate where there are at least two full years.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd

from salesbook.cube import Cube
from salesbook.i18n import month_names, t

__all__ = ["SeasonalProfile", "seasonal_profile", "centred_moving_average", "adjusted_series", "trend_fit",
           "profile_sentence", "year_month_table", "yoy_table", "segment_profiles", "monthly_by",
           "working_days", "weekday_profile", "is_daily", "company_series", "category_series", "workday_adjusted",
           "date_list", "complete_series", "MIN_MONTHS"]

#: imported on first use, not with this module; a scheduled run's kernels import them ahead (salesbook.run.warm)
DEFERRED = ("statsmodels.tsa.seasonal", "statsmodels.regression.linear_model")

MIN_MONTHS = 24  #: two full years: fewer and indices are not estimated


def centred_moving_average(y: pd.Series, period: int = 12) -> pd.Series:
    """The centred moving average of an even period (2 x 12 for months); NaN at the edges."""
    if period % 2:
        w = np.ones(period) / period
    else:
        w = np.r_[0.5, np.ones(period - 1), 0.5] / period
    half = len(w) // 2
    values = np.convolve(y.to_numpy(dtype=float), w, mode="valid")
    out = np.full(len(y), np.nan)
    out[half:half + len(values)] = values
    return pd.Series(out, index=y.index)


@dataclass
class SeasonalProfile:
    """Monthly seasonal indices and how stable they are.

    ``table``: one row per calendar month 1..12 with ``index`` (classical,
    mean 1), ``std`` (spread of the yearly ratios), ``min``, ``max``, ``years``
    (ratios that entered), and ``stl`` (the STL estimate, NaN without two full
    years). ``ratios``: year x month ratios to the moving average.
    """

    table: pd.DataFrame
    ratios: pd.DataFrame
    months_used: int
    excluded: list[pd.Timestamp] = field(default_factory=list)
    enough: bool = True

    @property
    def index(self) -> pd.Series:
        return self.table["index"]


def company_series(cube: Cube) -> tuple[pd.Series, pd.Timestamp | None]:
    """Monthly company revenue (zeros for empty months) and the partial last month, if any (the profile's)."""
    m = cube.monthly().set_index("month").revenue
    return m, cube.profile.partial_last


def complete_series(cube: Cube) -> pd.Series:
    """Monthly company revenue over the full months only (no partial first or last month), for trends,
    profiles and forecasts."""
    y, _ = company_series(cube)
    full = pd.DatetimeIndex(cube.profile.full_months)
    return y[y.index.isin(full)]


def seasonal_profile(y: pd.Series, exclude: Iterable[pd.Timestamp] = (), stl: bool = True,
                     period: int = 12, min_months: int = MIN_MONTHS) -> SeasonalProfile:
    """Classical multiplicative indices of a monthly series (and STL's where it fits).

    ``exclude``: months left out of the estimate (a partial last month). Months
    with zero or negative revenue give no ratio. With fewer than ``min_months``
    usable months, ``enough`` is False and the indices are NaN.
    """
    y = y.astype(float).copy()
    excluded = [pd.Timestamp(e) for e in exclude]
    for e in excluded:
        if e in y.index:
            y = y.drop(e)
    # a trailing excluded month shortens the series; an inner one would break the moving average
    y = y[y.index <= y.index.max()]
    months = pd.RangeIndex(1, period + 1, name="month")
    if len(y) < min_months:
        empty = pd.DataFrame(index=months, columns=["index", "std", "min", "max", "years", "stl"], dtype=float)
        return SeasonalProfile(empty, pd.DataFrame(), len(y), excluded, enough=False)
    trend = centred_moving_average(y, period)
    ratio = y / trend.where(trend > 0)
    ratio = ratio.where(y > 0)
    frame = pd.DataFrame({"year": ratio.index.year, "month": ratio.index.month, "ratio": ratio.to_numpy()})
    ratios = frame.pivot_table(index="year", columns="month", values="ratio", aggfunc="mean").reindex(columns=months)
    raw = ratios.mean(axis=0)
    table = pd.DataFrame(index=months)
    table["index"] = raw / raw.mean()
    table["std"] = ratios.std(axis=0, ddof=1) / raw.mean()
    table["min"] = ratios.min(axis=0) / raw.mean()
    table["max"] = ratios.max(axis=0) / raw.mean()
    table["years"] = ratios.notna().sum(axis=0).astype("int64")
    table["stl"] = np.nan
    if stl and (y > 0).all() and len(y) >= 2 * period:
        from statsmodels.tsa.seasonal import STL
        res = STL(np.log(y.to_numpy()), period=period, robust=True).fit()
        s = pd.Series(np.exp(res.seasonal), index=y.index)
        by_month = s.groupby(s.index.month).mean().reindex(months)
        table["stl"] = by_month / by_month.mean()
    return SeasonalProfile(table, ratios, len(y), excluded)


def adjusted_series(y: pd.Series, profile: SeasonalProfile) -> pd.Series:
    """Revenue divided by the month's seasonal index (NaN where the profile has none)."""
    idx = profile.index.reindex(y.index.month).to_numpy()
    return pd.Series(y.to_numpy() / idx, index=y.index)


def trend_fit(sa: pd.Series, months: int = 36) -> dict[str, float]:
    """A straight line through the last ``months`` of the adjusted series (statsmodels OLS).

    Returns ``slope_per_year`` as a share of the mean level, its 95 % confidence
    interval (``low``, ``high``), ``p_value`` and the fitted ``start`` and ``end`` values.
    """
    from statsmodels.regression.linear_model import OLS  # statsmodels.api would import all of statsmodels
    from statsmodels.tools.tools import add_constant
    tail = sa.dropna().iloc[-months:]
    if len(tail) < 6:
        return {"slope_per_year": np.nan, "low": np.nan, "high": np.nan, "p_value": np.nan,
                "start": np.nan, "end": np.nan, "months": len(tail)}
    x = np.arange(len(tail), dtype=float)
    fit = OLS(tail.to_numpy(), add_constant(x)).fit()
    level = tail.mean()
    lo, hi = fit.conf_int(0.05)[1]
    return {"slope_per_year": fit.params[1] * 12 / level, "low": lo * 12 / level, "high": hi * 12 / level,
            "p_value": float(fit.pvalues[1]), "start": float(fit.fittedvalues[0]),
            "end": float(fit.fittedvalues[-1]), "months": len(tail)}


def _runs(idx: pd.Series, pick: int, tol: float) -> list[int]:
    """Months next to the extreme month ``pick`` whose index is within ``tol`` of it (wrapping)."""
    run = [pick]
    for step in (1, -1):
        m = pick
        while True:
            m = (m - 1 + step) % 12 + 1
            if m in run or abs(idx[m] - idx[pick]) > tol:
                break
            run.append(m) if step == 1 else run.insert(0, m)
    return run


def profile_sentence(profile: SeasonalProfile, lang: str = "en", tol: float = 0.05) -> str:
    """"Peak in Mar-Apr, +18 %; trough in Jan, -35 %" in ``lang``."""
    if not profile.enough:
        return t("season.too_short", lang, months=profile.months_used, need=MIN_MONTHS)
    idx = profile.index
    names = month_names(lang, short=False)
    peak, trough = int(idx.idxmax()), int(idx.idxmin())
    span = lambda ms: names[ms[0] - 1] + ("–" + names[ms[-1] - 1] if len(ms) > 1 else "")  # noqa: E731
    from salesbook.formats import fmt_pct
    pct = lambda v: fmt_pct(v - 1, lang, 0, signed=True)  # noqa: E731
    return t("season.sentence", lang, peak=span(_runs(idx, peak, tol)), peak_pct=pct(idx[peak]),
             trough=span(_runs(idx, trough, tol)), trough_pct=pct(idx[trough]))


def year_month_table(y: pd.Series) -> pd.DataFrame:
    """Revenue as years (rows) x calendar months (columns 1..12); NaN outside the data."""
    frame = pd.DataFrame({"year": y.index.year, "month": y.index.month, "revenue": y.to_numpy()})
    return frame.pivot_table(index="year", columns="month", values="revenue", aggfunc="sum").reindex(
        columns=range(1, 13))


def yoy_table(y: pd.Series) -> pd.DataFrame:
    """Each month against the same month a year earlier: change as a share (0.05 = +5 %)."""
    prev = y.shift(12, freq="MS").reindex(y.index)
    change = (y / prev.where(prev > 0) - 1)
    frame = pd.DataFrame({"year": y.index.year, "month": y.index.month, "change": change.to_numpy()})
    return frame.pivot_table(index="year", columns="month", values="change", aggfunc="mean").reindex(
        columns=range(1, 13)).dropna(how="all")


def monthly_by(cube: Cube, groups: pd.Series) -> pd.DataFrame:
    """Monthly revenue per group of clients (``groups``: client_id -> group), every month present."""
    cm = cube.client_month
    g = groups.reindex(cm.client_id.astype(str)).to_numpy()
    frame = pd.DataFrame({"month": cm.month, "group": g, "revenue": cm.revenue}).dropna(subset=["group"])
    wide = frame.pivot_table(index="month", columns="group", values="revenue", aggfunc="sum")
    full = pd.date_range(cm.month.min(), cube.as_of.to_period("M").to_timestamp(), freq="MS")
    return wide.reindex(full).fillna(0.0)


def segment_profiles(wide: pd.DataFrame, exclude: Iterable[pd.Timestamp] = (), min_share: float = 0.02) -> pd.DataFrame:
    """Seasonal indices per column of a month x group frame (groups below ``min_share`` of revenue left out)."""
    total = wide.clip(lower=0).sum()
    keep = total[total >= min_share * total.sum()].sort_values(ascending=False).index
    rows = {}
    for col in keep:
        p = seasonal_profile(wide[col], exclude, stl=False)
        if p.enough:
            rows[col] = p.index
    return pd.DataFrame(rows).T


# --------------------------------------------------------------------------- daily data


def is_daily(cube: Cube) -> bool:
    """True when purchases fall on many days of the month (not a monthly export on the 1st)."""
    d = cube.client_day.date
    return d.dt.day.nunique() > 5


def working_days(months: Iterable[pd.Timestamp], country: str = "RU", extra_holidays: Iterable[Any] = (),
                 extra_workdays: Iterable[Any] = ()) -> pd.Series:
    """Working days per month by a public-holiday calendar (``holidays`` package, transfers included).

    ``extra_holidays`` / ``extra_workdays``: dates to add as days off / working days
    (company shutdowns, a worked Saturday the calendar does not know).
    """
    import holidays as hol
    months = pd.DatetimeIndex(list(months))
    years = sorted(set(months.year))
    cal = hol.country_holidays(country, years=years)
    off = {pd.Timestamp(d).date() for d in extra_holidays}
    on = {pd.Timestamp(d).date() for d in extra_workdays}
    out = {}
    for m in months:
        days = pd.date_range(m, m + pd.offsets.MonthEnd(0), freq="D").date
        out[m] = sum(1 for d in days if (cal.is_working_day(d) and d not in off) or d in on)
    return pd.Series(out, name="working_days").rename_axis("month")


def weekday_profile(cube: Cube, start: pd.Timestamp | None = None) -> pd.DataFrame:
    """Average revenue per weekday (Mon=0..Sun=6) as an index (mean over weekdays with sales = 1) and share."""
    d = cube.client_day
    if start is not None:
        d = d[d.date >= start]
    by_day = d.groupby("date").revenue.sum()
    all_days = pd.date_range(by_day.index.min(), by_day.index.max(), freq="D")
    by_day = by_day.reindex(all_days, fill_value=0.0)
    avg = by_day.groupby(by_day.index.day_of_week).mean().reindex(range(7), fill_value=0.0)
    share = by_day.groupby(by_day.index.day_of_week).sum().reindex(range(7), fill_value=0.0)
    out = pd.DataFrame({"average": avg, "share": share / share.sum()})
    selling = out.average[out.average > 0]
    out["index"] = out.average / selling.mean() if len(selling) else np.nan
    out.index.name = "weekday"
    return out


def category_series(cube: Cube, months: pd.DatetimeIndex) -> pd.DataFrame:
    """Monthly revenue per product category over ``months`` (zeros, not gaps)."""
    wide = cube.category_month.pivot_table(index="month", columns="category", values="revenue",
                                           aggfunc="sum", observed=True)
    return wide.reindex(months).fillna(0.0)


def workday_adjusted(y: pd.Series, days: pd.Series, exclude: Iterable[pd.Timestamp] = ()) -> pd.Series:
    """Monthly revenue brought to a month of average working days: y / days x mean(days)."""
    out = y / days.reindex(y.index).where(lambda d: d > 0) * days.mean()
    return out.drop([e for e in exclude if e in out.index])


def date_list(text: str) -> list[pd.Timestamp]:
    """Comma-separated ISO dates (a notebook parameter) as timestamps; a bad one is a clear error."""
    out = []
    for part in (p.strip() for p in str(text).split(",")):
        if part:
            try:
                out.append(pd.Timestamp(part))
            except ValueError:
                raise ValueError(f"{part!r} is not a date: expected yyyy-mm-dd, comma-separated") from None
    return out
