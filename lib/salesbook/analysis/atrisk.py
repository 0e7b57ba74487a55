"""Clients slipping away before they fall asleep: a buy-till-you-die model against the category rules.

Definitions (every threshold is a field of :class:`RiskRules`):

- **Active, not yet asleep** (the population): a client with a purchase in the ``window_months`` before
  the analysis date whose category (:func:`salesbook.analysis.segments.classify_clients`) is not
  *sleeping*. Sleeping clients are already on the reactivation list.
- **Outcome**: the client buys (an order) in the ``horizon`` months after the analysis date.
- **The model** (a): BG/NBD (Fader, Hardie & Lee 2005) fitted by maximum likelihood (the estimate the paper
  reports; SciPy on the paper's closed-form likelihood), on every client with a purchase before the date.
  Time is in weeks, a purchase is a day with an order (``frequency``: repeat purchase days, ``recency``: first
  to last purchase, ``T``: first purchase to the date). The score is the probability of at least one purchase
  in the horizon, P(alive) x (1 - ((alpha+T)/(alpha+T+t))^(r+x)):
  exact under BG/NBD, where a client can drop out only right after a purchase. **One-time buyers**
  have P(alive) = 1 in BG/NBD by construction (no purchase after which to drop out): they are never
  scored by P(alive) alone, but by that probability of a repeat purchase, which falls as the only
  purchase ages; the list marks them. Gamma-Gamma (Fader, Hardie & Lee 2005b) gives the expected
  revenue per purchase of clients with repeat purchases.
- **The rules** (b), two rankings: the nine categories ranked by how likely their clients are to keep
  buying (VIP, partner, regular, prospective, periodic, reactivated, new, one-off), ties broken by the RFM
  score; and the sleeping rule's own progress (days idle over the idle days that would make the client
  asleep), the rule's natural early warning.
- **The comparison**: at the calibration's earlier analysis dates
  (:func:`salesbook.analysis.calibration._origins`, 12 and 24 months back), both rankings of the clients
  active then are set against who bought in the next ``horizon`` months: AUC (the chance that a
  client who bought is ranked above one who did not) and the precision of the riskiest ``top_share``
  (the share of them that did not buy), with seeded bootstrap intervals over the backtest's clients.
  The better ranking (higher AUC) orders today's at-risk list.
- **Evidence minimum**: ``min_clients`` backtest clients with at least ``min_events`` of each outcome;
  below it, "cannot tell yet".

The fit was pymc-marketing's MAP with flat priors (the ``clv`` extra) until issue 25: the same estimates (a test
holds them equal), but importing pymc and compiling its model took 15 s of every run on the sample.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesbook.cube import Cube
from salesbook.cube.memo import per_cube
from salesbook.i18n import t
from salesbook.analysis.segments import NO_MANAGER, Rules, classify_clients, rfm, window_start

#: imported when first needed (a run's summary reads the fitted lists and does not need them); a run's kernels
#: import them ahead (salesbook.run.warm)
DEFERRED = ("scipy.special", "scipy.optimize")

__all__ = ["RiskRules", "WEEKS_PER_MONTH", "model_available", "rfm_summary", "fit_bgnbd", "model_scores",
           "rule_scores", "sleep_scores", "population", "risk_backtest", "auc", "auc_draws", "top_precision",
           "compare", "risk_comparison", "at_risk", "at_risk_sentence", "at_risk_view", "RISK_ORDER"]

WEEKS_PER_MONTH = 365.25 / 12 / 7
#: categories from the most to the least likely to keep buying (the rule ranking, highest first)
RISK_ORDER = ("vip", "partner", "regular", "prospective", "periodic", "reactivated", "new", "one_off", "sleeping")


@dataclass(frozen=True)
class RiskRules:
    """Thresholds of the at-risk list and its backtest. Months are calendar months."""

    horizon: int = 12  #: months after the analysis date in which a purchase counts
    top_share: float = 0.10  #: the riskiest share of the active clients that the list holds
    min_clients: int = 100  #: backtest clients needed to compare at all
    min_events: int = 10  #: ... with at least this many who bought and who did not
    min_repeat: int = 20  #: clients with a repeat purchase needed to fit the model at a date
    draws: int = 400  #: bootstrap resamples of the intervals
    level: float = 0.9  #: the intervals' coverage
    seed: int = 20261201  #: the bootstrap's seed (the same data give the same intervals)
    back_months: tuple[int, ...] = (12, 24)  #: the earlier analysis dates, months back (the calibration's)


def model_available() -> bool:
    """Whether the model can be fitted: it needs SciPy only (a dependency of statsmodels, always installed)."""
    return importlib.util.find_spec("scipy") is not None


def rfm_summary(cube: Cube, as_of: "str | pd.Timestamp") -> pd.DataFrame:
    """Per client with a purchase on or before ``as_of``: ``frequency`` (repeat purchase days),
    ``recency`` and ``T`` (weeks from the first purchase to the last one and to ``as_of``),
    ``monetary_value`` (mean revenue of the repeat purchase days; 0 without one). Index: client_id."""
    as_of = pd.Timestamp(as_of).normalize()
    days = cube.client_day
    buys = days[(days.orders > 0) & (days.date <= as_of)]
    g = buys.groupby("client_id", observed=True, sort=True)
    first, last, n = g.date.min(), g.date.max(), g.size()
    total, first_rev = g.revenue.sum(), g.revenue.first()
    out = pd.DataFrame({"frequency": (n - 1).astype("int64"),
                        "recency": (last - first).dt.days / 7.0,
                        "T": (as_of - first).dt.days / 7.0})
    repeat = (total - first_rev).where(out.frequency > 0, 0.0)
    out["monetary_value"] = (repeat / out.frequency.where(out.frequency > 0)).fillna(0.0)
    out.index = out.index.astype(str)
    out.index.name = "client_id"
    return out


def _bgnbd_loglik(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray,
                  grad: bool = False) -> "np.ndarray | tuple[np.ndarray, np.ndarray]":
    """Each customer's BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6) at ``params`` (r, alpha, a, b);
    with ``grad``, also its sum's gradient in (r, alpha, a, b), differentiated by hand (digamma for the log-gamma
    terms; a test holds it to finite differences)."""
    from scipy.special import digamma, gammaln
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + big_t)
    # the second term exists only after a repeat purchase (x > 0): a / (b + x - 1) / (alpha + t_x)^(r + x)
    repeat = x > 0
    a4 = np.where(repeat, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x), -np.inf)
    ll = a1 + a2 + np.logaddexp(a3, a4)
    if not grad:
        return ll
    # d logaddexp(a3, a4) = w3 d a3 + w4 d a4, the weights each term's share of the sum (w4 = 0 without a repeat)
    with np.errstate(invalid="ignore", over="ignore"):
        w4 = np.where(repeat, np.exp(a4 - np.logaddexp(a3, a4)), 0.0)
    w3 = 1.0 - w4
    inv_bx = np.where(repeat, 1.0 / np.maximum(b + x - 1, 1e-300), 0.0)
    log_tx = np.where(repeat, np.log(alpha + t_x), 0.0)
    d_ab = digamma(a + b) - digamma(a + b + x)
    g = np.array([
        (digamma(r + x) - digamma(r) + np.log(alpha) - w3 * np.log(alpha + big_t) - w4 * log_tx).sum(),
        (r / alpha - (r + x) * (w3 / (alpha + big_t) + np.where(repeat, w4 / (alpha + t_x), 0.0))).sum(),
        (d_ab + w4 / a).sum(),
        (d_ab + digamma(b + x) - digamma(b) - w4 * inv_bx).sum(),
    ])
    return ll, g


def _gamma_gamma_loglik(params: np.ndarray, x: np.ndarray, m: np.ndarray,
                        grad: bool = False) -> "np.ndarray | tuple[np.ndarray, np.ndarray]":
    """Each customer's Gamma-Gamma log-likelihood of its mean spend ``m`` over ``x`` repeat purchases (Fader,
    Hardie & Lee 2005b, "RFM and CLV", eq. 3; the constant of the x purchases' own spends left out); with
    ``grad``, also its sum's gradient in (p, q, v)."""
    from scipy.special import digamma, gammaln
    p, q, v = params
    px = p * x
    log_xmv = np.log(x * m + v)
    ll = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + (px - 1) * np.log(m) + px * np.log(x)
          - (px + q) * log_xmv)
    if not grad:
        return ll
    d_pq = digamma(px + q)
    g = np.array([(x * (d_pq - digamma(px) + np.log(m) + np.log(x) - log_xmv)).sum(),
                  (d_pq - digamma(q) + np.log(v) - log_xmv).sum(),
                  (q / v - (px + q) / (x * m + v)).sum()])
    return ll, g


