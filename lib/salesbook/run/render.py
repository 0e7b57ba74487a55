"""The pages of a run: an executed notebook rendered as HTML (no code, no prompts, offline), and the files
every page of a run folder loads from beside it (plotly.js, JupyterLab's stylesheet, DataTables).

A step of :mod:`salesbook.run.runner`: it takes an executed notebook and returns a page's text; nothing here
starts a kernel or reads the cube.
"""

from __future__ import annotations

import datetime as _dt
import functools
import html
import json
import re
import threading
from pathlib import Path
from typing import Any

import nbformat

from salesbook import __version__
from salesbook import paths
from salesbook.i18n import t
from salesbook.views.tables import ASSET as TABLES_ASSET

__all__ = ["PLOTLY_FILE", "CSS_FILE", "TABLES_FILE", "render_html", "write_plotly", "write_assets",
           "page_stylesheet", "planned_title", "title_of"]

_TEMPLATES = paths.PACKAGE_DIR / "templates"

def _params_cell(params: dict[str, Any], lang: str) -> nbformat.NotebookNode:
    # names and values as typed on the command line or in a run config: code, in either language
    # a file by its name, never the machine's folders (paths.source_name)
    shown = {k: paths.source_name(v) if k in ("source", "mapping", "pipeline") and isinstance(v, str) else v
             for k, v in params.items()}
    rows = "".join(f"<tr><td><code>{html.escape(str(k), quote=False)}</code></td>"  # text, not an attribute
                   f"<td><code>{html.escape(json.dumps(v, ensure_ascii=False), quote=False)}</code></td></tr>"
                   for k, v in shown.items())
    body = (f'<details class="sb-params"><summary>{html.escape(t("run.parameters", lang))}</summary>'
            f'<table class="sb-table">{rows}</table></details>')
    return nbformat.v4.new_markdown_cell(body)


#: what nbconvert's HTMLExporter (7.17) adds to a rendered page by parsing it whole with BeautifulSoup: outputs
#: reachable from the keyboard, and a description on an image without one (:func:`_accessible` does it on the text)
_OUTPUT_DIV = re.compile(r'<div class="([^"]*\b(?:jp-OutputArea-output|jp-Cell-inputWrapper)\b[^"]*)"(?![^>]*\btabindex=)')
_IMG_NO_ALT = re.compile(r"<img\b(?![^>]*\balt=)")


def _accessible(page: str) -> str:
    """``page`` with ``tabindex="0"`` on each output (and input) of a cell and an ``alt`` on each image lacking one,
    as nbconvert's HTMLExporter does, without parsing and writing the page again (a second per long page)."""
    page = _OUTPUT_DIV.sub(r'<div class="\1" tabindex="0"', page)
    return _IMG_NO_ALT.sub('<img alt="No description has been provided for this image"', page)


