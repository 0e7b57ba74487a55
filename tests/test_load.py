"""Loading: formats, detection, the 1C preset, mappings, and every line accounted for."""


import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import salesbook as sb
from salesbook.errors import DataError
from salesbook.data.load import detect_date_format, detect_decimal, detect_delimiter, detect_encoding, parse_numbers
from tiers import examples  # fewer random examples in make test-fast (tests/tiers.py)


def write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


ONE_C = ("Продажи за период\r\n\r\n"
         "Дата;Контрагент;Менеджер;Номенклатура;Номенклатурная группа;Количество;Сумма\r\n"
         "05.01.2024;ООО \"Ромашка\";Иванов И.И.;Болт М8;Крепёж;1\u00a0000;12\u00a0345,50\r\n"
         "06.01.2024;ООО \"Ромашка\";Иванов И.И.;Гайка М8;Крепёж;10;1 000,00\r\n"
         "07.02.2024;АО Вектор;Петрова Е.С.;Сверло 6;Инструмент;2,5;-500,25\r\n"
         "Итого;;;;;1\u00a0012,5;12\u00a0845,25\r\n")


def test_1c_export_in_cp1251_loads_through_the_preset(tmp_path):
    path = write(tmp_path, "sales.csv", ONE_C, "cp1251")
    s = sb.load_sales(path, "1c")
    df = s.table.order_by("date").to_pandas()
    assert df.amount.tolist() == [12345.50, 1000.00, -500.25]
    assert df.quantity.tolist() == [1000.0, 10.0, 2.5]
    assert df.client_id.tolist() == ['ООО "Ромашка"', 'ООО "Ромашка"', "АО Вектор"]
    assert df.category.tolist() == ["Крепёж", "Крепёж", "Инструмент"]
    r = s.report
    assert (r.encoding, r.delimiter, r.header_line, r.date_format) == ("cp1251", ";", 3, "%d.%m.%Y")
    assert r.count("total_row") == 1 and r.count("return") == 1
    assert r.rows_read == 4 and r.rows_kept == 3 and r.balanced
    # the total row is on line 7 of the file, as an editor numbers it
    assert next(ln for ln in r.lines if ln.reason == "total_row").rows == [7]


def test_1c_export_in_utf8_with_bom_gives_the_same_lines(tmp_path):
    a = sb.load_sales(write(tmp_path, "a.csv", ONE_C, "cp1251"), "1c").table.order_by("date").to_pandas()
    b = sb.load_sales(write(tmp_path, "b.csv", "\ufeff" + ONE_C, "utf-8"), "1c")
    assert b.report.encoding == "utf-8-sig"
    pd.testing.assert_frame_equal(a, b.table.order_by("date").to_pandas())


def test_detection_of_encoding_delimiter_decimal_and_dates():
    assert detect_encoding("Дата".encode("cp1251")) == "cp1251"
    assert detect_encoding("Дата".encode("utf-8")) == "utf-8"
    assert detect_delimiter("a;b;c\n1;2,5;3\n4;5;6\n") == ";"
    assert detect_delimiter("a,b,c\n1,2.5,3\n4,5,6\n") == ","
    assert detect_decimal(pd.Series(["1 234,50", "12,00", "7"])) == ","
    assert detect_decimal(pd.Series(["1,234.50", "12.00", "7"])) == "."
    assert detect_date_format(pd.Series(["31.01.2024", "01.02.2024"])) == "%d.%m.%Y"
    assert detect_date_format(pd.Series(["2024-01-31 10:00:00"])) == "%Y-%m-%d %H:%M:%S"
    # 13/01 cannot be month 13: day first
    assert detect_date_format(pd.Series(["13/01/2024", "02/01/2024"])) == "%d/%m/%Y"


def test_numbers_with_nbsp_thousands_and_decimal_comma_parse_exactly():
    num, bad = parse_numbers(pd.Series(["1\u00a0234,56", "1 000", "(12,50)", "-3,5", "", "12О,5"]), ",")
    assert num.iloc[:4].tolist() == [1234.56, 1000.0, -12.5, -3.5]
    assert bad.tolist() == [False, False, False, False, False, True]


