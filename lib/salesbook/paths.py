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
``SALESBOOK_DUCKDB_MEMORY``
    DuckDB's memory cap (``2GB``);
``SALESBOOK_SPARK_MASTER``, ``SPARK_REMOTE``
    the Spark master, or a Spark Connect server;
``SALESBOOK_CHROMIUM``
    the Chromium that prints PDFs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

__all__ = ["ROOT", "SAMPLE_DIR", "SAMPLE_SALES", "SAMPLE_PIPELINE", "NOTEBOOKS_DIR",
           "REPORTS_DIR", "CACHE_DIR", "PACKAGE_DIR", "resolve_source", "Setup", "setup", "current", "source_name"]

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
