"""The weighted pipeline forecast by hand, stage overrides, bad pipeline files, the baseline."""

import pandas as pd
import pytest

import salesbook as sb
from salesbook.analysis import forecast as fc
from salesbook.analysis import segments as sg

AS_OF = pd.Timestamp("2024-12-31")


@pytest.fixture
def classes():
    return pd.DataFrame({"category": ["regular", "vip", "sleeping"]}, index=pd.Index(["a", "b", "c"], name="client_id"))


def write(tmp_path, text):
    p = tmp_path / "pipeline.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_weighted_forecast_by_hand_and_with_overridden_probabilities(tmp_path, classes):
    path = write(tmp_path, "deal_id,client_id,manager,amount,expected_month,stage\n"
                           "d1,a,M1,100,2025-01,30\nd2,a,M1,200,2025-01,90 %\nd3,b,M2,300,2025-02,100\n"
                           "d4,c,M2,1000,2025-01,90\nd5,b,M2,50,2024-10,70\n")
    deals = fc.weighted_forecast(fc.load_pipeline(path), classes, AS_OF)
    table = fc.forecast_table(deals, "month")
    assert table.weighted.to_dict() == {pd.Timestamp("2025-01-01"): 30 + 180, pd.Timestamp("2025-02-01"): 300}
    # d4: client asleep, outside the target categories; d5: its month has passed
    assert deals.set_index("deal_id").loc["d4", "target"] == False  # noqa: E712
    assert deals.set_index("deal_id").loc["d5", "stale"] == True  # noqa: E712
    probs = {**fc.STAGE_PROBABILITIES, 90: 0.5}
    deals2 = fc.weighted_forecast(fc.load_pipeline(path, probs), classes, AS_OF, probs)
    assert fc.forecast_table(deals2, "manager").weighted.to_dict() == {"M1": 30 + 100, "M2": 300}


def test_bad_pipeline_values_are_named_with_their_lines(tmp_path):
    path = write(tmp_path, "client_id,manager,amount,expected_month,stage\na,M,12x,2025-01,30\nb,M,5,2025-13,45\n")
    with pytest.raises(sb.DataError) as err:
        fc.load_pipeline(path)
    text = str(err.value)
    assert "column 'amount'" in text and "line 2: '12x'" in text
    assert "column 'stage'" in text and "line 3: '45'" in text and "30 %, 50 %" in text
    assert "column 'expected_month'" in text and "'2025-13'" in text
    with pytest.raises(sb.DataError, match="column 'stage'"):
        fc.load_pipeline(write(tmp_path, "client_id,manager,amount,expected_month\na,M,1,2025-01\n"))


def test_sample_pipeline_forecast_counts_only_target_clients():
    cube = sb.get_cube("sample")
    classes = sg.classify_clients(cube)
    deals = fc.weighted_forecast(fc.load_pipeline("sample"), classes, cube.as_of)
    assert len(deals) == 180 and deals.stale.sum() > 0 and (~deals.target).sum() > 0
    live = deals[deals.target & ~deals.stale]
    assert fc.forecast_table(deals, "month").weighted.sum() == pytest.approx(live.weighted.sum())
    assert set(live.category) <= set(sg.TARGET_CATEGORIES)


def test_baseline_carries_the_season_forward():
    base = fc.baseline(sb.get_cube("sample"), 6)  # Nov 2026 .. Apr 2027
    assert len(base) == 6 and (base > 0).all()
    assert base[pd.Timestamp("2027-01-01")] < 0.75 * base[pd.Timestamp("2027-04-01")]  # January trough, April peak


def test_the_assistants_clients_by_hand():
    from salesbook.analysis import forecast as fc
    classes = pd.DataFrame({"category": ["new", "reactivated", "regular", "one_off", "sleeping", "periodic", "periodic"],
                            "abc": ["C", "B", "A", "C", "D", "C", "B"],
                            "manager": ["A", "A", "A", "B", "B", "B", "B"], "client_name": list("vwxyzpq"),
                            "orders": [4, 6, 12, 1, 3, 2, 4], "revenue": [400.0, 1200.0, 9000.0, 50.0, 0.0, 300.0, 2000.0],
                            "active_months": [2, 5, 12, 1, 0, 2, 4], "tenure_months": [2, 40, 50, 30, 60, 30, 30]},
                           index=pd.Index(["v", "w", "x", "y", "z", "p", "q"], name="client_id"))
    out = fc.assistant_clients(classes, horizon=3).set_index("client_id")
    # regular and the periodic buyer of class B are targets; the sleeping one bought nothing; the periodic
    # buyer of class C is spontaneous: the assistant's
    assert set(out.index) == {"v", "w", "y", "p"}
    assert set(fc.assistant_clients(classes, 3, "").client_id) == {"v", "w", "y"}
    assert set(fc.assistant_clients(classes, 3, "2500").client_id) == {"v", "w", "y", "p", "q"}
    # p: 2 orders over the window -> 0.5 in 3 months of 150
    assert out.loc["p", "expected_orders"] == 0.5 and out.loc["p", "expected"] == 75
    # v: 4 orders in its 2 months as a client -> 2 a month -> 6 in 3 months of 100 each
    assert out.loc["v", "expected_orders"] == 6 and out.loc["v", "expected"] == 600
    # w: 6 orders over the 12-month window -> 1.5 in 3 months of 200
    assert out.loc["w", "expected_orders"] == 1.5 and out.loc["w", "expected"] == 300


