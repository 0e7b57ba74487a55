"""Where things are: the one place paths come from (never the working directory)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ROOT", "SAMPLE_DIR", "SAMPLE_SALES", "SAMPLE_PIPELINE", "NOTEBOOKS_DIR",
           "REPORTS_DIR", "CACHE_DIR", "PACKAGE_DIR", "resolve_source"]

PACKAGE_DIR = Path(__file__).resolve().parent
#: Project root: the checkout this package is installed from (editable install),
#: or SALESBOOK_HOME when the package is installed elsewhere.
ROOT = Path(os.environ.get("SALESBOOK_HOME", PACKAGE_DIR.parents[1])).resolve()
SAMPLE_DIR = ROOT / "data" / "sample"
SAMPLE_SALES = SAMPLE_DIR / "sales.parquet"
SAMPLE_PIPELINE = SAMPLE_DIR / "pipeline.csv"
NOTEBOOKS_DIR = ROOT / "notebooks"
REPORTS_DIR = Path(os.environ.get("SALESBOOK_REPORTS", ROOT / "reports")).resolve()
CACHE_DIR = Path(os.environ.get("SALESBOOK_CACHE", ROOT / ".cache")).resolve()


def resolve_source(source: str | os.PathLike) -> Path:
    """Turn a notebook's ``source`` parameter into an absolute path.

    ``"sample"`` is the committed sample; a relative path is taken from the
    project root (so a notebook gives the same answer whatever the kernel's
    working directory); an absolute path is used as it is.
    """
    if str(source) == "sample":
        return SAMPLE_SALES
    p = Path(source).expanduser()
    return (p if p.is_absolute() else ROOT / p).resolve()
