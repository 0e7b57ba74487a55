"""Charts and tables of the revenue walk and of the plan's pace (workbook 03, the summary, the packs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from salesbook.analysis.walk import Walk, contributors
from salesbook.i18n import t
from salesbook.views.display import waterfall_chart

__all__ = ["walk_chart", "walk_table", "walk_by_table", "contributors_table", "pace_table", "BY_KEYS", "drilldowns",
           "step_lists", "catalogue_keys"]

#: the drill-downs and their column titles
BY_KEYS = {"manager": "col.manager", "category": "col.category", "segment": "walk.col.segment"}


def catalogue_keys() -> list[str]:
    """Every catalogue key built here at run time: each step of the walk, its two ends, each breakdown
    (``tests/test_i18n.py`` checks them)."""
    from salesbook.analysis.walk import STEPS
    return [f"walk.step.{s}" for s in ("before", *STEPS, "after")] + [f"walk.by.{k}" for k in BY_KEYS]


def _step(step: str, lang: str) -> str:
    return t(f"walk.step.{step}", lang)


def walk_chart(walk: Walk, lang: str = "en") -> go.Figure:
    """The walk as a waterfall: last year, each step, this year."""
    labels = [_step("before", lang)] + [_step(s, lang) for s in walk.steps.index] + [_step("after", lang)]
    values = [walk.before] + [float(v) for v in walk.steps] + [walk.after]
    title = t("walk.chart", lang, start=str(walk.later[0].date()), end=str(walk.later[1].date()))
    return waterfall_chart(labels, values, title, lang, connector="#bbb")


def walk_table(walk: Walk, lang: str = "en") -> pd.DataFrame:
    """Each step in money and as a share of last year's revenue, from last year to this year."""
    rows = [("before", walk.before), *walk.steps.items(), ("after", walk.after)]
    money, share = t("walk.col.amount", lang), t("walk.col.share", lang)
    from salesbook.formats import fmt_pct
    out = pd.DataFrame({t("walk.col.step", lang): [_step(s, lang) for s, _ in rows],
                        money: [float(v) for _, v in rows],
                        share: ["" if s in ("before", "after") or not walk.before
                                else fmt_pct(float(v) / walk.before, lang, signed=True) for s, v in rows]})
    out.attrs["money"], out.attrs["shares"] = [money], []
    return out


def walk_by_table(by: pd.DataFrame, key: str, lang: str = "en") -> pd.DataFrame:
    """:func:`salesbook.analysis.walk.walk_by` in ``lang``: the group, last year, this year, the change, each
    step, and the largest fall (sorted by it)."""
    steps = [c for c in by.columns if c not in ("before", "after", "change", "worst", "worst_amount")]
    out = by.reset_index()
    name = out.columns[0]
    if key == "segment":
        out[name] = out[name].map(lambda c: t(f"cat.{c}", lang) if c != "—" else c)
    out["worst"] = [_step(w, lang) if a < 0 else "–" for w, a in zip(out.worst, out.worst_amount)]
    cols = {name: t(BY_KEYS[key], lang), "before": _step("before", lang), "after": _step("after", lang),
            "change": t("walk.col.change", lang), **{s: _step(s, lang) for s in steps},
            "worst": t("walk.col.worst", lang), "worst_amount": t("walk.col.worst_amount", lang)}
    out = out[list(cols)].rename(columns=cols)
    out.attrs["money"] = [cols[c] for c in ("before", "after", "change", *steps, "worst_amount")]
    return out


def contributors_table(walk: Walk, step: str, lang: str = "en", top: int | None = 10,
                       every: pd.DataFrame | None = None) -> pd.DataFrame:
    """The biggest contributors to ``step``: client, manager, money, lines, share of the step (``every``: all of
    them, ``contributors(walk, step)``, when the caller has them)."""
    c = contributors(walk, step, top) if every is None else (every if top is None else every.head(top))
    from salesbook.analysis.segments import NO_MANAGER
    out = pd.DataFrame({t("seg.col.client_id", lang): c.client_id.astype(str),
                        t("col.client", lang): c.client_name.astype(object).fillna("—"),
                        t("col.manager", lang): c.manager.astype(object).fillna(NO_MANAGER),
                        _step(step, lang): c.amount.astype(float),
                        t("walk.col.lines", lang): c.lines.astype("int64"),
                        t("walk.col.of_step", lang): c.share.astype(float)})
    out.attrs["money"], out.attrs["shares"] = [_step(step, lang)], [t("walk.col.of_step", lang)]
    return out


def drilldowns(cube, walk: Walk, lang: str = "en") -> list[tuple[str, pd.DataFrame]]:
    """(sentence, table) of the walk by manager (with a manager column), by product category (with a category
    column) and by client category, each sorted by its largest fall."""
    from salesbook.analysis.walk import walk_by
    keys = [k for k, ok in (("manager", cube.profile.has_manager), ("category", cube.profile.has_category),
                            ("segment", True)) if ok]
    return [(t(f"walk.by.{k}", lang), walk_by_table(walk_by(cube, walk, k, lang), k, lang)) for k in keys]


def step_lists(walk: Walk, lang: str = "en", top: int = 10) -> list[tuple[str, pd.DataFrame]]:
    """(sentence, table) of the biggest contributors under each step that moved, in the walk's order."""
    from salesbook.formats import fmt_int, fmt_money
    out = []
    for step, amount in walk.steps.items():
        if step == "rounding" or not amount:
            continue
        every = contributors(walk, step, None)
        said = t("walk.top", lang, step=_step(step, lang), n=fmt_int(min(top, len(every)), lang),
                 clients=fmt_int(len(every), lang), amount=fmt_money(float(amount), lang))
        out.append((said, contributors_table(walk, step, lang, top, every)))
    return out


def pace_table(pace, lang: str = "en") -> pd.DataFrame:
    """Each manager's pace (:func:`salesbook.analysis.pacing.plan_pace`), sortable, the furthest behind first;
    the new-client columns only when the plan has them, the interval only with a backtest."""
    from salesbook.analysis.pacing import COMPANY, pace_view_columns
    cols = [c for c in pace_view_columns() if pace.table[c].notna().any()]
    out = pace.table[cols].reset_index()
    whole = t("pace.company", lang) if pace.whole else t("pace.planned", lang)
    out["manager"] = [whole if m == COMPANY else m for m in out.manager]
    names = {"manager": t("col.manager", lang), **{c: t(f"pace.col.{c}", lang) for c in cols}}
    out = out.rename(columns=names)
    out.attrs["money"] = [names[c] for c in ("plan_year", "plan_to_date", "fact", "gap") if c in names]
    out.attrs["shares"] = [names[c] for c in ("pct", "projected_pct", "low_pct", "high_pct") if c in names]
    for c in ("new_plan_to_date", "new_fact"):
        if c in names:
            out[names[c]] = out[names[c]].round(1)
    return out
