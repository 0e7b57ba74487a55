"""Seasonality against statsmodels, the planted season, and the honest edges."""

import json

import numpy as np
import pandas as pd
import pytest
from statsmodels.datasets import elec_equip
from statsmodels.tsa.seasonal import seasonal_decompose

import salesbook as sb
from salesbook import paths
from salesbook.analysis import seasonality as se


@pytest.fixture(scope="module")
def elec():
    s = elec_equip.load().data.iloc[:, 0]
    s.index = pd.DatetimeIndex(s.index).to_period("M").to_timestamp()
    return s


@pytest.mark.parametrize("start", [0, 5])  # from January, and from June
def test_indices_equal_statsmodels_seasonal_decompose(elec, start):
    y = elec.iloc[start:]
    ours = se.seasonal_profile(y, stl=False).index
    ref = seasonal_decompose(y, model="multiplicative", period=12).seasonal
    ref_by_month = ref.groupby(ref.index.month).first()
    np.testing.assert_allclose(ours.to_numpy(), ref_by_month.to_numpy(), rtol=0, atol=1e-9)


def test_centred_moving_average_equals_statsmodels_trend(elec):
    ref = seasonal_decompose(elec, model="multiplicative", period=12).trend
    np.testing.assert_allclose(se.centred_moving_average(elec).to_numpy(), ref.to_numpy(), atol=1e-9)


def test_sample_planted_season_is_recovered_within_007():
    planted = np.array(json.loads((paths.SAMPLE_DIR / "planted.json").read_text())["season_index"])
    y, partial = se.company_series(sb.get_cube("sample"))
    p = se.seasonal_profile(y, [partial] if partial is not None else [])
    assert np.abs(p.index.to_numpy() - planted).max() < 0.07
    assert np.abs(p.table.stl.to_numpy() - planted).max() < 0.07
    assert int(p.index.idxmin()) == 1 and int(p.index.idxmax()) == 4  # January trough, April peak
    assert se.profile_sentence(p, "en").startswith("Peak in April, +20")


def test_sentence_groups_neighbouring_peak_months():
    idx = pd.Series([0.65, 0.9, 1.17, 1.18, 1.0, 1.0, 0.95, 0.95, 1.05, 1.05, 1.05, 1.05], index=range(1, 13))
    p = se.SeasonalProfile(pd.DataFrame({"index": idx}), pd.DataFrame(), 48)
    assert se.profile_sentence(p, "en").startswith("Peak in March–April, +18%; trough in January, −35%")
    assert "+18\u00a0%" in se.profile_sentence(p, "ru") and "−35\u00a0%" in se.profile_sentence(p, "ru")  # Russian style


def test_short_series_says_so_and_gives_no_indices(elec):
    p = se.seasonal_profile(elec.iloc[:20])
    assert not p.enough and p.index.isna().all()
    assert "20 full months" in se.profile_sentence(p, "en")


def test_zero_month_gives_no_ratio_instead_of_failing(elec):
    y = elec.copy()
    y.iloc[30] = 0.0
    p = se.seasonal_profile(y)
    assert p.enough and np.isfinite(p.index).all()
    assert p.table.loc[y.index[30].month, "years"] == p.table["years"].max() - 1


def test_partial_last_month_is_detected_and_left_out(tmp_path):
    lines = pd.read_parquet(paths.SAMPLE_SALES)
    some = lines.client_id.drop_duplicates().iloc[::10]  # a tenth of the clients: every month still has sales
    cut = lines[(lines.date <= "2026-10-09") & lines.client_id.isin(some)]
    path = tmp_path / "cut.parquet"
    cut.to_parquet(path)
    cube = sb.get_cube(str(path), cache_dir=tmp_path)
    y, partial = se.company_series(cube)
    assert partial == pd.Timestamp("2026-10-01")
    p = se.seasonal_profile(y, [partial])
    assert p.months_used == len(y) - 1
    full = se.seasonal_profile(y.drop(partial))
    np.testing.assert_allclose(p.index.to_numpy(), full.index.to_numpy())


def test_russian_working_days_follow_the_production_calendar():
    wd = se.working_days(pd.date_range("2025-01-01", periods=12, freq="MS"))
    # the official 2025 production calendar: 247 working days; January 17, November 19 (Saturday 1 Nov worked)
    assert wd.sum() == 247 and wd.iloc[0] == 17 and wd.iloc[10] == 19
    shut = se.working_days([pd.Timestamp("2025-08-01")], extra_holidays=["2025-08-11", "2025-08-12"])
    assert shut.iloc[0] == 21 - 2


def test_weekday_profile_by_hand():
    days = pd.date_range("2024-01-01", "2024-01-28", freq="D")  # 4 full weeks, Monday first
    rows = pd.DataFrame({"date": days, "client_id": "a", "amount": [200.0 if d.day_of_week == 0 else
                                                                    (100.0 if d.day_of_week < 5 else 0.0) for d in days]})
    rows = rows[rows.amount > 0]
    prof = se.weekday_profile(sb.build_cube(sb.load_sales(rows, stage=True)))
    # Monday 200, Tue-Fri 100, weekend 0: mean over selling days 120
    assert prof["index"].tolist() == pytest.approx([200 / 120, 100 / 120, 100 / 120, 100 / 120, 100 / 120, 0, 0])
    assert prof["share"].sum() == pytest.approx(1.0)


@pytest.mark.slow
def test_seasonality_workbook_runs_on_a_short_partial_series_with_non_default_parameters(tmp_path):
    from salesbook.run.runner import run
    lines = pd.read_parquet(paths.SAMPLE_SALES)
    short = lines[(lines.date >= "2025-06-01") & (lines.date <= "2026-10-09")]  # 17 months, the last partial
    path = tmp_path / "short.parquet"
    short.to_parquet(path)
    params = {"02": {"trend_months": 12, "stl": False, "country": "RU", "extra_holidays": "2026-08-10"}}
    result = run(["02"], source=str(path), lang="en", out=tmp_path / "r", run_name="s", parameters=params)
    page = (result.folder / "02_seasonality.html").read_text(encoding="utf-8")
    assert "seasonal indices need at least 24" in page
    assert "Revenue by year and month" in page and "Weekday profile" in page
    assert "Seasonal profile" in page and "Seasonally adjusted revenue" not in page
