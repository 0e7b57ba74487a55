"""Exports as they are written (issue 26): readers, dates, amounts, the proposed mapping, --mapping auto."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from exports import STOPS, english, sample_slice, write_corpus
from salesbook.data.load import load_sales
from salesbook.data.parse import EXCEL_SERIAL, date_reading, parse_dates, read_amounts
from salesbook.data.propose import propose
from salesbook.data.readers import READERS, detect_encoding, reader_for
from salesbook.errors import DataError


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    return sample_slice().iloc[::3].reset_index(drop=True)  # ~400 lines: every day of two months still


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, lines) -> dict[str, Path]:
    return write_corpus(tmp_path_factory.mktemp("corpus"), lines)


@pytest.fixture(scope="module")
def reference(lines):
    return load_sales(lines).report


@pytest.fixture(scope="module")
def proposed(corpus):
    """An export of the corpus proposed and loaded through its proposal, once for the module: name ->
    (proposal, load report). The tests read them, none changes them."""
    done: dict[str, tuple] = {}

    def get(name: str) -> tuple:
        if name not in done:
            proposal = propose(corpus[name])
            done[name] = proposal, load_sales(corpus[name], proposal.mapping()).report
        return done[name]
    return get


# --------------------------------------------------------------------------- dates, by hand


def test_a_first_field_over_12_says_day_first_and_two_digit_years_are_read():
    r = date_reading(pd.Series(["03/01/19", "13/01/19", "01/02/19"]))
    assert (r.fmt, r.order, r.ambiguous) == ("%d/%m/%y", "day-first", False)
    parsed, bad = parse_dates(pd.Series(["03/01/19", "13/01/19"]), r.fmt)
    assert list(parsed) == [pd.Timestamp("2019-01-03"), pd.Timestamp("2019-01-13")] and not bad.any()


def test_a_second_field_over_12_says_month_first():
    r = date_reading(pd.Series(["01/03/2019", "01/13/2019"]))
    assert (r.fmt, r.order) == ("%m/%d/%Y", "month-first")


def test_no_field_over_12_is_ambiguous_and_names_both_readings():
    r = date_reading(pd.Series(["03/01/2019", "04/02/2019", "12/12/2019"]))
    assert r.fmt is None and r.ambiguous
    assert r.readings == ("%d/%m/%Y", "%m/%d/%Y") and r.example == "03/01/2019"


def test_equal_fields_everywhere_read_the_same_both_ways_and_dots_are_day_first():
    assert date_reading(pd.Series(["01/01/2019", "02/02/2019"])).fmt == "%d/%m/%Y"
    assert date_reading(pd.Series(["01.02.2019", "03.04.2019"])).fmt == "%d.%m.%Y"


def test_two_orders_in_one_column_are_a_conflict_not_a_guess():
    r = date_reading(pd.Series(["13/01/2019", "01/13/2019"]))
    assert r.fmt is None and r.conflict


def test_excel_serial_numbers_in_the_plausible_range_only():
    assert date_reading(pd.Series([43468, 43469])).fmt == EXCEL_SERIAL
    assert date_reading(pd.Series(["43468", "43469"])).fmt == EXCEL_SERIAL
    assert date_reading(pd.Series([12, 99999])).fmt is None  # quantities, not dates
    parsed, bad = parse_dates(pd.Series(["43468", "99999"]), EXCEL_SERIAL)
    assert parsed.iloc[0] == pd.Timestamp("2019-01-03") and list(bad) == [False, True]


def test_iso_with_a_zone_keeps_the_wall_clock():
    r = date_reading(pd.Series(["2024-01-03T23:30:00+03:00", "2024-01-04T01:00:00Z"]))
    assert r.fmt == "ISO8601"
    parsed, bad = parse_dates(pd.Series(["2024-01-03T23:30:00+03:00"]), r.fmt)
    assert parsed.iloc[0] == pd.Timestamp("2024-01-03 23:30") and not bad.any()


# --------------------------------------------------------------------------- amounts and encodings


def test_currency_thousands_and_parentheses_each_counted():
    num, bad, rules = read_amounts(pd.Series(["$1,234.50", "($16.45)", "$3"]))
    assert list(num) == [1234.5, -16.45, 3.0] and not bad.any()
    assert rules == {"currency $": 3, "parentheses": 1, "thousands ,": 1}
    num, bad, rules = read_amounts(pd.Series(["1.234,50", "7,25"]), ",")
    assert list(num) == [1234.5, 7.25] and rules == {"thousands .": 1}


def test_two_currencies_in_one_column_are_not_read_as_one():
    num, bad, rules = read_amounts(pd.Series(["$10.00", "€12.00"]))
    assert bad.all() and not any(r.startswith("currency") for r in rules)


def test_encodings_with_a_byte_order_mark():
    assert detect_encoding(b"\xff\xfeO\x00") == "utf-16-le"
    assert detect_encoding(b"\xfe\xff\x00O") == "utf-16-be"
    assert detect_encoding(b"\xef\xbb\xbfDate") == "utf-8-sig"
    assert detect_encoding("Дата".encode()) == "utf-8"


def test_readers_are_registered_by_kind():
    assert set(READERS) == {"text", "excel", "parquet", "duckdb"}
    assert reader_for(Path("a.XLS")).kind == "excel" and reader_for(Path("a.ods")).kind == "excel"
    assert reader_for(Path("a.tsv")).kind == "text" and reader_for(Path("a.doc")) is None


# --------------------------------------------------------------------------- the corpus


LOADS = ["us_day_first.csv", "us_month_first.csv", "unicode_text.txt", "unicode_be.txt", "russian_bom.csv",
         "german.csv", "serial_dates.csv", "iso_zone.csv", "cover_sheet.xlsx", "sales.ods"]


@pytest.mark.parametrize("name", LOADS)
def test_each_export_proposes_the_required_columns_and_loads_to_the_cent(proposed, reference, name):
    proposal, report = proposed(name)  # report: load_sales(corpus[name], proposal.mapping()).report
    assert proposal.confident(), proposal.to_yaml()
    assert {c: proposal.chosen[c].source for c in ("date", "client_id", "amount")} in (
        {"date": "Order Date", "client_id": "Customer ID", "amount": "Sales"},
        {"date": "Дата", "client_id": "Контрагент", "amount": "Сумма"},
        {"date": "Rechnungsdatum", "client_id": "Kundennummer", "amount": "Umsatz"})
    assert report.rows_kept == reference.rows_kept
    assert round(report.revenue, 2) == round(reference.revenue, 2)
    assert set(report.guessed) >= {"date", "client_id", "amount"}


def test_the_committed_xls_loads_to_the_slice_totals():
    from exports import XLS
    full = load_sales(sample_slice()).report
    report = load_sales(XLS, propose(XLS).mapping()).report
    assert (report.rows_kept, round(report.revenue, 2)) == (full.rows_kept, round(full.revenue, 2))
    assert report.kind == "excel" and report.sheet == "Sales"


def test_what_was_detected_is_said(proposed):
    report = proposed("us_day_first.csv")[1]  # each loaded through its proposed mapping
    said = "; ".join(report.detected("en"))
    assert "encoding utf-8" in said and "dd/mm/yy (%d/%m/%y)" in said and "Sales: currency $" in said
    assert "Sales: parentheses" in said and "guessed columns: date, client_id, amount" in said
    utf16 = proposed("unicode_text.txt")[1]
    assert utf16.encoding == "utf-16-le" and utf16.delimiter == "\t"
    cover = proposed("cover_sheet.xlsx")[1]
    assert cover.sheet == "Orders"


def test_ambiguous_dates_stop_with_one_line_naming_both_formats(corpus):
    mapping = {"columns": {"date": "Order Date", "client_id": "Customer ID", "amount": "Sales"}}
    with pytest.raises(DataError) as err:
        load_sales(corpus["ambiguous.csv"], mapping)
    assert len(err.value.problems) == 1
    text = err.value.problems[0].describe()
    assert STOPS["ambiguous.csv"] in text and "date_format: '%m/%d/%Y'" in text and "\n" not in text


def test_an_unreadable_date_names_the_format_tried_and_the_one_the_values_have(corpus):
    mapping = {"columns": {"date": "Order Date", "client_id": "Customer ID", "amount": "Sales"},
               "read": {"date_format": "%Y-%m-%d"}}
    with pytest.raises(DataError) as err:
        load_sales(corpus["us_day_first.csv"], mapping)
    text = str(err.value)
    assert "yyyy-mm-dd (date_format '%Y-%m-%d')" in text and "look like dd/mm/yy (date_format '%d/%m/%y')" in text


def test_a_repeated_header_is_an_error_naming_its_line_unless_dropped(corpus, reference, lines):
    mapping = {"columns": {"date": "Order Date", "client_id": "Customer ID", "amount": "Sales"}}
    line = len(lines) // 2 + 1  # the header is line 1; the pasted one comes after half of the lines
    with pytest.raises(DataError, match=f"line {line}: 'Order Date'"):
        load_sales(corpus["pasted.csv"], mapping)
    report = load_sales(corpus["pasted.csv"], {**mapping, "read": {"repeated_headers": "drop"}}).report
    assert report.count("repeated_header") == 1 and report.rows_read == reference.rows_read + 1
    assert round(report.revenue, 2) == round(reference.revenue, 2)


def test_a_workbook_without_the_mapped_columns_lists_its_sheets(tmp_path):
    path = tmp_path / "two.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        pd.DataFrame({"Report": ["Sales"]}).to_excel(xl, sheet_name="Cover", index=False)
        pd.DataFrame({"When": ["2024-01-01"], "Who": ["A"]}).to_excel(xl, sheet_name="Data", index=False)
    with pytest.raises(DataError, match=r"sheets 'Cover' \(2 rows: Report\); 'Data' \(2 rows: When, Who\)"):
        load_sales(path)


def test_quantity_times_price_when_there_is_no_amount(lines):
    frame = pd.DataFrame({"InvoiceDate": lines.date, "Customer ID": lines.client_id,
                          "Quantity": lines.quantity, "Price": (lines.amount / lines.quantity).round(2)})
    from salesbook.data.propose import propose_frame
    proposal = propose_frame(frame, "frame")
    assert proposal.chosen["amount"].source == "`Quantity` * `Price`" or proposal.chosen["amount"].source == \
        "Quantity * Price"
    assert proposal.chosen["date"].source == "InvoiceDate" and proposal.chosen["client_id"].source == "Customer ID"


def test_salesbook_map_writes_a_mapping_that_loads(corpus, tmp_path, reference, capsys):
    from salesbook.run.cli import main
    out = tmp_path / "company.yml"
    assert main(["map", str(corpus["german.csv"]), "--write", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "date: Rechnungsdatum" in text and "# high" in text and "guessed:" in text
    assert round(load_sales(corpus["german.csv"], str(out)).report.revenue, 2) == round(reference.revenue, 2)


def test_validate_without_a_mapping_prints_the_proposal_and_the_command(corpus, capsys):
    from salesbook.run.cli import main
    assert main(["validate", str(corpus["us_day_first.csv"])]) == 1
    out = capsys.readouterr().out
    assert "required column is missing" in out and "date: Order Date" in out
    assert f"salesbook map {corpus['us_day_first.csv']} --write mapping.yml" in out


@pytest.mark.slow
def test_run_with_mapping_auto_completes_and_says_the_mapping_was_guessed(corpus, tmp_path):
    from salesbook.run.cli import main
    assert main(["run", "00", "--source", str(corpus["us_day_first.csv"]), "--mapping", "auto",
                 "--output", str(tmp_path), "--run-name", "auto", "--quiet", "--no-cache"]) == 0
    saved = (tmp_path / "auto" / "mapping.yml").read_text(encoding="utf-8")
    assert "amount: Sales" in saved
    index = (tmp_path / "auto" / "index.html").read_text(encoding="utf-8")
    assert "mapping was guessed" in index and 'href="mapping.yml"' in index
    page = (tmp_path / "auto" / "00_overview.html").read_text(encoding="utf-8")
    assert "dd/mm/yy" in page and "currency $" in page


def test_a_title_above_the_header_does_not_hide_the_columns_from_the_proposal():
    from salesbook import paths
    proposal = propose(paths.SAMPLE_DIR / "sales_1c_last_quarter.csv")  # cp1251, ';', two title lines
    assert {c: proposal.chosen[c].source for c in ("date", "client_id", "amount")} == \
        {"date": "Дата", "client_id": "Контрагент", "amount": "Сумма"}
    assert proposal.confident() and proposal.read == {"date_format": "%d.%m.%Y"}
