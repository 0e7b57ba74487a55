"""The cube on hand-made lines: every aggregate checked by hand."""

import json
import threading

import ibis
import pandas as pd
import pytest

import salesbook as sb


@pytest.fixture
def cube(lines):
    return sb.build_cube(sb.load_sales(lines))


def test_client_month_by_hand(cube):
    cm = cube.client_month.set_index(["client_id", "month"])
    a_jan = cm.loc[("A", pd.Timestamp("2024-01-01"))]
    assert (a_jan.revenue, a_jan.orders, a_jan.lines, a_jan.categories) == (150.0, 2, 2, 2)
    b_feb = cm.loc[("B", pd.Timestamp("2024-02-01"))]
    assert (b_feb.revenue, b_feb.orders, b_feb.lines, b_feb.quantity) == (320.0, 1, 2, 4.0)
    # a month with only a return: revenue nets, but it is no order
    b_apr = cm.loc[("B", pd.Timestamp("2024-04-01"))]
    assert (b_apr.revenue, b_apr.orders) == (-100.0, 0)
    assert cube.client_month.revenue.sum() == pytest.approx(720.0)


def test_clients_first_last_purchase_manager_and_gap(cube):
    c = cube.clients.set_index("client_id")
    assert c.loc["A", "first_date"] == pd.Timestamp("2024-01-05")
    assert c.loc["A", "last_date"] == pd.Timestamp("2024-03-15")
    assert c.loc["A", "client_name"] == "Alpha Ltd"  # the latest name
    # B's last line is a return handled by Ivanov: not a purchase date, but the latest manager
    assert c.loc["B", "last_date"] == pd.Timestamp("2024-02-03")
    assert (c.loc["B", "first_manager"], c.loc["B", "manager"]) == ("Petrova", "Ivanov")
    # A bought on Jan 5, Jan 20, Mar 15: gaps 15 and 55 days, median 35
    assert c.loc["A", "median_gap_days"] == 35
    assert pd.isna(c.loc["C", "median_gap_days"])
    assert (c.loc["A", "orders"], c.loc["B", "orders"], c.loc["C", "orders"]) == (3, 1, 1)


def test_manager_category_and_client_category(cube):
    mm = cube.manager_month.set_index(["manager", "month"])
    assert mm.loc[("Petrova", pd.Timestamp("2024-03-01")), "revenue"] == 250.0
    assert mm.loc[("Ivanov", pd.Timestamp("2024-04-01")), "clients"] == 0  # a return is not a buying client
    cc = cube.client_category.set_index(["client_id", "category"])
    assert cc.loc[("A", "x"), "months"] == 2 and cc.loc[("A", "x"), "revenue"] == 200.0
    cat = cube.category_month.groupby("category").revenue.sum()
    assert cat.to_dict() == {"x": 400.0, "y": 300.0, "z": 20.0}


def test_monthly_has_every_month_with_zeros_not_gaps(lines):
    gap = lines[lines.date.dt.month != 2]
    m = sb.build_cube(sb.load_sales(gap)).monthly()
    assert m.month.dt.month.tolist() == [1, 2, 3, 4]
    assert m.loc[m.month.dt.month == 2, "revenue"].item() == 0.0


def test_orders_fall_back_to_purchase_days_without_order_ids(lines):
    c = sb.build_cube(sb.load_sales(lines.drop(columns="order_id"))).clients.set_index("client_id")
    assert c.loc["A", "orders"] == 3 and c.loc["B", "orders"] == 1


def test_cube_is_cached_and_a_changed_file_is_not_served_from_cache(tmp_path, lines):
    path = tmp_path / "s.parquet"
    lines.to_parquet(path)
    first = sb.get_cube(str(path), cache_dir=tmp_path / "c")
    assert len(list((tmp_path / "c" / "cubes").iterdir())) == 1
    again = sb.get_cube(str(path), cache_dir=tmp_path / "c")
    pd.testing.assert_frame_equal(first.client_month, again.client_month)
    assert again.report.rows_kept == first.report.rows_kept
    lines.iloc[:3].to_parquet(path)
    changed = sb.get_cube(str(path), cache_dir=tmp_path / "c")
    assert changed.report.rows_kept == 3


def test_a_table_in_another_engine_is_read_anew_except_in_a_runs_own_cache_where_its_kernels_read_the_run_cube(
        tmp_path, lines, monkeypatch):
    import duckdb
    from salesbook import paths
    db = tmp_path / "wh.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table lines as select * from lines")
    source = f"duckdb:///{db}#lines"
    assert sb.get_cube(source, cache_dir=tmp_path / "c").folder is None  # a user's cache: no file to watch
    assert not (tmp_path / "c" / "cubes").exists() or not any((tmp_path / "c" / "cubes").iterdir())
    run = sb.get_cube(source, cache_dir=tmp_path / "run", tables=True, run_cache=True)  # the runner
    assert run.folder is not None and "client_month" in run.built
    monkeypatch.setenv("SALESBOOK_RUN_CACHE", "1")  # a kernel of that run: reads the run's cube, loads nothing
    paths.setup()
    try:
        kernel = sb.get_cube(source, cache_dir=tmp_path / "run")
        assert kernel.folder == run.folder and kernel.built == []
        pd.testing.assert_frame_equal(kernel.client_month, run.client_month)
        assert kernel.built == []
    finally:
        monkeypatch.delenv("SALESBOOK_RUN_CACHE")
        paths.setup()


