"""The SQL of a query shape compiled once per process (salesbook.data.sqlcache): the same SQL as ibis writes."""

import ibis
import pandas as pd
import pytest
from ibis.backends.duckdb import Backend

import salesbook as sb
from salesbook.data import sqlcache
from salesbook.data.load import connect


def _frame(seed: int, n: int = 40) -> pd.DataFrame:
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta([(seed * 37 + 11 * i) % 700 for i in range(n)], "D")
    return pd.DataFrame({"date": days, "client_id": [f"c{(i + seed) % 6}" for i in range(n)],
                         "amount": [float((i * 13 + seed) % 90 - 5) for i in range(n)],
                         "category": [("a", "b")[i % 2] for i in range(n)], "manager": "M",
                         "order_id": [f"o{i}" for i in range(n)]})


def test_every_query_of_a_load_and_a_cube_gets_the_sql_ibis_writes_and_a_second_file_compiles_few(monkeypatch):
    asked: list[tuple[Backend, object, dict]] = []
    relation = Backend._to_duckdb_relation

    def record(self, expr, **kwargs):
        asked.append((self, expr, kwargs))
        return relation(self, expr, **kwargs)

    monkeypatch.setattr(Backend, "_to_duckdb_relation", record)
    monkeypatch.setattr(sqlcache, "_kept", type(sqlcache._kept)())

    def run(seed: int, as_of: str) -> None:
        cube = sb.build_cube(sb.load_sales(_frame(seed), as_of=as_of, stage=True)).build()
        assert cube.report.rows_kept > 0

    run(1, "2024-12-31")
    shapes, first = len(sqlcache._kept), len(asked)
    run(2, "2024-12-31")  # other lines, other clients, other table names: mostly the same queries
    # (a few differ: a bound computed from the amounts, a column's nullability in the engine's schema)
    again = len(asked) - first
    assert again >= 15 and len(sqlcache._kept) - shapes <= again // 4
    run(3, "2024-06-30")  # another date is another query, compiled anew
    assert len(sqlcache._kept) > shapes
    checked = 0
    for con, expr, kwargs in asked:
        if "compile" not in vars(con):
            continue
        table = expr.as_table()
        options = {k: kwargs[k] for k in ("limit",) if k in kwargs}
        assert con.compile(table, **options) == Backend.compile(con, table, **options)
        checked += 1
    assert checked == len(asked) > 30


def test_two_tables_of_the_same_columns_in_one_query_keep_their_own_names():
    con = connect()
    a = ibis.memtable(pd.DataFrame({"k": ["x", "y"], "v": [1.0, 2.0]}))
    b = ibis.memtable(pd.DataFrame({"k": ["x", "z"], "v": [10.0, 20.0]}))
    joined = a.join(b, "k").select("k", change=b.v - a.v)
    assert con.compile(joined) == Backend.compile(con, joined)
    assert con.to_pyarrow(joined).to_pylist() == [{"k": "x", "change": 9.0}]
    kept = len(sqlcache._kept)
    swapped = b.join(a, "k").select("k", change=a.v - b.v)  # the same shape, the tables in each other's place
    assert con.to_pyarrow(swapped).to_pylist() == [{"k": "x", "change": -9.0}]
    assert len(sqlcache._kept) == kept


def test_a_name_that_needs_quoting_is_quoted_as_ibis_quotes_it():
    con = connect()
    con.raw_sql('CREATE TEMPORARY TABLE "odd ""name""" AS SELECT 1 AS v')
    t = con.table('odd "name"')
    assert con.compile(t.filter(t.v > 0)) == Backend.compile(con, t.filter(t.v > 0))
    assert con.to_pyarrow(t.filter(t.v > 0)).to_pylist() == [{"v": 1}]


@pytest.mark.parametrize("limit", [None, 3])
def test_a_limit_is_part_of_the_query(limit):
    con = connect()
    t = ibis.memtable(pd.DataFrame({"v": range(10)}))
    assert con.compile(t, limit=limit) == Backend.compile(con, t, limit=limit)
    assert len(con.to_pyarrow(t, limit=limit)) == (limit or 10)


def test_a_connection_dropped_by_its_last_user_is_released_at_once_with_the_lines_it_holds():
    import gc
    import weakref
    con = connect()
    con.to_pyarrow(ibis.memtable(pd.DataFrame({"v": [1]})))  # compiled through the kept SQL
    gone = weakref.ref(con)
    gc.disable()  # released by its reference count, not by the collector's next cycle
    try:
        del con
        assert gone() is None
    finally:
        gc.enable()


def test_a_shapes_key_is_one_number_the_same_for_other_tables_and_another_for_another_literal():
    def query(frame: pd.DataFrame, floor: float):
        t = ibis.memtable(frame)
        t = t.mutate(double=t.v * 2)
        for i in range(12):  # each step reads the one before twice: a walk of every path would take 2**12 steps
            t = t.mutate(double=t.double + t.double / (i + 2))
        return t.filter(t.double > floor).select("k", "double")

    a = query(pd.DataFrame({"k": ["x"], "v": [1.0]}), 0.0)
    b = query(pd.DataFrame({"k": ["y", "z"], "v": [2.0, 3.0]}), 0.0)
    c = query(pd.DataFrame({"k": ["y", "z"], "v": [2.0, 3.0]}), 1.0)
    (ka, ta), (kb, tb), (kc, _) = (sqlcache._shape(e.op()) for e in (a, b, c))
    assert isinstance(ka, int) and ka == kb and kb != kc  # another floor is another query
    assert [t.name for t in ta] != [t.name for t in tb]
    con = connect()
    for e in (a, b, c):
        assert con.compile(e) == Backend.compile(con, e)


def test_forgotten_shape_numbers_still_give_ibis_sql(monkeypatch):
    monkeypatch.setattr(sqlcache, "NUMBERS", 5)
    con = connect()
    for floor in (1.0, 2.0, 3.0):
        t = ibis.memtable(pd.DataFrame({"v": [1.0, 2.5, 4.0]}))
        e = t.filter(t.v > floor).select(w=t.v + 1)
        assert con.compile(e) == Backend.compile(con, e)
        assert con.to_pyarrow(e).to_pylist() == [{"w": v + 1} for v in (1.0, 2.5, 4.0) if v > floor]
        assert len(sqlcache._numbers) <= 5 + 20  # forgotten as they pass the bound (one query's nodes at most)
