"""The executive summary of a run: key figures, what changed since the previous run, the index page.

``summarise`` reads the cube once more (cheap: aggregates only) and returns the
figures a director looks at first; ``what_changed`` compares two runs' figures
and category snapshots; ``index_page`` writes the self-contained page.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pandas as pd

from salesbook.cube import Cube
from salesbook.views.display import DEFAULT_CURRENCY, fmt_int, fmt_money, fmt_pct, money_header
from salesbook.formats import Lang, escape_html, fact
from salesbook.i18n import month_labels, t
from salesbook.paths import Export, RunFile, Section, source_name

__all__ = ["summarise", "early_warnings", "what_changed", "previous_run", "index_page", "SUMMARY_FILE", "CATEGORIES_FILE"]

SUMMARY_FILE = RunFile.SUMMARY
CATEGORIES_FILE = RunFile.CATEGORIES


def summarise(cube: Cube, lang: str = "en", top: int = 10, pipeline: Any = None,
              plan: Any = None, horizon: int | None = None, settings: Any = None) -> tuple[dict[str, Any], pd.DataFrame]:
    """Key figures of a run and the per-client category snapshot.

    Returns (figures, categories): figures is JSON-ready (turnover of the last
    12 months and, when the data cover them, the 12 before; the stagnation verdict or why there is
    none yet; clients; the top reactivation and cross-sell opportunities with their money and how
    much they overlap; what the data can tell); categories has one row per client: ``client_id``,
    ``category``, ``revenue`` (last 12 months). ``pipeline``: the run's own pipeline file, or none
    (``"sample"`` only with the sample source). ``settings``: the run's
    (:class:`salesbook.analysis.settings.Settings`), the same the workbooks computed with, so that each
    figure here is the workbook's (the per-cube memo gives the same result back); default: the defaults.
    ``horizon``: months of the forecast card, default the forecast's ``horizon_months``. ``lang``: the
    report's language, with the currency of its amounts (a :class:`~salesbook.formats.Lang`; a bare code:
    :func:`~salesbook.formats.lang_currency`'s).
    """
    from salesbook.analysis import segments as sg
    from salesbook.analysis import stagnation as st
    from salesbook.analysis.settings import Settings
    from salesbook.views.overview import window_totals

    lang = Lang(lang)
    settings = settings or Settings()
    s1, s3 = settings.segmentation, settings.stagnation
    horizon = horizon or settings.forecast.horizon_months
    prof = cube.profile
    last12, prev12 = window_totals(cube, 12)
    from salesbook.analysis.advice import advise, apply_advice
    advice = advise(cube, settings)  # the remedies' simulated effects, as workbook 03's memo shows them
    from salesbook.cube.memo import leaving_out_shared
    with leaving_out_shared():  # its verdict and symptoms: the walk it holds is read by walk_figures, if at all
        diagnosis = apply_advice(st.diagnose(cube, s3.rules), advice)
    flat = diagnosis["flatness"]
    seg = sg.segment(cube, cube.as_of, s1.rules, lang, s1.xyz_x, s1.xyz_y, s1.abc_measure, s1.rfm_window_months)
    classes = seg.classes
    sleepers = sg.reactivation_list(cube, classes, s1.max_months_asleep).sort_values("yearly_revenue", ascending=False)
    ws = st.whitespace(cube, 12, s3.whitespace_min)
    ws = ws.assign(expected=ws.score * ws.potential).sort_values("expected", ascending=False)
    present = [sym for sym in diagnosis["symptoms"] if sym.present]
    # the verdict (the first symptom) is the headline; what else cannot be told is listed once each
    unknown = list(dict.fromkeys(sym.text(lang) for sym in diagnosis["symptoms"][1:] if sym.unknown))
    monthly = cube.monthly()
    both = set(sleepers.client_id.astype(str)) & set(ws.client_id.astype(str))
    figures = {
        "as_of": cube.report.as_of, "source": cube.report.source, "lang": lang, "currency": lang.currency,
        "guessed": list(getattr(cube.report, "guessed", []) or []),
        "profile": prof.to_dict(), "can_tell": prof.sentences(lang, claims=False),
        "verdict_text": st.headline(diagnosis, lang, s3.rules),
        "findings": [{"key": sym.key, "severity": sym.severity, "text": sym.text(lang), "remedy": sym.remedy(lang)} for sym in present],
        "cannot_tell": unknown,
        "monthly": {"month": [str(m.date()) for m in monthly.month], "revenue": [round(float(v), 2) for v in monthly.revenue]},
        "turnover_12m": round(last12, 2), "turnover_prev_12m": None if prev12 is None else round(prev12, 2),
        "turnover_change": (last12 / prev12 - 1) if prev12 else None,
        "verdict": diagnosis["verdict"], "trend_per_year": _number(flat["slope_per_year"]),
        "trend_low": _number(flat["low"]), "trend_high": _number(flat["high"]), "causes": diagnosis["causes"],
        "clients_active_12m": int((classes.active_months > 0).sum()),
        "categories": classes.category.value_counts().to_dict(),
        "reactivation": {"clients": int(len(sleepers)), "yearly_revenue": round(float(sleepers.yearly_revenue.sum()), 2),
                         "sleeping": int((classes.category == "sleeping").sum()), "max_months_asleep": s1.max_months_asleep,
                         "top": sleepers.head(top)[["client_id", "client_name", "manager", "yearly_revenue"]]
                         .astype({"client_id": str, "manager": str}).to_dict("records")},
        "crosssell": {"suggestions": int(len(ws)), "clients": int(ws.client_id.nunique()),
                      "potential": round(float(ws.potential.sum()), 2),
                      "expected": round(float(ws.expected.sum()), 2),
                      "top": ws.head(top)[["client_id", "client_name", "manager", "category", "potential"]]
                      .to_dict("records")},
        "overlap_clients": len(both),
    }
    from salesbook.analysis.calibration import expected_reactivation, reactivation_sentence
    figures["reactivation"]["calibrated_text"] = reactivation_sentence(advice["reactivation"], lang)
    if prof.has_category:
        from salesbook.analysis.calibration import expected_whitespace, whitespace_sentence
        figures["crosssell"]["calibrated_text"] = whitespace_sentence(advice["whitespace"], lang)
    from salesbook.analysis.vip import vip_sector, vip_sentence
    sector = vip_sector(cube, classes, s1.rules.abc_a)
    figures["vip"] = {"largest": int(len(sector["largest"])), "offended": int(len(sector["offended"])),
                      "text": vip_sentence(sector, cube, lang)}
    from salesbook.analysis.forecast import pipeline_for
    pipeline = pipeline_for(pipeline or "", cube.report.source)  # the sample's own pipeline with the sample only
    figures["forecast"] = _forecast_figures(cube, classes, pipeline, plan, horizon, settings.forecast)
    from salesbook.run.walk_summary import pace_figures, walk_figures  # issue 28: the walk and the plan's pace
    figures["walk"] = walk_figures(cube, lang, s3.walk)
    figures["pace"] = pace_figures(cube, plan, lang, settings.forecast.pace)
    figures.update(early_warnings(cube, classes, lang, rules=s1.rules))
    categories = classes.reset_index()[["client_id", "category", "revenue"]].astype({"client_id": str})
    return figures, categories


def early_warnings(cube: Cube, classes: pd.DataFrame, lang: str = "en", top: int = 10,
                   rules: "Any | None" = None) -> dict[str, Any]:
    """The run's early warnings (issue 29), JSON-ready: ``at_risk`` (how many clients are slipping away,
    the ranking used and its backtested precision, the sentence, the riskiest ``top``) and ``alerts`` (the
    last full month's alerts with the rule's replayed false-alarm rate, for the scheduler)."""
    from salesbook.analysis import alerts as al
    from salesbook.analysis import atrisk as ar
    from salesbook.analysis.segments import Rules
    risk = ar.at_risk(cube, rules or Rules(), classes=classes)
    comp = risk["comparison"]
    best = comp["methods"].get(risk["method"] or "", {})
    at_risk = {"clients": int(len(risk["list"])), "pool": risk["pool"], "method": risk["method"],
               "precision": best.get("precision"), "precision_low": best.get("precision_low"),
               "precision_high": best.get("precision_high"), "auc": best.get("auc"), "origins": comp["origins"],
               "unknown": risk["unknown"], "text": ar.at_risk_sentence(risk, lang),
               "top": risk["list"].sort_values("p_buy" if risk["method"] == "model" else "rank").head(top)
               [["client_id", "client_name", "manager", "category", "revenue"]]
               .astype({"client_id": str, "manager": str}).to_dict("records") if len(risk["list"]) else []}
    res = al.alerts(cube)
    alerts = al.alerts_json(res, cube)
    alerts["text"] = al.alert_sentences(res, lang, cube)
    return {"at_risk": at_risk, "alerts": alerts}


def _warnings_html(f: dict[str, Any], lang: str, href: Any, xlsx: Any) -> str:
    """The summary's early-warnings section: the at-risk sentence, then the alerts' sentences."""
    e = html.escape
    risk, alerts = f.get("at_risk"), f.get("alerts")
    if not risk and not alerts:
        return ""
    title = e(t(Section.AT_RISK, lang))
    if href("at_risk"):
        title = f'<a href="{e(href("at_risk"), quote=True)}">{title}</a>'
    files = f'<a class="xlsx" href="{e(xlsx("at_risk"), quote=True)}">{Export.AT_RISK.xlsx}</a>' if xlsx("at_risk") else ""
    out = f'<h2 id="{Section.AT_RISK.anchor}">{title}</h2><p>{e(risk["text"])} {files}</p>' if risk else ""
    if alerts:
        items = alerts.get("text", [])
        head = e(t(Section.ALERTS, lang))
        if href("alerts"):
            head = f'<a href="{e(href("alerts"), quote=True)}">{head}</a>'
        out += (f'<h2 id="{Section.ALERTS.anchor}">{head}</h2>'
                + (f"<p>{e(items[0])}</p>" if items else "")
                + (f'<ul>{"".join(f"<li>{e(x)}</li>" for x in items[1:])}</ul>' if len(items) > 1 else ""))
    return out


def _number(v: Any) -> float | None:
    """A float for JSON; ``None`` for a figure the data could not give (NaN)."""
    return None if v is None or pd.isna(v) else float(v)


def _forecast_figures(cube: Cube, classes: pd.DataFrame, pipeline: Any, plan: Any, horizon: int,
                      fs: Any = None) -> dict[str, Any] | None:
    """Weighted pipeline of target clients and the history baseline for the next ``horizon`` months.

    ``None`` without a pipeline: the run's own inputs or none, never another company's. ``fs``: the run's
    forecast settings (stage probabilities, the spontaneous rule), as workbook 04 reads them."""
    from salesbook.analysis import forecast as fc
    from salesbook.analysis.settings import Forecast
    if not pipeline:
        return None
    fs = fs or Forecast()
    deals = fc.run_deals(pipeline, cube.report.source, classes, cube.as_of, fs.probabilities, fs.spontaneous)
    if deals is None:
        return None
    months = pd.date_range(cube.as_of.to_period("M").to_timestamp() + pd.offsets.MonthBegin(1), periods=horizon,
                           freq="MS")
    live = deals[deals.target & ~deals.stale & deals.month.isin(months)]
    base = fc.baseline(cube, horizon)
    out = {"months": [str(m.date()) for m in months], "weighted": round(float(live.weighted.sum()), 2),
           "deals": int(len(live)), "baseline": None if base is None else round(float(base.sum()), 2),
           "stale_deals": int(deals.stale.sum()), "outside_target": int((~deals.target).sum()), "plan": None}
    if plan:
        p = fc.load_plan(plan).reindex(months)
        out["plan"] = round(float(p.sum()), 2) if p.notna().any() else None
    return out


def previous_run(out: Path, exclude: str) -> Path | None:
    """The newest earlier run in ``out`` with a summary (by its finishing time)."""
    runs = []
    for folder in out.iterdir() if out.exists() else []:
        info = folder / RunFile.RUN_INFO
        if folder.is_dir() and not folder.name.startswith(".") and folder.name != exclude and (folder / SUMMARY_FILE).exists() \
                and info.exists() and not folder.is_symlink():
            try:
                runs.append((json.loads(info.read_text(encoding="utf-8")).get("finished", ""), folder))
            except (OSError, ValueError):
                continue
    return max(runs)[1] if runs else None


def what_changed(prev: dict[str, Any], cur: dict[str, Any], prev_cats: pd.DataFrame,
                 cur_cats: pd.DataFrame) -> dict[str, Any]:
    """Differences between two runs: turnover, clients that fell asleep, came back or changed category.

    A client *fell asleep* when it is Sleeping now and was not before; it *came
    back* when it was Sleeping before and is not now, or is Reactivated now and
    was not before; *changed* counts every client whose category differs
    (clients new to the data count as changed from "absent").
    """
    was = prev_cats.set_index("client_id").category
    cur_idx = cur_cats.set_index("client_id")
    is_now = cur_idx.category
    before = was.reindex(is_now.index).fillna("absent")
    fell = is_now[(is_now == "sleeping") & (before != "sleeping")]
    back = is_now[((before == "sleeping") & (is_now != "sleeping")) | ((is_now == "reactivated") & (before != "reactivated"))]
    changed = is_now[is_now != before]
    from salesbook.analysis.segments import Move
    moves: dict[Move, int] = {}
    for a, b in zip(before[changed.index], changed):
        moves[Move(a, b)] = moves.get(Move(a, b), 0) + 1
    turnover = None
    if prev.get("turnover_12m") is not None and cur.get("turnover_12m") is not None:
        turnover = round(cur["turnover_12m"] - prev["turnover_12m"], 2)
    return {
        "previous_as_of": prev.get("as_of"), "as_of": cur.get("as_of"),
        "turnover_12m_change": turnover,
        "turnover_12m_change_share": (turnover / prev["turnover_12m"]) if turnover is not None and prev["turnover_12m"] else None,
        "fell_asleep": sorted(fell.index.astype(str)), "came_back": sorted(back.index.astype(str)),
        "changed": int(len(changed)), "moves": dict(sorted(moves.items(), key=lambda kv: -kv[1])),
        "gone_from_data": sorted(set(was.index.astype(str)) - set(is_now.index.astype(str))),
    }


_CSS = """
body{font-family:Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:0 auto 1.5rem;padding:0 1.2rem;color:#222}
h1{font-size:1.7rem;margin-bottom:.2rem} h2{font-size:1.25rem;margin-top:1.8rem;border-bottom:1px solid #ddd}
.meta{color:#666;font-size:.9rem} .cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.card{flex:1 1 180px;border:1px solid #ddd;border-radius:6px;padding:.7rem .9rem;color:inherit;text-decoration:none;display:block}
a.card:hover{border-color:#1f4e79} .card .v{font-size:1.35rem;font-weight:600} .card .l{color:#555;font-size:.85rem}
.verdict{font-size:1.1rem;font-weight:600;margin:.6rem 0} ul.findings li{margin:.35rem 0}
.verdict a,.findings a{color:inherit}
table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0} td,th{padding:4px 10px;border-bottom:1px solid #e3e3e3;text-align:left}
td.n{text-align:right} .strong{color:#c00000;font-weight:600} .mild{color:#bf9000;font-weight:600}
a.xlsx{font-size:.85rem;margin-left:.3rem}
@media (max-width:600px){.card{flex:1 1 100%}}
"""

def _finding_sections() -> dict[str, Section]:
    from salesbook.analysis.stagnation import Finding
    return {Finding.FLAT: Section.FLAT, Finding.ACQUISITION: Section.ACQUISITION, Finding.CAPACITY: Section.PROFILES,
            Finding.CROSSSELL: Section.CROSSSELL, Finding.EXISTING: Section.BRIDGE,
            Finding.CONCENTRATION: Section.CONCENTRATION, Finding.PRODUCTIVITY: Section.CONCENTRATION,
            Finding.NO_HUNTERS: Section.PROFILES}


#: the workbook section that explains each finding of the diagnosis (:class:`~salesbook.analysis.stagnation.Finding`)
FINDING_SECTION: dict[str, Section] = _finding_sections()
#: where each figure of the summary is explained: a workbook's section
SECTION_OF: dict[str, Section] = {
    "turnover": Section.MONTHLY, "clients": Section.KPIS, "forecast": Section.FORECAST_BY_MONTH, "verdict": Section.MEMO,
    "sleeping": Section.REACTIVATION, "whitespace": Section.WHITESPACE, "moves": Section.MIGRATION,
    "fell": Section.MOVES_TO_SLEEP, "back": Section.MIGRATION, "profile": Section.PROFILE, "vip": Section.VIP,
    "walk": Section.WALK, "at_risk": Section.AT_RISK, "alerts": Section.ALERTS}
#: the Excel file behind each list (in the run's exports folder)
FILE_OF: dict[str, Export] = {"vip": Export.VIP, "sleeping": Export.REACTIVATION, "whitespace": Export.WHITESPACE,
                              "moves": Export.MIGRATION, "fell": Export.MIGRATION, "back": Export.MIGRATION,
                              "at_risk": Export.AT_RISK}


def _linker(pages: set[str], files: set[str]):
    """``href(what)``: the page and section explaining ``what`` (or the ``section`` given), or None when that
    workbook was not run; ``xlsx(what)``: its Excel file in ``exports/``, or None."""

    def href(what: str, section: Section | None = None) -> str | None:
        target = section or SECTION_OF.get(what)
        return target.href if target is not None and target.workbook is not None and target.workbook.page in pages \
            else None

    def xlsx(what: str) -> str | None:
        export = FILE_OF.get(what)
        return f"{RunFile.EXPORTS}/{export.xlsx}" if export is not None and export.xlsx in files else None
    return href, xlsx


def _linked_text(key: str, lang: str, values: dict[str, str], links: dict[str, str | None]) -> str:
    """A catalogue sentence as HTML, escaped, its values named in ``links`` turned into links."""
    marks = {k: f"\uE000{i}\uE001" for i, k in enumerate(values)}
    text = html.escape(t(key, lang, **marks))
    for k, mark in marks.items():
        value = escape_html(values[k])
        href = links.get(k)
        text = text.replace(mark, f'<a href="{html.escape(href, quote=True)}">{value}</a>' if href else value)
    return text


#: up to this many managers the summary lists them all in one plain table; beyond, the top and bottom
#: :data:`SCORECARD_ENDS` by revenue, then every manager in a table that sorts and searches
SCORECARD_ALL = 25
SCORECARD_ENDS = 10


def _scorecard(rows: list[dict[str, Any]] | None, lang: str, as_of: str = "") -> str:
    """One row per manager, each linking to his pack (``--per-manager``). A team of up to
    :data:`SCORECARD_ALL` in one table; a larger one (a thousand managers) first shows the
    :data:`SCORECARD_ENDS` with the highest and the lowest revenue of the 12 months to ``as_of``, then every
    manager in a table that sorts by any column and searches by name (DataTables, the run's ``sb-tables.js``)."""
    from salesbook.views.tables import ASSET
    if not rows:
        return ""
    e = html.escape
    # no column of clients with whitespace: nearly every active client has one, so it repeated the client count
    heads = [t("col.manager", lang), t("seg.col.clients", lang), money_header(t("kpi.revenue_12m", lang), lang),
             t("sum.col.new", lang), t("sum.col.profile", lang), t("sum.col.sleeping", lang),
             t("sum.col.pack", lang)]
    link = e(t("sum.pack", lang))

    def row(r: dict[str, Any], order: bool = False) -> str:
        def n(text: str, value: float) -> str:  # a number cell; in the sortable table with its raw value
            key = f' data-order="{int(value) if float(value).is_integer() else float(value)!r}"' if order else ""
            return f'<td class="n"{key}>{e(text)}</td>'
        return (f"<tr><td>{e(r['manager'])}</td>{n(fmt_int(r['clients'], lang), r['clients'])}"
                f"{n(fmt_money(r['revenue'], lang, currency=False), r['revenue'])}{n(fmt_int(r['new'], lang), r['new'])}"
                f"<td>{e(t('mgr.profile.' + r['profile'], lang).split(' (')[0]) if r['profile'] else '–'}</td>"
                f"{n(fmt_int(r['sleeping'], lang), r['sleeping'])}"
                f"<td><a href=\"{e(r['folder'], quote=True)}\">{link}</a></td></tr>")

    def table(some: list[dict[str, Any]]) -> str:
        head = "".join(f"<th>{e(h)}</th>" for h in heads)
        return (f'<div class="sb-scroll"><table><thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(row(r) for r in some)}</tbody></table></div>')
    title = f'<h2 id="{Section.SCORECARD.anchor}">{e(t(Section.SCORECARD, lang))}</h2>'
    if len(rows) <= SCORECARD_ALL:
        return title + table(rows)
    ranked = sorted(rows, key=lambda r: (-r["revenue"], str(r["manager"])))
    k, total = SCORECARD_ENDS, fmt_int(len(rows), lang)
    head = "".join(f'<th class="sb-text">{e(h)}</th>' if j in (0, 4, 6) else f"<th>{e(h)}</th>"
                   for j, h in enumerate(heads))
    every = (f'<div class="sb-scroll"><table class="sb-table display compact" data-sb-interactive="1" '
             f'data-sb-lang="{e(lang, quote=True)}"><thead><tr>{head}</tr></thead>'
             f'<tbody>{"".join(row(r, order=True) for r in rows)}</tbody></table></div>')
    return (title + f"<p>{e(t('sum.scorecard_top', lang, n=k, total=total, as_of=as_of))}</p>" + table(ranked[:k])
            + f"<p>{e(t('sum.scorecard_bottom', lang, n=k, total=total, as_of=as_of))}</p>"
            + table(ranked[::-1][:k])
            + f"<p>{e(t('sum.scorecard_all', lang, total=total))}</p>"
            + f'<script src="{e(ASSET, quote=True)}"></script>' + every)


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str, bool]], lang: str) -> str:
    e = html.escape
    head = "".join(f"<th>{e(money_header(label, lang) if money else label)}</th>" for _, label, money in columns)
    body = []
    for r in rows:
        cells = []
        for key, _, money in columns:
            v = r.get(key)
            if v is None or (isinstance(v, float) and pd.isna(v)):
                cells.append("<td>–</td>")
            else:
                cells.append(f'<td class="n">{e(fmt_money(v, lang, currency=False))}</td>' if money else f"<td>{e(str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _guessed(f: dict[str, Any], lang: str) -> str:
    """The sentence saying that the mapping was guessed, with a link to it (``--mapping auto``)."""
    if not f.get("guessed"):
        return ""
    text = html.escape(t("readers.guessed", lang, columns=", ".join(f["guessed"]), where=RunFile.MAPPING))
    link = f'<a href="{RunFile.MAPPING}">{RunFile.MAPPING}</a>'
    return '<p class="meta guessed">' + text.replace(RunFile.MAPPING, link, 1) + "</p>"


def index_page(run_name: str, entries: list[tuple[str, str]], figures: dict[str, Any],
               changes: dict[str, Any] | None, lang: str = "en", generated: str = "", version: str = "",
               plotly: str = RunFile.PLOTLY, files: list[str] | None = None,
               nav: list[tuple[str, str]] | None = None, scorecard: list[dict[str, Any]] | None = None) -> str:
    """The run's index.html: executive summary, what changed, links to every workbook. Offline, printable.

    ``plotly``: the file beside the page that holds plotly.js (the run's one copy, runner.write_plotly).
    ``entries``: (title, file) of the workbooks that ran; ``files``: the Excel files in ``exports/``, which
    the counts of clients link to; ``nav``: the bar's pages (default ``entries``)."""
    lang = Lang(lang, figures.get("currency") or DEFAULT_CURRENCY)  # the amounts' currency is the summary's
    page = _index_page(run_name, entries, figures, changes, lang, generated, version, plotly,
                       set(files or []), nav if nav is not None else entries, scorecard)
    return _defined(page, lang)


def _defined(page: str, lang: str) -> str:
    """Each named figure of ``page`` with its glossary definition as its tooltip."""
    import re

    from salesbook.views.glossary import GLOSSARY

    def title(m: re.Match) -> str:
        name = m.group(1)
        if name not in GLOSSARY:
            return m.group(0)
        return f'{m.group(0)} title="{html.escape(t(f"gloss.{name}", lang) + ": " + t(f"gloss.{name}.def", lang))}"'
    return re.sub(r'<span data-fact="([^"]+)"[^>]*', title, page)


def _index_page(run_name: str, entries: list[tuple[str, str]], figures: dict[str, Any],
                changes: dict[str, Any] | None, lang: str, generated: str, version: str, plotly: str,
                files: set[str], nav: list[tuple[str, str]], scorecard: list[dict[str, Any]] | None = None) -> str:
    import plotly.graph_objects as go

    from salesbook.views.display import localise, money_axis, month_ticks, with_template
    from salesbook.views.pages import PAGE_CSS, PRINT_JS, SUMMARY_PAGE, nav_html

    e = escape_html  # named figures (formats.fact) become their spans; everything else inert
    f = figures
    href, xlsx = _linker({page for _, page in entries}, files)

    def card(label: str, value: str, what: str) -> str:
        target = href(what)
        inner = f'<div class="v">{e(value)}</div><div class="l">{e(label)}</div>'
        return f'<a class="card" href="{e(target, quote=True)}">{inner}</a>' if target else f'<div class="card">{inner}</div>'

    as_of = f["as_of"]  # every card names its period
    cards = [
        card(t("sum.card.revenue", lang, as_of=as_of),
             fact("turnover.12m", fmt_money(f["turnover_12m"], lang), f["turnover_12m"]), "turnover"),
        card(t("sum.card.change", lang, as_of=as_of),
             fact("turnover.change", fmt_pct(f["turnover_change"], lang, signed=True), f["turnover_change"])
             if f["turnover_change"] is not None else t("sum.no_change", lang), "turnover"),
        card(t("sum.card.clients", lang, as_of=as_of),
             fact("clients.active", fmt_int(f["clients_active_12m"], lang), f["clients_active_12m"]), "clients"),
    ]
    fcst = f.get("forecast")
    if fcst:
        n = len(fcst["months"])
        cards.append(card(t("sum.card.forecast", lang, n=n, as_of=as_of),
                          fact("forecast.weighted", fmt_money(fcst["weighted"], lang), fcst["weighted"]), "forecast"))
        if fcst.get("baseline") is not None:
            cards.append(card(t("sum.card.baseline", lang, n=n, as_of=as_of),
                              fact("forecast.baseline", fmt_money(fcst["baseline"], lang), fcst["baseline"]), "forecast"))
        if fcst.get("plan"):
            cards.append(card(t("sum.card.plan", lang, n=n, as_of=as_of), fmt_money(fcst["plan"], lang), "forecast"))
    from salesbook.run.walk_summary import walk_cards, walk_html
    cards += walk_cards(f, lang, card)
    r, c = f["reactivation"], f["crosssell"]

    def with_file(text: str, *whats: str) -> str:
        extra = "".join(f' <a class="xlsx" href="{e(x, quote=True)}">{e(x.rsplit("/", 1)[-1])}</a>'
                        for x in dict.fromkeys(filter(None, (xlsx(w) for w in whats))))
        return text + extra

    # two estimates of different actions on partly the same clients: in one sentence, never as a sum
    no_category = "category" not in f.get("profile", {}).get("columns", ["category"])
    if no_category:
        opportunities = _linked_text("sum.opportunities_no_category", lang,
                                     {"sleepers": fact("sleeping.listed", fmt_int(r["clients"], lang), r["clients"]),
                                      "bought": fact("sleeping.listed_bought", fmt_money(r["yearly_revenue"], lang),
                                                     r["yearly_revenue"]),
                                      "all": fact("sleeping.count", fmt_int(r.get("sleeping", r["clients"]), lang),
                                                  r.get("sleeping", r["clients"])),
                                      "months": str(r.get("max_months_asleep", 24))},
                                     {"sleepers": href("sleeping")})
        opportunities = with_file(opportunities, "sleeping")
    else:
        opportunities = _linked_text("sum.opportunities_text", lang, {
            "sleepers": fact("sleeping.listed", fmt_int(r["clients"], lang), r["clients"]),
            "bought": fact("sleeping.listed_bought", fmt_money(r["yearly_revenue"], lang), r["yearly_revenue"]),
            "all": fact("sleeping.count", fmt_int(r.get("sleeping", r["clients"]), lang), r.get("sleeping", r["clients"])),
            "months": str(r.get("max_months_asleep", 24)),
            "clients": fact("whitespace.clients", fmt_int(c.get("clients", 0), lang), c.get("clients", 0)),
            "potential": fact("whitespace.potential", fmt_money(c["potential"], lang), c["potential"]),
            "expected": fmt_money(c.get("expected", 0), lang), "overlap": fmt_int(f.get("overlap_clients", 0), lang)},
            {"sleepers": href("sleeping"), "clients": href("whitespace")})
        opportunities = with_file(opportunities, "sleeping", "whitespace")
    vip_html = ""
    if f.get("vip"):
        title = e(t(Section.VIP, lang))
        if href("vip"):
            title = f'<a href="{e(href("vip"), quote=True)}">{title}</a>'
        vip_html = f'<h2 id="{Section.VIP.anchor}">{title}</h2><p>{with_file(e(f["vip"]["text"]), "vip")}</p>'
    for calibrated in (r.get("calibrated_text"), c.get("calibrated_text")):  # expected values, or why not
        if calibrated:
            opportunities += f"</p><p>{e(calibrated)}"
    can_tell = "".join(f"<li>{e(x)}</li>" for x in f.get("can_tell", []))
    cannot = "".join(f"<li>{e(x)}</li>" for x in f.get("cannot_tell", []))

    def finding(x: dict[str, Any]) -> str:
        target = href("finding", FINDING_SECTION.get(x.get("key", ""), Section.MEMO))
        text = f'<a href="{e(target, quote=True)}">{e(x["text"])}</a>' if target else e(x["text"])
        return (f'<li><span class="{e(x["severity"])}">{e(t("sev." + x["severity"], lang))}</span> — {text} '
                f'<em>{e(t("memo.remedy", lang))}: {e(x["remedy"])}</em></li>')
    findings = "".join(finding(x) for x in f["findings"])
    verdict = e(f["verdict_text"])
    if href("verdict"):
        verdict = f'<a href="{e(href("verdict"), quote=True)}">{verdict}</a>'
    months = pd.to_datetime(f["monthly"]["month"])
    fig = go.Figure(go.Bar(x=months, y=f["monthly"]["revenue"], marker_color="#1f4e79", name=t("col.revenue", lang),
                           customdata=month_labels(months, lang),
                           hovertemplate="%{customdata}: %{y:,.0f}<extra></extra>"))
    month_ticks(fig, months, lang)
    with_template(fig).update_layout(title=t(Section.MONTHLY, lang), height=320, margin=dict(l=60, r=20, t=50, b=40),
                                     yaxis=dict(title=t("col.revenue", lang)))
    localise(money_axis(fig), lang)
    chart = fig.to_html(include_plotlyjs=False, full_html=False, config={"displaylogo": False, "responsive": True})
    react = _table(f["reactivation"]["top"], [("client_id", t("seg.col.client_id", lang), False),
                                              ("client_name", t("col.client", lang), False),
                                              ("manager", t("col.manager", lang), False),
                                              ("yearly_revenue", t("seg.col.yearly_revenue", lang), True)], lang)
    cross = _table(f["crosssell"]["top"], [("client_id", t("seg.col.client_id", lang), False),
                                           ("client_name", t("col.client", lang), False),
                                           ("manager", t("col.manager", lang), False),
                                           ("category", t("col.category", lang), False),
                                           ("potential", t("stag.col.potential", lang), True)], lang)
    changed_html = f"<p>{e(t('sum.first_run', lang))}</p>"
    if changes:
        c = changes
        from salesbook.analysis.segments import Move
        moves = "".join(f"<li>{e(t('cat.' + m.before, lang))} → {e(t('cat.' + m.after, lang))}: {e(fmt_int(v, lang))}</li>"
                        for m, v in ((Move.parse(k), v) for k, v in list(c["moves"].items())[:8]))
        turnover = fmt_money(c["turnover_12m_change"], lang) if c["turnover_12m_change"] is not None else "–"
        text = _linked_text("sum.changes_text", lang, {
            "previous": c["previous_as_of"], "turnover": turnover, "fell": fmt_int(len(c["fell_asleep"]), lang),
            "back": fmt_int(len(c["came_back"]), lang), "changed": fmt_int(c["changed"], lang)},
            {"fell": href("fell"), "back": href("back"), "changed": href("moves"), "turnover": href("turnover")})
        changed_html = f"<p>{with_file(text, 'moves')}</p><ul>{moves}</ul>"
        if c["fell_asleep"]:
            changed_html += f"<p>{e(t('sum.fell_list', lang))}: {e(', '.join(c['fell_asleep'][:30]))}</p>"
    links = "".join(f'<li><a href="{e(page, quote=True)}">{e(title)}</a></li>' for title, page in entries)
    reactivation_head = e(t(Section.REACTIVATION_LIST, lang))
    crosssell_head = e(t(Section.CROSSSELL_LIST, lang))
    if href("sleeping"):
        reactivation_head = f'<a href="{e(href("sleeping"), quote=True)}">{reactivation_head}</a>'
    if href("whitespace"):
        crosssell_head = f'<a href="{e(href("whitespace"), quote=True)}">{crosssell_head}</a>'
    return f"""<!DOCTYPE html>
<html lang="{e(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(t("run.index_title", lang))}</title><style>{_CSS}{PAGE_CSS}</style>
<script type="text/javascript" src="{e(plotly, quote=True)}"></script>{PRINT_JS}</head>
<body>{nav_html(nav, SUMMARY_PAGE, lang)}<h1>{e(t("run.index_title", lang))}</h1>
<p class="meta">{e(t("run.index_intro", lang, run=run_name, source=source_name(f["source"]), as_of=f["as_of"]))}</p>
{_guessed(f, lang)}
<div class="cards">{"".join(cards)}</div>
<p class="meta"><a href="{RunFile.GLOSSARY}">{e(t("gloss.link", lang))}</a></p>
<p class="verdict">{verdict}</p><ul class="findings">{findings}</ul>
{f'<p>{e(t("memo.cannot_tell", lang))}</p><ul class="cannot">{cannot}</ul>' if cannot else ""}
<h2 id="{Section.PROFILE.anchor}">{e(t(Section.PROFILE, lang))}</h2><ul class="profile">{can_tell}</ul>
{chart}
{walk_html(f, lang)}
<h2 id="{Section.OPPORTUNITIES.anchor}">{e(t(Section.OPPORTUNITIES, lang))}</h2><p>{opportunities}</p>
{vip_html}
{_warnings_html(f, lang, href, xlsx)}
<h2 id="{Section.CHANGES.anchor}">{e(t(Section.CHANGES, lang))}</h2>{changed_html}
<h2 id="{Section.REACTIVATION_LIST.anchor}">{reactivation_head}</h2><div class="sb-scroll">{react}</div>
<h2 id="{Section.CROSSSELL_LIST.anchor}">{crosssell_head}</h2><div class="sb-scroll">{cross}</div>
{_scorecard(scorecard, lang, as_of)}
<h2 id="{Section.REPORTS.anchor}">{e(t(Section.REPORTS, lang))}</h2><ol>{links}</ol>
<p class="meta">{e(t("run.generated", lang, when=generated, version=version))}</p></body></html>
"""

