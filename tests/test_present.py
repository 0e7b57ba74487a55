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


def test_two_workshops_on_two_ports_keep_their_own_presenting_folders(monkeypatch):
    """The second ``present`` emptied the folder the first one's Voilà ran in (one folder under the cache for
    every workshop): Voilà, started there, failed on its missing working folder. Voilà itself is not started
    here: each serve's command is recorded, with the folder it would run in."""
    started = []

    class Voila:
        def __init__(self, cmd, cwd, **kwargs):
            started.append(Path(cwd))

        def wait(self):
            return 0

    monkeypatch.setattr(present.subprocess, "Popen", Voila)
    monkeypatch.setattr(present, "stop", lambda proc, token="": 0)
    assert present.serve(["05"], port=18866) == present.serve(["05"], port=18867) == 0
    first, second = started
    assert first != second and list(first.glob("*.ipynb")) and list(second.glob("*.ipynb"))


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


def test_plotly_renderer_is_found_and_its_absence_is_one_line_exit_3(monkeypatch, tmp_path, capsys):
    """A workshop's charts are drawn by plotly's JupyterLab renderer: it must be where Voilà looks, and without
    it ``present`` stops before preparing anything, with one line and the environment's exit code."""
    found = present.check_renderer()
    assert found.name == "jupyterlab-plotly" and (found / "package.json").is_file()
    monkeypatch.setattr(present, "PLOTLY_RENDERER", "no-such-renderer")
    monkeypatch.setattr(present, "prepare", lambda *a, **k: pytest.fail("prepared before the check"))
    from salesbook.run import cli
    assert cli.main(["present", "05"]) == cli.EXIT_ENVIRONMENT
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no-such-renderer" in err and str(present.SHARE) in err, err


@pytest.fixture
def voila(tmp_path):
    """``salesbook present`` on a free port, stopped with its kernels afterwards."""
    port = present.free_port()
    proc = present.start(port, tmp_path / "voila.log")
    yield f"http://127.0.0.1:{port}/"
    stop_group(proc)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT"])
def test_a_signal_to_present_stops_voila_and_every_kernel(tmp_path, how):
    """Issue 24: SIGTERM to ``salesbook present`` left Voilà and its kernels running (kernels live in sessions
    of their own). The signal goes to the ``present`` process alone, as ``kill`` or a Ctrl+C would send it."""
    import signal
    import psutil
    proc = present.start(present.free_port(), tmp_path / "voila.log")
    try:
        root = psutil.Process(proc.pid)
        deadline = time.monotonic() + 120
        kernels: list = []
        while len(kernels) < 2 and time.monotonic() < deadline:  # the preheated kernels: one per workbook
            time.sleep(0.5)
            family = root.children(recursive=True)
            kernels = [p for p in family if "ipykernel" in " ".join(_cmdline(p))]
        assert len(kernels) >= 2, [_cmdline(p) for p in family]
        voila = [p for p in family if "voila" in " ".join(_cmdline(p))]
        assert voila, [_cmdline(p) for p in family]
        everyone = root.children(recursive=True)
        os.kill(proc.pid, getattr(signal, how))
        assert proc.wait(timeout=60) == 0
        _, alive = psutil.wait_procs(everyone, timeout=5)
        assert not [(p.pid, _cmdline(p)) for p in alive], "left running"
        log = (tmp_path / "voila.log").read_text()
        assert "Stopped Voilà and its kernels" in log, log[-2000:]
    finally:
        if proc.poll() is None:
            stop_group(proc)


def _cmdline(p) -> list[str]:
    try:
        return p.cmdline()
    except Exception:
        return []


def _texts(page, selector: str) -> str:
    """What a reader sees in an element (its text), or "" while it is not there."""
    return page.evaluate("(s) => { const e = document.querySelector(s); return e ? e.innerText : ''; }", selector)


