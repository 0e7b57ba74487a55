"""Top-line figures of the overview workbook: turnover by month and year, key indicators."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .cube import Cube
from .display import fmt_int, fmt_money, fmt_pct, month_ticks
from .i18n import month_names, t

__all__ = ["monthly_turnover", "yearly_turnover", "window_totals", "key_figures", "monthly_chart",
           "partial_last_month"]


def monthly_turnover(cube: Cube) -> pd.DataFrame:
    """One row per month of the period: revenue, active clients, orders, rolling 12-month revenue.

    Columns: ``month`` (first day), ``revenue``, ``clients``, ``orders``,
    ``revenue_12m`` (sum of the 12 months ending there; NaN for the first 11).
    """
    m = cube.monthly()
    m["revenue_12m"] = m["revenue"].rolling(12, min_periods=12).sum()
    return m


def yearly_turnover(cube: Cube) -> pd.DataFrame:
    """Revenue and active clients per calendar year, with the number of months of data in each."""
    m = cube.monthly()
    cm = cube.client_month[cube.client_month.orders > 0]
    clients = cm.groupby(cm.month.dt.year).client_id.nunique()
    y = m.groupby(m.month.dt.year).agg(revenue=("revenue", "sum"), months=("month", "size"))
    y["clients"] = clients.reindex(y.index).fillna(0).astype("int64")
    y.index.name = "year"
    return y.reset_index()


def window_totals(cube: Cube, months: int = 12) -> tuple[float, float]:
    """Revenue of the last ``months`` months up to ``as_of`` and of the ``months`` before."""
    end = cube.as_of.normalize() + pd.Timedelta(days=1)
    start = end - pd.DateOffset(months=months)
    before = start - pd.DateOffset(months=months)
    d = cube.client_day
    last = float(d.loc[(d.date >= start) & (d.date < end), "revenue"].sum())
    prev = float(d.loc[(d.date >= before) & (d.date < start), "revenue"].sum())
    return last, prev


def partial_last_month(cube: Cube) -> tuple[pd.Timestamp, int] | None:
    """(month, last day with data) when the data stop before the end of the last month."""
    last = pd.Timestamp(cube.report.last_date)
    month_end = last + pd.offsets.MonthEnd(0)
    if last.normalize() < month_end.normalize() and cube.as_of < month_end:
        return last.to_period("M").to_timestamp(), last.day
    return None


def key_figures(cube: Cube, lang: str = "en", months: int = 12) -> pd.DataFrame:
    """Indicator / value table of the headline figures, formatted in ``lang``."""
    end = cube.as_of.normalize() + pd.Timedelta(days=1)
    start = end - pd.DateOffset(months=months)
    last12, prev12 = window_totals(cube, months)
    d = cube.client_day
    recent = d[(d.date >= start) & (d.date < end)]
    buyers = recent.loc[recent.orders > 0, "client_id"].nunique()
    orders = int(recent.orders.sum())
    new = int(((cube.clients.first_date >= start) & (cube.clients.first_date < end)).sum())
    mm = cube.manager_month
    managers = mm.loc[(mm.month >= start.to_period("M").to_timestamp()) & (mm.revenue > 0), "manager"].nunique()
    returns = next((ln.amount for ln in cube.report.lines if ln.reason == "return"), 0.0)
    gross = cube.report.revenue - returns
    r = cube.report
    rows = [
        ("kpi.period", f"{r.first_date} – {r.last_date}"),
        ("kpi.revenue_total", fmt_money(r.revenue, lang)),
        ("kpi.revenue_12m", fmt_money(last12, lang)),
        ("kpi.revenue_prev12m", fmt_money(prev12, lang)),
        ("kpi.growth_12m", fmt_pct(last12 / prev12 - 1, lang, signed=True) if prev12 > 0 else "–"),
        ("kpi.clients_total", fmt_int(r.clients, lang)),
        ("kpi.clients_12m", fmt_int(buyers, lang)),
        ("kpi.new_12m", fmt_int(new, lang)),
        ("kpi.orders_12m", fmt_int(orders, lang)),
        ("kpi.avg_order_12m", fmt_money(last12 / orders, lang) if orders else "–"),
        ("kpi.managers_12m", fmt_int(managers, lang)),
        ("kpi.returns_share", fmt_pct(-returns / gross, lang) if gross > 0 else "–"),
    ]
    return pd.DataFrame({t("col.metric", lang): [t(k, lang) for k, _ in rows],
                         t("col.value", lang): [v for _, v in rows]})


def monthly_chart(monthly: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Bars of monthly revenue and a line of rolling 12-month revenue (right axis)."""
    names = month_names(lang)
    labels = [f"{names[m.month - 1]} {m.year}" for m in monthly.month]
    fig = go.Figure()
    fig.add_bar(x=monthly.month, y=monthly.revenue, name=t("col.revenue", lang), customdata=labels,
                hovertemplate="%{customdata}: %{y:,.0f}<extra></extra>")
    fig.add_scatter(x=monthly.month, y=monthly.revenue_12m, name=t("kpi.revenue_12m", lang), yaxis="y2",
                    mode="lines", line=dict(width=3))
    month_ticks(fig, monthly.month, lang)
    fig.update_layout(title=t("overview.monthly", lang), yaxis=dict(title=t("col.revenue", lang)),
                      yaxis2=dict(overlaying="y", side="right", showgrid=False, rangemode="tozero"),
                      hovermode="x unified")
    return fig
