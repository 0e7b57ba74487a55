"""salesbook: Jupyter workbooks for B2B sales diagnostics.

The data flows one way: source -> :func:`load_sales` (validate, clean, report)
-> :func:`get_cube` (aggregates, computed once and cached) -> analyses ->
charts and tables -> notebooks -> HTML reports (:mod:`salesbook.run.runner`).
"""

__version__ = "0.1.0"

from salesbook.errors import DataError, ParameterError, Problem  # noqa: E402
from salesbook.data.mapping import CANONICAL, REQUIRED, currency_of, load_mapping  # noqa: E402
from salesbook.data.load_report import LoadReport  # noqa: E402
from salesbook.cube import Cube, build_cube, get_cube  # noqa: E402
from salesbook.i18n import t  # noqa: E402
from salesbook.formats import Lang  # noqa: E402
from salesbook.views.display import Book  # noqa: E402
from salesbook.views import display  # noqa: E402
from salesbook import paths  # noqa: E402
from salesbook.paths import Section, Workbook  # noqa: E402
from salesbook.views import explore  # noqa: E402
from salesbook.views.explore import in_report  # noqa: E402
from salesbook.cube.profile import data_language  # noqa: E402

__all__ = ["__version__", "DataError", "ParameterError", "Problem", "Sales", "load_sales", "CANONICAL",
           "REQUIRED", "currency_of", "load_mapping", "LoadReport", "Cube", "build_cube", "get_cube", "t", "Book", "display",
           "paths", "explore", "in_report", "data_language", "Section", "Workbook", "Lang"]


def __getattr__(name: str):
    """The loader (ibis, pandera, the engine) is imported on first use: a workbook that reads a cached
    cube never needs it, and importing it costs about a second in every kernel."""
    if name in ("Sales", "load_sales"):
        from salesbook.data import load
        return getattr(load, name)
    raise AttributeError(f"module 'salesbook' has no attribute {name!r}")
