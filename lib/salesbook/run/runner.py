"""Run the workbooks with papermill and publish HTML reports, atomically.

One process runs every notebook through papermill's Python API (one kernel per
notebook, no command line per step), renders each to HTML without code cells
and with plotly.js embedded once, and writes ``reports/<run>/index.html``.
Everything is written to a temporary folder first and moved into place only
when every notebook succeeded, so the last good report is never overwritten;
a failed run keeps its partial output under ``reports/.failed-<run>/`` and
raises :class:`RunError` naming the notebook and the cell.
"""

from __future__ import annotations

import datetime as _dt
import functools
import html
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
import threading
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import nbformat
import pandas as pd

from salesbook import __version__
from salesbook import paths
from salesbook.errors import DataError, ParameterError
from salesbook.views.export import restored, write_plain_csv
from salesbook.i18n import t
from salesbook.views.tables import ASSET as TABLES_ASSET
from salesbook.run.warm import imported_modules, warm

__all__ = ["RunError", "RunResult", "run", "list_notebooks", "notebook_parameters", "render_html", "write_plotly",
           "PLOTLY_FILE",
           "check_parameters", "plan_parameters", "resolve_as_of"]

_TEMPLATES = paths.PACKAGE_DIR / "templates"
#: the modules the run's summary (this process) imports; their DEFERRED libraries are imported ahead too
SUMMARY_IMPORTS = ("salesbook.analysis.segments", "salesbook.analysis.stagnation", "salesbook.views.overview", "salesbook.analysis.forecast")
#: parameters every workbook takes; the runner passes them to each notebook that declares them
COMMON = ("source", "mapping", "as_of", "lang", "currency")


class RunError(RuntimeError):
    """A scheduled run failed: which notebook, which cell, what error."""

    def __init__(self, message: str, notebook: str | None = None, cell: int | None = None):
        super().__init__(message)
        self.notebook = notebook
        self.cell = cell


@dataclass
class RunResult:
    folder: Path
    index: Path
    reports: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def list_notebooks(names: Iterable[str] | None = None, folder: Path | None = None) -> list[Path]:
    """The numbered workbooks, or those named (``00``, ``00_overview`` or a path)."""
    folder = folder or paths.NOTEBOOKS_DIR
    every = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if not names:
        return every
    chosen = []
    for name in names:
        p = Path(name)
        if p.suffix == ".ipynb" and p.exists():
            chosen.append(p.resolve())
            continue
        match = [nb for nb in every if nb.stem == name or nb.stem.split("_", 1)[0] == name]
        if not match:
            raise ParameterError(f"no notebook {name!r}; notebooks: {', '.join(nb.stem for nb in every)}")
        chosen.extend(match)
    return chosen


def notebook_parameters(path: Path) -> dict[str, dict[str, Any]]:
    """Name -> {inferred_type_name, default, help} of a notebook's ``parameters`` cell."""
    import papermill
    return papermill.inspect_notebook(str(path))


_PY_TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool, "list": list, "dict": dict}


#: parameters whose text has a grammar, and the function that reads it (module:function, imported only
#: when such a parameter is given: the analyses pull in ibis): read before anything runs, so a typo is one
#: line, not a failed cell
VALUE_CHECKS = {"spontaneous": "salesbook.analysis.forecast:spontaneous_rule",
                "handover": "salesbook.analysis.whatif:parse_trigger"}


def _check_plan(plan_file: str | None, currency: str) -> "pd.DataFrame | None":
    """The run's plan file read and checked (columns, months, amounts, repeats, currency), or None."""
    if not plan_file:
        return None
    from salesbook.analysis.forecast import read_plan
    return read_plan(plan_file, currency)


def _check_value(name: str, value: Any) -> None:
    import importlib
    module, _, function = VALUE_CHECKS[name].partition(":")
    getattr(importlib.import_module(module), function)(value)


