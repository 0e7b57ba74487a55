"""Run the workbooks with papermill and publish HTML reports, atomically: a run as a list of small steps.

A run, as :func:`run` composes it:

1. :func:`plan_run`: what runs, with which settings (every check before anything is touched);
2. :func:`~salesbook.run.folder.lock_output`: one run at a time per output folder;
3. :func:`prepare_folder`: a temporary folder beside the last good report, what dead runs left removed;
4. :func:`execute`: the notebooks through an :class:`~salesbook.run.kernels.Engine` (papermill by default),
   while this process builds or reads the cube (:func:`build_cube`), renders each page as its notebook
   finishes (:func:`render_page`) and summarises the run (:func:`summarise_run`);
5. :func:`write_records`, :func:`write_manager_packs`, :func:`write_index`, :func:`write_single_file`,
   :func:`print_pdf`: the run's files;
6. :func:`publish`: the folder swapped into place, ``latest`` pointed at it.

Everything is written to the temporary folder first and moved into place only when every notebook
succeeded, so the last good report is never overwritten; a failed run keeps its executed notebooks and
``run.log`` under ``reports/.failed-<run>/`` and raises :class:`RunError` naming the notebook and the cell.
Each step takes and returns small frozen records (:class:`RunPlan`, :class:`Workspace`, :class:`Executed`), so
``tests/test_run_steps.py`` drives them with a fake engine, without a kernel. Rendering lives in
:mod:`salesbook.run.render`, the kernels in :mod:`salesbook.run.kernels`, the output folder in
:mod:`salesbook.run.folder`; their names stay importable from here.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shutil
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import nbformat
import pandas as pd

from salesbook import __version__
from salesbook import paths
from salesbook.errors import ParameterError
from salesbook.views.export import restored, write_plain_csv
from salesbook.i18n import t
from salesbook.run.warm import warm
from salesbook.run.render import (CSS_FILE, PLOTLY_FILE, TABLES_FILE, _exporter, _params_cell, _title_of,  # noqa: F401
                                  page_stylesheet, planned_title, render_html, write_assets, write_plotly)
from salesbook.run.kernels import SOCKETS_PREFIX, CellFailed, Engine, PapermillEngine, _ask_to_stop, _stop_kernel, _warm_kernel  # noqa: F401
from salesbook.run.folder import (LOCK_FILE, NOTEBOOKS_ZIP, RunBusy, RunFile, _alive, _lock_output, _pack_notebooks,  # noqa: F401
                                  _set_aside, _sweep_leftovers, check_run_name, swap_into_place)

__all__ = ["RunError", "RunResult", "run", "list_notebooks", "notebook_parameters", "render_html", "write_plotly",
           "PLOTLY_FILE",
           "check_parameters", "plan_parameters", "resolve_as_of",
           "RunOptions", "RunPlan", "Workspace", "Built", "Page", "Summary", "Executed", "RunLog",
           "plan_run", "prepare_folder", "build_cube", "execute", "render_page", "summarise_run", "compare_with",
           "write_records", "write_manager_packs", "write_index", "write_single_file", "print_pdf", "publish"]

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
            params["output_dir"] = str(RunFile.EXPORTS)  # relative to the run folder (the kernel's cwd): moves with it
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


def _spark_lines(log: Path | None, start: int) -> list[str]:
    """What Spark's driver wrote to its log (:func:`salesbook.data.engines.spark_log_file`) since ``start``:
    its WARN lines belong in the run's log, not on the terminal."""
    if log is None or not log.exists() or log.stat().st_size <= start:
        return []
    with open(log, "rb") as f:
        f.seek(start)
        return [ln for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]


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


#: a workbook's seconds in a typical run (2 cores, 1M to 10M lines): the order of a run without a previous one
TYPICAL_SECONDS = {paths.Workbook.STAGNATION: 17.0, paths.Workbook.SEGMENTATION: 5.0, paths.Workbook.FORECAST: 4.5,
                   paths.Workbook.SEASONALITY: 2.0, paths.Workbook.WHATIF: 1.5, paths.Workbook.OVERVIEW: 1.0}
#: the runner's own task among the notebooks
SUMMARY_TASK = "summary"


