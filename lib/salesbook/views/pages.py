"""What every page of a run shares: the navigation bar, the table of contents, print and phone CSS.

The summary (``index.html``) and each workbook's page carry the same bar: the
summary and the workbooks by their titles, then the page's own sections. Each
section has a stable anchor (:func:`section_id` of its message key), so the
summary's cards and findings link to the section that explains them, and the
single-file edition (:func:`single_file`) keeps every link inside one page.

Printing: A4 by default, no chart toolbars, no page break inside a chart or a
table row, table headers repeated on every page, and charts redrawn to the
width of the paper before printing (plotly draws at the window's width; a
1280-pixel chart on A4 would be clipped).
"""

from __future__ import annotations

import html
import re
from typing import Iterable

from salesbook.i18n import t
from salesbook.paths import RunFile, Section, section_anchor

__all__ = ["section_id", "short_title", "nav_html", "PAGE_CSS", "PRINT_JS", "anchor", "single_file",
           "SUMMARY_PAGE"]

SUMMARY_PAGE = RunFile.INDEX


def section_id(key: "Section | str") -> str:
    """The anchor of a section (:class:`~salesbook.paths.Section`, or its message key): ``stag.bridge`` ->
    ``s-stag-bridge``."""
    return section_anchor(key)


def anchor(key: "Section | str") -> str:
    """The HTML anchor a section's heading carries (placed before it in its Markdown)."""
    return f'<a id="{section_id(key)}" class="sb-anchor"></a>'


_ANCHORED = re.compile(r'^<a id="(s-[a-z0-9-]+)" class="sb-anchor"></a>\s*\n+#{2} (.+)$', re.M)


def sections(markdown_outputs: Iterable[str]) -> list[tuple[str, str]]:
    """(anchor, title) of every anchored section heading in a notebook's Markdown outputs, in order."""
    out = []
    for text in markdown_outputs:
        for m in _ANCHORED.finditer(text):
            out.append((m.group(1), re.sub(r"\\(.)", r"\1", m.group(2).strip())))
    return out


def short_title(title: str) -> str:
    """A workbook's name for the navigation bar: its title up to the colon (``Обзор``)."""
    return title.split(":", 1)[0].strip() or title


def nav_html(pages: list[tuple[str, str]], current: str, lang: str,
             toc: list[tuple[str, str]] | None = None) -> str:
    """The bar on top of every page: the summary and each workbook (``pages``: (title, file)), the current
    one marked, then the page's table of contents (``toc``: (anchor, title))."""
    e = html.escape
    links = [(t("sum.nav", lang), SUMMARY_PAGE)] + [(short_title(title), href) for title, href in pages]
    mark = ' aria-current="page"'
    items = "".join(f'<li><a href="{e(href, quote=True)}"{mark if href == current else ""}>{e(title)}</a></li>'
                    for title, href in links)
    bar = f'<nav class="sb-nav" aria-label="{e(t("sum.nav_label", lang), quote=True)}"><ul>{items}</ul></nav>'
    if toc:
        entries = "".join(f'<li><a href="#{e(a, quote=True)}">{e(title)}</a></li>' for a, title in toc)
        bar += (f'<details class="sb-toc" open><summary>{e(t("sum.toc", lang))}</summary>'
                f"<ol>{entries}</ol></details>")
    return bar


