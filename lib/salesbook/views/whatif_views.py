"""The what-if workbook's chart, tables and sliders."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

import html

import pandas as pd
import plotly.graph_objects as go

from salesbook.views.display import (WATERFALL_COLOURS, fmt_int, fmt_money, fmt_num, fmt_pct, fmt_short, money_header,
                                     waterfall_chart)
from salesbook.i18n import month_labels, t
from salesbook.paths import Section
from salesbook.analysis.whatif import LEVERS, Calibration, Levers, simulate

__all__ = ["waterfall", "waterfall_html", "result_sentence", "reorg_sentence", "calibration_table", "category_table",
           "levers_explorer", "hunters_explorer",
           "levers_widgets", "hunters_widgets", "Explorer", "category_html", "assumptions_html", "projection_chart", "assumptions_table", "levers_table",
           "lever_setting", "lever_base", "SLIDERS", "catalogue_keys"]


def _points(result: dict, lang: str) -> tuple[list[str], list[float]]:
    """The waterfall's labels and values: the baseline, each lever's step, the result."""
    labels = [t("wi.baseline", lang)] + [t(f"wi.lever.{k}", lang) for k in LEVERS] + [t("wi.result", lang)]
    values = [float(result["baseline"])] + [float(result["steps"][k]) for k in LEVERS] + [float(result["result"])]
    return labels, values


def waterfall(result: dict, lang: str = "en") -> go.Figure:
    return waterfall_chart(*_points(result, lang), t("wi.title_chart", lang), lang)


def result_sentence(result: dict, lang: str = "en", as_of: str = "") -> str:
    """"With the levers as set, the 12 months after <as_of> bring X instead of Y, the revenue of the 12 months
    to <as_of> (+z %)" in the report language: both periods named."""
    return t("wi.text", lang, result=fmt_money(result["result"], lang), baseline=fmt_money(result["baseline"], lang),
             change=fmt_pct(result["result"] / result["baseline"] - 1, lang, signed=True), as_of=as_of)


#: the sliders' lever names, in the waterfall's order
SLIDERS = ("reactivate", "frequency", "deal_size", "categories", "retain")


def catalogue_keys() -> list[str]:
    """Every catalogue key built here at run time: each lever of the waterfall, each slider
    (``tests/test_i18n.py`` checks them)."""
    return [f"wi.lever.{k}" for k in LEVERS] + [f"wi.slider.{k}" for k in SLIDERS]


def lever_setting(key: str, value: float, lang: str = "en") -> str:
    """A lever's value as the page writes it: a share as a percentage, categories as ``+0,2``."""
    if key == "categories":
        return "+" + fmt_num(value, lang, 1)
    return fmt_pct(value, lang, 0)


def lever_base(cal: Calibration, key: str, lang: str = "en") -> str:
    """What a lever applies to, in the company's own figures: "290 sleeping clients, who bought 620 m ..."."""
    repeat = fmt_money(float(cal.repeat_revenue.sum()), lang)
    if key == "reactivate":
        return t("wi.base.reactivate", lang, clients=fmt_int(cal.sleeping_clients, lang),
                 money=fmt_money(cal.sleeping_yearly, lang))
    if key in ("frequency", "deal_size"):
        return t("wi.base.repeat", lang, money=repeat)
    if key == "categories":
        return t("wi.base.categories", lang, clients=fmt_int(int(cal.active_clients.sum()), lang),
                 money=fmt_money(cal.revenue_per_category, lang))
    if not cal.extras.get("bridge_covered", 1.0):
        return t("wi.base.off", lang)
    return t("wi.base.retain", lang, money=fmt_money(cal.lost_revenue, lang))


def levers_table(cal: Calibration, levers: Levers, lang: str = "en") -> pd.DataFrame:
    """Every lever's setting next to the figure it applies to: what the waterfall assumed."""
    return pd.DataFrame({t("wi.col.lever", lang): [t(f"wi.slider.{k}", lang) for k in SLIDERS],
                         t("wi.col.setting", lang): [lever_setting(k, getattr(levers, k), lang) for k in SLIDERS],
                         t("wi.col.applies", lang, as_of=cal.as_of): [lever_base(cal, k, lang) for k in SLIDERS]})


