"""Segmentation: each category rule and its boundaries by hand, invariants, the sample, exports."""

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import salesbook as sb
from salesbook.cube.profile import Evidence, data_profile
from salesbook import paths
from salesbook.analysis import segments as sg
from salesbook.views import segment_views as sv
from salesbook.views.export import inert, to_csv, to_excel
from salesbook.data.sample import HOSTILE_NAME
from tiers import examples  # fewer random examples in make test-fast (tests/tiers.py)

AS_OF = pd.Timestamp("2024-12-31")


def cube_of(purchases, as_of=AS_OF):
    """purchases: (client, date, amount[, category]) -> a cube at as_of."""
    rows = []
    for i, p in enumerate(purchases):
        client, day, amount = p[:3]
        rows.append({"date": pd.Timestamp(day), "client_id": client, "amount": float(amount),
                     "category": p[3] if len(p) > 3 else "x", "manager": "M", "order_id": f"o{i}"})
    # stage=True: the clean lines computed once in the engine, as get_cube does (the same lines as the lazy load)
    cube = sb.build_cube(sb.load_sales(pd.DataFrame(rows), as_of=as_of, stage=True))
    # hand-typed histories of a few clients: every first purchase is a first purchase (no lead-in)
    cube.profile = data_profile(cube, Evidence(lead_in_months=0))
    return cube


def monthly(client, start, end, amount=100.0, day=15, category="x"):
    return [(client, d, amount, category) for d in pd.date_range(start, end, freq="MS") + pd.Timedelta(days=day - 1)]


def category(purchases, client, **rules):
    return sg.classify_clients(cube_of(purchases), AS_OF, sg.Rules(**rules)).loc[client, "category"]


def test_new_client_first_purchase_one_day_inside_six_months():
    assert category([("a", "2024-07-01", 50)], "a") == "new"


def test_client_whose_first_purchase_is_exactly_six_months_old_is_not_new():
    # 2024-06-30 is as_of minus 6 months: outside "within the last 6 months"; one order -> One-off
    assert category([("a", "2024-06-30", 50)], "a") == "one_off"


def test_client_with_one_order_long_ago_is_one_off_not_sleeping():
    assert category([("a", "2022-03-01", 50)], "a") == "one_off"


def test_comeback_after_exactly_six_months_is_reactivated_and_one_day_less_is_not():
    base = monthly("a", "2022-01-01", "2024-04-01")  # last before the gap: 2024-04-15
    assert category(base + [("a", "2024-10-15", 80)], "a") == "reactivated"
    assert category(base + [("a", "2024-10-14", 80)], "a") != "reactivated"


def test_comeback_older_than_three_months_is_not_reactivated():
    base = monthly("a", "2022-01-01", "2023-12-01")
    assert category(base + [("a", "2024-09-30", 80)], "a") != "reactivated"  # as_of - 3 months is 2024-09-30
    assert category(base + [("a", "2024-10-01", 80)], "a") == "reactivated"


def test_monthly_buyer_silent_one_day_past_six_months_is_sleeping():
    assert category(monthly("a", "2022-01-01", "2024-05-01") + [("a", "2024-06-29", 10)], "a") == "sleeping"
    # exactly six months of silence is not "longer than": still a buyer of 6 of the last 12 months
    assert category(monthly("a", "2022-01-01", "2024-05-01") + [("a", "2024-06-30", 10)], "a") == "regular"


def test_slow_buyer_is_not_sleeping_within_three_usual_gaps():
    # buys every ~4 months; last purchase 7 months ago is under 3 x 120 days
    dates = pd.date_range("2021-01-10", "2024-05-10", freq="4MS") + pd.Timedelta(days=9)
    buys = [("a", d, 100) for d in dates]
    cube = cube_of(buys)  # one company, classified under two rules
    c = sg.classify_clients(cube, AS_OF)
    assert c.loc["a", "idle_days"] > 183 and c.loc["a", "category"] != "sleeping"
    assert sg.classify_clients(cube, AS_OF, sg.Rules(sleeping_gap_multiple=1.0)).loc["a", "category"] == "sleeping"


def test_vip_needs_class_a_and_nine_active_months():
    small = monthly("s", "2023-01-01", "2024-12-01", amount=1)
    vip = monthly("v", "2023-01-01", "2024-12-01", amount=1000)
    assert category(vip + small, "v") == "vip"
    eight = [p for p in vip if not ("2024-01-01" <= str(p[1].date()) < "2024-05-01")]  # 8 of 12 active
    cube = cube_of(eight + small)  # one company, classified under two rules
    assert sg.classify_clients(cube, AS_OF, sg.Rules()).loc["v", "category"] == "regular"
    assert sg.classify_clients(cube, AS_OF, sg.Rules(vip_active_months=8)).loc["v", "category"] == "vip"


