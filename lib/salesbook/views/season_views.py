"""Charts of the seasonality workbook."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from salesbook.views.display import currency_symbol, fmt_money, fmt_num, fmt_pct, money_axis, month_ticks
from salesbook.i18n import month_names, t
from salesbook.paths import Section
from salesbook.analysis.seasonality import SeasonalProfile

__all__ = ["profile_chart", "heatmap_chart", "yoy_chart", "adjusted_chart", "profiles_heatmap", "weekday_chart",
           "workday_chart"]


def profile_chart(p: SeasonalProfile, lang: str = "en") -> go.Figure:
    names = month_names(lang)
    tab = p.table
    fig = go.Figure()
    fig.add_bar(x=names, y=tab["index"], name=t("season.index", lang),
                error_y=dict(type="data", symmetric=False, array=(tab["max"] - tab["index"]).to_numpy(),
                             arrayminus=(tab["index"] - tab["min"]).to_numpy(), color="#888"),
                hovertemplate="%{x}: %{y:.2f}<extra></extra>")
    if tab["stl"].notna().any():
        fig.add_scatter(x=names, y=tab["stl"], mode="markers+lines", name=t("season.stl", lang))
    fig.add_hline(y=1.0, line_dash="dot", line_color="#999")
    fig.update_layout(title=t(Section.SEASON_PROFILE, lang), yaxis=dict(title=t("season.index", lang)))
    return fig


def heatmap_chart(table: pd.DataFrame, lang: str = "en", title_key: str = Section.SEASON_HEATMAP, pct: bool = False) -> go.Figure:
    names = month_names(lang)
    z = table.to_numpy(dtype=float)
    # cells: a change as a percentage, or revenue in millions (the title names the scale and the currency)
    cell = (lambda v: fmt_pct(v, lang, 0, signed=True)) if pct else (lambda v: fmt_num(v / 1e6, lang, 1))
    text = np.where(np.isnan(z), "", np.vectorize(cell, otypes=[object])(np.nan_to_num(z)))
    hover = np.where(np.isnan(z), "", np.vectorize((lambda v: fmt_pct(v, lang, 1, signed=True)) if pct
                                                   else (lambda v: fmt_money(v, lang)), otypes=[object])(np.nan_to_num(z)))
    fig = go.Figure(go.Heatmap(z=z, x=names, y=[str(y) for y in table.index], text=text, texttemplate="%{text}",
                               colorscale="RdBu" if pct else "Blues", zmid=0 if pct else None, customdata=hover,
                               hovertemplate="%{y} %{x}: %{customdata}<extra></extra>"))
    title = t(title_key, lang) if pct else f"{t(title_key, lang)}, {t('unit.millions', lang)} {currency_symbol(lang)}"
    fig.update_layout(title=title, yaxis=dict(autorange="reversed", type="category"))
    return fig


def yoy_chart(table: pd.DataFrame, lang: str = "en") -> go.Figure:
    return heatmap_chart(table, lang, "season.yoy", pct=True)


def adjusted_chart(y: pd.Series, sa: pd.Series, fit: dict, partial: pd.Timestamp | None, lang: str = "en") -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(x=y.index, y=y, name=t("season.actual", lang), mode="lines", line=dict(color="#9dc3e6"))
    fig.add_scatter(x=sa.index, y=sa, name=t("season.sa", lang), mode="lines", line=dict(color="#1f4e79", width=3))
    n = int(fit.get("months", 0) or 0)
    if n and not np.isnan(fit["start"]):
        xs = sa.dropna().index[-n:]
        fig.add_scatter(x=[xs[0], xs[-1]], y=[fit["start"], fit["end"]], name=t("season.trend", lang),
                        mode="lines", line=dict(color="#c55a11", dash="dash", width=3))
    if partial is not None and partial in y.index:
        fig.add_scatter(x=[partial], y=[y[partial]], name=t("season.partial_label", lang), mode="markers",
                        marker=dict(symbol="x", size=12, color="#c00000"))
    fig.update_layout(title=t(Section.SEASON_ADJUSTED, lang), yaxis=dict(title=t("col.revenue", lang), rangemode="tozero"))
    return month_ticks(money_axis(fig), y.index, lang)


def profiles_heatmap(profiles: pd.DataFrame, lang: str, title_key: str, labels: dict | None = None) -> go.Figure:
    names = month_names(lang)
    rows = [str(labels.get(i, i)) if labels else str(i) for i in profiles.index]
    fig = go.Figure(go.Heatmap(z=profiles.to_numpy(dtype=float), x=names, y=rows, colorscale="RdBu", zmid=1.0,
                               text=np.vectorize(lambda v: "" if np.isnan(v) else fmt_num(v, lang, 2), otypes=[object])(
                                   profiles.to_numpy(dtype=float)), texttemplate="%{text}",
                               hovertemplate="%{y} %{x}: %{z:.2f}<extra></extra>"))
    fig.update_layout(title=t(title_key, lang), yaxis=dict(autorange="reversed"))
    return fig


def weekday_chart(profile: pd.DataFrame, lang: str = "en") -> go.Figure:
    days = t("weekdays.short", lang).split(",")
    fig = go.Figure(go.Bar(x=days, y=profile["index"], hovertemplate="%{x}: %{y:.2f}<extra></extra>"))
    fig.add_hline(y=1.0, line_dash="dot", line_color="#999")
    fig.update_layout(title=t(Section.WEEKDAYS, lang), yaxis=dict(title=t("season.index", lang)))
    return fig


def workday_chart(y: pd.Series, adjusted: pd.Series, lang: str = "en") -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(x=y.index, y=y, name=t("season.actual", lang), mode="lines", line=dict(color="#9dc3e6"))
    fig.add_scatter(x=adjusted.index, y=adjusted, name=t("season.wd_adjusted", lang), mode="lines",
                    line=dict(color="#548235", width=3))
    fig.update_layout(title=t(Section.WORKDAYS, lang), yaxis=dict(title=t("col.revenue", lang)))
    return month_ticks(money_axis(fig), y.index, lang)
