"""The revenue walk: textbook price-volume-mix by hand, client flow, products that come and go, and the
steps adding up to the change to the cent (by hand, on random lines, and on the sample against the bridge)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_

import salesbook as sb
from salesbook.cube.profile import Evidence, data_profile
from salesbook.analysis import stagnation as st
from salesbook.analysis import walk as wk

AS_OF = "2024-12-31"  # the walk: 2024 against 2023


def cube_of(rows, as_of=AS_OF, drop=()):
    """rows: (client, date, product, category, quantity, amount); a filler client buys the same on the
    first and the last day, so that the data cover both windows and its steps are all zero."""
    rows = list(rows) + [("F", "2023-01-01", "Z", "K", 1, 100.0), ("F", "2024-12-31", "Z", "K", 1, 100.0)]
    df = pd.DataFrame([{"date": pd.Timestamp(d), "client_id": c, "product_id": p, "category": k,
                        "quantity": float(q), "amount": float(a), "order_id": f"o{i}", "manager": "M" + c[0]}
                       for i, (c, d, p, k, q, a) in enumerate(rows)]).drop(columns=list(drop))
    # stage=True: the clean lines computed once in the engine, as get_cube does (the same lines as the lazy load)
    cube = sb.build_cube(sb.load_sales(df, as_of=as_of, odd_dates="keep", stage=True))
    cube.profile = data_profile(cube, Evidence(lead_in_months=0))
    return cube


def test_textbook_price_volume_mix_of_two_products_by_hand():
    # client A, one category, two products.
    #   2023: X 100 units at 10 = 1000; Y 50 at 20 = 1000  -> 2000, 150 units, category price P0 = 2000/150 = 13.333
    #   2024: X 130 units at 11 = 1430; Y 30 at 18 =  540  -> 1970, 160 units
    # price  = (11-10) x 130 + (18-20) x 30 = 130 - 60 = 70              (at this year's units)
    # volume = (160-150) x 13.333 = 133.33   (X: 30 x 13.333 = 400.00; Y: -20 x 13.333 = -266.67)
    # mix    = product-level volume at last year's prices - category-level volume
    #        = (30 x 10 - 20 x 20) - 133.33 = -100 - 133.33 = -233.33    (units moved to the cheaper X)
    # sum    = 70 + 133.33 - 233.33 = -30 = 1970 - 2000
    cube = cube_of([("A", "2023-03-01", "X", "K", 100, 1000), ("A", "2023-04-01", "Y", "K", 50, 1000),
                    ("A", "2024-03-01", "X", "K", 130, 1430), ("A", "2024-04-01", "Y", "K", 30, 540)])
    w = wk.revenue_walk(cube)
    assert w.steps.to_dict() == {"new": 0.0, "reactivated": 0.0, "lost": 0.0, "price": 70.0, "volume": 133.33,
                                 "mix": -233.33, "new_products": 0.0, "discontinued": 0.0}
    assert (w.before, w.after) == (2100.0, 2070.0)  # with the filler's 100 each year
    lines = w.lines.set_index("product_id")
    assert lines.loc["X", ["price", "volume", "mix"]].tolist() == [130.0, 400.0, -100.0]  # 1430-1000 = 430
    assert lines.loc["Y", ["price", "volume", "mix"]].tolist() == [-60.0, -266.67, -133.33]  # 540-1000 = -460
    assert (lines.loc["X", "p0"], lines.loc["X", "p1"]) == (10.0, 11.0)
    story = wk.price_story(w)  # Y's price fell, on one of the three continuing lines (X, Y, the filler's Z)
    assert (story["lines"], story["fell"], story["money"], story["net"]) == (3, 1, -60.0, 70.0)


def test_new_and_discontinued_products_a_lost_and_a_new_client_and_returns_by_hand():
    # A (retained): 2023 X 10 at 5 = 50, Y 4 at 25 = 100; 2024 X 10 at 5 = 50, W 2 at 30 = 60, and 1 X back (-5)
    #   -> X continues unchanged (0), Y discontinued -100, W a new product +60, returns -5
    # L (lost): 200 in 2023 -> -200;  N (new): 70 in 2024 -> +70
    # total: -100 + 60 - 5 - 200 + 70 = -175 = (50 + 60 - 5 + 70) - (50 + 100 + 200)
    cube = cube_of([("A", "2023-03-01", "X", "K", 10, 50), ("A", "2023-03-01", "Y", "K", 4, 100),
                    ("A", "2024-03-01", "X", "K", 10, 50), ("A", "2024-03-01", "W", "K", 2, 60),
                    ("A", "2024-03-20", "X", "K", -1, -5),
                    ("L", "2023-05-01", "X", "K", 40, 200), ("N", "2024-06-01", "X", "K", 14, 70)])
    w = wk.revenue_walk(cube)
    assert w.steps.to_dict() == {"new": 70.0, "reactivated": 0.0, "lost": -200.0, "price": 0.0, "volume": 0.0,
                                 "mix": 0.0, "new_products": 60.0, "discontinued": -100.0, "returns": -5.0}
    assert w.change == pytest.approx(-175.0, abs=0) and w.steps.sum() == pytest.approx(-175.0, abs=1e-9)
    assert wk.largest_negative(w) == "lost"
    top = wk.contributors(w, "lost")
    assert top.client_id.tolist() == ["L"] and top.share.tolist() == [1.0]
    # the bridge's parts are the walk's client flow
    parts, _ = st.last_bridge(cube)
    assert (parts["new"], parts["lost"]) == (70.0, -200.0)
    assert parts["growth"] + parts["decline"] == pytest.approx(w.steps.reindex(list(wk.SPLIT)).fillna(0).sum())


def test_without_quantity_or_product_the_walk_stops_at_client_flow_and_says_why():
    rows = [("A", "2023-03-01", "X", "K", 10, 50), ("A", "2024-03-01", "X", "K", 10, 40),
            ("L", "2023-05-01", "X", "K", 40, 200)]
    for drop, key in (("quantity", "walk.unknown.quantity"), ("product_id", "walk.unknown.product")):
        w = wk.revenue_walk(cube_of(rows, drop=[drop]))
        assert not w.split and w.unknown == key
        assert w.steps.to_dict() == {"new": 0.0, "reactivated": 0.0, "lost": -200.0, "retained": -10.0}
        said = wk.walk_sentences(w)
        assert said[-1] == sb.t(key, "en") and "no " + ("quantity" if drop == "quantity" else "product") in said[-1]


def test_a_short_history_has_no_walk_and_says_so():
    cube = cube_of([("A", "2024-03-01", "X", "K", 10, 50)], as_of="2024-12-31")
    cube = sb.build_cube(sb.load_sales(pd.DataFrame({"date": [pd.Timestamp("2024-06-03"), pd.Timestamp("2024-12-31")],
                                                      "client_id": ["A", "B"], "amount": [1.0, 2.0]}),
                                       as_of="2024-12-31", stage=True))
    w = wk.revenue_walk(cube)
    assert w.unknown == "bridge" and w.steps.empty
    assert wk.walk_sentences(w)[0].startswith("Cannot tell yet")


def test_walk_by_manager_and_category_add_up_and_sort_by_the_largest_fall():
    # manager MA (client A): price -20 on X (10 units at 5 -> at 3); manager ML (client L): lost -200
    cube = cube_of([("A", "2023-03-01", "X", "K", 10, 50), ("A", "2024-03-01", "X", "K", 10, 30),
                    ("L", "2023-05-01", "Y", "Q", 40, 200)])
    w = wk.revenue_walk(cube)
    by = wk.walk_by(cube, w, "manager")
    assert by.index.tolist() == ["ML", "MA", "MF"]  # -200 lost, then -20 price, then the filler's 0
    assert by.loc["MA", "price"] == -20.0 and by.loc["MA", "worst"] == "price"
    assert by.loc["ML", "worst"] == "lost" and by.loc["ML", "worst_amount"] == -200.0
    steps = list(w.steps.index)
    assert np.allclose(by[steps].sum(axis=1), by.change, atol=1e-9)
    cat = wk.walk_by(cube, w, "category")
    assert cat.loc["Q", "lost"] == -200.0 and cat.loc["K", "price"] == -20.0
    story = wk.price_story(w)
    assert (story["lines"], story["fell"], story["money"]) == (2, 1, -20.0)  # X fell, the filler's Z did not
    # the lines' cents and clients are computed once per walk, never pickled: the same tables after a round trip
    import pickle
    seg = wk.walk_by(cube, w, "segment")
    assert {"clients"} <= set(w.__dict__["_derived"]) and "_derived" not in w.__getstate__()
    again = pickle.loads(pickle.dumps(w))
    for k, table in (("manager", by), ("category", cat), ("segment", seg)):
        pd.testing.assert_frame_equal(wk.walk_by(cube, again, k), table)
    from salesbook.views import walk_views as wv
    every = wk.contributors(w, "lost")
    pd.testing.assert_frame_equal(wv.contributors_table(w, "lost", top=1, every=every),
                                  wv.contributors_table(w, "lost", top=1))


def test_sub_cent_amounts_give_each_client_a_rounding_line_and_the_text_stays_coded():
    # A's two lines of 10.004 on one day: its day's revenue is 20.01 (the bridge), its lines' 10.00 + 10.00; the
    # cent they miss is A's rounding line (product and category "—"), and C's likewise. No client has a name.
    cube = cube_of([("A", "2023-03-01", "X", "K", 1, 10.0), ("A", "2024-03-01", "X", "K", 1, 10.004),
                    ("A", "2024-03-01", "Y", "Q", 1, 10.004), ("B", "2023-04-01", "X", "K", 2, 7.0),
                    ("C", "2023-04-01", "X", "K", 2, 7.003), ("C", "2024-04-01", "Y", "K", 2, 7.003),
                    ("C", "2024-04-01", "X", "K", 2, 7.003)])
    w = wk.revenue_walk(cube)
    assert w.steps["rounding"] == 0.02 and round(w.steps.sum(), 2) == round(w.after - w.before, 2)
    text = w.lines[list(wk.TEXT)]
    for c in wk.TEXT:  # coded, over the column's texts sorted, as text compares
        cats = list(text[c].cat.categories)
        assert isinstance(text[c].dtype, pd.CategoricalDtype) and cats == sorted(cats)
    rounding = w.lines[w.lines.rounding != 0]
    assert rounding.astype({c: object for c in wk.TEXT})[["client_id", "manager", "product_id", "category",
                                                          "part"]].values.tolist() == [
        ["A", "MA", "—", "—", "retained"], ["C", "MC", "—", "—", "retained"]]
    assert w.lines.client_name.isna().all() and list(w.lines.client_id) == ["A", "A", "B", "C", "C", "F", "A", "C"]
    assert list(w.lines.part) == ["retained", "retained", "lost", "retained", "retained", "retained", "retained",
                                  "retained"]
    every = wk.contributors(w, "rounding")
    assert every.client_id.astype(str).tolist() == ["A", "C"] and every.amount.tolist() == [0.01, 0.01]
    by = wk.walk_by(cube, w, "manager")
    assert by.loc["MA", "rounding"] == 0.01 and by.loc["MC", "rounding"] == 0.01
    import pickle
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(w)).lines, w.lines, check_exact=True)
    # the summary's top contributors: a client without a name has none (was the text "None"), shown as "—"
    from salesbook.run import walk_summary as ws
    top = ws.walk_figures(cube)["top"]
    assert [(r["client_id"], r["client_name"]) for r in top] == [("B", None)]
    assert "<td>B</td><td>—</td>" in ws.walk_html({"walk": ws.walk_figures(cube)})


amounts = st_.integers(min_value=0, max_value=10**7)  # cents
units = st_.integers(min_value=0, max_value=500)


@settings(max_examples=40, deadline=None)
@given(st_.lists(st_.tuples(st_.sampled_from(["a", "b", "c"]), st_.sampled_from(["k", "q"]),
                            st_.sampled_from(["new", "reactivated", "lost", "retained"]),
                            amounts, amounts, units, units, amounts, amounts), min_size=1, max_size=30))
def test_every_line_s_steps_add_up_to_its_change_to_the_cent(rows):
    frame = pd.DataFrame(rows, columns=["client_id", "category", "part", "sales_before", "sales_after",
                                        "units_before", "units_after", "returns_before", "returns_after"])
    frame[["returns_before", "returns_after"]] *= -1
    out = wk.split_lines(frame)
    steps = [s for s in wk.STEPS if s in out.columns]
    assert all(out[s].dtype == "int64" for s in steps)
    assert (out[steps].sum(axis=1) == out.after - out.before).all()
    assert out[steps].sum().sum() == (out.after - out.before).sum()


def test_split_lines_leaves_its_input_alone_unless_told_it_may_add_to_it():
    """By default split_lines works on a copy; ``copy=False`` (the walk, on a frame of its own) adds the columns to
    the frame it is given, and gives the same lines."""
    frame = pd.DataFrame({"client_id": ["a", "a", "b"], "category": ["k", "q", "k"],
                          "part": ["retained", "retained", "new"], "sales_before": [1000, 500, 0],
                          "sales_after": [1200, 0, 700], "units_before": [10.0, 5.0, 0.0],
                          "units_after": [11.0, 0.0, 7.0], "returns_before": [0, -100, 0], "returns_after": [-50, 0, 0]})
    given = frame.copy()
    copied = wk.split_lines(frame)
    pd.testing.assert_frame_equal(frame, given)
    in_place = wk.split_lines(frame, copy=False)
    assert in_place is frame and "price" in frame.columns
    pd.testing.assert_frame_equal(in_place, copied)


def test_the_walk_on_the_sample_adds_up_to_the_bridge():
    cube = sb.get_cube("sample")
    w = wk.revenue_walk(cube)
    parts, detail = st.last_bridge(cube)
    cents = lambda x: int(round(x * 100))  # noqa: E731
    assert cents(w.steps.sum()) == cents(detail.after.sum()) - cents(detail.before.sum())
    retained = [s for s in wk.SPLIT if s in w.steps.index]
    assert cents(w.steps[retained].sum()) == cents(parts["growth"]) + cents(parts["decline"])
    for p in wk.FLOW:
        assert cents(w.steps[p]) == cents(parts[p])
    assert "rounding" not in w.steps.index  # the sample's amounts are whole cents
    assert w.steps["price"] == 0.0  # the committed sample's prices never change (a story is planted elsewhere)


@pytest.mark.slow
def test_the_walk_finds_the_planted_price_erosion():
    """SampleSpec.price_erosion(): 40 % of the products sell 12 % below list price over the last 12 months, at
    the units they would have had (data/sample/README.md): the fall is in price, on about 40 % of the lines,
    and only on the cut products."""
    from salesbook.data.sample import SampleSpec, generate
    s = generate(SampleSpec.price_erosion())
    w = wk.revenue_walk(sb.build_cube(sb.load_sales(s.lines, as_of=s.planted["as_of"], stage=True)))
    story = wk.price_story(w)
    assert 0.35 < story["share"] < 0.45 and story["lines"] > 5000
    fell = w.lines[(w.lines.p1 < w.lines.p0 - 1e-9)]
    assert set(fell.product_id) <= set(s.planted["price_cut_products"])
    # about 12/88 of this year's sales of the cut continuing lines: -13.6 % of them, and nothing else moved price
    cut = w.lines[w.lines.p0.notna() & w.lines.product_id.isin(s.planted["price_cut_products"])]
    this_year = (cut.p1 * (cut.price / (cut.p1 - cut.p0))).sum()  # p1 x q1, q1 = price / (p1 - p0)
    assert w.steps["price"] == pytest.approx(-0.12 / 0.88 * this_year, rel=0.01)
    assert w.steps["price"] < -0.01 * w.before


def test_the_memo_says_when_retained_clients_revenue_fell_on_price():
    # A: X 100 units at 10 = 1000 -> 100 at 8 = 800: price -200 (at this year's 100 units); filler 100 both years
    cube = cube_of([("A", "2023-03-01", "X", "K", 100, 1000), ("A", "2024-03-01", "X", "K", 100, 800)])
    w = wk.revenue_walk(cube)
    assert w.steps["price"] == -200.0 and wk.largest_negative(w) == "price"
    said = wk.memo_lines(w)
    # price is also the largest fall, said once, as the price finding: -200 of last year's 1,100 = -18.2 %
    assert len(said) == 1 and said[0].startswith("Price, 2024-01-01 to 2024-12-31 against the 12 months before: "
                                                 "−RUB\u00a0200 (−18.2% of last year's RUB\u00a01,100).")
    assert "Check who gives discounts" in said[0]
    # in the memo itself, beside the diagnosis
    d = {"verdict": "unknown", "flatness": {}, "causes": [], "walk": w,
         "symptoms": [st.Symptom("flat", False, "none", {"need": "36", "months": "24"}, unknown="diag.unknown.trend")]}
    assert said[0].split(":")[0] in st.memo(d)
    # no fall in price: no price finding
    flat = wk.revenue_walk(cube_of([("A", "2023-03-01", "X", "K", 100, 1000), ("A", "2024-03-01", "X", "K", 90, 900)]))
    assert not any("Check who gives discounts" in x for x in wk.memo_lines(flat))


def test_two_windows_is_the_pivot_of_the_periods_in_text_order():
    # the walk's lines come from codes, not from pandas' pivot_table on text: same rows, same order, same sums.
    # Categories in no text order, a missing product read as "—" beside a product really named "—", a line
    # sold in one window only, and units missing (NaN, summed as pandas sums them: 0)
    cat = lambda values, order: pd.Categorical(values, categories=order)  # noqa: E731
    w = pd.DataFrame({
        "client_id": cat(["b", "b", "a", "a", "a", "c"], ["c", "b", "a"]),
        "product_id": cat(["P2", "P2", None, "—", "P1", "P1"], ["P2", "P1", "—"]),
        "category": cat(["K", "K", "K", "K", None, "K"], ["K"]),
        "period": ["before", "after", "after", "before", "after", "before"],
        "sales": [10.0, 12.5, 3.0, 4.0, 7.25, 1.0], "units": [1.0, 2.0, np.nan, 1.0, 3.0, 1.0],
        "returns": [0.0, -1.0, 0.0, 0.0, 0.0, -0.5]})
    out, client, clients, groups = wk._two_windows(w)
    text = pd.DataFrame({"client_id": w.client_id.astype(str), "product_id": w.product_id.astype(object).fillna("—"),
                         "category": w.category.astype(object).fillna("—"), "period": w.period,
                         "sales": wk._cents(w.sales), "units": w.units, "returns": wk._cents(w.returns)})
    wide = text.pivot_table(index=["client_id", "product_id", "category"], columns="period",
                            values=["sales", "units", "returns"], aggfunc="sum", fill_value=0)
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    wide = wide.reset_index()
    assert list(out.client_id) == ["a", "a", "b", "c"] == list(wide.client_id)
    assert list(out.product_id) == ["P1", "—", "P2", "P1"] == list(wide.product_id)  # "—" once: one line
    for col in ("sales_before", "sales_after", "units_before", "units_after", "returns_before", "returns_after"):
        assert out[col].tolist() == wide[col].tolist(), col
    assert out.sales_after.tolist() == [725, 300, 1250, 0] and out.units_after.tolist() == [3.0, 0.0, 2.0, 0.0]
    assert list(clients[client]) == list(out.client_id)
    # one group per client and category: a's lines are in K and "—", b's and c's in K
    assert len(set(groups)) == 4 and groups[0] != groups[1]


def test_a_walk_pickles_small_and_comes_back_exactly():
    # the cube's memo keeps a walk for every process of a run: text as codes, money columns by their rows
    # that are not zero; the frame comes back the same, dtypes, missing values and a zero's sign included
    import pickle
    lines = pd.DataFrame({"client_id": pd.array(["a", "b", None, "a"], dtype="str"),
                          "manager": pd.Series([None, "M", "M", None], dtype=object, index=[3, 5, 7, 9]),
                          "p0": [np.nan, 1.5, 0.0, -0.0], "price": [0.0, 0.0, -2.25, 0.0],
                          "n": np.array([1, 2, 3, 4], dtype="int64")}, index=[3, 5, 7, 9])
    walk = wk.Walk(1.0, 2.0, pd.Series({"price": -2.25}), lines, (pd.Timestamp("2024-01-01"),) * 2,
                   (pd.Timestamp("2023-01-01"),) * 2, True)
    back = pickle.loads(pickle.dumps(walk))
    pd.testing.assert_frame_equal(back.lines, lines, check_exact=True)
    assert np.signbit(back.lines.p0.to_numpy()).tolist() == [False, False, False, True]
    assert back.lines.manager.dtype == object and back.lines.manager.isna().tolist() == [True, False, False, True]
    assert (back.before, back.after, back.split, back.steps.to_dict()) == (1.0, 2.0, True, {"price": -2.25})
    # the money columns are kept by their rows that are not zero: a mostly-zero column pickles small
    big = walk.lines.iloc[[0] * 20000].reset_index(drop=True).assign(price=0.0)
    full = len(pickle.dumps(big.price.to_numpy()))
    packed = wk._pack(big)["columns"]["price"]
    assert packed[0] == "sparse" and len(packed[2]) == 0 and len(pickle.dumps(packed)) < full / 100


@settings(max_examples=60, deadline=None)
@given(st_.lists(st_.tuples(st_.integers(0, 6), st_.integers(-10 ** 12, 10 ** 12),
                            st_.floats(-1e6, 1e6, allow_nan=False)), min_size=0, max_size=60))
def test_sums_by_index_are_np_add_at_s_to_the_bit(rows):
    """_sum_by gives what np.add.at into zeros gives, in the values' own type: whole cents exactly (past 2**53 in all
    too, where floats would lose cents), floats to the bit (added in the same order)."""
    index = np.array([r[0] for r in rows], dtype="int64")
    cents = np.array([r[1] for r in rows], dtype="int64")
    units = np.array([r[2] for r in rows], dtype="float64")
    for values in (cents, units, cents * 5000):  # the last one past 2**53 whenever a line passes 1.8e9 cents
        expected = np.zeros(7, dtype=values.dtype)
        np.add.at(expected, index, values)
        got = wk._sum_by(index, values, 7)
        assert got.dtype == values.dtype and np.array_equal(got, expected)
    # each index once and in order (a period of a sorted window): placed rather than added, the same to the bit,
    # a zero's sign as the sum from zero gives it
    once = np.unique(index, return_index=True)[1]
    for values in (cents[once], units[once], -0.0 * np.abs(units[once])):
        expected = np.zeros(7, dtype=values.dtype)
        np.add.at(expected, index[once], values)
        got = wk._sum_by(index[once], values, 7)
        assert got.dtype == values.dtype and np.array_equal(got, expected)
        assert np.array_equal(np.signbit(got), np.signbit(expected))


@settings(max_examples=60, deadline=None)
@given(st_.lists(st_.tuples(st_.integers(-1, 4), st_.integers(-10 ** 15, 10 ** 15)), min_size=0, max_size=60),
       st_.booleans())
def test_sums_in_cents_by_group_are_whole_cents_added_as_integers(rows, huge):
    """walk_by's sums: each money column in cents by group, as np.add.at adds whole cents in int64 (floats summed
    only while every partial sum is exact; past 2**52 as integers); a missing key (-1) is left out."""
    codes = np.array([r[0] for r in rows], dtype="int64")
    cents = np.array([r[1] for r in rows], dtype="int64") * (1000 if huge else 1)
    lines = pd.DataFrame({"a": cents / 100, "b": -cents / 100})
    got = wk._sums_in_cents(lines, ["a", "b"], codes, 5)
    keep = codes >= 0
    for j, sign in enumerate((1, -1)):
        expected = np.zeros(5, dtype="int64")
        np.add.at(expected, codes[keep], sign * np.rint(cents[keep] / 100 * 100).astype("int64"))
        assert got.dtype == np.int64 and np.array_equal(got[:, j], expected)