def _max_likelihood(loglik: Any, start: int) -> np.ndarray:
    """The positive parameters that maximise ``loglik`` (its sum over customers): L-BFGS on their logarithms,
    each within e^-15..e^15 (a likelihood that keeps rising as a parameter runs off, as on clients who all buy
    alike, stops at that edge instead of searching for ever). The callers give data in units near 1 (the scale
    parameters follow the units; the others do not change), where the search starts. ``loglik(params,
    grad=True)`` gives the gradient too: one evaluation per step instead of one per parameter and step."""
    from scipy.optimize import minimize

    def cost(theta: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(theta)
        ll, g = loglik(params, grad=True)
        if not (np.all(np.isfinite(ll)) and np.all(np.isfinite(g))):
            return 1e300, np.zeros_like(theta)
        return float(-ll.sum()), -g * params  # d/d log(p) = p d/dp

    fit = minimize(cost, np.zeros(start), jac=True, method="L-BFGS-B", bounds=[(-15.0, 15.0)] * start,
                   options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 5000})
    return np.exp(fit.x)


def fit_bgnbd(summary: pd.DataFrame, horizon_weeks: float, spend: bool = True) -> tuple[dict[str, float], pd.DataFrame]:
    """Fit BG/NBD (and Gamma-Gamma when ``spend``) by maximum likelihood (SciPy).

    ``summary``: :func:`rfm_summary` (or any frame with ``frequency``, ``recency``, ``T`` and, for
    spend, ``monetary_value``; index: the client). Returns (parameters ``r``, ``alpha``, ``a``, ``b``
    and, with spend, ``p``, ``q``, ``v``; per client ``p_alive``, ``p_buy`` (at least one purchase in
    ``horizon_weeks``), ``expected_orders`` and ``expected_revenue`` (NaN without a repeat purchase
    or a positive mean spend)).

    The likelihoods are the papers' closed forms; the estimates are checked against the published CDNOW ones
    and against pymc-marketing's MAP fit with flat priors (tests/test_atrisk.py), which this replaced: the same
    estimates, without importing pymc and compiling its model in every run (15 s of a run on the sample)."""
    from scipy.special import hyp2f1
    x = summary.frequency.to_numpy(dtype=float)
    t_x, big_t = summary.recency.to_numpy(dtype=float), summary["T"].to_numpy(dtype=float)
    # fitted in units of the mean T (alpha is a scale of time; r, a and b have no unit), then back in weeks
    unit = float(big_t.mean()) or 1.0
    r, alpha, a, b = _max_likelihood(lambda th, grad: _bgnbd_loglik(th, x, t_x / unit, big_t / unit, grad), 4)
    alpha *= unit
    params = {"r": float(r), "alpha": float(alpha), "a": float(a), "b": float(b)}
    # P(alive) (Fader, Hardie & Lee 2008, eq. 2): 1 without a repeat purchase, by construction
    ratio = np.where(x > 0, a / np.maximum(b + x - 1, 1e-300) * ((alpha + big_t) / (alpha + t_x)) ** (r + x), 0.0)
    p_alive = 1.0 / (1.0 + ratio)
    # expected purchases in the next t weeks (Fader, Hardie & Lee 2005, eq. 10)
    t = float(horizon_weeks)
    stay = ((alpha + big_t) / (alpha + big_t + t)) ** (r + x)  # no purchase in t weeks, if alive
    bracket = 1.0 - stay * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + big_t + t))
    orders = (a + b + x - 1) / (a - 1) * bracket / (1.0 + ratio)
    scores = pd.DataFrame({"p_alive": p_alive, "p_buy": p_alive * (1.0 - stay), "expected_orders": orders,
                           "expected_revenue": np.nan}, index=summary.index)
    if spend:
        repeat = (summary.frequency > 0) & (summary.monetary_value > 0)
        if repeat.sum() >= 2:
            xr = summary.frequency[repeat].to_numpy(dtype=float)
            mr = summary.monetary_value[repeat].to_numpy(dtype=float)
            # in units of the mean spend (v is a scale of money; p and q have no unit), then back in money
            money = float(mr.mean())
            p, q, v = _max_likelihood(lambda th, grad: _gamma_gamma_loglik(th, xr, mr / money, grad), 3)
            v *= money
            params.update(p=float(p), q=float(q), v=float(v))
            # the expected mean spend given x and m (eq. 5): a weighted mean of the population's and the client's
            value = p * (v + xr * mr) / (p * xr + q - 1)
            scores.loc[repeat, "expected_revenue"] = scores.expected_orders[repeat].to_numpy() * value
    return params, scores


