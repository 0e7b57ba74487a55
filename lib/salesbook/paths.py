"""Where things are, and the process's switches: the one place they come from (never the working directory).

Nothing is read at import. The process's setup (:class:`Setup`: the folders, the render mode, DuckDB's
memory cap, Spark, Chromium) reads one environment, given explicitly: the command line calls :func:`setup`
with its own (``salesbook`` hands its environment over there and nowhere else); a process that did not (a
notebook's kernel, which inherits the environment its runner gave it, or a library user) reads its own.
A value is read when asked for, so a switch changed later (a test, a benchmark) is seen; :func:`setup` with a
mapping of its own fixes them. ``paths.ROOT``, ``paths.CACHE_DIR`` and the other names below read it.

Environment variables (each optional):

``SALESBOOK_HOME``
    the project root, when the package is installed elsewhere than its checkout;
``SALESBOOK_REPORTS``, ``SALESBOOK_CACHE``
    the reports folder, the cube cache;
``SALESBOOK_REPORT`` / ``SALESBOOK_PRESENT`` (``"1"``)
    the render mode of a notebook's kernel: a report run by ``salesbook run``, a workshop in Voilà;
``SALESBOOK_RUN_CACHE`` (``"1"``)
    set by ``salesbook run`` for its kernels: the cube cache is the run's own (:attr:`Setup.run_cache`);
``SALESBOOK_DUCKDB_MEMORY``
    DuckDB's memory cap (``2GB``);
``SALESBOOK_SPARK_MASTER``, ``SPARK_REMOTE``
    the Spark master, or a Spark Connect server;
``SALESBOOK_CHROMIUM``
    the Chromium that prints PDFs.

And where things are inside a run: the workbooks (:class:`Workbook`), the files of a run folder
(:class:`RunFile`, :class:`Export`) and the sections of its pages (:class:`Section`), each named once here,
as types: the runner, the views, the summary and the notebooks use these members, so a rename fails at
import or in a fast test (``tests/test_protocols.py``), never in the middle of a run.
"""

from __future__ import annotations

import enum
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

__all__ = ["ROOT", "SAMPLE_DIR", "SAMPLE_SALES", "SAMPLE_PIPELINE", "NOTEBOOKS_DIR",
           "REPORTS_DIR", "CACHE_DIR", "PACKAGE_DIR", "resolve_source", "Setup", "setup", "current", "source_name",
           "Workbook", "RunFile", "Export", "Section", "section_anchor", "catalogue_keys"]

PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Setup:
    """A process's folders and switches, read from one environment (a mapping: the process's own, live, or
    one given). ``report`` / ``present``: the render mode (a notebook run for a report, a workshop);
    ``environ``: the environment itself, which a child process (Voilà, Chromium) starts from.
    """

    environ: Mapping[str, str] = field(repr=False)

    def _get(self, name: str) -> str | None:
        return self.environ.get(name) or None

    @property
    def root(self) -> Path:
        """Project root: the checkout this package is installed from (editable install), or SALESBOOK_HOME."""
        return Path(self._get("SALESBOOK_HOME") or PACKAGE_DIR.parents[1]).resolve()

    @property
    def reports(self) -> Path:
        return Path(self._get("SALESBOOK_REPORTS") or self.root / "reports").resolve()

    @property
    def cache(self) -> Path:
        return Path(self._get("SALESBOOK_CACHE") or self.root / ".cache").resolve()

    @property
    def report(self) -> bool:
        return self._get("SALESBOOK_REPORT") == "1"

    @property
    def run_cache(self) -> bool:
        """``SALESBOOK_RUN_CACHE=1``: the cube cache is one run's own (its kernels', removed when the run ends), so
        a table in another engine, which has no file to digest, is kept there under its name
        (:func:`salesbook.cube.get_cube`)."""
        return self._get("SALESBOOK_RUN_CACHE") == "1"

    @property
    def present(self) -> bool:
        return self._get("SALESBOOK_PRESENT") == "1"

    @property
    def duckdb_memory(self) -> str | None:
        return self._get("SALESBOOK_DUCKDB_MEMORY")

    @property
    def spark_master(self) -> str:
        return self._get("SALESBOOK_SPARK_MASTER") or "local[*]"

    @property
    def spark_remote(self) -> str | None:
        return self._get("SPARK_REMOTE")

    @property
    def chromium(self) -> str | None:
        return self._get("SALESBOOK_CHROMIUM")

    @property
    def fork(self) -> bool | None:
        """``SALESBOOK_FORK=0``: a run's kernels start as new Pythons, not forked (:mod:`salesbook.run.forked`)."""
        value = self._get("SALESBOOK_FORK")
        return None if value is None else value not in ("0", "no", "false")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> "Setup":
        return cls(environ)


