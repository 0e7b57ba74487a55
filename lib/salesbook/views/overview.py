"""Top-line figures of the overview workbook: turnover by month and year, key indicators."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from salesbook.cube import Cube
from salesbook.views.display import fmt_int, fmt_money, fmt_pct, money_axis, month_ticks
from salesbook.i18n import month_labels, t
from salesbook.paths import Section
from salesbook.cube.profile import windows

__all__ = ["monthly_turnover", "yearly_turnover", "window_totals", "key_figures", "monthly_chart",
           "partial_last_month", "new_clients", "yearly_view"]


def monthly_turnover(cube: Cube) -> pd.DataFrame:
    """One row per month of the period: revenue, active clients, orders, rolling 12-month revenue.

    Columns: ``month`` (first day), ``revenue``, ``clients``, ``orders``,
    ``revenue_12m`` (sum of the 12 months ending there; NaN for the first 11).
    """
    m = cube.monthly()
    m["revenue_12m"] = m["revenue"].rolling(12, min_periods=12).sum()
    return m


def yearly_turnover(cube: Cube) -> pd.DataFrame:
    """Revenue and active clients per calendar year, with the number of full months of data in each."""
    m = cube.monthly()
    cm = cube.client_month[cube.client_month.orders > 0]
    clients = cm.groupby(cm.month.dt.year).client_id.nunique()
    y = m.groupby(m.month.dt.year).agg(revenue=("revenue", "sum"), months=("month", "size"))
    y["clients"] = clients.reindex(y.index).fillna(0).astype("int64")
    full = cube.profile.year_months()
    y["months"] = [full.get(int(year), 0) for year in y.index]  # full months of data in the year
    y.index.name = "year"
    return y.reset_index()


def yearly_view(yearly: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The yearly table for a reader: a partial year says so in its label ("2021, 2 months: partial")."""
    label = [str(y) if m == 12 else t("overview.partial_year", lang, year=y, months=m)
             for y, m in zip(yearly.year, yearly.months)]
    out = pd.DataFrame({t("col.year", lang): label, t("col.revenue", lang): yearly.revenue.to_numpy(),
                        t("col.clients", lang): yearly.clients.to_numpy()})
    out.attrs["money"] = [t("col.revenue", lang)]
    return out


def window_totals(cube: Cube, months: int = 12) -> tuple[float, float | None]:
    """Revenue of the last ``months`` months up to ``as_of`` and of the ``months`` before.

    The earlier figure is ``None`` when the data do not fully cover both windows (a short history, data
    that stop before ``as_of``): a change against a window with part of its days missing means nothing.
    """
    (s1, e1), (s0, e0) = windows(cube.as_of, months)
    d = cube.client_day
    last = float(d.loc[(d.date >= s1) & (d.date <= e1), "revenue"].sum())
    if not cube.profile.covers(s0, e1):
        return last, None
    prev = float(d.loc[(d.date >= s0) & (d.date <= e0), "revenue"].sum())
    return last, prev


def partial_last_month(cube: Cube) -> tuple[pd.Timestamp, int] | None:
    """(month, last day with data) when the data stop before the end of the last month (the profile's)."""
    month = cube.profile.partial_last
    return (month, pd.Timestamp(cube.report.last_date).day) if month is not None else None


def new_clients(cube: Cube, start: pd.Timestamp, end: pd.Timestamp) -> int:
    """Clients whose first purchase falls from ``start`` to ``end`` and after the profile's lead-in (clients first
    seen earlier were probably buying before the data began)."""
    first = cube.clients.first_date
    # first purchases carry their time of day: the end day counts whole
    return int(((first >= max(start, cube.profile.lead_in_end)) & (first < end + pd.Timedelta(days=1))).sum())


def key_figures(cube: Cube, lang: str = "en", months: int = 12) -> pd.DataFrame:
    """Indicator / value table of the headline figures, formatted in ``lang``.

    A figure the data cannot support shows "–" and the row says why in its label (a comparison with a
    window the data do not cover; managers without a manager column; new clients inside the lead-in).
    """
    prof = cube.profile
    (start, end), _ = windows(cube.as_of, months)
    last12, prev12 = window_totals(cube, months)
    d = cube.client_day
    recent = d[(d.date >= start) & (d.date <= end)]
    buyers = recent.loc[recent.orders > 0, "client_id"].nunique()
    orders = int(recent.orders.sum())
    new = new_clients(cube, start, end) if prof.lead_in_end <= end else None
    mm = cube.manager_month
    managers = mm.loc[(mm.month >= start.to_period("M").to_timestamp()) & (mm.revenue > 0), "manager"].nunique() \
        if prof.has_manager else None
    returns = next((ln.amount for ln in cube.report.lines if ln.reason == "return"), 0.0)
    gross = cube.report.revenue - returns
    r = cube.report
    covered = prof.covers(start, end)
    dash = "–"
    rows = [
        ("kpi.period", f"{r.first_date} – {r.last_date}"),
        ("kpi.revenue_total", fmt_money(r.revenue, lang)),
        ("kpi.revenue_12m" if covered else "kpi.revenue_12m_partial", fmt_money(last12, lang)),
        ("kpi.revenue_prev12m", fmt_money(prev12, lang) if prev12 is not None else dash),
        ("kpi.growth_12m", fmt_pct(last12 / prev12 - 1, lang, signed=True) if prev12 else dash),
        ("kpi.clients_total", fmt_int(r.clients, lang)),
        ("kpi.clients_12m", fmt_int(buyers, lang)),
        ("kpi.new_12m" if prof.lead_in_end <= start else "kpi.new_since", dash if new is None else fmt_int(new, lang)),
        ("kpi.orders_12m", fmt_int(orders, lang)),
        ("kpi.avg_order_12m", fmt_money(last12 / orders, lang) if orders else dash),
        ("kpi.managers_12m", fmt_int(managers, lang) if managers is not None else dash),
        ("kpi.returns_share", fmt_pct(-returns / gross, lang) if gross > 0 else dash),
    ]
    since = {"since": prof.lead_in_end.date()}
    return pd.DataFrame({t("col.metric", lang): [t(k, lang, **since) if k == "kpi.new_since" else t(k, lang)
                                                 for k, _ in rows],
                         t("col.value", lang): [v for _, v in rows]})


def monthly_chart(monthly: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Bars of monthly revenue and a line of rolling 12-month revenue (right axis)."""
    labels = month_labels(monthly.month, lang)
    fig = go.Figure()
    fig.add_bar(x=monthly.month, y=monthly.revenue, name=t("col.revenue", lang), customdata=labels,
                hovertemplate="%{customdata}: %{y:,.0f}<extra></extra>")
    fig.add_scatter(x=monthly.month, y=monthly.revenue_12m, name=t("kpi.revenue_12m", lang), yaxis="y2",
                    mode="lines", line=dict(width=3))
    month_ticks(fig, monthly.month, lang)
    fig.update_layout(title=t(Section.MONTHLY, lang), yaxis=dict(title=t("col.revenue", lang)),
                      yaxis2=dict(overlaying="y", side="right", showgrid=False, rangemode="tozero"),
                      hovermode="x unified")
    return money_axis(money_axis(fig, "y"), "y2")
