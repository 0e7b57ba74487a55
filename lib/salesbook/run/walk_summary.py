"""The summary's part of issue 28: the revenue walk's headline figures and, with a plan, each manager's pace.

Kept apart from :mod:`salesbook.run.summary`: :func:`walk_figures` and :func:`pace_figures` give the
JSON-ready figures (``summary.json``: ``walk`` and ``pace``), :func:`walk_html` their section of the
summary page. Without a plan nothing about plans appears (``pace`` is ``None``).
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from salesbook.cube import Cube
from salesbook.cube.memo import per_cube
from salesbook.i18n import t
from salesbook.paths import Section

__all__ = ["walk_figures", "pace_figures", "walk_html", "walk_cards", "pack_html", "pack_context", "TOP"]

#: contributors of the largest negative step shown in the summary
TOP = 3


@per_cube
def walk_figures(cube: Cube, lang: str = "en", rules: Any = None) -> dict[str, Any]:
    """The walk's sentences, its steps in money, and the top contributors of its largest negative step
    (``rules``: the run's :class:`salesbook.analysis.walk.WalkRules`). Kept in the cube's memo: workbook 03 says
    the same sentences from this result, and a run's summary then reads these few figures instead of the walk's
    lines (0.3 GB at 10M)."""
    from salesbook.analysis import walk as wk
    rules = rules or wk.WALK
    walk = wk.revenue_walk(cube)
    out: dict[str, Any] = {"text": wk.walk_sentences(walk, lang, rules), "steps": None}
    if walk.steps.empty:
        return out
    worst = wk.largest_negative(walk)
    top = wk.contributors(walk, worst, TOP) if worst else None
    out.update({"before": round(walk.before, 2), "after": round(walk.after, 2),
                "start": str(walk.later[0].date()), "end": str(walk.later[1].date()),
                "steps": {k: round(float(v), 2) for k, v in walk.steps.items()}, "split": walk.split,
                "worst": worst, "top": [] if top is None else [
                    {"client_id": str(r.client_id), "client_name": None if pd.isna(r.client_name) else str(r.client_name),
                     "manager": None if pd.isna(r.manager) else str(r.manager), "amount": round(float(r.amount), 2)}
                    for r in top.itertuples()]})
    story = wk.price_story(walk)
    if walk.split and story["lines"] and walk.steps.get("price", 0.0) < 0:
        out["price_text"] = wk.step_sentence(walk, "price", lang, rules)
    return out


def pace_figures(cube: Cube, plan: Any, lang: str = "en", rules: Any = None) -> dict[str, Any] | None:
    """Each manager's pace against the run's plan (``None`` without a plan, or one with no month this year;
    ``rules``: the run's :class:`salesbook.analysis.pacing.PaceRules`)."""
    if not plan:
        return None
    from salesbook.analysis import forecast as fc
    from salesbook.analysis import pacing as pc
    from salesbook.formats import lang_currency
    rows = fc.read_plan(plan, lang_currency(lang))
    fc.check_plan_managers(rows, cube, str(plan))
    pace = pc.plan_pace(cube, rows, rules or pc.PACE)
    if pace is None:
        return {"text": [t("pace.no_year", lang, year=cube.as_of.year)], "rows": []}
    text = [pc.pace_sentence(pace, pc.COMPANY, lang)]
    causes = pc.shared_cause(cube, pace, lang)
    if causes:
        text.append(causes)
    table = pace.table.reset_index()
    return {"text": text, "year": pace.year, "seasonal": pace.seasonal,
            "rows": [{k: (None if pd.isna(v) else (float(v) if not isinstance(v, str) else v)) for k, v in r.items()}
                     for r in table.to_dict("records")],
            "sentences": {m: pc.pace_sentence(pace, m, lang) for m in pace.table.index if m != pc.COMPANY}}


def walk_cards(figures: dict[str, Any], lang: str, card: Any) -> list[str]:
    """The headline cards: the walk's largest fall and, with a plan, the company's share of its plan to date."""
    from salesbook.views.display import fmt_money, fmt_pct
    out = []
    w = figures.get("walk") or {}
    if w.get("worst"):
        out.append(card(t("walk.card", lang, step=t("walk.step." + w["worst"], lang), end=w["end"]),
                        fmt_money(w["steps"][w["worst"]], lang), "walk"))
    p = figures.get("pace") or {}
    company = [r for r in p.get("rows", []) if r.get("manager") == "__company__"]
    if company and company[0].get("pct") is not None:
        out.append(card(t("pace.card", lang, year=p["year"]), fmt_pct(company[0]["pct"], lang, decimals=0), "pace"))
    return out


def walk_html(figures: dict[str, Any], lang: str = "en") -> str:
    """The summary page's section: the walk's sentences and steps, the top contributors, and the plan's pace."""
    from salesbook.views.display import fmt_money
    e = html.escape
    w = figures.get("walk")
    parts = []
    if w:
        parts.append(f'<h2 id="{Section.WALK.anchor}">{e(t(Section.WALK, lang))}</h2>')
        parts += [f"<p>{e(x)}</p>" for x in w["text"]]
        if w.get("price_text") and w.get("worst") != "price":
            parts.append(f"<p>{e(w['price_text'])}</p>")
        if w.get("steps"):
            rows = [("before", w["before"]), *w["steps"].items(), ("after", w["after"])]
            body = "".join(f"<tr><td>{e(t('walk.step.' + k, lang))}</td><td class=\"n\">{e(fmt_money(v, lang))}</td></tr>"
                           for k, v in rows)
            parts.append(f"<table><tbody>{body}</tbody></table>")
        if w.get("top"):
            parts.append(f"<p>{e(t('walk.top_summary', lang, step=t('walk.step.' + w['worst'], lang)))}</p>")
            body = "".join(f"<tr><td>{e(r['client_id'])}</td><td>{e(r['client_name'] or '—')}</td><td>{e(r['manager'] or '–')}</td>"
                           f"<td class=\"n\">{e(fmt_money(r['amount'], lang))}</td></tr>" for r in w["top"])
            parts.append(f'<div class="sb-scroll"><table><tbody>{body}</tbody></table></div>')
    p = figures.get("pace")
    if p:
        parts.append(f'<h2 id="{Section.PACE.anchor}">{e(t(Section.PACE, lang))}</h2>')
        parts += [f"<p>{e(x)}</p>" for x in p["text"]]
        if p.get("rows"):
            parts.append(_pace_rows_html(p, lang, interactive=True))
    return "\n".join(parts)


def _pace_rows_html(p: dict[str, Any], lang: str, interactive: bool) -> str:
    from salesbook.analysis.pacing import COMPANY, pace_view_columns
    from salesbook.views.display import Book
    from salesbook.views.tables import ASSET
    rows = pd.DataFrame(p["rows"])
    cols = [c for c in pace_view_columns() if c in rows and rows[c].notna().any()]
    people = rows[rows.manager != COMPANY]
    if people.empty:
        return ""
    names = {"manager": t("col.manager", lang), **{c: t(f"pace.col.{c}", lang) for c in cols}}
    df = people[["manager", *cols]].rename(columns=names)
    money = [names[c] for c in ("plan_year", "plan_to_date", "fact", "gap") if c in names]
    shares = [names[c] for c in ("pct", "projected_pct", "low_pct", "high_pct") if c in names]
    table = Book(lang).table_html(df, money=money, shares=shares, interactive=interactive)
    loader = f'<script src="{html.escape(ASSET, quote=True)}"></script>' if interactive else ""
    return loader + table


def pack_context(cube: Cube, plan: Any = None, lang: str = "en", rules: Any = None) -> tuple[Any, pd.DataFrame | None]:
    """What every pack reads once: the plan's pace (None without a plan) and the walk by manager (None
    without a walk)."""
    from salesbook.analysis import walk as wk
    pace = None
    if plan:
        from salesbook.analysis import forecast as fc
        from salesbook.analysis import pacing as pc
        from salesbook.formats import lang_currency
        rows = fc.read_plan(plan, lang_currency(lang))
        fc.check_plan_managers(rows, cube, str(plan))
        pace = pc.plan_pace(cube, rows, rules or pc.PACE)
    walk = wk.revenue_walk(cube)
    by = wk.walk_by(cube, walk, "manager", lang) if len(walk.steps) else None
    return pace, by


def pack_html(cube: Cube, manager: str, lang: str = "en", pace: Any = None,
              by_manager: pd.DataFrame | None = None, walk: Any = None) -> str:
    """A manager's pack: his pace sentence (with a plan naming him) and the walk of his clients, in plain HTML.

    ``by_manager``: :func:`salesbook.analysis.walk.walk_by` by manager; ``walk``: the company's
    :func:`salesbook.analysis.walk.revenue_walk` (both computed once for every pack; ``walk`` by default)."""
    from salesbook.analysis import pacing as pc
    from salesbook.analysis import walk as wk
    from salesbook.views.display import fmt_money
    e = html.escape
    parts = []
    if pace is not None and manager in pace.table.index:
        parts.append(f"<h2>{e(t('pace.title', lang))}</h2><p>{e(pc.pace_sentence(pace, manager, lang))}</p>")
    if by_manager is not None and manager in by_manager.index:
        walk = walk if walk is not None else wk.revenue_walk(cube)
        r = by_manager.loc[manager].to_dict()
        steps = [s for s in walk.steps.index]
        said = t("walk.say.manager", lang, start=str(walk.later[0].date()), end=str(walk.later[1].date()),
                 before=fmt_money(r["before"], lang), after=fmt_money(r["after"], lang),
                 change=fmt_money(r["change"], lang))
        if r["worst_amount"] < 0:
            said += " " + t("walk.say.manager_worst", lang, step=t(f"walk.step.{r['worst']}", lang),
                            amount=fmt_money(r["worst_amount"], lang))
        body = "".join(f"<tr><td>{e(t('walk.step.' + k, lang))}</td><td class=\"n\">{e(fmt_money(float(r[k]), lang))}</td></tr>"
                       for k in ["before", *steps, "after"])
        parts.append(f"<h2>{e(t('walk.title', lang))}</h2><p>{e(said)}</p><table><tbody>{body}</tbody></table>")
        if walk.unknown and walk.unknown != "bridge":
            parts.append(f"<p>{e(t(walk.unknown, lang))}</p>")
    return "\n".join(parts)
