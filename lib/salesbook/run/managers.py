"""A pack per manager: his one-page summary and his Excel, with only his clients.

``salesbook run --per-manager`` writes ``managers/<manager>/`` beside the run's pages: ``index.html``
(portfolio, categories, new clients against the team's median, his profile, his sleeping, at-risk and
whitespace lists with their expected values or backtested precision, his pipeline) and ``clients.xlsx`` (the same lists, call columns
included). A folder is self-contained (no script, no link outside it), so a director can send each to
its manager; no file in it names a client of another manager. A client belongs to its latest manager,
as everywhere in the workbooks.

One run, one story, at any number of managers: every list and calibration a pack shows is computed once
for the company with the run's settings (:func:`company_lists`), then cut by manager. A manager's
reactivation, at-risk and whitespace lists, categories, portfolio and deals are his rows of the company's;
his calibrated expectations are his clients' share of the company's (:func:`salesbook.analysis.calibration.
expected_reactivation_by`: the same backtest and bootstrap, each of his clients' expected value added up);
each table's cells are formatted once for every pack. The packs cost a pass over the company's clients plus
a small page and workbook per manager, not a pass over the company per manager.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesbook.cube import Cube
from salesbook.i18n import t
from salesbook.paths import RunFile, Section

__all__ = ["FOLDER", "Company", "company_lists", "folder_name", "write_packs"]

FOLDER = RunFile.MANAGERS
_NONE = np.array([], dtype=np.int64)


def folder_name(manager: str, taken: set[str]) -> str:
    """A folder name for a manager, readable and safe on every system: ``Петрова Е.С.`` -> ``Петрова_Е.С``."""
    base = re.sub(r"[^\w.-]+", "_", str(manager)).strip("._") or "manager"
    name, k = base, 2
    while name.lower() in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name.lower())
    return name


def _positions(owner: Any) -> dict[str, np.ndarray]:
    """Each manager's row positions (in order) in a list whose rows belong to ``owner`` (one name per row)."""
    owner = pd.Series(np.asarray(owner, dtype=object)).astype(str)
    return {str(k): v for k, v in owner.groupby(owner, sort=False).indices.items()}


@dataclass
class Company:
    """What every pack reads, computed once for the company with the run's settings.

    The lists have one row per client (a whitespace suggestion, a deal) with the manager it belongs to:
    ``classes`` (:func:`salesbook.analysis.segments.segment`, every client), ``sleepers`` (the reactivation
    list), ``risk`` (:func:`salesbook.analysis.atrisk.at_risk`, its ``list``), ``ws`` (the whitespace list),
    ``deals`` (the pipeline's, with ``owner``: the client's manager, a prospect's own; None without a
    pipeline). ``reactivation`` and ``whitespace``: each manager's calibrated share of the company's
    expectation, by manager. ``managers``: those with an active client, who get a pack."""

    classes: pd.DataFrame
    sleepers: pd.DataFrame
    risk: dict[str, Any]
    ws: pd.DataFrame
    deals: pd.DataFrame | None
    profiles: pd.DataFrame
    unstable: str | None
    managers: list[str]
    reactivation: dict[str, dict[str, Any]]
    whitespace: dict[str, dict[str, Any]]

    def lists(self) -> dict[str, tuple[pd.DataFrame, pd.Series]]:
        """The lists the packs cut, each with the manager of each of its rows (text)."""
        out = {"portfolio": (self.classes, self.classes.manager.astype(str)),
               "reactivation": (self.sleepers, self.sleepers.manager.astype(str)),
               "at_risk": (self.risk["list"], self.risk["list"].manager.astype(str)),
               "whitespace": (self.ws, self.ws.manager.astype(str))}
        if self.deals is not None:
            out["deals"] = (self.deals, self.deals.owner.astype(str))
        return out

    def of(self, manager: str) -> dict[str, pd.DataFrame]:
        """A manager's rows of each list (what his pack shows; in the company list's order)."""
        return {name: frame[owner.to_numpy() == manager] for name, (frame, owner) in self.lists().items()}