def _longest_first(names: list[str], prev: Path | None) -> list[str]:
    """The order to start the tasks in: longest first (fewer idle cores at the end), by the times of the
    previous run ``prev``, else by :data:`TYPICAL_SECONDS`; a notebook timed by neither comes first, in the
    given order. The summary starts last whatever its time: it reads what the workbooks keep beside the cube,
    and started beside them it computes their results itself while their kernels wait for them, holding a
    core's place (at 10M lines: 12.9 s, then workbook 01 started 13 s late)."""
    took: dict[str, float] = {}
    if prev is not None:
        try:
            took = json.loads((prev / RunFile.RUN_INFO).read_text(encoding="utf-8")).get("seconds") or {}
        except (OSError, ValueError):
            took = {}
    times = took or TYPICAL_SECONDS  # a Workbook is its name (a StrEnum): looked up by the notebook's stem
    last = {SUMMARY_TASK: float("-inf")}
    return sorted(names, key=lambda name: -float(last.get(name, times.get(name, float("inf")))))


def _page_of(notebook: Path) -> str:
    """A notebook's page in the run folder: its workbook's (:attr:`~salesbook.paths.Workbook.page`), else
    ``<name>.html`` (a notebook that is no workbook, such as a test's fixture)."""
    workbook = paths.Workbook.named(notebook.stem)
    return workbook.page if workbook is not None and workbook.value == notebook.stem else f"{notebook.stem}.html"


def _warm_runner(lang: str, cube_ready: threading.Event) -> None:
    """Compile the exporter's templates (an empty page), then, once the cube is built and the engine's
    memory released (at 10M lines the peak is the engine's), import the modules the summary imports. Not the
    libraries they import on first use (SciPy, statsmodels: 2-3 s of CPU): the summary reads the results the
    workbooks kept beside the cube, and computes (and imports) only what no workbook of the run computed."""
    render_html(nbformat.v4.new_notebook(), lang)
    cube_ready.wait()
    warm(SUMMARY_IMPORTS, deferred=False)


# --------------------------------------------------------------------------- the records the steps pass on


@dataclass(frozen=True)
class RunOptions:
    """How a run executes and what it writes besides the pages (the rest of :func:`run`'s parameters)."""

    jobs: int = 2
    wait: float = 0.0
    cache: bool = True
    single_file: bool = False
    pdf: bool = False
    per_manager: bool = False
    kernel: str = "python3"
    timeout: int = 1800
    fork: bool | None = None


@dataclass(frozen=True)
class RunPlan:
    """What runs, with which settings: decided and checked before the output folder is touched.

    ``notebooks``: each workbook with the parameters it is given; ``nav``: (title, page file) of every
    workbook, for each page's bar; ``settings``: the run's one :class:`~salesbook.analysis.settings.Settings`.
    """

    run_name: str
    out: Path
    source: str
    mapping: str
    as_of: str
    lang: str
    currency: str
    pipeline: str | None
    plan_file: str | None
    notebooks: tuple[tuple[Path, dict[str, Any]], ...]
    settings: Any
    nav: tuple[tuple[str, str], ...]
    options: RunOptions = RunOptions()
    config: dict[str, Any] = field(default_factory=dict, hash=False)
    #: the run's temporary folder (decided with the plan: a guessed mapping is read from there); None: any
    tmp: Path | None = None
    #: ``--mapping auto``: the mapping proposed from the file's columns, written to ``mapping.yml`` in ``tmp``
    guessed_mapping: str | None = None
    #: the plan file's rows, read and checked (its managers are checked against the cube's once it is built)
    plan_rows: Any = field(default=None, hash=False, compare=False)
    #: a Spark source: Spark's driver log, and its size when the run started (its WARN lines go to run.log)
    spark_log: Path | None = None
    spark_from: int = 0

    def spark_lines(self) -> list[str]:
        """What Spark's driver wrote since the run started (none without Spark)."""
        return _spark_lines(self.spark_log, self.spark_from)

    @property
    def failed(self) -> Path:
        """Where a failed run is set aside."""
        return self.out / f".failed-{self.run_name}"


@dataclass(frozen=True)
class Workspace:
    """The run's temporary folder in the output folder (the kernels' working folder), and the cube cache of
    the run alone (``cache=False``, or a table in another engine, which no cache can watch for changes: the run
    reads it once, its kernels read the cube it built), removed once the notebooks ran."""

    tmp: Path
    cache_dir: Path | None = None

    @staticmethod
    def folder(out: Path, run_name: str) -> Path:
        """A new temporary folder's path in ``out``: unique, two runs never share it."""
        return out / f".tmp-{run_name}-{os.getpid()}-{uuid.uuid4().hex[:6]}"

    @classmethod
    def for_plan(cls, plan: RunPlan) -> "Workspace":
        from salesbook.data.engines import is_engine_table
        tmp = plan.tmp or cls.folder(plan.out, plan.run_name)
        own = is_engine_table(plan.source) or not plan.options.cache
        return cls(tmp, tmp / ".cube-cache" if own else None)

    @property
    def kernel_env(self) -> dict[str, str]:
        """What the kernels add to their environment: the report mode, and the run's own cube cache."""
        env = {"SALESBOOK_REPORT": "1"}
        if self.cache_dir is not None:  # the kernels read the cube the runner builds, whatever its source
            env.update(SALESBOOK_CACHE=str(self.cache_dir), SALESBOOK_RUN_CACHE="1")
        return env


