"""Honest on any real export (issue 15): the data profile, its guards, and the data-shape matrix.

The matrix runs the whole suite (six workbooks and the summary, ``salesbook run`` as a user types it)
on the real Online Retail II file and on shapes cut or altered from the sample (tests/shapes.py), and
checks that every run completes, that no page shows a missing number, an infinity, a raw key or a
Python repr, that the sections lacking evidence say so, and each shape's concrete sentences.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import salesbook as sb
from salesbook.analysis import segments as sg
from salesbook.analysis import stagnation as st
from salesbook.errors import DataError, ParameterError
from salesbook.views.overview import window_totals
from salesbook.cube.profile import Evidence, data_profile
from salesbook.run.runner import resolve_as_of

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shapes import (PLAN_SHAPES, REAL, SAMPLE, bad_text, foreign_words, make_shape, number_style_errors, sample_names,  # noqa: E402
                    shape_names, visible_text)

NAMES = sample_names()

ROOT = Path(__file__).resolve().parents[1]
SALESBOOK = str(Path(sys.executable).with_name("salesbook"))


def _cube(frame: pd.DataFrame, as_of: str | None = None) -> sb.Cube:
    # stage=True: the clean lines computed once in the engine, as get_cube does (the same lines as the lazy load)
    return sb.build_cube(sb.load_sales(frame, as_of=as_of, stage=True))


def _lines(dates: list[str], clients: list[str], amounts: list[float] | None = None, **extra) -> pd.DataFrame:
    n = len(dates)
    return pd.DataFrame({"date": pd.to_datetime(dates).astype("datetime64[us]"), "client_id": clients,
                         "amount": amounts or [100.0] * n, **extra})


# --------------------------------------------------------------------------- the profile


def test_profile_counts_full_months_and_names_the_partial_first_and_last_month():
    cube = _cube(_lines(["2024-01-05", "2024-02-10", "2024-03-15", "2024-04-01"], ["A", "B", "A", "B"]))
    p = cube.profile
    assert [m.month for m in p.full_months] == [2, 3]
    assert p.partial_first == pd.Timestamp("2024-01-01") and p.partial_last == pd.Timestamp("2024-04-01")
    assert p.columns == {"date", "client_id", "amount"} and p.managers == 0 and not p.has_manager
    assert p.lacks("trend") and p.lacks("manager") and p.lacks("category")


def test_profile_counts_a_month_whose_first_days_have_no_lines_as_full():
    # the data start on the 2nd (a weekend before): within edge_days of the month's start
    cube = _cube(_lines(["2024-01-02", "2024-01-31"], ["A", "B"]))
    assert [m.month for m in cube.profile.full_months] == [1]


def test_months_after_the_data_end_are_no_data_not_zero_sales():
    cube = _cube(_lines(["2024-01-01", "2024-01-31", "2024-02-15", "2024-02-29"], ["A", "B", "A", "B"]),
                 as_of="2024-04-30")
    p = cube.profile
    assert [m.month for m in p.no_data_months] == [3, 4]
    assert p.end == pd.Timestamp("2024-02-29")
    assert cube.monthly().month.max() == pd.Timestamp("2024-02-01")  # no zero months for March and April
    assert any("no data" in s for s in p.sentences("en"))


def test_history_that_starts_with_many_first_purchases_is_left_censored():
    dates = ["2024-01-03"] * 20 + [f"2024-{m:02d}-10" for m in range(2, 13)]
    clients = [f"C{i}" for i in range(20)] + [f"N{m}" for m in range(2, 13)]
    p = _cube(_lines(dates, clients)).profile
    assert p.left_censored and p.lead_in_end == pd.Timestamp("2024-07-01")


def test_profile_evidence_minimums_are_parameters():
    cube = _cube(_lines([f"2024-{m:02d}-01" for m in range(1, 13)] + ["2024-12-31"], ["A"] * 13))
    assert data_profile(cube).lacks("trend") is not None
    assert data_profile(cube, Evidence(trend_months=12)).lacks("trend") is None


# --------------------------------------------------------------------------- the guards


def test_no_change_against_a_window_the_data_do_not_cover():
    cube = _cube(_lines(["2024-01-01", "2024-06-01", "2024-12-31"], ["A", "B", "A"]))
    last, prev = window_totals(cube, 12)
    assert last == 300.0 and prev is None
    from salesbook.views.overview import key_figures
    figures = dict(zip(*key_figures(cube).T.to_numpy()))
    assert figures["Change, last 12 months"] == "–" and figures["Turnover, 12 months before"] == "–"


def test_no_verdict_below_the_trend_minimum():
    months = pd.date_range("2024-01-01", "2025-01-31", freq="D")
    frame = _lines([str(d.date()) for d in months], ["A"] * len(months), [100.0 + i for i in range(len(months))])
    diagnosis = st.diagnose(_cube(frame))
    assert diagnosis["verdict"] == "unknown"
    assert "needs 24 full months" in st.verdict_text(diagnosis) and "13" in st.verdict_text(diagnosis)
    assert "Cannot tell" in st.memo(diagnosis)
    manager_findings = [s for s in diagnosis["symptoms"] if s.key in ("capacity", "no_hunters", "productivity")]
    assert all(s.unknown and not s.present for s in manager_findings)


def test_a_client_first_seen_in_the_lead_in_is_not_new():
    # 20 clients at the start (the history is left-censored), one more after the lead-in
    dates = ["2024-01-03"] * 20 + ["2024-03-01", "2024-08-01"]
    clients = [f"C{i}" for i in range(20)] + ["EARLY", "LATE"]
    cube = _cube(_lines(dates, clients), as_of="2024-09-30")
    classes = sg.classify_clients(cube)
    assert cube.profile.lead_in_end == pd.Timestamp("2024-07-01")
    assert classes.loc["LATE", "category"] == "new"
    assert classes.loc["EARLY", "category"] != "new" and classes.loc["C0", "category"] != "new"


def test_sleeping_clients_revenue_is_what_they_bought_not_annualised():
    # S bought 100 + 200 within 30 days, then stopped; the old rule multiplied by 365/30
    dates = ["2023-01-05", "2023-02-04", "2024-06-01"] + [f"2024-{m:02d}-01" for m in range(1, 13)]
    clients = ["S", "S", "X"] + ["A"] * 12
    cube = _cube(_lines(dates, clients, [100.0, 200.0, 50.0] + [10.0] * 12), as_of="2024-12-31")
    sleepers = sg.reactivation_list(cube, sg.classify_clients(cube))
    assert sleepers.set_index("client_id").loc["S", "yearly_revenue"] == 300.0


def test_cross_sell_potential_is_per_client_and_grows_with_the_client():
    frame = _lines(["2024-03-01"] * 8, ["A", "A", "B", "B", "C", "D", "E", "E"],
                   [600.0, 400.0, 300.0, 100.0, 1000.0, 100.0, 50.0, 50.0],
                   category=["x", "y", "x", "y", "x", "x", "x", "y"])
    ws = st.whitespace(_cube(frame), 12, 0.25).set_index("client_id")
    # similar clients (buying x and y: A, B, E) spend 550 of 1500 on y: C (1000) -> 366.67, D (100) -> 36.67
    assert ws.loc["C", "potential"] == pytest.approx(1000 * 550 / 1500)
    assert ws.loc["D", "potential"] == pytest.approx(100 * 550 / 1500)


def test_an_isolated_typo_date_is_set_aside_and_does_not_move_the_analysis_date():
    dates = [f"2024-{m:02d}-15" for m in range(1, 13)] + ["2031-01-01"]
    sales = sb.load_sales(_lines(dates, ["A"] * 13))
    line = next(ln for ln in sales.report.lines if ln.reason == "suspicious_date")
    assert line.count == 1 and line.amount == 100.0
    assert sales.report.as_of == "2024-12-15" and sales.report.rows_kept == 12


def test_a_busy_last_stretch_is_not_suspicious():
    dates = [f"2024-{m:02d}-15" for m in range(1, 7)] + ["2025-06-01"] * 30
    sales = sb.load_sales(_lines(dates, [f"C{i}" for i in range(36)]))
    assert not any(ln.reason == "suspicious_date" for ln in sales.report.lines)
    assert sales.report.as_of == "2025-06-01"


@pytest.mark.parametrize("text", ["01.10.2026", "2026-13-01", "10/01/2026", "yesterday"])
def test_an_ambiguous_or_invalid_as_of_is_refused_naming_the_formats(text):
    with pytest.raises(ParameterError, match="yyyy-mm-dd"):
        resolve_as_of(text)
    assert resolve_as_of("2026-10-31") == "2026-10-31"


def test_an_analysis_date_before_the_data_start_is_a_data_error():
    with pytest.raises(DataError, match="before the data start"):
        sb.load_sales(_lines(["2024-03-01", "2024-04-01"], ["A", "B"]), as_of="2024-01-31")


def test_the_sample_pipeline_belongs_to_the_sample_only():
    from salesbook.analysis.forecast import pipeline_for
    assert pipeline_for("", "sample") == "sample"
    assert pipeline_for("", "/data/acme.csv") == ""
    assert pipeline_for("deals.csv", "/data/acme.csv") == "deals.csv"


# --------------------------------------------------------------------------- the matrix


class _Runs(dict):
    """Each shape run once, on first use, as a user runs it (``salesbook run``), into its own folder."""

    def __init__(self, base: Path):
        super().__init__()
        self.base = base

    def __missing__(self, name: str):
        if name == "real_online_retail" and not REAL.exists():
            pytest.skip(f"the real file is not here: {REAL}")
        shape = make_shape(name, self.base / "data")
        out = self.base / name
        cmd = [SALESBOOK, "run", "-q", "--source", str(shape.source), "--output", str(out)]
        cmd += ["--mapping", shape.mapping] if shape.mapping else []
        cmd += ["--as-of", shape.as_of] if shape.as_of else []
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)
        self[name] = (done, out / "latest")
        return self[name]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> _Runs:
    return _Runs(tmp_path_factory.mktemp("shapes"))


def _page(folder: Path, name: str) -> str:
    return " ".join(visible_text((folder / name).read_text(encoding="utf-8")))


def _by_shape(*params):
    """Parameters of the matrix, each in its shape's xdist group: one worker runs a shape once (the run
    is shared by every test of that shape), and the shapes run on every core (make test)."""
    return [pytest.param(*p if isinstance(p, tuple) else (p,), marks=pytest.mark.xdist_group(
        f"shape-{p[0] if isinstance(p, tuple) else p}")) for p in params]


@pytest.mark.slow
@pytest.mark.parametrize("name", _by_shape(*shape_names()))
def test_every_shape_runs_to_the_end_and_no_page_shows_nan_inf_a_key_or_a_repr(runs, name):
    done, folder = runs[name]
    assert done.returncode == 0, done.stderr[-2000:]
    assert (folder / "index.html").exists()
    assert len(list(folder.glob("0*.html"))) == 6
    assert bad_text(folder) == []
    # one language and one number style on every page and chart, whatever the shape (issue 17)
    assert foreign_words(folder, "en", NAMES) == []
    assert number_style_errors(folder, "en") == []
    assert all('class="sb-nav"' in (folder / p).read_text(encoding="utf-8") for p in ("index.html", "00_overview.html"))


@pytest.mark.slow
@pytest.mark.xdist_group("shape-real_online_retail")
def test_the_real_file_has_no_growth_verdict_no_12_month_change_and_no_lead_in_client_as_new(runs):
    done, folder = runs["real_online_retail"]
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdict"] == "unknown" and summary["turnover_change"] is None
    assert summary["turnover_prev_12m"] is None
    index = _page(folder, "index.html")
    assert "Cannot tell yet whether turnover grows or falls" in index and "not comparable yet" in index
    overview = _page(folder, "00_overview.html")
    assert "No comparison of the last 12 months" in overview and "What this data can tell" in overview
    # new clients: only those first seen after the lead-in, counted independently from the raw file
    raw = pd.read_parquet(REAL, columns=["Customer ID", "InvoiceDate", "Quantity", "Price"])
    raw = raw[raw["Customer ID"].notna() & (raw.Quantity * raw.Price > 0)]
    first = raw.groupby("Customer ID").InvoiceDate.min()
    lead_in_end = pd.Timestamp(summary["profile"]["lead_in_end"])
    assert lead_in_end == pd.Timestamp("2010-06-01")
    expected = int((first >= lead_in_end).sum())
    assert f"New clients since 2010-06-01" in overview
    assert f"{expected:,}" in overview.split("New clients since 2010-06-01")[1][:200]
    cats = pd.read_csv(folder / "categories.csv", dtype={"client_id": str})
    first.index = first.index.astype("int64").astype(str)
    new = cats[cats.category == "new"].client_id
    assert len(new) and (first.reindex(new) >= lead_in_end).all()
    first_month = first[first < "2010-01-01"].index
    assert not cats[cats.client_id.isin(first_month)].category.eq("new").any()
    stagnation = _page(folder, "03_stagnation.html")
    assert "the data have no manager column" in stagnation and "the data have no category column" in stagnation
    assert "growing" not in index.lower() and "+94" not in index


@pytest.mark.slow
@pytest.mark.xdist_group("shape-typo_2031")
def test_a_typo_date_does_not_move_the_analysis_date(runs):
    done, folder = runs["typo_2031"]
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((folder / "load_report.json").read_text(encoding="utf-8"))
    assert report["as_of"] == "2026-10-31"
    assert [ln["count"] for ln in report["lines"] if ln["reason"] == "suspicious_date"] == [1]
    assert "Suspicious dates" in _page(folder, "00_overview.html")


@pytest.mark.slow
@pytest.mark.parametrize("name", _by_shape("real_online_retail", "months_25", "no_manager"))
def test_the_forecast_page_of_a_non_sample_source_has_no_sample_deals(runs, name):
    done, folder = runs[name]
    assert done.returncode == 0, done.stderr[-2000:]
    page = _page(folder, "04_forecast.html")
    deals = pd.read_csv(ROOT / "data" / "sample" / "pipeline.csv", dtype=str)
    assert "No pipeline was given for this run" in page
    assert not any(d in page for d in deals.deal_id)
    assert json.loads((folder / "summary.json").read_text(encoding="utf-8"))["forecast"] is None


@pytest.mark.slow
@pytest.mark.parametrize("name, page, says", _by_shape(
    ("one_day", "03_stagnation.html", "the trend needs 24 full months"),
    ("one_day", "04_forecast.html", "No baseline from history: it needs 12 full months"),
    ("one_month", "02_seasonality.html", "seasonal indices need at least 24"),
    ("three_months", "05_whatif.html", "No reorganisation simulated"),
    ("months_23", "03_stagnation.html", "the trend needs 24 full months of data; the data have 23"),
    ("months_23", "00_overview.html", "No comparison of the last 12 months"),
    ("no_manager", "01_segmentation.html", "no manager column"),
    ("no_manager", "05_whatif.html", "the data have no manager column"),
    ("one_manager", "05_whatif.html", "1 active manager(s)"),
    ("no_category", "03_stagnation.html", "the data have no category column"),
    ("ends_early", "00_overview.html", "Sep 2026, Oct 2026 have no data (not zero sales)"),
    ("ends_early", "index.html", "have no data (not zero sales)"),
    # issue 18's sections: hand-overs, calibrated opportunities, the backtested baseline
    ("no_manager", "03_stagnation.html", "change hands? \u00b6 The data have no manager column"),  # title ¶ sentence
    ("one_manager", "03_stagnation.html", "No client changed its manager"),
    ("months_23", "04_forecast.html", "The baseline is not backtested: that needs 24 full months"),
    ("months_23", "01_segmentation.html", "No calibrated expectation yet: the backtest at earlier analysis dates"),
    # issue 24: clients with no stable manager (managers shuffled within each month)
    ("shuffled_managers", "03_stagnation.html", "change hands? \u00b6 No hand-over is compared: clients have no stable manager"),
    ("shuffled_managers", "03_stagnation.html", "Nothing is said about managers' portfolios"),
    ("shuffled_managers", "05_whatif.html", "No reorganisation simulated: clients have no stable manager"),
    ("shuffled_managers", "index.html", "clients have no stable manager"),
    # issue 28: the revenue walk stops at client flow without units or products, and says why
    ("no_quantity", "03_stagnation.html", "the data have no quantity column, so there is no unit price"),
    ("no_product", "03_stagnation.html", "the data have no product column, so price, volume and mix"),
    ("months_23", "03_stagnation.html", "Cannot tell yet: the walk compares"),
    # issue 29's early warnings: the at-risk list and the alerts
    ("months_23", "01_segmentation.html", "Cannot tell yet who is slipping away"),
    ("months_23", "index.html", "Cannot tell yet who is slipping away"),
    ("one_day", "03_stagnation.html", "Cannot tell yet whether a month is unusual"),
))
def test_sections_without_enough_evidence_say_so(runs, name, page, says):
    done, folder = runs[name]
    assert done.returncode == 0, done.stderr[-2000:]
    assert says in _page(folder, page)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PLAN_SHAPES))
def test_a_bad_plan_stops_the_run_before_any_workbook_in_one_line(tmp_path, name):
    what, write, says = PLAN_SHAPES[name]
    plan = write(tmp_path)
    out = tmp_path / "out"
    done = subprocess.run([SALESBOOK, "run", "-q", "--source", str(SAMPLE), "--plan", str(plan), "--output", str(out)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and says in lines[0] and str(plan) in lines[0]
    assert not list(out.glob("*/0*.html"))  # no workbook page was written


@pytest.mark.slow
@pytest.mark.xdist_group("shape-ends_early")
def test_data_ending_before_as_of_warn_in_the_log_and_give_no_false_decline(runs):
    done, folder = runs["ends_early"]
    assert done.returncode == 0, done.stderr[-2000:]
    assert "WARNING: the data end on 2026-08-31" in (folder / "run.log").read_text(encoding="utf-8")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdict"] != "declining"
    assert summary["monthly"]["month"][-1] == "2026-08-01"


@pytest.mark.slow
@pytest.mark.xdist_group("shape-months_25")
def test_longer_shapes_still_give_their_verdict(runs):
    done, folder = runs["months_25"]
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdict"] in ("growing", "flat", "declining")
    assert summary["turnover_change"] is not None
