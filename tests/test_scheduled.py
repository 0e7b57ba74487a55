"""Scheduled runs: config errors before anything runs, what changed between runs, the summary page offline."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from salesbook.run.cli import main
from salesbook.run.runner import resolve_as_of
from salesbook.run.summary import what_changed

ARTEFACTS = Path(__file__).resolve().parents[1] / "reports" / "test-artifacts"


def test_a_typo_in_a_config_parameter_fails_before_any_notebook_with_the_allowed_names(tmp_path, capsys):
    cfg = tmp_path / "acme.yml"
    cfg.write_text("source: sample\nparameters:\n  '00':\n    exampels: 3\n", encoding="utf-8")
    assert main(["run", "--config", str(cfg), "--output", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "unknown parameter 'exampels'" in err and "examples: int" in err and "lang: str" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_unknown_config_keys_and_wrong_types_are_errors(tmp_path, capsys):
    cfg = tmp_path / "acme.yml"
    cfg.write_text("sorce: sample\n", encoding="utf-8")
    assert main(["run", "--config", str(cfg), "-q"]) == 2
    assert "unknown keys sorce" in capsys.readouterr().err
    cfg.write_text("parameters:\n  '00':\n    examples: three\n", encoding="utf-8")
    assert main(["run", "--config", str(cfg), "-q", "--output", str(tmp_path)]) == 2
    assert "'examples' must be int" in capsys.readouterr().err


def test_last_full_month_is_the_end_of_the_previous_month():
    import datetime as dt
    assert resolve_as_of("last-full-month", dt.date(2026, 11, 22)) == "2026-10-31"
    assert resolve_as_of("last-full-month", dt.date(2026, 3, 1)) == "2026-02-28"
    assert resolve_as_of("2026-05-31") == "2026-05-31"


def test_what_changed_by_hand():
    prev = pd.DataFrame({"client_id": ["a", "b", "c", "d"], "category": ["regular", "sleeping", "vip", "new"]})
    cur = pd.DataFrame({"client_id": ["a", "b", "c", "d", "e"],
                        "category": ["sleeping", "reactivated", "vip", "regular", "new"]})
    w = what_changed({"as_of": "2024-11-30", "turnover_12m": 100.0}, {"as_of": "2024-12-31", "turnover_12m": 90.0},
                     prev, cur)
    assert w["fell_asleep"] == ["a"] and w["came_back"] == ["b"] and w["changed"] == 4
    assert w["moves"] == {"regular>sleeping": 1, "sleeping>reactivated": 1, "new>regular": 1, "absent>new": 1}
    assert w["turnover_12m_change"] == -10.0 and w["turnover_12m_change_share"] == pytest.approx(-0.1)


def _lines(until: str) -> pd.DataFrame:
    """30 months of four clients: x stops in June 2024, y pauses and comes back in December."""
    rows = []
    months = pd.date_range("2022-07-01", "2024-12-01", freq="MS")
    for m in months:
        rows.append(("big", m + pd.Timedelta(days=9), 1000.0))
        rows.append(("reg", m + pd.Timedelta(days=12), 300.0))
        if m <= pd.Timestamp("2024-06-01"):
            rows.append(("x", m + pd.Timedelta(days=3), 200.0))
        if m <= pd.Timestamp("2024-01-01") or m == pd.Timestamp("2024-12-01"):
            rows.append(("y", m + pd.Timedelta(days=5), 150.0))
    df = pd.DataFrame(rows, columns=["client_id", "date", "amount"])
    df["order_id"] = [f"o{i}" for i in range(len(df))]
    return df[df.date <= until]


@pytest.mark.slow
def test_two_runs_a_month_apart_say_what_changed(tmp_path):
    out = tmp_path / "reports"
    for name, until in (("nov", "2024-11-30"), ("dec", "2024-12-31")):
        path = tmp_path / f"{name}.parquet"
        _lines(until).to_parquet(path)
        assert main(["run", "00", "--source", str(path), "--as-of", until, "--output", str(out), "--run-name", name,
                     "-q"]) == 0
    first = json.loads((out / "nov" / "summary.json").read_text(encoding="utf-8"))
    assert first["changes"] is None
    changes = json.loads((out / "dec" / "summary.json").read_text(encoding="utf-8"))["changes"]
    # x last bought on 2024-06-04: asleep on 2024-12-31 (over six months), not yet on 2024-11-30; y came back
    assert changes["previous_run"] == "nov" and changes["fell_asleep"] == ["x"] and changes["came_back"] == ["y"]
    # Dec 2024 (big, reg, y) comes into the window, Dec 2023 (big, reg, x, y) leaves it
    assert changes["turnover_12m_change"] == pytest.approx((1000 + 300 + 150) - (1000 + 300 + 200 + 150))
    page = (out / "dec" / "index.html").read_text(encoding="utf-8")
    assert "fell asleep" in page and "2024-11-30" in page


@pytest.mark.slow
def test_summary_page_renders_offline_in_headless_chromium_with_every_chart(tmp_path, chromium):
    out = tmp_path / "reports"
    assert main(["run", "00", "--output", str(out), "--run-name", "r", "-q", "--lang", "ru"]) == 0
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    from salesbook.run.present import BROWSER_ARGS
    flags = ["--headless", *BROWSER_ARGS, f"--user-data-dir={tmp_path / 'chrome'}", "--virtual-time-budget=10000",
             "--enable-logging=stderr", "--v=0"]
    for page in ("index.html", "00_overview.html"):
        url = (out / "r" / page).as_uri()
        dom = subprocess.run([chromium, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120)
        charts = dom.stdout.count('class="plotly-graph-div')
        drawn = len(re.findall(r'<svg[^>]+class="main-svg"', dom.stdout))
        assert charts >= 1 and drawn >= charts, (page, charts, drawn)
        errors = [ln for ln in dom.stderr.splitlines() if "Uncaught" in ln or ("CONSOLE" in ln and "rror" in ln)]
        assert not errors, errors
        subprocess.run([chromium, *flags, "--window-size=1280,2400", f"--screenshot={ARTEFACTS / (page + '.png')}", url],
                       capture_output=True, timeout=120)
    assert (ARTEFACTS / "index.html.png").stat().st_size > 10_000