@dataclass(frozen=True)
class Built:
    """The cube the notebooks and the summary read, and how long each stage of building it took."""

    cube: Any
    seconds: dict[str, float] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Page:
    """A rendered workbook: its title (the first heading it printed) and its page file in the run folder."""

    title: str
    file: str


@dataclass(frozen=True)
class Summary:
    """The run's key figures (``summary.json``) and every client's category (``categories.csv``)."""

    figures: dict[str, Any] = field(hash=False)
    categories: pd.DataFrame = field(hash=False)


@dataclass(frozen=True)
class Executed:
    """What :func:`execute` leaves: the cube, the pages in the plan's order, the summary, the times."""

    cube: Any
    pages: tuple[Page, ...]
    summary: Summary
    seconds: dict[str, float] = field(hash=False)
    started: tuple[str, ...] = ()


class RunLog:
    """The run's messages: each goes to ``user`` (the terminal) and, stamped, to the run's ``run.log``."""

    def __init__(self, user: Callable[[str], None] | None = None):
        self.user = user or (lambda msg: None)
        self.lines: list[str] = []

    def __call__(self, msg: str) -> None:
        self.lines.append(f"{_dt.datetime.now().isoformat(timespec='seconds')} {msg}")
        self.user(msg)

    def write(self, path: Path) -> None:
        path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- the steps


def plan_run(notebooks: Iterable[str] | None = None, *, source: str = "sample", mapping: str = "",
             as_of: str = "", lang: str = "en", currency: str | None = None, out: Path | None = None,
             run_name: str | None = None, parameters: dict[str, dict[str, Any]] | None = None,
             pipeline: str | None = None, plan_file: str | None = None, options: RunOptions = RunOptions(),
             config: dict[str, Any] | None = None, log: Callable[[str], None] = lambda msg: None) -> RunPlan:
    """Plan: the notebooks, each with its checked parameters, and the run's settings. A mistake (a date,
    a currency, a parameter, a run name, ``--pdf`` without Chromium) stops here, before anything runs.
    ``mapping="auto"``: the mapping proposed from the file's columns, when every required column is found
    with high confidence; the notebooks read it from ``mapping.yml`` in the run's folder."""
    from salesbook.analysis import settings as run_settings
    from salesbook.analysis.forecast import pipeline_for
    from salesbook.data.mapping import currency_of
    from salesbook.views.display import check_currency

    from salesbook.data.engines import SPARK, spark_log_file
    spark_log = spark_log_file() if str(source).startswith(SPARK) else None  # Spark's WARN lines: to run.log
    spark_from = spark_log.stat().st_size if spark_log is not None and spark_log.exists() else 0
    as_of = resolve_as_of(as_of)
    guessed_mapping = None
    if mapping == "auto":  # the proposal, when every required column is found with high confidence
        from salesbook.data.propose import auto_mapping
        guessed_mapping = auto_mapping(source, lang)
        log("mapping guessed from the file's columns (--mapping auto): written to mapping.yml in the run's folder")
    # given, else the mapping's, else RUB
    currency = check_currency(currency or currency_of(None if guessed_mapping else mapping or None))
    if options.pdf:
        from salesbook.run.pdf import find_chromium
        find_chromium()  # before anything runs: a machine without Chromium is told at once
    # the sample's own invented deals, with the sample only: never a real company's
    pipeline = pipeline_for(pipeline or "", source) or None
    plan_rows = _check_plan(plan_file, currency)  # before anything runs: a bad plan is one line, exit 2
    run_name = check_run_name(run_name or _dt.datetime.now().strftime("%Y-%m-%d_%H%M%S"))
    out = Path(out or paths.REPORTS_DIR)
    tmp = Workspace.folder(out, run_name)
    if guessed_mapping is not None:  # read from the run's folder while it runs; it stays there after
        mapping = str((tmp / RunFile.MAPPING).resolve())
    chosen = list_notebooks(notebooks)
    if not chosen:
        raise ParameterError(f"no notebooks found in {paths.NOTEBOOKS_DIR}")
    planned = plan_parameters(chosen, {"source": str(source), "mapping": mapping or "", "as_of": as_of or "",
                                       "lang": lang, "currency": currency, "pipeline": pipeline or "",
                                       "plan": plan_file or "", "settings": run_settings.SETTINGS_FILE},
                              parameters)
    return RunPlan(run_name=run_name, out=out, source=str(source), mapping=mapping or "",
                   as_of=as_of, lang=lang, currency=currency, pipeline=pipeline, plan_file=plan_file,
                   notebooks=tuple(planned),
                   # one object: every workbook, the summary and the packs
                   settings=run_settings.from_parameters(parameters),
                   nav=tuple((planned_title(p.stem, lang), _page_of(p)) for p, _ in planned),
                   options=options, config=dict(config or {}), tmp=tmp, guessed_mapping=guessed_mapping,
                   plan_rows=plan_rows, spark_log=spark_log, spark_from=spark_from)


