"""The walk and the plan's pace in the summary and the packs (issue 28): figures, the page's section, and
nothing about plans without a plan."""

import pandas as pd
import pytest

import salesbook as sb
from salesbook.analysis import walk as wk
from salesbook.run import walk_summary as ws
from salesbook.views.display import using_currency


def _plan(cube, path, managers=None):
    """Each manager's 2025 revenue plus 10 %, month by month (the README's example)."""
    mm = cube.manager_month
    y = mm[mm.month.dt.year == 2025]
    rows = [(f"2026-{r.month.month:02d}", str(r.manager), round(r.revenue * 1.1, -3))
            for r in y.itertuples() if managers is None or str(r.manager) in managers]
    pd.DataFrame(rows, columns=["month", "manager", "plan"]).to_csv(path, index=False)
    return path


def test_the_summary_s_walk_adds_up_and_lists_the_largest_fall_s_top_three():
    cube = sb.get_cube("sample")
    f = ws.walk_figures(cube, "en")
    assert round(sum(f["steps"].values()) * 100) == round((f["after"] - f["before"]) * 100)
    # new (0.76 bn) and discontinued products (-0.72 bn) net to +35 M: the largest fall is the lost clients
    assert f["worst"] == "lost" and f["steps"]["lost"] == pytest.approx(-226_167_169.75, abs=0.005)
    top = wk.contributors(wk.revenue_walk(cube), "lost", 3)
    assert [r["client_id"] for r in f["top"]] == top.client_id.tolist() == ["C00248", "C00180", "C00759"]
    assert "price_text" not in f  # the committed sample's prices never change
    page = ws.walk_html({"walk": f, "pace": None}, "en")
    assert "Why, in money" in page and "Against the plan" not in page and "plan to date" not in page


@pytest.mark.slow
def test_with_a_plan_the_summary_and_the_packs_say_each_manager_s_pace(tmp_path):
    cube = sb.get_cube("sample")
    with using_currency("RUB"):
        p = ws.pace_figures(cube, str(_plan(cube, tmp_path / "plan.csv")), "en")
        page = ws.walk_html({"walk": None, "pace": p}, "en")
        pace, by = ws.pack_context(cube, str(tmp_path / "plan.csv"), "en")
        pack = ws.pack_html(cube, "Петрова Е.С.", "en", pace, by)
        none = ws.pack_html(cube, "Петрова Е.С.", "en", None, by)
    people = [r for r in p["rows"] if r["manager"] != "__company__"]
    assert [r["gap"] for r in people] == sorted(r["gap"] for r in people)  # the furthest behind first
    assert p["text"][0].startswith("The company, 2026-01-01 to 2026-10-31")  # the plan names every manager
    assert "data-sb-interactive" in page and "sb-tables.js" in page  # sortable by gap
    assert "Петрова Е.С., 2026-01-01 to 2026-10-31: RUB\u00a079,168,208 against a plan to date of" in pack
    assert "Your clients, 2025-11-01 to 2026-10-31" in pack and "Against the plan" not in none
