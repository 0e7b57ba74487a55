"""The cube on hand-made lines: every aggregate checked by hand."""

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


def test_the_same_code_runs_on_another_ibis_connection(lines):
    """The cube accepts any ibis backend: here a second, file-backed DuckDB database."""
    import ibis
    con = ibis.duckdb.connect()
    table = con.create_table("sales", ibis.memtable(lines))
    c = sb.build_cube(sb.load_sales(table))
    assert c.client_month.revenue.sum() == pytest.approx(720.0)


def test_reading_a_cached_cube_imports_neither_the_engine_nor_the_validator(tmp_path, lines):
    """Every workbook kernel reads the cube the run built: ibis, DuckDB and pandera (about a second
    of imports per kernel) are for building it, and a reader that pulls them in again fails here."""
    import subprocess
    import sys
    path = tmp_path / "s.parquet"
    lines.to_parquet(path)
    built = sb.get_cube(str(path), cache_dir=tmp_path / "c")
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