def prepare_folder(plan: RunPlan, work: Workspace, log: Callable[[str], None]) -> None:
    """Under the lock: remove what dead runs left, make the temporary folder with the files every page loads
    (plotly.js, the stylesheet, DataTables: one copy each) and the run's settings (the kernels' cwd is it)."""
    from salesbook.analysis import settings as run_settings
    for swept in _sweep_leftovers(plan.out):
        log(f"removed the leftovers of a run that died: {swept}")
    work.tmp.mkdir(parents=True)
    if plan.guessed_mapping is not None:
        (work.tmp / RunFile.MAPPING).write_text(plan.guessed_mapping, encoding="utf-8")
    (work.tmp / RunFile.NOTEBOOKS_DIR).mkdir()
    write_assets(work.tmp)
    run_settings.write(plan.settings, work.tmp / run_settings.SETTINGS_FILE)


def build_cube(plan: RunPlan, work: Workspace, log: Callable[[str], None]) -> Built:
    """Build the cube, or read it from the cache: once, in this process; the notebooks and the summary read it."""
    from salesbook.cube import get_cube
    from salesbook.cube.build import give_back_memory
    t0 = time.perf_counter()
    log(f"loading {plan.source}")
    # every table, now: the workbooks read them all, each in its kernel, from the cache (a kernel that found
    # a table missing would build it there, under the table's lock, from the file again)
    cube = get_cube(plan.source, plan.mapping or None, plan.as_of or None, cache_dir=work.cache_dir, tables=True,
                    run_cache=work.cache_dir is not None)
    if plan.plan_rows is not None:  # its managers against the data's, before any workbook reads the cube
        from salesbook.analysis.forecast import check_plan_managers
        check_plan_managers(plan.plan_rows, cube, str(plan.plan_file))
    if cube.profile.no_data_months:
        log(f"WARNING: the data end on {cube.report.last_date}, before the analysis date {cube.report.as_of}: "
            f"{len(cube.profile.no_data_months)} month(s) without data are left out, not read as zero sales")
    # its tables are in the cache folder, where the kernels read them: not held here while the workbooks run, when
    # that folder outlives the run (a run's own cache is removed once the notebooks ran; the packs and pages
    # written after them read the tables from memory)
    if work.cache_dir is None:
        cube.forget()
    give_back_memory()
    return Built(cube, dict(cube.meta.get("seconds") or {"cube (cached)": time.perf_counter() - t0}))


def render_page(plan: RunPlan, work: Workspace, notebook: Path, parameters: dict[str, Any],
                nb: nbformat.NotebookNode) -> Page:
    """Render an executed notebook into its page in the temporary folder (no code, the run's bar)."""
    page = work.tmp / _page_of(notebook)
    page.write_text(render_html(nb, plan.lang, parameters, pages=list(plan.nav), current=page.name), encoding="utf-8")
    return Page(_title_of(nb, notebook.stem), page.name)


def summarise_run(plan: RunPlan, cube: Any) -> Summary:
    """The run's summary (key figures, findings, categories), from the cube, in the run's language and currency."""
    from salesbook.formats import Lang
    from salesbook.run.summary import summarise
    figures, categories = summarise(cube, Lang(plan.lang, plan.currency), pipeline=plan.pipeline,
                                    plan=plan.plan_file, settings=plan.settings)
    return Summary(figures, categories)