def test_mapping_combines_columns_into_amount(tmp_path):
    path = write(tmp_path, "s.csv", "Day,Customer ID,Qty,Unit Price\n2024-01-02,17,3,2.50\n2024-01-03,18.0,2,10\n")
    m = {"columns": {"date": "Day", "client_id": "Customer ID", "quantity": "Qty", "amount": "Qty * `Unit Price`"}}
    df = sb.load_sales(path, m).table.order_by("date").to_pandas()
    assert df.amount.tolist() == [7.5, 20.0]
    assert df.client_id.tolist() == ["17", "18"]


def test_mapping_rejects_unknown_canonical_names():
    with pytest.raises(DataError, match="unknown canonical column 'amout'"):
        sb.load_mapping({"columns": {"amout": "Sum"}})


def test_bad_date_bad_amount_and_missing_column_are_reported_together(tmp_path):
    path = write(tmp_path, "bad.csv", "Дата;Клиент;Сумма\n01.02.2024;А;1 234,50\n31.02.2024;Б;100\n05.03.2024;В;abc\n")
    with pytest.raises(DataError) as err:
        sb.load_sales(path, "1c")
    text = str(err.value)
    assert str(path) in text and "3 problems" in text
    assert "column 'client_id'" in text and "'Клиент'" in text  # what is missing, what the file has
    assert "line 3: '31.02.2024'" in text and "dd.mm.yyyy" in text
    assert "line 4: 'abc'" in text and "column 'amount' (source column 'Сумма')" in text


def test_unreadable_values_can_be_dropped_and_counted_instead(tmp_path):
    path = write(tmp_path, "bad.csv", "date,client_id,amount\n2024-01-02,A,10\n2024-13-02,B,20\n2024-01-03,C,x\n")
    s = sb.load_sales(path, bad_values="drop")
    assert s.report.count("bad_value") == 2 and s.report.rows_kept == 1 and s.report.balanced


def test_empty_file_and_missing_file_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="empty"):
        sb.load_sales(write(tmp_path, "e.csv", ""))
    with pytest.raises(DataError, match="not found"):
        sb.load_sales(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="no sales lines"):
        sb.load_sales(write(tmp_path, "h.csv", "date,client_id,amount\n"))


def test_cleaning_counts_each_line_under_its_first_reason(lines):
    df = pd.concat([lines, lines.iloc[[0]]], ignore_index=True)  # one exact duplicate
    df.loc[len(df)] = df.iloc[1].copy()
    df.loc[len(df) - 1, "client_id"] = None  # no client
    df.loc[len(df)] = df.iloc[2].copy()
    df.loc[len(df) - 1, ["date", "amount"]] = [pd.Timestamp("2030-01-01"), 0.0]  # after as_of (not zero)
    s = sb.load_sales(df, as_of="2024-12-31")
    r = s.report
    assert r.count("duplicate") == 1 and r.count("no_client") == 1 and r.count("after_as_of") == 1
    assert r.count("zero_amount") == 0 and r.count("return") == 1
    assert r.rows_read == 10 and r.rows_kept == 7 and r.balanced
    assert s.table.amount.sum().execute() == pytest.approx(lines.amount.sum())


def test_clean_lines_have_every_required_value_and_the_schema_checks_types(lines):
    """The schema is checked for its columns and types only (no query per column): the cleaning itself leaves no
    line without a date, a client or an amount, here with a line lacking each; a column of the wrong type is
    still a DataError naming it."""
    import ibis
    from salesbook.data.validate import check_schema
    df = pd.concat([lines] + [lines.iloc[[i]].assign(**{c: None}) for i, c in
                              enumerate(("date", "client_id", "amount"))], ignore_index=True)
    s = sb.load_sales(df, as_of="2024-12-31")
    nulls = s.table.aggregate(**{c: s.table[c].isnull().sum() for c in ("date", "client_id", "amount")}).execute()
    assert nulls.iloc[0].tolist() == [0, 0, 0] and s.report.rows_kept == len(lines)
    assert s.report.count("bad_date") + s.report.count("no_client") + s.report.count("bad_amount") == 3
    wrong = s.table.mutate(amount=s.table.amount.cast("string"))
    with pytest.raises(DataError) as err:
        check_schema(wrong, "x.csv")
    assert "amount" in str(err.value)
    assert isinstance(check_schema(s.table, "x.csv"), ibis.Table)


