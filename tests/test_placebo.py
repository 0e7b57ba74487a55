"""Placebos: every comparison that reports an interval, run where the effect is absent, finds nothing.

Issue 24, item 5. Each method runs on a copy of the data with the effect taken out: the managers shuffled
within each month (no client keeps a manager), or a company with no planted story
(``SampleSpec.no_story()``), or hand-made histories where the answer is "no difference". It must say
"no stable assignment", "cannot tell", or give an interval that includes zero. A method that found an
effect in noise was fixed, not its test: the hand-over comparison's kept side (it now buys in the
hand-over month, as a handed client does), the capacity correlation (an interval from resampling
managers), the fall of acquisition (an exact interval of the ratio of two counts) and the whitespace
list (held against the same clients' other categories).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import salesbook as sb
from salesbook.analysis import assignment as asg, calibration as cb, handovers as hv, stagnation as st
from salesbook.data.sample import SampleSpec, generate, shuffle_managers

from test_calibration import _history as sleepers_history
from test_handovers import _history as handover_history

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "sales.parquet"


def _cube(lines: pd.DataFrame, as_of: str) -> sb.Cube:
    # stage=True: the clean lines computed once in the engine, as get_cube does (the same lines as the lazy load)
    return sb.build_cube(sb.load_sales(lines, as_of=as_of, odd_dates="keep", stage=True))


@pytest.fixture(scope="module")
def handed():
    return _cube(handover_history(), "2024-12-31")


@pytest.fixture(scope="module")
def shuffled():
    return _cube(shuffle_managers(handover_history(), seed=1), "2024-12-31")


# --------------------------------------------------------------------------- the measure


def test_assignment_stability_by_hand(handed):
    res = asg.stability(handed)
    # 30 clients, one purchase month each from Jan 2022 (K00-K09 to Mar 2022, the others to Dec 2024):
    # 10 x 2 + 20 x 35 = 720 pairs of consecutive purchase months; 20 of them change manager (the hand-overs)
    assert (res["pairs"], res["same"], res["clients"]) == (720, 700, 30)
    assert res["continuity"] == pytest.approx(700 / 720)
    # chance, pair by pair, from each month's shares of clients by manager (Hunter, Farmer):
    # Jan->Feb 2022: 30 pairs, (1, 0).(1, 0) = 1; Feb->Mar: 30 pairs, (1, 0).(1/3, 2/3) = 1/3;
    # every later pair (20 clients x 33): (1/3, 2/3).(1/2, 1/2) = (1/2, 1/2).(1/2, 1/2) = 1/2
    chance = (30 * 1 + 30 / 3 + 660 * 0.5) / 720
    assert res["chance"] == pytest.approx(chance)
    assert res["stability"] == pytest.approx((700 / 720 - chance) / (1 - chance))  # 0.943
    assert res["stable"] is True


def test_serving_months_by_code_equal_serving_months_by_text(handed):
    """serving_months sorts the cube's coded keys by code and makes text of the rows that stay: the same frame as
    sorting the keys as text (a cube whose keys are text, or whose categories are not sorted, takes that path). A
    month served by two managers goes to the one with more revenue; at equal revenue, the first by name."""
    lines = handover_history()
    tie = lines[lines.client_id == "K20"].iloc[[0]].assign(manager="Aardvark", date=pd.Timestamp("2024-06-03"),
                                                            amount=1e6)
    cube = _cube(pd.concat([lines, tie, tie.assign(manager="Zebra")], ignore_index=True), "2024-12-31")
    coded = asg.serving_months(cube)
    cmm = cube.client_manager_month
    assert isinstance(cmm.manager.dtype, pd.CategoricalDtype)
    for keys in (cmm.astype({"client_id": str, "manager": str}),  # text
                 cmm.assign(manager=cmm.manager.cat.reorder_categories(cmm.manager.cat.categories[::-1]))):
        cube._frames["client_manager_month"] = keys
        pd.testing.assert_frame_equal(asg.serving_months(cube), coded, check_exact=True)
    cube._frames["client_manager_month"] = cmm
    june = coded[(coded.client_id == "K20") & (coded.month == pd.Timestamp("2024-06-01"))]
    assert june.manager.tolist() == ["Aardvark"]


def test_a_single_manager_is_a_stable_assignment_and_a_few_months_cannot_tell():
    one = _cube(handover_history().assign(manager="Hunter"), "2024-12-31")
    res = asg.stability(one)
    assert res["chance"] == pytest.approx(1.0) and res["stability"] == 1.0 and res["stable"] is True
    few = asg.stability(one, asg.AssignmentRules(min_pairs=721))  # 720 pairs, 721 needed
    assert few["stable"] is None and asg.lacks(one, rules=asg.AssignmentRules(min_pairs=721)) is None


def test_shuffling_managers_keeps_each_managers_orders_a_month_and_breaks_the_assignment(handed, shuffled):
    lines = handover_history()
    mixed = shuffle_managers(lines, seed=1)
    month = lambda d: pd.to_datetime(d.date).dt.to_period("M")  # noqa: E731
    assert (mixed.groupby([month(mixed), "manager"]).size().sort_index()
            .equals(lines.groupby([month(lines), "manager"]).size().sort_index()))
    assert mixed.drop(columns="manager").equals(lines.drop(columns="manager"))
    assert (mixed.manager != lines.manager).any()
    assert shuffle_managers(lines, seed=1).equals(mixed)  # seeded
    res = asg.stability(shuffled)
    # two managers in about equal halves: chance about 1/2, and the shuffled continuity no better
    assert res["stable"] is False and res["stability"] < 0.3 < 0.8
    assert res["continuity"] < 0.7 and abs(res["continuity"] - res["chance"]) < 0.15


# --------------------------------------------------------------------------- hand-overs


def test_placebo_hand_overs_shuffled_within_month_are_not_compared(handed, shuffled):
    assert hv.compare(handed)["unknown"] is None  # the planted history is compared (test_handovers)
    res = hv.compare(shuffled)
    assert res["unknown"] == "ho.unstable" and "diff" not in res and res["stability"]["stable"] is False
    text = hv.handover_sentences(shuffled)
    assert len(text) == 1 and text[0].startswith("No hand-over is compared: clients have no stable manager")
    assert "720 cases" in text[0] and "needs 80%" in text[0]
    ru = hv.handover_sentences(shuffled, "ru")
    assert len(ru) == 1 and "нет постоянного менеджера" in ru[0] and "80\u00a0%" in ru[0]
    # the threshold is the parameter: at 0 every assignment is stable, and the comparison runs
    assert hv.compare(shuffled, assignment=asg.AssignmentRules(min_stability=0.0))["unknown"] != "ho.unstable"


def test_placebo_orders_sent_to_one_of_a_thousand_managers_at_random():
    """The issue's benchmark: every order goes to a manager drawn at random; no hand-over is counted."""
    rng = np.random.default_rng(24)
    months = pd.date_range("2022-01-01", "2024-12-01", freq="MS")
    rows = [{"date": m + pd.Timedelta(days=int(rng.integers(0, 27))), "client_id": f"C{c:03d}", "amount": 100.0,
             "manager": f"M{int(rng.integers(0, 1000)):04d}", "order_id": f"{c}-{i}"}
            for c in range(60) for i, m in enumerate(months) if rng.random() < 0.7]
    cube = _cube(pd.DataFrame(rows), "2024-12-31")
    res = asg.stability(cube)
    assert res["stable"] is False and res["continuity"] < 0.02 and res["stability"] < 0.02
    assert hv.compare(cube)["unknown"] == "ho.unstable"
    assert hv.handover_sentences(cube)[0].startswith("No hand-over is compared")


