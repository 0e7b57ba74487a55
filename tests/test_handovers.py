"""Hand-overs on a hand-made history: the list, the trigger and the comparison, computed by hand."""

import pandas as pd
import pytest

import salesbook as sb
from salesbook.analysis import handovers as hv


def _history() -> pd.DataFrame:
    """30 clients won by Hunter in January 2022, one order of 100 a month. Clients 0-19 pass to Farmer after
    their 2nd deal (March 2022); of them 0-9 buy that month and never again. Clients 20-29 stay with Hunter
    and keep buying until December 2024. Handed clients buy category A only; kept ones alternate A and B."""
    rows = []
    for c in range(30):
        for i, month in enumerate(pd.date_range("2022-01-01", "2024-12-01", freq="MS")):
            if c < 10 and i >= 3:
                break  # lost right after the hand-over
            rows.append({"date": month + pd.Timedelta(days=9), "client_id": f"K{c:02d}", "client_name": f"Client {c}",
                         "manager": "Farmer" if c < 20 and i >= 2 else "Hunter", "amount": 100.0,
                         "category": "B" if c >= 20 and i % 2 else "A",
                         "order_id": f"{c}-{i}"})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def cube():
    # stage=True: the clean lines computed once in the engine, as get_cube does (the same lines as the lazy load)
    return sb.build_cube(sb.load_sales(_history(), as_of="2024-12-31", odd_dates="keep", stage=True))


def test_the_hand_over_list_by_hand(cube):
    ho = hv.handovers(cube)
    assert len(ho) == 20 and set(ho.client_id) == {f"K{c:02d}" for c in range(20)}
    assert (ho.from_manager == "Hunter").all() and (ho.to_manager == "Farmer").all()
    assert (ho.deals_before == 2).all() and (ho.months_since_first == 2).all()
    k00 = ho.set_index("client_id").loc["K00"]
    assert k00.month == pd.Timestamp("2022-03-01") and k00.revenue_12m == 200.0  # Jan and Feb, 100 each


def test_the_trigger_is_the_second_deal(cube):
    trig = hv.infer_trigger(hv.handovers(cube))
    assert trig["rule"] == "deals" and trig["value"] == 2 and trig["share"] == 1.0 and trig["n"] == 20
    assert hv.infer_trigger(hv.handovers(cube), hv.HandoverRules(min_handovers=21))["rule"] is None


def test_handed_clients_are_lost_more_often_than_kept_ones(cube):
    res = hv.compare(cube)
    # by hand: 10 of the 20 handed clients buy again within 12 months, all 10 kept ones do (same month,
    # tenure 2 months, 12-month revenue 200: one stratum); difference -0.5, standard error
    # sqrt(0.5 * 0.5 / 20 + 1 * 0 / 10) = 0.1118
    assert res["unknown"] is None and res["handed"] == 20 and res["kept"] == 10
    assert res["retained_handed"] == pytest.approx(0.5) and res["retained_kept"] == pytest.approx(1.0)
    assert res["diff"] == pytest.approx(-0.5)
    assert res["low"] == pytest.approx(-0.5 - 1.96 * 0.111803, abs=1e-4)
    assert res["high"] == pytest.approx(-0.5 + 1.96 * 0.111803, abs=1e-4)
    text = hv.handover_sentences(cube)
    assert "deal number 2" in text[1] and "50%" in text[2] and "100%" in text[2] and "warning holds" in text[3]
    assert "\u221250\u00a0pts" in text[2]  # a difference of shares in points, not a relative −50%
    short = hv.compare(cube, rules=hv.HandoverRules(min_compared=21))
    assert short["unknown"] == "ho.short" and "Cannot tell yet" in hv.handover_sentences(
        cube, rules=hv.HandoverRules(min_compared=21))[2]