def reorg_lacks_sentence(cube, hunters: int, lang: str = "en") -> str | None:
    """Why the reorganisation is not simulated on these data, in ``lang`` (``None``: it is)."""
    from salesbook.analysis.whatif import reorg_lacks
    from salesbook.analysis.assignment import unstable_sentence
    why = reorg_lacks(cube, hunters)
    if why and why[0].startswith("asg."):  # no stable assignment: the measure, written in lang
        return unstable_sentence(why[1], lang, why[0])
    return t(why[0], lang, **why[1]) if why else None


def reorg_sentence(proj: pd.DataFrame, hunters: int, lang: str = "en") -> str:
    """"With N hunters the next M months bring X instead of Y (+z %)" in the report language."""
    reorg, status = float(proj.reorganised.sum()), float(proj.status_quo.sum())
    from salesbook.i18n import month_labels
    first, last = month_labels([proj.index[0], proj.index[-1]], lang)
    return t("wi.reorg_text", lang, hunters=hunters, months=len(proj), reorg=fmt_money(reorg, lang), first=first,
             last=last,
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
    out = tab.rename(columns={"category": t("col.category", lang), "baseline": t("wi.baseline", lang),
                              "effect": t("wi.effect", lang), "result": t("wi.result", lang)})
    out.attrs["money"] = [t(k, lang) for k in ("wi.baseline", "wi.effect", "wi.result")]  # all three, one style
    return out


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
            # no axis here: the title carries the currency, as a chart's money axis does ("Revenue, RUB")
            f'<div style="font-size:15px;color:#1f4e79;margin:6px 0">{html.escape(money_header(t("wi.title_chart", lang), lang))}</div>'
            f'<div style="display:flex;border-bottom:1px solid #999">{"".join(cols)}</div>'
            f'<div style="display:flex">{names}</div></div>')


_CONTROL_CSS = ("<style>.sb-control{margin:6px 0 2px}.sb-control-label{font-size:15px;color:#222}"
                ".sb-control-label b{color:#1f4e79}.sb-control-base{font-size:13px;color:#444;margin-left:2px}"
                ".sb-control .widget-slider .noUi-handle,.sb-control .ui-slider-handle{background:#1f4e79 !important;"
                "border-color:#1f4e79 !important}.sb-explorer .sb-verdict{display:block;margin:4px 0 8px}"
                ".sb-explorer-out{overflow-x:auto}</style>")
#: the sliders' column beside what they move: wide enough for a label of two lines, the rest for the chart
CONTROLS_WIDTH = "380px"
#: below this the two columns wrap (controls above), as on a phone
OUTPUT_MIN_WIDTH = "460px"


def _control(label: str, slider, base: str, shown: Callable[[float], str]):
    """A slider as a projector shows it: a plain label with its value in the page's style, the slider, and
    the company's figure it starts from."""
    import ipywidgets as w
    head = w.HTML()

    def show(*_):
        head.value = (f'<div class="sb-control-label">{html.escape(label)}: <b>{html.escape(shown(slider.value))}</b>'
                      "</div>")
    slider.observe(show, names="value")
    show()
    note = w.HTML(f'<div class="sb-control-base">{html.escape(base)}</div>')
    box = w.VBox([head, slider, note], layout=w.Layout(margin="0 0 6px 0"))
    box.add_class("sb-control")
    return box


def _beside(controls: list, outputs: list, below: list | None = None):
    """The workshop's layout: the controls in a column on the left, what they move (sentence, chart, table) on
    the right, so that at 1280×720 the chart is on screen with the sliders; narrower, the columns wrap."""
    import ipywidgets as w
    left = w.VBox(controls, layout=w.Layout(width=CONTROLS_WIDTH, flex=f"0 0 {CONTROLS_WIDTH}", margin="0 24px 0 0"))
    right = w.VBox(outputs, layout=w.Layout(flex=f"1 1 {OUTPUT_MIN_WIDTH}", min_width="0"))
    right.add_class("sb-explorer-out")
    box = w.VBox([w.HTML(_CONTROL_CSS), w.HBox([left, right], layout=w.Layout(flex_flow="row wrap",
                                                                             align_items="flex-start")),
                  *(below or [])])
    box.add_class("sb-explorer")
    return box


def _slider_layout():
    import ipywidgets as w
    return w.Layout(width="100%")