def test_return_policy_drop_removes_negative_lines(lines):
    s = sb.load_sales(lines, returns="drop")
    assert s.report.count("return") == 1 and s.report.rows_kept == 6
    assert s.table.amount.min().execute() > 0


def test_future_lines_can_be_an_error(lines):
    with pytest.raises(DataError, match="after the analysis date 2024-03-31"):
        sb.load_sales(lines, as_of="2024-03-31", future="raise")


def test_excel_export_loads_with_row_numbers(tmp_path, lines):
    path = tmp_path / "s.xlsx"
    out = lines.rename(columns={"date": "Дата", "client_id": "Контрагент", "amount": "Сумма",
                                "manager": "Менеджер", "quantity": "Количество"})
    out = out[["Дата", "Контрагент", "Менеджер", "Количество", "Сумма"]]
    out = out.astype(object)
    out.loc[len(out)] = ["Итого", None, None, None, out["Сумма"].sum()]
    out.to_excel(path, index=False)
    s = sb.load_sales(path, "1c")
    assert s.report.rows_kept == 7 and s.report.count("total_row") == 1
    assert s.report.lines[0].rows == [9]  # header on Excel row 1, 7 lines, then the total
    assert s.table.amount.sum().execute() == pytest.approx(lines.amount.sum())


def test_a_duckdb_table_loads_like_a_file(tmp_path, lines):
    import duckdb
    db = tmp_path / "erp.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create table sales as select * from lines")
    con.close()
    s = sb.load_sales(db, table="sales")
    assert s.report.rows_kept == 7


@settings(max_examples=examples(25), deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", None]), st.integers(0, 40),
                          st.sampled_from([-50.0, 0.0, 10.0, 10.0, 99.5])), min_size=1, max_size=40))
def test_every_line_read_is_kept_or_dropped_with_a_reason(rows):
    df = pd.DataFrame(rows, columns=["client_id", "day", "amount"])
    df["date"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(df.pop("day"), unit="D")
    try:
        s = sb.load_sales(df, as_of="2024-01-31")
    except DataError as exc:  # nothing left: must say so
        assert "no sales lines" in str(exc)
        return
    r = s.report
    assert r.balanced
    assert r.rows_kept == s.table.count().execute()
    kept = df[df.client_id.notna() & (df.date <= "2024-01-31")].drop_duplicates()
    kept = kept[kept.amount != 0]
    assert r.rows_kept == len(kept)
    assert s.table.amount.sum().execute() == pytest.approx(kept.amount.sum())


@settings(max_examples=examples(20), deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", None]), st.integers(0, 40),
                          st.sampled_from([-50.0, 0.0, 10.0, 10.0, 99.5]), st.sampled_from(["p1", "p1", "p2"])),
                min_size=1, max_size=40),
       st.sampled_from(["drop", "keep"]), st.sampled_from(["net", "drop"]))
