"""End to end: `salesbook run`, offline HTML, failures that keep the last good report."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from salesbook.run.cli import main
from salesbook.errors import ParameterError
from salesbook.run.runner import RunError, check_parameters, list_notebooks, notebook_parameters, run

HERE = Path(__file__).resolve().parent
FAILING = HERE / "notebooks" / "90_failing.ipynb"
pytestmark = pytest.mark.slow


def test_every_workbook_parameter_line_is_understood_by_papermill():
    for nb in list_notebooks():
        cell = next(c for c in json.loads(nb.read_text())["cells"] if "parameters" in c["metadata"].get("tags", []))
        assigned = [ln.split(":")[0].split("=")[0].strip() for ln in "".join(cell["source"]).splitlines()
                    if ln.strip() and not ln.strip().startswith("#")]
        assert list(notebook_parameters(nb)) == assigned, nb.name


def test_a_mistyped_parameter_fails_before_anything_runs():
    nb = list_notebooks(["00"])[0]
    with pytest.raises(ParameterError, match="unknown parameter 'langg'.*allowed: source: str"):
        check_parameters(nb, {"langg": "ru"})
    with pytest.raises(ParameterError, match="'lang' must be str"):
        check_parameters(nb, {"lang": 3})
    # a parameter with a grammar is read before the run, not in a failing cell
    with pytest.raises(ParameterError, match="04_forecast.ipynb: spontaneous 'big': write an ABC class"):
        check_parameters(list_notebooks(["04"])[0], {"spontaneous": "big"})
    with pytest.raises(ParameterError, match="handover 'deal:2': write deals:N"):
        check_parameters(list_notebooks(["05"])[0], {"handover": "deal:2"})
    check_parameters(list_notebooks(["04"])[0], {"spontaneous": "50000"})


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    code = main(["run", "00", "--output", str(out), "--run-name", "good", "--lang", "ru", "-q"])
    assert code == 0
    return out


def test_run_writes_index_report_and_run_record(good_run):
    folder = good_run / "good"
    assert (folder / "index.html").exists() and (folder / "00_overview.html").exists()
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert 'href="00_overview.html"' in index and "Обзор" in index
    info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert info["notebooks"]["00_overview"]["lang"] == "ru" and "pandas" in info["versions"]
    assert (good_run / "latest").resolve() == folder.resolve()


def test_report_is_offline_without_code_and_with_plotly_once(good_run):
    page = (good_run / "good" / "00_overview.html").read_text(encoding="utf-8")
    assert page.count("Plotly.newPlot") >= 1
    # plotly.js once per run, beside the pages (issue 17: a run folder light enough to send); no other script
    # is fetched, and nothing from the network
    assert re.findall(r"<script[^>]+src=\"([^\"]+)\"", page) == ["plotly.min.js"]
    assert "plotly.js v" not in page
    bundle = (good_run / "good" / "plotly.min.js").read_text(encoding="utf-8")
    assert len(re.findall(r"plotly\.js v\d", bundle)) == 1
    index = (good_run / "good" / "index.html").read_text(encoding="utf-8")
    assert re.findall(r"<script[^>]+src=\"([^\"]+)\"", index) == ["plotly.min.js"]
    assert "get_cube(" not in page and "import salesbook" not in page  # no code cells
    assert "Параметры запуска" in page  # the parameters it ran with
    assert "Ключевые показатели" in page and "Key figures" not in page


def test_a_failing_notebook_names_the_cell_and_keeps_the_last_good_report(good_run, tmp_path):
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    shutil.copy(FAILING, nbdir / "90_failing.ipynb")
    before = (good_run / "good" / "00_overview.html").read_bytes()
    with pytest.raises(RunError) as err:
        run([str(nbdir / "90_failing.ipynb")], out=good_run, run_name="good")
    assert err.value.notebook == "90_failing.ipynb" and err.value.cell == 3  # its third cell
    assert "'if fail:'" in str(err.value)
    assert "ValueError: planted failure" in str(err.value)
    assert (good_run / "good" / "00_overview.html").read_bytes() == before
    assert (good_run / ".failed-good" / "notebooks" / "90_failing.ipynb").exists()


def test_a_failing_summary_fails_the_run_and_keeps_the_last_good_report(good_run, monkeypatch):
    """The summary runs beside the last notebooks; its failure still stops the run before the folder moves."""
    import salesbook.run.summary

    def broken(*args, **kwargs):
        raise ValueError("planted summary failure")

    monkeypatch.setattr(salesbook.run.summary, "summarise", broken)
    before = (good_run / "good" / "index.html").read_bytes()
    with pytest.raises(ValueError, match="planted summary failure"):
        run(["00"], out=good_run, run_name="good")
    assert (good_run / "good" / "index.html").read_bytes() == before
    assert "FAILED: planted summary failure" in (good_run / ".failed-good" / "run.log").read_text(encoding="utf-8")


def test_cli_exits_non_zero_and_names_notebook_and_cell(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "salesbook.run.cli", "run", str(FAILING), "--output", str(tmp_path),
                           "--run-name", "x"], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "90_failing.ipynb failed at cell 3" in proc.stderr
    assert not (tmp_path / "x").exists()


def test_cli_validate_prints_every_problem_and_exits_non_zero(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("Дата;Клиент;Сумма\n01.02.2024;А;1 234,50\n31.02.2024;Б;100\n05.03.2024;В;abc\n", encoding="utf-8")
    assert main(["validate", str(bad), "--mapping", "1c"]) == 1
    out = capsys.readouterr().out
    assert "3 problems" in out and "'Контрагент'" in out and "'31.02.2024'" in out and "'abc'" in out
    assert "Traceback" not in out


def test_hostile_client_name_is_escaped_in_tables(tmp_path, monkeypatch):
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell  # noqa: F401
    from salesbook.views.display import Book
    from salesbook.data.sample import HOSTILE_NAME
    shown = []
    import salesbook.views.display as d
    monkeypatch.setattr(d, "_display", lambda obj: shown.append(obj))  # put back after the test
    Book("en").table(pd.DataFrame({"client": [HOSTILE_NAME], "revenue": [1.0]}))
    html = shown[0].data
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_warm_kernel_has_imported_what_its_notebook_imports_and_bound_nothing(tmp_path):
    """The runner starts kernels while the cube is built and has them import ahead (salesbook.run.warm): the
    modules and their DEFERRED libraries are loaded, yet the notebook's namespace and counter are untouched."""
    from jupyter_client import BlockingKernelClient

    from salesbook.run.runner import _ask_to_stop, _stop_kernel, _warm_kernel
    import tempfile
    sockets = Path(tempfile.mkdtemp(prefix="sb-"))  # as the runner does: Unix sockets, no TCP port
    km = _warm_kernel("python3", tmp_path, ["salesbook.analysis.seasonality", "salesbook.views.display.fmt_pct", "no_such_module"],
                      sockets=sockets)
    try:
        assert km.get_connection_info()["transport"] == "ipc"
        kc = BlockingKernelClient()
        kc.load_connection_info(km.get_connection_info())
        kc.start_channels()
        out: list[str] = []
        reply = kc.execute_interactive(
            "import os, sys; print(sorted(m for m in ('salesbook.analysis.seasonality', 'statsmodels.tsa.seasonal', "
            "'statsmodels.regression.linear_model') if m in sys.modules), "
            "[k for k in ('salesbook', 'warm', 'importlib', '_m') if k in globals()], os.getcwd(), "
            "os.environ.get('SALESBOOK_REPORT'))",
            output_hook=lambda msg: out.append(msg["content"].get("text", "")), timeout=60)
        kc.stop_channels()
    finally:
        _ask_to_stop(km)
        _stop_kernel(km)
        assert not list(sockets.iterdir())  # its socket files removed
        sockets.rmdir()
    assert reply["content"]["status"] == "ok" and reply["content"]["execution_count"] == 1
    assert "".join(out).strip() == (f"['salesbook.analysis.seasonality', 'statsmodels.regression.linear_model', "
                                    f"'statsmodels.tsa.seasonal'] [] {tmp_path} 1")
    assert not km.has_kernel  # stopped


def test_tasks_start_longest_first_by_the_previous_run(tmp_path):
    from salesbook.run.runner import _longest_first
    from salesbook.run.summary import SUMMARY_FILE, previous_run
    names = ["00_a", "01_b", "02_c", "summary"]
    assert _longest_first(names, previous_run(tmp_path, "now")) == names  # no previous run: as given
    prev = tmp_path / "before"
    prev.mkdir()
    (prev / SUMMARY_FILE).write_text("{}")
    (prev / "run.json").write_text(json.dumps({"finished": "2026-01-01T00:00:00",
                                               "seconds": {"00_a": 1.0, "01_b": 9.0, "summary": 4.0}}))
    # 02_c was not timed (a new notebook): first; then the longest; the summary last whatever its time (it reads
    # what the workbooks keep: started beside them, it computes their results while their kernels wait)
    assert _longest_first(names, previous_run(tmp_path, "now")) == ["02_c", "01_b", "00_a", "summary"]