def _failed_notebook(plan: RunPlan, work: Workspace, notebook: Path, exc: CellFailed) -> RunError:
    number, first_line = _source_cell(work.tmp / RunFile.NOTEBOOKS_DIR / notebook.name, exc.cell_index)
    return RunError(f"{notebook.name} failed at cell {number} (counting from 1, the cell starting {first_line!r}): "
                    f"{exc.ename}: {exc.evalue}. The executed notebook is in "
                    f"{plan.failed / RunFile.NOTEBOOKS_DIR / notebook.name}; the last good report is untouched.",
                    notebook.name, number)


#: kernels started ahead beyond the ``jobs`` that run notebooks (:class:`_KernelsAhead`), once the cube is built, for
#: data of fewer than :data:`SPARE_BELOW` lines
SPARE_KERNELS = 2
#: from this many lines kept, one kernel to spare: at 10M lines a second one (70 MB) was idle beside workbook 03's
#: peak (1.5-1.6 GB), where the suite's peak is (2.41-2.55 GB with it, 2.31-2.45 GB without), and its 0.4 s start
#: is a few percent of workbooks that take seconds each
SPARE_BELOW = 2_000_000


class _KernelsAhead:
    """Each notebook's kernel started ahead, in the order the notebooks run, ``jobs`` at a time, while at most
    ``jobs + 1`` are started and not let go while the cube is built (:meth:`spare`: ``jobs`` +
    :data:`SPARE_KERNELS` after), each next one while the notebooks before it run. Started when its notebook was
    (after the one before it), a kernel cost each of a run's notebooks 0.4-0.5 s, half of it waiting (2 cores: the
    kernel forked, its sockets, its imports). With one kernel to spare, a lane that finished a notebook still
    waited for the next one's kernel (twice in the sample run: 0.4 s each); with two, it did not (the sample run,
    cube cached, 4.7-4.9 -> 4.2-4.7 s). While the cube is built, one: the runner's peak is there at 10M lines; and
    one on big data (:data:`SPARE_BELOW`)."""

    def __init__(self, engine: Engine, cwd: Path, order: list[tuple[int, Path]], jobs: int) -> None:
        self.engine, self.cwd = engine, cwd
        self.room, self.stopping = jobs + 1, False
        self.changed = threading.Condition()
        self.starter = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="salesbook-kernel")
        self.taken: set[int] = set()
        self.futures = {i: self.starter.submit(self._start, notebook) for i, notebook in order}

    def _start(self, notebook: Path) -> Any:
        with self.changed:
            while not self.room and not self.stopping:
                self.changed.wait()
            if self.stopping:
                raise RunError("the run stopped before this notebook's kernel started")
            self.room -= 1
        try:
            return self.engine.start(notebook, self.cwd)
        except BaseException:
            self._free()
            raise

    def _free(self, n: int = 1) -> None:
        with self.changed:
            self.room += n
            self.changed.notify_all()

    def spare(self) -> None:
        """The cube is built: :data:`SPARE_KERNELS` kernels started ahead from now on, not one."""
        self._free(SPARE_KERNELS - 1)

    def take(self, i: int) -> Any:
        """Notebook ``i``'s kernel, once started (its start's error, if it failed)."""
        self.taken.add(i)
        return self.futures[i].result()

    def release(self, handle: Any) -> None:
        self.engine.release(handle)
        self._free()

    def stop(self) -> None:
        with self.changed:
            self.stopping = True
            self.changed.notify_all()

    def close(self) -> None:
        """No more starts; the kernels started for notebooks that never ran are let go."""
        self.stop()
        self.starter.shutdown(wait=True, cancel_futures=True)
        for i, future in self.futures.items():
            if i not in self.taken and future.done() and not future.cancelled() and future.exception() is None:
                self.engine.release(future.result())


