"""Pace against the plan: the plan to date spread by the season and by working days, by hand; the plan
file's optional columns and its one-line errors."""

import numpy as np
import pandas as pd
import pytest

import salesbook as sb
from salesbook.errors import DataError
from salesbook.analysis import forecast as fc
from salesbook.analysis import pacing as pc

YEAR = pd.date_range("2026-01-01", periods=12, freq="MS")
#: a season: January 0.6, February 0.8, the ten other months 1.06 each (mean 1: 0.6 + 0.8 + 10.6 = 12)
SEASON = pd.Series([0.6, 0.8] + [1.06] * 10, index=pd.RangeIndex(1, 13, name="month"))


def test_a_plan_of_120_a_year_at_the_end_of_february_by_hand():
    # plan 10 a month, 120 a year; on 2026-02-28 January and February are done.
    # seasonal: plan to date = 120 x (0.6 + 0.8) / 12 = 14;  linear: 120 x 2 / 12 = 20
    w, done = pc.pace_weights(YEAR, "2026-02-28", SEASON)
    share = float((w * done).sum() / w.sum())
    assert share == pytest.approx(1.4 / 12)
    # sold 15 by then: 15 / 14 = 107 % of the plan to date; at this pace 15 / (1.4 / 12) = 128.57 -> 107 % of 120
    # interval with a backtested error of 10 %: the remaining 113.57 give or take 10 %:
    # (15 + 113.57 x 0.9) / 120 = 97.7 %, (15 + 113.57 x 1.1) / 120 = 116.6 %
    f = pc.pace_figures(120.0, 15.0, share, wape=0.10)
    assert f["plan_to_date"] == pytest.approx(14.0) and f["pct"] == pytest.approx(15 / 14)
    assert f["gap"] == pytest.approx(1.0) and f["projected"] == pytest.approx(15 / (1.4 / 12))
    assert f["projected_pct"] == pytest.approx(128.5714 / 120, rel=1e-5)
    assert (f["low_pct"], f["high_pct"]) == (pytest.approx(0.976786, rel=1e-5), pytest.approx(1.166071, rel=1e-5))
    # linear, the same 15 is behind: 75 % of 20, and 90 of 120 by December
    w1, done1 = pc.pace_weights(YEAR, "2026-02-28")
    lin = pc.pace_figures(120.0, 15.0, float((w1 * done1).sum() / w1.sum()))
    assert lin["plan_to_date"] == pytest.approx(20.0) and lin["pct"] == pytest.approx(0.75)
    assert lin["projected_pct"] == pytest.approx(0.75) and np.isnan(lin["low_pct"])


def test_the_year_end_carries_today_s_pace_not_the_year_to_date():
    # linear, end of April: 4/12 of the year elapsed; sold 40 of 120 (on plan), but only 24 in Feb-Apr (3/12):
    # today's pace is 24 / (3/12) = 96 a year; the rest, 8/12 of it, at that pace: 64; the year: 40 + 64 = 104,
    # 104 / 120 = 86.7 % by December, though 100 % of the plan to date
    f = pc.pace_figures(120.0, 40.0, 4 / 12, None, 24.0, 3 / 12)
    assert f["pct"] == pytest.approx(1.0) and f["projected"] == pytest.approx(104.0)
    assert f["projected_pct"] == pytest.approx(104 / 120)


def test_the_current_month_counts_by_its_working_days():
    # 2026-03-13: March 2026 has 21 working days in Russia (9 March is the day off for 8 March, a Sunday);
    # 2, 3, 4, 5, 6, 10, 11, 12, 13 are done: 9 of 21.
    # plan to date = 120 x (0.6 + 0.8 + 1.06 x 9/21) / 12 = 120 x 1.854286 / 12 = 18.5429
    from salesbook.analysis.seasonality import working_days
    days = working_days(YEAR[:3])
    assert days.tolist() == [15, 19, 21]
    w, done = pc.pace_weights(YEAR, "2026-03-13", SEASON, days, 9)
    assert done.iloc[:4].tolist() == [1.0, 1.0, pytest.approx(9 / 21), 0.0]
    assert 120 * float((w * done).sum() / w.sum()) == pytest.approx(18.542857, rel=1e-6)