def test_partner_tenure_activity_and_three_categories():
    big = monthly("big", "2021-01-01", "2024-12-01", amount=10_000)
    cats = [p[:3] + (c,) for p, c in zip(monthly("p", "2021-01-01", "2024-12-01"), "xyz" * 20)]
    assert category(big + cats, "p") == "partner"
    two = [p[:3] + (c,) for p, c in zip(monthly("p", "2021-01-01", "2024-12-01"), "xy" * 30)]
    assert category(big + two, "p") == "regular"
    young = [p for p in cats if p[1] >= pd.Timestamp("2022-02-01")]  # 35 months of tenure
    assert category(big + young, "p") == "regular"


def test_regular_needs_six_active_months():
    big = monthly("big", "2022-01-01", "2024-12-01", amount=10_000)
    six = monthly("r", "2024-07-01", "2024-12-01") + [("r", "2022-01-05", 100)]
    assert category(big + six, "r") == "regular"
    five = monthly("r", "2024-08-01", "2024-12-01") + [("r", "2022-01-05", 100)]
    assert category(big + five, "r") in {"prospective", "periodic"}


def test_prospective_at_the_growth_threshold_and_periodic_just_below():
    big = monthly("big", "2022-01-01", "2024-12-01", amount=10_000)
    prev = [("p", "2023-03-10", 100), ("p", "2023-09-10", 100)]
    assert category(big + prev + [("p", "2024-02-10", 130), ("p", "2024-06-10", 130)], "p") == "prospective"
    assert category(big + prev + [("p", "2024-02-10", 129), ("p", "2024-06-10", 130)], "p") == "periodic"


def test_every_reason_quotes_the_rule_that_fired():
    c = sg.classify_clients(cube_of(monthly("a", "2022-01-01", "2024-12-01")), AS_OF, lang="ru")
    assert c.loc["a", "category"] == "vip"  # the only client: class A, 12 of 12
    assert c.loc["a", "reason"].startswith("VIP: класс A") and "12 из последних 12" in c.loc["a", "reason"]


def test_abc_by_hand_and_d_for_no_purchase_in_window():
    buys = [("a", "2024-05-01", 50), ("b", "2024-05-01", 30), ("c", "2024-05-01", 15), ("d", "2024-05-01", 5),
            ("e", "2022-05-01", 99)]
    abc = sg.abc_xyz(cube_of(buys), AS_OF)
    # cumulative share before each client: 0, .5, .8, .95 -> A, A, B, C
    assert abc.abc.to_dict() == {"a": "A", "b": "A", "c": "B", "d": "C", "e": "D"}
    assert abc.share.sum() == pytest.approx(1.0)


def test_xyz_is_the_coefficient_of_variation_of_monthly_revenue():
    buys = [("a", f"2024-{m:02d}-10", v) for m, v in zip(range(1, 13), [10, 20, 30, 40, 10, 20, 30, 40, 10, 20, 30, 40])]
    abc = sg.abc_xyz(cube_of(buys), AS_OF)
    v = np.array([10, 20, 30, 40] * 3, dtype=float)
    assert abc.loc["a", "cv"] == pytest.approx(v.std() / v.mean())
    assert abc.loc["a", "xyz"] == "X"  # 0.447 <= 0.5


@settings(max_examples=examples(15), deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(0, 1400), st.integers(-20, 500)),
                min_size=1, max_size=60))
def test_invariants_one_category_each_abc_shares_and_rfm_scores(rows):
    buys = [(c, pd.Timestamp("2021-01-01") + pd.Timedelta(days=d), a) for c, d, a in rows if a != 0]
    if not any(a > 0 for _, _, a in buys):
        return
    try:
        cube = cube_of(buys)
    except sb.DataError:
        return
    known = cube.client_day[cube.client_day.orders > 0].client_id.unique()
    classes = sg.classify_clients(cube, AS_OF)
    assert classes.index.is_unique and set(classes.index) == set(known)
    assert classes.category.isin(sg.CATEGORIES).all()
    abc = sg.abc_xyz(cube, AS_OF)
    if (abc.value > 0).any():
        assert abc.share.sum() == pytest.approx(1.0)
    scores = sg.rfm(cube, AS_OF)
    assert scores[["r", "f", "m"]].isin([1, 2, 3, 4, 5]).all().all()
    assert (scores.segment != "").all()