@functools.lru_cache(maxsize=1)
def _exporter_class() -> type:
    """:class:`Exporter`, made once (nbconvert is imported when the first page is rendered, not with this module)."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class Exporter(HTMLExporter):
        """HTMLExporter.from_notebook_node (nbconvert 7.17) with its closing BeautifulSoup pass done on the text
        (:func:`_accessible`): parsing and writing a whole page took most of its rendering time."""

        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                     resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _accessible(page), resources

    return Exporter


@functools.lru_cache(maxsize=4)
def _exporter(lang: str) -> Any:
    """The HTML exporter of a language, made once: it compiles its templates on first use (0.26 s a page)."""
    from nbconvert.preprocessors import TagRemovePreprocessor

    # optimistic_validation: the notebook is validated once, after the preprocessors, not after each of the 13
    # (most of them disabled): 13 schema passes over every output were a sixth of the runner's own time
    exporter = _exporter_class()(template_name="salesbook", extra_template_basedirs=[str(_TEMPLATES)],
                                 language_code=lang, exclude_input=True, exclude_input_prompt=True,
                                 exclude_output_prompt=True, optimistic_validation=True)
    tags = TagRemovePreprocessor(remove_cell_tags={"remove_cell", "report-hide"},
                                 remove_input_tags={"remove_input"}, enabled=True)
    exporter.register_preprocessor(tags, enabled=True)
    return exporter


_RENDERING = threading.Lock()  # one page at a time through the shared exporter



#: the one copy of plotly.js in a run folder, which every page of the run loads (offline, beside the pages)
PLOTLY_FILE = paths.RunFile.PLOTLY


#: JupyterLab's stylesheet of the pages, once per run folder
CSS_FILE = paths.RunFile.CSS
TABLES_FILE = TABLES_ASSET


def write_plotly(folder: Path) -> Path:
    """Write plotly.js (the installed plotly's own bundle) into ``folder`` once, for every page there."""
    from plotly.offline import get_plotlyjs
    path = folder / PLOTLY_FILE
    path.write_text(get_plotlyjs(), encoding="utf-8")
    return path


@functools.lru_cache(maxsize=1)
def page_stylesheet() -> str:
    """JupyterLab's stylesheet as the report template inlines it (read from an empty page once)."""
    page = render_html(nbformat.v4.new_notebook(), "en", assets=False)
    inner = page.split("<!--sb-css-->", 1)[1].split("<!--/sb-css-->", 1)[0]
    return "\n".join(re.findall(r"<style[^>]*>(.*?)</style>", inner, re.S))


def write_assets(folder: Path) -> list[Path]:
    """What every page of a run folder loads from beside it: plotly.js, the stylesheet, DataTables."""
    from salesbook.views import tables
    css = folder / CSS_FILE
    css.write_text(page_stylesheet(), encoding="utf-8")
    return [write_plotly(folder), css, tables.write_asset(folder)]


def render_html(nb: nbformat.NotebookNode, lang: str = "en", parameters: dict[str, Any] | None = None,
                plotly: str | None = PLOTLY_FILE, pages: list[tuple[str, str]] | None = None,
                current: str = "", assets: bool = True) -> str:
    """HTML of an executed notebook: no code, no prompts, offline.

    ``plotly``: the file beside the page that holds plotly.js (:func:`write_plotly`; one copy per run
    instead of 4.6 MB in every page), or ``None`` to embed plotly.js in the page itself.
    ``assets``: the page links the run's one copy of JupyterLab's stylesheet (:data:`CSS_FILE`) and of
    DataTables (``tables.ASSET``), which :func:`write_assets` writes; ``False``: its stylesheet inline.
    ``pages``: (title, file) of the run's workbooks for the navigation bar, ``current`` this page's file.
    The browser title is the workbook's title; the bar ends with the page's sections.
    """
    from plotly.offline import get_plotlyjs

    from salesbook.views.pages import PAGE_CSS, PRINT_JS, nav_html, sections

    nb = nbformat.from_dict(nb)
    nb.metadata["title"] = _title_of(nb, current.rsplit(".", 1)[0] or t("run.notebook", lang))
    toc = sections(out.get("data", {}).get("text/markdown", "") for cell in nb.cells for out in cell.get("outputs", []))
    if parameters is not None:  # right under the title the notebook printed
        at = next((i + 1 for i, c in enumerate(nb.cells) for o in c.get("outputs", [])
                   if o.get("data", {}).get("text/markdown", "").startswith("# ")), 0)
        nb.cells.insert(at, _params_cell(parameters, lang))
    uses_plotly = any("application/vnd.plotly.v1+json" in out.get("data", {})
                      for cell in nb.cells for out in cell.get("outputs", []))
    uses_tables = any("data-sb-interactive" in str(out.get("data", {}).get("text/html", ""))
                      for cell in nb.cells for out in cell.get("outputs", []))
    when = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    resources = {"plotly_src": plotly if uses_plotly and plotly else "",
                 "plotly_js": get_plotlyjs() if uses_plotly and not plotly else "",
                 "footer": t("run.generated", lang, when=when, version=__version__),
                 "page_css": PAGE_CSS, "print_js": PRINT_JS if uses_plotly else "",
                 "css_href": CSS_FILE if assets else "", "tables_src": TABLES_FILE if uses_tables else "",
                 "nav_html": nav_html(pages or [], current, lang, toc)}
    with _RENDERING:
        body, _ = _exporter(lang).from_notebook_node(nb, resources=resources)
    return body


def planned_title(stem: str, lang: str) -> str:
    """A workbook's title before it runs: its catalogue title (``nb.03.title``), else its file name (a
    notebook that is no :class:`~salesbook.paths.Workbook`, such as a test's fixture)."""
    workbook = paths.Workbook.named(stem)
    return t(workbook.title_key, lang) if workbook is not None else stem


def _title_of(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first heading a notebook printed (translated), else its file name."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/markdown", "")
            if text.startswith("# "):
                return text[2:].strip()
    return fallback

title_of = _title_of
