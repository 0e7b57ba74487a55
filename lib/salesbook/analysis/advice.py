"""Advice that agrees with the simulator: each remedy the what-if can simulate carries its simulated effect.

The diagnosis (:func:`salesbook.analysis.stagnation.diagnose`) rates each symptom; its remedy is a
sentence. Where workbook 05 or a calibration can put a figure on that remedy, :func:`advise` computes
it with the run's settings, from the same calibration the workbooks show:

- **hunters** (remedies of ``no_hunters``, ``acquisition`` and ``flat``): the reorganisation of 05
  (:func:`salesbook.analysis.whatif.project`) with the run's ``hunters``, ramp, hand-over and overflow,
  over ``projection_months`` after the analysis date; the effect is the change of the period's revenue
  against the status quo. Its interval comes from the uncertainty of the calibrated hunter rate: the
  new clients a quarter of managers with a lighter load (the rate's source), resampled
  (``boot`` seeded draws), the projection run at the ``level`` interval's ends. With a hunter rate
  given in the settings (not calibrated) the interval is that one value.
- **cross-sell** (``crosssell``): the whitespace lists' calibrated expectation
  (:func:`salesbook.analysis.calibration.expected_whitespace`), the next 12 months, 90 % interval.
- **existing clients** (``existing``): the reactivation lists' calibrated expectation
  (:func:`salesbook.analysis.calibration.expected_reactivation`).

A remedy is rated *strong* only when its simulated effect is a material gain: the lower end of its
interval is at least ``material`` of the revenue of its period (the status quo of the projection for
hunters; the turnover of the 12 months to the analysis date for a calibrated list). Otherwise a strong
symptom is shown as mild, and the memo says what the simulator expects and which
other findings the data point to (:func:`apply_advice`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesbook.cube import Cube
from salesbook.cube.memo import per_cube
from salesbook.i18n import t

__all__ = ["AdviceRules", "reorg_effect", "advise", "apply_advice", "SIMULATED"]

#: the symptoms whose remedy the what-if simulates, and which simulation
SIMULATED = {"no_hunters": "hunters", "acquisition": "hunters", "flat": "hunters", "crosssell": "whitespace",
             "existing": "reactivation"}


@dataclass(frozen=True)
class AdviceRules:
    material: float = 0.02  #: a gain counts for a strong rating from this share of its period's revenue
    boot: int = 200  #: bootstrap draws of the calibrated hunter rate
    level: float = 0.90  #: level of the effect's interval
    seed: int = 20261206  #: seed of those draws (the same data give the same interval)


def _hunter_rate_draws(cube: Cube, rules: AdviceRules) -> np.ndarray:
    """Bootstrap means of the source of the calibrated hunter rate (new clients a month, per manager)."""
    from salesbook.analysis.stagnation import saturation
    from salesbook.analysis.whatif import hunter_rates
    x = hunter_rates(saturation(cube, "Q"))
    if len(x) < 2:
        return np.array([])
    rng = np.random.default_rng(rules.seed)
    return x[rng.integers(0, len(x), (rules.boot, len(x)))].mean(axis=1)


def reorg_effect(cube: Cube, whatif: Any = None, rules: AdviceRules = AdviceRules()) -> dict[str, Any]:
    """The reorganisation's effect as workbook 05 computes it, with an interval.

    Keys: ``hunters``, ``months``, ``first``/``last`` (the projected months), ``reorganised``,
    ``status_quo`` (the period's revenue), ``effect`` (share), ``money``, ``low``/``high`` (effect, share),
    ``unknown`` (a (message key, values) pair of 05 when it cannot be simulated)."""
    from salesbook.analysis import whatif as wi
    from salesbook.analysis.settings import WhatIf
    ws = whatif or WhatIf()
    why = wi.reorg_lacks(cube, ws.hunters) if ws.hunters > 0 else ("wi.lacks.hunters", {"hunters": 0, "managers": 0})
    if why is not None:
        return {"unknown": why, "hunters": ws.hunters}
    org = wi.calibrate_org(cube)
    start = cube.as_of.to_period("M").to_timestamp() + pd.offsets.MonthBegin(1)
    rate = None if ws.hunter_rate < 0 else ws.hunter_rate

    def effect(r: float | None) -> tuple[float, float, float, pd.DataFrame]:
        proj = wi.project(org, ws.hunters, r, ws.ramp_months, ws.projection_months, ws.overflow_loss, start, ws.handover)
        reorg, status = float(proj.reorganised.sum()), float(proj.status_quo.sum())
        return (reorg / status - 1 if status else 0.0), reorg, status, proj

    share, reorg, status, proj = effect(rate)
    low = high = share
    if rate is None:
        draws = _hunter_rate_draws(cube, rules)
        if len(draws):
            tail = (1 - rules.level) / 2
            ends = [effect(float(q))[0] for q in np.quantile(draws, [tail, 1 - tail])]
            low, high = min(ends + [share]), max(ends + [share])
    return {"unknown": None, "hunters": ws.hunters, "months": len(proj), "first": proj.index[0], "last": proj.index[-1],
            "reorganised": reorg, "status_quo": status, "effect": share, "money": reorg - status,
            "low": low, "high": high, "level": rules.level, "material": rules.material}


@per_cube
def advise(cube: Cube, settings: Any = None, rules: AdviceRules = AdviceRules()) -> dict[str, dict[str, Any]]:
    """The simulated effect of each remedy the what-if can simulate, by simulation (``hunters``,
    ``whitespace``, ``reactivation``), with the run's settings (default the defaults).

    Each value has ``effect`` (money, or a share for ``hunters``), ``low``, ``high``, ``gain`` (True when
    the interval lies above zero), ``months`` and ``text`` (a sentence maker: ``text(lang)``)."""
    from salesbook.analysis import calibration as cb
    from salesbook.analysis import segments as sg
    from salesbook.analysis import stagnation as st
    from salesbook.analysis.settings import Settings
    s = settings or Settings()
    s1, s3 = s.segmentation, s.stagnation
    out: dict[str, dict[str, Any]] = {}
    reorg = reorg_effect(cube, s.whatif, rules)
    out["hunters"] = {**reorg, "gain": reorg["unknown"] is None and reorg["low"] >= rules.material}
    d = cube.client_day
    turnover = float(d.loc[d.date > cube.as_of - pd.DateOffset(months=12), "revenue"].sum())  # the 12 months to as_of

    def material(res: dict[str, Any]) -> bool:
        return not res["unknown"] and turnover > 0 and res.get("low", 0) >= rules.material * turnover
    classes = sg.segment(cube, cube.as_of, s1.rules, "en", s1.xyz_x, s1.xyz_y, s1.abc_measure,
                         s1.rfm_window_months).classes
    sleepers = sg.reactivation_list(cube, classes, s1.max_months_asleep)
    react = cb.expected_reactivation(cube, sleepers, s1.rules, s1.max_months_asleep)
    out["reactivation"] = {**react, "gain": material(react)}
    if cube.profile.has_category:
        ws = st.whitespace(cube, 12, s3.whitespace_min)
        white = cb.expected_whitespace(cube, ws, min_lift=s3.whitespace_min)
        # a list that picks no better than the same clients' other categories (its placebo) has no effect of
        # its own: what it expects, the clients buy anyway
        chance = white.get("lift", {}).get("unknown") is None and not white["lift"].get("low", 0) > 0
        out["whitespace"] = {**white, "gain": material(white) and not chance}
    return out


def effect_text(sim: str, res: dict[str, Any], lang: str = "en") -> str:
    """The simulated effect of a remedy in one sentence, with its period and interval, or why there is none."""
    from salesbook.formats import fmt_money, fmt_pct
    from salesbook.i18n import month_labels
    if sim == "hunters":
        if res.get("unknown"):
            key, values = res["unknown"]
            if key.startswith("asg."):  # no stable assignment: the measure, written in lang
                from salesbook.analysis.assignment import unstable_sentence
                return t("story.effect.cannot", lang, why=unstable_sentence(values, lang, key))
            return t("story.effect.cannot", lang, why=t(key, lang, **values))
        first, last = month_labels([res["first"], res["last"]], lang)
        key = "story.effect.hunters" if res["gain"] else "story.effect.hunters_small" if res["low"] > 0 \
            else "story.effect.hunters_loss" if res["high"] < 0 else "story.effect.hunters_none"
        return t(key, lang, hunters=res["hunters"],
                 first=first, last=last, months=res["months"], effect=fmt_pct(res["effect"], lang, signed=True),
                 money=fmt_money(res["money"], lang), low=fmt_pct(res["low"], lang, signed=True),
                 high=fmt_pct(res["high"], lang, signed=True), level=fmt_pct(res["level"], lang, 0),
                 material=fmt_pct(res["material"], lang, 0))
    if res.get("unknown"):
        return t("story.effect.not_calibrated", lang, horizon=res["horizon"])
    text = t(f"story.effect.{sim}", lang, expected=fmt_money(res["expected"], lang), low=fmt_money(res["low"], lang),
             high=fmt_money(res["high"], lang), horizon=res["horizon"])
    if sim == "whitespace":  # whether the list picks better than chance (its placebo), when it can be told
        from salesbook.analysis.calibration import lift_sentence
        lift = lift_sentence(res, lang)
        text = text + " " + lift if lift else text
    return text


def apply_advice(diagnosis: dict[str, Any], advice: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The diagnosis with each simulable remedy's effect attached (``Symptom.effect``) and no remedy rated
    strong that the simulator finds no gain for (shown as mild, with ``Symptom.capped`` set). A new
    diagnosis: the one given is not changed."""
    from salesbook.analysis.stagnation import Severity
    out = dict(diagnosis)
    out["symptoms"] = [copy.copy(s) for s in diagnosis["symptoms"]]
    for s in out["symptoms"]:
        sim = SIMULATED.get(s.key)
        if sim is None or sim not in advice or not s.present:
            continue
        s.effect = (sim, advice[sim])
        if s.severity == Severity.STRONG and not advice[sim]["gain"]:
            s.severity = Severity.MILD
            s.capped = tuple(k for k, v in advice.items() if k != sim and v["gain"]) or ("",)
    return out