@dataclass
class Explorer:
    """A workshop explorer: its box (displayed), its sliders by name, and every element they redraw by name
    (HTML widgets whose ``value`` changes when a slider moves)."""

    box: Any
    sliders: dict[str, Any]
    outputs: dict[str, Any]


def category_html(result: dict, lang: str = "en") -> str:
    """The effect by client category as the page shows it (a short table, money in the page's style)."""
    from salesbook.views.display import Book
    return Book(lang).table_html(category_table(result, lang), interactive=False)


def levers_widgets(cal: Calibration, start: Levers, lang: str = "en") -> Explorer:
    """The five levers' sliders beside the verdict and the waterfall, with the effect by category under them;
    each slider redraws all three (nothing on the page keeps the figures of an earlier setting)."""
    import ipywidgets as w

    sliders = {k: w.FloatSlider(getattr(start, k), min=0, max=3 if k == "categories" else 0.5,
                                step=0.1 if k == "categories" else 0.01, readout=False, continuous_update=False,
                                layout=_slider_layout())
               for k in SLIDERS}
    controls = [_control(t(f"wi.slider.{k}", lang), s, lever_base(cal, k, lang),
                         lambda v, k=k: lever_setting(k, v, lang)) for k, s in sliders.items()]
    if not cal.extras.get("bridge_covered", 1.0):
        sliders["retain"].disabled = True
    verdict, chart, table = w.HTML(), w.HTML(), w.HTML()
    table.add_class("sb-by-category")

    def refresh(*_):
        res = simulate(cal, replace(start, **{k: s.value for k, s in sliders.items()}))
        verdict.value = "<b class='sb-verdict'>" + html.escape(result_sentence(res, lang, cal.as_of)) + "</b>"
        chart.value = waterfall_html(res, lang)
        table.value = (f'<h3 class="sb-by-category-title">{html.escape(t(Section.WHATIF_BY_CATEGORY, lang))}</h3>'
                       + category_html(res, lang))

    for s in sliders.values():
        s.observe(refresh, names="value")
    refresh()
    box = _beside(controls, [verdict, chart, table])
    return Explorer(box, sliders, {"verdict": verdict, "chart": chart, "by_category": table})


def levers_explorer(cal: Calibration, start: Levers, lang: str = "en") -> Explorer:
    """Show :func:`levers_widgets` (JupyterLab, the workshop)."""
    from IPython.display import display
    explorer = levers_widgets(cal, start, lang)
    display(explorer.box)
    return explorer


def hunters_widgets(org, hunters: int, hunter_rate: float | None, ramp_months: int, months: int,
                    overflow_loss: float, start, lang: str = "en", handover: str = "deals:2") -> Explorer:
    """A slider for the number of hunters beside the reorganisation's sentence and its yearly figures, with its
    assumptions under them ("25 → 22 + 3" follows the slider)."""
    import ipywidgets as w

    from salesbook.analysis.whatif import project
    slider = w.IntSlider(min(hunters, org.managers - 1), min=0, max=max(org.managers - 1, 0), step=1,
                         readout=False, continuous_update=False, layout=_slider_layout())
    control = _control(t("wi.slider.hunters", lang), slider, t("wi.hunters_from", lang, managers=org.managers),
                       lambda v: fmt_int(v, lang))
    sentence, table, assumptions = w.HTML(), w.HTML(), w.HTML()
    assumptions.add_class("sb-assumptions")
    rate = -1.0 if hunter_rate is None else hunter_rate

    def refresh(*_):
        proj = project(org, slider.value, hunter_rate, ramp_months, months, overflow_loss, start, handover)
        sentence.value = "<b class='sb-verdict'>" + html.escape(reorg_sentence(proj, slider.value, lang)) + "</b>"
        table.value = _years_html(proj, lang)
        assumptions.value = assumptions_html(org, slider.value, rate, ramp_months, overflow_loss, lang, handover)

    slider.observe(refresh, names="value")
    refresh()
    box = _beside([control], [sentence, table], [assumptions])
    return Explorer(box, {"hunters": slider}, {"sentence": sentence, "years": table, "assumptions": assumptions})