@per_cube
def model_scores(cube: Cube, as_of: "str | pd.Timestamp", rules: RiskRules = RiskRules(),
                 spend: bool = True) -> dict[str, Any]:
    """The model fitted on the history up to ``as_of``: ``params``, ``scores`` (:func:`fit_bgnbd`'s per
    client, plus ``frequency``), ``fitted`` (clients), or ``unknown`` (a message key: the model is not
    installed, or fewer than ``min_repeat`` clients with a repeat purchase)."""
    summary = rfm_summary(cube, as_of)
    res: dict[str, Any] = {"params": {}, "scores": None, "fitted": int(len(summary)), "unknown": None}
    if not model_available():
        res["unknown"] = "risk.no_model"
        return res
    if int((summary.frequency > 0).sum()) < rules.min_repeat:
        res["unknown"] = "risk.model_short"
        return res
    params, scores = fit_bgnbd(summary, rules.horizon * WEEKS_PER_MONTH, spend)
    res.update(params=params, scores=scores.assign(frequency=summary.frequency))
    return res


def population(classes: pd.DataFrame, as_of: "str | pd.Timestamp", window_months: int = 12) -> pd.Index:
    """The clients active at ``as_of`` (a purchase in the window) and not sleeping: the at-risk list's pool."""
    as_of = pd.Timestamp(as_of).normalize()
    active = classes.last_date >= window_start(as_of, window_months)
    return classes.index[active & (classes.category != "sleeping")].astype(str)