def execute(plan: RunPlan, work: Workspace, engine: Engine, build: Callable[[], Built],
            summarise: Callable[[Any], Summary], *, render: Callable[..., Page] | None = None,
            prev: Path | None = None, log: Callable[[str], None] = lambda msg: None, progress: bool = False,
            warm_up: Callable[[threading.Event], None] | None = None) -> Executed:
    """Execute the notebooks on ``engine``, ``jobs`` at a time, and the summary (``summarise``, in this process)
    after them, longest first by the previous run ``prev`` (:func:`_longest_first`); the first kernels start, and
    import, while this thread builds the cube (``build``), and each next one while the notebooks before it run
    (:class:`_KernelsAhead`). Pages are rendered (``render``, default :func:`render_page`) as notebooks finish.

    A failing cell is a :class:`RunError` naming the notebook and the cell. On any failure (a cell, the
    cube, an interrupt) the tasks waiting for the cube give up and every kernel stops before this returns;
    the run's own cube cache is removed either way.
    """
    from tqdm.auto import tqdm
    render = render or render_page
    notebooks = plan.notebooks
    seconds: dict[str, float] = {}
    cube_ready, cube_failed = threading.Event(), threading.Event()
    built: list[Built] = []

    def wait_for_cube() -> Any:
        cube_ready.wait()
        if cube_failed.is_set():
            raise RunError("the cube was not built")
        return built[0].cube

    def run_notebook(i: int, notebook: Path, params: dict[str, Any]) -> tuple[nbformat.NotebookNode, float]:
        handle = kernels.take(i)  # started ahead: while the cube is still being built, or the notebooks before run
        try:
            wait_for_cube()
            log(f"[{i + 1}/{len(notebooks)}] {notebook.stem}")
            t1 = time.perf_counter()
            nb = engine.execute(handle, notebook, work.tmp / RunFile.NOTEBOOKS_DIR / notebook.name, params)
            return nb, time.perf_counter() - t1
        finally:
            kernels.release(handle)

    def summary() -> Summary:
        cube = wait_for_cube()
        t1 = time.perf_counter()
        result = summarise(cube)
        seconds[SUMMARY_TASK] = time.perf_counter() - t1
        return result

    position = {nb_path.stem: i for i, (nb_path, _) in enumerate(notebooks)}
    started = tuple(_longest_first(list(position) + [SUMMARY_TASK], prev))
    bar = tqdm(total=len(notebooks), desc="salesbook", unit="notebook", disable=not progress, file=sys.stderr)
    jobs = max(1, min(plan.options.jobs, len(notebooks)))
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="salesbook-run")
    kernels = _KernelsAhead(engine, work.tmp, [(position[n], notebooks[position[n]][0]) for n in started
                                               if n != SUMMARY_TASK], jobs)
    if warm_up is not None:
        threading.Thread(target=warm_up, args=(cube_ready,), name="salesbook-warm", daemon=True).start()
    pages: dict[int, Page] = {}
    try:
        futures, summarised = {}, None
        for name in started:
            if name == SUMMARY_TASK:
                summarised = pool.submit(summary)
            else:
                futures[pool.submit(run_notebook, position[name], *notebooks[position[name]])] = position[name]
        built.append(build())
        seconds.update(built[0].seconds)
        cube_ready.set()
        if built[0].cube.report.rows_kept < SPARE_BELOW:
            kernels.spare()
        for future in as_completed(futures):
            i = futures[future]
            notebook, params = notebooks[i]
            bar.set_postfix_str(notebook.stem)
            try:
                nb, seconds[notebook.stem] = future.result()
            except CellFailed as exc:  # named here; the caller sets the folder aside
                raise _failed_notebook(plan, work, notebook, exc) from None
            t1 = time.perf_counter()
            pages[i] = render(plan, work, notebook, params, nb)
            seconds[f"{notebook.stem} html"] = time.perf_counter() - t1
            bar.update(1)
        log("summary")
        result = summarised.result()
    except BaseException as exc:
        if not cube_ready.is_set():  # the tasks waiting for the cube give up
            cube_failed.set()
            cube_ready.set()
        kernels.stop()  # no kernel starts now; a task waiting for one gives up
        pool.shutdown(wait=True, cancel_futures=True)  # the other kernels stop before the folder moves
        log(f"FAILED: {exc}")
        raise
    finally:
        pool.shutdown(wait=True)
        kernels.close()
        engine.close()
        bar.close()
        if work.cache_dir is not None:
            shutil.rmtree(work.cache_dir, ignore_errors=True)
    return Executed(built[0].cube, tuple(pages[i] for i in sorted(pages)), result, seconds, started)


def compare_with(prev: Path | None, summary: Summary) -> dict[str, Any] | None:
    """What changed since the previous run in the same output folder (``None``: there is none)."""
    if prev is None:
        return None
    from salesbook.run.summary import CATEGORIES_FILE, SUMMARY_FILE, what_changed
    prev_figures = json.loads((prev / SUMMARY_FILE).read_text(encoding="utf-8"))
    prev_cats = pd.read_csv(prev / CATEGORIES_FILE, dtype={"client_id": str})
    prev_cats["client_id"] = prev_cats.client_id.map(restored)
    changes = what_changed(prev_figures, summary.figures, prev_cats, summary.categories)
    changes["previous_run"] = prev.name
    return changes


