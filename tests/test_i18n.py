import re

import pytest

from salesbook.errors import ParameterError
from salesbook.i18n import LANGS, catalogue, t


def test_every_message_has_every_language_with_the_same_placeholders():
    for key, texts in catalogue().items():
        assert set(texts) == set(LANGS), key
        names = {lang: set(re.findall(r"{(\w+)}", texts[lang])) for lang in LANGS}
        assert names["en"] == names["ru"], key


def test_unknown_language_is_a_clear_error():
    with pytest.raises(ParameterError, match="lang='de'"):
        t("col.month", "de")


def test_numbers_in_each_language_by_hand():
    from salesbook.views.display import fmt_money, fmt_pct, fmt_short, using_currency
    with using_currency("RUB"):
        assert fmt_money(1234567.891, "en", 2, currency=False) == "1,234,567.89"
        assert fmt_money(1234567.891, "en", 2) == "RUB\u00a01,234,567.89"
        assert fmt_money(-1234567.891, "ru") == "−1\u00a0234\u00a0568\u00a0₽"
    assert fmt_pct(-0.0812, "ru", signed=True) == "−8,1\u00a0%" and fmt_pct(-0.0812, "en", signed=True) == "−8.1%"
    # chart labels: three significant digits, the scale as each language writes it
    assert [fmt_short(v) for v in (1_286_082_585, 124_000_000, -45_210_000, 5_300, 12)] == \
        ["1.29\u00a0bn", "124\u00a0m", "−45.2\u00a0m", "5.3\u00a0k", "12"]
    assert fmt_short(1_286_082_585, "ru") == "1,29\u00a0млрд"


def reachable_keys() -> list[str]:
    """Every catalogue key the code builds at run time from an enum or a list of names (``t(f"cat.{c}")``),
    as the modules that own those names list them: the categories (and so each part of a category move),
    the verdicts, severities, findings and unknown reasons, the workbooks' titles and every page section
    (``salesbook.paths``), the glossary, the walk's steps, the what-if's levers, DataTables' words."""
    from salesbook import paths
    from salesbook.analysis import calibration, handovers, segments, stagnation
    from salesbook.views import glossary, tables, walk_views, whatif_views
    return (segments.catalogue_keys() + stagnation.catalogue_keys() + handovers.catalogue_keys()
            + calibration.catalogue_keys() + paths.catalogue_keys() + glossary.catalogue_keys()
            + walk_views.catalogue_keys() + whatif_views.catalogue_keys() + tables.catalogue_keys())


def test_every_key_built_from_an_enum_exists_in_both_languages_with_the_same_placeholders():
    keys = reachable_keys()
    assert len(keys) >= 53 and len(set(keys)) == len(keys)
    missing = [k for k in keys if k not in catalogue()]
    assert not missing, f"asked for at run time, not in the catalogue: {missing}"
    for key in keys:
        names = {lang: set(re.findall(r"{(\w+)}", catalogue()[key][lang])) for lang in LANGS}
        assert names["en"] == names["ru"], key
        assert all(t(key, lang, **dict.fromkeys(names[lang], "x")) for lang in LANGS)


def test_each_figure_a_finding_gives_a_kind_is_written_by_its_sentence_or_a_reason_it_cannot_tell():
    from salesbook.analysis.stagnation import EVIDENCE, Finding, Unknown
    assert set(EVIDENCE) == set(Finding)
    for finding, kinds in EVIDENCE.items():
        for lang in LANGS:
            keys = [f"diag.{finding}"] + [u for u in Unknown if u in catalogue()]
            used = {name for key in keys for name in re.findall(r"{(\w+)}", catalogue()[key][lang])}
            assert set(kinds) <= used, (finding, lang)


def test_the_reachable_keys_list_follows_the_enums(monkeypatch):
    """A new category or finding without its words is caught: the list is built from the enums, not typed."""
    from salesbook.analysis import segments
    monkeypatch.setattr(segments, "CATEGORIES", segments.CATEGORIES + ("dormant",))
    assert "cat.dormant" in reachable_keys() and "cat.dormant" not in catalogue()


def test_every_key_a_type_of_the_run_stands_for_is_among_the_checked_ones():
    """The workbooks' titles, every section, both parts of every category move, every verdict, finding and
    reason a diagnosis can carry: each is in the list the test above checks in both languages."""
    from itertools import product

    from salesbook.analysis import stagnation as st
    from salesbook.analysis.segments import ABSENT, CATEGORIES, Move
    from salesbook.paths import Section, Workbook
    keys = set(reachable_keys())
    assert {w.title_key for w in Workbook} | {str(s) for s in Section} <= keys
    moves = [Move(a, b) for a, b in product((*CATEGORIES, ABSENT), repeat=2) if a != b]
    assert {f"cat.{part}" for m in moves for part in (m.before, m.after)} <= keys
    assert {f"memo.verdict.{v}" for v in st.Verdict} | {f"sev.{s}" for s in st.Severity} <= keys
    assert {f"diag.{f}" for f in st.Finding} | {f"remedy.{f}" for f in st.Finding} | {str(u) for u in st.Unknown} <= keys
