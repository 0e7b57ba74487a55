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
from salesbook.paths import RunFile, Workbook

__all__ = ["GLOSSARY", "GLOSSARY_PAGE", "glossary_page", "glossary_href", "catalogue_keys"]

GLOSSARY_PAGE = RunFile.GLOSSARY

_SEG, _STAG, _FC = Workbook.SEGMENTATION, Workbook.STAGNATION, Workbook.FORECAST

#: each named figure -> the settings it depends on, as (workbook, name)
GLOSSARY: dict[str, tuple[tuple[Workbook, str], ...]] = {
    "turnover.12m": (),
    "turnover.change": (),
    "trend.per_year": ((_STAG, "trend_months"), (_STAG, "flat_threshold")),
    "clients.active": (),
    "sleeping.count": ((_SEG, "sleeping_min_months"), (_SEG, "sleeping_gap_multiple")),
    "sleeping.listed": ((_SEG, "sleeping_min_months"), (_SEG, "sleeping_gap_multiple"), (_SEG, "max_months_asleep")),
    "sleeping.listed_bought": ((_SEG, "max_months_asleep"),),
    "whitespace.clients": ((_STAG, "whitespace_min"),),
    "whitespace.potential": ((_STAG, "whitespace_min"),),
    "vip.category": ((_SEG, "abc_a"), (_SEG, "vip_active_months"), (_SEG, "window_months")),
    "vip_desk.count": ((_SEG, "abc_a"), (_SEG, "window_months")),
    "vip_desk.revenue": ((_SEG, "abc_a"), (_SEG, "window_months")),
    "new_clients": (),
    "hunters": ((_STAG, "hunter_share"), (_STAG, "farmer_share")),
    "forecast.weighted": ((_FC, "p30"), (_FC, "p50"), (_FC, "p70"), (_FC, "p90"), (_FC, "horizon_months"),
                          (_FC, "spontaneous")),
    "forecast.baseline": ((_FC, "horizon_months"),),
}


def catalogue_keys() -> list[str]:
    """Every catalogue key built here at run time: each named figure's name and definition
    (``tests/test_i18n.py`` checks them)."""
    return [f"gloss.{name}{end}" for name in GLOSSARY for end in ("", ".def")]


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
        for workbook, param in params:
            value = rs.values(s, workbook).get(param)
            values.append(f"<code>{e(workbook.number)}: {e(param)} = {e(str(value))}</code>")
        rows.append(f'<tr id="{e(name)}"><td><b>{e(t(f"gloss.{name}", lang))}</b><br><code>{e(name)}</code></td>'
                    f'<td>{e(t(f"gloss.{name}.def", lang))}</td><td>{"<br>".join(values) or "–"}</td></tr>')
    head = "".join(f"<th>{e(t(k, lang))}</th>" for k in ("gloss.col.name", "gloss.col.definition", "gloss.col.settings"))
    return f"""<!DOCTYPE html>
<html lang="{e(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(t("gloss.title", lang))}</title><style>{css}</style></head>
<body>{nav}<main><h1>{e(t("gloss.title", lang))}</h1><p class="meta">{e(t("gloss.intro", lang))}</p>
<div class="sb-scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></main></body></html>
"""
