"""The at-risk list: its measures by hand, the model against the published CDNOW estimates, a client
whose gaps lengthen, the backtest's reproducibility and its "cannot tell yet"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import salesbook as sb
from salesbook.analysis import atrisk as ar
from salesbook.analysis.segments import classify_clients

DATA = Path(__file__).resolve().parent / "data"


def test_auc_counts_the_pairs_ranked_right_and_ties_as_half():
    # bought: 0.9 and 0.3; did not: 0.8 and 0.3. Pairs (bought, not): 0.9>0.8 1, 0.9>0.3 1, 0.3<0.8 0,
    # 0.3=0.3 1/2 -> 2.5 / 4 = 0.625
    assert ar.auc(np.array([0.9, 0.8, 0.3, 0.3]), np.array([True, False, True, False])) == 0.625
    assert np.isnan(ar.auc(np.array([0.1, 0.2]), np.array([True, True])))


def test_the_bootstraps_auc_of_each_resample_is_the_auc_of_the_resampled_clients():
    """auc_draws counts each client as often as a resample drew it, over scores sorted once: the same AUC as
    sorting the resample itself, ties (many here: scores on a coarse grid) half, a resample of one outcome NaN."""
    rng = np.random.default_rng(7)
    score = rng.integers(0, 8, 300) / 8
    bought = rng.random(300) < 0.4 + 0.4 * score
    picks = [rng.integers(0, 300, 300) for _ in range(50)] + [np.flatnonzero(bought)[:5]]
    got = ar.auc_draws(score, bought, picks)
    want = [ar.auc(score[p], bought[p]) for p in picks]
    np.testing.assert_allclose(got[:-1], want[:-1], rtol=1e-12)
    assert np.isnan(got[-1]) and np.isnan(want[-1])
    assert ar.auc_draws(np.array([0.9, 0.8, 0.3, 0.3]), np.array([True, False, True, False]),
                        [np.arange(4)])[0] == 0.625  # the hand-counted pairs above


def test_top_precision_is_the_share_that_did_not_buy_among_the_lowest_scores():
    score = np.arange(10) / 10  # 0.0 .. 0.9: the two lowest are clients 0 and 1
    bought = np.array([False, True] + [True] * 8)
    assert ar.top_precision(score, bought, 0.2) == 0.5  # of clients 0, 1: one did not buy
    assert ar.top_precision(score, bought, 0.1) == 1.0  # client 0 alone (round(0.1 x 10) = 1)


def test_top_precision_takes_the_first_k_of_a_stable_sort_ties_in_the_order_given_and_nan_last():
    """top_precision picks its k clients without sorting (the bootstrap asks it for every draw): the same clients
    as the first k of a stable argsort, whose ties at the k-th score go in the order given, NaN after every score."""
    rng = np.random.default_rng(3)
    for trial in range(300):
        n = int(rng.integers(1, 40))
        score = rng.integers(0, 5, n).astype(float)  # few values: ties at the k-th score in most trials
        if trial % 3 == 0:
            score[rng.random(n) < 0.3] = np.nan
        bought = rng.random(n) < 0.5
        share = float(rng.choice([0.05, 0.2, 0.5, 0.9, 1.0]))
        k = max(1, int(round(share * n)))
        want = float((~bought[np.argsort(score, kind="stable")[:k]]).mean())
        assert ar.top_precision(score, bought, share) == want, (score, bought, share)


def _backtest(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    bought = rng.random(n) < 0.7
    return pd.DataFrame({"origin": "2025-10-31", "client_id": [f"c{i}" for i in range(n)],
                         "model": np.where(bought, 0.7, 0.4) + rng.normal(0, 0.2, n),
                         "rules": rng.random(n), "sleep": rng.random(n), "one_off": False, "bought": bought})


def test_the_comparison_is_reproducible_and_names_the_better_ranking():
    bt = _backtest(400)
    a, b = ar.compare(bt), ar.compare(bt)
    assert a == b  # a seeded bootstrap: the same backtest gives the same intervals
    assert a["better"] == "model"  # the model's score is built from the outcome, the rules' is noise
    m, r = a["methods"]["model"], a["methods"]["rules"]
    assert m["auc_low"] < m["auc"] < m["auc_high"] and r["auc_low"] < 0.5 < r["auc_high"]
    assert m["precision"] > r["precision"]
    # against the runner-up (one of the two noise rankings) the paired difference's interval is above zero
    assert a["runner_up"]["method"] in ("rules", "sleep") and a["runner_up"]["low"] > 0
    other = ar.compare(bt, ar.RiskRules(seed=7))
    assert other["methods"]["model"]["auc"] == m["auc"] and other["methods"]["model"]["auc_low"] != m["auc_low"]


def test_below_the_evidence_minimum_the_list_says_cannot_tell_yet():
    res = ar.compare(_backtest(60))  # 60 backtest clients, under min_clients = 100
    assert res["unknown"] == "risk.short" and res["better"] is None
    text = ar.at_risk_sentence({"comparison": res, "unknown": res["unknown"], "horizon": 12}, "en")
    assert text.startswith("Cannot tell yet who is slipping away") and "60 active clients" in text


def _lines(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    d = pd.DataFrame(rows, columns=["client_id", "date", "amount"])
    d["date"] = pd.to_datetime(d.date).astype("datetime64[us]")
    return d.assign(client_name=d.client_id, manager="M", product_id="p", category="x", quantity=1.0,
                    order_id=[f"o{i}" for i in range(len(d))])


def test_rfm_summary_counts_repeat_purchase_days_in_weeks():
    # A: purchases on 1 Jan, 15 Jan (two orders that day), 12 Feb 2024; as_of 11 Mar 2024.
    # frequency = 3 purchase days - 1 = 2; recency = 42 days = 6 weeks; T = 70 days = 10 weeks;
    # monetary = mean of the repeat days = (30 + 20 + 50) / 2 = 50. B: one purchase: frequency 0, value 0.
    cube = sb.build_cube(sb.load_sales(_lines([("A", "2024-01-01", 10.0), ("A", "2024-01-15", 30.0),
                                               ("A", "2024-01-15", 20.0), ("A", "2024-02-12", 50.0),
                                               ("B", "2024-03-04", 99.0)]), as_of="2024-03-11", odd_dates="keep",
                                    stage=True))
    s = ar.rfm_summary(cube, "2024-03-11")
    assert s.loc["A"].tolist() == [2, 6.0, 10.0, 50.0]
    assert s.loc["B"].tolist() == [0, 0.0, 1.0, 0.0]


def _cdnow() -> pd.DataFrame:
    d = pd.read_csv(DATA / "cdnow_summary.csv")
    return pd.DataFrame({"frequency": d.x.to_numpy(), "recency": d.t_x.to_numpy(), "T": d["T"].to_numpy(),
                         "monetary_value": d.zbar.to_numpy()}, index=d.ID.astype(str).to_numpy())


def test_bgnbd_and_gamma_gamma_match_the_published_cdnow_estimates():
    d = _cdnow()
    params, scores = ar.fit_bgnbd(d, 39.0)
    # Fader, Hardie & Lee (2005), BG/NBD on CDNOW's first 39 weeks: r 0.243, alpha 4.414, a 0.793, b 2.426,
    # published to three decimals; Gamma-Gamma (Fader, Hardie & Lee 2005b, "RFM and CLV") p 6.25, q 3.74,
    # v 15.44, on the 946 customers with a repeat purchase
    for k, ref in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert params[k] == pytest.approx(ref, abs=0.005), k
    for k, ref in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert params[k] == pytest.approx(ref, abs=0.05), k
    # P(alive) from the paper's formula (Fader, Hardie & Lee 2008, eq. 2) with the published parameters:
    # customer 1 (x 2, t_x 30.43, T 38.86): 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    ref = 1 / (1 + a / (b + 2 - 1) * ((alpha + 38.86) / (alpha + 30.43)) ** (r + 2))
    assert scores.p_alive.loc["1"] == pytest.approx(ref, abs=0.005)
    # one-time buyers: P(alive) is 1 by construction, so the list ranks them by the chance of a repeat
    # purchase, which falls as the only purchase ages: customer 3 (x 0, T 38.86): 1 - ((a+T)/(a+T+t))^r
    one = d.frequency == 0
    assert (scores.p_alive[one] == 1).all()
    assert scores.p_buy.loc["3"] == pytest.approx(1 - ((alpha + 38.86) / (alpha + 38.86 + 39)) ** r, abs=0.005)
    assert scores.p_buy[one].max() < 0.5


def _fit_with_pymc_marketing(summary: pd.DataFrame, horizon_weeks: float) -> tuple[dict, pd.DataFrame]:
    """The fit as salesbook made it before issue 25: pymc-marketing's BetaGeoModel and GammaGammaModel by MAP
    with flat priors (HalfFlat), and their own P(alive), expected purchases and expected spend."""
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import BetaGeoModel, GammaGammaModel
    data = pd.DataFrame({"customer_id": np.arange(len(summary)), "frequency": summary.frequency.to_numpy(),
                         "recency": summary.recency.to_numpy(dtype=float), "T": summary["T"].to_numpy(dtype=float)})
    model = BetaGeoModel(model_config={k: Prior("HalfFlat") for k in ("r", "alpha", "a", "b")})
    model.fit(data=data, method="map", progressbar=False)
    params = {k: float(model.fit_result[k].values.ravel()[0]) for k in ("r", "alpha", "a", "b")}
    scores = pd.DataFrame({"p_alive": model.expected_probability_alive(data=data).values.ravel(),
                           "expected_orders": model.expected_purchases(data=data, future_t=horizon_weeks).values.ravel()},
                          index=summary.index)
    repeat = (summary.frequency > 0) & (summary.monetary_value > 0)
    gg = pd.DataFrame({"customer_id": np.arange(int(repeat.sum())), "frequency": summary.frequency[repeat].to_numpy(),
                       "monetary_value": summary.monetary_value[repeat].to_numpy(dtype=float)})
    spend = GammaGammaModel(model_config={k: Prior("HalfFlat") for k in ("p", "q", "v")})
    spend.fit(data=gg, method="map", progressbar=False)
    params.update({k: float(spend.fit_result[k].values.ravel()[0]) for k in ("p", "q", "v")})
    scores["spend"] = np.nan
    scores.loc[repeat, "spend"] = spend.expected_customer_spend(data=gg).values.ravel()
    return params, scores


@pytest.mark.slow  # pymc-marketing: imports pymc and compiles its model (pytensor) at first use
def test_the_scipy_fit_equals_pymc_marketings_map_fit_on_the_sample():
    """The likelihood written from the papers gives what pymc-marketing's MAP fit with flat priors gave (the
    library the at-risk list used until issue 25), on the sample's clients: every parameter, and every
    client's P(alive), expected purchases in a year and expected spend per purchase."""
    pytest.importorskip("pymc_marketing")
    cube = sb.get_cube("sample")
    summary = ar.rfm_summary(cube, cube.as_of)
    horizon = 12 * ar.WEEKS_PER_MONTH
    mine, scores = ar.fit_bgnbd(summary, horizon)
    theirs, ref = _fit_with_pymc_marketing(summary, horizon)
    for k in theirs:
        assert mine[k] == pytest.approx(theirs[k], rel=2e-3), k
    np.testing.assert_allclose(scores.p_alive, ref.p_alive, atol=2e-3)
    np.testing.assert_allclose(scores.expected_orders, ref.expected_orders, rtol=5e-3, atol=1e-3)
    repeat = ref.spend.notna()
    np.testing.assert_allclose((scores.expected_revenue / scores.expected_orders)[repeat], ref.spend[repeat], rtol=5e-3)


