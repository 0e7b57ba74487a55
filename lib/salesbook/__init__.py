"""salesbook: Jupyter workbooks for B2B sales diagnostics.

The data flows one way: source -> :func:`load_sales` (validate, clean, report)
-> :func:`get_cube` (aggregates, computed once and cached) -> analyses ->
charts and tables -> notebooks -> HTML reports (:mod:`salesbook.run.runner`).
"""

__version__ = "0.1.0"

#: where each public name lives (a module named for itself: the module), imported on first use (PEP 562): ``import
#: salesbook`` costs nothing, so that the command line starts a run's kernels' zygote before it imports pandas
#: (0.4 s), and a workbook that reads a cached cube never imports the loader (ibis, pandera, the engine: about a
#: second in every kernel)
_PUBLIC = {
    "DataError": "salesbook.errors", "ParameterError": "salesbook.errors", "Problem": "salesbook.errors",
    "CANONICAL": "salesbook.data.mapping", "REQUIRED": "salesbook.data.mapping",
    "currency_of": "salesbook.data.mapping", "load_mapping": "salesbook.data.mapping",
    "LoadReport": "salesbook.data.load_report", "Cube": "salesbook.cube", "build_cube": "salesbook.cube",
    "get_cube": "salesbook.cube", "t": "salesbook.i18n", "Lang": "salesbook.formats",
    "Book": "salesbook.views.display", "display": "salesbook.views.display", "paths": "salesbook.paths",
    "Section": "salesbook.paths", "Workbook": "salesbook.paths", "explore": "salesbook.views.explore",
    "in_report": "salesbook.views.explore", "data_language": "salesbook.cube.profile",
    "Sales": "salesbook.data.load", "load_sales": "salesbook.data.load",
}

__all__ = ["__version__", *_PUBLIC]
#: what a kernel warmed ahead imports for ``import salesbook`` (:func:`salesbook.run.warm.warm`): every module above
#: but the loader, which a workbook reading a cached cube never needs
AHEAD = tuple(sorted(set(_PUBLIC.values()) - {"salesbook.data.load"}))


def __getattr__(name: str):
    import importlib
    where = _PUBLIC.get(name)
    if where is None:  # a subpackage not imported yet (``sb.cube.TABLES``)
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module 'salesbook' has no attribute {name!r}") from None
    module = importlib.import_module(where)
    value = module if where.rsplit(".", 1)[-1] == name else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