def rule_scores(cube: Cube, classes: pd.DataFrame, as_of: "str | pd.Timestamp", window_months: int = 12) -> pd.Series:
    """The rule ranking: a higher score is a client more likely to keep buying. The category's place in
    :data:`RISK_ORDER` (VIP highest), then the RFM score (R + F + M, 3..15) within a category."""
    place = {c: len(RISK_ORDER) - i for i, c in enumerate(RISK_ORDER)}
    scores = rfm(cube, as_of, window_months)
    total = (scores.r + scores.f + scores.m).reindex(classes.index).fillna(0)
    out = classes.category.map(place).astype(float) * 100 + total.astype(float)
    out.index = out.index.astype(str)
    return out


def sleep_scores(classes: pd.DataFrame, seg: Rules = Rules()) -> pd.Series:
    """The sleeping rule's own warning: how far each client has gone towards it, minus (days since the last
    order / the idle days that would make it asleep, max(``sleeping_min_months``, ``sleeping_gap_multiple``
    x its usual gap)); higher is safer, so it ranks like the other scores."""
    limit = np.maximum(seg.sleeping_min_months * 365.25 / 12,
                       seg.sleeping_gap_multiple * classes.median_gap_days.fillna(0).to_numpy(dtype=float))
    out = -classes.idle_days.to_numpy(dtype=float) / limit
    return pd.Series(out, index=classes.index.astype(str))