def test_staged_load_accounts_and_keeps_the_same_lines_as_the_lazy_one(rows, duplicates, returns):
    """load_sales(stage=file) computes the checked lines once into a Parquet file, stage=True in the engine
    (as get_cube does, keeping only some columns); every count, amount and kept line must be what the
    one-expression load gives (lines that differ only in a column not kept are still not duplicates),
    and materialize must leave the clean lines in the file."""
    import tempfile
    from pathlib import Path
    df = pd.DataFrame(rows, columns=["client_id", "day", "amount", "product_name"])
    df["date"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(df.pop("day"), unit="D")
    opts = {"as_of": "2024-01-31", "duplicates": duplicates, "returns": returns}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src.parquet"
        df.to_parquet(src)
        try:
            lazy = sb.load_sales(src, **opts)
        except DataError:
            with pytest.raises(DataError, match="no sales lines"):
                sb.load_sales(src, stage=Path(tmp) / "lines.parquet", **opts)
            with pytest.raises(DataError, match="no sales lines"):
                sb.load_sales(src, stage=True, columns=["client_id"], **opts)
            return
        staged = sb.load_sales(src, stage=Path(tmp) / "lines.parquet", **opts)
        in_engine = sb.load_sales(src, stage=True, columns=["client_id"], **opts)
        assert in_engine.file is None  # nothing written
        assert in_engine.table.columns == ("date", "client_id", "amount")  # the required ones always
        as_rows = lambda r: [(ln.reason, ln.count, ln.action, round(ln.amount, 2)) for ln in r.lines]  # noqa: E731
        key = ["client_id", "date", "amount"]
        want = lazy.table.to_pandas()[key].sort_values(key, ignore_index=True)
        for other in (staged, in_engine):
            assert as_rows(other.report) == as_rows(lazy.report)
            assert (other.report.rows_read, other.report.rows_kept) == (lazy.report.rows_read, lazy.report.rows_kept)
            assert other.table.to_pandas()[key].sort_values(key, ignore_index=True).equals(want)
        done = staged.materialize(Path(tmp) / "lines.parquet")  # the file now holds exactly the clean lines
        assert done.file == Path(tmp) / "lines.parquet"
        on_disk = pd.read_parquet(done.file)[key].astype({"date": "datetime64[us]"})
        assert on_disk.sort_values(key, ignore_index=True).equals(want.astype({"date": "datetime64[us]"}))


def test_text_is_stripped_of_whitespace_at_its_ends_as_python_strips_it():
    """The load's strip tests only the codes of a value's two ends (every whitespace character is at most 32):
    the same values as Python's str.strip over string.whitespace, for each kind of whitespace at either end, control
    characters that are not whitespace, non-breaking spaces (kept), Cyrillic text, empty and missing values."""
    import string

    import ibis

    from salesbook.data.load import _strip
    values = ["a", " a", "a ", "\ta\n", "\x0ba\x0c", "\ra", "", None, "Жук ", " Жук", "\u00a0x", "x\u00a0", " ",
              "\x01a", "a\x1f", " \u00a0 a\u00a0 ", " 13.00 ", "a b", "\n\n"]
    t = ibis.memtable(pd.DataFrame({"v": pd.Series(values, dtype=object)}))
    got = ibis.duckdb.connect().execute(t.select(s=_strip(t.v)))["s"].tolist()
    assert [None if pd.isna(g) else g for g in got] == [None if v is None else v.strip(string.whitespace)
                                                        for v in values]


def test_an_id_held_as_a_number_is_its_text_once_without_the_steps_for_text(tmp_path):
    """A numeric column mapped to an id (the Online Retail file's float Customer ID) becomes its text in one
    conversion: integral values without ".0", others as written, missing values missing. The steps for text (strip,
    empty to missing, "18.0" to "18") change nothing a number's text can hold, and are not in its expression: they
    repeated the conversion inside it, up to eight times a line."""
    import ibis
    from salesbook.data import load
    path = tmp_path / "n.parquet"
    pd.DataFrame({"date": pd.to_datetime(["2024-01-02"] * 5), "client_id": [13085.0, 12.5, None, -3.0, 1e5],
                  "amount": [1.0] * 5, "product_id": pd.array([18, 7, 7, 1, 2], dtype="int64")}).to_parquet(path)
    raw = ibis.duckdb.connect().read_parquet(str(path))
    canon, _, problems = load._canonical(raw, load.load_mapping(None), str(path))
    assert not problems
    got = canon.select("client_id", "product_id").to_pandas()
    assert got.client_id.tolist()[:2] == ["13085", "12.5"] and pd.isna(got.client_id[2])
    assert got.client_id.tolist()[3:] == ["-3", "100000"] and got.product_id.tolist() == ["18", "7", "7", "1", "2"]
    sql = raw.get_backend().compile(canon.select("client_id", "product_id"))
    sql = sql.lower().split(" from ")[0]  # the expressions, not the table's generated name
    assert "trim" not in sql and "regexp" not in sql and "nullif" not in sql and sql.count("floor") == 1, sql
