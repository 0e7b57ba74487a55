"""What-if levers: zero levers give the baseline exactly; each lever alone by hand on a small case."""

import pandas as pd
import pytest

import salesbook as sb
from salesbook import whatif as wi


@pytest.fixture
def cal():
    return wi.Calibration(
        baseline=pd.Series({"regular": 1000.0, "vip": 3000.0, "sleeping": 0.0, "new": 200.0}),
        sleeping_clients=4, sleeping_yearly=800.0,
        repeat_revenue=pd.Series({"regular": 1000.0, "vip": 3000.0}),
        active_clients=pd.Series({"regular": 5, "vip": 2, "new": 3}),
        revenue_per_category=50.0, lost_revenue=600.0)


def test_all_levers_at_zero_equal_the_baseline_exactly(cal):
    res = wi.simulate(cal, wi.Levers())
    assert res["result"] == res["baseline"] == 4200.0
    assert set(res["steps"].values()) == {0.0}
    assert (res["by_category"].result == res["by_category"].baseline).all()


@pytest.mark.parametrize("levers, lever, amount", [
    (wi.Levers(reactivate=0.25), "reactivation", 0.25 * 800),
    (wi.Levers(frequency=0.1), "frequency", 0.1 * 4000),
    (wi.Levers(deal_size=0.1), "deal_size", 0.1 * 4000),
    (wi.Levers(categories=0.5), "categories", 0.5 * 10 * 50),
    (wi.Levers(retain=0.5), "retention", 0.5 * 600),
])
def test_each_lever_alone_moves_revenue_up_by_the_hand_computed_amount(cal, levers, lever, amount):
    res = wi.simulate(cal, levers)
    assert res["steps"][lever] == pytest.approx(amount)
    assert res["result"] - res["baseline"] == pytest.approx(amount)
    assert sum(v for k, v in res["steps"].items() if k != lever) == 0


def test_frequency_and_deal_size_compound(cal):
    res = wi.simulate(cal, wi.Levers(frequency=0.1, deal_size=0.1))
    assert res["result"] - res["baseline"] == pytest.approx(4000 * (1.1 * 1.1 - 1))
    assert res["by_category"].loc["vip", "effect"] == pytest.approx(3000 * 0.21)


def test_calibration_comes_from_the_sample():
    cube = sb.get_cube("sample")
    cal = wi.calibrate(cube)
    from salesbook.overview import window_totals
    assert cal.total == pytest.approx(window_totals(cube, 12)[0], rel=1e-9)
    assert cal.sleeping_clients > 0 and cal.lost_revenue > 0 and cal.revenue_per_category > 0
