"""What-if levers: zero levers give the baseline exactly; each lever alone by hand on a small case."""

import re

import pandas as pd
import pytest

import salesbook as sb
from salesbook.analysis import whatif as wi


@pytest.fixture
def cal():
    return wi.Calibration(
        baseline=pd.Series({"regular": 1000.0, "vip": 3000.0, "sleeping": 0.0, "new": 200.0}),
        sleeping_clients=4, sleeping_yearly=800.0,
        repeat_revenue=pd.Series({"regular": 1000.0, "vip": 3000.0}),
        active_clients=pd.Series({"regular": 5, "vip": 2, "new": 3}),
        revenue_per_category=50.0, lost_revenue=600.0)


def test_all_levers_at_zero_equal_the_baseline_exactly(cal):
    res = wi.simulate(cal, wi.Levers())
    assert res["result"] == res["baseline"] == 4200.0
    assert set(res["steps"].values()) == {0.0}
    assert (res["by_category"].result == res["by_category"].baseline).all()


@pytest.mark.parametrize("levers, lever, amount", [
    (wi.Levers(reactivate=0.25), "reactivation", 0.25 * 800),
    (wi.Levers(frequency=0.1), "frequency", 0.1 * 4000),
    (wi.Levers(deal_size=0.1), "deal_size", 0.1 * 4000),
    (wi.Levers(categories=0.5), "categories", 0.5 * 10 * 50),
    (wi.Levers(retain=0.5), "retention", 0.5 * 600),
])
def test_each_lever_alone_moves_revenue_up_by_the_hand_computed_amount(cal, levers, lever, amount):
    res = wi.simulate(cal, levers)
    assert res["steps"][lever] == pytest.approx(amount)
    assert res["result"] - res["baseline"] == pytest.approx(amount)
    assert sum(v for k, v in res["steps"].items() if k != lever) == 0


def test_frequency_and_deal_size_compound(cal):
    res = wi.simulate(cal, wi.Levers(frequency=0.1, deal_size=0.1))
    assert res["result"] - res["baseline"] == pytest.approx(4000 * (1.1 * 1.1 - 1))
    assert res["by_category"].loc["vip", "effect"] == pytest.approx(3000 * 0.21)


def test_calibration_comes_from_the_sample():
    cube = sb.get_cube("sample")
    cal = wi.calibrate(cube)
    from salesbook.views.overview import window_totals
    assert cal.total == pytest.approx(window_totals(cube, 12)[0], rel=1e-9)
    assert cal.sleeping_clients > 0 and cal.lost_revenue > 0 and cal.revenue_per_category > 0


def _org(**kw):
    base = dict(managers=10, active_clients=100, capacity=12.0, load=10.0, new_per_month=0.0, hunter_rate=1.0,
                first_year_revenue=12.0, retention=0.5, existing_change=0.0, base_revenue=1200.0, season=[1.0] * 12)
    base.update(kw)
    return wi.OrgCalibration(**base)


def test_no_hunters_is_the_status_quo_exactly():
    p = wi.project(_org(new_per_month=2.0, existing_change=-0.1), 0, start="2025-01-01")
    assert (p.reorganised == p.status_quo).all()


def test_projection_by_hand():
    # one hunter, one client a month from the first month, each worth 1 a month in its first year, 0.5 after;
    # load after the split 10 x 10 / 9 = 11.1 <= capacity 12: no overflow
    p = wi.project(_org(), 1, ramp_months=1, months=14, start="2025-01-01")
    assert p.status_quo.tolist() == [100.0] * 14
    # month 13: 12 clients in their first year + 1 past it; month 14: 12 + 2 past it
    expected = [100 + (k + 1) for k in range(12)] + [100 + 12 + 0.5 * 1, 100 + 12 + 0.5 * 2]
    assert p.reorganised.tolist() == pytest.approx(expected)


def test_overloaded_account_managers_lose_clients():
    # 5 hunters of 10: load 20 per account manager against a capacity of 12: 40 % overflow
    p = wi.project(_org(hunter_rate=0.0), 5, months=12, overflow_loss=0.5, start="2025-01-01")
    assert p.reorganised.iloc[-1] == pytest.approx(100 * (1 - 0.4 * 0.5) ** (17.5 / 12))