# --------------------------------------------------------------------------- capacity and acquisition


def test_capacity_correlation_by_hand_and_its_interval():
    # three managers, four quarters each, new = 10 - active / 2 exactly: correlation -1 in every resample
    sat = pd.DataFrame({"manager": np.repeat(["a", "b", "c"], 4), "active_clients": np.arange(12.0) * 2})
    sat["new_clients"] = 10 - sat.active_clients / 2
    res = st.capacity_correlation(sat)
    assert res["corr"] == pytest.approx(-1.0) and (res["points"], res["managers"]) == (12, 3)
    assert res["low"] == pytest.approx(-1.0) and res["high"] == pytest.approx(-1.0)
    # outside reference: the point estimate is numpy's Pearson correlation
    rng = np.random.default_rng(5)
    noise = pd.DataFrame({"manager": np.repeat([f"m{i}" for i in range(10)], 8),
                          "new_clients": rng.poisson(3, 80).astype(float), "active_clients": rng.normal(40, 8, 80)})
    res = st.capacity_correlation(noise)
    assert res["corr"] == pytest.approx(np.corrcoef(noise.new_clients, noise.active_clients)[0, 1])
    # placebo: new and serviced clients drawn independently: the interval includes zero
    assert res["low"] < 0 < res["high"]


def test_placebo_a_fall_of_acquisition_within_the_counts_noise_is_not_a_fall():
    # outside reference: the Clopper-Pearson interval of 12 successes in 32 (statsmodels, method="beta")
    from statsmodels.stats.proportion import proportion_confint
    lo, hi = proportion_confint(12, 32, method="beta")
    change, low, high = st.acquisition_change(20, 12)
    assert change == pytest.approx(12 / 20 - 1)  # -40 %: the old rule rated any fall of 25 % "mild"
    assert low == pytest.approx(lo / (1 - lo) - 1) and high == pytest.approx(hi / (1 - hi) - 1)
    assert low < 0 < high  # 20 then 12 new clients: within the noise of two counts
    assert st.acquisition_change(335, 152)[2] < 0  # the planted fall of the sample is beyond it
    assert st.acquisition_change(100, 100)[1] < 0 < st.acquisition_change(100, 100)[2]


