"""Imports done ahead in a scheduled run's kernels, while the cube is being built.

The runner starts a notebook's kernel before the cube is ready and, in it, calls :func:`warm` with
the modules the notebook imports. The libraries salesbook imports only on first use (each module's
``DEFERRED``: statsmodels, scipy, xlsxwriter) are imported too, so the notebook's cells do not pay
for them. Nothing is bound in the notebook's namespace: its code runs as in a fresh kernel.
"""

from __future__ import annotations

import ast
import threading
import importlib
import sys
from typing import Iterable

__all__ = ["warm", "imported_modules"]

#: one parse at a time: the runner's threads each read a notebook's imports while others import modules
_AST_LOCK = threading.Lock()


def warm(modules: Iterable[str], deferred: bool = True) -> list[str]:
    """Import ``modules`` and (``deferred``) the ``DEFERRED`` libraries of every salesbook module then loaded.

    A name that is not a module (``salesbook.views.display.fmt_money``), or one that fails to import, is
    passed over: the notebook imports it again and reports the error itself. Returns what was imported.
    """
    done = []
    modules = list(modules)
    if "salesbook" in modules:  # the package imports its names on first use: here, ahead, as they will be used
        from salesbook import AHEAD
        modules += AHEAD
    for name in dict.fromkeys(modules):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - reported by the notebook's own import, with its traceback
            continue
        done.append(name)
    if not deferred:
        return done
    libraries = {extra for key, module in list(sys.modules.items())
                 if key == "salesbook" or key.startswith("salesbook.") for extra in getattr(module, "DEFERRED", ())}
    for name in sorted(libraries):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the function that needs it reports the error when called
            continue
        done.append(name)
    return done


def imported_modules(sources: Iterable[str]) -> list[str]:
    """The modules named by the import statements of code cells (``from a import b``: ``a`` and ``a.b``).

    Cells that are not Python (magics, shell lines) are skipped; relative imports are ignored.
    """
    names: list[str] = []
    for source in sources:
        try:
            with _AST_LOCK:  # CPython 3.11 before 3.11.9: ast.parse in two threads at once can fail (gh-106905)
                tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
                names.extend(f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*")
    return list(dict.fromkeys(names))