_current: Setup | None = None


def setup(environ: Mapping[str, str] | None = None) -> Setup:
    """Set up this process from ``environ`` (default: the process's own environment, as it stands when a
    value is asked for) and return it."""
    global _current
    _current = Setup(os.environ if environ is None else environ)
    return _current


def current() -> Setup:
    """This process's setup; its own environment when nobody called :func:`setup`."""
    return _current if _current is not None else setup()


_NAMES = {"ROOT": lambda s: s.root,
          "SAMPLE_DIR": lambda s: s.root / "data" / "sample",
          "SAMPLE_SALES": lambda s: s.root / "data" / "sample" / "sales.parquet",
          "SAMPLE_PIPELINE": lambda s: s.root / "data" / "sample" / "pipeline.csv",
          "NOTEBOOKS_DIR": lambda s: s.root / "notebooks",
          "REPORTS_DIR": lambda s: s.reports,
          "CACHE_DIR": lambda s: s.cache}


def __getattr__(name: str) -> Any:
    """``paths.ROOT``, ``paths.CACHE_DIR``...: read from the current setup when asked, never at import."""
    if name in _NAMES:
        return _NAMES[name](current())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def resolve_source(source: str | os.PathLike) -> Path:
    """Turn a notebook's ``source`` parameter into an absolute path.

    ``"sample"`` is the committed sample; a relative path is taken from the
    project root (so a notebook gives the same answer whatever the kernel's
    working directory); an absolute path is used as it is.
    """
    if str(source) == "sample":
        return _NAMES["SAMPLE_SALES"](current())
    p = Path(source).expanduser()
    return (p if p.is_absolute() else current().root / p).resolve()


def source_name(source: "str | os.PathLike") -> str:
    """How a page names a source: its file's name, never the machine's folders.

    ``/home/anna/exports/sales 2026.xlsx`` -> ``sales 2026.xlsx``; ``C:\\Data\\sales.csv`` -> ``sales.csv``;
    ``spark:/data/sales.parquet`` -> ``spark:sales.parquet``; ``s3://bucket/x/sales.parquet#t`` ->
    ``sales.parquet#t``; ``sample`` and ``1c`` unchanged.
    """
    text = str(source)
    engine = "spark:" if text.startswith("spark:") else ""
    text = text[len(engine):]
    body, hash_, fragment = text.partition("#")
    name = [part for part in body.replace("\\", "/").split("/") if part]
    return engine + (name[-1] if name else body) + hash_ + fragment


# --------------------------------------------------------------------------- a run's pages, files and sections


class Workbook(enum.StrEnum):
    """The numbered workbooks, by their notebook's name (``notebooks/<value>.py`` and ``.ipynb``;
    ``tests/test_protocols.py`` checks that the two lists agree). A run config names one by its
    :attr:`number` (``"03"``) or its whole name; its page in a run folder is :attr:`page`."""

    OVERVIEW = "00_overview"
    SEGMENTATION = "01_segmentation"
    SEASONALITY = "02_seasonality"
    STAGNATION = "03_stagnation"
    FORECAST = "04_forecast"
    WHATIF = "05_whatif"

    @property
    def number(self) -> str:
        """``"03"``: how a run config and the settings name the workbook."""
        return self.value[:2]

    @property
    def page(self) -> str:
        """Its page in a run folder: ``03_stagnation.html``."""
        return f"{self.value}.html"

    @property
    def title_key(self) -> str:
        """The catalogue key of its title: ``nb.03.title``."""
        return f"nb.{self.number}.title"

    @classmethod
    def named(cls, name: "str | os.PathLike") -> "Workbook | None":
        """The workbook a name means (``"03"``, ``"03_stagnation"``, ``"03_anything"``, a notebook's path), or
        None for a notebook that is none of them (a test's fixture notebook)."""
        stem = Path(str(name)).stem
        return next((w for w in cls if stem == w.value or stem.split("_", 1)[0] == w.number), None)