def test_status_quo_reproduces_the_recent_trend_of_the_sample_within_two_points():
    from salesbook.views.overview import window_totals
    cube = sb.get_cube("sample")
    last, prev = window_totals(cube, 12)
    sq = wi.project(wi.calibrate_org(cube), 0, start="2026-11-01").status_quo
    assert abs((sq.iloc[:12].sum() / last - 1) - (last / prev - 1)) < 0.02


def test_the_sliders_waterfall_in_html_by_hand():
    import re

    from salesbook.analysis.whatif import LEVERS
    from salesbook.views.whatif_views import waterfall_html
    steps = {k: 0.0 for k in LEVERS}
    steps.update(reactivation=20.0, retention=-10.0)
    page = waterfall_html({"baseline": 100.0, "steps": steps, "result": 110.0}, "en", height=300)
    bars = re.findall(r'data-value="([-\d.]+)" style="[^"]*bottom:([\d.]+)px;height:([\d.]+)px;background:(#\w+)', page)
    assert len(bars) == len(LEVERS) + 2
    top = 120 * 1.12  # the highest level reached (100 + 20), plus room for the labels
    baseline, reactivate, retain, result = bars[0], bars[1], bars[len(LEVERS)], bars[-1]
    assert float(baseline[2]) == pytest.approx(100 / top * 300, abs=0.1) and baseline[3] == "#1f4e79"
    assert float(reactivate[1]) == pytest.approx(100 / top * 300, abs=0.1)  # starts where the baseline ends
    assert float(reactivate[2]) == pytest.approx(20 / top * 300, abs=0.1) and reactivate[3] == "#548235"
    assert float(retain[1]) == pytest.approx(110 / top * 300, abs=0.1) and retain[3] == "#c00000"  # 120 - 10
    assert float(result[2]) == pytest.approx(110 / top * 300, abs=0.1)
    assert ">120<" not in page and ">110<" in page and ">−10<" in page  # labels: the values, not the levels
    # the bars' labels are amounts without an axis: the title names the currency, as a money axis's title does
    assert "Revenue of the next 12 months with the levers, RUB<" in page
    assert "с рычагами, ₽<" in waterfall_html({"baseline": 100.0, "steps": steps, "result": 110.0}, "ru", height=300)


def test_the_hand_over_trigger_in_months_by_hand():
    org = _org(first_year_revenue=1200.0)
    org.deals_per_month = 0.5
    assert wi.handover_months(org, "deals:2") == 4  # two deals at one every two months
    assert wi.handover_months(org, "months:6") == 6
    assert wi.handover_months(org, "amount:300") == 3  # 300 at 100 a month
    with pytest.raises(sb.ParameterError, match="deals:N"):
        wi.handover_months(org, "after two deals")


def test_clients_lost_at_hand_over_lower_the_reorganised_revenue_from_the_trigger_on():
    kept = _org(new_per_month=2.0, hunter_rate=1.0, first_year_revenue=1200.0)
    lost = _org(new_per_month=2.0, hunter_rate=1.0, first_year_revenue=1200.0)
    lost.handover_retention = 0.5
    a = wi.project(kept, 2, start="2025-01-01", handover="months:6", ramp_months=1)
    b = wi.project(lost, 2, start="2025-01-01", handover="months:6", ramp_months=1)
    assert (a.status_quo == b.status_quo).all()
    assert (a.reorganised.iloc[:6] == b.reorganised.iloc[:6]).all()  # nobody handed over yet
    # month 6: the first month's hunted clients (2 hunters x 1) are handed; half of them leave:
    # 1 client x 1200 / 12 a month, in the season of that month
    gap = (a.reorganised - b.reorganised).iloc[6]
    assert gap == pytest.approx(1 * 100 * kept.season[6])


def _cells(page: str) -> list[str]:
    """The texts a reader sees in an HTML fragment, cell by cell (a table's element ids change with every
    rendering and are no figure)."""
    import html as _html
    import re
    return [_html.unescape(x).strip() for x in re.findall(r">([^<>]+)<", page) if x.strip()
            and not x.lstrip().startswith("#T_")]