def test_the_same_code_runs_on_another_ibis_connection(lines):
    """The cube accepts any ibis backend: here a second, file-backed DuckDB database."""
    import ibis
    con = ibis.duckdb.connect()
    table = con.create_table("sales", ibis.memtable(lines))
    c = sb.build_cube(sb.load_sales(table))
    assert c.client_month.revenue.sum() == pytest.approx(720.0)


def test_reading_a_cached_cube_imports_neither_the_engine_nor_the_validator(tmp_path, lines):
    """Every workbook kernel reads the cube the run built: ibis, DuckDB and pandera (about a second
    of imports per kernel) are for building it, and a reader of a table already in the cache that pulls them
    in again fails here."""
    import subprocess
    import sys
    path = tmp_path / "s.parquet"
    lines.to_parquet(path)
    built = sb.get_cube(str(path), cache_dir=tmp_path / "c").build("client_month")
    probe = (f"import sys, salesbook as sb\n"
             f"c = sb.get_cube({str(path)!r}, cache_dir={str(tmp_path / 'c')!r})\n"
             f"print(c.report.rows_kept, round(float(c.client_month.revenue.sum()), 2))\n"
             f"print(sorted(m for m in ('ibis', 'duckdb', 'pandera') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == f"{built.report.rows_kept} 720.0"
    assert out[1] == "[]"


def test_figures_summed_from_client_category_month_equal_a_pass_over_the_lines():
    """client_category, category_month and client_month's categories are sums over client_category_month;
    on the sample they equal the same figures straight from the lines, months in which a client only
    returned goods included."""
    sales = sb.load_sales("sample", stage=True)  # the lines computed once: three passes over them below
    cube = sb.get_cube("sample")  # the session's cube of these lines (build_cube, cached once for every test)
    t = sales.table.mutate(month=sales.table.date.truncate("M"))
    buy = t.amount > 0
    direct = {
        "client_category": (["client_id", "category"], t.group_by(["client_id", "category"]).aggregate(
            revenue=t.amount.sum(), lines=t.count(), first_date=t.date.min(where=buy),
            last_date=t.date.max(where=buy), months=t.month.nunique(where=buy))),
        "category_month": (["category", "month"], t.group_by(["category", "month"]).aggregate(
            revenue=t.amount.sum(), clients=t.client_id.nunique(where=buy), lines=t.count())),
        "client_month": (["client_id", "month"], t.group_by(["client_id", "month"]).aggregate(
            revenue=t.amount.sum(), categories=t.category.nunique(where=buy))),
    }
    for name, (keys, expr) in direct.items():
        want = expr.to_pandas().astype({k: str for k in keys if k != "month"})
        got = getattr(cube, name)[list(expr.columns)].astype({k: str for k in keys if k != "month"})
        want["revenue"] = want.revenue.round(2)
        for frame in (want, got):
            for col in frame.columns:
                if str(frame[col].dtype).startswith("datetime"):
                    frame[col] = frame[col].astype("datetime64[us]")
        pd.testing.assert_frame_equal(got.sort_values(keys, ignore_index=True),
                                      want[list(got.columns)].sort_values(keys, ignore_index=True), check_dtype=False)
    assert (cube.client_category_month.orders == 0).any()  # such months are rows, but not months bought


# --------------------------------------------------------------------------- tables built one by one (issue 25)


def _varied_lines(n: int = 600, seed: int = 7) -> pd.DataFrame:
    """Lines with what the tables must get right: returns (a month of returns only), lines without an order
    id or a category, a manager who changes, a duplicate, a zero amount, times within a day."""
    import numpy as np
    rng = np.random.default_rng(seed)
    clients = rng.choice([f"K{i}" for i in range(25)], n)
    day = pd.Timestamp("2023-01-02") + pd.to_timedelta(rng.integers(0, 700, n), unit="D") \
        + pd.to_timedelta(rng.integers(0, 3, n) * 3, unit="h")
    amount = np.round(rng.lognormal(6, 1, n), 2) * np.where(rng.random(n) < 0.06, -1, 1)
    df = pd.DataFrame({
        "date": day.astype("datetime64[us]"), "client_id": clients,
        "client_name": [f"Client {c}" for c in clients],
        "manager": np.where(day < pd.Timestamp("2024-03-01"), "Ivanov", rng.choice(["Petrova", "Sidorov"], n)),
        "product_id": rng.choice([f"P{i}" for i in range(12)], n),
        "category": rng.choice(["x", "y", "z", None], n, p=[0.4, 0.3, 0.2, 0.1]),
        "quantity": rng.integers(1, 9, n).astype(float), "amount": amount,
        "order_id": np.where(rng.random(n) < 0.2, None, [f"o{i // 3}" for i in range(n)]),
        "region": rng.choice(["North", "South"], n),
    })
    df.loc[5, "amount"] = 0.0
    only_returns = df.iloc[[0]].assign(client_id="R", date=pd.Timestamp("2024-06-10"), amount=-40.0)
    return pd.concat([df, df.iloc[[10]], only_returns], ignore_index=True)


def test_a_cube_built_table_by_table_equals_the_cube_built_whole():
    """Each table built on its own (in a cube that builds nothing else) equals the same table of a cube that
    built every table, and both equal the engine's single pass over every table (cube_expressions), value
    for value: client_month's categories counted in its own pass equal those summed from client x category
    x month, and the tables summed from it on this machine equal the engine's."""
    from salesbook.cube.build import _frame, cube_expressions
    sales = sb.load_sales(_varied_lines(), as_of="2024-12-31", odd_dates="keep")
    assert {"duplicate", "zero_amount", "return"} <= {line.reason for line in sales.report.lines}
    whole = sb.build_cube(sales).build()
    reference = {name: _frame(expr.to_pyarrow(), name)
                 for name, expr in cube_expressions(sales.table, as_of=sales.report.as_of).items()}
    for name in sb.cube.TABLES:
        alone = sb.build_cube(sales)
        got = alone.table(name)
        assert alone.built[-1] == name and set(alone.built) <= {name, "client_day", "client_category_month"}
        assert len(got) > 0, name
        pd.testing.assert_frame_equal(got, getattr(whole, name), obj=name)
        want = reference[name]
        pd.testing.assert_frame_equal(got[list(want.columns)], want, obj=f"{name} against cube_expressions")
    assert (whole.client_category_month.orders == 0).any()  # the month of returns only is there
    assert whole.client_month.categories.max() >= 2


def test_tables_summed_from_each_order_equal_pandas_sums_of_the_lines(monkeypatch):
    """A whole build sums each order's lines once in the engine (per client, manager and day) and reads client x
    day, client x month, client x manager x month and manager x month from there. On lines whose order ids two
    clients share, whose orders span managers and days, with lines without an order id and returns, each equals
    pandas' sums of the clean lines: orders with a purchase counted once per key, manager x month's orders and
    clients counted distinct across clients."""
    from salesbook.cube import build
    held = []
    hold = build._Engine.hold_orders
    monkeypatch.setattr(build._Engine, "hold_orders", lambda self, tables: (held.append(set(tables)), hold(self, tables))[1])
    lines = _varied_lines()
    day = pd.Timestamp("2024-05-06")  # one order of two managers on a day, then of one manager over two days
    split = lines.iloc[[1, 2, 3, 4]].assign(
        order_id="split", client_id="K1", manager=["Petrova", "Sidorov", "Petrova", "Petrova"], amount=[10.0, 20.0, 30.0, -5.0],
        date=[day, day, day + pd.Timedelta(days=1), day + pd.Timedelta(days=40)])
    sales = sb.load_sales(pd.concat([lines, split], ignore_index=True), as_of="2024-12-31", odd_dates="keep")
    cube = sb.build_cube(sales).build()
    assert held == [set(build._ORDER_READERS)]
    assert cube._engine is None or cube._engine._drop_orders is None  # given back once the last of them was computed
    df = sales.table.to_pandas()
    df["day"], df["month"] = df.date.dt.floor("D"), df.date.dt.to_period("M").dt.to_timestamp()
    df["order"] = df.order_id.fillna(df.day.dt.strftime("%Y-%m-%d"))
    by = df.groupby(["client_id", "order", "day"]).manager.nunique()
    assert (by > 1).any() and (df.groupby("order").client_id.nunique() > 1).any()  # what the rows must add up
    assert (df.groupby("order").day.nunique() > 1).any() and df.order_id.isna().any()
    bought = df[df.amount > 0]

    def check(got, keys, distinct=("order",)):
        want = df.groupby(keys).agg(revenue=("amount", "sum"), lines=("amount", "size"))
        for col in distinct:
            want[{"order": "orders", "client_id": "clients"}[col]] = bought.groupby(keys)[col].nunique()
        want = want.fillna(0)
        got = got.rename(columns={"date": "day"}).set_index(keys).sort_index()
        for col in want.columns.intersection(got.columns):
            assert got[col].to_numpy() == pytest.approx(want[col].sort_index().to_numpy()), (keys, col)
        assert len(got) == len(want)

    check(cube.client_day, ["client_id", "day"])
    check(cube.client_month, ["client_id", "month"])
    check(cube.client_manager_month, ["client_id", "manager", "month"])
    check(cube.manager_month, ["manager", "month"], distinct=("order", "client_id"))
    assert set(cube.client_manager_month.columns) >= {"revenue", "orders"}


def test_asking_for_one_table_builds_only_that_one(tmp_path, lines):
    path = tmp_path / "s.parquet"
    lines.to_parquet(path)
    cube = sb.get_cube(str(path), cache_dir=tmp_path / "c")
    assert cube.built == [] and sorted(p.name for p in cube.folder.glob("*.parquet")) == []
    assert cube.manager_month.revenue.sum() == pytest.approx(720.0)
    assert cube.built == ["manager_month"]
    assert [p.name for p in cube.folder.glob("*.parquet")] == ["manager_month.parquet"]
    cube.clients  # reads the purchase days it needs for the gaps between them, and builds them first
    assert cube.built == ["manager_month", "client_day", "clients"]
    cube.manager_month
    assert cube.built == ["manager_month", "client_day", "clients"]  # kept, not built again


def _probe(path, cache, tables: str, out) -> str:
    """A Python program that opens the cube of ``path`` in ``cache``, asks for ``tables`` and pickles them to
    ``out`` with the names it built."""
    return (f"import pandas as pd, salesbook as sb\n"
            f"c = sb.get_cube({str(path)!r}, cache_dir={str(cache)!r})\n"
            f"frames = {{n: c.table(n) for n in {tables}}}\n"
            f"pd.to_pickle({{'built': c.built, 'frames': frames}}, {str(out)!r})\n")


def test_fresh_processes_read_the_tables_in_the_cache_and_build_the_rest_each_once(tmp_path):
    """The runner's kernels read the cube the runner's process built: a table in the cache is read, one that
    is not is built there (and kept for the next). Two kernels that both need tables nobody built yet: one
    builds each, the other waits and reads it, whole. Every table is the one a whole build gives, and the
    cache entry holds one complete file per table."""
    import subprocess
    import sys
    path = tmp_path / "s.parquet"
    _varied_lines().to_parquet(path)
    cache = tmp_path / "c"
    opts = dict(as_of="2024-12-31", odd_dates="keep")
    mine = sb.get_cube(str(path), cache_dir=cache, **opts).build("client_day", "clients")
    probes = [_probe(path, cache, "sb.cube.TABLES", tmp_path / f"got{i}.pkl").replace(
        f"{str(path)!r}, cache_dir", f"{str(path)!r}, as_of='2024-12-31', odd_dates='keep', cache_dir")
        for i in range(2)]
    runs = [subprocess.Popen([sys.executable, "-c", probe]) for probe in probes]
    assert [r.wait(timeout=600) for r in runs] == [0, 0]
    got = [pd.read_pickle(tmp_path / f"got{i}.pkl") for i in range(2)]
    built = sorted(got[0]["built"] + got[1]["built"])
    assert built == sorted(set(sb.cube.TABLES) - {"client_day", "clients"})  # read, not built again; each once
    whole = sb.build_cube(sb.load_sales(str(path), **opts)).build()
    for name in sb.cube.TABLES:
        for one in got:
            pd.testing.assert_frame_equal(one["frames"][name], getattr(whole, name), obj=name)
    assert sorted(p.stem for p in mine.folder.glob("*.parquet")) == sorted(sb.cube.TABLES)
    again = sb.get_cube(str(path), cache_dir=cache, **opts).build()
    assert again.built == [] and again.report.to_json() == mine.report.to_json()


def test_rfm_of_a_new_file_builds_only_the_purchase_days_and_the_clients(tmp_path):
    """RFM reads two tables, and gives what it gave from the client figures (five tables)."""
    from salesbook.analysis import segments as sg
    path = tmp_path / "s.parquet"
    _varied_lines().to_parquet(path)
    cube = sb.get_cube(str(path), as_of="2024-12-31", cache_dir=tmp_path / "c", odd_dates="keep")
    got = sg.rfm(cube)
    assert cube.built == ["client_day", "clients"]
    assert len(got) == 25 and "R" not in got.index  # R only returned goods: no purchase, no RFM
    assert got.segment.ne("").sum() > 10
    full = sg.rfm(cube, features=sg.client_features(cube, cube.as_of, 24))
    pd.testing.assert_frame_equal(got, full)


def test_a_cached_cube_builds_every_table_at_once(tmp_path, monkeypatch):
    """build() on a cube with a cache entry: each table once, client x category x month before the tables summed
    from it, and every file
    in the entry (the build of a table that reads another one takes both tables' locks in one process). For
    so many passes the file's clean lines are computed once in the engine first: the same tables."""
    from salesbook.cube import build
    held = []
    hold = build._Engine.hold
    monkeypatch.setattr(build._Engine, "hold", lambda self: (held.append(1), hold(self)))
    path = tmp_path / "s.parquet"
    _varied_lines().to_parquet(path)
    cube = sb.get_cube(str(path), as_of="2024-12-31", cache_dir=tmp_path / "c", odd_dates="keep").build()
    assert held == [1]
    assert sorted(cube.built) == sorted(sb.cube.TABLES)
    # client x category x month before the tables summed from it (``built`` lists a table once its frame is made:
    # the product window, computed first, is listed when the build's thread has made its frame)
    assert cube.built.index("client_category_month") < min(
        cube.built.index(n) for n in ("client_category", "category_month", "client_month"))
    assert sorted(p.stem for p in cube.folder.glob("*.parquet")) == sorted(sb.cube.TABLES)
    one_by_one = sb.get_cube(str(path), as_of="2024-12-31", cache=False, odd_dates="keep")
    for name in sb.cube.TABLES:
        pd.testing.assert_frame_equal(one_by_one.table(name), getattr(cube, name), obj=name)
    assert held == [1]  # one table at a time: the lines stay in the file


def test_a_table_whose_frame_fails_in_the_build_thread_fails_the_build_and_lets_its_lock_go(tmp_path, monkeypatch):
    """build() makes the frames of some tables in a thread while the engine computes the next: a failure there is
    the build's failure, raised by build(), and nothing is left half done: no file for that table, its lock free,
    and a later build makes it whole."""
    import fcntl

    from salesbook.cube import build
    path = tmp_path / "s.parquet"
    _varied_lines().to_parquet(path)
    frame = build._frame
    threads = []

    def failing(table, name):
        threads.append((name, threading.current_thread().name))
        if name == "client_day":
            raise MemoryError("no room for client_day")
        return frame(table, name)
    monkeypatch.setattr(build, "_frame", failing)
    cube = sb.get_cube(str(path), as_of="2024-12-31", cache_dir=tmp_path / "c", odd_dates="keep")
    with pytest.raises(MemoryError, match="client_day"):
        cube.build()
    made = dict(threads)  # beside the engine: the product window's frame and client_day's
    assert made["client_product_window"].startswith("salesbook-cube") and made["client_day"].startswith("salesbook-cube")
    assert not (cube.folder / "client_day.parquet").exists() and not cube._pending
    with open(cube.folder / ".client_day.lock", "a+b") as lock:  # nobody holds it
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(lock, fcntl.LOCK_UN)
    monkeypatch.setattr(build, "_frame", frame)
    cube.build()
    assert sorted(p.stem for p in cube.folder.glob("*.parquet")) == sorted(sb.cube.TABLES)
    whole = sb.get_cube(str(path), as_of="2024-12-31", cache=False, odd_dates="keep")
    pd.testing.assert_frame_equal(cube.client_day, whole.client_day)


def test_a_file_with_more_duplicates_than_are_listed_is_deduplicated_by_the_engine_to_the_same_cube(
        tmp_path, monkeypatch):
    """Lines of a Parquet file stay in the file and their copies are dropped by position; past
    DUPLICATE_CANDIDATES lines sharing a hash the engine computes the distinct lines instead: the same load
    report and the same tables either way."""
    from salesbook.data import validate
    path = tmp_path / "s.parquet"
    _varied_lines().to_parquet(path)
    listed = sb.load_sales(str(path), as_of="2024-12-31", odd_dates="keep")
    assert listed.recipe and listed.recipe["copies"] == [600]  # the copy of line 11, appended last
    monkeypatch.setattr(validate, "DUPLICATE_CANDIDATES", 1)
    computed = sb.load_sales(str(path), as_of="2024-12-31", odd_dates="keep")
    assert not computed.recipe
    account = lambda r: [(ln.reason, ln.count, round(ln.amount, 2), ln.rows) for ln in r.lines]  # noqa: E731
    assert account(computed.report) == account(listed.report)
    assert computed.report.rows_kept == listed.report.rows_kept == 602 - 2  # the copy and the zero amount
    a, b = sb.build_cube(listed).build(), sb.build_cube(computed).build()
    for name in sb.cube.TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)


