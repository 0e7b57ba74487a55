"""Workshop mode: the presenting copies, and Voilà in a real headless Chromium driven by Playwright."""

import os
import re
import time
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest

from salesbook.run import present
from salesbook.errors import ParameterError
from servers import stop_group

ARTEFACTS = Path(__file__).resolve().parents[1] / "reports" / "test-artifacts"


def test_presenting_copies_carry_the_parameters_and_leave_out_report_hide_cells(tmp_path):
    files = present.prepare(["05"], lang="ru", parameters={"05": {"reactivate": 0.3}}, folder=tmp_path / "p")
    assert [f.name for f in files] == ["05 Что если.ipynb"]  # the start page lists the workbooks by title
    nb = nbformat.read(files[0], as_version=4)
    assert not [c for c in nb.cells if "report-hide" in c.metadata.get("tags", [])]
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert 'lang = "ru"' in injected[0].source and "reactivate = 0.3" in injected[0].source
    # the default pair, and a fresh folder each time (no stale copies of other workbooks)
    files = present.prepare(folder=tmp_path / "p")
    assert sorted(f.name for f in (tmp_path / "p").glob("*.ipynb")) == ["00 Overview.ipynb", "05 What if.ipynb"]


def test_a_typo_in_a_presenting_parameter_stops_before_voila_starts(tmp_path):
    with pytest.raises(ParameterError, match="reactivat.*allowed"):
        present.prepare(["05"], parameters={"05": {"reactivat": 0.3}}, folder=tmp_path / "p")
    with pytest.raises(ParameterError, match="no notebook '07'"):
        present.prepare(["07"], folder=tmp_path / "p")


def test_voila_finds_the_salesbook_template_and_the_kernels_know_they_present(tmp_path):
    env = present.environment({"JUPYTER_PATH": "/elsewhere", "SALESBOOK_REPORT": "1"})
    assert env["JUPYTER_PATH"].split(os.pathsep) == [str(present.SHARE), "/elsewhere"]
    assert env["SALESBOOK_PRESENT"] == "1" and "SALESBOOK_REPORT" not in env
    page = present.SHARE / "voila" / "templates" / present.TEMPLATE
    assert {p.name for p in page.iterdir()} >= {"conf.json", "index.html.j2", "tree.html"}
    for f in page.iterdir():  # no address outside the machine in salesbook's own pages
        assert not re.search(r"(src|href)=\"https?://", f.read_text(encoding="utf-8")), f
    from voila.paths import collect_template_paths
    found = collect_template_paths(["voila", "nbconvert"], present.TEMPLATE, root_dirs=[str(present.SHARE)]
                                   + __import__("jupyter_core.paths").paths.jupyter_path())
    assert str(page) == found[0]
    cmd = present.command(tmp_path, port=9999)
    assert f"--template={present.TEMPLATE}" in cmd and "--port=9999" in cmd
    assert "--preheat_kernel=True" in cmd and "--pool_size=1" in cmd


@pytest.fixture
def voila(tmp_path):
    """``salesbook present`` on a free port, stopped with its kernels afterwards."""
    port = present.free_port()
    proc = present.start(port, tmp_path / "voila.log")
    yield f"http://127.0.0.1:{port}/"
    stop_group(proc)


