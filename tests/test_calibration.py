"""Opportunities calibrated by a backtest: a hand-made history where 2 of 10 sleeping clients came back."""

import pandas as pd
import pytest

import salesbook as sb
from salesbook.analysis import calibration as cb, segments as sg


def _history(back: int = 2) -> pd.DataFrame:
    """Every purchase on the 28th. S0-S9 buy 100 a month from January 2023 to March 2024, then sleep;
    the first ``back`` of them (S0 and S1) buy 200 once in June 2025. R buys 100 a month throughout, to
    December 2025."""
    rows = []
    for month in pd.date_range("2023-01-01", "2025-12-01", freq="MS"):
        day = month + pd.Timedelta(days=27)
        rows.append(("R", 100.0, day))
        if month <= pd.Timestamp("2024-03-01"):
            rows += [(f"S{i}", 100.0, day) for i in range(10)]
    rows += [(f"S{i}", 200.0, pd.Timestamp("2025-06-28")) for i in range(back)]
    df = pd.DataFrame(rows, columns=["client_id", "amount", "date"])
    return df.assign(client_name=df.client_id, manager="Ivanova")


@pytest.fixture(scope="module")
def cube():
    # stage=True: the clean lines computed once in the engine, as get_cube does (the same lines as the lazy load)
    return sb.build_cube(sb.load_sales(_history(), as_of="2025-12-31", odd_dates="keep", stage=True))


CAL = cb.CalibrationRules(min_clients=10)


def test_two_of_ten_sleeping_clients_came_back(cube):
    bt = cb.reactivation_backtest(cube, cal=CAL)
    # only the date moved back 12 months has its year before and after in the data
    assert set(bt.origin.astype(str)) == {"2024-12-31"} and len(bt) == 10
    assert bt.came_back.sum() == 2 and set(bt[bt.came_back].client_id) == {"S0", "S1"}
    assert (bt.months_asleep == 9).all() and (bt.yearly_revenue == 1200).all()


def test_the_expected_value_of_todays_list_by_hand(cube):
    sleepers = sg.reactivation_list(cube, sg.classify_clients(cube), 24)
    assert len(sleepers) == 10
    res = cb.expected_reactivation(cube, sleepers, cal=CAL)
    assert res["share"] == pytest.approx(0.2)
    assert res["ratio"] == pytest.approx(400 / 2400)  # the returners brought 200 each against 1,200 a year
    # today: S2-S9 bought 1,200 in their last active year, S0 and S1 200: 0.2 x 1/6 x 10,000
    assert res["expected"] == pytest.approx(0.2 / 6 * 10_000)
    assert res["low"] <= res["expected"] <= res["high"]
    assert "2 of" not in cb.reactivation_sentence(res) and "20%" in cb.reactivation_sentence(res)


def test_too_short_a_history_gives_no_money_figure(cube):
    sleepers = sg.reactivation_list(cube, sg.classify_clients(cube), 24)
    res = cb.expected_reactivation(cube, sleepers)  # 10 backtest clients, 20 needed
    assert res["unknown"] and "expected" not in res
    text = cb.reactivation_sentence(res)
    assert "No calibrated expectation yet" in text and "RUB" not in text


def _categories() -> pd.DataFrame:
    """On the 28th of every month 2023-2025: ten clients P0-P9 buy 100 of bolts and 100 of nuts; ten
    clients W0-W9 buy 100 of bolts only; W0-W2 buy 50 of nuts once, in June 2025."""
    rows = []
    for month in pd.date_range("2023-01-01", "2025-12-01", freq="MS"):
        day = month + pd.Timedelta(days=27)
        for i in range(10):
            rows += [(f"P{i}", "bolts", 100.0, day), (f"P{i}", "nuts", 100.0, day), (f"W{i}", "bolts", 100.0, day)]
    rows += [(f"W{i}", "nuts", 50.0, pd.Timestamp("2025-06-28")) for i in range(3)]
    df = pd.DataFrame(rows, columns=["client_id", "category", "amount", "date"])
    return df.assign(client_name=df.client_id, manager="Ivanova", order_id=df.client_id + df.date.astype(str))


@pytest.fixture(scope="module")
def categories_cube():
    """The cube of :func:`_categories`, built once for the two tests that read it (neither changes it)."""
    return sb.build_cube(sb.load_sales(_categories(), as_of="2025-12-31", odd_dates="keep", stage=True))