class RunFile(enum.StrEnum):
    """The files and folders of a run folder, by what they are (README, "Your own data")."""

    INDEX = "index.html"  #: the executive summary
    GLOSSARY = "glossary.html"  #: every named figure, its definition and its settings
    RUN_INFO = "run.json"  #: parameters, config, versions, times
    RUN_LOG = "run.log"
    LOAD_REPORT = "load_report.json"
    SUMMARY = "summary.json"  #: the key figures and what changed, for the next run and schedulers
    CATEGORIES = "categories.csv"  #: every client's category, for the next run's comparison
    SETTINGS = "settings.json"  #: the run's settings, which every workbook reads
    MAPPING = "mapping.yml"  #: the mapping a run guessed (``--mapping auto``)
    NOTEBOOKS = "notebooks.zip"  #: the executed notebooks, compressed
    NOTEBOOKS_DIR = "notebooks"  #: the executed notebooks while the run writes them
    EXPORTS = "exports"  #: the Excel and CSV lists (:class:`Export`)
    MANAGERS = "managers"  #: ``--per-manager``: one folder per manager, each with its own ``index.html``
    PACK_CLIENTS = "clients.xlsx"  #: in a manager's folder: his clients
    PLOTLY = "plotly.min.js"  #: the one copy of plotly.js every page loads
    CSS = "report.css"  #: JupyterLab's stylesheet of the pages, once
    TABLES = "sb-tables.js"  #: DataTables and its loader, once
    SUMMARY_PDF = "summary.pdf"  #: ``--pdf``: the summary's PDF (each workbook's is ``<workbook>.pdf``)
    LOCK = ".salesbook.lock"  #: in the output folder: one run at a time
    LATEST = "latest"  #: in the output folder: the newest good run (a link)
    LATEST_TEXT = "LATEST"  #: ... or a text file naming it, where links are not allowed


class Export(enum.StrEnum):
    """The lists a run writes into ``exports/`` (:attr:`RunFile.EXPORTS`), by their file's name without its
    suffix: the workbooks write them, the summary links to them (:attr:`xlsx`, :attr:`csv`)."""

    REACTIVATION = "reactivation_lists"
    AT_RISK = "at_risk_lists"
    MIGRATION = "migration"
    VIP = "vip_sector"
    WHITESPACE = "whitespace_lists"
    BRIDGE = "revenue_bridge"

    @property
    def xlsx(self) -> str:
        return f"{self.value}.xlsx"

    @property
    def csv(self) -> str:
        return f"{self.value}.csv"


def section_anchor(key: str) -> str:
    """The anchor of a section from its message key: ``stag.bridge`` -> ``s-stag-bridge``."""
    return "s-" + re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")