def test_a_saved_cube_reads_back_the_same_tables_without_building_any(tmp_path, lines):
    cube = sb.build_cube(sb.load_sales(lines))
    cube.save(tmp_path / "saved")
    again = sb.Cube.load(tmp_path / "saved")
    for name in sb.cube.TABLES:
        pd.testing.assert_frame_equal(again.table(name), cube.table(name), obj=name)
    assert again.built == [] and again.report.to_json() == cube.report.to_json()


def test_a_run_asking_for_every_table_stages_the_lines_once_and_gets_the_same_cube(tmp_path, monkeypatch):
    """get_cube(tables=True), as a run asks: the file is read in place (its copies found by their row ids, the
    recipe kept in the entry for a process that must build a table again), the lines that passed are computed
    once in the engine for the nine tables, every table is in the entry, the same as one by one. Once every
    table is built, the engine's copy of the lines is dropped and the load's own connection closed."""
    from salesbook.data.load import Sales
    path = tmp_path / "s.parquet"
    _varied_lines().to_parquet(path)
    released: list[tuple[bool, bool]] = []
    release = Sales.release
    monkeypatch.setattr(Sales, "release", lambda self: (released.append((self.computed, self.own_con)),
                                                        release(self))[1])
    cube = sb.get_cube(str(path), as_of="2024-12-31", cache_dir=tmp_path / "c", odd_dates="keep", tables=True)
    assert sorted(cube.built) == sorted(sb.cube.TABLES) and set(cube.meta["seconds"]) == {"load", "cube"}
    # the lines computed in the engine, then the loaded ones, which own the connection
    assert released == [(True, False), (False, True)] and cube._engine is None
    assert json.loads((cube.folder / "lines.json").read_text())["copies"] == [600]
    assert sorted(p.stem for p in cube.folder.glob("*.parquet")) == sorted(sb.cube.TABLES)
    alone = sb.get_cube(str(path), as_of="2024-12-31", cache=False, odd_dates="keep")
    account = lambda r: (r.rows_read, r.rows_kept, r.clients, round(r.revenue, 2), r.first_date, r.last_date,  # noqa: E731
                         [(ln.reason, ln.count, round(ln.amount, 2), ln.rows) for ln in r.lines])
    assert account(alone.report) == account(cube.report)  # the sums to the cent: the engine adds in any order
    for name in sb.cube.TABLES:
        pd.testing.assert_frame_equal(alone.table(name), getattr(cube, name), obj=name)
    again = sb.get_cube(str(path), as_of="2024-12-31", cache_dir=tmp_path / "c", odd_dates="keep", tables=True)
    assert again.built == []