@pytest.mark.slow
def test_workshop_in_headless_chromium_offline_slider_redraws_the_waterfall(voila, chromium):
    from playwright.sync_api import sync_playwright

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    problems, outside = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=present.BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("request", lambda r: outside.append(r.url)
                if urlparse(r.url).hostname not in ("127.0.0.1", None) and not r.url.startswith("data:") else None)

        page.goto(voila, timeout=60_000)
        links = page.locator("ul.voila-notebooks a")
        assert links.count() == 2 and links.all_inner_texts() == ["Overview", "What if"]
        page.get_by_text("What if").click()
        try:
            page.wait_for_selector(".sb-verdict", timeout=180_000)
        except Exception:
            page.screenshot(path=str(ARTEFACTS / "present_whatif_failed.png"), full_page=True)
            raise AssertionError("the what-if page did not show its sliders; page text:\n"
                                 + page.locator("body").inner_text()[-3000:] + "\nproblems: " + repr(problems))
        # the sliders sit above the waterfall they move, each with a plain label and its starting figure
        slider_top = page.locator(".sb-control").first.bounding_box()["y"]
        assert slider_top < page.locator(".sb-waterfall").bounding_box()["y"]
        assert re.search(r"\d", page.locator(".sb-control-base").first.inner_text())
        assert "%" in page.locator(".sb-control-label").first.inner_text()
        verdict, bars = page.locator(".sb-verdict").first, page.locator(".sb-waterfall .sb-wf-bar")
        assert bars.count() == 7  # baseline, five levers, result
        before_text = verdict.inner_text()
        before_bars = [float(v) for v in bars.evaluate_all("bs => bs.map(b => b.dataset.value)")]
        before_labels = page.locator(".sb-waterfall").inner_text()
        assert re.search(r"\d", before_text)

        handle = page.locator(".widget-slider .noUi-handle").first  # reactivate x % of the sleeping clients
        handle.focus()
        t0 = time.perf_counter()
        for _ in range(10):
            handle.press("ArrowRight")
        page.wait_for_function("(old) => document.querySelector('.sb-verdict').innerText !== old", arg=before_text,
                               timeout=20_000)
        page.wait_for_function("(old) => document.querySelector('.sb-waterfall').innerText !== old",
                               arg=before_labels, timeout=20_000)
        seconds = time.perf_counter() - t0
        after_bars = [float(v) for v in bars.evaluate_all("bs => bs.map(b => b.dataset.value)")]
        assert after_bars[1] > before_bars[1] and after_bars[-1] > before_bars[-1]  # reactivation, result up
        assert after_bars[0] == before_bars[0] and after_bars[2:6] == before_bars[2:6]  # the rest unchanged
        after_text = verdict.inner_text()
        amounts = lambda s: [float(x.replace(",", "")) for x in re.findall(r"RUB\s([\d,]+)", s)]  # noqa: E731
        # "... the 12 months after <as_of> bring <result> instead of <baseline>, the revenue of ... (<change>)"
        assert amounts(after_text)[0] > amounts(before_text)[0], (before_text, after_text)  # more reactivation
        assert amounts(after_text)[1] == amounts(before_text)[1]  # the same baseline
        page.screenshot(path=str(ARTEFACTS / "present_whatif.png"))
        # the reorganisation's slider: the number of hunters redraws its sentence
        reorg = page.locator(".sb-verdict").nth(1)
        before_reorg = reorg.inner_text()
        hunters = page.locator(".sb-control").filter(has_text="hunting").locator(".noUi-handle")
        hunters.focus()
        hunters.press("ArrowRight")
        page.wait_for_function("(old) => document.querySelectorAll('.sb-verdict')[1].innerText !== old",
                               arg=before_reorg, timeout=20_000)
        assert re.match(r"With 4 hunters", reorg.inner_text()), reorg.inner_text()

        # a workbook page is ready within 2 s of the click once the server is up (Voilà's preheated kernels)
        page.goto(voila, timeout=60_000)
        t0 = time.perf_counter()
        page.get_by_text("Overview").click()
        page.wait_for_selector("table.sb-table", timeout=60_000)
        ready = time.perf_counter() - t0
        print(f"workshop page ready {ready:.2f} s after the click")
        print(f"slider moved: sentence and waterfall redrawn within {seconds * 1000:.0f} ms (ten key presses)")

        page.goto(voila + "voila/render/00%20Overview.ipynb", timeout=180_000)
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1", timeout=180_000)
        assert page.locator("table.sb-table").count() >= 2
        page.screenshot(path=str(ARTEFACTS / "present_overview.png"))
        browser.close()
    assert not problems, problems
    assert not outside, outside
