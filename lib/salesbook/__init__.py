"""salesbook: Jupyter workbooks for B2B sales diagnostics.

The data flows one way: source -> :func:`load_sales` (validate, clean, report)
-> :func:`get_cube` (aggregates, computed once and cached) -> analyses ->
charts and tables -> notebooks -> HTML reports (:mod:`salesbook.runner`).
"""

__version__ = "0.1.0"

from .errors import DataError, ParameterError, Problem  # noqa: E402
from .mapping import CANONICAL, REQUIRED, load_mapping  # noqa: E402
from .load_report import LoadReport  # noqa: E402
from .cube import Cube, build_cube, get_cube  # noqa: E402
from .i18n import t  # noqa: E402
from .display import Book  # noqa: E402
from . import display, paths  # noqa: E402
from . import explore  # noqa: E402
from .explore import in_report  # noqa: E402
from .profile import data_language  # noqa: E402

__all__ = ["__version__", "DataError", "ParameterError", "Problem", "Sales", "load_sales", "CANONICAL",
           "REQUIRED", "load_mapping", "LoadReport", "Cube", "build_cube", "get_cube", "t", "Book", "display",
           "paths", "explore", "in_report", "data_language"]


def __getattr__(name: str):
    """The loader (ibis, pandera, the engine) is imported on first use: a workbook that reads a cached
    cube never needs it, and importing it costs about a second in every kernel."""
    if name in ("Sales", "load_sales"):
        from . import load
        return getattr(load, name)
    raise AttributeError(f"module 'salesbook' has no attribute {name!r}")