def test_text_of_a_key_column_is_what_astype_str_and_fillna_give():
    """text_of takes a categorical column's converted categories by code: the same text as astype(str), missing
    values as asked (or as astype(str) writes them), the same index, for categorical and plain columns."""
    from salesbook.cube.build import text_of
    values = ["b", None, "a", "b", None, "c"]
    for col in (pd.Series(values, dtype="category", index=[5, 4, 3, 2, 1, 0], name="k"),
                pd.Series(values, dtype="str", name="k"), pd.Series(values, dtype=object, name="k"),
                pd.Series([3, 1, 3], dtype="category")):
        for missing in ("—", None):
            want = (col.astype(object).fillna(missing) if missing is not None else col).astype(str)
            got = text_of(col, missing)
            pd.testing.assert_series_equal(got, want)
    assert text_of(pd.Series(values, dtype="category"), "—").tolist() == ["b", "—", "a", "b", "—", "c"]


def test_the_engine_gives_back_the_lines_it_owns_and_never_a_callers(tmp_path):
    """Sales.release drops the engine's copy of the lines and closes the connection the load opened; a cube built
    from a caller's lines (build_cube) leaves them readable once every table is built."""
    lines = _varied_lines()
    temporary = lambda con: con.raw_sql("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()[0]  # noqa: E731
    mine = sb.load_sales(lines, as_of="2024-12-31", odd_dates="keep", stage=True)
    assert mine.held is not None and mine.own_con
    assert temporary(mine.con) == 1  # the staged lines; the lines as read, put in the engine first, are dropped
    sb.build_cube(mine).build()
    assert mine.table.count().execute() == mine.report.rows_kept  # the caller's lines stay readable
    mine.release()
    assert mine.held is None and not mine.own_con
    with pytest.raises(Exception):
        mine.table.count().execute()  # the connection is closed
    given = sb.load_sales(lines, as_of="2024-12-31", odd_dates="keep", stage=True, con=ibis.duckdb.connect())
    assert not given.own_con and temporary(given.con) == 1
    given.release()  # a caller's connection is never closed: only the copy is dropped
    assert temporary(given.con) == 0 and given.con.raw_sql("SELECT 1").fetchone() == (1,)


def test_under_a_memory_cap_the_lines_are_held_compressed_and_the_cube_is_the_same(tmp_path, monkeypatch):
    """SALESBOOK_DUCKDB_MEMORY: the lines a run holds for its tables go to DuckDB's compressed in-memory database
    (HELD_DB) whatever their number, coded (as from CODE_FROM lines without a cap), are dropped with the rest once
    every table is built, and give the same cube as without a cap."""
    from salesbook.data import load
    path = tmp_path / "s.parquet"
    _varied_lines().to_parquet(path)
    plain = sb.get_cube(str(path), as_of="2024-12-31", cache=False, odd_dates="keep", tables=True)
    monkeypatch.setenv("SALESBOOK_DUCKDB_MEMORY", "1GB")
    monkeypatch.setattr(load.paths, "CACHE_DIR", tmp_path / "cache")
    seen = _coded_holds(monkeypatch, load.CODE_FROM)
    assert len(_varied_lines()) < load.CODE_FROM
    capped = sb.get_cube(str(path), as_of="2024-12-31", cache=False, odd_dates="keep", tables=True)
    assert len(seen) == 1 and seen[0]["types"]["client_id"].startswith("ENUM(")  # held once, for the nine tables
    for name in sb.cube.TABLES:
        pd.testing.assert_frame_equal(capped.table(name), plain.table(name), check_exact=True, obj=name)
    lines = load.load_sales(str(path), as_of="2024-12-31", odd_dates="keep", in_place=True).materialize()
    rows = lambda: lines.con.raw_sql(  # noqa: E731
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ?", parameters=[load.HELD_DB]).fetchone()[0]
    assert rows() == 1 and lines.table.count().execute() == lines.report.rows_kept
    lines.held()
    assert rows() == 0


def test_client_category_month_is_kept_whole_in_key_order_and_tables_summed_from_the_file_are_the_same(tmp_path):
    """The cache keeps client x category x month whole (its lines and dates too, for the tables summed from it),
    typed and in key order: a process reading it neither types nor sorts it again. A process that must sum
    client x category and category x month from the kept file gets the tables the engine's result gave."""
    from salesbook.cube.build import CCM_PUBLIC, ORDER
    path = tmp_path / "s.parquet"
    _varied_lines().to_parquet(path)
    cube = sb.get_cube(str(path), as_of="2024-12-31", cache_dir=tmp_path / "c", odd_dates="keep", tables=True)
    kept = pd.read_parquet(cube.folder / "client_category_month.parquet")
    assert set(CCM_PUBLIC) < set(kept.columns) and {"lines", "first_date", "last_date"} <= set(kept.columns)
    assert isinstance(kept.client_id.dtype, pd.CategoricalDtype)
    keys = ORDER["client_category_month"]
    pd.testing.assert_frame_equal(kept, kept.sort_values(keys, kind="stable", ignore_index=True))  # already sorted
    for name in ("client_category", "category_month"):
        (cube.folder / f"{name}.parquet").unlink()
    again = sb.get_cube(str(path), as_of="2024-12-31", cache_dir=tmp_path / "c", odd_dates="keep")
    for name in ("client_category", "category_month", "client_category_month"):
        pd.testing.assert_frame_equal(again.table(name), cube.table(name), check_exact=True, obj=name)
    assert sorted(again.built) == ["category_month", "client_category"]


def test_a_cube_built_whole_in_memory_saves_after_its_lines_are_let_go(tmp_path):
    """get_cube(cache=False, tables=True) lets the engine's lines go once every table is built; saving it then
    writes every table from memory (it raised: the whole client x category x month table was gone)."""
    path = tmp_path / "s.parquet"
    _varied_lines().to_parquet(path)
    cube = sb.get_cube(str(path), as_of="2024-12-31", cache=False, odd_dates="keep", tables=True)
    assert cube._engine is None
    cube.save(tmp_path / "saved")
    again = sb.Cube.load(tmp_path / "saved")
    for name in sb.cube.TABLES:
        pd.testing.assert_frame_equal(again.table(name), cube.table(name), check_exact=True, obj=name)


def test_a_run_s_cube_forgets_its_tables_and_reads_the_same_ones_again(tmp_path):
    """The runner's cube lets go of its tables once built (they are in the run's cache folder, where the kernels
    read them) and reads each again when its summary asks; a cube without a folder keeps what it built."""
    path = tmp_path / "s.parquet"
    _varied_lines().to_parquet(path)
    cube = sb.get_cube(str(path), as_of="2024-12-31", cache_dir=tmp_path / "run", tables=True, run_cache=True,
                       odd_dates="keep")
    built = {name: cube.table(name) for name in sb.cube.TABLES}
    assert cube.forget() is cube and not cube._frames and cube._engine is None
    for name in sb.cube.TABLES:
        again = cube.table(name)
        assert again is not built[name] and cube.table(name) is again  # read once, then kept
        pd.testing.assert_frame_equal(again, built[name], check_exact=True, obj=name)
    alone = sb.get_cube(str(path), as_of="2024-12-31", cache=False, odd_dates="keep", tables=True)
    kept = alone.table("client_day")
    assert alone.forget().table("client_day") is kept


def _coded_holds(monkeypatch, code_from: int) -> list[dict]:
    """Record each hold of the lines coded (:func:`_held_coded`): whether the checks gave the values, and the
    held table's column types as DuckDB describes them."""
    from salesbook.data import load
    monkeypatch.setattr(load, "CODE_FROM", code_from)
    seen: list[dict] = []
    held = load._held_coded

    def record(table, con, values=None, lines=None):
        back, drop = held(table, con, values, lines)
        types = dict(row[:2] for row in con.raw_sql(f'DESCRIBE {load.HELD_DB}.main."{back.op().name}"').fetchall())
        seen.append({"given": values is not None, "types": types, "con": con})
        return back, drop
    monkeypatch.setattr(load, "_held_coded", record)
    return seen


def test_lines_held_coded_give_the_same_cube_and_their_text_as_enums(tmp_path, monkeypatch):
    """From CODE_FROM lines, the clean lines a cube holds for its tables keep their text columns as DuckDB ENUMs
    over the values the checks listed (an order id stays text), and every table is the one the lines held as text
    give, categories and all. A frame's lines, staged by the load, are listed by a pass of their own. The types
    go with the lines."""
    path = tmp_path / "s.parquet"
    frame = _varied_lines()
    frame.to_parquet(path)
    assert not _coded_holds(monkeypatch, 10 ** 12)
    plain = sb.get_cube(str(path), as_of="2024-12-31", cache=False, odd_dates="keep", tables=True)
    plain_frame = sb.get_cube(frame, as_of="2024-12-31", cache=False, odd_dates="keep", tables=True)
    seen = _coded_holds(monkeypatch, 1)
    coded = sb.get_cube(str(path), as_of="2024-12-31", cache=False, odd_dates="keep", tables=True)
    coded_frame = sb.get_cube(frame, as_of="2024-12-31", cache=False, odd_dates="keep", tables=True)
    assert [s["given"] for s in seen] == [True, False]  # the file's listed by the checks, the frame's by a pass
    for s in seen:
        assert all(s["types"][c].startswith("ENUM(") for c in ("client_id", "manager", "category", "product_id")), s
        assert s["types"]["order_id"] == "VARCHAR"
    for name in sb.cube.TABLES:
        pd.testing.assert_frame_equal(coded.table(name), plain.table(name), check_exact=True, obj=name)
        pd.testing.assert_frame_equal(coded_frame.table(name), plain_frame.table(name), check_exact=True, obj=name)
    assert not isinstance(coded.clients.client_name.dtype, pd.CategoricalDtype)  # a name is text, not a key
    from salesbook.data import load
    con = ibis.duckdb.connect()  # a caller's connection outlives the lines: their types go with them
    lines = load.load_sales(str(path), as_of="2024-12-31", odd_dates="keep", coded=True, con=con).materialize()
    types = lambda: con.raw_sql(  # noqa: E731
        "SELECT count(*) FROM duckdb_types() WHERE type_name LIKE 'ibis_salesbook_enum%'").fetchone()[0]
    assert types() == 6 and lines.table.count().execute() == lines.report.rows_kept
    lines.held()
    assert types() == 0


def test_columns_that_need_no_canonical_expression_are_read_as_the_file_holds_them(tmp_path, monkeypatch):
    """A Parquet file's text columns whose canonical expression changes no value are read as they are (one pass
    decides it); a column with a value to strip, an empty value or an id written "7.0" keeps its expression. Every
    table is the one the canonical expressions give, and the checks' account is the same. Lines whose every text
    column is read as it is are a plain scan of the file: a cube reads it for each table instead of holding them.
    A replay of the load reads the same columns as they are and gives the same lines."""
    from salesbook.cube import build
    from salesbook.data import load
    clean = _varied_lines()
    dirty = clean.copy()
    dirty.loc[3, "client_name"] = " " + dirty.loc[3, "client_name"]  # to strip
    dirty.loc[4, "region"] = ""  # no region
    dirty.loc[6, "product_id"] = "7.0"  # the id 7, as a spreadsheet writes it
    held: list[int] = []
    materialize = load.Sales.materialize
    monkeypatch.setattr(load.Sales, "materialize", lambda self, *a: (held.append(1), materialize(self, *a))[1])
    decided: list[frozenset] = []
    as_read = load._as_read
    monkeypatch.setattr(load, "_as_read", lambda raw, m: (decided.append(as_read(raw, m)), decided[-1])[1])
    texts = {"client_id", "client_name", "manager", "product_id", "category", "order_id", "region"}
    for frame, expected in ((clean, texts), (dirty, texts - {"client_name", "region", "product_id"})):
        path = tmp_path / f"{len(decided)}.parquet"
        frame.to_parquet(path)
        options = dict(as_of="2024-12-31", cache=False, odd_dates="keep")
        monkeypatch.setattr(load, "AS_READ_FROM", 10 ** 12)
        canonical = sb.get_cube(str(path), **options).build()
        assert decided.pop() == frozenset() and held.pop() == 1  # every column through its expression, held
        monkeypatch.setattr(load, "AS_READ_FROM", 1)
        cube = sb.get_cube(str(path), **options).build()
        assert decided.pop() == expected
        assert held == ([] if expected == texts else [1])  # a plain scan of the file is not held
        held.clear()
        assert cube.report.to_dict() == canonical.report.to_dict()
        for name in sb.cube.TABLES:
            pd.testing.assert_frame_equal(cube.table(name), canonical.table(name), check_exact=True, obj=name)
        sales = load.load_sales(str(path), as_of="2024-12-31", odd_dates="keep")
        assert decided.pop() == expected
        assert sales.recipe["as_read"] == sorted(expected) and sales.plain == (expected == texts)
        monkeypatch.setattr(load, "AS_READ_FROM", 10 ** 12)  # a replay does not decide again: it reads the recipe
        again = load.load_sales(str(path), replay=json.loads(json.dumps(sales.recipe)))
        assert not decided and again.plain == sales.plain
        key = ["date", "client_id", "amount", "order_id", "product_id"]
        pd.testing.assert_frame_equal(again.table.to_pandas().sort_values(key, ignore_index=True),
                                      sales.table.to_pandas().sort_values(key, ignore_index=True), check_exact=True)
    # a column to strip that the cube does not keep (a product's name): its lines are still a plain scan for the cube
    named = clean.assign(product_name=[" p"] + ["p"] * (len(clean) - 1))
    named.to_parquet(tmp_path / "named.parquet")
    monkeypatch.setattr(load, "AS_READ_FROM", 1)
    sb.get_cube(str(tmp_path / "named.parquet"), **options).build()
    assert decided.pop() == texts and held == []
    assert not load.load_sales(str(tmp_path / "named.parquet"), as_of="2024-12-31", odd_dates="keep").plain
    assert decided.pop() == texts
    assert build.HOLD_FROM <= len(sb.cube.TABLES)


def test_a_text_column_of_nearly_one_value_per_line_is_held_as_text(monkeypatch):
    """A column with more distinct values than half the lines (an id per line mapped as the product) stays text:
    an ENUM of every line's value would cost more than it saves. Its cube is the same."""
    lines = _varied_lines(n=200)
    lines["product_id"] = [f"line {i}" for i in range(len(lines))]
    plain = sb.get_cube(lines, as_of="2024-12-31", cache=False, odd_dates="keep", tables=True)
    seen = _coded_holds(monkeypatch, 1)
    coded = sb.get_cube(lines, as_of="2024-12-31", cache=False, odd_dates="keep", tables=True)
    assert seen[0]["types"]["product_id"] == "VARCHAR" and seen[0]["types"]["client_id"].startswith("ENUM(")
    pd.testing.assert_frame_equal(coded.client_product_window, plain.client_product_window, check_exact=True)


def test_engine_results_keep_coded_text_as_dictionaries_and_frames_as_the_categories_of_their_values(monkeypatch):
    """The engine's result over lines held coded gives a key as an Arrow dictionary (an ENUM's every value), and
    the frame made of it has the categories ``astype("category")`` gives: the values the table holds, sorted."""
    import pyarrow as pa
    from salesbook.cube.build import _Engine, _frame
    _coded_holds(monkeypatch, 1)
    lines = _varied_lines()
    sales = sb.load_sales(lines, as_of="2024-12-31", odd_dates="keep", stage=True)
    engine = _Engine(sales)
    engine.hold()
    table = engine.aggregate("manager_month")
    assert pa.types.is_dictionary(table.schema.field("manager").type)
    got = _frame(table, "manager_month")
    months = got.month.min()
    only = _frame(table.filter(pa.compute.equal(table["month"], pa.scalar(months, table.schema.field("month").type))),
                  "manager_month")
    assert list(only.manager.cat.categories) == sorted(only.manager.astype(str).unique())
    assert list(only.manager.cat.categories) == ["Ivanov"]  # the ENUM lists three managers
    engine.close()


def test_giving_memory_back_closes_this_thread_s_duckdb_and_the_next_table_opens_another(tmp_path):
    """After a runner's build (:func:`give_back_memory`): this thread's DuckDB for the tables summed from client x
    category x month is closed, and a table summed later opens another and is the same."""
    from salesbook.cube import build
    path = tmp_path / "s.parquet"
    _varied_lines().to_parquet(path)
    cube = sb.get_cube(str(path), as_of="2024-12-31", cache_dir=tmp_path / "c", odd_dates="keep", tables=True)
    first = build._LOCAL.con
    assert first is not None
    build.give_back_memory()
    assert build._LOCAL.con is None
    with pytest.raises(Exception):
        first.raw_sql("SELECT 1")
    (cube.folder / "category_month.parquet").unlink()
    again = sb.get_cube(str(path), as_of="2024-12-31", cache_dir=tmp_path / "c", odd_dates="keep")
    pd.testing.assert_frame_equal(again.category_month, cube.category_month, check_exact=True)
    assert build._LOCAL.con is not None


def test_a_build_of_some_tables_summed_from_the_orders_gives_the_orders_back_after_the_last(monkeypatch):
    """client x month without client x category x month is a pass over the lines of its own; client x day reads the
    orders: they are computed for it and given back once both are built, not held until the engine closes."""
    from salesbook.cube import build
    held, dropped = [], []
    hold, drop = build._Engine._hold_orders, build._Engine.drop_orders
    monkeypatch.setattr(build._Engine, "_hold_orders", lambda self: (held.append(1), hold(self))[1])
    monkeypatch.setattr(build._Engine, "drop_orders",
                        lambda self: (dropped.append(self._drop_orders is not None), drop(self))[1])
    sales = sb.load_sales(_varied_lines(), as_of="2024-12-31", odd_dates="keep")
    cube = sb.build_cube(sales).build("client_month", "client_day")
    assert held == [1] and True in dropped and cube._engine._drop_orders is None
    whole = sb.build_cube(sales).build()
    for name in ("client_month", "client_day"):
        pd.testing.assert_frame_equal(cube.table(name), whole.table(name), obj=name)