def _slipping_history() -> pd.DataFrame:
    """40 steady clients buying every 30 days for three years, 20 who did the same for a year and stopped
    two years ago (the model learns that clients drop out), and S, whose gaps lengthen: 30 days for two
    years, then 60, 90 and 120; its last purchase is 133 days before as_of (690 + 60 + 90 + 120 = 960 days after the start)."""
    start, as_of = pd.Timestamp("2022-01-03"), pd.Timestamp("2024-12-31")
    rows = []
    for i in range(40):
        rows += [(f"K{i:02}", str((start + pd.Timedelta(days=30 * k + i % 7)).date()), 100.0) for k in range(36)]
    for i in range(20):
        rows += [(f"L{i:02}", str((start + pd.Timedelta(days=30 * k + i % 5)).date()), 100.0) for k in range(12)]
    days = [30 * k for k in range(24)]
    for gap in (60, 90, 120):
        days.append(days[-1] + gap)
    rows += [("S", str((start + pd.Timedelta(days=d)).date()), 100.0) for d in days]
    assert (as_of - (start + pd.Timedelta(days=days[-1]))).days == 133
    return _lines(rows)


def test_a_client_whose_gaps_lengthen_is_at_risk_before_it_is_sleeping():
    cube = sb.build_cube(sb.load_sales(_slipping_history(), as_of="2024-12-31", odd_dates="keep", stage=True))
    classes = classify_clients(cube, cube.as_of)
    # sleeping needs > 6 months idle and > 3 x its median gap (30 days): 133 days idle is neither
    assert classes.loc["S", "category"] != "sleeping"
    pool = ar.population(classes, cube.as_of)
    assert "S" in pool and not any(c.startswith("L") for c in pool)  # the stopped ones are long asleep
    fit = ar.model_scores(cube, pd.Timestamp(cube.as_of), spend=False)
    p = fit["scores"].p_buy.reindex(pool)
    # 41 active clients: the riskiest 10 % is round(4.1) = 4 clients; S is the riskiest of all
    assert p.idxmin() == "S" and "S" in p.nsmallest(4).index
    assert p["S"] < p.drop("S").min() - 0.1  # not by a hair


