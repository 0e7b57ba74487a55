"""Charts and tables of the stagnation workbook."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from salesbook.formats import Kind
from salesbook.views.display import fmt_pct, money_axis, month_ticks, waterfall_chart
from salesbook.i18n import t
from salesbook.paths import Export, Section
from salesbook.analysis.stagnation import BRIDGE_PARTS

__all__ = ["cohort_table", "rolling_chart", "bridge_chart", "bridges_chart", "retention_chart", "saturation_chart",
           "breadth_chart", "concentration_table", "profiles_table", "export_whitespace", "whitespace_view",
           "export_bridge", "first_year_table"]


def rolling_chart(flat: dict, lang: str = "en") -> go.Figure:
    r12, sa = flat["rolling_12m"], flat["adjusted"]
    fig = go.Figure()
    fig.add_scatter(x=r12.index, y=r12, name=t("kpi.revenue_12m", lang), mode="lines", line=dict(width=3))
    fig.add_scatter(x=sa.index, y=sa * 12, name=t("season.sa", lang) + " × 12", mode="lines",
                    line=dict(color="#9dc3e6"))
    fig.update_layout(title=t(Section.FLAT, lang), yaxis=dict(title=t("col.revenue", lang), rangemode="tozero"))
    return month_ticks(money_axis(fig), sa.index, lang)


def bridge_chart(parts: pd.Series, before: float, after: float, lang: str = "en") -> go.Figure:
    labels = [t("stag.before", lang)] + [t(f"stag.part.{p}", lang) for p in BRIDGE_PARTS] + [t("stag.after", lang)]
    values = [before] + [float(parts[p]) for p in BRIDGE_PARTS] + [after]
    return waterfall_chart(labels, values, t(Section.BRIDGE, lang), lang, connector="#bbb")


def bridges_chart(bridges: pd.DataFrame, lang: str = "en") -> go.Figure:
    fig = go.Figure()
    x = [str(e.date()) for e in bridges.end]
    for part in BRIDGE_PARTS:
        fig.add_bar(x=x, y=bridges[part], name=t(f"stag.part.{part}", lang))
    fig.add_scatter(x=x, y=bridges.after - bridges.before, name="Δ", mode="markers+lines",
                    marker=dict(size=10, color="black"))
    fig.update_layout(title=t("stag.bridge_years", lang), barmode="relative", yaxis=dict(title=t("col.revenue", lang)),
                      xaxis=dict(type="category"))
    return money_axis(fig)


def retention_chart(retention: pd.DataFrame, lang: str = "en") -> go.Figure:
    z = retention.to_numpy(dtype=float)
    pct = lambda a, d: np.vectorize(lambda v: fmt_pct(v, lang, d), otypes=[object])(np.nan_to_num(a))  # noqa: E731
    fig = go.Figure(go.Heatmap(z=z, x=[str(c) for c in retention.columns], y=[str(i) for i in retention.index],
                               colorscale="Blues", zmin=0, zmax=1, text=np.where(np.isnan(z), "", pct(z, 0)),
                               customdata=np.where(np.isnan(z), "", pct(z, 1)),
                               texttemplate="%{text}", hovertemplate="%{y} → %{x}: %{customdata}<extra></extra>"))
    fig.update_layout(title=t("stag.retention", lang), yaxis=dict(autorange="reversed", type="category"),
                      xaxis=dict(type="category"))
    return fig


def saturation_chart(sat: pd.DataFrame, lang: str = "en") -> go.Figure:
    fig = go.Figure(go.Scatter(x=sat.active_clients, y=sat.new_clients, mode="markers", opacity=0.5,
                               text=sat.manager.astype(str) + " " + sat.period.astype(str),
                               hovertemplate="%{text}: %{x:.0f} → %{y}<extra></extra>"))
    if len(sat) > 2:
        k, b = np.polyfit(sat.active_clients, sat.new_clients, 1)
        xs = np.array([sat.active_clients.min(), sat.active_clients.max()])
        fig.add_scatter(x=xs, y=k * xs + b, mode="lines", line=dict(color="#c55a11", width=3), showlegend=False)
    fig.update_layout(title=t("stag.saturation", lang), xaxis=dict(title=t("stag.active_clients", lang)),
                      yaxis=dict(title=t("stag.new_clients", lang)), showlegend=False)
    return fig


def breadth_chart(breadth: pd.Series, acq: pd.Series, lang: str = "en") -> go.Figure:
    fig = go.Figure()
    fig.add_bar(x=[str(i) for i in acq.index], y=acq.to_numpy(), name=t("stag.new_clients", lang))
    fig.add_scatter(x=[str(i) for i in breadth.index], y=breadth.to_numpy(), name=t("stag.breadth", lang),
                    yaxis="y2", mode="lines+markers", line=dict(width=3))
    fig.update_layout(title=t(Section.CROSSSELL, lang), yaxis=dict(title=t("stag.new_clients", lang)),
                      yaxis2=dict(title=t("stag.breadth", lang), overlaying="y", side="right", showgrid=False,
                                  rangemode="tozero"), xaxis=dict(type="category"))
    return fig


def concentration_table(conc: pd.DataFrame, prod: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """Full calendar years only (see stagnation.concentration); revenue per manager where there are managers."""
    years = [t("stag.partial_period", lang, period=y) if p else str(y) for y, p in zip(conc.index, conc.partial)]
    out = pd.DataFrame({t("col.year", lang): years,
                        t("stag.top10", lang): conc.top10.astype(float).to_numpy(),
                        t("stag.top20", lang): conc.top20pct.astype(float).to_numpy(),
                        "HHI": conc.hhi.astype(float).round(0).astype("int64").to_numpy()})
    out.attrs["shares"] = [t("stag.top10", lang), t("stag.top20", lang)]
    out.attrs["money"] = []
    if len(prod):
        out[t("stag.per_manager", lang)] = prod.per_manager.reindex(conc.index).to_numpy()
        out.attrs["money"] = [t("stag.per_manager", lang)]
    return out


def cohort_table(table: pd.DataFrame, partial: list, lang: str = "en", kind: Kind = Kind.MONEY) -> pd.DataFrame:
    """A cohort x period table for a reader: cohorts as rows, a partial period labelled as partial. ``kind``:
    what its cells are, money (revenue, default) or shares (net revenue retention)."""
    out = table.copy()
    out.columns = [t("stag.partial_period", lang, period=c) if c in partial else str(c) for c in out.columns]
    periods = list(out.columns)
    out = out.rename_axis(t("stag.cohort", lang)).reset_index()
    out = out.astype({t("stag.cohort", lang): str})
    out.attrs["money"] = periods if kind is Kind.MONEY else []
    out.attrs["shares"] = periods if kind is Kind.SHARE else []
    return out


def profiles_table(profiles: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    out = profiles.reset_index()[["manager", "share_new", "profile", "clients", "clients_new"]].copy()
    out["profile"] = out.profile.map(lambda p: t(f"stag.profile.{p}", lang))
    out = out.rename(columns={"manager": t("col.manager", lang), "share_new": t("stag.col.share_new", lang),
                              "profile": t("stag.col.profile", lang), "clients": t("seg.col.clients", lang),
                              "clients_new": t("stag.new_clients", lang)})
    out.attrs["shares"], out.attrs["money"] = [t("stag.col.share_new", lang)], []
    return out


def whitespace_view(ws: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    out = ws.rename(columns={"manager": t("col.manager", lang), "client_id": t("seg.col.client_id", lang),
                             "client_name": t("col.client", lang), "category": t("col.category", lang),
                             "score": t("stag.col.score", lang), "potential": t("stag.col.potential", lang)})
    out.attrs.update(shares=[t("stag.col.score", lang)], money=[t("stag.col.potential", lang)])
    return out


def export_whitespace(ws: pd.DataFrame, folder: "str | Path", lang: str = "en") -> list[Path]:
    """Whitespace lists like the reactivation lists: Excel (summary + a sheet per manager) and CSV."""
    from salesbook.views.export import call_columns, to_csv, to_excel
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    view = whitespace_view(ws.assign(score=ws.score.round(2), potential=ws.potential.round(0)), lang)
    mcol = t("col.manager", lang)
    summary = (ws.groupby("manager").agg(clients=("client_id", "nunique"), potential=("potential", "sum"))
               .sort_values("potential", ascending=False).reset_index()
               .rename(columns={"manager": mcol, "clients": t("seg.col.clients", lang),
                                "potential": t("stag.col.potential", lang)}))
    sheets = {m: df.drop(columns=mcol) for m, df in view.groupby(mcol, sort=True)}
    xlsx = to_excel(sheets, folder / Export.WHITESPACE.xlsx, summary, t(Section.WHITESPACE, lang),
                    {t("stag.col.potential", lang)}, shares={t("stag.col.score", lang)},
                    call_columns=call_columns(lang), lang=lang, summary_sheet=t("xl.sheet.whitespace", lang))
    return [xlsx, to_csv(view, folder / Export.WHITESPACE.csv, lang)]


def export_bridge(detail: pd.DataFrame, folder: "str | Path", lang: str = "en") -> Path:
    """The clients behind each bar of the bridge: a summary and one sheet per part."""
    from salesbook.views.export import to_excel
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cols = {"client_id": t("seg.col.client_id", lang), "client_name": t("col.client", lang),
            "before": t("stag.before", lang), "after": t("stag.after", lang), "change": t("xl.change", lang)}
    view = detail.reset_index()
    summary = (view.groupby("part").agg(clients=("client_id", "size"), change=("change", "sum"))
               .reindex(list(BRIDGE_PARTS)).fillna(0).reset_index())
    summary["part"] = summary.part.map(lambda p: t(f"stag.part.{p}", lang))
    summary = summary.rename(columns={"part": t(Section.BRIDGE, lang), "clients": t("seg.col.clients", lang),
                                      "change": t("xl.change", lang)})
    sheets = {t(f"stag.part.{p}", lang): view[view.part == p].sort_values("change", key=abs, ascending=False)
              [list(cols)].rename(columns=cols) for p in BRIDGE_PARTS}
    return to_excel(sheets, folder / Export.BRIDGE.xlsx, summary, t(Section.BRIDGE, lang),
                    {cols["before"], cols["after"], cols["change"]}, lang=lang,
                    summary_sheet=t("xl.sheet.bridge", lang))


def first_year_table(cohorts: dict, lang: str = "en") -> pd.DataFrame:
    """Each cohort: the clients won (the acquisition count), the subset whose first 12 months the data
    cover, and their mean first-year revenue (over that subset only)."""
    fy = cohorts["first_year"]
    won = cohorts["size"].reindex(fy.index).fillna(0).astype("int64")
    out = pd.DataFrame({t("col.year", lang): fy.index.astype(str), t("story.col.won", lang): won.to_numpy(),
                        t("story.col.full_first_year", lang): fy["size"].to_numpy(),
                        t(Section.FIRST_YEAR, lang): fy["mean"].to_numpy()})
    out.attrs["money"] = [t(Section.FIRST_YEAR, lang)]
    return out