def check_parameters(notebook: Path, given: dict[str, Any]) -> None:
    """Unknown names or wrong types are an error before anything runs (papermill only warns).

    A name is known when the notebook's parameters cell declares it, or when it is one of the workbook's
    settings (:mod:`salesbook.analysis.settings`: a threshold the cell does not list, set through the run's
    settings file)."""
    from salesbook.analysis import settings as _settings
    declared = notebook_parameters(notebook)
    extra = _settings.names(notebook.stem)
    problems = []
    for name, value in given.items():
        if name not in declared and name in extra:
            try:
                _settings.apply(_settings.Settings(), notebook.stem, {name: value})
            except ParameterError as exc:
                problems.append(str(exc).split(": ", 1)[-1])
            continue
        if name not in declared:
            allowed = ", ".join([f"{n}: {d['inferred_type_name']}" for n, d in declared.items()]
                                + [n for n in extra if n not in declared])
            problems.append(f"unknown parameter {name!r}; allowed: {allowed}")
            continue
        typ = declared[name]["inferred_type_name"].split("|")[0].strip()
        py = _PY_TYPES.get(typ)
        if py is not None and value is not None and not isinstance(value, py):
            problems.append(f"parameter {name!r} must be {typ}, got {type(value).__name__} {value!r}")
        elif name in VALUE_CHECKS:
            try:
                _check_value(name, value)
            except ParameterError as exc:
                problems.append(str(exc))
    if problems:
        raise ParameterError(f"{notebook.name}: " + "; ".join(problems))


def plan_parameters(chosen: list[Path], common: dict[str, Any],
                    parameters: dict[str, dict[str, Any]] | None = None) -> list[tuple[Path, dict[str, Any]]]:
    """Each notebook with the parameters it gets: the common ones it declares, then its own, checked.

    ``parameters`` maps a notebook (``"01_segmentation"`` or ``"01"``) to its own values.
    """
    per_nb = dict(parameters or {})
    plan = []
    for nb_path in chosen:
        declared = notebook_parameters(nb_path)
        params = {k: v for k, v in common.items() if k in declared}
        params.update({**per_nb.pop(nb_path.stem, {}), **per_nb.pop(nb_path.stem.split("_", 1)[0], {})})
        if "output_dir" in declared and not params.get("output_dir"):
            params["output_dir"] = "exports"  # relative to the run folder (the kernel's cwd): moves with it
        check_parameters(nb_path, params)
        # a setting the cell does not declare reaches the notebook through the run's settings file only
        plan.append((nb_path, {k: v for k, v in params.items() if k in declared}))
    from salesbook.analysis import settings as _settings
    for key in list(per_nb):  # a workbook left out still lends its settings to the run (the summary's advice)
        if _settings.SECTIONS.get(key.split("_", 1)[0][:2]) and all(_settings.names(key).get(n) is not None
                                                                    for n in per_nb[key]):
            _settings.apply(_settings.Settings(), key, per_nb.pop(key))  # checked: a wrong value is one line
    if per_nb:
        raise ParameterError(f"parameters given for notebooks not in this run: {', '.join(per_nb)}")
    return plan


def _params_cell(params: dict[str, Any], lang: str) -> nbformat.NotebookNode:
    # names and values as typed on the command line or in a run config: code, in either language
    rows = "".join(f"<tr><td><code>{html.escape(str(k))}</code></td>"
                   f"<td><code>{html.escape(json.dumps(v, ensure_ascii=False))}</code></td></tr>"
                   for k, v in params.items())
    body = (f'<details class="sb-params"><summary>{html.escape(t("run.parameters", lang))}</summary>'
            f'<table class="sb-table">{rows}</table></details>')
    return nbformat.v4.new_markdown_cell(body)


