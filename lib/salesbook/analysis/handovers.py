"""Hand-overs: when a client passes from the manager who won it to another, and whether it stays.

DOMAIN.md (after the seeds): a company splitting hunters from account managers picks a hand-over
trigger (the contract, the 1st, 2nd or 3rd deal, regular orders reaching an amount, a share of the
client's purchases, time with the client), and the texts warn that clients handed to a client sector
are often "abandoned" and drift away, while a seller who keeps his clients holds them.

Operational definitions (every threshold a parameter of :class:`HandoverRules`):

- **A stable assignment first** (:mod:`salesbook.analysis.assignment`): when clients change manager
  about as often as a random draw would (stability beyond chance below ``min_stability`` of the
  ``assignment`` rules, the diagnosis's own: ``DiagnosisRules.assignment``), a
  change of manager is not a hand-over: no comparison is made, and the section says so with the measure.
- **Serving manager** of a client in a month: the manager of its purchases that month (the one with
  most revenue when there are several). Months without a purchase have none.
- **Hand-over**: a purchase month whose serving manager differs from that of the client's previous
  purchase month. Its *state* is the client's at that moment: ``deals_before`` (orders before the
  month), ``months_since_first`` (since its first purchase month), ``revenue_12m`` (the 12 months
  before).
- **Trigger**: the rule that describes most hand-overs: *after the N-th deal* (the share with exactly N
  deals before), *after N months* (the share within a month of the most common tenure), or *after
  reaching an amount* (the share within ±25 % of the median 12-month revenue). Below
  ``min_handovers`` hand-overs, or when no rule covers ``min_rule_share`` of them, no trigger is named.
- **Outcome**, for a client at a month: *retained* when it buys in the ``outcome_months`` after it;
  its revenue then against the 12 months before. Only months whose whole outcome window the data
  cover are compared.
- **Comparison**: each handed client against the clients buying in the same month still served by the
  manager who won them (a hand-over month is a purchase month, so the kept side's is too), in the same
  stratum of tenure (``tenure_edges``) and of 12-month revenue (terciles at that month); the kept clients' retention is averaged over the strata with the handed
  clients' weights (direct standardisation), and the difference has a 95 % interval from the
  strata's binomial variances. Below ``min_compared`` clients on either side: cannot tell.
- **Revenue growth**, 12 months on: each client's revenue a month in the outcome window against its
  revenue a month before, over the months since its first purchase (at most 12), minus 1 (clients with
  revenue before; a client who left is -100 %). A month's pace, not the 12 months' sum: a client handed
  over two months after it was won has two months of revenue "before", and read as a sum, it grew
  several-fold by that alone (on the planted company whose handed clients behave like the others, that
  read +374 pts, 95 % interval +292 to +464; tests/test_placebo.py). Each side's
  median, the kept side weighted to the handed clients' strata; the difference of the medians has a
  95 % interval from a seeded bootstrap within strata (``boot`` draws). Below ``min_compared`` clients
  with revenue before on either side: cannot tell.
- **Categories bought**, 12 months on: the number of distinct categories a client who bought again
  bought in the outcome window (so it does not repeat retention). Means standardised like retention,
  with the strata's variances. Without a category column, or below ``min_compared`` clients who bought
  again on either side: cannot tell.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from salesbook.cube import Cube
from salesbook.i18n import t
from salesbook.analysis.assignment import AssignmentRules, serving_months, stability, unstable_sentence

__all__ = ["HandoverRules", "handovers", "infer_trigger", "compare", "handover_sentences", "Unknown", "Verdict",
           "TRIGGERS", "catalogue_keys"]


class Unknown(enum.StrEnum):
    """Why a comparison cannot be made (a status, not a message: each sentence names its own key)."""

    SHORT = "ho.short"  #: fewer hand-overs or kept clients than the minimum
    NONE = "ho.none"  #: no hand-over at all
    NO_CATEGORY = "ho.no_category"  #: the data have no category (said by the catalogue's ``ho.no_category``)
    UNSTABLE = "ho.unstable"  #: clients have no stable manager (``asg.unstable_ho`` says it, with the measure)


class Verdict(enum.StrEnum):
    """Handed-over clients kept against clients kept by their first manager. Words: ``ho.verdict.<value>``."""

    WORSE = "worse"
    BETTER = "better"
    SAME = "same"


#: the rules a trigger can follow (:func:`infer_trigger`); their sentence: ``ho.trigger.<rule>``
TRIGGERS = ("deals", "months", "amount")


def catalogue_keys() -> list[str]:
    """Every catalogue key built here at run time (``tests/test_i18n.py`` checks them)."""
    return ([f"ho.verdict.{v}" for v in Verdict] + [f"ho.trigger.{r}" for r in TRIGGERS]
            + [f"ho.{part}{end}" for part in ("growth", "categories") for end in ("", "_short")]
            + [str(Unknown.NO_CATEGORY)])


@dataclass(frozen=True)
class HandoverRules:
    min_handovers: int = 20  #: hand-overs needed to name a trigger
    min_rule_share: float = 0.5  #: share of hand-overs a rule must describe to be named
    min_compared: int = 10  #: clients on each side of the comparison
    outcome_months: int = 12  #: months after the hand-over in which retention is read
    tenure_edges: tuple[int, ...] = (6, 12, 24)  #: months since the first purchase: strata of tenure
    amount_band: float = 0.25  #: "after reaching an amount": within this share of the median
    boot: int = 400  #: bootstrap draws for the interval of the difference in median growth
    seed: int = 0  #: seed of those draws (the same data give the same interval)


def _index(month: pd.Series) -> pd.Series:
    m = pd.to_datetime(month)
    return m.dt.year * 12 + m.dt.month - 1


def _serving(cube: Cube) -> pd.DataFrame:
    """client_id, month, k (month index), manager: the serving manager of each purchase month."""
    return serving_months(cube)


def _client_months(cube: Cube) -> pd.DataFrame:
    cm = cube.client_month.astype({"client_id": str})[["client_id", "month", "revenue", "orders"]].copy()
    cm["k"] = _index(cm.month)
    return cm.sort_values(["client_id", "k"]).reset_index(drop=True)


def handovers(cube: Cube) -> pd.DataFrame:
    """Every change of serving manager: client_id, month, from_manager, to_manager, deals_before,
    months_since_first, revenue_12m (the client's state at that moment)."""
    cols = ["client_id", "month", "from_manager", "to_manager", "deals_before", "months_since_first", "revenue_12m"]
    serving = _serving(cube)
    if not len(serving):
        return pd.DataFrame(columns=cols)
    serving["from_manager"] = serving.groupby("client_id").manager.shift()
    ho = serving[serving.from_manager.notna() & (serving.manager != serving.from_manager)]
    ho = ho.rename(columns={"manager": "to_manager"})
    if not len(ho):
        return pd.DataFrame(columns=cols)
    cm = _client_months(cube)
    cm["deals_before"] = cm.groupby("client_id").orders.cumsum() - cm.orders
    first = cm[cm.orders > 0].groupby("client_id").k.min().rename("first_k")
    out = ho.merge(cm[["client_id", "k", "deals_before"]], on=["client_id", "k"], how="left").join(first, on="client_id")
    out["months_since_first"] = (out.k - out.first_k).astype(int)
    out["revenue_12m"] = _window_revenue(cm, out[["client_id", "k"]], -12, 0)
    out["deals_before"] = out.deals_before.fillna(0).astype(int)
    return out[cols].sort_values(["month", "client_id"]).reset_index(drop=True)


def _window_revenue(cm: pd.DataFrame, at: pd.DataFrame, lo: int, hi: int, col: str = "revenue") -> np.ndarray:
    """For each (client_id, k) row of ``at``: the sum of the client's ``col`` over months k+lo .. k+hi-1.

    One running total over ``cm`` keyed by (client, month) and two binary searches a row: no join of
    every candidate with every month of its client (which cost seconds and hundreds of MB at 10,000
    clients; benchmarks/handover_benchmark.py)."""
    if not len(at):
        return np.zeros(0)
    codes = pd.Categorical(cm.client_id.to_numpy())
    months = np.concatenate([cm.k.to_numpy(dtype=np.int64), at.k.to_numpy(dtype=np.int64)])
    base = int(months.min()) - abs(lo) - abs(hi) - 1
    span = int(months.max()) - base + abs(lo) + abs(hi) + 2
    key = codes.codes.astype(np.int64) * span + (cm.k.to_numpy(dtype=np.int64) - base)
    order = np.argsort(key, kind="stable")
    key = key[order]
    total = np.concatenate([[0.0], np.cumsum(cm[col].to_numpy(dtype=float)[order])])
    who = codes.categories.get_indexer(at.client_id.to_numpy()).astype(np.int64)
    start = who * span + (at.k.to_numpy(dtype=np.int64) - base)
    out = total[np.searchsorted(key, start + hi)] - total[np.searchsorted(key, start + lo)]
    out[who < 0] = 0.0
    return out


def infer_trigger(ho: pd.DataFrame, rules: HandoverRules = HandoverRules()) -> dict[str, Any]:
    """The rule that describes most hand-overs: ``{"rule": "deals"|"months"|"amount"|None, "value", "share",
    "n", "deals", "months", "amount"}`` (each candidate's value and share; ``rule`` None below the minimum)."""
    n = len(ho)
    out: dict[str, Any] = {"rule": None, "value": None, "share": 0.0, "n": n}
    if not n:
        return out
    deals = ho.deals_before.value_counts()
    deals = deals[deals.index >= 1]
    out["deals"] = (int(deals.idxmax()), float(deals.max() / n)) if len(deals) else (None, 0.0)
    months = ho.months_since_first.value_counts()
    mode = int(months.idxmax())
    out["months"] = (mode, float((ho.months_since_first - mode).abs().le(1).mean()))
    median = float(ho.revenue_12m.median())
    band = (ho.revenue_12m - median).abs() <= rules.amount_band * abs(median) if median else ho.revenue_12m == 0
    out["amount"] = (median, float(band.mean()))
    best = max(TRIGGERS, key=lambda k: out[k][1])
    if n >= rules.min_handovers and out[best][1] >= rules.min_rule_share:
        out.update(rule=best, value=out[best][0], share=out[best][1])
    return out


def _states(cube: Cube, at: pd.DataFrame, cm: pd.DataFrame, months: int) -> pd.DataFrame:
    """Tenure, 12-month revenue before, and the outcome after, of each (client_id, k)."""
    first = cm[cm.orders > 0].groupby("client_id").k.min()
    out = at.copy()
    out["tenure"] = (out.k - out.client_id.map(first)).to_numpy()
    out["before"] = _window_revenue(cm, out[["client_id", "k"]], -12, 0)
    out["after"] = _window_revenue(cm, out[["client_id", "k"]], 1, months + 1)
    bought = cm.assign(bought=(cm.orders > 0).astype(float))
    out["retained"] = _window_revenue(bought, out[["client_id", "k"]], 1, months + 1, "bought") > 0
    return out


def _categories_after(cube: Cube, at: pd.DataFrame, months: int) -> np.ndarray:
    """For each (client_id, k) row of ``at``: distinct categories bought in months k+1 .. k+months."""
    ccm = cube.client_category_month
    ccm = ccm[(ccm.orders > 0) & ccm.category.notna()].astype({"client_id": str})[["client_id", "category", "month"]]
    pairs = at[["client_id", "k"]].reset_index(drop=True).assign(_row=lambda d: np.arange(len(d)))
    joined = pairs.merge(ccm.assign(k_m=_index(ccm.month)), on="client_id")
    inside = joined[(joined.k_m > joined.k) & (joined.k_m <= joined.k + months)]
    return inside.groupby("_row").category.nunique().reindex(pairs._row, fill_value=0).to_numpy(dtype=float)


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    """The median of ``x`` with weights ``w``; with equal weights, the ordinary median (the midpoint of
    the two middle values of an even count)."""
    order = np.argsort(x, kind="stable")
    return _sorted_median(x[order], np.cumsum(w[order]))


def _sorted_median(xs: np.ndarray, cw: np.ndarray) -> float:
    """The weighted median of ascending ``xs`` from their running weights ``cw`` (a zero weight: absent)."""
    half, tol = cw[-1] / 2, 1e-12 * cw[-1]
    i = int(np.searchsorted(cw, half - tol))
    if abs(cw[i] - half) <= tol:
        j = int(np.searchsorted(cw, half + tol, side="right"))
        return float((xs[i] + xs[min(j, len(xs) - 1)]) / 2)
    return float(xs[i])


def _resampled_medians(x: np.ndarray, w: np.ndarray, draws: "Callable[[np.random.Generator], np.ndarray]",
                       rng: np.random.Generator, n: int) -> np.ndarray:
    """The weighted median of ``n`` resamples of ``x``: sorted once, each resample a count per sorted
    position (no sort per draw)."""
    order = np.argsort(x, kind="stable")
    rank = np.empty(len(x), dtype=np.int64)
    rank[order] = np.arange(len(x))
    xs = x[order]
    out = np.empty(n)
    for b in range(n):
        idx = draws(rng)
        out[b] = _sorted_median(xs, np.cumsum(np.bincount(rank[idx], weights=w[idx], minlength=len(x))))
    return out


def _matched(h: pd.DataFrame, c: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both sides kept to the strata they share: a handed client without comparable kept ones (or the
    reverse) is not compared."""
    shared = set(h.stratum) & set(c.stratum)
    return h[h.stratum.isin(shared)], c[c.stratum.isin(shared)]


def _std_mean(h: pd.DataFrame, c: pd.DataFrame, col: str) -> dict[str, float]:
    """Handed mean of ``col``, the kept mean standardised to the handed strata, their difference and its
    95 % interval from the strata's variances (for a 0/1 column: the binomial ones). Both sides hold the
    same strata (:func:`_matched`)."""
    one, other = (d.groupby("stratum")[col].agg(["mean", "size", lambda v: v.astype(float).var(ddof=0)])
                  .set_axis(["mean", "size", "var"], axis=1) for d in (h, c))
    other = other.loc[one.index]
    w = one["size"] / one["size"].sum()
    diff = float((w * (one["mean"] - other["mean"])).sum())
    se = float(np.sqrt((w ** 2 * (one["var"] / one["size"] + other["var"] / other["size"])).sum()))
    return {"handed": float(h[col].astype(float).mean()), "kept": float((w * other["mean"]).sum()), "diff": diff,
            "low": diff - 1.96 * se, "high": diff + 1.96 * se, "n_handed": int(len(h)),
            "n_kept": int(c.client_id.nunique())}


def _pace_growth(d: pd.DataFrame, months: int) -> np.ndarray:
    """Revenue a month in the ``months`` after against revenue a month before, over the months since the
    client's first purchase (at most 12), minus 1."""
    span = np.clip(d.tenure.to_numpy(dtype=float), 1, 12)
    return (d.after.to_numpy(dtype=float) / months) / (d.before.to_numpy(dtype=float) / span) - 1


def _growth(h: pd.DataFrame, c: pd.DataFrame, rules: HandoverRules) -> dict[str, Any]:
    """Median revenue growth of each side (kept weighted to the handed strata), the difference and its
    bootstrap interval; ``unknown`` below the minimum."""
    h, c = h[h.before > 0], c[c.before > 0]
    h, c = _matched(h, c)
    out: dict[str, Any] = {"n_handed": int(len(h)), "n_kept": int(c.client_id.nunique()), "unknown": None}
    if len(h) < rules.min_compared or len(c) < rules.min_compared:
        out["unknown"] = Unknown.SHORT
        return out
    h, c = h.sort_values("stratum"), c.sort_values("stratum")
    g1, g0 = (_pace_growth(d, rules.outcome_months) for d in (h, c))
    share = h.stratum.value_counts(normalize=True)
    n0 = c.stratum.value_counts()
    w0 = (share / n0).reindex(c.stratum).to_numpy(dtype=float)  # each kept client's weight
    med1, med0 = _weighted_median(g1, np.ones(len(g1))), _weighted_median(g0, w0)

    def draws(strata: pd.Series) -> "Callable[[np.random.Generator], np.ndarray]":
        codes = strata.to_numpy()
        starts = np.searchsorted(codes, codes, side="left")
        sizes = np.searchsorted(codes, codes, side="right") - starts
        return lambda rng: starts + np.floor(rng.random(len(codes)) * sizes).astype(int)

    rng = np.random.default_rng(rules.seed)
    diffs = (_resampled_medians(g1, np.ones(len(g1)), draws(h.stratum), rng, rules.boot)
             - _resampled_medians(g0, w0, draws(c.stratum), rng, rules.boot))
    low, high = np.quantile(diffs, [0.025, 0.975])
    out.update(handed=med1, kept=med0, diff=med1 - med0, low=float(low), high=float(high))
    return out


def _candidates(serving: pd.DataFrame, months: np.ndarray, won_by: pd.Series, handed_ever: pd.Series) -> pd.DataFrame:
    """The comparison's kept side: at each hand-over month k, the clients who bought in that month, served by
    the manager who won them, and not handed over by k.

    A handed client buys in its hand-over month (a hand-over is a purchase month with a new manager), so
    the kept side buys in that month too. Kept clients who had only bought at some time in the 12 months
    before stay less often by that alone: on the planted company whose handed clients stay exactly like
    the others (``SampleSpec.handovers(handover_stop=0)``), that version read handed clients as more loyal,
    +5 pts with a 95 % interval of +3 to +7 (tests/test_placebo.py)."""
    at = serving[serving.k.isin(months)]
    winner = won_by.reindex(at.client_id).to_numpy()
    first_ho = handed_ever.reindex(at.client_id).to_numpy(dtype=float)
    keep = (at.manager.to_numpy() == winner) & ~(first_ho <= at.k.to_numpy())
    return at.loc[keep, ["client_id", "k"]].reset_index(drop=True)


def _terciles(values: pd.Series) -> pd.Series:
    """Terciles of 12-month revenue at one month (equal values in one stratum; fewer strata when few values)."""
    if values.nunique() < 3:
        return pd.Series(0, index=values.index)
    return pd.qcut(values, 3, labels=False, duplicates="drop").fillna(0).astype(int)


def compare(cube: Cube, ho: pd.DataFrame | None = None, rules: HandoverRules = HandoverRules(),
            assignment: AssignmentRules = AssignmentRules()) -> dict[str, Any]:
    """Clients after a hand-over against comparable clients kept by the manager who won them.

    Returns the counts, the retention of each side (the kept side standardised to the handed clients'
    strata), the difference with its 95 % interval, the median revenue change of each side, and
    ``unknown`` (:class:`Unknown`) when the evidence is short, or ``Unknown.UNSTABLE`` (with ``stability``,
    :func:`salesbook.analysis.assignment.stability`) when clients have no stable manager."""
    res: dict[str, Any] = {"handed": 0, "kept": 0, "unknown": None, "months": rules.outcome_months}
    stab = stability(cube, assignment)
    if stab["stable"] is False:  # clients change manager as a random draw would: no hand-over to compare
        res.update(unknown=Unknown.UNSTABLE, stability=stab)
        return res
    ho = handovers(cube) if ho is None else ho
    if not len(ho):
        res["unknown"] = Unknown.NONE
        return res
    prof = cube.profile
    last_full = _index(pd.Series([prof.full_months[-1]])).iloc[0] if prof.full_months else -1
    cm = _client_months(cube)
    ho = ho.assign(k=_index(ho.month))
    ho = ho[ho.k + rules.outcome_months <= last_full]  # the whole outcome window inside the data
    if len(ho) < rules.min_compared:
        res.update(handed=int(len(ho)), unknown=Unknown.SHORT)
        return res
    serving = _serving(cube)
    won_by = serving.groupby("client_id").manager.first()
    handed_ever = ho.groupby("client_id").k.min()
    kept = _candidates(serving, np.sort(ho.k.unique()), won_by, handed_ever)
    handed = _states(cube, ho[["client_id", "k"]].reset_index(drop=True), cm, rules.outcome_months)
    kept = _states(cube, kept, cm, rules.outcome_months) if len(kept) else kept
    edges = [-1, *rules.tenure_edges, 10 ** 6]
    both = pd.concat([handed.assign(side="handed"), kept.assign(side="kept")], ignore_index=True)
    both["tenure_s"] = pd.cut(both.tenure, edges, labels=False)
    both["size_s"] = both.groupby("k").before.transform(_terciles)
    both["stratum"] = both.k.astype(str) + "|" + both.tenure_s.astype(str) + "|" + both.size_s.astype(str)
    h, c = _matched(both[both.side == "handed"], both[both.side == "kept"])
    res.update(handed=int(len(h)), kept=int(c.client_id.nunique()))
    if len(h) < rules.min_compared or len(c) < rules.min_compared:
        res["unknown"] = Unknown.SHORT
        return res
    kept_share = _std_mean(h, c, "retained")
    res.update(retained_handed=kept_share["handed"], retained_kept=kept_share["kept"], diff=kept_share["diff"],
               low=kept_share["low"], high=kept_share["high"], growth=_growth(h, c, rules))
    res["categories"] = _categories(cube, h, c, rules)
    return res


def _categories(cube: Cube, h: pd.DataFrame, c: pd.DataFrame, rules: HandoverRules) -> dict[str, Any]:
    """Categories bought in the outcome window by the clients of each side who bought again."""
    if not cube.profile.has_category:
        return {"unknown": Unknown.NO_CATEGORY, "n_handed": 0, "n_kept": 0}
    h, c = h[h.retained], c[c.retained]
    h = h.assign(cats=_categories_after(cube, h, rules.outcome_months))
    c = c.assign(cats=_categories_after(cube, c, rules.outcome_months))
    h, c = _matched(h, c)
    if len(h) < rules.min_compared or len(c) < rules.min_compared:
        return {"unknown": Unknown.SHORT, "n_handed": int(len(h)), "n_kept": int(c.client_id.nunique())}
    return {"unknown": None, **_std_mean(h, c, "cats")}


def handover_sentences(cube: Cube, lang: str = "en", rules: HandoverRules = HandoverRules(),
                       assignment: AssignmentRules = AssignmentRules()) -> list[str]:
    """What the report says about hand-overs: how many, the trigger, and whether clients stay."""
    from salesbook.formats import fmt_int, fmt_money, fmt_pct, fmt_points
    if not cube.profile.has_manager:
        return [cube.profile.lacks("manager", lang) or t("ho.no_manager", lang)]
    stab = stability(cube, assignment)
    if stab["stable"] is False:
        return [unstable_sentence(stab, lang, "asg.unstable_ho")]
    ho = handovers(cube)
    if not len(ho):
        return [t("ho.none_text", lang, start=cube.profile.start.date(), end=cube.profile.end.date())]
    out = [t("ho.count", lang, n=fmt_int(len(ho), lang), clients=fmt_int(ho.client_id.nunique(), lang),
             start=cube.profile.start.date(), end=cube.profile.end.date())]
    trig = infer_trigger(ho, rules)
    if trig["rule"] is None:
        out.append(t("ho.no_trigger", lang, n=fmt_int(len(ho), lang), min=rules.min_handovers,
                     share=fmt_pct(rules.min_rule_share, lang, 0)))
    else:
        value = fmt_money(trig["value"], lang) if trig["rule"] == "amount" else fmt_int(trig["value"], lang)
        out.append(t(f"ho.trigger.{trig['rule']}", lang, value=value, share=fmt_pct(trig["share"], lang, 0),
                     n=fmt_int(len(ho), lang)))
    cmp = compare(cube, ho, rules, assignment)
    if cmp["unknown"]:
        out.append(t("ho.cannot_tell", lang, handed=fmt_int(cmp["handed"], lang), min=rules.min_compared,
                     months=rules.outcome_months))
        return out
    verdict = Verdict.WORSE if cmp["high"] < 0 else Verdict.BETTER if cmp["low"] > 0 else Verdict.SAME
    out.append(t("ho.compare", lang, months=rules.outcome_months, handed=fmt_int(cmp["handed"], lang),
                 kept=fmt_int(cmp["kept"], lang), p1=fmt_pct(cmp["retained_handed"], lang, 0),
                 p0=fmt_pct(cmp["retained_kept"], lang, 0), diff=fmt_points(cmp["diff"], lang),
                 low=fmt_points(cmp["low"], lang), high=fmt_points(cmp["high"], lang)))
    out.append(t(f"ho.verdict.{verdict}", lang))
    return out + _more_sentences(cmp, lang, rules)


def _more_sentences(cmp: dict[str, Any], lang: str, rules: HandoverRules) -> list[str]:
    """Revenue growth and categories bought 12 months on, each with its counts and interval, or why not."""
    from salesbook.formats import fmt_int, fmt_num, fmt_pct, fmt_points

    def growth(x: float, difference: bool = False) -> str:
        return fmt_points(x, lang) if difference else fmt_pct(x, lang, 0, signed=True)

    def categories(x: float, difference: bool = False) -> str:
        return ("+" if difference and x > 0 else "") + fmt_num(x, lang, 1)

    out = []
    for key, fmt in (("growth", growth), ("categories", categories)):
        part = cmp[key]
        counts = {"handed": fmt_int(part["n_handed"], lang), "kept": fmt_int(part["n_kept"], lang),
                  "min": rules.min_compared, "months": rules.outcome_months}
        if part["unknown"] == Unknown.NO_CATEGORY:
            out.append(t(Unknown.NO_CATEGORY, lang))
        elif part["unknown"]:
            out.append(t(f"ho.{key}_short", lang, **counts))
        else:
            out.append(t(f"ho.{key}", lang, **counts, v1=fmt(part["handed"]), v0=fmt(part["kept"]),
                         diff=fmt(part["diff"], True), low=fmt(part["low"], True), high=fmt(part["high"], True)))
    return out