def company_lists(cube: Cube, lang: str = "en", pipeline: str = "", source: str = "",
                  settings: Any = None) -> Company:
    """The company's lists and calibrations that the packs cut by manager (:class:`Company`), each computed
    once with the run's ``settings`` (:class:`salesbook.analysis.settings.Settings`; default the defaults)."""
    from salesbook.analysis import atrisk
    from salesbook.analysis import segments as sg
    from salesbook.analysis import stagnation as st
    from salesbook.analysis.assignment import lacks as unstable_assignment
    from salesbook.analysis.calibration import (expected_reactivation_by, expected_whitespace_by,
                                                reactivation_backtest, whitespace_backtest, whitespace_others)
    from salesbook.analysis.forecast import run_deals
    from salesbook.analysis.settings import Settings

    settings = settings or Settings()
    s1, s3, s4 = settings.segmentation, settings.stagnation, settings.forecast
    seg = sg.segment(cube, cube.as_of, s1.rules, lang, s1.xyz_x, s1.xyz_y, s1.abc_measure, s1.rfm_window_months)
    classes = seg.classes
    deals = run_deals(pipeline or "", source, classes, cube.as_of, s4.probabilities, s4.spontaneous)
    if deals is not None and len(deals):  # a deal goes with its client's manager (its own, for a prospect)
        deals = deals.reset_index(drop=True)
        owner = classes.manager.astype(str).reindex(deals.client_id.astype(str)).to_numpy()
        deals = deals.assign(owner=pd.Series(owner, index=deals.index).fillna(deals.manager.astype(str)))
    else:
        deals = None
    sleepers = sg.reactivation_list(cube, classes, s1.max_months_asleep)
    ws = (st.whitespace(cube, 12, s3.whitespace_min) if cube.profile.has_category
          else pd.DataFrame(columns=["manager", "client_id"]))
    active = classes[classes.active_months > 0]
    managers = sorted(m for m in active.manager.dropna().astype(str).unique())
    backtest = reactivation_backtest(cube, s1.rules, s1.max_months_asleep)
    reactivation = expected_reactivation_by(cube, sleepers.assign(manager=sleepers.manager.astype(str)),
                                            backtest=backtest, keys=managers)
    whitespace: dict[str, dict[str, Any]] = {}
    if len(ws):
        ws_backtest = whitespace_backtest(cube, min_lift=s3.whitespace_min)
        ws_others = whitespace_others(cube, ws_backtest)  # the list against chance, once for every pack
        whitespace = expected_whitespace_by(cube, ws.assign(manager=ws.manager.astype(str)), backtest=ws_backtest,
                                            others=ws_others)
    return Company(classes=classes, sleepers=sleepers, risk=atrisk.at_risk(cube, s1.rules, classes=classes),
                   ws=ws, deals=deals,
                   profiles=st.manager_profiles(cube, hunter=s3.rules.hunter_share, farmer=s3.rules.farmer_share),
                   # clients with no stable manager (by the run's rule): no hunter / account-manager profile
                   unstable=unstable_assignment(cube, lang, rules=s3.rules.assignment),
                   managers=managers, reactivation=reactivation, whitespace=whitespace)


@dataclass
class _Cut:
    """A company view cut by manager: its cells (for Excel) and its rows as formatted ``<tr>`` (for the
    page), each cell read and formatted once for every pack, and each manager's row positions."""

    cells: Any  # salesbook.views.export.Cells
    head: str
    rows: list[str]
    where: dict[str, np.ndarray]

    @classmethod
    def of(cls, view: pd.DataFrame, owner: Any, lang: str, page: bool = True) -> "_Cut":
        from salesbook.views.display import Book
        from salesbook.views.export import Cells
        head, rows = Book(lang).table_parts(view) if page else ("", [])
        return cls(Cells.of(view), head, rows, _positions(owner))

    def count(self, manager: str) -> int:
        return len(self.where.get(manager, _NONE))

    def frame(self, manager: str) -> Any:
        """His rows' cells, for his workbook."""
        return self.cells.take(self.where.get(manager, _NONE))

    def html(self, manager: str, lang: str) -> str:
        from salesbook.views.tables import plain_table
        rows = self.where.get(manager, _NONE)
        if not len(rows):
            return f"<p>{html.escape(t('dt.emptyTable', lang))}</p>"
        return plain_table(self.head, [self.rows[i] for i in rows])


def _table(df: pd.DataFrame | None, lang: str) -> str:
    """A table of its own (one manager's, not cut from the company's)."""
    from salesbook.views.display import Book
    from salesbook.views.tables import plain_table
    if df is None or not len(df):
        return f"<p>{html.escape(t('dt.emptyTable', lang))}</p>"
    return plain_table(*Book(lang).table_parts(df))