@per_cube
def risk_backtest(cube: Cube, seg: Rules = Rules(), rules: RiskRules = RiskRules()) -> pd.DataFrame:
    """One row per client active (and not sleeping) at each earlier analysis date: ``origin``,
    ``client_id``, ``model`` (the model's probability of buying in the horizon; NaN without the model),
    ``rules`` (the category rule score), ``sleep`` (:func:`sleep_scores`), ``one_off`` (one purchase day), ``bought`` (an order in the ``horizon``
    months after ``origin``)."""
    from salesbook.analysis.calibration import CalibrationRules, _origins
    cols = ["origin", "client_id", "model", "rules", "sleep", "one_off", "bought"]
    days = cube.client_day
    out = []
    for origin, until in _origins(cube, seg.window_months, CalibrationRules(back_months=rules.back_months,
                                                                  horizon=rules.horizon)):
        classes = classify_clients(cube, origin, seg)
        pool = population(classes, origin, seg.window_months)
        if pool.empty:
            continue
        # the clients with an order in the horizon: only their ids taken, not the rows (1.9M purchase days at 10M)
        after = (days.date > origin) & (days.date <= until) & (days.orders > 0)
        bought = set(pd.Series(days.client_id[after].unique()).astype(str))
        fit = model_scores(cube, origin, rules, spend=False)
        model = fit["scores"].p_buy.reindex(pool) if fit["scores"] is not None else pd.Series(np.nan, index=pool)
        classes = classes.set_axis(classes.index.astype(str))
        out.append(pd.DataFrame({"origin": origin.date(), "client_id": pool.to_numpy(), "model": model.to_numpy(),
                                 "rules": rule_scores(cube, classes, origin, seg.window_months).reindex(pool).to_numpy(),
                                 "sleep": sleep_scores(classes, seg).reindex(pool).to_numpy(),
                                 "one_off": (classes.orders.reindex(pool) <= 1).to_numpy(),
                                 "bought": pool.isin(bought)}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)


def auc(score: np.ndarray, bought: np.ndarray) -> float:
    """The chance that a client who bought scores above one who did not (ties count half): the
    Mann-Whitney U over the product of the group sizes. NaN when one group is empty."""
    score = np.asarray(score, dtype=float)
    bought = np.asarray(bought, dtype=bool)
    n1, n0 = int(bought.sum()), int((~bought).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = pd.Series(score).rank(method="average").to_numpy()
    return float((ranks[bought].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def auc_draws(score: np.ndarray, bought: np.ndarray, picks: "list[np.ndarray]") -> np.ndarray:
    """:func:`auc` of each resample ``score[pick], bought[pick]``, without sorting each one: a resample is the
    original clients counted as often as drawn, so its Mann-Whitney U is, over the scores sorted once, each
    buyer's count times the non-buyers' counts below its score (those at its score counting half)."""
    score = np.asarray(score, dtype=float)
    bought = np.asarray(bought, dtype=bool)
    values, group = np.unique(score, return_inverse=True)  # the distinct scores, ascending; each client's
    group = group.ravel()
    k = len(values)
    out = np.empty(len(picks))
    for i, pick in enumerate(picks):
        w = np.bincount(pick, minlength=len(score)).astype(float)
        buyers = np.bincount(group, weights=w * bought, minlength=k)
        others = np.bincount(group, weights=w * ~bought, minlength=k)
        n1, n0 = buyers.sum(), others.sum()
        if n1 == 0 or n0 == 0:
            out[i] = np.nan
            continue
        below = np.cumsum(others) - others  # non-buyers' counts at lower scores
        out[i] = float((buyers * (below + 0.5 * others)).sum() / (n1 * n0))
    return out


def top_precision(score: np.ndarray, bought: np.ndarray, share: float) -> float:
    """Of the ``share`` of clients ranked most at risk (lowest scores; ties in the order given), the share
    that did not buy. NaN without clients."""
    score = np.asarray(score, dtype=float)
    n = len(score)
    if n == 0:
        return float("nan")
    k = max(1, int(round(share * n)))
    lost = ~np.asarray(bought, dtype=bool)
    # the first k of a stable sort, without sorting (the bootstrap asks 1,200 times): every score below the k-th
    # smallest, then as many of the scores equal to it as are left, in the order given (NaN last, as argsort)
    kth = np.partition(score, k - 1)[k - 1]
    if np.isnan(kth):
        below, tied = ~np.isnan(score), np.flatnonzero(np.isnan(score))
    else:
        below, tied = score < kth, np.flatnonzero(score == kth)
    return float((lost[below].sum() + lost[tied[:k - int(below.sum())]].sum()) / k)


def compare(bt: pd.DataFrame, rules: RiskRules = RiskRules()) -> dict[str, Any]:
    """Both rankings on the backtest: per method ``auc``, ``auc_low``, ``auc_high``, ``precision``,
    ``precision_low``, ``precision_high``; ``better`` (the method with the higher AUC), ``runner_up`` (the next
    method, its AUC difference and that difference's paired-bootstrap interval), ``clients``,
    ``bought``, ``origins``, ``unknown`` (a message key below the evidence minimum)."""
    res: dict[str, Any] = {"clients": int(len(bt)), "bought": int(bt.bought.sum()) if len(bt) else 0,
                           "origins": sorted({str(o) for o in bt.origin}), "methods": {}, "better": None,
                           "unknown": None, "horizon": rules.horizon, "top_share": rules.top_share}
    lost = res["clients"] - res["bought"]
    if res["clients"] < rules.min_clients or min(res["bought"], lost) < rules.min_events:
        res["unknown"] = "risk.short"
        return res
    bought = bt.bought.to_numpy(dtype=bool)
    methods = ["rules", "sleep"] + (["model"] if bt.model.notna().all() else [])
    rng = np.random.default_rng(rules.seed)
    picks = [rng.integers(0, len(bt), len(bt)) for _ in range(rules.draws)]
    tail = (1 - rules.level) / 2
    draws = {}
    for m in methods:
        score = bt[m].to_numpy(dtype=float)
        a = draws[m] = auc_draws(score, bought, picks)
        pr = [top_precision(score[p], bought[p], rules.top_share) for p in picks]
        res["methods"][m] = {"auc": auc(score, bought), "auc_low": float(np.nanquantile(a, tail)),
                             "auc_high": float(np.nanquantile(a, 1 - tail)),
                             "precision": top_precision(score, bought, rules.top_share),
                             "precision_low": float(np.nanquantile(pr, tail)),
                             "precision_high": float(np.nanquantile(pr, 1 - tail))}
    ranked = sorted(methods, key=lambda m: -res["methods"][m]["auc"])
    res["better"] = ranked[0]
    # the runner-up: the paired bootstrap's interval of the AUC difference says whether they are told apart
    diff = draws[ranked[0]] - draws[ranked[1]]
    res["runner_up"] = {"method": ranked[1], "diff": res["methods"][ranked[0]]["auc"] - res["methods"][ranked[1]]["auc"],
                        "low": float(np.nanquantile(diff, tail)), "high": float(np.nanquantile(diff, 1 - tail))}
    return res


@per_cube
def risk_comparison(cube: Cube, seg: Rules = Rules(), rules: RiskRules = RiskRules()) -> dict[str, Any]:
    """:func:`compare` on :func:`risk_backtest`, kept beside the cube: one comparison (and its bootstrap) per
    run, whichever of the workbook, the summary, the alerts and the packs asks for the at-risk list first."""
    return compare(risk_backtest(cube, seg, rules), rules)


def at_risk(cube: Cube, seg: Rules = Rules(), rules: RiskRules = RiskRules(),
            classes: pd.DataFrame | None = None) -> dict[str, Any]:
    """Today's at-risk list, ranked by the ranking that did better in the backtest.

    Returns ``comparison`` (:func:`compare`), ``method`` (the ranking used), ``list`` (one row per
    client in the riskiest ``top_share`` of the active, not sleeping clients: ``manager``, ``rank``
    (within the manager), ``client_id``, ``client_name``, ``category``, ``last_order``,
    ``usual_gap_days``, ``idle_days``, ``revenue`` (last ``window_months``), ``p_buy``, ``p_alive``,
    ``expected_orders``, ``expected_revenue`` (NaN without the model), ``one_off``), ``pool`` (active
    clients), ``unknown`` (a message key: no list below the evidence minimum), ``model_unknown``."""
    comp = risk_comparison(cube, seg, rules)
    res: dict[str, Any] = {"comparison": comp, "method": comp["better"], "list": _empty_list(), "pool": 0,
                           "unknown": comp["unknown"], "model_unknown": None, "horizon": rules.horizon,
                           "window": seg.window_months}
    if not model_available():
        res["model_unknown"] = "risk.no_model"
    classes = classify_clients(cube, cube.as_of, seg) if classes is None else classes
    classes = classes.set_axis(classes.index.astype(str))
    pool = population(classes, cube.as_of, seg.window_months)
    res["pool"] = int(len(pool))
    if comp["unknown"] or pool.empty:  # no list: the model is not fitted for it either
        return res
    fit = model_scores(cube, pd.Timestamp(cube.as_of), rules) if model_available() else {"scores": None,
                                                                                          "unknown": "risk.no_model"}
    res["model_unknown"] = res["model_unknown"] or fit["unknown"]
    scores = fit["scores"].reindex(pool) if fit["scores"] is not None else pd.DataFrame(
        np.nan, index=pool, columns=["p_alive", "p_buy", "expected_orders", "expected_revenue"])
    if fit["scores"] is None:  # today's model could not be fitted: the rules rank the list
        res["method"] = max(("rules", "sleep"), key=lambda m: comp["methods"][m]["auc"])
    if res["method"] == "model":
        score = scores.p_buy
    elif res["method"] == "sleep":
        score = sleep_scores(classes.loc[pool], seg)
    else:
        score = rule_scores(cube, classes, cube.as_of, seg.window_months).reindex(pool)
    k = max(1, int(round(rules.top_share * len(pool))))
    riskiest = pool[np.argsort(score.to_numpy(dtype=float), kind="stable")[:k]]
    c = classes.loc[riskiest]
    out = pd.DataFrame({"manager": c.manager.astype(object).fillna(NO_MANAGER), "client_id": riskiest,
                        "client_name": c.client_name, "category": c.category, "last_order": c.last_date.dt.date,
                        "usual_gap_days": c.median_gap_days.round(0), "idle_days": c.idle_days,
                        "revenue": c.revenue.round(2), "p_buy": scores.p_buy.reindex(riskiest).to_numpy(),
                        "p_alive": scores.p_alive.reindex(riskiest).to_numpy(),
                        "expected_orders": scores.expected_orders.reindex(riskiest).to_numpy(),
                        "expected_revenue": scores.expected_revenue.reindex(riskiest).to_numpy(),
                        "one_off": (c.orders <= 1).to_numpy()}).reset_index(drop=True)
    out["risk_order"] = np.arange(len(out))
    out = out.sort_values(["manager", "risk_order"], kind="stable").drop(columns="risk_order")
    out.insert(1, "rank", out.groupby("manager").cumcount() + 1)
    res["list"] = out.reset_index(drop=True)
    return res


def _empty_list() -> pd.DataFrame:
    return pd.DataFrame(columns=["manager", "rank", "client_id", "client_name", "category", "last_order",
                                 "usual_gap_days", "idle_days", "revenue", "p_buy", "p_alive", "expected_orders",
                                 "expected_revenue", "one_off"])


def at_risk_sentence(res: dict[str, Any], lang: str = "en", clients: int | None = None) -> str:
    """How many clients are at risk and how well the ranking did in the backtest, or why there is no list.
    ``clients``: the count to name (one manager's share of the list); default the whole list."""
    from salesbook.formats import fmt_int, fmt_pct
    comp = res["comparison"]
    if res["unknown"]:
        return t("risk.cannot_tell", lang, clients=fmt_int(comp["clients"], lang), horizon=res["horizon"],
                 origins=", ".join(comp["origins"]) or "—")
    m = comp["methods"][res["method"]]
    n = len(res["list"]) if clients is None else clients
    text = t("risk.count", lang, n=fmt_int(n, lang), pool=fmt_int(res["pool"], lang),
             share=fmt_pct(comp["top_share"], lang, 0), method=t(f"risk.method.{res['method']}", lang),
             precision=fmt_pct(m["precision"], lang, 0), low=fmt_pct(m["precision_low"], lang, 0),
             high=fmt_pct(m["precision_high"], lang, 0), horizon=res["horizon"], origins=", ".join(comp["origins"]),
             window=res.get("window", 12))
    runner = comp.get("runner_up")
    if runner and runner["low"] <= 0:
        from salesbook.formats import fmt_num
        text += " " + t("risk.tie", lang, other=t(f"risk.method.{runner['method']}", lang),
                        diff=fmt_num(runner["diff"], lang, 3), low=fmt_num(runner["low"], lang, 3),
                        high=fmt_num(runner["high"], lang, 3))
    if res.get("model_unknown") == "risk.no_model":
        text += " " + t("risk.no_model", lang)
    return text


def compare_sentence(res: dict[str, Any], lang: str = "en") -> str:
    """What the backtest table below it measures, on which history, and which ranking the list uses."""
    from salesbook.formats import fmt_int, fmt_pct
    comp = res["comparison"]
    return t("risk.compare_intro", lang, horizon=res["horizon"], origins=", ".join(comp["origins"]),
             clients=fmt_int(comp["clients"], lang), bought=fmt_int(comp["bought"], lang),
             share=fmt_pct(comp["top_share"], lang, 0), method=t(f"risk.method.{res['method']}", lang))


def comparison_table(res: dict[str, Any], lang: str = "en") -> pd.DataFrame:
    """The backtest table: one row per ranking with its AUC and top-share precision and their intervals."""
    from salesbook.formats import fmt_num, fmt_pct
    comp = res["comparison"]
    rows = []
    for m, v in comp["methods"].items():
        rows.append({t("risk.col.method", lang): t(f"risk.method.{m}", lang),
                     t("risk.col.auc", lang): f"{fmt_num(v['auc'], lang)} ({fmt_num(v['auc_low'], lang)}–{fmt_num(v['auc_high'], lang)})",
                     t("risk.col.precision", lang, share=fmt_pct(comp["top_share"], lang, 0)):
                         f"{fmt_pct(v['precision'], lang, 0)} ({fmt_pct(v['precision_low'], lang, 0)}–"
                         f"{fmt_pct(v['precision_high'], lang, 0)})"})
    return pd.DataFrame(rows)


__all__ += ["comparison_table", "compare_sentence"]


def at_risk_view(at: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The at-risk list with translated column names; money and shares marked for the tables."""
    cols = {"manager": "col.manager", "rank": "seg.col.rank", "client_id": "seg.col.client_id",
            "client_name": "col.client", "category": "risk.col.category", "last_order": "seg.col.last_order",
            "usual_gap_days": "seg.col.usual_gap", "idle_days": "risk.col.idle_days", "revenue": "risk.col.revenue",
            "p_buy": "risk.col.p_buy", "expected_orders": "risk.col.expected_orders",
            "expected_revenue": "risk.col.expected_revenue"}
    out = at.assign(category=at.category.map(lambda c: t(f"cat.{c}", lang))
                    + np.where(at.one_off.astype(bool), " " + t("risk.one_off_mark", lang), ""))
    keep = [c for c in cols if c in out and not (c.startswith(("p_", "expected_")) and out[c].isna().all())]
    out = out[keep].rename(columns={c: t(cols[c], lang) for c in keep})
    out.attrs["money"] = [t(cols[c], lang) for c in ("revenue", "expected_revenue") if c in keep]
    out.attrs["shares"] = [t(cols["p_buy"], lang)] if "p_buy" in keep else []
    return out
