"""The SQL of each query shape compiled once per process, for DuckDB connections.

ibis compiles every expression to SQL afresh: a few hundredths of a second per query (rewrites, then sqlglot),
whatever the data's size. A load and a cube ask about fifteen queries whose shape does not change from one file to
the next: the same checks and aggregates over a table with the same columns; only the table's name differs (a view
of the file, a temporary table, a memtable). Most of a small file's load and cube was ibis compiling.

:func:`remember_sql` makes a connection compile each expression with its tables replaced by placeholders of the
same schema (and namespace), keep that SQL, and put the real tables' names in place of the placeholders. The
key is the expression's shape, literals included (every node's type and arguments, as ibis compares nodes, its
tables by their placeholders: :func:`_shape`): another date or threshold is another query. ``pretty`` and ``limit`` are part of the key; an
expression with bound parameters, or one that samples a table (whose SQL depends on the kind of table), is
compiled as ibis does. The SQL is the same as ibis's (``tests/test_sqlcache.py`` compares them for every query of
a load and a cube).
"""

from __future__ import annotations

import functools
import itertools
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


#: each node's shape, as a number: nodes of one shape get one number (their type and arguments, children by number),
#: so a key is hashed and compared in one step whatever the depth of the expression (nested tuples were hashed
#: anew at every level, and an expression shares its sub-expressions many times over)
_numbers: dict[Any, int] = {}
_next = itertools.count()
#: past this many shapes the numbers are forgotten, with the SQL kept under them (numbers are never given twice)
NUMBERS = 200_000


def _shape(op: Any) -> "tuple[int, list[Any]] | None":
    """The key of ``op``'s shape, and its tables in the order of their placeholders' numbers. None: not cached (a
    sample, whose SQL depends on the kind of table; an aliased relation, whose SQL is its own).

    Two expressions get one key when they differ only in their tables' names: a node's shape is its type and its
    arguments (as ibis compares nodes), with each table replaced by its placeholder's number, schema and namespace,
    and dicts in their order. Made by one walk of the expression, without making its nodes again with placeholders
    (ibis's ``replace`` checks every node it makes, which cost as much as compiling): that is done only for a shape
    not kept yet (:func:`_placeholders`)."""
    import ibis.expr.operations as ops
    tables: dict[Any, int] = {}
    seen: dict[int, int] = {}

    def number(shape: Any) -> int:
        got = _numbers.get(shape)
        if got is None:
            got = _numbers.setdefault(shape, next(_next))
        return got

    def value(x: Any) -> Any:
        if isinstance(x, ops.Node):
            got = seen.get(id(x))
            if got is None:
                if isinstance(x, (ops.Sample, ops.AliasedRelation)):
                    raise LookupError
                if isinstance(x, ops.PhysicalTable):
                    got = number((ops.PhysicalTable, tables.setdefault(x, len(tables)), x.schema, _namespace(x)))
                else:
                    got = number((type(x), tuple(value(a) for a in x.__args__)))
                seen[id(x)] = got
            return ("node", got)
        if isinstance(x, tuple):
            return (tuple, tuple(value(a) for a in x))
        if isinstance(x, dict):  # ibis's FrozenDict and FrozenOrderedDict
            return (dict, tuple((k, value(v)) for k, v in x.items()))
        return x

    try:
        key = value(op)[1]
    except (LookupError, RecursionError):  # RecursionError: an expression deeper than Python's stack, compiled as is
        return None
    if len(_numbers) > NUMBERS:
        with _lock:
            _numbers.clear()
            _kept.clear()
    return key, list(tables)


def _namespace(table: Any) -> Any:
    """A table's namespace (catalog and database), the empty one when it has none (a memtable)."""
    import ibis.expr.operations as ops
    return getattr(table, "namespace", None) or ops.Namespace()


def _placeholders(op: Any, tables: list[Any]) -> Any:
    """``op`` with its ``tables`` replaced by placeholders of the same schema and namespace, numbered as listed."""
    import ibis.expr.operations as ops
    return op.replace({t: ops.UnboundTable(_PLACEHOLDER.format(i), t.schema, _namespace(t))
                       for i, t in enumerate(tables)})


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
        shape, tables = shaped
        key = (shape, limit, pretty, con.dialect)
        with _lock:
            sql = _kept.get(key)
            if sql is not None:
                _kept.move_to_end(key)
        if sql is None:
            op = _placeholders(expr.op(), tables) if tables else expr.op()
            sql = compile_(con, op.to_expr(), limit=limit, pretty=pretty)
            with _lock:
                _kept[key] = sql
                while len(_kept) > SIZE:
                    _kept.popitem(last=False)
        for i, table in enumerate(tables):
            sql = sql.replace(_quoted(_PLACEHOLDER.format(i), con.dialect), _quoted(table.name, con.dialect))
        return sql

    con.compile = compile
    return con