@functools.lru_cache(maxsize=4)
def _exporter(lang: str) -> Any:
    """The HTML exporter of a language, made once: it compiles its templates on first use (0.26 s a page)."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(template_name="salesbook", extra_template_basedirs=[str(_TEMPLATES)], language_code=lang,
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    tags = TagRemovePreprocessor(remove_cell_tags={"remove_cell", "report-hide"},
                                 remove_input_tags={"remove_input"}, enabled=True)
    exporter.register_preprocessor(tags, enabled=True)
    return exporter


_RENDERING = threading.Lock()  # one page at a time through the shared exporter


def _warm_runner(lang: str, cube_ready: threading.Event) -> None:
    """Compile the exporter's templates (an empty page), then, once the cube is built and the engine's
    memory released (at 10M lines the peak is the engine's), import what the summary imports."""
    render_html(nbformat.v4.new_notebook(), lang)
    cube_ready.wait()
    warm(SUMMARY_IMPORTS)


#: the one copy of plotly.js in a run folder, which every page of the run loads (offline, beside the pages)
PLOTLY_FILE = "plotly.min.js"


#: JupyterLab's stylesheet of the pages, once per run folder
CSS_FILE = "report.css"
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


def resolve_as_of(as_of: str | None, today: _dt.date | None = None) -> str:
    """``"last-full-month"`` -> the last day of the previous calendar month; an ISO date unchanged.

    Anything else (``01.10.2026``: day or month first?, ``2026-13-01``) is a :class:`ParameterError`
    before anything runs, naming the accepted formats.
    """
    text = str(as_of or "").strip()
    if text.lower() in ("last-full-month", "last_full_month"):
        first = (today or _dt.date.today()).replace(day=1)
        return str(first - _dt.timedelta(days=1))
    if not text:
        return ""
    try:
        if len(text) != 10:
            raise ValueError(text)
        return str(_dt.date.fromisoformat(text))
    except ValueError:
        raise ParameterError(f"as_of {text!r} is not a date this run can read: write it as yyyy-mm-dd "
                             "(e.g. 2026-10-31), or last-full-month, or leave it empty for the last date "
                             "in the data") from None


#: the executed notebooks of a published run, compressed (every output is also in the pages: 1.3 MB -> 0.2 MB)
NOTEBOOKS_ZIP = "notebooks.zip"


def _pack_notebooks(folder: Path) -> Path:
    """``folder/notebooks/*.ipynb`` -> ``folder/notebooks.zip`` (a failed run keeps them unpacked, to read)."""
    import zipfile
    target = folder / NOTEBOOKS_ZIP
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for path in sorted((folder / "notebooks").glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            for cell in nb.cells:  # a chart's HTML repeats its plotly JSON (the page has it): kept once
                for out in cell.get("outputs", []):
                    data = out.get("data", {})
                    if "application/vnd.plotly.v1+json" in data:
                        data.pop("text/html", None)
            z.writestr(f"notebooks/{path.name}", nbformat.writes(nb))
    shutil.rmtree(folder / "notebooks")
    return target


def planned_title(stem: str, lang: str) -> str:
    """A workbook's title before it runs: its catalogue title (``nb.03.title``), else its file name."""
    try:
        return t(f"nb.{stem[:2]}.title", lang)
    except KeyError:
        return stem


def _title_of(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first heading a notebook printed (translated), else its file name."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/markdown", "")
            if text.startswith("# "):
                return text[2:].strip()
    return fallback


def _source_cell(executed: Path, index: int) -> tuple[int, str]:
    """The failing cell as the user counts it in their notebook (without papermill's injected cell)."""
    try:
        cells = [c for c in nbformat.read(executed, as_version=4).cells  # as they were while running
                 if "papermill-error-cell-tag" not in c.metadata.get("tags", [])]
    except (OSError, ValueError):
        return index + 1, ""
    injected = sum(1 for c in cells[:index] if "injected-parameters" in c.metadata.get("tags", []))
    first = next((ln for ln in cells[index].source.splitlines() if ln.strip()), "") if index < len(cells) else ""
    return index - injected + 1, first.strip()[:60]


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version
    out = {"python": platform.python_version()}
    for pkg in ("salesbook", "pandas", "ibis-framework", "duckdb", "sqlglot", "plotly", "papermill",
                "nbconvert", "pandera", "statsmodels"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def _warm_kernel(kernel: str, cwd: Path, modules: list[str], timeout: int = 120,
                 sockets: Path | None = None) -> Any:
    """A kernel for one notebook, started now in ``cwd``, that has imported ``modules`` (:mod:`salesbook.run.warm`).

    Started in the calling thread's event loop, where papermill (nbclient) then runs the notebook
    on it; the caller shuts it down. ``SALESBOOK_REPORT`` is set in its environment. With ``sockets``
    (a folder; POSIX) it talks over Unix sockets there rather than over TCP on localhost: no open port,
    and no warning in a scheduled run's log about TCP without encryption.
    """
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    async def start() -> AsyncKernelManager:
        own = uuid.uuid4().hex[:8]  # kernels starting together would otherwise pick the same files
        # the connection file (it holds the kernel's key) beside the sockets, not in Jupyter's runtime folder:
        # removed with them, or by the next run when this one dies
        where = {"connection_file": str(sockets / f"kernel-{own}.json")} if sockets is not None else {}
        if sockets is not None and os.name == "posix":
            km = AsyncKernelManager(kernel_name=kernel, transport="ipc", ip=str(sockets / own), **where)
        else:
            km = AsyncKernelManager(kernel_name=kernel, **where)
        # as nbclient starts its kernels: no history database shared by the kernels running side by side
        await km.start_kernel(cwd=str(cwd), env={**os.environ, "SALESBOOK_REPORT": "1"},
                              extra_arguments=["--HistoryManager.hist_file=:memory:"])
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=timeout)
            # silent: no output, no history, no execution count; binds no name in the notebook's namespace
            msg_id = kc.execute(f"__import__('salesbook.run.warm', fromlist=['warm']).warm({modules!r})",
                                silent=True, store_history=False, allow_stdin=False)
            while (await kc.get_shell_msg(timeout=timeout))["parent_header"].get("msg_id") != msg_id:
                pass
        except BaseException:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
            raise
        kc.stop_channels()
        return km

    return run_sync(start)()


def _ask_to_stop(km: Any) -> None:
    """Ask the kernel to shut down without waiting for it: its thread moves on to the next notebook."""
    from jupyter_core.utils import run_sync
    try:
        run_sync(km.request_shutdown)()
    except Exception:  # noqa: BLE001 - already gone; _stop_kernel makes sure
        pass


def _stop_kernel(km: Any) -> None:
    """Wait for a kernel asked to stop (killed if it has not after ``shutdown_wait_time``), remove its files."""
    from jupyter_core.utils import run_sync
    try:
        run_sync(km.finish_shutdown)()
    except Exception:  # noqa: BLE001 - already gone
        pass
    try:
        run_sync(km.cleanup_resources)()
    except Exception:  # noqa: BLE001
        pass


def _longest_first(names: list[str], prev: Path | None) -> list[str]:
    """The order to start the tasks in: longest first, by the times of the previous run ``prev`` (fewer idle
    cores at the end); the given order without one. Tasks the previous run did not time come first."""
    took: dict[str, float] = {}
    if prev is not None:
        try:
            took = json.loads((prev / "run.json").read_text(encoding="utf-8")).get("seconds") or {}
        except (OSError, ValueError):
            took = {}
    return sorted(names, key=lambda name: -float(took.get(name, float("inf"))))



#: kernel socket folders are named by the process that made them: ``salesbook-kernels-<pid>-...``
SOCKETS_PREFIX = "salesbook-kernels-"
LOCK_FILE = ".salesbook.lock"
_RUN_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def check_run_name(name: str) -> str:
    """A run name is a plain folder name: letters, digits, ``_``, ``-``, ``.``; no separator, not hidden."""
    if not _RUN_NAME.match(name) or ".." in name:
        raise ParameterError(f"run name {name!r}: use letters, digits, '_', '-' and '.', with no '/' and no "
                             "leading dot (it names a folder inside the output folder)")
    return name


class RunBusy(ParameterError):
    """Another run is writing to the same output folder."""


def _lock_output(out: Path, wait: float = 0.0) -> Any:
    """Hold ``out``'s lock for this run (an open file, flock). Another run holding it: wait up to ``wait``
    seconds, then :class:`RunBusy` naming its pid and start. A process that dies releases its lock."""
    handle = open(out / LOCK_FILE, "a+", encoding="utf-8")
    try:
        import fcntl
    except ImportError:  # Windows: no advisory lock; runs are not serialised there
        return handle
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise RunBusy(f"another run ({holder}) is writing to {out}; try again later, or give --wait "
                              "SECONDS to wait for it") from None
            time.sleep(0.5)
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}, started {_dt.datetime.now().strftime('%Y-%m-%d %H:%M:%S')}")
    handle.flush()
    return handle


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_leftovers(out: Path) -> list[str]:
    """Remove what dead runs left (called under the output folder's lock, so no live run owns them): their
    temporary folders in ``out``, and kernel socket folders (sockets and connection files, which hold the
    kernels' keys) whose process is gone. Returns what was removed."""
    removed = []
    for folder in sorted(out.glob(".tmp-*")) + sorted(out.glob(".old-*")):
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(str(folder))
    for folder in Path(tempfile.gettempdir()).glob(f"{SOCKETS_PREFIX}*"):
        pid = folder.name[len(SOCKETS_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(str(folder))
    return removed


def _spark_lines(log: Path | None, start: int) -> list[str]:
    """What Spark's driver wrote to its log (:func:`salesbook.data.engines.spark_log_file`) since ``start``:
    its WARN lines belong in the run's log, not on the terminal."""
    if log is None or not log.exists() or log.stat().st_size <= start:
        return []
    with open(log, "rb") as f:
        f.seek(start)
        return [ln for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]


def _set_aside(tmp: Path, failed: Path, lines: list[str], exc: BaseException) -> None:
    """After a failure: keep only what diagnoses it (the executed notebooks and ``run.log``, with the
    traceback) in ``failed``; nothing when nothing ran (bad data or parameters say it all in one line);
    and never a half-written folder, even when the disk is full."""
    if not tmp.exists():
        return
    try:
        if isinstance(exc, (ParameterError, DataError)) and not any((tmp / "notebooks").glob("*.ipynb")):
            raise OSError("nothing ran: nothing to keep")
        for item in tmp.iterdir():
            if item.name != "notebooks":
                shutil.rmtree(item) if item.is_dir() else item.unlink()
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        (tmp / "run.log").write_text("\n".join(lines) + "\n" + trace, encoding="utf-8")
        shutil.rmtree(failed, ignore_errors=True)
        os.replace(tmp, failed)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def run(notebooks: Iterable[str] | None = None, *, source: str = "sample", mapping: str = "",
        as_of: str = "", lang: str = "en", currency: str | None = None, out: Path | None = None,
        run_name: str | None = None,
        parameters: dict[str, dict[str, Any]] | None = None, kernel: str = "python3",
        log: Callable[[str], None] | None = None, timeout: int = 1800, progress: bool = False,
        config: dict[str, Any] | None = None, pipeline: str | None = None, plan_file: str | None = None,
        jobs: int = 2, wait: float = 0.0, cache: bool = True, single_file: bool = False,
        pdf: bool = False, per_manager: bool = False) -> RunResult:
    """Run workbooks and publish their HTML reports under ``out/<run_name>/``.

    Parameters
    ----------
    notebooks
        Names (``"00"``, ``"00_overview"``) or paths; all numbered notebooks when empty.
    source, mapping, as_of, lang, currency
        Passed to every notebook that declares them (``as_of`` ``""``: last date in the data; ``currency``:
        the ISO 4217 code of the amounts, shown as the language writes it; default the mapping's
        ``currency:``, else RUB).
    parameters
        Per-notebook extra parameters: ``{"01_segmentation": {"window_months": 12}}``.
    run_name
        Folder name of the run (a plain name); default: the current date and time.
    wait
        Seconds to wait for another run writing to the same output folder (default 0: stop at once with
        :class:`RunBusy`). One run at a time per output folder.
    cache
        ``False``: build the cube for this run only, neither reading nor keeping the cache.
    single_file
        Also write ``<run>.html``: the summary and every workbook in one self-contained page, for mail.
    pdf
        Also write ``summary.pdf`` and each workbook's PDF (A4) with headless Chromium.
    per_manager
        Also write ``managers/<manager>/`` (his one-page summary and his Excel, only his clients), and a
        scorecard of the managers in the summary.
    jobs
        Notebooks executed at the same time, each in its own kernel (each holds the cube in memory),
        longest first by the previous run's times; the first kernels start, and import what their
        notebooks import, while the cube is built. Pages are rendered as notebooks finish and listed in
        the plan's order. ``1``: one after another.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from salesbook.cube import get_cube

    lines: list[str] = []
    user_log = log or (lambda msg: None)

    def log(msg: str) -> None:  # every message also goes to the run's log file
        lines.append(f"{_dt.datetime.now().isoformat(timespec='seconds')} {msg}")
        user_log(msg)

    out = Path(out or paths.REPORTS_DIR)
    from salesbook.data.engines import SPARK, spark_log_file
    spark_log = spark_log_file() if str(source).startswith(SPARK) else None  # Spark's WARN lines: to run.log
    spark_from = spark_log.stat().st_size if spark_log is not None and spark_log.exists() else 0
    as_of = resolve_as_of(as_of)
    guessed_mapping = None
    if mapping == "auto":  # the proposal, when every required column is found with high confidence
        from salesbook.data.propose import auto_mapping
        guessed_mapping = auto_mapping(source, lang)
        log("mapping guessed from the file's columns (--mapping auto): written to mapping.yml in the run's folder")
    from salesbook.views.display import check_currency, using_currency
    from salesbook.data.mapping import currency_of
    currency = check_currency(currency or currency_of(None if guessed_mapping else mapping or None))  # given, else the mapping's, else RUB
    if pdf:
        from salesbook.run.pdf import find_chromium
        find_chromium()  # before anything runs: a machine without Chromium is told at once
    from salesbook.analysis.forecast import pipeline_for
    pipeline = pipeline_for(pipeline or "", source) or None  # the sample's own invented deals, with the sample only: never a real company's
    plan_rows = _check_plan(plan_file, currency)  # before anything runs: a bad plan is one line, exit 2
    run_name = check_run_name(run_name or _dt.datetime.now().strftime("%Y-%m-%d_%H%M%S"))
    tmp = out / f".tmp-{run_name}-{os.getpid()}-{uuid.uuid4().hex[:6]}"  # unique: two runs never share it
    if guessed_mapping is not None:  # read from the run's folder while it runs; it stays there after
        mapping = str((tmp / "mapping.yml").resolve())
    chosen = list_notebooks(notebooks)
    if not chosen:
        raise ParameterError(f"no notebooks found in {paths.NOTEBOOKS_DIR}")
    from salesbook.analysis import settings as run_settings
    plan = plan_parameters(chosen, {"source": str(source), "mapping": mapping or "", "as_of": as_of or "",
                                    "lang": lang, "currency": currency, "pipeline": pipeline or "", "plan": plan_file or "",
                                    "settings": run_settings.SETTINGS_FILE},
                           parameters)
    settings = run_settings.from_parameters(parameters)  # one object: every workbook, the summary and the packs

    out.mkdir(parents=True, exist_ok=True)
    lock = _lock_output(out, wait)  # one run at a time per output folder
    try:
        for swept in _sweep_leftovers(out):
            log(f"removed the leftovers of a run that died: {swept}")
        tmp.mkdir(parents=True)
        if guessed_mapping is not None:
            (tmp / "mapping.yml").write_text(guessed_mapping, encoding="utf-8")
        (tmp / "notebooks").mkdir()
        write_assets(tmp)  # plotly.js, the stylesheet and DataTables, once for the summary and every page
        run_settings.write(settings, tmp / run_settings.SETTINGS_FILE)  # the kernels' cwd is tmp
        pages: dict[int, tuple[str, str]] = {}  # plan position -> (title, page file)
        nav_pages = [(planned_title(p.stem, lang), f"{p.stem}.html") for p, _ in plan]  # every page's bar
        old_env = {k: os.environ.get(k) for k in ("SALESBOOK_REPORT", "SALESBOOK_CACHE")}
        os.environ["SALESBOOK_REPORT"] = "1"
        cache_dir = None if cache else tmp / ".cube-cache"  # cache=False: a cube of this run's own, then gone
        if cache_dir is not None:
            os.environ["SALESBOOK_CACHE"] = str(cache_dir)  # the kernels read the cube the runner builds
        from tqdm.auto import tqdm
        bar = tqdm(total=len(plan), desc="salesbook", unit="notebook", disable=not progress, file=sys.stderr)
        seconds: dict[str, float] = {}
        cube_ready, cube_failed = threading.Event(), threading.Event()
        kernels: list[Any] = []
        # the kernels' sockets and connection files (their keys), in a folder named by this process: a later run
        # removes it if this one dies (kill -9); short, as a Unix socket path has 107 bytes
        sockets = Path(tempfile.mkdtemp(prefix=f"{SOCKETS_PREFIX}{os.getpid()}-"))

        def wait_for_cube() -> None:
            cube_ready.wait()
            if cube_failed.is_set():
                raise RunError("the cube was not built")

        def execute(i: int, nb_path: Path, params: dict[str, Any]) -> tuple[nbformat.NotebookNode, float]:
            # the kernel starts in tmp, and imports what the notebook imports, while the cube is still being built
            # (papermill is given no cwd: it would os.chdir the whole process from this thread)
            source_cells = [c.source for c in nbformat.read(nb_path, as_version=4).cells if c.cell_type == "code"]
            km = _warm_kernel(kernel, tmp, imported_modules(source_cells), sockets=sockets)
            kernels.append(km)
            try:
                wait_for_cube()
                log(f"[{i + 1}/{len(plan)}] {nb_path.stem}")
                t1 = time.perf_counter()
                nb = papermill.execute_notebook(str(nb_path), str(tmp / "notebooks" / nb_path.name), parameters=params,
                                                kernel_name=kernel, progress_bar=False, cwd=None,
                                                execution_timeout=timeout, km=km)
                return nb, time.perf_counter() - t1
            finally:
                _ask_to_stop(km)  # waited for once every notebook ran

        from salesbook.run.summary import CATEGORIES_FILE, SUMMARY_FILE, index_page, previous_run, summarise, what_changed
        prev = previous_run(out, run_name)  # its times order this run's tasks; its figures are compared at the end

        def summary() -> tuple[dict[str, Any], pd.DataFrame]:
            wait_for_cube()
            t1 = time.perf_counter()
            with using_currency(currency):
                result = summarise(cube, lang, pipeline=pipeline, plan=plan_file, settings=settings)
            seconds["summary"] = time.perf_counter() - t1
            return result

        # notebooks run ``jobs`` at a time, each in its own kernel, and the summary (from the cube, in this
        # process) among them, longest first; the first kernels start (and import) while this thread builds the
        # cube. Pages are rendered here as notebooks finish
        pool = ThreadPoolExecutor(max_workers=max(1, min(jobs, len(plan))), thread_name_prefix="salesbook-run")
        # the HTML exporter's templates, and what the summary imports (statsmodels, scipy: 3 s), made ready aside
        threading.Thread(target=_warm_runner, args=(lang, cube_ready), name="salesbook-warm", daemon=True).start()
        try:
            position = {nb_path.stem: i for i, (nb_path, _) in enumerate(plan)}
            futures = {}
            started = _longest_first(list(position) + ["summary"], prev)
            for name in started:
                if name == "summary":
                    summarised = pool.submit(summary)
                else:
                    futures[pool.submit(execute, position[name], *plan[position[name]])] = position[name]
            t0 = time.perf_counter()
            log(f"loading {source}")
            cube = get_cube(source, mapping or None, as_of or None, cache_dir=cache_dir)  # once; notebooks read it
            if plan_rows is not None:  # its managers against the data's, before any workbook reads the cube
                from salesbook.analysis.forecast import check_plan_managers
                check_plan_managers(plan_rows, cube, str(plan_file))
            cube_ready.set()
            if cube.profile.no_data_months:
                log(f"WARNING: the data end on {cube.report.last_date}, before the analysis date {cube.report.as_of}: "
                    f"{len(cube.profile.no_data_months)} month(s) without data are left out, not read as zero sales")
            seconds.update(cube.meta.get("seconds") or {"cube (cached)": time.perf_counter() - t0})
            for future in as_completed(futures):
                i = futures[future]
                nb_path, params = plan[i]
                bar.set_postfix_str(nb_path.stem)
                try:
                    nb, seconds[nb_path.stem] = future.result()
                except PapermillExecutionError as exc:  # named here; the handler below moves the folder
                    failed = out / f".failed-{run_name}"
                    number, first_line = _source_cell(tmp / "notebooks" / nb_path.name, exc.cell_index)
                    raise RunError(f"{nb_path.name} failed at cell {number} (counting from 1, "
                                   f"the cell starting {first_line!r}): {exc.ename}: {exc.evalue}. "
                                   f"The executed notebook is in {failed / 'notebooks' / nb_path.name}; "
                                   "the last good report is untouched.", nb_path.name, number) from None
                t1 = time.perf_counter()
                page = tmp / f"{nb_path.stem}.html"
                page.write_text(render_html(nb, lang, params, pages=nav_pages, current=page.name), encoding="utf-8")
                seconds[f"{nb_path.stem} html"] = time.perf_counter() - t1
                pages[i] = (_title_of(nb, nb_path.stem), page.name)
                bar.update(1)
            log("summary")
            figures, categories = summarised.result()
        except BaseException as exc:
            if not cube_ready.is_set():  # the tasks waiting for the cube give up
                cube_failed.set()
                cube_ready.set()
            pool.shutdown(wait=True, cancel_futures=True)  # the other kernels stop before the folder moves
            log(f"FAILED: {exc}")
            bar.close()
            raise  # the folder is kept aside (or removed) below
        finally:
            pool.shutdown(wait=True)
            for km in kernels:
                _stop_kernel(km)
            shutil.rmtree(sockets, ignore_errors=True)
            bar.close()
            for k, v in old_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            if cache_dir is not None:
                shutil.rmtree(cache_dir, ignore_errors=True)
        entries = [pages[i] for i in sorted(pages)]
        reports = [tmp / page for _, page in entries]

        changes = None
        if prev is not None:
            prev_figures = json.loads((prev / SUMMARY_FILE).read_text(encoding="utf-8"))
            prev_cats = pd.read_csv(prev / CATEGORIES_FILE, dtype={"client_id": str})
            prev_cats["client_id"] = prev_cats.client_id.map(restored)
            changes = what_changed(prev_figures, figures, prev_cats, categories)
            changes["previous_run"] = prev.name
        finished = _dt.datetime.now()
        info = {"run": run_name, "source": cube.report.source, "as_of": cube.report.as_of, "lang": lang,
                "notebooks": {p.stem: prm for p, prm in plan}, "started": started,
                "seconds": {k: round(v, 2) for k, v in seconds.items()},
                "finished": finished.isoformat(timespec="seconds"), "versions": _versions(),
                "argv": sys.argv, "config": config or {}}
        (tmp / "run.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
        (tmp / "load_report.json").write_text(cube.report.to_json(), encoding="utf-8")
        from salesbook.formats import plain
        (tmp / SUMMARY_FILE).write_text(plain(json.dumps({**figures, "changes": changes}, ensure_ascii=False, indent=1,
                                                         default=str)), encoding="utf-8")  # text, without the pages' marks
        write_plain_csv(categories, tmp / CATEGORIES_FILE)  # client ids neutralised as in every export
        exports = sorted(p.name for p in (tmp / "exports").glob("*.xlsx")) if (tmp / "exports").is_dir() else []
        scorecard = None
        if per_manager:
            from salesbook.views.display import using_currency as _currency
            from salesbook.run.managers import write_packs
            with _currency(currency):
                scorecard = write_packs(cube, tmp, lang, pipeline or "", str(source), settings=settings,
                                        plan=plan_file or "")
            log(f"manager packs: {len(scorecard)}")
        (tmp / "index.html").write_text(index_page(run_name, entries, figures, changes, lang,
                                                   finished.strftime("%Y-%m-%d %H:%M"), __version__, files=exports,
                                                   nav=nav_pages, scorecard=scorecard), encoding="utf-8")
        from salesbook.run.summary import _CSS as SUMMARY_CSS
        from salesbook.views.glossary import GLOSSARY_PAGE, glossary_page
        from salesbook.views.pages import PAGE_CSS, nav_html
        (tmp / GLOSSARY_PAGE).write_text(glossary_page(lang, settings, SUMMARY_CSS + PAGE_CSS,
                                                       nav_html(nav_pages, GLOSSARY_PAGE, lang)), encoding="utf-8")

        if single_file:
            from plotly.offline import get_plotlyjs

            from salesbook.views.pages import single_file as one_page
            bodies = [(page, title, (tmp / page).read_text(encoding="utf-8"))
                      for title, page in entries + [(t("gloss.title", lang), GLOSSARY_PAGE)]]
            mail = tmp / f"{run_name}.html"
            mail.write_text(one_page((tmp / "index.html").read_text(encoding="utf-8"), bodies, get_plotlyjs(),
                                     page_stylesheet(), (tmp / TABLES_FILE).read_text(encoding="utf-8")),
                            encoding="utf-8")
            log(f"single file: {mail.name} ({mail.stat().st_size / 1e6:.1f} MB)")
        if pdf:
            from salesbook.run.pdf import print_pdfs
            t1 = time.perf_counter()
            printed = print_pdfs([tmp / "index.html"] + reports, jobs=jobs)
            seconds["pdf"] = time.perf_counter() - t1
            log(f"PDF: {', '.join(p.name for p in printed)}")
        _pack_notebooks(tmp)
        log(f"finished: {run_name}")
        lines.extend(_spark_lines(spark_log, spark_from))
        (tmp / "run.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
        final = out / run_name
        if final.exists():  # same run name again: swap, so a reader never sees half a folder
            old = out / f".old-{run_name}"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
        latest = out / "latest"
        try:
            if latest.is_symlink() or latest.exists():
                latest.unlink()
            latest.symlink_to(final.name, target_is_directory=True)
        except OSError:
            (out / "LATEST").write_text(final.name, encoding="utf-8")
        user_log(f"done: {final / 'index.html'}")
        return RunResult(final, final / "index.html", [final / p.name for p in reports], seconds)
    except BaseException as exc:
        _set_aside(tmp, out / f".failed-{run_name}", lines + _spark_lines(spark_log, spark_from), exc)
        raise
    finally:
        lock.close()  # releases the lock (a dead process releases it too)
