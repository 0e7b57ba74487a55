"""A pack per manager: his one-page summary and his Excel, with only his clients.

``salesbook run --per-manager`` writes ``managers/<manager>/`` beside the run's pages: ``index.html``
(portfolio, categories, new clients against the team's median, his profile, his sleeping, at-risk and
whitespace lists with their expected values or backtested precision, his pipeline) and ``clients.xlsx`` (the same lists, call columns
included). A folder is self-contained (no script, no link outside it), so a director can send each to
its manager; no file in it names a client of another manager. A client belongs to its latest manager,
as everywhere in the workbooks.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pandas as pd

from salesbook.cube import Cube
from salesbook.i18n import t
from salesbook.paths import RunFile, Section

__all__ = ["FOLDER", "folder_name", "write_packs"]

FOLDER = RunFile.MANAGERS


def folder_name(manager: str, taken: set[str]) -> str:
    """A folder name for a manager, readable and safe on every system: ``Петрова Е.С.`` -> ``Петрова_Е.С``."""
    base = re.sub(r"[^\w.-]+", "_", str(manager)).strip("._") or "manager"
    name, k = base, 2
    while name.lower() in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name.lower())
    return name


def _table(df: pd.DataFrame, lang: str) -> str:
    from salesbook.views.display import Book
    if df is None or not len(df):
        return f"<p>{html.escape(t('dt.emptyTable', lang))}</p>"
    return f'<div class="sb-scroll">{Book(lang).table_html(df, interactive=False)}</div>'


def write_packs(cube: Cube, folder: Path, lang: str = "en", pipeline: str = "", source: str = "",
                settings: Any = None, plan: str = "") -> list[dict[str, Any]]:
    """Write every manager's pack under ``folder/managers/``; return the scorecard (one row per manager).
    ``pipeline``, ``source``: the run's (its pipeline's deals go to their managers' packs; none without one).
    ``settings``: the run's (:class:`salesbook.analysis.settings.Settings`), as the workbooks computed with.
    ``plan``: the run's plan file (a manager it names gets his pace; nothing about plans without one)."""
    from salesbook.analysis.settings import Settings
    from salesbook.analysis import segments as sg
    from salesbook.analysis import stagnation as st
    from salesbook.analysis.calibration import (expected_reactivation, expected_whitespace, reactivation_backtest, reactivation_sentence,
                              whitespace_backtest, whitespace_others, whitespace_sentence)
    from salesbook.views.display import fmt_int, fmt_money
    from salesbook.formats import escape_html, fact
    from salesbook.views.export import call_columns, to_excel
    from salesbook.views.pages import PAGE_CSS
    from salesbook.views.stagnation_views import whitespace_view
    from salesbook.views.segment_views import portfolio_view
    from salesbook.run.summary import _CSS

    if not cube.profile.has_manager:
        return []
    settings = settings or Settings()
    s1, s3, s4 = settings.segmentation, settings.stagnation, settings.forecast
    seg = sg.segment(cube, cube.as_of, s1.rules, lang, s1.xyz_x, s1.xyz_y, s1.abc_measure, s1.rfm_window_months)
    classes = seg.classes
    from salesbook.analysis.forecast import run_deals
    deals = run_deals(pipeline or "", source, classes, cube.as_of, s4.probabilities, s4.spontaneous)
    sleepers = sg.reactivation_list(cube, classes, s1.max_months_asleep)
    backtest = reactivation_backtest(cube, s1.rules, s1.max_months_asleep)
    ws_backtest = whitespace_backtest(cube, min_lift=s3.whitespace_min)
    ws_others = whitespace_others(cube, ws_backtest)  # the list against chance, once for every pack
    ws = st.whitespace(cube, 12, s3.whitespace_min) if cube.profile.has_category else pd.DataFrame(columns=["manager", "client_id"])
    profiles = st.manager_profiles(cube, hunter=s3.rules.hunter_share, farmer=s3.rules.farmer_share)
    from salesbook.analysis.assignment import lacks as unstable_assignment
    unstable = unstable_assignment(cube, lang)  # clients with no stable manager: no hunter / account-manager profile
    from salesbook.analysis import atrisk
    risk = atrisk.at_risk(cube, s1.rules, classes=classes)
    team_new = float(profiles.clients_new.median()) if len(profiles) else 0.0
    active = classes[classes.active_months > 0]
    managers = sorted(m for m in active.manager.dropna().astype(str).unique())
    from salesbook.run.walk_summary import pack_context, pack_html
    pace, by_manager = pack_context(cube, plan, lang, settings.forecast.pace)  # issue 28: pace and walk
    taken: set[str] = set()
    rows = []
    root = Path(folder) / FOLDER
    for m in managers:
        mine = classes[classes.manager.astype(str) == m]
        his_sleepers = sleepers[sleepers.manager.astype(str) == m]
        his_ws = ws[ws.manager.astype(str) == m]
        his_deals = None
        if deals is not None and len(deals):  # a deal goes with its client's manager (its own, for a prospect)
            owner = classes.manager.astype(str).reindex(deals.client_id.astype(str)).to_numpy()
            who = pd.Series(owner, index=deals.index).fillna(deals.manager.astype(str))
            his_deals = deals[who == m]
        prof = profiles.loc[m] if m in profiles.index else None
        name = folder_name(m, taken)
        out = root / name
        out.mkdir(parents=True, exist_ok=True)
        cal = expected_reactivation(cube, his_sleepers, backtest=backtest)
        revenue = float(mine.revenue.sum())
        new = int(prof.clients_new) if prof is not None else 0
        portfolio = portfolio_view(mine, lang, s1.rules.window_months)  # each client's revenue of the window to as_of
        cats = sg.category_summary(mine)
        from salesbook.views.segment_views import category_table
        cat_table = category_table(cats[cats.clients > 0], lang)
        sleep_view = sg.reactivation_view(his_sleepers, lang).drop(columns=[t("col.manager", lang)])
        ws_view = whitespace_view(his_ws, lang).drop(columns=[t("col.manager", lang)], errors="ignore") if len(his_ws) else None
        his_risk = risk["list"][risk["list"].manager.astype(str) == m]
        risk_view = atrisk.at_risk_view(his_risk, lang).drop(columns=[t("col.manager", lang)])
        risk_text = atrisk.at_risk_sentence(risk, lang, clients=len(his_risk))
        sheets = {t("xl.sheet.reactivation", lang): sleep_view}
        titles = {t("xl.sheet.reactivation", lang): t(Section.REACTIVATION, lang),
                  t("xl.sheet.whitespace", lang): t(Section.WHITESPACE, lang)}
        if not risk["unknown"] and len(his_risk):
            sheets[t("risk.sheet", lang)] = risk_view
        if ws_view is not None:
            sheets[t("xl.sheet.whitespace", lang)] = ws_view
        to_excel(sheets, out / RunFile.PACK_CLIENTS, portfolio, t("mgr.portfolio", lang),
                 {t("seg.col.yearly_revenue", lang), t("stag.col.potential", lang), *risk_view.attrs.get("money", []),
                  *portfolio.attrs["money"]},
                 shares={t("stag.col.score", lang), *risk_view.attrs.get("shares", [])}, call_columns=call_columns(lang),
                 lang=lang, titles=titles)
        e = escape_html  # his figures carry their names, scoped to him (formats.fact)
        profile_text = t(f"mgr.profile.{prof.profile}", lang) if prof is not None else "–"
        n_active = int((mine.active_months > 0).sum())
        facts = [t("mgr.fact.clients", lang, n=fact("clients.active", fmt_int(n_active, lang), n_active, m),
                   as_of=cube.as_of.date()),
                 t("mgr.fact.revenue", lang, revenue=fact("turnover.12m", fmt_money(revenue, lang), revenue, m),
                   as_of=cube.as_of.date()),
                 t("mgr.fact.new", lang, n=fmt_int(new, lang), median=fmt_int(round(team_new), lang)),
                 t("mgr.fact.profile", lang, profile=profile_text)]
        if unstable:  # who won a client and how a manager works say nothing when clients have no manager
            facts = facts[:2] + [unstable]
        deals_html = ""
        if his_deals is not None:
            from salesbook.views.forecast_views import flags_table
            live = his_deals[his_deals.target & ~his_deals.stale]
            deals_html = (f"<h2>{e(t('fc.pipeline', lang))}</h2><p>{e(t('mgr.pipeline', lang, n=fmt_int(len(his_deals), lang), weighted=fmt_money(live.weighted.sum(), lang)))}</p>"
                          + _table(flags_table(his_deals, lang).drop(columns=[t("col.manager", lang)], errors="ignore"), lang))
        page = f"""<!DOCTYPE html>
<html lang="{e(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(t("mgr.title", lang, manager=m))}</title><style>{_CSS}{PAGE_CSS}</style></head>
<body><h1>{e(t("mgr.title", lang, manager=m))}</h1>
<p class="meta">{e(t("mgr.intro", lang, as_of=cube.as_of.date()))}</p>
<ul>{"".join(f"<li>{e(x)}</li>" for x in facts)}</ul>
<h2>{e(t(Section.CATEGORIES, lang))}</h2>{_table(cat_table, lang)}
<h2>{e(t(Section.REACTIVATION, lang))}</h2><p>{e(reactivation_sentence(cal, lang))}</p>{_table(sleep_view, lang)}
<h2>{e(t(Section.AT_RISK, lang))}</h2><p>{e(risk_text)}</p>{_table(risk_view, lang) if not risk["unknown"] and len(his_risk) else ""}
<h2>{e(t(Section.WHITESPACE, lang))}</h2>{f"<p>{e(whitespace_sentence(expected_whitespace(cube, his_ws, backtest=ws_backtest, others=ws_others), lang))}</p>" if ws_view is not None else ""}{_table(ws_view, lang) if ws_view is not None else f"<p>{e(cube.profile.lacks('category', lang) or t('stag.no_whitespace', lang))}</p>"}
{pack_html(cube, m, lang, pace, by_manager)}
{deals_html}
<p class="meta"><a href="{RunFile.PACK_CLIENTS}">{RunFile.PACK_CLIENTS}</a></p></body></html>
"""
        (out / RunFile.INDEX).write_text(page, encoding="utf-8")
        rows.append({"manager": m, "folder": f"{FOLDER}/{name}/{RunFile.INDEX}", "clients": int((mine.active_months > 0).sum()),
                     "revenue": revenue, "new": new, "profile": prof.profile if prof is not None and not unstable else "",
                     "sleeping": int(len(his_sleepers)), "at_risk": int(len(his_risk)), "whitespace": int(his_ws.client_id.nunique()) if len(his_ws) else 0})
    return rows
