"""Widgets for exploring in JupyterLab: move a threshold, the tables and charts update in place.

In a papermill report the static results are shown instead (widgets need a live
kernel); :func:`in_report` tells which is the case.
"""

from __future__ import annotations

from salesbook import paths
from dataclasses import replace
from typing import Any

import pandas as pd

from salesbook.cube import Cube
from salesbook.i18n import t
from salesbook.analysis.segments import Rules, category_summary, classify_clients, features_at, reactivation_list, reactivation_view
from salesbook.views.segment_views import category_chart, category_table

__all__ = ["in_report", "SegmentationState", "segmentation_explorer"]


def in_report() -> bool:
    """True while the runner executes notebooks for a report (no live widgets there)."""
    return paths.current().report


class SegmentationState:
    """The explorer's computation without widgets: features cached per window, rules re-applied."""

    def __init__(self, cube: Cube, as_of: Any = None, lang: str = "en"):
        self.cube, self.lang = cube, lang
        self.as_of = pd.Timestamp(as_of or cube.as_of)
        self._features: dict[int, Any] = {}

    def update(self, rules: Rules, manager: str | None = None, max_months_asleep: int = 24) -> dict[str, Any]:
        key = rules.window_months
        if key not in self._features:
            self._features[key] = features_at(self.cube, self.as_of, key)
        classes = classify_clients(self.cube, self.as_of, rules, self.lang, features=self._features[key])
        if manager:
            classes = classes[classes.manager == manager]
        summary = category_summary(classes)
        return {"classes": classes, "summary": summary, "chart": category_chart(summary, self.lang),
                "sleepers": reactivation_list(self.cube, classes, max_months_asleep)}


def segmentation_explorer(cube: Cube, rules: Rules = Rules(), as_of: Any = None, lang: str = "en",
                          max_months_asleep: int = 24):
    """Sliders for the main thresholds and a manager dropdown over live tables and a chart."""
    import ipywidgets as w
    from IPython.display import display

    from salesbook.views.display import Book, fmt_pct, localise, update_chart

    nb = Book(lang)
    state = SegmentationState(cube, as_of, lang)
    managers = sorted(cube.clients.manager.dropna().unique().tolist())
    style = {"description_width": "initial"}
    wide = w.Layout(width="460px")
    ints = {"window_months": (6, 24), "new_months": (1, 12), "sleeping_min_months": (2, 24),
            "regular_active_months": (1, 12), "vip_active_months": (1, 12)}
    controls: dict[str, Any] = {k: w.IntSlider(getattr(rules, k), lo, hi, description=t(f"seg.slider.{k}", lang),
                                               style=style, layout=wide, continuous_update=False)
                                for k, (lo, hi) in ints.items()}
    controls["abc_a"] = w.FloatSlider(rules.abc_a, min=0.5, max=0.95, step=0.05, description=t("seg.slider.abc_a", lang),
                                      style=style, layout=wide, readout=False, continuous_update=False)
    abc_value = w.HTML()

    def show_abc(*_: Any) -> None:
        abc_value.value = f"<b>{fmt_pct(controls['abc_a'].value, lang, 0)}</b>"
    controls["abc_a"].observe(show_abc, names="value")
    show_abc()
    manager = w.Dropdown(options=[(t("seg.all_managers", lang), "")] + [(m, m) for m in managers],
                         description=t("col.manager", lang))
    out_table, out_list = w.Output(), w.Output()
    chart = None

    def refresh(*_: Any) -> None:
        chosen = replace(rules, **{k: c.value for k, c in controls.items()})
        res = state.update(chosen, manager.value or None, max_months_asleep)
        with out_table:
            out_table.clear_output(wait=True)
            nb.table(category_table(res["summary"], lang, chosen.window_months))  # the header follows the window
        nonlocal chart
        if chart is None:
            chart = nb.live_chart(res["chart"])
        else:
            update_chart(chart, localise(res["chart"], lang))
        with out_list:
            out_list.clear_output(wait=True)
            nb.table(reactivation_view(res["sleepers"].sort_values("yearly_revenue", ascending=False), lang))

    for c in [*controls.values(), manager]:
        c.observe(refresh, names="value")
    refresh()
    sliders = list(controls.values())
    box = w.VBox([w.HBox([w.VBox(sliders[:3]), w.VBox(sliders[3:5] + [w.HBox([sliders[5], abc_value])]), manager]),
                  w.HBox([out_table, chart]), out_list])
    display(box)
    return box
