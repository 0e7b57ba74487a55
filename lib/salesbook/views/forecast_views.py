"""Tables and charts of the forecast workbook."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from salesbook.views.display import money_axis, month_ticks
from salesbook.i18n import t
from salesbook.paths import Section

__all__ = ["month_table", "month_chart", "group_table", "flags_table"]


def month_table(by_month: pd.DataFrame, base: pd.Series | None, plan: pd.Series | None, lang: str = "en") -> pd.DataFrame:
    base = base if base is not None else pd.Series(dtype=float)
    months = by_month.index.union(base.index)
    out = pd.DataFrame(index=months)
    out[t("fc.deals", lang)] = by_month.deals.reindex(months).fillna(0).astype("int64")
    out[t("fc.weighted", lang)] = by_month.weighted.reindex(months).fillna(0.0)
    if len(base):
        out[t("fc.baseline", lang)] = base.reindex(months)
    if plan is not None:
        out[t("fc.plan", lang)] = plan.reindex(months)
        out[t("fc.coverage", lang)] = out[t("fc.weighted", lang)] / out[t("fc.plan", lang)]
    out.index = [m.strftime("%Y-%m") for m in months]
    out = out.rename_axis(t("col.month", lang)).reset_index()
    out.attrs["money"] = [c for c in (t("fc.weighted", lang), t("fc.baseline", lang), t("fc.plan", lang)) if c in out]
    out.attrs["shares"] = [c for c in (t("fc.coverage", lang),) if c in out]  # 0.85: shown as 85.0 %
    return out


def month_chart(by_month: pd.DataFrame, base: pd.Series | None, plan: pd.Series | None, lang: str = "en") -> go.Figure:
    base = base if base is not None else pd.Series(dtype=float)
    fig = go.Figure()
    fig.add_bar(x=by_month.index, y=by_month.weighted, name=t("fc.weighted", lang))
    if len(base):
        fig.add_scatter(x=base.index, y=base, name=t("fc.baseline", lang), mode="lines+markers", yaxis="y2")
    if plan is not None:
        fig.add_scatter(x=plan.index, y=plan, name=t("fc.plan", lang), mode="lines+markers", yaxis="y2")
    fig.update_layout(title=t(Section.FORECAST_BY_MONTH, lang), yaxis=dict(title=t("fc.weighted", lang)),
                      yaxis2=dict(title=t("fc.baseline", lang), overlaying="y", side="right", showgrid=False,
                                  rangemode="tozero"))
    money_axis(money_axis(fig, "y"), "y2")
    return month_ticks(fig, by_month.index.union(base.index), lang, every=tuple(range(1, 13)))


def group_table(table: pd.DataFrame, label_key: str, lang: str = "en", categories: bool = False) -> pd.DataFrame:
    out = table.reset_index()
    first = out.columns[0]
    if categories:
        out[first] = out[first].map(lambda c: t(f"cat.{c}", lang))
    out = out.rename(columns={first: t(label_key, lang), "deals": t("fc.deals", lang),
                              "amount": t("fc.amount", lang), "weighted": t("fc.weighted", lang)})
    out.attrs["money"] = [c for c in (t("fc.amount", lang), t("fc.weighted", lang)) if c in out]
    return out


def backtest_sentence(cube, lang: str = "en", months: int = 12, min_months: int = 12) -> str:
    """The baseline's backtest (``forecast.baseline_backtest``) in a sentence, with which forecast was the
    better guide; or why there is none (the history it needs, and the data's)."""
    from salesbook.views.display import fmt_pct
    from salesbook.analysis.forecast import baseline_backtest
    from salesbook.i18n import month_labels
    check = baseline_backtest(cube, months, min_months)
    if check is None:
        return t("fc.backtest_short", lang, need=min_months + months, months=cube.profile.n_full)
    first, last = month_labels([check["first"], check["last"]], lang)
    better = check["wape_baseline"] <= check["wape_naive"]
    return t("fc.backtest", lang, first=first, last=last, baseline=fmt_pct(check["wape_baseline"], lang),
             naive=fmt_pct(check["wape_naive"], lang),
             verdict=t("fc.backtest.better" if better else "fc.backtest.worse", lang))


def win_rates_view(rates: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The stage probabilities: default, closed deals, won, history's rate, used; shares as percentages."""
    from salesbook.views.display import fmt_pct
    out = rates.assign(stage=rates.stage.map(lambda s: fmt_pct(s / 100, lang, 0))).rename(columns={
        "stage": t("fc.col.stage_name", lang), "default": t("fc.col.default", lang), "closed": t("fc.col.closed", lang),
        "won": t("fc.col.won", lang), "history": t("fc.col.history", lang), "used": t("fc.col.used", lang)})
    out.attrs["shares"] = [t("fc.col.default", lang), t("fc.col.history", lang), t("fc.col.used", lang)]
    out.attrs["money"] = []
    return out


def assistant_which(clients: pd.DataFrame, rule: str, lang: str = "en") -> str:
    """Who the assistant's clients are, for the sentence: the categories, and the spontaneous periodic buyers
    under ``rule`` with their count."""
    from salesbook.views.display import fmt_int, fmt_money
    from salesbook.analysis.forecast import spontaneous_rule
    kind, value = spontaneous_rule(rule)
    if kind is None:
        return t("fc.which.base", lang)
    n = fmt_int(int((clients.category.astype(str) == "periodic").sum()), lang)
    return t(f"fc.which.{kind}", lang, n=n, value=value if kind == "class" else fmt_money(value, lang))


def assistant_view(clients, lang: str = "en", by_manager: bool = False) -> pd.DataFrame:
    """The assistant's clients (``forecast.assistant_clients``) or their sums per manager, in ``lang``."""
    money = [t("fc.col.order_size", lang), t("fc.col.expected", lang)]
    if by_manager:
        g = clients.groupby("manager").agg(clients=("client_id", "size"), expected=("expected", "sum"))
        out = g.sort_values("expected", ascending=False).reset_index().rename(columns={
            "manager": t("col.manager", lang), "clients": t("seg.col.clients", lang),
            "expected": t("fc.col.expected", lang)})
        out.attrs["money"] = [t("fc.col.expected", lang)]
        return out
    out = clients.assign(category=clients.category.map(lambda c: t(f"cat.{c}", lang))).rename(columns={
        "manager": t("col.manager", lang), "client_id": t("seg.col.client_id", lang),
        "client_name": t("col.client", lang), "category": t("col.category", lang),
        "orders": t("fc.col.orders_12m", lang), "order_size": money[0],
        "expected_orders": t("fc.col.expected_orders", lang), "expected": money[1]})
    out.attrs["money"] = money
    return out


def flags_table(deals: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    flagged = deals[deals.stale | ~deals.target].copy()
    why = []
    assistant = flagged.assistant if "assistant" in flagged else pd.Series(False, index=flagged.index)
    for stale, target, routed in zip(flagged.stale, flagged.target, assistant):
        outside = [] if target else [t("fc.flag.assistant" if routed else "fc.flag.outside", lang)]
        parts = ([t("fc.flag.stale", lang)] if stale else []) + outside
        why.append("; ".join(parts))
    flagged["why"] = why
    flagged["category"] = flagged.category.map(lambda c: t(f"cat.{c}", lang) if c != "none" else t("cat.absent", lang))
    cols = [c for c in ("deal_id", "client_id", "client_name", "manager", "month", "amount", "stage", "category", "why")
            if c in flagged]
    out = flagged[cols].copy()
    out["month"] = out.month.dt.strftime("%Y-%m")
    if "stage" in out:
        out["stage"] = out.stage / 100  # a percent: shown as one
    out = out.rename(columns={"deal_id": t("fc.col.deal", lang), "client_id": t("seg.col.client_id", lang),
                              "client_name": t("col.client", lang), "stage": t("fc.col.stage", lang),
                              "manager": t("col.manager", lang), "month": t("col.month", lang),
                              "amount": t("fc.amount", lang), "category": t("col.category", lang),
                              "why": t("seg.col.reason", lang)})
    out.attrs.update(shares=[t("fc.col.stage", lang)], money=[t("fc.amount", lang)])
    return out