def _plan(tmp_path, text):
    path = tmp_path / "plan.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_plan_per_manager_reads_and_sums_by_month_for_the_company(tmp_path):
    path = _plan(tmp_path, "month,manager,plan,new_clients\n2026-01,A,100,1\n2026-01,B,50,\n2026-02,A,100,2\n")
    plan = fc.read_plan(path, "RUB")
    assert plan.manager.tolist() == ["A", "B", "A"] and plan.new_clients.isna().tolist() == [False, True, False]
    assert fc.load_plan(path).to_dict() == {pd.Timestamp("2026-01-01"): 150.0, pd.Timestamp("2026-02-01"): 100.0}


@pytest.mark.parametrize("text, says", [
    ("month,amount\n2026-01,100\n", "column 'plan': required column is missing"),
    ("month,manager,plan\n2026-01,A,100\n2026-01,A,100\n", "give the same month (and manager) twice at line 2, line 3"),
    ("month,plan,currency\n2026-01,100,USD\n", "the plan is in USD, the run's amounts are in RUB"),
    ("month,plan\n2026-13,100\n", "cannot be read at line 2"),
])
def test_a_bad_plan_is_one_data_error(tmp_path, text, says):
    with pytest.raises(DataError) as err:
        fc.read_plan(_plan(tmp_path, text), "RUB")
    assert says in " ".join(str(err.value).split())


def _cube():
    # two managers, A and B, from 2025-01 to 2026-02-28: A sells 10 a month, B 5 a month; C (B's) is won in 2026-02
    rows = []
    for m in pd.date_range("2025-01-01", "2026-02-01", freq="MS"):
        rows += [(m + pd.Timedelta(days=1), "a", "A", 10.0), (m + pd.Timedelta(days=1), "b", "B", 5.0)]
    rows += [(pd.Timestamp("2026-02-27"), "c", "B", 1.0), (pd.Timestamp("2026-02-28"), "a", "A", 0.0)]
    df = pd.DataFrame(rows, columns=["date", "client_id", "manager", "amount"])
    return sb.build_cube(sb.load_sales(df, as_of="2026-02-28", odd_dates="keep", stage=True))


def test_each_manager_s_fact_against_the_plan_linear_on_a_short_history(tmp_path):
    cube = _cube()  # 14 months: no season, linear pacing, and no backtest: no interval
    plan = fc.read_plan(_plan(tmp_path, "month,manager,plan,new_clients\n"
                                        + "".join(f"2026-{m:02d},A,12,0\n2026-{m:02d},B,6,1\n" for m in range(1, 13))))
    fc.check_plan_managers(plan, cube)  # both are in the data
    pace = pc.plan_pace(cube, plan, backtest=None)
    assert not pace.seasonal and pace.wape is None and pace.elapsed_share == pytest.approx(2 / 12)
    t = pace.table
    # A: fact 20 (Jan, Feb) against 144 x 2/12 = 24 -> 83 %, gap -4; B: 5 + 5 + 1 = 11 against 12 -> 92 %
    assert t.index.tolist() == ["A", "B", pc.COMPANY]  # the furthest behind first
    assert (t.loc["A", "fact"], t.loc["A", "plan_to_date"], t.loc["A", "gap"]) == (20.0, 24.0, -4.0)
    assert (t.loc["B", "fact"], t.loc["B", "new_fact"], t.loc["B", "new_plan_to_date"]) == (11.0, 1.0, 2.0)
    assert t.loc[pc.COMPANY, "fact"] == 31.0 and pace.whole  # A and B are every manager who sold
    only_a = pc.plan_pace(cube, plan[plan.manager == "A"], backtest=None)
    assert not only_a.whole and only_a.table.loc[pc.COMPANY, "fact"] == 20.0  # A's plan against A's fact only
    assert pc.pace_sentence(only_a).startswith("The managers in the plan, 2026-01-01 to 2026-02-28: RUB\u00a020 against")
    said = pc.pace_sentence(pace, "A")
    assert "83% of it" in said and "paced linearly: a seasonal profile needs 24 full months, the data have 14" in said
    # today's pace: January and February (the last three elapsed months, of which there are two) = the year to date
    assert "at the pace of Jan 2026 – Feb 2026, 83% of the 2026 plan" in said and "no interval" in said
    assert "2026-01-01 to 2026-02-28" in said


def test_a_manager_not_in_the_data_is_a_data_error(tmp_path):
    plan = fc.read_plan(_plan(tmp_path, "month,manager,plan\n2026-01,A,1\n2026-01,Z{x},1\n"))
    with pytest.raises(DataError, match=r"manager\(s\) not in the data: Z\{x\}"):
        fc.check_plan_managers(plan, _cube())