def test_two_rankings_the_backtest_cannot_tell_apart_are_said_to_be_tied():
    bt = _backtest(400).assign(sleep=lambda d: d.model)  # the same scores under two names
    comp = ar.compare(bt)
    assert comp["runner_up"]["diff"] == 0 and comp["runner_up"]["low"] <= 0 <= comp["runner_up"]["high"]
    res = {"comparison": comp, "unknown": None, "method": comp["better"], "list": pd.DataFrame(index=range(40)),
           "pool": 400, "horizon": 12, "window": 12}
    text = ar.at_risk_sentence(res, "en")
    assert text.startswith("40 clients at risk: the riskiest 10% of the 400 clients") and "does not tell it apart" in text


@pytest.mark.parametrize("model", ["bgnbd", "gamma_gamma"])
def test_the_likelihoods_gradients_equal_finite_differences(model):
    """The fit follows each likelihood's gradient, written by hand (digamma for the log-gamma terms): at random
    parameters on CDNOW's customers it must equal central finite differences of the likelihood itself."""
    d = _cdnow()
    x, t_x, big_t = (d[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    repeat = (x > 0) & (d.monetary_value.to_numpy() > 0)
    if model == "bgnbd":
        f = lambda p, grad=False: ar._bgnbd_loglik(p, x, t_x / big_t.mean(), big_t / big_t.mean(), grad)  # noqa: E731
        k = 4
    else:
        m = d.monetary_value.to_numpy(dtype=float)[repeat]
        f = lambda p, grad=False: ar._gamma_gamma_loglik(p, x[repeat], m / m.mean(), grad)  # noqa: E731
        k = 3
    rng = np.random.default_rng(7)
    for _ in range(5):
        p = np.exp(rng.uniform(-2.0, 2.0, k))
        ll, g = f(p, grad=True)
        np.testing.assert_allclose(ll, f(p))
        h = 1e-6 * p
        numeric = np.array([(f(p + h[i] * np.eye(k)[i]).sum() - f(p - h[i] * np.eye(k)[i]).sum()) / (2 * h[i])
                            for i in range(k)])
        np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-7 * max(1.0, np.abs(numeric).max()))