def write_packs(cube: Cube, folder: Path, lang: str = "en", pipeline: str = "", source: str = "",
                settings: Any = None, plan: str = "", company: Company | None = None) -> list[dict[str, Any]]:
    """Write every manager's pack under ``folder/managers/``; return the scorecard (one row per manager).
    ``pipeline``, ``source``: the run's (its pipeline's deals go to their managers' packs; none without one).
    ``settings``: the run's (:class:`salesbook.analysis.settings.Settings`), as the workbooks computed with.
    ``plan``: the run's plan file (a manager it names gets his pace; nothing about plans without one).
    ``company``: :func:`company_lists` of the same cube, language, pipeline and settings, when already made."""
    from salesbook.analysis import atrisk
    from salesbook.analysis import segments as sg
    from salesbook.analysis import walk as wk
    from salesbook.analysis.calibration import reactivation_sentence, whitespace_sentence
    from salesbook.analysis.settings import Settings
    from salesbook.formats import escape_html, fact
    from salesbook.run.summary import _CSS
    from salesbook.run.walk_summary import pack_context, pack_html
    from salesbook.views.display import fmt_int, fmt_money
    from salesbook.views.export import call_columns, to_excel
    from salesbook.views.forecast_views import flags_table
    from salesbook.views.pages import PAGE_CSS
    from salesbook.views.segment_views import category_table, portfolio_view
    from salesbook.views.stagnation_views import whitespace_view

    if not cube.profile.has_manager:
        return []
    settings = settings or Settings()
    s1 = settings.segmentation
    co = company or company_lists(cube, lang, pipeline, source, settings)
    classes, risk, profiles = co.classes, co.risk, co.profiles
    team_new = float(profiles.clients_new.median()) if len(profiles) else 0.0
    pace, by_manager = pack_context(cube, plan, lang, settings.forecast.pace)  # issue 28: pace and walk
    walk = wk.revenue_walk(cube) if by_manager is not None else None
    mcol = t("col.manager", lang)

    # the company's views, each formatted once and cut by manager
    owner = classes.manager.astype(str)
    portfolio = portfolio_view(classes, lang, s1.rules.window_months)  # each client's revenue of the window to as_of
    portfolio_cut = _Cut.of(portfolio, portfolio[mcol], lang, page=False)  # in his workbook only
    cats = sg.category_summary(classes.assign(manager=owner), by="manager")
    cat_view = category_table(cats[cats.clients > 0], lang)
    cats_cut = _Cut.of(cat_view.drop(columns=["manager"]), cat_view["manager"], lang)
    sleep_cut = _Cut.of(sg.reactivation_view(co.sleepers, lang).drop(columns=[mcol]), co.sleepers.manager, lang)
    ws_cut = _Cut.of(whitespace_view(co.ws, lang).drop(columns=[mcol], errors="ignore"), co.ws.manager, lang)
    risk_list = risk["list"]
    risk_view = atrisk.at_risk_view(risk_list, lang)
    risk_cut = _Cut.of(risk_view.drop(columns=[mcol]), risk_list.manager, lang)
    # at_risk_view leaves out the model's columns where they are all empty: in a manager's share too
    model_cols = [c for c in ("p_buy", "expected_orders", "expected_revenue") if c in risk_list]
    empty = (risk_list[model_cols].isna().groupby(risk_list.manager.astype(str).to_numpy()).all()
             .reindex(columns=model_cols))
    shown = [c for c in model_cols if not risk_list[c].isna().all()]
    risk_own = set(empty.index[empty[shown].any(axis=1)]) if shown and len(empty) else set()
    money = {t("seg.col.yearly_revenue", lang), t("stag.col.potential", lang), *risk_view.attrs.get("money", []),
             *portfolio.attrs["money"]}
    shares = {t("stag.col.score", lang), *risk_view.attrs.get("shares", [])}
    deals_cut = None
    if co.deals is not None:
        flags = flags_table(co.deals, lang)
        deals_cut = _Cut.of(flags.drop(columns=[mcol], errors="ignore"), co.deals.owner.reindex(flags.index), lang)
        deals_count = co.deals.groupby("owner").size()
        live = co.deals[co.deals.target & ~co.deals.stale]
        weighted = {str(m): float(w.sum()) for m, w in live.groupby("owner").weighted}
    active = (classes.active_months > 0).to_numpy()
    revenue_of = classes.revenue
    where = _positions(owner)
    ws_clients = co.ws.groupby(co.ws.manager.astype(str)).client_id.nunique() if len(co.ws) else pd.Series(dtype=int)
    call = call_columns(lang)
    titles = {t("xl.sheet.reactivation", lang): t(Section.REACTIVATION, lang),
              t("xl.sheet.whitespace", lang): t(Section.WHITESPACE, lang)}
    e = escape_html  # his figures carry their names, scoped to him (formats.fact)
    css = _CSS + PAGE_CSS
    taken: set[str] = set()
    rows = []
    root = Path(folder) / FOLDER
    for m in co.managers:
        mine = where.get(m, _NONE)
        prof = profiles.loc[m] if m in profiles.index else None
        name = folder_name(m, taken)
        out = root / name
        out.mkdir(parents=True, exist_ok=True)
        revenue = float(revenue_of.iloc[mine].sum())
        new = int(prof.clients_new) if prof is not None else 0
        n_risk = risk_cut.count(m)
        with_risk = not risk["unknown"] and n_risk > 0
        if m in risk_own:  # his share leaves out a model column the company's list shows
            his_risk = atrisk.at_risk_view(risk_list[risk_list.manager.astype(str).to_numpy() == m], lang)
            his_risk = his_risk.drop(columns=[mcol])
            risk_table = _table(his_risk, lang)
        else:
            his_risk = risk_cut.frame(m)
            risk_table = risk_cut.html(m, lang)
        n_ws = ws_cut.count(m)
        sheets = {t("xl.sheet.reactivation", lang): sleep_cut.frame(m)}
        if with_risk:
            sheets[t("risk.sheet", lang)] = his_risk
        if n_ws:
            sheets[t("xl.sheet.whitespace", lang)] = ws_cut.frame(m)
        to_excel(sheets, out / RunFile.PACK_CLIENTS, portfolio_cut.frame(m), t("mgr.portfolio", lang), money,
                 shares=shares, call_columns=call, lang=lang, titles=titles)
        profile_text = t(f"mgr.profile.{prof.profile}", lang) if prof is not None else "–"
        n_active = int(active[mine].sum())
        facts = [t("mgr.fact.clients", lang, n=fact("clients.active", fmt_int(n_active, lang), n_active, m),
                   as_of=cube.as_of.date()),
                 t("mgr.fact.revenue", lang, revenue=fact("turnover.12m", fmt_money(revenue, lang), revenue, m),
                   as_of=cube.as_of.date()),
                 t("mgr.fact.new", lang, n=fmt_int(new, lang), median=fmt_int(round(team_new), lang)),
                 t("mgr.fact.profile", lang, profile=profile_text)]
        if co.unstable:  # who won a client and how a manager works say nothing when clients have no manager
            facts = facts[:2] + [co.unstable]
        deals_html = ""
        if deals_cut is not None:
            said = t("mgr.pipeline", lang, n=fmt_int(int(deals_count.get(m, 0)), lang),
                     weighted=fmt_money(weighted.get(m, 0.0), lang))
            deals_html = f"<h2>{e(t('fc.pipeline', lang))}</h2><p>{e(said)}</p>" + deals_cut.html(m, lang)
        if n_ws:
            ws_html = f"<p>{e(whitespace_sentence(co.whitespace[m], lang))}</p>{ws_cut.html(m, lang)}"
        else:
            ws_html = f"<p>{e(cube.profile.lacks('category', lang) or t('stag.no_whitespace', lang))}</p>"
        page = f"""<!DOCTYPE html>
<html lang="{e(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(t("mgr.title", lang, manager=m))}</title><style>{css}</style></head>
<body><h1>{e(t("mgr.title", lang, manager=m))}</h1>
<p class="meta">{e(t("mgr.intro", lang, as_of=cube.as_of.date()))}</p>
<ul>{"".join(f"<li>{e(x)}</li>" for x in facts)}</ul>
<h2>{e(t(Section.CATEGORIES, lang))}</h2>{cats_cut.html(m, lang)}
<h2>{e(t(Section.REACTIVATION, lang))}</h2><p>{e(reactivation_sentence(co.reactivation[m], lang))}</p>{sleep_cut.html(m, lang)}
<h2>{e(t(Section.AT_RISK, lang))}</h2><p>{e(atrisk.at_risk_sentence(risk, lang, clients=n_risk))}</p>{risk_table if with_risk else ""}
<h2>{e(t(Section.WHITESPACE, lang))}</h2>{ws_html}
{pack_html(cube, m, lang, pace, by_manager, walk)}
{deals_html}
<p class="meta"><a href="{RunFile.PACK_CLIENTS}">{RunFile.PACK_CLIENTS}</a></p></body></html>
"""
        (out / RunFile.INDEX).write_text(page, encoding="utf-8")
        rows.append({"manager": m, "folder": f"{FOLDER}/{name}/{RunFile.INDEX}", "clients": n_active,
                     "revenue": revenue, "new": new, "profile": prof.profile if prof is not None and not co.unstable else "",
                     "sleeping": sleep_cut.count(m), "at_risk": n_risk, "whitespace": int(ws_clients.get(m, 0))})
    return rows