class Section(str, enum.Enum):
    """Every section heading of a run's pages: its message key (its title in the catalogue, and the base of
    its anchor) and the :class:`Workbook` that shows it (``None``: the summary's own). A notebook opens a
    section with ``nb.section(sb.Section.STAG_BRIDGE)``; the summary links to ``Section.STAG_BRIDGE.href``.
    ``tests/test_protocols.py`` checks that each workbook's notebook opens exactly its sections."""

    workbook: "Workbook | None"

    def __new__(cls, key: str, workbook: "Workbook | None" = None) -> "Section":
        obj = str.__new__(cls, key)
        obj._value_ = key
        obj.workbook = workbook
        return obj

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def anchor(self) -> str:
        """``s-stag-bridge``: the id its heading carries on its page (and on the summary, for the summary's own)."""
        return section_anchor(self.value)

    @property
    def href(self) -> str:
        """``03_stagnation.html#s-stag-bridge``: where it is, from the summary (or any page of the run)."""
        return f"{self.workbook.page if self.workbook else RunFile.INDEX}#{self.anchor}"

    # 00: the overview
    PROFILE = "profile.title", Workbook.OVERVIEW
    LOADED = "overview.loaded", Workbook.OVERVIEW
    KPIS = "overview.kpis", Workbook.OVERVIEW
    MONTHLY = "overview.monthly", Workbook.OVERVIEW
    BY_YEAR = "overview.by_year", Workbook.OVERVIEW
    # 01: segmentation
    CATEGORIES = "seg.categories", Workbook.SEGMENTATION
    BY_MANAGER = "seg.by_manager", Workbook.SEGMENTATION
    EXAMPLES = "seg.examples", Workbook.SEGMENTATION
    ABC = "seg.abc", Workbook.SEGMENTATION
    RFM = "seg.rfm", Workbook.SEGMENTATION
    MIGRATION = "seg.migration", Workbook.SEGMENTATION
    MOVES_TO_SLEEP = "seg.moves_to_sleep", Workbook.SEGMENTATION
    REACTIVATION = "seg.reactivation", Workbook.SEGMENTATION
    REACTIVATION_TOP = "seg.reactivation_top", Workbook.SEGMENTATION
    AT_RISK = "risk.title", Workbook.SEGMENTATION
    VIP = "vip.title", Workbook.SEGMENTATION
    VIP_OFFENDED = "vip.offended", Workbook.SEGMENTATION
    VIP_LARGEST = "vip.largest", Workbook.SEGMENTATION
    SEGMENT_EXPLORER = "seg.explore", Workbook.SEGMENTATION
    # 02: seasonality
    SEASON_PROFILE = "season.profile", Workbook.SEASONALITY
    SEASON_HEATMAP = "season.heatmap", Workbook.SEASONALITY
    SEASON_ADJUSTED = "season.adjusted", Workbook.SEASONALITY
    SEASON_BY_CATEGORY = "season.by_category", Workbook.SEASONALITY
    SEASON_BY_SEGMENT = "season.by_segment", Workbook.SEASONALITY
    SEASON_BY_ABC = "season.by_abc", Workbook.SEASONALITY
    WEEKDAYS = "season.weekdays", Workbook.SEASONALITY
    WORKDAYS = "season.workdays", Workbook.SEASONALITY
    # 03: stagnation
    MEMO = "stag.memo", Workbook.STAGNATION
    FLAT = "stag.flat", Workbook.STAGNATION
    BRIDGE = "stag.bridge", Workbook.STAGNATION
    WALK = "walk.title", Workbook.STAGNATION
    COHORTS = "stag.cohorts", Workbook.STAGNATION
    NRR = "stag.nrr", Workbook.STAGNATION
    FIRST_YEAR = "stag.first_year", Workbook.STAGNATION
    ACQUISITION = "stag.acquisition", Workbook.STAGNATION
    PROFILES = "stag.profiles", Workbook.STAGNATION
    HANDOVERS = "ho.title", Workbook.STAGNATION
    CROSSSELL = "stag.crosssell", Workbook.STAGNATION
    WHITESPACE = "stag.whitespace", Workbook.STAGNATION
    CONCENTRATION = "stag.concentration", Workbook.STAGNATION
    ALERTS = "alert.title", Workbook.STAGNATION
    # 04: forecast
    PIPELINE = "fc.pipeline", Workbook.FORECAST
    WIN_RATES = "fc.win_rates", Workbook.FORECAST
    FORECAST_BY_MONTH = "fc.by_month", Workbook.FORECAST
    FORECAST_BY_MANAGER = "fc.by_manager", Workbook.FORECAST
    FORECAST_BY_CATEGORY = "fc.by_category", Workbook.FORECAST
    FORECAST_FLAGS = "fc.flags", Workbook.FORECAST
    ASSISTANT = "fc.assistant", Workbook.FORECAST
    # 05: what-if
    WHATIF_EXPLORER = "wi.explore", Workbook.WHATIF
    WHATIF_SETTINGS = "wi.settings", Workbook.WHATIF
    WHATIF_BY_CATEGORY = "wi.by_category", Workbook.WHATIF
    CALIBRATION = "wi.calibration", Workbook.WHATIF
    REORGANISATION = "wi.reorg", Workbook.WHATIF
    # the summary's own (index.html)
    PACE = "pace.title"
    OPPORTUNITIES = "sum.opportunities"
    CHANGES = "sum.changes"
    REACTIVATION_LIST = "sum.reactivation_top"
    CROSSSELL_LIST = "sum.crosssell_top"
    SCORECARD = "sum.scorecard"
    REPORTS = "sum.reports"

    @classmethod
    def of(cls, workbook: Workbook) -> "list[Section]":
        """A workbook's sections, in the order of this list."""
        return [s for s in cls if s.workbook is workbook]


def catalogue_keys() -> list[str]:
    """Every catalogue key built from these types at run time: each workbook's title, each section's title
    (``tests/test_i18n.py`` checks them in both languages)."""
    return [w.title_key for w in Workbook] + [s.value for s in Section]