def hunters_explorer(org, hunters: int, hunter_rate: float | None, ramp_months: int, months: int,
                     overflow_loss: float, start, lang: str = "en", handover: str = "deals:2") -> Explorer:
    """Show :func:`hunters_widgets` (JupyterLab, the workshop)."""
    from IPython.display import display
    explorer = hunters_widgets(org, hunters, hunter_rate, ramp_months, months, overflow_loss, start, lang, handover)
    display(explorer.box)
    return explorer


def assumptions_html(org, hunters: int, hunter_rate: float, ramp_months: int, overflow_loss: float,
                     lang: str = "en", handover: str = "deals:2") -> str:
    """:func:`assumptions_table` as the page shows it."""
    from salesbook.views.display import Book
    return Book(lang).table_html(assumptions_table(org, hunters, hunter_rate, ramp_months, overflow_loss, lang,
                                                   handover), interactive=False)


def _years_html(proj: pd.DataFrame, lang: str) -> str:
    """The projection summed by 12-month period (its first and last month, as the sentence above names
    months: ``Nov 2026 – Oct 2027``): status quo, with hunters, the difference."""
    periods = [proj.iloc[i:i + 12] for i in range(0, len(proj), 12)]
    head = "".join(f"<th>{html.escape(x)}</th>" for x in (t("col.period", lang), t("wi.status_quo", lang),
                                                          t("wi.reorganised", lang), "Δ"))
    span = lambda p: " – ".join(month_labels([p.index[0], p.index[-1]], lang))  # noqa: E731
    rows = "".join(f"<tr><td>{html.escape(span(p))}</td>"
                   f"<td>{html.escape(fmt_money(p.status_quo.sum(), lang))}</td>"
                   f"<td>{html.escape(fmt_money(p.reorganised.sum(), lang))}</td>"
                   f"<td>{html.escape(fmt_money(p.reorganised.sum() - p.status_quo.sum(), lang))}</td></tr>"
                   for p in periods if len(p))
    return f'<table class="sb-table"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def projection_chart(proj: pd.DataFrame, lang: str = "en") -> go.Figure:
    from salesbook.views.display import money_axis, month_ticks
    fig = go.Figure()
    fig.add_scatter(x=proj.index, y=proj.status_quo, name=t("wi.status_quo", lang), mode="lines", line=dict(width=3))
    fig.add_scatter(x=proj.index, y=proj.reorganised, name=t("wi.reorganised", lang), mode="lines",
                    line=dict(width=3, dash="dash"))
    fig.update_layout(title=t(Section.REORGANISATION, lang), yaxis=dict(title=t("col.revenue", lang), rangemode="tozero"))
    return month_ticks(money_axis(fig), proj.index, lang)


def assumptions_table(org, hunters: int, hunter_rate: float, ramp_months: int, overflow_loss: float,
                      lang: str = "en", handover: str = "deals:2") -> pd.DataFrame:
    from salesbook.analysis.whatif import handover_months
    rate = org.hunter_rate if hunter_rate < 0 else hunter_rate
    num = lambda v, d=1: fmt_num(v, lang, d)  # noqa: E731
    rows = [("wi.a.managers", f"{org.managers} → {org.managers - hunters} + {hunters}"),
            ("wi.a.new", num(org.new_per_month)), ("wi.a.hunter_rate", num(rate, 2)),
            ("wi.a.ramp", str(ramp_months)), ("wi.a.first_year", fmt_money(org.first_year_revenue, lang)),
            ("wi.a.retention", fmt_pct(org.retention, lang)),
            ("wi.a.existing", fmt_pct(org.existing_change, lang, signed=True)),
            ("wi.a.capacity", f"{num(org.load)} / {num(org.capacity)}"), ("wi.a.overflow", fmt_pct(overflow_loss, lang, 0)),
            ("wi.a.handover", t(f"wi.trigger.{handover.partition(':')[0]}", lang, value=handover.partition(":")[2],
                                months=num(handover_months(org, handover)))),
            ("wi.a.handover_kept", t("wi.kept.measured", lang, share=fmt_pct(org.handover_retention, lang, 0),
                                     handed=fmt_int(org.handover_measured["handed"], lang),
                                     kept=fmt_int(org.handover_measured["kept"], lang))
             if org.handover_measured else t("wi.kept.assumed", lang))]
    return pd.DataFrame({t("col.metric", lang): [t(k, lang) for k, _ in rows], t("col.value", lang): [v for _, v in rows]})