# --------------------------------------------------------------------------- calibrated opportunities


@pytest.mark.parametrize("back, reaches_zero", [(0, True), (2, True)])
def test_placebo_reactivation_without_comebacks_expects_nothing(back, reaches_zero):
    from salesbook.analysis import segments as sg
    cube = _cube(sleepers_history(back), "2025-12-31")  # S0-S9 asleep; the first ``back`` come back
    sleepers = sg.reactivation_list(cube, sg.classify_clients(cube), 24)
    res = cb.expected_reactivation(cube, sleepers, cal=cb.CalibrationRules(min_clients=10))
    if back == 0:  # nobody came back in the backtest: nothing expected, and no interval around it
        assert (res["share"], res["expected"], res["low"], res["high"]) == (0.0, 0.0, 0.0, 0.0)
    # 2 of 10 came back: a resample has none of them with probability 0.8^10 = 0.107, above the 5 % tail,
    # so the 90 % interval reaches zero: the list's expectation is not told apart from nothing
    assert (res["low"] == 0.0) is reaches_zero and res["high"] >= res["expected"]


def _categories(affinity: bool) -> pd.DataFrame:
    """Every month of 2023-2025, clients buy 100 of each of their categories (A-F). With ``affinity``, K00-K19
    buy A and B, K20-K39 buy A only, K40-K49 buy C and D, and from 2025 K30-K39 add B. Without it, each of
    40 clients buys two categories drawn at random, and from 2025 every other client adds a third drawn at
    random: nothing ties one category to another."""
    rng = np.random.default_rng(7)
    cats = list("ABCDEF")
    rows = []
    for c in range(50 if affinity else 40):
        if affinity:
            own = ["A", "B"] if c < 20 else ["A"] if c < 40 else ["C", "D"]
            extra = "B" if 30 <= c < 40 else None
        else:
            own = list(rng.choice(cats, 2, replace=False))
            extra = rng.choice([x for x in cats if x not in own]) if c % 2 else None
        for month in pd.date_range("2023-01-01", "2025-12-01", freq="MS"):
            day = month + pd.Timedelta(days=27)
            rows += [(f"K{c:02d}", x, 100.0, day) for x in own]
            if extra and month >= pd.Timestamp("2025-01-01"):
                rows.append((f"K{c:02d}", extra, 100.0, day))
    df = pd.DataFrame(rows, columns=["client_id", "category", "amount", "date"])
    return df.assign(client_name=df.client_id, manager="Ivanova", order_id=df.client_id + df.date.astype(str))


