"""Protocols as types (issue 27): figures carry their kind, category moves their parts, findings are enums;
workbooks, sections and files are named once (``salesbook.paths``); the currency travels with the language."""

from __future__ import annotations

import ast
import json
import pickle
from pathlib import Path

import pytest

from salesbook.analysis import stagnation as st
from salesbook.analysis.segments import Move
from salesbook.formats import Kind, Measure, as_count, as_money, as_number, as_points, as_share, fmt_measure, using_currency
from salesbook.paths import Export, RunFile, Section, Workbook


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


# --------------------------------------------------------------------------- pages, sections, files as types

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _sections_named(path: Path) -> tuple[list[str], list[str]]:
    """The ``Section`` members a notebook's source names, and any section it opens by a text of its own."""
    named, typed = [], []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "Section":
            named.append(node.attr)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "section" and node.args \
                and isinstance(node.args[0], (ast.Constant, ast.JoinedStr)):
            typed.append(ast.unparse(node.args[0]))
    return named, typed


def test_the_workbooks_are_the_notebooks_in_the_folder():
    assert {w.value for w in Workbook} == {p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.py")} \
        == {p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    assert Workbook.named("03") is Workbook.named("03_stagnation") is Workbook.STAGNATION
    assert Workbook.named("90_failing") is None and Workbook.STAGNATION.page == "03_stagnation.html"


def test_each_workbook_opens_its_own_sections_and_every_one_of_them():
    """A section renamed or moved in a notebook, or in the registry, fails here, not as a dead link of a run."""
    for workbook in Workbook:
        named, typed = _sections_named(NOTEBOOKS / f"{workbook}.py")
        assert not typed, f"{workbook}: sections opened by their text, not a Section: {typed}"
        unknown = [n for n in named if n not in Section.__members__]
        assert not unknown, f"{workbook}: no such Section: {unknown}"
        assert {Section[n] for n in named} == set(Section.of(workbook)), workbook


def test_the_summary_links_each_figure_and_finding_to_a_workbooks_section():
    from salesbook.analysis.stagnation import Finding
    from salesbook.run import summary
    assert set(summary.FINDING_SECTION) == set(Finding)
    targets = [*summary.SECTION_OF.values(), *summary.FINDING_SECTION.values()]
    assert all(isinstance(s, Section) and s.workbook is not None for s in targets)
    assert all(isinstance(x, Export) for x in summary.FILE_OF.values())
    href, xlsx = summary._linker({Workbook.STAGNATION.page}, {Export.WHITESPACE.xlsx})
    assert href("finding", summary.FINDING_SECTION[Finding.EXISTING]) == "03_stagnation.html#s-stag-bridge"
    assert href("turnover") is None  # the overview did not run
    assert xlsx("whitespace") == "exports/whitespace_lists.xlsx" and xlsx("sleeping") is None


def test_a_sections_anchor_is_the_one_its_key_always_had():
    from salesbook.views.pages import anchor, section_id
    anchors = [s.anchor for s in Section]
    assert len(set(anchors)) == len(anchors)
    assert Section.BRIDGE.anchor == section_id("stag.bridge") == "s-stag-bridge"
    assert anchor(Section.BRIDGE) == anchor("stag.bridge") and Section.PACE.href == "index.html#s-pace-title"
    assert Section("stag.bridge") is Section.BRIDGE and f"{Section.BRIDGE}" == "stag.bridge"
    assert json.dumps([Section.MEMO, Workbook.OVERVIEW, RunFile.INDEX]) == '["stag.memo", "00_overview", "index.html"]'


def test_a_section_outside_the_registry_is_refused_where_it_is_opened(monkeypatch):
    from salesbook.views import display
    shown: list = []
    monkeypatch.setattr(display, "_display", shown.append)
    book = display.Book("en", mode=display.Mode.REPORT)
    book.section(Section.BRIDGE)
    assert 'id="s-stag-bridge"' in shown[0].data
    with pytest.raises(ValueError, match="stag.brigde"):
        book.section("stag.brigde")


def test_a_file_named_by_the_registry_works_wherever_a_path_takes_a_name():
    """pathlib interns a name given to ``with_name``, which an enum member is not ("can't intern RunFile": the
    PDFs of a run, found only by an end-to-end run)."""
    from salesbook.run.pdf import pdf_of
    assert pdf_of(Path("/r") / RunFile.INDEX) == Path("/r/summary.pdf") and type(pdf_of(Path("/r/x.html")).name) is str
    assert pdf_of(Path("/r") / Workbook.STAGNATION.page) == Path("/r/03_stagnation.pdf")
    assert (Path("/r") / RunFile.EXPORTS / Export.VIP.xlsx).as_posix() == "/r/exports/vip_sector.xlsx"


def test_every_list_the_summary_links_is_written_by_a_workbook_under_that_name():
    views = "".join(p.read_text(encoding="utf-8") for p in (Path(st.__file__).parents[1] / "views").glob("*.py"))
    assert all(f"Export.{x.name}.xlsx" in views for x in Export)


# --------------------------------------------------------------------------- the currency passed, not set


def test_a_book_writes_its_own_currency_and_sets_nothing_in_the_process():
    from salesbook.formats import CURRENCY, fmt_money
    from salesbook.views.display import Book, Mode
    before = CURRENCY.get()
    nb = Book("en", "USD", mode=Mode.REPORT)
    assert CURRENCY.get() == before  # nothing left set for the next book or the next test
    assert nb.lang == "en" and nb.lang.currency == nb.currency == "USD" and nb.money(12) == "$12"
    assert fmt_money(12, nb.lang) == "$12" and fmt_money(12, Book("en", "EUR").lang) == "€12"
    s = st.Symptom(st.Finding.PRODUCTIVITY, True, st.Severity.MILD,
                   {"change": -0.04, "per_manager": 1_500_000.0, "year": "2025"})
    assert "$1,500,000 in 2025" in s.text(nb.lang)  # a library sentence given the book's language


def test_a_language_keeps_its_currency_through_pickle_and_a_memo_key():
    from salesbook.cube.memo import _stable
    from salesbook.errors import ParameterError
    from salesbook.formats import Lang
    usd, rub = Lang("ru", "usd"), Lang("ru", "RUB")
    assert usd == rub == "ru" and usd.currency == "USD" and _stable(usd) != _stable(rub)
    assert pickle.loads(pickle.dumps(usd)).currency == "USD"
    assert Lang(usd).currency == "USD" and Lang(usd, "EUR").currency == "EUR"
    with using_currency("GBP"):
        assert Lang("en").currency == "GBP"
    with pytest.raises(ParameterError, match="lang='de'"):
        Lang("de")


def test_each_book_sends_the_tables_loader_with_its_own_first_interactive_table():
    """A notebook run again from the top makes a new book: its output carries the loader again (a flag on the
    class kept it from every book after the first of the kernel)."""
    import pandas as pd

    from salesbook.views import tables
    from salesbook.views.display import Book, Mode
    df = pd.DataFrame({"n": range(30)})
    first, again = Book("en", mode=Mode.LAB), Book("en", mode=Mode.LAB)
    loader = tables.loader_js()
    a, b = first.table_html(df, interactive=True), first.table_html(df, interactive=True)
    assert loader in a and loader not in b and loader in again.table_html(df, interactive=True)
    assert loader not in Book("en", mode=Mode.REPORT).table_html(df, interactive=True)


# --------------------------------------------------------------------------- tables: each column's kind declared


def test_a_table_column_is_money_only_when_its_table_says_so_whatever_its_size():
    import pandas as pd

    from salesbook.views.display import Book, Mode
    nb = Book("en", "RUB", mode=Mode.REPORT)
    df = pd.DataFrame({"x": [1234.5, 2.0]})
    plain = nb.table_html(df)
    assert "RUB" not in plain and "1,234.50" in plain  # a large float is no amount unless declared
    df.attrs["money"] = ["x"]
    money = nb.table_html(df)
    assert "x, RUB" in money and "1,234" in money and "2.00" not in money  # a small amount is one too


def test_the_workbooks_tables_declare_their_amounts_and_shares():
    import pandas as pd

    from salesbook.data.load_report import LoadReport, ReportLine
    from salesbook.views import forecast_views as fv
    from salesbook.views import overview as ov
    from salesbook.views import stagnation_views as sv
    months = pd.date_range("2026-11-01", periods=2, freq="MS")
    by_month = pd.DataFrame({"deals": [1, 2], "weighted": [10.0, 20.0]}, index=months)
    table = fv.month_table(by_month, pd.Series([5.0, 6.0], index=months), pd.Series([9.0, 9.0], index=months))
    assert table.attrs["money"] == ["Weighted forecast", "Baseline (history)", "Plan"]
    # the plan's coverage is a share (weighted / plan), shown as a percentage like every share
    assert table.attrs["shares"] == ["Coverage of the plan"] and table["Coverage of the plan"].tolist() == [10 / 9, 20 / 9]
    groups = fv.group_table(pd.DataFrame({"deals": [1], "amount": [5.0], "weighted": [2.5]},
                                         index=pd.Index(["A"], name="manager")), "col.manager")
    assert groups.attrs["money"] == ["Expected amount", "Weighted forecast"]
    years = ov.yearly_view(pd.DataFrame({"year": [2025], "months": [12], "revenue": [5.0], "clients": [1]}))
    assert years.attrs["money"] == ["Revenue"]
    cohorts = pd.DataFrame({2025: [1.0], 2026: [0.9]}, index=pd.Index([2025]))
    assert sv.cohort_table(cohorts, [2026]).attrs["money"] == ["2025", "2026 (partial)"]
    nrr = sv.cohort_table(cohorts, [], kind=Kind.SHARE)
    assert nrr.attrs["shares"] == ["2025", "2026"] and nrr.attrs["money"] == []
    report = LoadReport(source="x", rows_read=2, rows_kept=1,
                        lines=[ReportLine(reason="zero_amount", count=1, amount=0.0, action="dropped", rows=[2])])
    assert report.to_frame().attrs["money"] == ["Amount"]