def test_every_slider_of_the_levers_redraws_the_verdict_the_waterfall_and_the_effect_by_category(cal):
    """Issue 24: the workshop showed stale figures. Each lever's slider, moved alone, changes every element
    built from the simulation: the sentence, the waterfall and the table of the effect by category."""
    from salesbook.views.whatif_views import SLIDERS, levers_widgets
    cal.as_of = "2026-10-31"
    ex = levers_widgets(cal, wi.Levers(), "en")
    assert set(ex.sliders) == set(SLIDERS) and set(ex.outputs) == {"verdict", "chart", "by_category"}
    # at zero levers the result is the baseline, 4,200, and the effect column is 0 in every category
    assert "bring RUB\u00a04,200 instead of RUB\u00a04,200" in ex.outputs["verdict"].value
    # the title, four headers, then per row: category, baseline, effect, with the levers
    assert _cells(ex.outputs["by_category"].value)[7::4] == ["0"] * 4  # New, Regular, Sleeping, VIP
    for key in SLIDERS:
        before = {k: _cells(o.value) for k, o in ex.outputs.items()}
        ex.sliders[key].value = ex.sliders[key].value + (0.5 if key == "categories" else 0.1)
        after = {k: _cells(o.value) for k, o in ex.outputs.items()}
        assert all(after[k] != before[k] for k in before), (key, [k for k in before if after[k] == before[k]])
    # all five moved: reactivation 0.1 x 800 = 80; frequency 0.1 x 4000 = 400; deal size 4000 x 1.1 x 0.1 = 440;
    # categories 0.5 x 10 active x 50 = 250; retention 0.1 x 600 = 60: 4,200 + 1,230 = 5,430
    assert "bring RUB\u00a05,430 instead of RUB\u00a04,200" in ex.outputs["verdict"].value
    assert "Effect by client category" in ex.outputs["by_category"].value


def test_the_hunters_slider_redraws_the_sentence_the_years_and_the_assumptions():
    """The assumptions table said "25 → 22 + 3" after the slider moved to 7: it now follows the slider."""
    import re

    from salesbook.views.whatif_views import hunters_widgets
    org = _org(new_per_month=2.0, hunter_rate=1.0)
    ex = hunters_widgets(org, 3, None, 3, 24, 0.3, pd.Timestamp("2025-01-01"), "en")
    assert "10 → 7 + 3" in ex.outputs["assumptions"].value  # 10 managers, 3 of them hunting
    before = {k: _cells(o.value) for k, o in ex.outputs.items()}
    ex.sliders["hunters"].value = 7
    after = {k: _cells(o.value) for k, o in ex.outputs.items()}
    assert all(after[k] != before[k] for k in before), [k for k in before if after[k] == before[k]]
    assert "10 → 3 + 7" in after["assumptions"] and "10 → 7 + 3" not in after["assumptions"]
    assert after["sentence"][0].startswith("With 7 hunters")


def test_the_hunters_yearly_figures_name_their_periods_by_month_as_the_sentence_does():
    """The table beside the reorganisation sentence headed a 12-month sum "Month" and labelled it with two
    first days ("2026-11-01 – 2027-10-01", read as ending on 1 October). Its periods are named as the
    sentence names months, a short last period by its own last month."""
    from salesbook.views import whatif_views as wv
    proj = pd.DataFrame({"status_quo": 1000.0, "reorganised": 900.0},
                        index=pd.date_range("2026-11-01", periods=30, freq="MS"))
    page = wv._years_html(proj, "en")
    assert "<th>Period</th>" in page and "Month" not in page
    assert re.findall(r"<tr><td>([^<]+)</td>", page) == ["Nov 2026 – Oct 2027", "Nov 2027 – Oct 2028", "Nov 2028 – Apr 2029"]
    assert "RUB\u00a06,000" in page  # the short period sums its six months
    assert "<th>Период</th>" in wv._years_html(proj, "ru") and "ноя 2026 – окт 2027" in wv._years_html(proj, "ru")
