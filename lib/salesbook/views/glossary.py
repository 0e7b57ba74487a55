"""The glossary: each named figure of the reports, its one definition, and the settings that set it.

Every figure a page marks with :func:`salesbook.formats.fact` (``data-fact="sleeping.count"``) has an
entry here, with its name and definition in each language (``messages/story.yml``: ``gloss.<name>`` and
``gloss.<name>.def``) and the settings (:mod:`salesbook.analysis.settings`) it depends on, shown with the
run's values. The summary's cards and headline link to ``glossary.html#<name>``.
"""

from __future__ import annotations

import html
from typing import Any

from salesbook.i18n import t

__all__ = ["GLOSSARY", "GLOSSARY_PAGE", "glossary_page", "glossary_href"]

GLOSSARY_PAGE = "glossary.html"

#: each named figure -> the settings it depends on, as (workbook, name)
GLOSSARY: dict[str, tuple[tuple[str, str], ...]] = {
    "turnover.12m": (),
    "turnover.change": (),
    "trend.per_year": (("03", "trend_months"), ("03", "flat_threshold")),
    "clients.active": (),
    "sleeping.count": (("01", "sleeping_min_months"), ("01", "sleeping_gap_multiple")),
    "sleeping.listed": (("01", "sleeping_min_months"), ("01", "sleeping_gap_multiple"), ("01", "max_months_asleep")),
    "sleeping.listed_bought": (("01", "max_months_asleep"),),
    "whitespace.clients": (("03", "whitespace_min"),),
    "whitespace.potential": (("03", "whitespace_min"),),
    "vip.category": (("01", "abc_a"), ("01", "vip_active_months"), ("01", "window_months")),
    "vip_desk.count": (("01", "abc_a"), ("01", "window_months")),
    "vip_desk.revenue": (("01", "abc_a"), ("01", "window_months")),
    "new_clients": (),
    "hunters": (("03", "hunter_share"), ("03", "farmer_share")),
    "forecast.weighted": (("04", "p30"), ("04", "p50"), ("04", "p70"), ("04", "p90"), ("04", "horizon_months"),
                          ("04", "spontaneous")),
    "forecast.baseline": (("04", "horizon_months"),),
}


def glossary_href(name: str) -> str:
    return f"{GLOSSARY_PAGE}#{name}"


def glossary_page(lang: str = "en", settings: Any = None, css: str = "", nav: str = "") -> str:
    """The glossary as a self-contained page: one row per named figure, its definition, and the settings
    that set it with the run's values (``settings``; default the defaults)."""
    from salesbook.analysis import settings as rs
    s = settings or rs.Settings()
    e = html.escape
    rows = []
    for name, params in GLOSSARY.items():
        values = []
        for notebook, param in params:
            value = rs.values(s, notebook).get(param)
            values.append(f"<code>{e(notebook)}: {e(param)} = {e(str(value))}</code>")
        rows.append(f'<tr id="{e(name)}"><td><b>{e(t(f"gloss.{name}", lang))}</b><br><code>{e(name)}</code></td>'
                    f'<td>{e(t(f"gloss.{name}.def", lang))}</td><td>{"<br>".join(values) or "–"}</td></tr>')
    head = "".join(f"<th>{e(t(k, lang))}</th>" for k in ("gloss.col.name", "gloss.col.definition", "gloss.col.settings"))
    return f"""<!DOCTYPE html>
<html lang="{e(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(t("gloss.title", lang))}</title><style>{css}</style></head>
<body>{nav}<main><h1>{e(t("gloss.title", lang))}</h1><p class="meta">{e(t("gloss.intro", lang))}</p>
<div class="sb-scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></main></body></html>
"""