def test_sample_planted_sleepers_and_comebacks_are_found():
    planted = json.loads((paths.SAMPLE_DIR / "planted.json").read_text(encoding="utf-8"))
    classes = sg.classify_clients(sb.get_cube("sample"))
    assert (classes.loc[planted["sleeping_clients"], "category"] == "sleeping").all()
    assert (classes.loc[planted["reactivated_clients"], "category"] == "reactivated").all()


def test_migration_matrix_counts_every_client_once():
    cube = sb.get_cube("sample")
    matrix, moves = sg.migration(cube, "2025-10-31")
    assert matrix.values.sum() == len(moves) == len(sg.classify_clients(cube))
    assert matrix.loc["absent"].sum() == (moves["from"] == "absent").sum()


def test_hostile_client_name_is_inert_in_excel_and_csv(tmp_path):
    df = pd.DataFrame({"client": [HOSTILE_NAME, "+7 Trade", "-Minus", "@home", "Plain"], "revenue": [1.0, -2.0, 3, 4, 5]})
    xlsx = to_excel({"=cmd|' /C calc'!A0": df}, tmp_path / "l.xlsx", df, "Summary")
    with zipfile.ZipFile(xlsx) as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    assert "<f>" not in xml and "<f " not in xml  # no formula anywhere
    from openpyxl import load_workbook
    wb = load_workbook(xlsx)
    ws = wb.worksheets[1]
    values = [ws.cell(row=r, column=1).value for r in range(4, 9)]
    assert values[0] == "'" + HOSTILE_NAME and values[1:4] == ["'+7 Trade", "'-Minus", "'@home"]
    assert values[4] == "Plain" and ws.cell(row=5, column=2).value == -2.0  # numbers stay numbers
    assert all(ws.cell(row=r, column=1).data_type == "s" for r in range(4, 9))
    text = to_csv(df, tmp_path / "l.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=" not in text
    assert inert("=1+1") == "'=1+1" and inert(5) == 5


def test_inert_frame_neutralises_each_risky_text_as_inert_does_cell_by_cell():
    """The CSV exports test a text column whole: the same result as :func:`inert` on every cell (text
    columns of both kinds, missing values, numbers and texts mixed in a column of objects, headers)."""
    from salesbook.views.export import _inert_frame
    df = pd.DataFrame({
        "=name": pd.array(["=1+1", "+7 Trade", None, "-x", "@a", "\tt", "\rr", "plain", "'=already", ""], dtype="str"),
        "mixed": pd.Series(["=a", 5, None, -3.5, "-b", True, float("nan"), "ok", "+", "@"], dtype=object),
        "amount": np.arange(10, dtype=float) - 5,
        "day": pd.date_range("2026-01-01", periods=10),
    })
    got = _inert_frame(df)
    assert list(got.columns) == ["'=name", "mixed", "amount", "day"]
    for j, col in enumerate(df.columns):
        want = [inert(v) for v in df[col].tolist()]
        have = got.iloc[:, j].tolist()
        assert [(type(a), a) if a == a else None for a in have] == [(type(b), b) if b == b else None for b in want], col
        assert got.iloc[:, j].dtype == df[col].dtype, col
    assert df["=name"].tolist()[0] == "=1+1"  # the caller's frame unchanged


def _per_cell_reference(path, df, money, shares):
    """The list as salesbook wrote it before, one XlsxWriter call per cell (constant-memory mode): the
    reference the faster row writer must equal."""
    import xlsxwriter
    from datetime import date
    with xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False, "strings_to_numbers": False}) as wb:
        fmt = {"text": wb.add_format({"text_wrap": True, "valign": "top"}),
               "date": wb.add_format({"num_format": "yyyy-mm-dd", "valign": "top"}),
               "money": wb.add_format({"num_format": "#,##0", "valign": "top"}),
               "number": wb.add_format({"num_format": "#,##0.00", "valign": "top"}),
               "share": wb.add_format({"num_format": "0.0%", "valign": "top"})}
        ws = wb.add_worksheet("list")
        number_format = [fmt["share"] if c in shares else fmt["money"] if c in money or
                         pd.api.types.is_integer_dtype(d) else fmt["number"] for c, d in df.dtypes.items()]
        for i, row in enumerate(zip(*[df[c].tolist() for c in df.columns]), 3):
            for j, value in enumerate(row):
                if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
                    continue
                if isinstance(value, bool) or not isinstance(value, (int, float, date)):
                    ws.write_string(i, j, inert(str(value)), fmt["text"])
                elif isinstance(value, date):
                    ws.write_datetime(i, j, pd.Timestamp(value).to_pydatetime(), fmt["date"])
                elif isinstance(value, float) and value == int(value) and number_format[j] is fmt["number"]:
                    ws.write_number(i, j, value, fmt["money"])
                else:
                    ws.write_number(i, j, value, number_format[j])
    return path