def test_revenue_growth_and_categories_after_a_hand_over_by_hand(cube):
    res = hv.compare(cube)
    # growth: revenue a month in the 12 months after against a month before, over the 2 months since the
    # first purchase (200 / 2 = 100): the 10 lost handed clients -100 %, the 10 others 1,200 / 12 = 100 a
    # month, 0 %: the median of 20 is the midpoint, -50 %; every kept client 0 %
    g = res["growth"]
    assert g["unknown"] is None and g["n_handed"] == 20 and g["n_kept"] == 10
    assert g["handed"] == pytest.approx(-0.5) and g["kept"] == pytest.approx(0.0) and g["diff"] == pytest.approx(-0.5)
    # a resample of the handed side has a median of -100 % when more than 10 of its 20 draws are lost
    # clients (probability 0.41), -50 % at exactly 10 (0.18), 0 % otherwise: the 2.5 % and 97.5 %
    # quantiles of the difference are -100 and 0 points
    assert g["low"] == pytest.approx(-1.0) and g["high"] == pytest.approx(0.0)
    # categories bought after, among those who bought again: the 10 retained handed clients 1 (A),
    # the 10 kept ones 2 (A and B), with no spread on either side
    k = res["categories"]
    assert k["unknown"] is None and k["n_handed"] == 10 and k["n_kept"] == 10
    assert (k["handed"], k["kept"], k["diff"], k["low"], k["high"]) == pytest.approx((1.0, 2.0, -1.0, -1.0, -1.0))
    text = hv.handover_sentences(cube)
    assert "\u221250% for 20 handed clients, +0% for 10" in text[4] and "\u221250\u00a0pts" in text[4]
    assert "1.0 on average for 10 handed clients, 2.0 for 10" in text[5]
    few = hv._more_sentences({**res, "growth": {**g, "unknown": "ho.short", "n_kept": 3}}, "en", hv.HandoverRules())
    assert few[0].startswith("Cannot tell yet how revenue changes") and "3 kept clients" in few[0]
    ru = hv.handover_sentences(cube, "ru")
    assert "\u221250\u00a0п.\u00a0п." in ru[4] and "1,0" in ru[5]


def test_a_history_without_a_manager_or_a_hand_over_says_why(cube):
    no_manager = sb.build_cube(sb.load_sales(_history().drop(columns="manager"), as_of="2024-12-31",
                                             odd_dates="keep", stage=True))
    assert "manager" in hv.handover_sentences(no_manager)[0]
    no_category = sb.build_cube(sb.load_sales(_history().drop(columns="category"), as_of="2024-12-31",
                                              odd_dates="keep", stage=True))
    assert "no category column" in hv.handover_sentences(no_category)[-1]
    kept = _history().assign(manager="Hunter")
    one = sb.build_cube(sb.load_sales(kept, as_of="2024-12-31", odd_dates="keep", stage=True))
    assert len(hv.handovers(one)) == 0 and "No client changed its manager" in hv.handover_sentences(one)[0]


@pytest.mark.slow
def test_the_workbook_finds_the_planted_hand_over_story(tmp_path):
    """SampleSpec.handovers(): 40 % of the clients won pass to an account manager after their 2nd deal,
    and half of those stop buying within three months (data/sample/README.md)."""
    from salesbook.run.cli import main
    from salesbook.data.sample import SampleSpec, generate
    from shapes import visible_text
    s = generate(SampleSpec.handovers())
    source = tmp_path / "handovers.parquet"
    s.lines.to_parquet(source, index=False)
    cube = sb.build_cube(sb.load_sales(s.lines, as_of=s.planted["as_of"], stage=True))
    ho = hv.handovers(cube)
    assert set(ho.client_id) <= set(s.planted["handed_over_clients"]) and len(ho) >= 0.8 * len(s.planted["handed_over_clients"])
    res = hv.compare(cube, ho)
    assert res["high"] < 0  # handed clients are lost more often, beyond the interval
    assert main(["run", "03", "--source", str(source), "--output", str(tmp_path / "r"), "--run-name", "001", "-q"]) == 0
    text = " ".join(visible_text((tmp_path / "r" / "001" / "03_stagnation.html").read_text(encoding="utf-8")))
    assert "hands clients over after their deal number 2" in text and "The warning holds here" in text
