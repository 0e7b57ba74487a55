"""JupyterLab welcomes a director: a workbook opens on its title, its explanation and outputs, code collapsed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from salesbook import paths
from salesbook.run import present
from servers import stop_group

ARTEFACTS = Path(__file__).resolve().parents[1] / "reports" / "test-artifacts"


def test_every_code_cell_is_collapsed_and_the_language_follows_the_data():
    for path in sorted(paths.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), path.name
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and all(c.metadata.get("jupyter", {}).get("source_hidden") for c in code), path.name
        params = next(c for c in code if "parameters" in c.metadata.get("tags", []))
        assert 'lang: str = ""' in params.source and 'currency: str = ""' in params.source


def test_the_sample_speaks_russian():
    from salesbook import data_language, get_cube
    assert data_language(get_cube("sample")) == "ru"


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on a free port, without a token, on a copy of the workbooks."""
    root = tmp_path / "lab"
    shutil.copytree(paths.NOTEBOOKS_DIR, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    port = present.free_port()
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
                             "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={root}",
                             "--ServerApp.ip=127.0.0.1", "--LabApp.news_url=", "--allow-root", "--ServerApp.disable_check_xsrf=True"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config")})
    deadline = time.time() + 90
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text())
            time.sleep(0.5)
    yield f"http://127.0.0.1:{port}/"
    stop_group(proc)


@pytest.mark.slow
def test_jupyterlab_opens_a_workbook_with_its_code_collapsed(lab, chromium):
    from playwright.sync_api import expect, sync_playwright
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=present.BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(lab + "lab/tree/05_whatif.ipynb", timeout=90_000)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
        # JupyterLab renders the cells as it goes (and only those near the view): the code cells and their
        # placeholders are counted together, in one evaluation in the page, once they settle; never after a
        # fixed wait (on a loaded machine 1.5 s showed one code cell of the workbook's)
        counts = ("() => [document.querySelectorAll('.jp-Notebook .jp-CodeCell').length,"
                  " document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPlaceholder').length]")

        def settle(condition: str) -> list[int]:
            """The two counts at the moment ``condition`` held (or, if it never did in 90 s, as they are)."""
            try:
                return page.wait_for_function(
                    f"() => {{ const [n, h] = ({counts})(); return ({condition}) ? [n, h] : false; }}",
                    timeout=90_000).json_value()
            except Exception:  # noqa: BLE001 - the assertion after it says what the page shows
                return page.evaluate(counts)

        n, h = settle("n >= 3 && h === n")
        assert n >= 3 and h == n, (n, h)  # every code cell collapsed
        # the first thing on the page is the workbook's title, not a settings cell
        first = page.locator(".jp-Notebook .jp-Cell").first
        expect(first).to_contain_text("What if", timeout=90_000)  # rendered as it goes, too
        assert "jp-MarkdownCell" in first.get_attribute("class")
        page.screenshot(path=str(ARTEFACTS / "lab_whatif_collapsed.png"))
        # a reader can still expand the code: a click on the placeholder shows the settings cell again
        page.locator(".jp-Notebook .jp-CodeCell .jp-InputPlaceholder").first.click()
        n, h = settle("h === n - 1")
        assert h == n - 1, (n, h)
        expect(page.locator(".jp-Notebook .jp-CodeCell .jp-Editor").first).to_contain_text("reactivate",
                                                                                         timeout=90_000)
        browser.close()


@pytest.mark.slow
def test_saving_a_workbook_in_jupyterlab_writes_its_text_pair_too(lab, tmp_path):
    """The jupytext extension the project installs pairs each .ipynb with its py:percent file: a save
    through JupyterLab's contents API (what its Save button calls) rewrites both."""
    import json
    url = lab + "api/contents/01_segmentation.ipynb"
    model = json.loads(urllib.request.urlopen(url + "?content=1", timeout=30).read())
    cells = model["content"]["cells"]
    cells[0]["source"] = "# Segmentation, edited in JupyterLab"
    body = json.dumps({"type": "notebook", "format": "json", "content": model["content"]}).encode()
    request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=30).read()
    root = tmp_path / "lab"  # the copy the lab fixture serves
    assert "# # Segmentation, edited in JupyterLab" in (root / "01_segmentation.py").read_text(encoding="utf-8")
    assert "Segmentation, edited in JupyterLab" in (root / "01_segmentation.ipynb").read_text(encoding="utf-8")