def test_placebo_whitespace_without_affinity_picks_no_better_than_chance():
    cal = cb.CalibrationRules(min_clients=5)
    cube = _cube(_categories(affinity=False), "2025-12-31")
    res = cb.expected_whitespace(cube, st.whitespace(cube), cal)
    lift = res["lift"]
    assert lift["unknown"] is None and lift["low"] < 0 < lift["high"] or lift["high"] < 0
    assert "no better than chance" in cb.whitespace_sentence(res) or "worse than chance" in cb.whitespace_sentence(res)


def test_whitespace_with_affinity_picks_better_than_chance_by_hand():
    cal = cb.CalibrationRules(min_clients=5)
    cube = _cube(_categories(affinity=True), "2025-12-31")
    bt = cb.whitespace_backtest(cube, cal)
    late = bt[bt.origin.astype(str) == "2024-12-31"]
    # at 2024-12-31 the 20 A-only clients lack B (half of the A buyers buy B): 20 suggestions, 10 taken up
    assert len(late) == 20 and (late.category == "B").all() and late.started.sum() == 10
    others = cb.whitespace_others(cube, bt, cal)
    # the same clients' other categories: C and D (bought by K40-K49 only), never taken up
    assert set(others.category) == {"C", "D"} and len(others) == 2 * len(bt) and not others.started.any()
    lift = cb.whitespace_lift(bt, others, cal)
    # one date (the data begin on 2023-01-28: the date 24 months back has no full year before it): 10 of 20
    # suggestions taken up against 0 of 40 other categories, +50 pts; a resample of the 20 clients misses
    # all of K30-K39 with probability (10/20)^20 = 1e-6, so the interval stays above zero
    assert set(bt.origin.astype(str)) == {"2024-12-31"}
    assert lift["share"] == pytest.approx(0.5) and lift["base"] == 0.0 and lift["diff"] == pytest.approx(0.5)
    assert 0 < lift["low"] < 0.5 < lift["high"]
    res = cb.expected_whitespace(cube, st.whitespace(cube), cal)
    assert "picks better than chance" in cb.whitespace_sentence(res)
    assert "лучше случайного" in cb.whitespace_sentence(res, "ru")


# --------------------------------------------------------------------------- on generated companies (slow)


@pytest.fixture(scope="module")
def sample_shuffled():
    lines = pd.read_parquet(SAMPLE)
    return _cube(shuffle_managers(lines, seed=1), "2026-10-31")


@pytest.mark.slow
def test_placebo_the_sample_with_managers_shuffled_within_month_has_no_manager_finding(sample_shuffled):
    from salesbook.analysis.whatif import reorg_lacks
    from salesbook.views.whatif_views import reorg_lacks_sentence
    cube = sample_shuffled
    res = asg.stability(cube)
    assert res["stable"] is False and res["stability"] < 0.05  # 25 managers: chance about 4 %, and so is continuity
    assert hv.compare(cube)["unknown"] == "ho.unstable"
    d = st.diagnose(cube)
    sym = {s.key: s for s in d["symptoms"]}
    for key in ("capacity", "no_hunters"):  # the manager findings say why, with the measure, and rate nothing
        assert sym[key].unknown == "asg.unstable_managers" and not sym[key].present and sym[key].severity == "none"
        assert "no stable manager" in sym[key].text("en") and "нет постоянного менеджера" in sym[key].text("ru")
    assert "no_hunters" not in d["causes"] and "capacity" not in d["causes"]
    memo = st.memo(d)
    assert "work as hunters" not in memo and "no stable manager" in memo
    assert reorg_lacks(cube, 3)[0] == "asg.unstable_reorg"
    assert "No reorganisation simulated: clients have no stable manager" in reorg_lacks_sentence(cube, 3)


