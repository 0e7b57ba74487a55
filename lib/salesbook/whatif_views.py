"""The what-if workbook's chart, tables and sliders."""

from __future__ import annotations

from dataclasses import replace

import html

import pandas as pd
import plotly.graph_objects as go

from .display import WATERFALL_COLOURS, fmt_int, fmt_money, fmt_num, fmt_pct, fmt_short, waterfall_chart
from .i18n import t
from .whatif import LEVERS, Calibration, Levers, simulate

__all__ = ["waterfall", "waterfall_html", "result_sentence", "reorg_sentence", "calibration_table", "category_table",
           "levers_explorer", "projection_chart", "assumptions_table"]


def _points(result: dict, lang: str) -> tuple[list[str], list[float]]:
    """The waterfall's labels and values: the baseline, each lever's step, the result."""
    labels = [t("wi.baseline", lang)] + [t(f"wi.lever.{k}", lang) for k in LEVERS] + [t("wi.result", lang)]
    values = [float(result["baseline"])] + [float(result["steps"][k]) for k in LEVERS] + [float(result["result"])]
    return labels, values


def waterfall(result: dict, lang: str = "en") -> go.Figure:
    return waterfall_chart(*_points(result, lang), t("wi.title_chart", lang), lang)


def result_sentence(result: dict, lang: str = "en") -> str:
    """"12-month revenue with these levers: X against Y without them (+z %)" in the report language."""
    return t("wi.text", lang, result=fmt_money(result["result"], lang), baseline=fmt_money(result["baseline"], lang),
             change=fmt_pct(result["result"] / result["baseline"] - 1, lang, signed=True))


def reorg_lacks_sentence(cube, hunters: int, lang: str = "en") -> str | None:
    """Why the reorganisation is not simulated on these data, in ``lang`` (``None``: it is)."""
    from .whatif import reorg_lacks
    why = reorg_lacks(cube, hunters)
    return t(why[0], lang, **why[1]) if why else None


def reorg_sentence(proj: pd.DataFrame, hunters: int, lang: str = "en") -> str:
    """"With N hunters the next M months bring X instead of Y (+z %)" in the report language."""
    reorg, status = float(proj.reorganised.sum()), float(proj.status_quo.sum())
    return t("wi.reorg_text", lang, hunters=hunters, months=len(proj), reorg=fmt_money(reorg, lang),
             status=fmt_money(status, lang), change=fmt_pct(reorg / status - 1, lang, signed=True))


def calibration_table(cal: Calibration, lang: str = "en") -> pd.DataFrame:
    rows = [("wi.cal.baseline", fmt_money(cal.total, lang)),
            ("wi.cal.sleeping", f"{cal.sleeping_clients}: {fmt_money(cal.sleeping_yearly, lang)}"),
            ("wi.cal.repeat", fmt_money(float(cal.repeat_revenue.sum()), lang)),
            ("wi.cal.per_category", fmt_money(cal.revenue_per_category, lang)),
            ("wi.cal.active", fmt_int(int(cal.active_clients.sum()), lang)),
            ("wi.cal.lost", fmt_money(cal.lost_revenue, lang) if cal.extras.get("bridge_covered", 1.0)
             else t("wi.cal.not_covered", lang))]
    return pd.DataFrame({t("col.metric", lang): [t(k, lang) for k, _ in rows], t("col.value", lang): [v for _, v in rows]})


def category_table(result: dict, lang: str = "en") -> pd.DataFrame:
    tab = result["by_category"].reset_index().rename(columns={"index": "category"})
    tab["category"] = tab.category.map(lambda c: t(f"cat.{c}", lang))
    return tab.rename(columns={"category": t("col.category", lang), "baseline": t("wi.baseline", lang),
                               "effect": t("wi.effect", lang), "result": t("wi.result", lang)})