def write_records(plan: RunPlan, work: Workspace, done: Executed, changes: dict[str, Any] | None,
                  finished: _dt.datetime) -> None:
    """``run.json`` (parameters, config, versions, times), ``load_report.json``, ``summary.json`` (the key
    figures and what changed, as text) and ``categories.csv`` (every client's category, for the next run)."""
    from salesbook.formats import plain
    from salesbook.run.summary import CATEGORIES_FILE, SUMMARY_FILE
    report = done.cube.report
    info = {"run": plan.run_name, "source": report.source, "as_of": report.as_of, "lang": plan.lang,
            "notebooks": {p.stem: prm for p, prm in plan.notebooks}, "started": list(done.started),
            "seconds": {k: round(v, 2) for k, v in done.seconds.items()},
            "finished": finished.isoformat(timespec="seconds"), "versions": _versions(),
            "argv": sys.argv, "config": plan.config}
    (work.tmp / RunFile.RUN_INFO).write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    (work.tmp / RunFile.LOAD_REPORT).write_text(report.to_json(), encoding="utf-8")
    (work.tmp / SUMMARY_FILE).write_text(plain(json.dumps({**done.summary.figures, "changes": changes},
                                                          ensure_ascii=False, indent=1, default=str)),
                                         encoding="utf-8")  # text, without the pages' marks
    write_plain_csv(done.summary.categories, work.tmp / CATEGORIES_FILE)  # client ids neutralised as in every export


def write_manager_packs(plan: RunPlan, work: Workspace, done: Executed, log: Callable[[str], None]) -> Any:
    """``managers/<manager>/``: each manager's one-page summary and Excel; returns the scorecard."""
    from salesbook.formats import Lang
    from salesbook.run.managers import write_packs
    t1 = time.perf_counter()
    scorecard = write_packs(done.cube, work.tmp, Lang(plan.lang, plan.currency), plan.pipeline or "", plan.source,
                            settings=plan.settings, plan=plan.plan_file or "")
    done.seconds["packs"] = time.perf_counter() - t1
    log(f"manager packs: {len(scorecard)} ({done.seconds['packs']:.1f} s)")
    return scorecard


def write_index(plan: RunPlan, work: Workspace, done: Executed, changes: dict[str, Any] | None,
                finished: _dt.datetime, scorecard: Any = None) -> None:
    """``index.html`` (the executive summary, what changed, the pages, the exports) and the glossary."""
    from salesbook.run.summary import _CSS as SUMMARY_CSS, index_page
    from salesbook.views.glossary import GLOSSARY_PAGE, glossary_page
    from salesbook.views.pages import PAGE_CSS, nav_html
    folder = work.tmp / RunFile.EXPORTS
    exports = sorted(p.name for p in folder.glob("*.xlsx")) if folder.is_dir() else []
    nav = list(plan.nav)
    (work.tmp / RunFile.INDEX).write_text(index_page(plan.run_name, [(p.title, p.file) for p in done.pages],
                                                    done.summary.figures, changes, plan.lang,
                                                    finished.strftime("%Y-%m-%d %H:%M"), __version__, files=exports,
                                                    nav=nav, scorecard=scorecard), encoding="utf-8")
    (work.tmp / GLOSSARY_PAGE).write_text(glossary_page(plan.lang, plan.settings, SUMMARY_CSS + PAGE_CSS,
                                                        nav_html(nav, GLOSSARY_PAGE, plan.lang)), encoding="utf-8")


def write_single_file(plan: RunPlan, work: Workspace, done: Executed, log: Callable[[str], None]) -> Path:
    """``<run>.html``: the summary, every workbook and the glossary in one self-contained page, for mail."""
    from plotly.offline import get_plotlyjs
    from salesbook.views.glossary import GLOSSARY_PAGE
    from salesbook.views.pages import single_file as one_page
    bodies = [(page, title, (work.tmp / page).read_text(encoding="utf-8"))
              for title, page in [(p.title, p.file) for p in done.pages] + [(t("gloss.title", plan.lang), GLOSSARY_PAGE)]]
    mail = work.tmp / f"{plan.run_name}.html"
    mail.write_text(one_page((work.tmp / RunFile.INDEX).read_text(encoding="utf-8"), bodies, get_plotlyjs(),
                             page_stylesheet(), (work.tmp / TABLES_FILE).read_text(encoding="utf-8"), work.tmp),
                    encoding="utf-8")
    log(f"single file: {mail.name} ({mail.stat().st_size / 1e6:.1f} MB)")
    return mail


