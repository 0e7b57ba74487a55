"""Protocols as types (issue 27): figures carry their kind, category moves their parts, findings are enums."""

from __future__ import annotations

import json
import pickle

import pytest

from salesbook.analysis import stagnation as st
from salesbook.analysis.segments import Move
from salesbook.formats import Kind, Measure, as_count, as_money, as_number, as_points, as_share, fmt_measure, using_currency


def test_a_figure_is_written_by_its_kind_never_by_its_size():
    with using_currency("RUB"):
        assert fmt_measure(as_money(1234.4), "en") == "RUB\u00a01,234"
    assert fmt_measure(as_share(0.014), "en") == "+1.4%"
    assert fmt_measure(as_share(6.0), "en") == "+600.0%"  # a share of 600%: the old guess wrote "6"
    assert fmt_measure(as_points(-0.09), "ru") == "\u22129\u00a0п.\u00a0п."
    assert fmt_measure(as_count(1234), "en") == "1,234"
    assert fmt_measure(as_number(0.333, signed=True), "ru") == "+0,33"
    assert fmt_measure(as_number(-0.5), "en") == "\u22120.50"


def test_a_measure_is_a_float_that_keeps_its_kind_through_json_and_pickle():
    m = as_share(0.25)
    assert m == 0.25 and m * 2 == 0.5 and json.dumps({"x": m}) == '{"x": 0.25}'
    back = pickle.loads(pickle.dumps(m))
    assert back == 0.25 and back.kind is Kind.SHARE and back.signed


def test_a_finding_figure_without_a_kind_is_an_error_not_a_guess():
    with pytest.raises(TypeError, match="no kind"):
        st._fmt(0.5, "en")
    assert st._fmt(0.5, "en", Kind.SHARE) == "+50.0%"
    assert st._fmt(Measure(0.5, Kind.NUMBER), "en", Kind.SHARE) == "0.50"  # the figure's own kind wins
    assert st._fmt(12, "en") == "12" and st._fmt("2025", "en") == "2025"


def test_a_symptom_sentence_takes_the_kinds_its_finding_declares():
    s = st.Symptom(st.Finding.PRODUCTIVITY, True, st.Severity.MILD,
                   {"change": -0.04, "per_manager": 1_500_000.0, "year": "2025"})
    with using_currency("RUB"):
        text = s.text("en")
    assert "\u22124.0%" in text and "RUB\u00a01,500,000 in 2025" in text


def test_the_verdict_sentence_finds_the_trend_by_its_kind_not_its_place():
    other = st.Symptom(st.Finding.CAPACITY, False, st.Severity.NONE, {"points": "3", "need": "8", "managers": "1",
                                                                      "need_managers": "3"}, unknown=st.Unknown.POINTS)
    trend = st.Symptom(st.Finding.FLAT, False, st.Severity.NONE, {"need": "24", "months": "13"}, unknown=st.Unknown.TREND)
    diagnosis = {"verdict": st.Verdict.UNKNOWN, "flatness": {}, "symptoms": [other, trend], "causes": []}
    assert st.verdict_text(diagnosis, "en") == trend.text("en") != other.text("en")


def test_enums_read_as_the_strings_they_replace():
    assert st.Verdict.FLAT == "flat" and f"{st.Finding.NO_HUNTERS}" == "no_hunters"
    assert json.dumps([st.Severity.STRONG, st.Unknown.WON]) == '["strong", "diag.unknown.won"]'


def test_a_category_move_is_made_from_its_parts_and_read_back_from_its_text():
    m = Move("regular", "sleeping")
    assert m == "regular>sleeping" and (m.before, m.after) == ("regular", "sleeping")
    assert Move.parse("absent>new") == Move("absent", "new") and Move.parse("absent>new").after == "new"
    assert {m: 1} == {"regular>sleeping": 1} and json.dumps({m: 1}) == '{"regular>sleeping": 1}'
    assert pickle.loads(pickle.dumps(m)).before == "regular"
    with pytest.raises(ValueError, match="not a category"):
        Move("regular", "asleep")