def test_list_rows_are_the_cells_xlsxwriter_wrote_one_by_one(tmp_path):
    """The list rows are written as sheet XML by salesbook (XlsxWriter's per-cell path was most of a long
    export's time): every cell equals what XlsxWriter wrote cell by cell: its text, escapes (control characters,
    a literal ``_x0041_``, markup, blanks at the ends, Excel's 32,767-character cut, a character beyond
    U+FFFF), numbers to the last digit, dates, booleans as text, missing values as no cell, and formats."""
    import re
    import zipfile
    from datetime import date, datetime
    from openpyxl import load_workbook
    long = "x" * 40_000
    df = pd.DataFrame({
        "client": [HOSTILE_NAME, "=1+1", " lead and trail ", "ctl\x01\x1f_x0041_", "a<b>&c \"q\"", long, "😀" * 20_000,
                   None, True, "Plain"],
        "whole": [1.0, 2.5, -3.0, 1e15, 0.1, float("nan"), 123456789.125, -0.0, 7.0, 1 / 3],
        "count": np.arange(10, dtype="int64") * 1_000_000_007,
        "revenue": [1.5, 2.0, float("nan"), -4.25, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
        "share": [0.25, 0.5, 1.0, 0.0, 0.125, 0.3, 0.7, 0.9, 0.01, 0.99],
        "day": [date(2024, 2, 29), datetime(2025, 1, 1, 12, 30), pd.Timestamp("2026-10-31"), pd.NaT, None,
                date(2000, 1, 1), date(1999, 12, 31), date(2026, 1, 1), date(2026, 6, 30), date(2010, 3, 1)],
        "flag": [True, False, None, True, False, True, False, True, False, True],
    })
    ours = to_excel({"list": df}, tmp_path / "ours.xlsx", None, "Summary", {"revenue"}, shares={"share"})
    theirs = _per_cell_reference(tmp_path / "theirs.xlsx", df, {"revenue"}, {"share"})

    def rows(path, sheet, first):
        with zipfile.ZipFile(path) as z:
            xml = z.read(f"xl/worksheets/{sheet}.xml").decode("utf-8")
        found = re.findall(r'<row r="(\d+)"[^>]*>(.*?)</row>', xml)
        return [re.sub(r' s="\d+"', "", cells) for r, cells in found if int(r) >= first]
    # the same XML for every list cell (style numbers aside: the two workbooks number their formats apart)
    assert rows(ours, "sheet2", 4) == rows(theirs, "sheet1", 4) and len(rows(ours, "sheet2", 4)) == 10
    a, b = load_workbook(ours).worksheets[1], load_workbook(theirs).worksheets[0]
    for r in range(4, 14):
        for c in range(1, len(df.columns) + 1):
            x, y = a.cell(r, c), b.cell(r, c)
            assert (x.value, x.data_type, x.number_format, x.alignment.wrap_text) == \
                   (y.value, y.data_type, y.number_format, y.alignment.wrap_text), (r, c, x.value, y.value)
    assert a.cell(4, 1).value == "'" + HOSTILE_NAME and a.cell(13, 2).number_format == "#,##0.00"
    assert a.cell(5, 2).value == 2.5 and a.cell(4, 2).number_format == "#,##0"  # a whole float shows no decimals
    assert a.cell(7, 3).value == 3 * 1_000_000_007 and a.cell(4, 6).value == datetime(2024, 2, 29)
    assert len(a.cell(9, 1).value) == 32_767 and a.cell(11, 1).value is None  # Excel's cut; a missing name
    with pytest.raises(ValueError, match="B4: inf"):  # never a file Excel must repair
        to_excel({"list": df.assign(whole=np.inf)}, tmp_path / "inf.xlsx")


@pytest.mark.parametrize("rows", [3, 10_001])  # in memory, and beyond SMALL_CELLS through temporary files
def test_a_call_list_boxes_its_call_columns_on_every_row_and_no_further(tmp_path, rows):
    """The call columns are empty boxes to write in: a bordered range over exactly the list's rows (one
    conditional format, no cell of their own), so the sheet's data stay the list's."""
    from openpyxl import load_workbook
    from salesbook.views.export import call_columns
    from salesbook.views.export import SMALL_CELLS
    df = pd.DataFrame({"client": [f"c{i}" for i in range(rows)], "revenue": np.arange(rows, dtype=float)})
    assert (df.size > SMALL_CELLS) == (rows > 3)
    xlsx = to_excel({"Ivanov": df}, tmp_path / "calls.xlsx", df.head(2), "Summary", call_columns=call_columns())
    wb = load_workbook(xlsx)
    ws = wb.worksheets[1]
    assert [c.value for c in ws[3]] == ["client", "revenue"] + call_columns()
    ranges = [(str(r.sqref), rule) for r in ws.conditional_formatting for rule in r.rules]
    assert len(ranges) == 1
    sqref, rule = ranges[0]
    assert sqref == f"C4:E{3 + rows}"  # the three call columns, from the first row of the list to its last
    assert rule.dxf.border.left.style == "thin" and rule.dxf.border.bottom.style == "thin"
    assert ws.max_row == 3 + rows and ws.cell(3 + rows, 5).value is None
    # the summary sheet is not a call list
    assert not list(wb.worksheets[0].conditional_formatting)


@pytest.mark.slow
def test_segmentation_workbook_runs_with_non_default_parameters(tmp_path):
    from salesbook.run.runner import run
    params = {"01": {"window_months": 6, "abc_a": 0.7, "sleeping_min_months": 9, "compare_to": "2026-04-30",
                     "interactive": False}}
    result = run(["01"], lang="ru", out=tmp_path, run_name="seg", parameters=params)
    page = (result.folder / "01_segmentation.html").read_text(encoding="utf-8")
    assert "Сегментация" in page and "<td><code>compare_to</code></td><td><code>\"2026-04-30\"</code></td>" in page  # parameters it ran with
    assert '<html lang="ru">' in page
    assert "<script>alert(1)</script>" not in page
    wb = result.folder / "exports" / "reactivation_lists.xlsx"
    assert wb.exists() and 'href="exports/reactivation_lists.xlsx"' in page
    from openpyxl import load_workbook
    sheets = load_workbook(wb).sheetnames
    assert sheets[0] == "По менеджерам" and len(sheets) > 10


def test_migration_export_is_two_sheets_the_matrix_and_every_move_in_one_list(tmp_path):
    """Issue 24: migration.xlsx had one sheet per changed cell of the matrix (50 on the sample). Now: the
    matrix, and one list of every client that moved, its move in a column a filter narrows to one cell."""
    cube = sb.get_cube("sample")
    matrix, moves = sg.migration(cube, "2025-10-31")
    from openpyxl import load_workbook
    wb = load_workbook(sv.export_migration(matrix, moves, tmp_path, "ru"))
    assert wb.sheetnames == ["Переходы", "Клиенты переходов"]
    assert wb.worksheets[0]["A1"].value == "Переходы между категориями"  # the full title on the sheet
    ws = wb["Клиенты переходов"]
    header = [c.value for c in ws[3]]
    assert header[:4] == ["Переход (откуда → куда)", "Код клиента", "Клиент", "Менеджер"]
    assert header[4].endswith(", ₽")
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    changed = moves[moves["from"] != moves["to"]]
    assert len(rows) == len(changed)  # every mover once, nobody who stayed
    # each cell of the matrix off its diagonal counts the rows of its move
    from salesbook.i18n import t
    counted = pd.Series([r[0] for r in rows]).value_counts()
    for (a, b), n in changed.groupby(["from", "to"]).size().items():
        assert counted[f"{t(f'cat.{a}', 'ru')} → {t(f'cat.{b}', 'ru')}"] == n == matrix.loc[a, b]
    # within one move, the largest revenue first
    first = [r for r in rows if r[0] == rows[0][0]]
    assert [r[4] for r in first] == sorted((r[4] for r in first), reverse=True)


def test_abc_by_margin_uses_cost_and_needs_it():
    rows = pd.DataFrame({"date": pd.to_datetime(["2024-06-01"] * 3), "client_id": ["a", "b", "c"],
                         "amount": [100.0, 100.0, 100.0], "cost": [90.0, 10.0, 50.0]})
    cube = sb.build_cube(sb.load_sales(rows, as_of=AS_OF, stage=True))
    abc = sg.abc_xyz(cube, AS_OF, measure="margin")
    assert abc.value.to_dict() == {"b": 90.0, "c": 50.0, "a": 10.0}
    assert abc.abc.to_dict() == {"b": "A", "c": "A", "a": "B"}  # share before: 0, 0.6, 0.933 (< 0.95)
    with pytest.raises(ValueError, match="cost"):
        sg.abc_xyz(cube_of([("a", "2024-06-01", 5)]), AS_OF, measure="margin")