#: CSS of the bar, phone widths and print, shared by the summary and the workbook pages
PAGE_CSS = """
.sb-nav{position:sticky;top:0;z-index:10;background:#fff;border-bottom:1px solid #ddd;margin:0 0 .6rem;padding:.35rem 0}
.sb-nav,.sb-toc{font-family:Segoe UI,Helvetica,Arial,sans-serif}
table.sb-table td.sb-text,table.sb-table th.sb-text{text-align:left !important}
table[data-sb-interactive] td{text-align:left} table[data-sb-interactive] td[data-order]{text-align:right}
.sb-more{font-size:13px;color:#555}
.sb-nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.2rem .9rem;font-size:14px}
.sb-nav a{color:#1f4e79;text-decoration:none} .sb-nav a:hover{text-decoration:underline}
.sb-nav a[aria-current=page]{font-weight:600;color:#222}
.sb-toc{font-size:13px;margin:0 0 1rem} .sb-toc ol{margin:.3rem 0;padding-left:1.4rem;columns:2 18rem}
.sb-toc summary{cursor:pointer;color:#555}
.sb-anchor{position:relative;top:-3rem}
.sb-scroll{overflow-x:auto;max-width:100%}
p,li,h1,h2,h3,h4,summary,.meta,.card,.verdict,.sb-params code{overflow-wrap:anywhere}
.card{min-width:0} pre{white-space:pre-wrap;overflow-wrap:anywhere}
.sb-elsewhere-note{font-size:.85em;color:#555;overflow-wrap:anywhere}
.sb-attachments{border-top:3px solid #1f4e79;margin-top:2.5rem;padding-top:1rem}
img,svg{max-width:100%}
@media (max-width:600px){
  body{padding:0 .6rem !important;font-size:15px}
  .sb-toc ol{columns:1}
  table{display:block;overflow-x:auto;max-width:100%}
  .plotly-graph-div,.jp-OutputArea-output,.jp-RenderedHTMLCommon{max-width:100%}
  .jp-OutputArea-output{overflow-x:auto}
}
@page{size:A4;margin:14mm 12mm}
@media print{
  .sb-nav,.sb-toc,.modebar,.modebar-container,.sb-params{display:none !important}
  body{max-width:none !important;margin:0 !important;padding:0 !important}
  .plotly-graph-div,.js-plotly-plot,figure,img{break-inside:avoid;page-break-inside:avoid;max-width:100% !important}
  tr,td,th{break-inside:avoid;page-break-inside:avoid}
  thead{display:table-header-group}
  h1,h2,h3{break-after:avoid;page-break-after:avoid}
  a{color:inherit;text-decoration:none}
  .jp-OutputArea-output{overflow:visible !important}
}
"""

#: plotly draws at the window's width: before printing, every chart is redrawn at the paper's width
#: (A4 less the margins, 186 mm = 703 px at 96 dpi), and back after
PRINT_JS = """
<script type="text/javascript">
(function(){
  var PRINT_WIDTH = 700, saved = [];
  function charts(){ return Array.prototype.slice.call(document.querySelectorAll('.js-plotly-plot')); }
  function fit(){
    if (!window.Plotly) return;
    saved = charts().map(function(gd){
      var w = gd.getBoundingClientRect().width;
      if (w > PRINT_WIDTH) { Plotly.relayout(gd, {width: PRINT_WIDTH}); }
      return [gd, w];
    });
  }
  function restore(){
    if (!window.Plotly) return;
    saved.forEach(function(p){ Plotly.relayout(p[0], {width: null, autosize: true}); Plotly.Plots.resize(p[0]); });
    saved = [];
  }
  window.addEventListener('beforeprint', fit);
  window.addEventListener('afterprint', restore);
  if (window.matchMedia) {
    var mq = window.matchMedia('print');
    if (mq.addEventListener) mq.addEventListener('change', function(e){ e.matches ? fit() : restore(); });
  }
  window.salesbookFitForPrint = fit;
})();
</script>
"""


#: files the single file carries inside it (as downloads), and the largest one it takes
ATTACHED_SUFFIXES = (".xlsx",)
ATTACHED_MAX_BYTES = 3_000_000
_MIME = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_LINK = re.compile(r'<a\s([^>]*?)href="([^"]*)"([^>]*)>(.*?)</a>', re.S)
_OUTSIDE = re.compile(r"^(#|data:|blob:|https?:|mailto:|javascript:)", re.I)


