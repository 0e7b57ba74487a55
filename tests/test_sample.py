"""The committed sample: the 1C export ties out, the planted facts hold, real data loads."""

import json

import pandas as pd
import pytest

import salesbook as sb
from salesbook import paths
from salesbook.data.sample import SampleSpec, generate

from conftest import SHARED_DATA

PLANTED = json.loads((paths.SAMPLE_DIR / "planted.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cube():
    return sb.get_cube("sample")


def test_1c_export_loads_through_the_preset_to_the_same_totals(cube):
    one_c = sb.load_sales(paths.SAMPLE_DIR / "sales_1c_last_quarter.csv", "1c")
    canon = sb.load_sales("sample", stage=True)  # the canonical lines computed once for the two sums below
    t = canon.table
    part = t.filter((t.date >= pd.Timestamp("2026-08-01")) & (t.client_id != PLANTED["hostile_name_client"]))
    assert one_c.report.encoding == "cp1251" and one_c.report.count("total_row") == 1
    assert one_c.report.revenue == pytest.approx(float(part.amount.sum().execute()), abs=0.005)
    assert one_c.report.rows_kept == part.count().execute()
    assert one_c.report.revenue == pytest.approx(PLANTED["export_1c"]["amount"], abs=0.005)


def test_sample_load_report_counts_the_planted_duplicates_and_returns(cube):
    r = cube.report
    assert r.count("duplicate") == PLANTED["duplicate_lines"]
    assert r.count("return") == PLANTED["return_lines"]
    assert r.as_of == PLANTED["as_of"] and r.balanced


def test_planted_sleepers_stopped_buying_and_reactivated_came_back(cube):
    c = cube.clients.set_index("client_id")
    as_of = pd.Timestamp(PLANTED["as_of"])
    sleeping_last = c.loc[PLANTED["sleeping_clients"], "last_date"]
    assert (sleeping_last < as_of - pd.DateOffset(months=7)).all()
    days = cube.client_day[cube.client_day.orders > 0]
    for cid in PLANTED["reactivated_clients"]:
        d = days.loc[days.client_id == cid, "date"].sort_values()
        assert d.iloc[-1] >= as_of - pd.DateOffset(months=3)
        assert d.diff().max() >= pd.Timedelta(days=180)


def test_sample_turnover_is_flat_and_acquisition_falls(cube):
    m = cube.monthly().set_index("month").revenue
    r12 = m.rolling(12).sum().dropna()
    last24 = r12.iloc[-24:]
    assert last24.max() / last24.min() < 1.15  # flat: within 15 % over two years
    assert r12.iloc[-1] / r12.iloc[0] > 1.5  # after early growth
    firsts = cube.clients.first_date.dt.year.value_counts()
    assert firsts[2022] > 1.8 * firsts[2025]


def test_generator_is_deterministic_and_the_growing_company_grows():
    spec = SampleSpec.growing(managers=4, months=36, pipeline_deals=10)
    a, b = generate(spec), generate(spec)
    pd.testing.assert_frame_equal(a.lines, b.lines)
    y = a.lines.groupby(a.lines.date.dt.year).amount.sum()
    assert y.iloc[-1] > y.iloc[-2] > y.iloc[1]


@pytest.mark.slow  # the whole real file: 525,461 lines loaded, then counted again in pandas (10-30 s)
@pytest.mark.skipif(not (SHARED_DATA / "online_retail_ii_2009_2010.parquet").exists(),
                    reason="the Online Retail II file is not in ../shared/data")
def test_online_retail_ii_loads_through_a_mapping_with_its_faults_counted():
    path = SHARED_DATA / "online_retail_ii_2009_2010.parquet"
    s = sb.load_sales(path, paths.ROOT / "data" / "mappings" / "online_retail_ii.yml")
    raw = pd.read_parquet(path)
    # expected counts computed independently, in the loader's order
    has_client = raw["Customer ID"].notna()
    with_client = raw[has_client]
    dups = with_client.duplicated()
    rest = with_client[~dups]
    amount = rest.Quantity * rest.Price
    r = s.report
    assert r.rows_read == len(raw) == 525_461
    assert r.count("no_client") == (~has_client).sum()
    assert r.count("duplicate") == dups.sum()
    assert r.count("zero_amount") == (amount == 0).sum()
    assert r.count("return") == (amount < 0).sum()
    # every negative line left is a cancellation invoice ("C...")
    assert (rest.Invoice[amount < 0].str.startswith("C")).all()
    assert r.rows_kept == ((amount != 0).sum()) and r.balanced
    assert r.revenue == pytest.approx(amount[amount != 0].sum(), rel=1e-12)
    assert (r.first_date, r.last_date) == ("2009-12-01", "2010-12-09")