def waterfall_html(result: dict, lang: str = "en", height: int = 300) -> str:
    """The levers' waterfall as plain HTML bars: what the sliders redraw.

    A widget's HTML value always reaches the screen; plotly's FigureWidget edits were now
    and then lost under Voilà (the kernel's figure changed, the chart on screen did not),
    and a new FigureWidget per step carries plotly's 5 MB script (two seconds a step).
    """
    labels, values = _points(result, lang)
    bars, level = [(0.0, values[0], "total")], values[0]
    for v in values[1:-1]:
        bars.append((level, level + v, "up" if v >= 0 else "down"))
        level += v
    bars.append((0.0, values[-1], "total"))
    lo = min(0.0, *(min(a, b) for a, b, _ in bars))
    hi = max(max(a, b) for a, b, _ in bars) * 1.12 or 1.0
    scale = lambda v: (v - lo) / (hi - lo) * height  # noqa: E731
    cols = []
    for (a, b, kind), value in zip(bars, values):
        bottom, top = scale(min(a, b)), scale(max(a, b))
        cols.append(
            f'<div class="sb-wf-col" style="position:relative;flex:1;height:{height}px">'
            f'<div class="sb-wf-bar" data-value="{value:.2f}" style="position:absolute;left:12%;right:12%;'
            f'bottom:{bottom:.1f}px;height:{max(top - bottom, 1):.1f}px;background:{WATERFALL_COLOURS[kind]}"></div>'
            f'<div class="sb-wf-text" style="position:absolute;left:0;right:0;bottom:{top + 2:.1f}px;'
            f'text-align:center;font-size:12px">{html.escape(fmt_short(value, lang))}</div></div>')
    names = "".join(f'<div style="flex:1;text-align:center;font-size:12px">{html.escape(x)}</div>' for x in labels)
    return (f'<div class="sb-waterfall" style="font-family:Segoe UI,Helvetica,Arial,sans-serif;max-width:1000px">'
            f'<div style="font-size:15px;color:#1f4e79;margin:6px 0">{html.escape(t("wi.title_chart", lang))}</div>'
            f'<div style="display:flex;border-bottom:1px solid #999">{"".join(cols)}</div>'
            f'<div style="display:flex">{names}</div></div>')


def levers_explorer(cal: Calibration, start: Levers, lang: str = "en"):
    """Sliders for the five levers over the waterfall; each slider shows the number it starts from."""
    import ipywidgets as w
    from IPython.display import display

    style = {"description_width": "initial"}
    base_of = {"reactivate": f"{cal.sleeping_clients} / {fmt_money(cal.sleeping_yearly, lang)}",
               "frequency": fmt_money(float(cal.repeat_revenue.sum()), lang),
               "deal_size": fmt_money(float(cal.repeat_revenue.sum()), lang),
               "categories": fmt_money(cal.revenue_per_category, lang),
               "retain": fmt_money(cal.lost_revenue, lang)}
    sliders = {k: (w.FloatSlider(getattr(start, k), min=0, max=3 if k == "categories" else 0.5,
                                 step=0.1 if k == "categories" else 0.01, description=t(f"wi.slider.{k}", lang),
                                 style=style, readout_format=".2f" if k == "categories" else ".0%",
                                 layout=w.Layout(width="420px")))
               for k in ("reactivate", "frequency", "deal_size", "categories", "retain")}
    notes = [w.HTML(f"<span style='color:#666'>{t('wi.from', lang)} {base_of[k]}</span>") for k in sliders]
    verdict, chart = w.HTML(), w.HTML()

    def refresh(*_):
        res = simulate(cal, replace(start, **{k: s.value for k, s in sliders.items()}))
        verdict.value = "<b class='sb-verdict'>" + html.escape(result_sentence(res, lang)) + "</b>"
        chart.value = waterfall_html(res, lang)

    for s in sliders.values():
        s.observe(refresh, names="value")
    refresh()
    box = w.VBox([w.HBox([s, n]) for s, n in zip(sliders.values(), notes)] + [verdict, chart])
    display(box)
    return box


def projection_chart(proj: pd.DataFrame, lang: str = "en") -> go.Figure:
    from .display import money_axis, month_ticks
    fig = go.Figure()
    fig.add_scatter(x=proj.index, y=proj.status_quo, name=t("wi.status_quo", lang), mode="lines", line=dict(width=3))
    fig.add_scatter(x=proj.index, y=proj.reorganised, name=t("wi.reorganised", lang), mode="lines",
                    line=dict(width=3, dash="dash"))
    fig.update_layout(title=t("wi.reorg", lang), yaxis=dict(title=t("col.revenue", lang), rangemode="tozero"))
    return month_ticks(money_axis(fig), proj.index, lang)


def assumptions_table(org, hunters: int, hunter_rate: float, ramp_months: int, overflow_loss: float,
                      lang: str = "en") -> pd.DataFrame:
    rate = org.hunter_rate if hunter_rate < 0 else hunter_rate
    num = lambda v, d=1: fmt_num(v, lang, d)  # noqa: E731
    rows = [("wi.a.managers", f"{org.managers} → {org.managers - hunters} + {hunters}"),
            ("wi.a.new", num(org.new_per_month)), ("wi.a.hunter_rate", num(rate, 2)),
            ("wi.a.ramp", str(ramp_months)), ("wi.a.first_year", fmt_money(org.first_year_revenue, lang)),
            ("wi.a.retention", fmt_pct(org.retention, lang)),
            ("wi.a.existing", fmt_pct(org.existing_change, lang, signed=True)),
            ("wi.a.capacity", f"{num(org.load)} / {num(org.capacity)}"), ("wi.a.overflow", fmt_pct(overflow_loss, lang, 0))]
    return pd.DataFrame({t("col.metric", lang): [t(k, lang) for k, _ in rows], t("col.value", lang): [v for _, v in rows]})