@pytest.fixture(scope="module")
def no_story():
    s = generate(SampleSpec.no_story(managers=10, months=48, initial_clients_per_manager=30))
    return _cube(s.lines, s.planted["as_of"])


@pytest.mark.slow
def test_placebo_a_company_with_no_story_rates_no_acquisition_capacity_or_hunter_finding(no_story):
    cube = no_story
    assert asg.stability(cube)["stable"] is True  # every manager keeps the clients he wins
    assert hv.compare(cube)["unknown"] == "ho.none"  # and hands none over
    sym = {s.key: s for s in st.diagnose(cube)["symptoms"]}
    # cohorts: new clients by yearly cohort come at a constant rate: no fall beyond the counts' noise
    acq = sym["acquisition"]
    assert not acq.unknown and acq.severity == "none"
    # the capacity correlation: no planted capacity, so none rated
    cap = sym["capacity"]
    assert cap.severity == "none" and not cap.present
    assert sym["no_hunters"].severity != "strong"


@pytest.mark.slow
def test_placebo_the_whitespace_list_of_a_company_with_no_category_affinity(no_story):
    """In the generated companies each client's categories are drawn at random: nothing ties one to
    another, so the list cannot pick better than chance."""
    cube = no_story
    res = cb.expected_whitespace(cube, st.whitespace(cube))
    lift = res["lift"]
    assert res["unknown"] is None and lift["unknown"] is None
    assert not lift["low"] > 0  # no better than the same clients' other categories
    assert "than chance" in cb.whitespace_sentence(res) and "picks better" not in cb.whitespace_sentence(res)
    # and the memo's advice counts no gain from such a list (its remedy is never rated strong on it)
    from salesbook.analysis.advice import advise
    assert advise(cube)["whitespace"]["gain"] is False


@pytest.mark.slow
def test_placebo_hand_overs_that_change_nothing_show_no_difference():
    """SampleSpec.handovers(handover_stop=0): the planted hand-overs, but the handed clients buy on exactly
    as before. Every interval of the comparison includes zero."""
    s = generate(SampleSpec.handovers(handover_stop=0.0))
    cube = _cube(s.lines, s.planted["as_of"])
    res = hv.compare(cube)
    assert res["unknown"] is None and res["handed"] >= 200
    assert res["low"] < 0 < res["high"]
    assert res["growth"]["low"] < 0 < res["growth"]["high"]
    assert res["categories"]["low"] < 0 < res["categories"]["high"]
    assert hv.handover_sentences(cube)[3] == "The data show no difference either way: the interval includes zero."


@pytest.mark.slow
def test_placebo_a_managers_pack_names_no_profile_when_clients_have_no_stable_manager(shuffled, handed, tmp_path):
    from salesbook.run.managers import write_packs
    rows = write_packs(shuffled, tmp_path / "shuffled")
    assert {r["manager"] for r in rows} == {"Hunter", "Farmer"} and all(r["profile"] == "" for r in rows)
    for pack in (tmp_path / "shuffled" / "managers").iterdir():
        page = (pack / "index.html").read_text(encoding="utf-8")
        assert "no stable manager" in page and "new clients won" not in page and "Profile:" not in page
    kept = write_packs(handed, tmp_path / "kept")  # the planted history: each pack has its profile
    assert all(r["profile"] for r in kept)
    assert not any("no stable manager" in (p / "index.html").read_text(encoding="utf-8")
                   for p in (tmp_path / "kept" / "managers").iterdir())
