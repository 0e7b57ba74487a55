"""Long tables a reader can sort, search and page through, offline: DataTables, as ITables ships it.

A table longer than a screen is written as ordinary HTML (escaped, localised,
readable without JavaScript and in print), each number cell carrying its raw
value in ``data-order`` so that it sorts as a number. In the browser DataTables
(the ``dt_bundle`` that the ``itables`` package ships for its own offline mode)
enhances it: sorting, a search box, pages, in the page's language.

The bundle is 0.7 MB: a report run writes it once (:data:`ASSET`, beside the
pages, like plotly.js) and each page loads it with a classic ``<script src>``,
which browsers allow from ``file://`` (ES module imports from disk they refuse;
the loader imports the bundle from a ``blob:`` URL, as ITables' offline mode
does). In JupyterLab or Voilà the first long table of a kernel carries the
loader inline.
"""

from __future__ import annotations

import html
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from salesbook.i18n import LANGS, t
from salesbook.paths import RunFile

__all__ = ["ASSET", "MIN_ROWS", "interactive_html", "loader_js", "write_asset", "plain_parts", "plain_table",
           "catalogue_keys"]

#: the loader and bundle, once per run folder
ASSET = RunFile.TABLES
#: tables with more rows than this are interactive (about a laptop screen of rows)
MIN_ROWS = 15
#: at most this many rows on a page (a longer list says so; the whole of it is in the Excel export)
MAX_ROWS = 1000
_LANG_KEYS = ("search", "info", "infoEmpty", "infoFiltered", "lengthMenu", "zeroRecords", "emptyTable", "all")


def catalogue_keys() -> list[str]:
    """Every catalogue key built here at run time: DataTables' own words (``tests/test_i18n.py`` checks them)."""
    return [f"dt.{k}" for k in _LANG_KEYS]


def _bundle_files() -> tuple[Path, Path]:
    import itables
    folder = Path(itables.__file__).resolve().parent / "html"
    return folder / "dt_bundle.js", folder / "dt_bundle.css"


def _language(lang: str) -> dict[str, Any]:
    """DataTables' texts in ``lang``. ``thousands`` writes the counts of its own info line (``из 1 330``);
    ``decimal`` is the mark DataTables reads numbers to sort with, and those are the cells' ``data-order``
    values, always written with a point (:func:`interactive_html`). A Russian ``","`` here made DataTables
    drop the point of ``1227784.5`` (read as 12277845) and sort money out of order."""
    texts = {k: t(f"dt.{k}", lang) for k in _LANG_KEYS}
    thousands = "\u00a0" if lang == "ru" else ","
    everything = texts.pop("all")
    return {**texts, "decimal": ".", "thousands": thousands, "sbAll": everything}


@lru_cache(maxsize=1)
def loader_js() -> str:
    """The classic script that loads DataTables once per page and enhances every interactive table."""
    js, css = (p.read_text(encoding="utf-8") for p in _bundle_files())
    languages = {lang: _language(lang) for lang in LANGS}
    return f"""(function(){{
if (window.salesbookTables) {{ return; }}
var style = document.createElement('style');
style.textContent = {json.dumps(css)};
document.head.appendChild(style);
var url = URL.createObjectURL(new Blob([{json.dumps(js)}], {{type: 'text/javascript'}}));
var LANG = {json.dumps(languages, ensure_ascii=False)};
window.salesbookTables = import(url).then(function(m){{ URL.revokeObjectURL(url); return m; }});
function enhance(){{
  window.salesbookTables.then(function(m){{
    var DataTable = m.default;
    document.querySelectorAll('table[data-sb-interactive]:not(.dataTable)').forEach(function(table){{
      var lang = LANG[table.getAttribute('data-sb-lang')] || LANG.en;
      new DataTable(table, {{language: lang, pageLength: 10, order: [], autoWidth: false,
        lengthMenu: [[10, 25, 50, 100, -1], [10, 25, 50, 100, lang.sbAll]]}});
      table.setAttribute('data-sb-ready', '1');
    }});
  }});
}}
window.salesbookEnhanceTables = enhance;
if (document.readyState === 'loading') {{ document.addEventListener('DOMContentLoaded', enhance); }} else {{ enhance(); }}
}})();
"""


def write_asset(folder: Path) -> Path:
    """Write :data:`ASSET` into a run folder (once, for every page there)."""
    path = Path(folder) / ASSET
    path.write_text(loader_js(), encoding="utf-8")
    return path


def interactive_html(df: pd.DataFrame, formats: dict[Any, Callable[[Any], str]], lang: str,
                     text_columns: list[Any]) -> str:
    """A plain, escaped HTML table marked for DataTables; number cells carry their raw value to sort on."""
    e = html.escape
    head = "".join(f'<th class="sb-text">{e(str(c))}</th>' if c in text_columns else f"<th>{e(str(c))}</th>"
                   for c in df.columns)
    rows = []
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    for values in df.itertuples(index=False, name=None):
        cells = []
        for col, value, is_num in zip(df.columns, values, numeric):
            missing = value is None or (not isinstance(value, str) and pd.isna(value))
            shown = "–" if missing else formats[col](value) if col in formats else str(value)
            if is_num and not missing:  # the raw value to sort on; a number cell is right-aligned by it
                raw = float(value)
                cells.append(f'<td data-order="{int(raw) if raw.is_integer() else raw!r}">{e(shown)}</td>')
            else:
                cells.append(f"<td>{e(shown)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="sb-scroll"><table class="sb-table display compact" data-sb-interactive="1" '
            f'data-sb-lang="{e(lang, quote=True)}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
            "</table></div>")


def plain_parts(df: pd.DataFrame, formats: dict[Any, Callable[[Any], str]],
                text_columns: list[Any]) -> tuple[str, list[str]]:
    """A plain table's head and its rows (one ``<tr>`` each), escaped: no script, no sorting (a page sent on
    its own, such as a manager's pack). Number cells are right-aligned (``class="n"``). Each column is
    formatted in one pass, so that cutting many tables out of one frame costs a pass over its cells."""
    e = html.escape
    head = "".join(f'<th class="sb-text">{e(str(c))}</th>' if c in text_columns else f"<th>{e(str(c))}</th>"
                   for c in df.columns)
    columns = []
    for col in df.columns:
        fmt = formats.get(col, str)
        opening = "<td>" if col in text_columns else '<td class="n">'
        columns.append([f"{opening}{e('–' if v is None or (not isinstance(v, str) and pd.isna(v)) else fmt(v))}</td>"
                        for v in df[col].tolist()])
    return f"<thead><tr>{head}</tr></thead>", ["<tr>" + "".join(cells) + "</tr>" for cells in zip(*columns)]


def plain_table(head: str, rows: list[str]) -> str:
    """A plain table from :func:`plain_parts`' head and some of its rows, in a box that scrolls when wide."""
    return f'<div class="sb-scroll"><table class="sb-table">{head}<tbody>{"".join(rows)}</tbody></table></div>'