def test_three_of_ten_whitespace_suggestions_taken_up_by_hand(categories_cube):
    from salesbook.analysis import stagnation as st
    cube = categories_cube
    bt = cb.whitespace_backtest(cube, CAL)
    # at 2024-12-31 each W client lacks nuts (half of the bolts buyers buy nuts): potential 0.5 x 1,200
    assert set(bt.origin.astype(str)) == {"2024-12-31"} and len(bt) == 10 and (bt.category == "nuts").all()
    assert bt.potential.tolist() == pytest.approx([600.0] * 10)
    assert bt.started.sum() == 3 and bt.brought.sum() == 150
    ws = st.whitespace(cube)
    assert len(ws) == 7  # W3-W9 still lack nuts
    res = cb.expected_whitespace(cube, ws, CAL)
    assert res["share"] == pytest.approx(0.3) and res["ratio"] == pytest.approx(150 / 1800)
    share_now = (10 * 1200 + 3 * 50) / (10 * 2400 + 3 * 1250)  # nuts' share of the bolts-and-nuts buyers' revenue
    assert ws.potential.sum() == pytest.approx(7 * 1200 * share_now)
    assert res["expected"] == pytest.approx(0.3 * 150 / 1800 * 7 * 1200 * share_now)


def test_each_managers_share_of_the_expectation_by_hand_adds_up_to_the_companys(cube):
    """Issue 25: one backtest and one bootstrap for every manager. S0-S4 are A's (S0 and S1 bought 200 in
    their last active year, S2-S4 1,200), S5-S9 B's; C has nobody on the list."""
    sleepers = sg.reactivation_list(cube, sg.classify_clients(cube), 24)
    sleepers = sleepers.assign(manager=["A" if int(c[1:]) < 5 else "B" for c in sleepers.client_id])
    by = cb.expected_reactivation_by(cube, sleepers, cal=CAL, keys=["C"])
    assert list(by) == ["A", "B", "C"]
    rate = 0.2 / 6  # a fifth came back and brought a sixth of what they used to buy
    assert by["A"]["expected"] == pytest.approx(rate * (2 * 200 + 3 * 1200))
    assert by["B"]["expected"] == pytest.approx(rate * 5 * 1200)
    assert by["C"]["expected"] == 0 and by["C"]["potential"] == 0 and by["C"]["low"] == by["C"]["high"] == 0
    whole = cb.expected_reactivation(cube, sleepers, cal=CAL)
    assert by["A"]["expected"] + by["B"]["expected"] == pytest.approx(whole["expected"])
    for m in "AB":  # what his share alone gives, interval included: the same draws
        alone = cb.expected_reactivation(cube, sleepers[sleepers.manager == m], cal=CAL)
        assert by[m]["expected"] == alone["expected"] and by[m]["potential"] == alone["potential"]
        assert (by[m]["low"], by[m]["high"]) == pytest.approx((alone["low"], alone["high"]), rel=1e-12)
        assert by[m]["low"] < by[m]["expected"] < by[m]["high"]
        assert cb.reactivation_sentence(by[m]) == cb.reactivation_sentence(alone)
    short = cb.expected_reactivation_by(cube, sleepers)  # 10 backtest clients, 20 needed: no money figure
    assert all(r["unknown"] and "expected" not in r for r in short.values())


def test_each_managers_share_of_the_whitespace_expectation_is_his_suggestions_and_shares_the_lift(categories_cube):
    cube = categories_cube
    from salesbook.analysis import stagnation as st
    ws = st.whitespace(cube, 12, 0.25)
    ws = ws.assign(manager=["A" if c < "W5" else "B" for c in ws.client_id])
    assert set(ws.manager) == {"A", "B"}
    by = cb.expected_whitespace_by(cube, ws, cal=CAL)
    whole = cb.expected_whitespace(cube, ws, cal=CAL)
    assert not whole["unknown"] and whole["expected"] > 0
    assert by["A"]["expected"] + by["B"]["expected"] == pytest.approx(whole["expected"])
    for m in "AB":
        alone = cb.expected_whitespace(cube, ws[ws.manager == m], cal=CAL)
        assert by[m]["expected"] == alone["expected"] and by[m]["lift"] == whole["lift"] == alone["lift"]
        assert cb.whitespace_sentence(by[m]) == cb.whitespace_sentence(alone)


def test_a_resample_by_its_counts_has_the_rates_of_its_rows():
    # the bootstrap gives each draw as how many times it drew each row: the same rates as the drawn rows
    # copied (shares exactly, money ratios to rounding), the small bucket falling back to the overall rates
    import numpy as np
    rng = np.random.default_rng(7)
    n = 500
    arrays = (rng.random(n) < 0.3, rng.gamma(2.0, 1000.0, n), rng.gamma(2.0, 800.0, n),
              rng.choice([0, 1, 2], n, p=[0.6, 0.39, 0.01]))
    cal = cb.CalibrationRules(asleep_edges=(6, 12), min_bucket=20)
    for _ in range(5):
        pick = rng.integers(0, n, n)
        copied = cb._rates(*(a[pick] for a in arrays), cal)
        counted = cb._rates_of(np.bincount(pick, minlength=n) @ cb._sums_of(*arrays, cal=cal), cal)
        assert copied.keys() == counted.keys() == {-1, 0, 1, 2}
        assert counted[2] == counted[-1]  # a bucket of a few rows takes the overall rates
        for b in copied:
            assert counted[b][0] == copied[b][0]
            assert counted[b][1] == pytest.approx(copied[b][1], rel=1e-12)