def _attach(text: str, folder: "Path | None", lang: str) -> tuple[str, str]:
    """The single file's links to the run folder's files: an Excel list travels inside the page (each file once,
    in a list of attachments at the end, as a ``data:`` download; every link to it jumps there), any other
    file (a CSV, a manager's pack) is named as being in the run folder. Returns the text and the list."""
    import base64
    import mimetypes
    from pathlib import Path

    attached: dict[str, str] = {}  # relative path -> anchor id
    items: list[str] = []

    def sub(m: re.Match) -> str:
        before, href, after, label = m.groups()
        if _OUTSIDE.match(href) or "://" in href:
            return m.group(0)
        rel = html.unescape(href).split("#", 1)[0]
        path = (Path(folder) / rel) if folder is not None and rel else None
        ok = (path is not None and path.is_file() and path.suffix.lower() in ATTACHED_SUFFIXES
              and path.stat().st_size <= ATTACHED_MAX_BYTES and Path(folder).resolve() in path.resolve().parents)
        if not ok:
            note = html.escape(t("single.in_folder", lang, path=rel))
            return f'<span class="sb-elsewhere">{label}</span> <span class="sb-elsewhere-note">({note})</span>'
        if rel not in attached:
            anchor = f"sb-file-{len(attached) + 1}"
            attached[rel] = anchor
            mime = _MIME.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            items.append(f'<li id="{anchor}"><a href="data:{mime};base64,{data}" download="{html.escape(path.name, quote=True)}">'
                         f"{html.escape(path.name)}</a></li>")
        return f'<a {before}href="#{attached[rel]}"{after}>{label}</a>'

    text = _LINK.sub(sub, text)
    box = (f'<section class="sb-attachments" id="sb-attachments"><h2>{html.escape(t("single.attached", lang))}</h2>'
           f"<ul>{''.join(items)}</ul></section>") if items else ""
    return text, box


def single_file(summary: str, pages: list[tuple[str, str, str]], plotly_js: str, css: str = "",
                tables_js: str = "", folder: "Path | str | None" = None) -> str:
    """One self-contained page for mail: the summary, then every workbook (``pages``: (file, title, html)).

    Each page's body is taken between its ``<main>`` tags; links between pages become links inside this one
    (``03_stagnation.html#s-stag-bridge`` -> ``#s-stag-bridge``), plotly.js, the pages' stylesheet ``css``
    and the DataTables loader ``tables_js`` are inlined once each. It links only to what it contains: the
    Excel lists of the run ``folder`` travel inside it as downloads, a link to any other file of the run
    (a CSV, a manager's pack) becomes its name and the words "in the run folder" (:func:`_attach`).
    """
    from pathlib import Path
    files = {name for name, _, _ in pages} | {SUMMARY_PAGE}

    def relink(text: str) -> str:
        def sub(m: re.Match) -> str:
            target, frag = m.group(2), m.group(3)
            if target not in files:
                return m.group(0)
            page = "page-" + target.rsplit(".", 1)[0]
            return f'{m.group(1)}"#{frag[1:] if frag else page}"'
        return re.sub(r'(href=)"([^"#/]+\.html)(#[^"]*)?"', sub, text)

    head_css = f"<style>{css}</style>" if css else ""
    own_css = ""
    bodies = []
    for name, title, page in pages:
        if not own_css:
            own_css = "\n".join(re.findall(r"<style[^>]*>.*?</style>", page, re.S))
        body = re.search(r"<main>(.*)</main>", page, re.S)
        content = body.group(1) if body else page
        content = re.sub(r'<nav [^>]*class="sb-nav".*?</nav>', "", content, count=1, flags=re.S)
        bodies.append(f'<section class="sb-page" id="page-{html.escape(name.rsplit(".", 1)[0], quote=True)}">'
                      f"{relink(content)}</section>")
    summary_style = "\n".join(re.findall(r"<style[^>]*>.*?</style>", summary, re.S))
    summary_body = re.search(r"<body[^>]*>(.*)</body>", summary, re.S)
    summary_title = re.search(r"<title>(.*?)</title>", summary, re.S)
    lang = re.search(r'<html lang="([a-z]+)"', summary)
    main_summary = relink(summary_body.group(1) if summary_body else summary)
    language = lang.group(1) if lang else "en"
    joined, attachments = _attach("\x00".join([main_summary, *bodies]), Path(folder) if folder else None, language)
    main_summary, *bodies = joined.split("\x00")
    return (f'<!DOCTYPE html>\n<html lang="{lang.group(1) if lang else "en"}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{summary_title.group(1) if summary_title else ''}</title>{head_css}\n{own_css}\n{summary_style}\n"
            '<style>.sb-page{border-top:3px solid #1f4e79;margin-top:2.5rem;padding-top:1rem}'
            '@media print{.sb-page{break-before:page}}</style>\n'
            f'<script type="text/javascript">{plotly_js}</script>{PRINT_JS}'
            f'{f"<script>{tables_js}</script>" if tables_js else ""}</head>\n'
            f'<body class="jp-Notebook sb-single"><section class="sb-page sb-summary" id="page-index">{main_summary}'
            f'</section>\n{"".join(bodies)}\n{attachments}</body></html>\n')