def print_pdf(plan: RunPlan, work: Workspace, done: Executed, log: Callable[[str], None]) -> list[Path]:
    """``summary.pdf`` and each workbook's PDF (A4), printed by headless Chromium."""
    from salesbook.run.pdf import print_pdfs
    t1 = time.perf_counter()
    printed = print_pdfs([work.tmp / RunFile.INDEX] + [work.tmp / p.file for p in done.pages], jobs=plan.options.jobs)
    done.seconds["pdf"] = time.perf_counter() - t1
    log(f"PDF: {', '.join(p.name for p in printed)}")
    return printed


def publish(plan: RunPlan, work: Workspace, log: RunLog) -> Path:
    """The executed notebooks zipped, ``run.log`` written, the folder swapped into place and ``latest``
    pointed at it; returns the run's folder."""
    _pack_notebooks(work.tmp)
    log(f"finished: {plan.run_name}")
    log.lines.extend(plan.spark_lines())
    log.write(work.tmp / RunFile.RUN_LOG)
    return swap_into_place(work.tmp, plan.out, plan.run_name)


# --------------------------------------------------------------------------- the run

def run(notebooks: Iterable[str] | None = None, *, source: str = "sample", mapping: str = "",
        as_of: str = "", lang: str = "en", currency: str | None = None, out: Path | None = None,
        run_name: str | None = None,
        parameters: dict[str, dict[str, Any]] | None = None, kernel: str = "python3",
        log: Callable[[str], None] | None = None, timeout: int = 1800, progress: bool = False,
        config: dict[str, Any] | None = None, pipeline: str | None = None, plan_file: str | None = None,
        jobs: int = 2, wait: float = 0.0, cache: bool = True, single_file: bool = False,
        pdf: bool = False, per_manager: bool = False, engine: Engine | None = None,
        fork: bool | None = None) -> RunResult:
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
        longest first by the previous run's times (a first run: by their typical times), the summary last; the
        first kernels start, and import what their notebooks import, while the cube is built. Pages are
        rendered as notebooks finish and listed in the plan's order. ``1``: one after another.
    engine
        What executes the notebooks (default: papermill, each notebook on its own kernel; tests give a fake).
    fork
        Start each kernel as a fork of one process that imported the libraries once
        (:mod:`salesbook.run.forked`; default: where the system allows it, Linux). ``False``: each kernel
        starts as a new Python (``SALESBOOK_FORK=0`` on the command line).
    """
    log = RunLog(log)
    options = RunOptions(jobs=jobs, wait=wait, cache=cache, single_file=single_file, pdf=pdf,
                         per_manager=per_manager, kernel=kernel, timeout=timeout, fork=fork)
    plan = plan_run(notebooks, source=source, mapping=mapping, as_of=as_of, lang=lang, currency=currency, out=out,
                    run_name=run_name, parameters=parameters, pipeline=pipeline, plan_file=plan_file,
                    options=options, config=config, log=log)
    plan.out.mkdir(parents=True, exist_ok=True)
    lock = _lock_output(plan.out, wait)  # one run at a time per output folder
    work = Workspace.for_plan(plan)
    own = engine is None
    if own:  # its kernels' zygote starts now, once the inputs are checked: its imports (1.3 s on 2 cores) overlap
        engine = PapermillEngine(kernel, timeout, env=work.kernel_env, fork=fork)  # the folder's preparation,
        engine.zygote()                                                             # not the first kernel's start
    handed = False  # to execute, which closes the engine whatever happens
    try:
        prepare_folder(plan, work, log)
        from salesbook.run.summary import previous_run
        prev = previous_run(plan.out, plan.run_name)  # its times order the tasks; its figures are compared
        handed = True
        done = execute(plan, work, engine,
                       build=lambda: build_cube(plan, work, log), summarise=lambda cube: summarise_run(plan, cube),
                       prev=prev, log=log, progress=progress, warm_up=lambda ready: _warm_runner(lang, ready))
        changes = compare_with(prev, done.summary)
        finished = _dt.datetime.now()
        write_records(plan, work, done, changes, finished)
        scorecard = write_manager_packs(plan, work, done, log) if per_manager else None
        write_index(plan, work, done, changes, finished, scorecard)
        if single_file:
            write_single_file(plan, work, done, log)
        if pdf:
            print_pdf(plan, work, done, log)
        final = publish(plan, work, log)
        log.user(f"done: {final / RunFile.INDEX}")
        return RunResult(final, final / RunFile.INDEX, [final / p.file for p in done.pages], done.seconds)
    except BaseException as exc:
        _set_aside(work.tmp, plan.failed, log.lines + plan.spark_lines(), exc)
        raise
    finally:
        if own and not handed:  # the run failed before its notebooks: no kernel forked, the zygote is killed
            engine.close()
        lock.close()  # releases the lock (a dead process releases it too)
