"""Charts and tables of the segmentation workbook (translated, names escaped)."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from salesbook.analysis.segments import CATEGORIES, reactivation_summary, reactivation_view
from salesbook.analysis.vip import vip_view
from salesbook.i18n import t
from salesbook.paths import Export, Section
from salesbook.views.display import money_axis, pct_axis

__all__ = ["category_chart", "pareto_chart", "rfm_chart", "migration_chart", "category_by_manager",
           "category_table", "matrix_table", "export_reactivation", "export_migration", "export_vip",
           "migration_moves", "portfolio_view"]


def category_table(summary: pd.DataFrame, lang: str = "en", window_months: int = 12) -> pd.DataFrame:
    """The category summary with translated labels and column names (the revenue's window named); the
    shares are marked to show as percentages."""
    out = summary.reset_index()
    out["category"] = out.category.map(lambda c: t(f"cat.{c}", lang))
    out = out.rename(columns={"category": t("col.category", lang), "clients": t("seg.col.clients", lang),
                              "revenue": t("seg.col.revenue_window", lang, months=window_months),
                              "clients_share": t("seg.col.clients_share", lang),
                              "revenue_share": t("seg.col.revenue_share", lang)})
    out.attrs["shares"] = [t("seg.col.clients_share", lang), t("seg.col.revenue_share", lang)]
    out.attrs["money"] = [t("seg.col.revenue_window", lang, months=window_months)]
    return out


def category_chart(summary: pd.DataFrame, lang: str = "en") -> go.Figure:
    labels = [t(f"cat.{c}", lang) for c in summary.index]
    fig = go.Figure()
    fig.add_bar(x=labels, y=summary.clients, name=t("seg.col.clients", lang), yaxis="y",
                offsetgroup=0, hovertemplate="%{x}: %{y}<extra></extra>")
    fig.add_bar(x=labels, y=summary.revenue_share * 100, name=t("seg.col.revenue_share", lang), yaxis="y2",
                offsetgroup=1, hovertemplate="%{x}: %{y:.1f}<extra></extra>")
    fig.update_layout(title=t(Section.CATEGORIES, lang), barmode="group",
                      yaxis=dict(title=t("seg.col.clients", lang)),
                      yaxis2=dict(title="%", overlaying="y", side="right", showgrid=False))
    return pct_axis(fig, "y2")


def pareto_chart(abc: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Clients ranked by value (bars, one trace per class) and cumulative share (line) with the A/B cut-offs.

    Arrays, not lists, and one colour per trace: plotly checks a list item by item, which took most of
    a second for 20,000 clients."""
    live = abc[abc.abc != "D"].reset_index()
    rank = np.arange(1, len(live) + 1)
    names = np.array([html.escape(str(n)) for n in live.client_name.fillna(live.client_id)], dtype=object)
    value = live.value.to_numpy(dtype="float64")
    fig = go.Figure()
    for cls, color in (("A", "#1f4e79"), ("B", "#2e75b6"), ("C", "#9dc3e6")):
        mine = (live.abc == cls).to_numpy()
        fig.add_bar(x=rank[mine], y=value[mine], marker_color=color, name=f"{t('col.revenue', lang)}: {cls}",
                    customdata=names[mine], hovertemplate="%{customdata}<br>%{y:,.0f}<extra></extra>")
    fig.add_scatter(x=rank, y=live.cum_share.to_numpy(dtype="float64") * 100, yaxis="y2", mode="lines",
                    name=t("seg.cum_share", lang), line=dict(color="#c55a11", width=2))
    fig.update_layout(title=t("seg.pareto", lang), xaxis=dict(title=t("seg.rank", lang)),
                      yaxis=dict(title=t("col.revenue", lang)),
                      yaxis2=dict(title="%", overlaying="y", side="right", range=[0, 101], showgrid=False),
                      bargap=0, barmode="overlay")
    return pct_axis(money_axis(fig), "y2")


def rfm_chart(rfm: pd.DataFrame, lang: str = "en") -> go.Figure:
    sizes = rfm.segment.value_counts()
    fig = go.Figure(go.Bar(x=sizes.values, y=[t(f"rfm.{s}", lang) for s in sizes.index], orientation="h",
                           hovertemplate="%{y}: %{x}<extra></extra>"))
    fig.update_layout(title=t(Section.RFM, lang), yaxis=dict(autorange="reversed"),
                      xaxis=dict(title=t("seg.col.clients", lang)))
    return fig


def migration_chart(matrix: pd.DataFrame, lang: str = "en") -> go.Figure:
    rows = [t(f"cat.{c}", lang) for c in matrix.index]
    cols = [t(f"cat.{c}", lang) for c in matrix.columns]
    fig = go.Figure(go.Heatmap(z=matrix.values, x=cols, y=rows, colorscale="Blues", text=matrix.values,
                               texttemplate="%{text}", hovertemplate="%{y} → %{x}: %{z}<extra></extra>"))
    fig.update_layout(title=t(Section.MIGRATION, lang), yaxis=dict(autorange="reversed", title=t("seg.from", lang)),
                      xaxis=dict(title=t("seg.to", lang)))
    return fig


def category_by_manager(classes: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """Clients per manager and category (managers as rows), with a total column."""
    tab = pd.crosstab(classes.manager, classes.category).reindex(columns=list(CATEGORIES), fill_value=0)
    tab.columns = [t(f"cat.{c}", lang) for c in tab.columns]
    tab[t("seg.total", lang)] = tab.sum(axis=1)
    tab.index.name = t("col.manager", lang)
    return tab.reset_index()


def matrix_table(matrix: pd.DataFrame, lang: str = "en", pct: bool = False) -> pd.DataFrame:
    out = matrix.copy()
    if pct:
        out = (out * 100).round(1)
    out.index.name = "ABC"
    return out.reset_index()


def export_reactivation(sleepers: pd.DataFrame, folder: "str | Path", lang: str = "en") -> list[Path]:
    """Write the lists: an Excel workbook (summary + one sheet per manager) and one CSV of all."""
    from salesbook.views.export import call_columns, to_csv, to_excel
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    view = reactivation_view(sleepers, lang)
    manager_col = t("col.manager", lang)
    sheets = {m: df.drop(columns=manager_col) for m, df in view.groupby(manager_col, sort=True)}
    money = {t("seg.col.yearly_revenue", lang)}
    xlsx = to_excel(sheets, folder / Export.REACTIVATION.xlsx, reactivation_summary(sleepers, lang),
                    t("seg.reactivation_summary", lang), money, call_columns=call_columns(lang), lang=lang)
    csv = to_csv(view, folder / Export.REACTIVATION.csv, lang)
    return [xlsx, csv]


def export_at_risk(res: dict, folder: "str | Path", lang: str = "en") -> list[Path]:
    """The at-risk call lists: an Excel workbook (the backtest table, then one sheet per manager) and one CSV
    of all; nothing when there is no list (below the evidence minimum)."""
    from salesbook.analysis.atrisk import at_risk_view, comparison_table
    from salesbook.views.export import call_columns, to_csv, to_excel
    if res["unknown"] or not len(res["list"]):
        return []
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    view = at_risk_view(res["list"], lang)
    manager_col = t("col.manager", lang)
    sheets = {m: df.drop(columns=manager_col) for m, df in view.groupby(manager_col, sort=True)}
    xlsx = to_excel(sheets, folder / Export.AT_RISK.xlsx, comparison_table(res, lang), t("risk.sheet", lang),
                    set(view.attrs.get("money", [])), set(view.attrs.get("shares", [])),
                    call_columns=call_columns(lang), lang=lang)
    return [xlsx, to_csv(view, folder / Export.AT_RISK.csv, lang)]


def migration_moves(moves: pd.DataFrame, lang: str = "en", window_months: int = 12) -> pd.DataFrame:
    """Every client that changed category, in one list: the move (``Постоянный → Уснувший``), the client, his
    manager and his revenue at the later date; grouped by move in the matrix's order, the largest first."""
    order = {c: i for i, c in enumerate(CATEGORIES)}
    changed = moves[moves["from"] != moves["to"]].reset_index()
    changed = changed.assign(_a=changed["from"].map(order), _b=changed["to"].map(order))
    changed = changed.sort_values(["_a", "_b", "revenue"], ascending=[True, True, False])
    label = lambda c: t(f"cat.{c}", lang)  # noqa: E731
    view = pd.DataFrame({t("xl.move", lang): [f"{label(a)} → {label(b)}" for a, b in zip(changed["from"], changed["to"])],
                         t("seg.col.client_id", lang): changed.client_id.astype(str).to_numpy(),
                         t("col.client", lang): changed.client_name.to_numpy(),
                         t("col.manager", lang): changed.manager.to_numpy(),
                         t("seg.col.revenue_window", lang, months=window_months): changed.revenue.to_numpy()})
    view.attrs["money"] = [t("seg.col.revenue_window", lang, months=window_months)]
    return view


def export_migration(matrix: pd.DataFrame, moves: pd.DataFrame, folder: "str | Path", lang: str = "en",
                     window_months: int = 12) -> Path:
    """``migration.xlsx`` in two sheets: the matrix, and every client that moved in one list with its move
    (``from → to``), which a filter narrows to one cell of the matrix (50 sheets before, one per cell)."""
    from salesbook.views.export import to_excel
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    label = lambda c: t(f"cat.{c}", lang)  # noqa: E731
    summary = matrix.copy()
    summary.index = [label(c) for c in summary.index]
    summary.columns = [label(c) for c in summary.columns]
    summary = summary.rename_axis(f"{t('seg.from', lang)} \\ {t('seg.to', lang)}").reset_index()
    view = migration_moves(moves, lang, window_months)
    sheet = t("xl.sheet.moves", lang)
    return to_excel({sheet: view}, folder / Export.MIGRATION.xlsx, summary, t(Section.MIGRATION, lang),
                    set(view.attrs["money"]), lang=lang, summary_sheet=t("xl.sheet.migration", lang),
                    titles={sheet: t("xl.moves_title", lang)})


def export_vip(sector: dict[str, pd.DataFrame], folder: "str | Path", lang: str = "en",
               window_months: int = 12) -> Path:
    """``vip_sector.xlsx``: the largest clients, then the offended ones (each a call list)."""
    from salesbook.views.export import call_columns, to_excel
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    largest, hurt = (vip_view(sector[k], lang, window_months) for k in ("largest", "offended"))
    money = set(largest.attrs["money"]) | set(hurt.attrs["money"])
    sheet = t("xl.sheet.offended", lang)
    return to_excel({sheet: hurt}, folder / Export.VIP.xlsx, largest, t(Section.VIP_LARGEST, lang),
                    money, call_columns=call_columns(lang), lang=lang, summary_sheet=t("xl.sheet.largest", lang),
                    titles={sheet: t(Section.VIP_OFFENDED, lang)})


def portfolio_view(classes: pd.DataFrame, lang: str = "en", window_months: int = 12) -> pd.DataFrame:
    """A manager's clients as his portfolio sheet lists them: client, category, the reason, and the revenue of
    the ``window_months`` to the analysis date (money), largest first, so that he can rank them."""
    from salesbook.analysis.segments import explained
    mine = classes.sort_values("revenue", ascending=False, kind="stable")  # ties in the clients' order: the company's
    # portfolio cut by manager is each manager's own
    view = explained(mine, lang)
    revenue = t("seg.col.revenue_window", lang, months=window_months)
    view.insert(2, revenue, mine["revenue"].to_numpy(dtype="float64"))
    view.attrs["money"] = [revenue]
    return view
