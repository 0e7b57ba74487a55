"""One story: the headline reconciles trend, last 12 months and bridge; advice agrees with the simulator."""

from __future__ import annotations

import pandas as pd

from salesbook.analysis import stagnation as st
from salesbook.analysis.advice import apply_advice, effect_text
import re

from salesbook.formats import escape_html, plain


def _diagnosis(verdict: str = "flat", before: float = 1000.0, parts: dict | None = None,
               symptoms: list | None = None) -> dict:
    parts = parts or {"new": 30.0, "reactivated": 10.0, "growth": 60.0, "decline": -50.0, "lost": -131.0}
    after = before + sum(parts.values())
    bridges = pd.DataFrame([{"end": pd.Timestamp("2026-10-31"), "before": before, "after": after, **parts}])
    flat = {"verdict": verdict, "slope_per_year": 0.014, "low": -0.019, "high": 0.046, "months": 36}
    return {"verdict": verdict, "flatness": flat, "bridges": bridges, "causes": [],
            "symptoms": symptoms or [st.Symptom("flat", verdict != "growing", "mild", {"slope": 0.014})]}


def test_headline_says_a_flat_trend_hides_a_recent_fall_and_names_what_made_it():
    # 1000 -> 919: -8.1 %; lost -131 is the largest loss; new + reactivated = 40, 30.5 % of 131
    text = plain(st.headline(_diagnosis(), "en"))
    assert text.startswith("Turnover is flat: +1.4% a year")
    assert "But the 12 months to 2026-10-31 fell 8.1% against the 12 before" in text
    assert "from lost clients (−RUB\xa0131)" in text and "(RUB\xa040, 30.5% of that loss)" in text
    assert 'The 36-month trend answers "are we growing?"' in text
    ru = plain(st.headline(_diagnosis(), "ru"))
    marked = escape_html(st.headline(_diagnosis(), "en"))  # the pages mark the figures with their names
    assert re.search(r'<span data-fact="turnover.change" data-value="-0.081">8.1%</span>', marked)
    assert '<span data-fact="trend.per_year" data-value="0.014">+1.4%</span>' in marked
    assert "упали на 8,1\xa0%" in ru and "потерянных клиентов (−131\xa0₽)" in ru


def test_headline_in_line_with_the_trend_says_so_and_a_rise_names_its_source():
    small = {"new": 10.0, "reactivated": 0.0, "growth": 20.0, "decline": -5.0, "lost": -5.0}  # +2 %: below 5 %
    assert "(+2.0%): in line with the trend" in plain(st.headline(_diagnosis(parts=small), "en"))
    up = {"new": 150.0, "reactivated": 0.0, "growth": 20.0, "decline": -5.0, "lost": -5.0}  # +16 % on a flat trend
    text = plain(st.headline(_diagnosis(parts=up), "en"))
    assert "rose 16.0% against the 12 before" in text and "a recent rise" in text
    assert "carried by new and reactivated clients (RUB\xa0150)" in text


def test_headline_without_a_covered_bridge_is_the_verdict_alone():
    d = _diagnosis()
    d["bridges"] = d["bridges"].iloc[0:0]
    assert st.headline(d, "en") == st.verdict_text(d, "en")


def _hunters(low: float, high: float, effect: float, gain: bool) -> dict:
    return {"unknown": None, "hunters": 3, "months": 36, "first": pd.Timestamp("2026-11-01"),
            "last": pd.Timestamp("2029-10-01"), "effect": effect, "money": effect * 1e6, "low": low, "high": high,
            "level": 0.9, "material": 0.02, "gain": gain}


def test_a_remedy_the_simulator_finds_no_gain_for_is_never_rated_strong():
    strong = st.Symptom("no_hunters", True, "strong", {"hunters": 0, "managers": 25})
    cross = st.Symptom("crosssell", True, "strong", {"early": 0.3, "recent": 0.01, "breadth": 2.9})
    d = _diagnosis(symptoms=[st.Symptom("flat", True, "mild", {}), strong, cross])
    # the reorganisation's interval includes zero; the whitespace lists' calibrated gain is material
    advice = {"hunters": _hunters(-0.01, 0.012, 0.002, False),
              "whitespace": {"unknown": None, "expected": 50.0, "low": 40.0, "high": 60.0, "horizon": 12, "gain": True}}
    out = apply_advice(d, advice)
    by_key = {s.key: s for s in out["symptoms"]}
    assert by_key["no_hunters"].severity == "mild" and by_key["no_hunters"].capped == ("whitespace",)
    assert by_key["crosssell"].severity == "strong"  # its own simulated gain is material
    remedy = by_key["no_hunters"].remedy("en")
    assert "no gain it can tell from noise" in remedy and "+0.2%" in remedy and "−1.0% to +1.2%" in remedy
    assert "the data point rather to the whitespace lists" in remedy
    assert strong.severity == "strong" and strong.effect is None  # the diagnosis given is not changed
    # with no simulated gain anywhere, nothing is strong and the memo says so
    none = apply_advice(d, {"hunters": _hunters(-0.07, -0.06, -0.065, False),
                            "whitespace": {**advice["whitespace"], "gain": False}})
    assert not any(s.severity == "strong" for s in none["symptoms"])
    text = {s.key: s for s in none["symptoms"]}["no_hunters"].remedy("en")
    assert "expects a loss with 3 hunters: −6.5%" in text and "no other remedy the what-if simulates" in text


def test_a_material_simulated_gain_keeps_the_rating_and_states_its_period_and_interval():
    d = _diagnosis(symptoms=[st.Symptom("no_hunters", True, "strong", {"hunters": 0, "managers": 25})])
    out = apply_advice(d, {"hunters": _hunters(0.03, 0.05, 0.04, True)})
    s = out["symptoms"][0]
    assert s.severity == "strong" and not s.capped
    assert "expects +4.0% of revenue from Nov 2026 to Oct 2029 (36 months) with 3 hunters" in s.remedy("en")
    assert "(90% interval +3.0% to +5.0%; a gain counts from 2%)" in s.remedy("en")
    assert "с ноя 2026 по окт 2029" in effect_text("hunters", _hunters(0.03, 0.05, 0.04, True), "ru")