@pytest.mark.slow
def test_workshop_in_headless_chromium_offline_every_slider_redraws_everything_it_moves(voila, chromium):
    """Issue 24: after the hunters slider moved to 7 the assumptions still said "25 → 22 + 3" and the effect by
    category kept its old figures; at 1280×720 the five sliders filled the screen and the chart was below it.
    Each slider is moved in turn and every element built from it must change; the chart is on the first
    screen, beside the sliders."""
    from playwright.sync_api import sync_playwright

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    problems, outside = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=present.BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("request", lambda r: outside.append(r.url)
                if urlparse(r.url).hostname not in ("127.0.0.1", None) and not r.url.startswith("data:") else None)

        page.goto(voila, timeout=60_000)
        links = page.locator("ul.voila-notebooks a")
        assert links.count() == 2 and links.all_inner_texts() == ["Overview", "What if"]
        page.get_by_text("What if").click()
        try:
            page.wait_for_selector(".sb-by-category table", timeout=180_000)
            page.wait_for_selector(".sb-assumptions table", timeout=60_000)
        except Exception:
            page.screenshot(path=str(ARTEFACTS / "present_whatif_failed.png"), full_page=True)
            raise AssertionError("the what-if page did not show its sliders; page text:\n"
                                 + page.locator("body").inner_text()[-3000:] + "\nproblems: " + repr(problems))
        page.screenshot(path=str(ARTEFACTS / "present_whatif_1280x720.png"))
        # the sliders sit beside the chart and its verdict, and the chart starts on the first screen
        levers = page.locator(".sb-explorer").first
        controls = levers.locator(".sb-control")
        assert controls.count() == 5
        first, last = controls.first.bounding_box(), controls.last.bounding_box()
        chart, verdict = page.locator(".sb-waterfall").bounding_box(), page.locator(".sb-verdict").first.bounding_box()
        assert chart["y"] < 720, chart  # above the fold at 1280×720
        assert verdict["y"] < chart["y"] < 720
        assert first["x"] + first["width"] <= chart["x"] and first["x"] + first["width"] <= verdict["x"]  # beside
        assert first["y"] < chart["y"] + chart["height"] and last["y"] + last["height"] > chart["y"]  # same rows
        assert re.search(r"\d", page.locator(".sb-control-base").first.inner_text())
        assert "%" in page.locator(".sb-control-label").first.inner_text()
        bars = page.locator(".sb-waterfall .sb-wf-bar")
        assert bars.count() == 7  # baseline, five levers, result

        moved = {".sb-verdict": "verdict", ".sb-waterfall": "waterfall", ".sb-by-category": "effect by category"}
        for i in range(5):  # reactivate, frequency, deal size, categories, retain: each moves all three
            before = {s: _texts(page, s) for s in moved}
            raw = bars.evaluate_all("bs => bs.map(b => b.dataset.value)")
            before_bars = [float(v) for v in raw]
            handle = levers.locator(".widget-slider .noUi-handle").nth(i)
            handle.focus()
            handle.press("ArrowRight")  # one step: one update of the kernel
            page.wait_for_function("([i, old]) => document.querySelectorAll('.sb-waterfall .sb-wf-bar')[i]"
                                   ".dataset.value !== old", arg=[i + 1, raw[i + 1]], timeout=30_000)
            for selector in moved:
                try:
                    page.wait_for_function("([s, old]) => document.querySelector(s).innerText !== old",
                                           arg=[selector, before[selector]], timeout=30_000)
                except Exception:
                    page.screenshot(path=str(ARTEFACTS / "present_whatif_stale.png"), full_page=True)
                    raise AssertionError(f"slider {i + 1} moved, the {moved[selector]} stayed:\n{before[selector]}")
            after_bars = [float(v) for v in bars.evaluate_all("bs => bs.map(b => b.dataset.value)")]
            assert after_bars[i + 1] > before_bars[i + 1] and after_bars[-1] > before_bars[-1]  # its lever, result up
            assert after_bars[0] == before_bars[0]  # the same baseline
            same = [j for j in range(5) if j != i and not (i == 1 and j == 2)]  # deal size compounds on frequency
            assert [after_bars[j + 1] for j in same] == [before_bars[j + 1] for j in same]  # the others unchanged
        page.screenshot(path=str(ARTEFACTS / "present_whatif.png"))

        # the reorganisation's slider: the number of hunters redraws its sentence, its years and its assumptions
        reorg = {"document.querySelectorAll('.sb-verdict')[1]": "sentence",
                 "document.querySelectorAll('.sb-explorer')[1].querySelector('table')": "yearly figures",
                 "document.querySelector('.sb-assumptions')": "assumptions"}
        read = lambda js: page.evaluate(f"() => {js}.innerText")  # noqa: E731
        before = {js: read(js) for js in reorg}
        managers = re.search(r"(\d+) → (\d+) \+ 3", before["document.querySelector('.sb-assumptions')"])
        assert managers, before
        hunters = page.locator(".sb-control").filter(has_text="hunting").locator(".noUi-handle")
        hunters.focus()
        for _ in range(4):  # 3 -> 7 hunters
            hunters.press("ArrowRight")
        page.wait_for_function("() => /With 7 hunters/.test(document.querySelectorAll('.sb-verdict')[1].innerText)",
                               timeout=30_000)
        for js, name in reorg.items():
            page.wait_for_function(f"(old) => {js}.innerText !== old", arg=before[js], timeout=30_000)
        total = int(managers.group(1))
        # the four steps update the outputs one after the other: the assumptions may still show an earlier step
        # when the sentence already shows the last one; wait for the last, then read it
        final = f"{total} → {total - 7} + 7"
        try:
            page.wait_for_function("(want) => document.querySelector('.sb-assumptions').innerText.includes(want)",
                                   arg=final, timeout=30_000)
        except Exception:
            pass  # the assertion below names what the assumptions say instead
        assert final in read("document.querySelector('.sb-assumptions')")
        page.screenshot(path=str(ARTEFACTS / "present_whatif_reorg.png"), full_page=True)

        page.goto(voila + "voila/render/00%20Overview.ipynb", timeout=180_000)
        try:
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1",
                                   timeout=180_000)
        except Exception:  # once under a full suite's load (2 cores): say what the page and Voilà showed instead
            page.screenshot(path=str(ARTEFACTS / "present_overview_failed.png"), full_page=True)
            raise AssertionError("the overview drew no chart; page text:\n" + page.locator("body").inner_text()[-3000:]
                                 + "\nproblems: " + repr(problems)) from None
        assert page.locator("table.sb-table").count() >= 2
        # the monthly chart is plotly's own renderer, served from this machine: no widget, no kernel round trip
        # (a FigureWidget's 5 MB state missed the widget manager's 2 s wait under load: "model not found")
        assert page.locator(".jp-RenderedPlotly.js-plotly-plot").count() >= 1
        assert page.locator(".js-plotly-plot .trace").count() >= 1
        assert page.locator(".widget-output, .jupyter-widgets").count() == 0
        page.screenshot(path=str(ARTEFACTS / "present_overview.png"))
        page.locator(".js-plotly-plot").first.screenshot(path=str(ARTEFACTS / "present_overview_chart.png"))
        browser.close()
    assert not problems, problems
    assert not outside, outside