def test_spontaneous_periodic_buyers_leave_the_forecast_for_the_assistant():
    """No client counts both in the forecast and in the assistant's list."""
    from salesbook.analysis import forecast as fc
    from salesbook.errors import ParameterError
    from salesbook.views.forecast_views import assistant_which, flags_table
    classes = pd.DataFrame({"category": ["periodic", "periodic", "regular"], "abc": ["C", "B", "C"],
                            "manager": ["A"] * 3, "client_name": list("pqr"), "orders": [2, 4, 12],
                            "revenue": [300.0, 2000.0, 500.0], "active_months": [2, 4, 12],
                            "tenure_months": [30] * 3}, index=pd.Index(["p", "q", "r"], name="client_id"))
    deals = pd.DataFrame({"deal_id": ["1", "2", "3"], "client_id": ["p", "q", "r"], "manager": ["A"] * 3,
                          "amount": [100.0, 200.0, 400.0], "stage": [50, 50, 50],
                          "month": pd.to_datetime(["2026-12-01"] * 3)})
    out = fc.weighted_forecast(deals, classes, "2026-11-30").set_index("client_id")
    assert list(out.target) == [False, True, True] and list(out.assistant) == [True, False, False]
    routed = set(fc.assistant_clients(classes, 3).client_id)
    assert routed == {"p"} and not routed & set(out.index[out.target])
    assert fc.forecast_table(out.reset_index()).weighted.sum() == pytest.approx(0.5 * 600)
    assert "spontaneous periodic buyer" in flags_table(out.reset_index()).iloc[0, -1]
    assert "1 spontaneous periodic buyers: those of ABC class C" in assistant_which(fc.assistant_clients(classes, 3), "C")
    assert fc.spontaneous_rule("50 000") == ("below", 50000.0) and fc.spontaneous_rule(" ") == (None, None)
    with pytest.raises(ParameterError, match="spontaneous 'big'"):
        fc.spontaneous_rule("big")


def test_the_baselines_error_and_the_seasonal_naive_by_hand():
    from salesbook.analysis import forecast as fc
    assert fc.wape([100, 200, 100], [110, 180, 100]) == pytest.approx((10 + 20 + 0) / 400)
    y = pd.Series([10.0, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 15, 25])
    assert fc.seasonal_naive(y, 12) == 10 and fc.seasonal_naive(y, 13) == 20
    assert pd.isna(fc.seasonal_naive(y, 11))
    # the naive forecast of months 12 and 13 misses by 5 each: 10 / 40
    assert fc.wape(y.iloc[12:], [fc.seasonal_naive(y, 12), fc.seasonal_naive(y, 13)]) == pytest.approx(0.25)


def test_the_baseline_backtest_on_the_sample():
    import salesbook as sb
    from salesbook.analysis import forecast as fc
    check = fc.baseline_backtest(sb.get_cube("sample"))
    assert len(check["table"]) == 12 and check["last"] == pd.Timestamp("2026-10-01")
    t = check["table"]
    assert check["wape_naive"] == pytest.approx(fc.wape(t.actual, t.naive))
    assert 0 < check["wape_baseline"] < 0.5 and 0 < check["wape_naive"] < 0.5


def test_stage_to_won_rates_from_the_companys_closed_deals(tmp_path):
    from salesbook.analysis import forecast as fc
    from salesbook.errors import DataError
    rows = [{"client_id": f"c{i}", "manager": "A", "amount": 100, "expected_month": "2026-01", "stage": 30,
             "outcome": "won" if i < 2 else "lost"} for i in range(10)]  # 2 of 10 closed deals won at 30 %
    rows += [{"client_id": f"d{i}", "manager": "A", "amount": 100, "expected_month": "2026-01", "stage": 50,
              "outcome": "выиграна"} for i in range(3)]  # 3 closed at 50 %: too few, the default stays
    rows += [{"client_id": "open", "manager": "A", "amount": 1000, "expected_month": "2026-02", "stage": 30,
              "outcome": ""}]
    path = tmp_path / "pipeline.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    deals = fc.load_pipeline(path)
    rates = fc.win_rates(deals).set_index("stage")
    assert rates.loc[30, "closed"] == 10 and rates.loc[30, "won"] == 2 and rates.loc[30, "used"] == pytest.approx(0.2)
    assert rates.loc[50, "closed"] == 3 and rates.loc[50, "history"] == 1.0 and rates.loc[50, "used"] == 0.5
    classes = pd.DataFrame({"category": ["regular"]}, index=pd.Index(["open"], name="client_id"))
    live = fc.run_deals(str(path), "x.csv", classes, "2025-12-31")
    assert list(live.client_id) == ["open"] and live.weighted.iloc[0] == pytest.approx(200)  # 1000 x 0.2
    pd.DataFrame([{**rows[0], "outcome": "maybe"}]).to_csv(path, index=False)
    with pytest.raises(DataError, match="outcome"):
        fc.load_pipeline(path)
