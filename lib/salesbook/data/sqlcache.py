"""The SQL of each query shape compiled once per process, for DuckDB connections.

ibis compiles every expression to SQL afresh: a few hundredths of a second per query (rewrites, then sqlglot),
whatever the data's size. A load and a cube ask about fifteen queries whose shape does not change from one file to
the next: the same checks and aggregates over a table with the same columns; only the table's name differs (a view
of the file, a temporary table, a memtable). Most of a small file's load and cube was ibis compiling.

:func:`remember_sql` makes a connection compile each expression with its tables replaced by placeholders of the
same schema (and namespace), keep that SQL, and put the real tables' names in place of the placeholders. The
key is the expression itself, literals included (ibis expressions are values, compared and hashed by their
content): another date or threshold is another query. ``pretty`` and ``limit`` are part of the key; an
expression with bound parameters, or one that samples a table (whose SQL depends on the kind of table), is
compiled as ibis does. The SQL is the same as ibis's (``tests/test_sqlcache.py`` compares them for every query of
a load and a cube).
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections import OrderedDict
from typing import Any

__all__ = ["remember_sql", "SIZE"]

#: the query shapes kept (least recently used dropped first); a load and a cube ask about fifteen
SIZE = 512
_PLACEHOLDER = "__salesbook_table_{}__"

_lock = threading.Lock()
_kept: "OrderedDict[tuple[Any, ...], str]" = OrderedDict()


def _shape(op: Any) -> "tuple[Any, dict[str, str]] | None":
    """``op`` with each table replaced by a placeholder, and each placeholder's real name; None: not cached."""
    import ibis.expr.operations as ops
    leaves = op.find((ops.PhysicalTable, ops.Sample))
    if any(isinstance(leaf, ops.Sample) for leaf in leaves):
        return None
    swap: dict[Any, Any] = {}
    names: dict[str, str] = {}
    for leaf in leaves:
        if leaf in swap:
            continue
        placeholder = _PLACEHOLDER.format(len(swap))
        namespace = getattr(leaf, "namespace", None) or ops.Namespace()
        swap[leaf] = ops.UnboundTable(placeholder, leaf.schema, namespace)
        names[placeholder] = leaf.name
    return (op.replace(swap) if swap else op), names


def _quoted(name: str, dialect: str) -> str:
    import sqlglot as sg
    return sg.to_identifier(name, quoted=True).sql(dialect=dialect)


def remember_sql(con: Any) -> Any:
    """``con`` (an ibis DuckDB backend), compiling each query shape once per process (see the module).

    The method set on ``con`` holds it weakly: a connection dropped by its last user is released at once, with the
    lines it holds in memory, not at the garbage collector's next cycle."""
    compile_ = type(con).compile
    backend = weakref.ref(con)

    @functools.wraps(compile_)
    def compile(expr: Any, /, *, limit: Any = None, params: Any = None, pretty: bool = False) -> str:
        con = backend()
        if params:
            return compile_(con, expr, limit=limit, params=params, pretty=pretty)
        shaped = _shape(expr.op())
        if shaped is None:
            return compile_(con, expr, limit=limit, pretty=pretty)
        op, names = shaped
        key = (op, limit, pretty, con.dialect)
        with _lock:
            sql = _kept.get(key)
            if sql is not None:
                _kept.move_to_end(key)
        if sql is None:
            sql = compile_(con, op.to_expr(), limit=limit, pretty=pretty)
            with _lock:
                _kept[key] = sql
                while len(_kept) > SIZE:
                    _kept.popitem(last=False)
        for placeholder, name in names.items():
            sql = sql.replace(_quoted(placeholder, con.dialect), _quoted(name, con.dialect))
        return sql

    con.compile = compile
    return con
