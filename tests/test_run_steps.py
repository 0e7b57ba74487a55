"""The run's steps (issue 27), driven with a fake engine: no kernel, no cube, no nbconvert.

Each failure path of a scheduled run (a failing notebook, a cube that cannot be built, an interrupt, a busy
output folder, what a killed run left, a full disk) is asserted on the step it happens in; the end-to-end
runs in tests/test_runner.py and tests/test_faults.py keep one real run per path.
"""

from __future__ import annotations

import errno
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import FrozenInstanceError
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
import pandas as pd
import pytest

from salesbook.errors import DataError
from salesbook.run import folder, runner
from salesbook.run.kernels import SOCKETS_PREFIX, CellFailed
from salesbook.run.runner import (Built, Executed, Page, RunError, RunLog, RunOptions, RunPlan, Summary, Workspace,
                                  compare_with, execute, prepare_folder, publish, write_records)


class FakeEngine:
    """Executes a notebook by copying it with one output per code cell; ``fail`` maps a notebook's stem to the
    index (in the executed notebook) of the cell that raises; ``hold`` makes ``execute`` wait for an event."""

    def __init__(self, fail: dict[str, int] | None = None, hold: threading.Event | None = None):
        self.fail = fail or {}
        self.hold = hold
        self.started: list[str] = []
        self.executed: list[tuple[str, dict[str, Any]]] = []
        self.released: list[str] = []
        self.closed = 0
        self.lock = threading.Lock()

    def start(self, notebook: Path, cwd: Path) -> str:
        with self.lock:
            self.started.append(notebook.stem)
        return notebook.stem

    def execute(self, handle: str, notebook: Path, output: Path, parameters: dict[str, Any]) -> nbformat.NotebookNode:
        nb = nbformat.read(notebook, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": f"# {notebook.stem}"})]
        nbformat.write(nb, output)
        with self.lock:
            self.executed.append((notebook.stem, parameters))
        if self.hold is not None:
            self.hold.wait(5)
        if notebook.stem in self.fail:
            raise CellFailed(self.fail[notebook.stem], "ZeroDivisionError", "division by zero")
        return nb

    def release(self, handle: str) -> None:
        with self.lock:
            self.released.append(handle)

    def close(self) -> None:
        self.closed += 1


def notebooks(tmp_path: Path, *stems: str) -> tuple[tuple[Path, dict[str, Any]], ...]:
    """Tiny workbooks: a parameters cell, then ``x = 1`` and ``1 / 0``."""
    folder_ = tmp_path / "nbs"
    folder_.mkdir(exist_ok=True)
    out = []
    for stem in stems:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("lang = 'en'", metadata={"tags": ["parameters"]}),
                    nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("1 / 0")]
        path = folder_ / f"{stem}.ipynb"
        nbformat.write(nb, path)
        out.append((path, {"lang": "en", "stem": stem}))
    return tuple(out)


def a_plan(tmp_path: Path, *stems: str, **options: Any) -> RunPlan:
    planned = notebooks(tmp_path, *stems)
    return RunPlan(run_name="r1", out=tmp_path / "reports", source="sample", mapping="", as_of="2026-10-31",
                   lang="en", currency="RUB", pipeline=None, plan_file=None, notebooks=planned, settings=None,
                   nav=tuple((p.stem, f"{p.stem}.html") for p, _ in planned), options=RunOptions(**options))


def a_workspace(plan: RunPlan) -> Workspace:
    work = Workspace.for_plan(plan)
    (work.tmp / "notebooks").mkdir(parents=True)
    return work


def fake_render(plan: RunPlan, work: Workspace, notebook: Path, parameters: dict[str, Any], nb: Any) -> Page:
    (work.tmp / f"{notebook.stem}.html").write_text(f"<h1>{notebook.stem}</h1>", encoding="utf-8")
    return Page(notebook.stem.upper(), f"{notebook.stem}.html")


CATEGORIES = pd.DataFrame({"client_id": ["A", "=B"], "category": ["vip", "sleeping"]})


def summary_of(cube: Any) -> Summary:
    return Summary({"revenue": cube.revenue}, CATEGORIES)


def fake_cube() -> SimpleNamespace:
    report = SimpleNamespace(source="sample", as_of="2026-10-31", rows_kept=3, to_json=lambda: '{"lines": 3}')
    return SimpleNamespace(revenue=100.0, report=report)


# --------------------------------------------------------------------------- execute


def test_execute_runs_every_notebook_on_the_engine_renders_in_plan_order_and_closes_the_engine(tmp_path):
    plan = a_plan(tmp_path, "00_a", "01_b", "02_c", jobs=2)
    work = a_workspace(plan)
    engine, lines = FakeEngine(), []
    done = execute(plan, work, engine, build=lambda: Built(fake_cube(), {"cube": 0.5}), summarise=summary_of,
                   render=fake_render, log=lines.append)
    assert [p.file for p in done.pages] == ["00_a.html", "01_b.html", "02_c.html"]  # the plan's order
    assert [p.title for p in done.pages] == ["00_A", "01_B", "02_C"]
    assert sorted(engine.started) == sorted(engine.released) == ["00_a", "01_b", "02_c"] and engine.closed == 1
    assert dict(engine.executed)["01_b"] == {"lang": "en", "stem": "01_b"}  # each notebook its own parameters
    assert done.summary.figures == {"revenue": 100.0} and done.cube.revenue == 100.0
    assert set(done.started) == {"00_a", "01_b", "02_c", "summary"}
    assert {"cube", "summary", "00_a", "00_a html"} <= set(done.seconds)
    assert "summary" in lines and any(ln.startswith("[2/3] 01_b") for ln in lines)
    assert all((work.tmp / "notebooks" / f"{s}.ipynb").exists() for s in ("00_a", "01_b", "02_c"))


def test_tasks_start_longest_first_by_the_previous_run(tmp_path):
    plan = a_plan(tmp_path, "00_a", "01_b", jobs=1)
    prev = tmp_path / "prev"
    prev.mkdir()
    (prev / "run.json").write_text('{"seconds": {"00_a": 1, "01_b": 9, "summary": 4}}', encoding="utf-8")
    engine = FakeEngine()
    done = execute(plan, a_workspace(plan), engine, build=lambda: Built(fake_cube()), summarise=summary_of,
                   render=fake_render, prev=prev)
    # the summary last though the previous run timed it longer than 00_a: it reads what the workbooks keep,
    # and started beside them it computes their results itself while their kernels wait
    assert done.started == ("01_b", "00_a", "summary")
    assert engine.started == ["01_b", "00_a"]  # one job: one kernel at a time, in that order


def test_a_first_run_starts_the_workbooks_that_are_typically_longest_first_and_the_summary_last(tmp_path):
    from salesbook.run.runner import TYPICAL_SECONDS, _longest_first
    names = ["00_overview", "01_segmentation", "02_seasonality", "03_stagnation", "04_forecast", "05_whatif",
             "09_mine", "summary"]
    order = _longest_first(names, None)
    assert order == ["09_mine", "03_stagnation", "01_segmentation", "04_forecast", "02_seasonality", "05_whatif",
                     "00_overview", "summary"]  # a notebook of unknown length first, as the given order has it
    assert set(map(str, TYPICAL_SECONDS)) == set(names) - {"09_mine", "summary"}  # every workbook has its time
    # a previous run that timed them: its times, and a notebook it did not run first
    prev = tmp_path / "prev"
    prev.mkdir()
    (prev / "run.json").write_text('{"seconds": {"00_overview": 30, "03_stagnation": 2, "summary": 99}}',
                                   encoding="utf-8")
    assert _longest_first(["03_stagnation", "00_overview", "01_segmentation", "summary"], prev) == [
        "01_segmentation", "00_overview", "03_stagnation", "summary"]


def test_a_failing_cell_is_a_run_error_naming_the_notebook_and_the_cell_as_the_user_counts_it(tmp_path):
    plan = a_plan(tmp_path, "00_a", "01_b", jobs=2)
    work = a_workspace(plan)
    engine, lines = FakeEngine(fail={"01_b": 2}), []
    with pytest.raises(RunError) as caught:
        execute(plan, work, engine, build=lambda: Built(fake_cube()), summarise=summary_of, render=fake_render,
                log=lines.append)
    err = caught.value
    assert (err.notebook, err.cell) == ("01_b.ipynb", 3)  # the third cell, counting from 1
    assert "cell starting '1 / 0'" in str(err) and "ZeroDivisionError: division by zero" in str(err)
    assert str(plan.failed / "notebooks" / "01_b.ipynb") in str(err) and "last good report is untouched" in str(err)
    assert engine.closed == 1 and sorted(engine.released) == sorted(engine.started)  # every kernel let go
    assert lines[-1].startswith("FAILED: 01_b.ipynb failed at cell 3")


@pytest.mark.parametrize("big", [False, True], ids=["small data", "big data"])
def test_each_next_kernel_starts_while_the_notebook_before_it_runs_and_no_more(tmp_path, big):
    # one job: the next SPARE_KERNELS notebooks' kernels are started while 00_a runs, not after it; the last one's
    # waits (jobs + SPARE_KERNELS at most); from SPARE_BELOW lines, one kernel to spare
    from salesbook.run.runner import SPARE_BELOW, SPARE_KERNELS
    spare = 1 if big else SPARE_KERNELS
    names = [f"{i:02d}_n" for i in range(SPARE_KERNELS + 2)]
    cube = fake_cube()
    cube.report.rows_kept = SPARE_BELOW if big else SPARE_BELOW - 1
    plan = a_plan(tmp_path, *names, jobs=1)
    hold = threading.Event()
    engine = FakeEngine(hold=hold)
    seen: list[list[str]] = []

    def watch() -> None:
        while not engine.executed:
            time.sleep(0.01)
        deadline = time.monotonic() + 5  # 00_n is executing, held: the kernels to spare start (on a busy machine
        while len(engine.started) < 1 + spare and time.monotonic() < deadline:  # their threads may take a while)
            time.sleep(0.01)
        time.sleep(0.2)  # and no more
        with engine.lock:
            seen.append(list(engine.started))
        hold.set()
    threading.Thread(target=watch, daemon=True).start()
    done = execute(plan, a_workspace(plan), engine, build=lambda: Built(cube), summarise=summary_of,
                   render=fake_render)
    assert seen == [names[:1 + spare]]
    assert engine.started == names == sorted(engine.released)
    assert len(done.pages) == len(names)


def test_kernels_started_ahead_for_notebooks_that_never_run_are_let_go(tmp_path):
    # a run that stops after its first notebook: the kernels started ahead for the next ones are let go, and the
    # last one's never starts (one job: 1 + SPARE_KERNELS kernels at most started and not let go)
    from salesbook.run.runner import SPARE_KERNELS, _KernelsAhead
    engine = FakeEngine()
    names = [f"{i:02d}_k" for i in range(SPARE_KERNELS + 2)]
    planned = notebooks(tmp_path, *names)
    kernels = _KernelsAhead(engine, tmp_path, [(i, path) for i, (path, _) in enumerate(planned)], jobs=1)
    first = kernels.take(0)

    def settle(n: int) -> None:
        deadline = time.monotonic() + 5
        while len(engine.started) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
    settle(2)
    assert engine.started == names[:2]  # while the cube is built: one kernel to spare
    kernels.spare()
    settle(1 + SPARE_KERNELS)
    assert engine.started == names[:-1]  # then SPARE_KERNELS; the last one waits for room
    kernels.release(first)
    kernels.stop()
    kernels.close()
    assert engine.started == names[:-1] and sorted(engine.released) == sorted(engine.started)
    # and in a run whose notebook fails, every kernel started is let go
    plan = a_plan(tmp_path, "10_a", "11_b", "12_c", "13_d", jobs=1)
    engine = FakeEngine(fail={"10_a": 2})
    with pytest.raises(RunError, match="10_a.ipynb failed"):
        execute(plan, a_workspace(plan), engine, build=lambda: Built(fake_cube()), summarise=summary_of,
                render=fake_render)
    assert sorted(engine.released) == sorted(engine.started) and engine.closed == 1


def test_a_cube_that_cannot_be_built_stops_the_tasks_waiting_for_it_and_every_kernel(tmp_path):
    plan = a_plan(tmp_path, "00_a", "01_b", "02_c", jobs=3)
    work = a_workspace(plan)
    engine = FakeEngine()

    def build() -> Built:
        raise DataError("sales.csv", "column 'amount' has 12 non-numeric values")
    with pytest.raises(DataError, match="non-numeric"):
        execute(plan, work, engine, build=build, summarise=summary_of, render=fake_render)
    assert engine.executed == []  # nobody ran a notebook without a cube
    assert sorted(engine.released) == sorted(engine.started) and engine.closed == 1


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_an_interrupt_while_the_cube_is_built_stops_every_kernel_and_removes_the_runs_own_cache(tmp_path, interrupt):
    plan = a_plan(tmp_path, "00_a", "01_b", jobs=2, cache=False)
    work = a_workspace(plan)
    work.cache_dir.mkdir()
    engine = FakeEngine()

    def build() -> Built:
        raise interrupt()
    with pytest.raises(interrupt):
        execute(plan, work, engine, build=build, summarise=summary_of, render=fake_render)
    assert engine.closed == 1 and sorted(engine.released) == sorted(engine.started)
    assert not work.cache_dir.exists()


def test_a_notebook_failing_while_others_run_waits_for_them_before_returning(tmp_path):
    """The folder is set aside only once every kernel stopped: execute returns after the running tasks end."""
    plan = a_plan(tmp_path, "00_a", "01_b", jobs=2)
    hold = threading.Event()
    engine = FakeEngine(fail={"00_a": 1}, hold=hold)
    threading.Timer(0.05, hold.set).start()
    with pytest.raises(RunError):
        execute(plan, a_workspace(plan), engine, build=lambda: Built(fake_cube()), summarise=summary_of,
                render=fake_render)
    assert hold.is_set() and sorted(s for s, _ in engine.executed) == ["00_a", "01_b"]
    assert engine.closed == 1


# --------------------------------------------------------------------------- settings passed, not hidden


def test_the_kernels_get_the_report_mode_and_the_runs_own_cache_and_the_process_keeps_its_environment(tmp_path):
    cached, own = Workspace.for_plan(a_plan(tmp_path, "00_a")), Workspace.for_plan(a_plan(tmp_path, "00_a", cache=False))
    assert cached.kernel_env == {"SALESBOOK_REPORT": "1"} and cached.cache_dir is None
    assert own.kernel_env == {"SALESBOOK_REPORT": "1", "SALESBOOK_CACHE": str(own.tmp / ".cube-cache"),
                              "SALESBOOK_RUN_CACHE": "1"}
    # a table in another engine (no file a cache could watch): the run's own cache, which its kernels read
    from dataclasses import replace
    for source in ("postgres://u@db/erp#sales", "spark:erp.sales", "duckdb:///w.duckdb#lines"):
        table = Workspace.for_plan(replace(a_plan(tmp_path, "00_a"), source=source))
        assert table.cache_dir == table.tmp / ".cube-cache"
        assert table.kernel_env["SALESBOOK_RUN_CACHE"] == "1"
    assert Workspace.for_plan(replace(a_plan(tmp_path, "00_a"), source="spark:sample")).cache_dir is None  # a file
    before = dict(os.environ)
    plan = a_plan(tmp_path, "00_a", cache=False)
    execute(plan, a_workspace(plan), FakeEngine(), build=lambda: Built(fake_cube()), summarise=summary_of,
            render=fake_render)
    assert dict(os.environ) == before


def test_the_steps_records_are_frozen(tmp_path):
    plan = a_plan(tmp_path, "00_a")
    with pytest.raises(FrozenInstanceError):
        plan.lang = "ru"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        Page("a", "a.html").file = "b.html"  # type: ignore[misc]


# --------------------------------------------------------------------------- the output folder


def test_a_second_run_on_a_held_folder_is_busy_naming_the_first(tmp_path):
    held = folder.lock_output(tmp_path)
    try:
        with pytest.raises(runner.RunBusy, match=rf"another run \(pid {os.getpid()}, started .*\) is writing to"):
            folder.lock_output(tmp_path, wait=0)
    finally:
        held.close()
    folder.lock_output(tmp_path).close()  # released: the next run gets it


def test_what_a_killed_run_left_is_removed_under_the_lock_and_logged(tmp_path, monkeypatch):
    plan = a_plan(tmp_path, "00_a")
    plan.out.mkdir()
    (plan.out / ".tmp-old-123-abcdef" / "notebooks").mkdir(parents=True)  # a dead run's temporary folder
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid names nothing now
    sockets = Path(tempfile.mkdtemp(prefix=f"{SOCKETS_PREFIX}{dead.pid}-"))
    (sockets / "kernel-1.json").write_text("{}", encoding="utf-8")  # a kernel's key
    mine = Path(tempfile.mkdtemp(prefix=f"{SOCKETS_PREFIX}{os.getpid()}-"))  # a live process's: kept
    runner_log = RunLog()
    work = Workspace.for_plan(plan)
    try:
        monkeypatch.setattr(runner, "write_assets", lambda _folder: [])  # the pages' files are not the subject here
        prepare_folder(plan, work, runner_log)
        assert not (plan.out / ".tmp-old-123-abcdef").exists() and not sockets.exists() and mine.exists()
        removed = [ln.split("removed the leftovers of a run that died: ", 1)[1] for ln in runner_log.lines
                   if "removed the leftovers of a run that died: " in ln]
        # each named once (another test's killed run may have left its own sockets in the temporary folder too)
        assert removed.count(str(plan.out / ".tmp-old-123-abcdef")) == 1 and removed.count(str(sockets)) == 1
        assert str(mine) not in removed
        assert (work.tmp / "notebooks").is_dir()
    finally:
        mine.rmdir()


def test_a_full_disk_while_writing_the_records_keeps_only_the_notebooks_and_the_log(tmp_path, monkeypatch):
    plan = a_plan(tmp_path, "00_a")
    work = a_workspace(plan)
    (work.tmp / "notebooks" / "00_a.ipynb").write_text("{}", encoding="utf-8")
    (work.tmp / "00_a.html").write_text("page", encoding="utf-8")
    good = plan.out / "good"
    good.mkdir()
    (good / "index.html").write_text("last good", encoding="utf-8")

    def full(*_a: Any, **_k: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(work.tmp / "categories.csv"))
    monkeypatch.setattr(runner, "write_plain_csv", full)
    done = Executed(fake_cube(), (Page("A", "00_a.html"),), Summary({"revenue": 1.0}, CATEGORIES), {})
    log = RunLog()
    log("loading sample")
    with pytest.raises(OSError) as caught:
        write_records(plan, work, done, None, pd.Timestamp("2026-11-02").to_pydatetime())
    folder.set_aside(work.tmp, plan.failed, log.lines, caught.value)
    assert not work.tmp.exists() and {p.name for p in plan.failed.iterdir()} == {"notebooks", "run.log"}
    text = (plan.failed / "run.log").read_text(encoding="utf-8")
    assert "loading sample" in text and "No space left on device" in text
    assert (good / "index.html").read_text(encoding="utf-8") == "last good"


def test_a_disk_too_full_to_keep_the_log_leaves_no_half_written_folder(tmp_path, monkeypatch):
    plan = a_plan(tmp_path, "00_a")
    work = a_workspace(plan)
    (work.tmp / "notebooks" / "00_a.ipynb").write_text("{}", encoding="utf-8")

    def full(self: Path, *_a: Any, **_k: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(self))
    monkeypatch.setattr(pathlib.Path, "write_text", full)
    folder.set_aside(work.tmp, plan.failed, [], OSError(errno.ENOSPC, "No space left on device"))
    monkeypatch.undo()
    assert not work.tmp.exists() and not plan.failed.exists()


def test_bad_input_before_any_notebook_ran_leaves_nothing(tmp_path):
    plan = a_plan(tmp_path, "00_a")
    work = a_workspace(plan)
    folder.set_aside(work.tmp, plan.failed, [], DataError("sales.csv", "bad date"))
    assert not work.tmp.exists() and not plan.failed.exists()


def test_publish_swaps_a_run_of_the_same_name_and_points_latest_at_it(tmp_path):
    plan = a_plan(tmp_path, "00_a")
    for text in ("first", "second"):
        work = a_workspace(plan)
        (work.tmp / "notebooks" / "00_a.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()), encoding="utf-8")
        (work.tmp / "index.html").write_text(text, encoding="utf-8")
        log = RunLog()
        final = publish(plan, work, log)
    assert final == plan.out / "r1" and (final / "index.html").read_text(encoding="utf-8") == "second"
    assert {p.name for p in final.iterdir()} == {"index.html", "notebooks.zip", "run.log"}
    assert (plan.out / "latest").resolve() == final.resolve()
    assert not list(plan.out.glob(".old-*")) and not list(plan.out.glob(".tmp-*"))
    assert "finished: r1" in (final / "run.log").read_text(encoding="utf-8")


def test_compare_with_no_previous_run_is_none_and_with_one_names_it(tmp_path):
    assert compare_with(None, Summary({}, CATEGORIES)) is None
    from salesbook.run.summary import CATEGORIES_FILE, SUMMARY_FILE
    prev = tmp_path / "2026-10-02_0230"
    prev.mkdir()
    (prev / SUMMARY_FILE).write_text('{"revenue": 90.0}', encoding="utf-8")
    CATEGORIES.assign(category=["vip", "vip"]).to_csv(prev / CATEGORIES_FILE, index=False)
    changes = compare_with(prev, Summary({"revenue": 100.0}, CATEGORIES))
    assert changes["previous_run"] == "2026-10-02_0230"


# --------------------------------------------------------------------------- run() composes the steps


def test_run_composes_the_steps_and_a_failing_notebook_keeps_the_last_good_report(tmp_path, monkeypatch):
    plan = a_plan(tmp_path, "00_a", "01_b")
    monkeypatch.setattr(runner, "plan_run", lambda *a, **k: plan)
    monkeypatch.setattr(runner, "write_assets", lambda _folder: [])
    monkeypatch.setattr(runner, "build_cube", lambda *_a: Built(fake_cube(), {"cube": 0.1}))
    monkeypatch.setattr(runner, "summarise_run", lambda _plan, cube: summary_of(cube))
    monkeypatch.setattr(runner, "render_page", fake_render)
    monkeypatch.setattr(runner, "write_index", lambda plan, work, done, *a: (work.tmp / "index.html").write_text(
        " ".join(p.file for p in done.pages), encoding="utf-8"))
    monkeypatch.setattr(runner, "_warm_runner", lambda *a: None)
    before = dict(os.environ)
    seen: list[str] = []

    result = runner.run(engine=FakeEngine(), log=seen.append)
    assert result.folder == plan.out / "r1" and result.index.read_text(encoding="utf-8") == "00_a.html 01_b.html"
    assert [p.name for p in result.reports] == ["00_a.html", "01_b.html"]
    assert {"run.json", "summary.json", "categories.csv", "load_report.json", "notebooks.zip", "run.log"} <= {
        p.name for p in result.folder.iterdir()}
    assert seen[-1] == f"done: {result.index}" and dict(os.environ) == before

    engine = FakeEngine(fail={"01_b": 1})
    with pytest.raises(RunError, match="01_b.ipynb failed at cell 2"):
        runner.run(engine=engine)
    assert engine.closed == 1
    assert result.index.read_text(encoding="utf-8") == "00_a.html 01_b.html"  # untouched
    assert {p.name for p in plan.failed.iterdir()} == {"notebooks", "run.log"}
    assert not list(plan.out.glob(".tmp-*")) and dict(os.environ) == before
    folder.lock_output(plan.out).close()  # the lock was released


def test_the_run_folders_files_have_one_name_each():
    from salesbook.analysis.settings import SETTINGS_FILE
    from salesbook.run.folder import RunFile
    from salesbook.run.summary import CATEGORIES_FILE, SUMMARY_FILE
    from salesbook.views.glossary import GLOSSARY_PAGE
    from salesbook.views.pages import SUMMARY_PAGE
    assert (RunFile.SUMMARY, RunFile.CATEGORIES, RunFile.GLOSSARY, RunFile.SETTINGS, RunFile.INDEX) == (
        SUMMARY_FILE, CATEGORIES_FILE, GLOSSARY_PAGE, SETTINGS_FILE, SUMMARY_PAGE)
    assert runner.LOCK_FILE == ".salesbook.lock" and runner.NOTEBOOKS_ZIP == "notebooks.zip"
    assert str(Path("/r") / RunFile.RUN_LOG) == "/r/run.log"


def test_a_page_is_rendered_as_nbconverts_html_exporter_renders_it_without_its_second_parse():
    """render's exporter skips nbconvert's BeautifulSoup pass over the whole page (most of a long page's
    rendering time) and adds what that pass adds on the text: the same visible text, a tabindex on each
    output, an alt on an image that lacks one, escaped markup left escaped."""
    import nbformat
    from nbconvert import HTMLExporter
    from shapes import visible_text

    from salesbook.run import render

    out = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("x", outputs=[
        out("display_data", data={"text/markdown": "# Title\n\nA client: &lt;b&gt;ООО «Ромашка»&lt;/b&gt;"}),
        out("display_data", data={"text/html": '<table class="sb-table"><tr><td>1&nbsp;200 ₽</td></tr></table>'
                                               '<img src="a.png"><img src="b.png" alt="a chart">'}),
        out("stream", name="stdout", text="printed\n")])
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Some *text*"), cell])
    ours, _ = render._exporter("en").from_notebook_node(nb)
    theirs, _ = HTMLExporter(template_name="salesbook", extra_template_basedirs=[str(render._TEMPLATES)],
                             exclude_input=True, exclude_input_prompt=True,
                             exclude_output_prompt=True).from_notebook_node(nb)
    assert visible_text(ours) == visible_text(theirs) and "<b>" not in ours
    assert ours.count('tabindex="0"') == theirs.count('tabindex="0"') >= 3  # the three outputs, at least
    assert ours.count('alt="No description has been provided for this image"') == 1 and 'alt="a chart"' in ours


def test_a_page_validates_its_notebook_once_and_an_invalid_one_still_fails(monkeypatch):
    """nbconvert validated the whole notebook after each of its 13 preprocessors (most disabled): a sixth of the
    runner's time on the sample. Once, after them all; a notebook that breaks the schema still stops there."""
    import nbformat
    from salesbook.run import render

    cell = nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("display_data", data={"text/plain": "1"})])
    good, bad = nbformat.v4.new_notebook(cells=[cell]), nbformat.v4.new_notebook(cells=[cell])
    calls = []
    real = nbformat.validate
    monkeypatch.setattr(nbformat, "validate", lambda nb, *a, **k: calls.append(1) or real(nb, *a, **k))
    exporter = render._exporter("en")
    assert len(exporter._preprocessors) > 1
    exporter.from_notebook_node(good)
    assert len(calls) == 1
    bad.cells[0].outputs[0]["output_type"] = "no such output"
    with pytest.raises(nbformat.ValidationError):
        exporter.from_notebook_node(bad)


def test_a_run_uses_one_blas_thread_per_process_unless_the_user_set_a_count(monkeypatch):
    """salesbook run works side by side (kernels two at a time, the summary in its own process) on small
    matrices: each process's BLAS (OpenBLAS in NumPy's and SciPy's wheels) gets one thread, this one through
    threadpoolctl (NumPy is loaded already), the kernels through the environment they inherit. A count the
    user set is kept."""
    from threadpoolctl import threadpool_info, threadpool_limits
    from salesbook.run import cli
    blas = lambda: {p["filepath"]: p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}  # noqa: E731
    with threadpool_limits(limits=None):  # whatever the test sets, the worker's pools are as they were after it
        for var in cli.BLAS_THREADS:
            monkeypatch.delenv(var, raising=False)
        threadpool_limits(2, user_api="blas")  # as a process on two cores starts
        cli.one_blas_thread()
        assert [os.environ[v] for v in cli.BLAS_THREADS] == ["1", "1"]
        assert blas() and set(blas().values()) == {1}
        threadpool_limits(2, user_api="blas")
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
        monkeypatch.setenv("MKL_NUM_THREADS", "2")
        pools = blas()
        cli.one_blas_thread()  # the user's count: nothing changes
        assert [os.environ[v] for v in cli.BLAS_THREADS] == ["2", "2"] and blas() == pools


def test_the_executed_notebook_is_written_when_it_ends_however_it_ends_not_at_every_cell(tmp_path):
    """The engine writes the executed notebook at its end, and during a cell that runs long (papermill's
    autosave), not at each cell's start and end (each write copied and serialised the whole notebook so far):
    a kernel that dies after two cells still leaves both cells' outputs on disk."""
    from papermill.engines import papermill_engines
    from salesbook.run.kernels import _end_saving_engine
    engine = papermill_engines.get_engine(_end_saving_engine())
    out = tmp_path / "out.ipynb"
    seen: list[bool] = []

    class Dies(engine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            for i, cell in enumerate(nb_man.nb.cells[:2]):
                nb_man.cell_start(cell, i)
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"cell {i}\n")]
                nb_man.cell_complete(cell, i)
                seen.append(out.exists())
            nb_man.last_save_time -= pd.Timedelta(seconds=31)  # the third cell runs past the autosave period
            nb_man.autosave_cell()
            seen.append(out.exists())
            raise RuntimeError("Kernel died")

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"print({i})") for i in range(3)],
                                  metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "P"},
                                            "papermill": {}})
    for cell in nb.cells:
        cell.metadata["papermill"] = {}
    with pytest.raises(RuntimeError, match="Kernel died"):
        Dies.execute_notebook(nb, "python3", output_path=str(out), progress_bar=False)
    assert seen == [False, False, True]  # no write at the cells' start and end; the autosave writes
    written = nbformat.read(out, as_version=4)
    assert [c.outputs[0]["text"] for c in written.cells[:2]] == ["cell 0\n", "cell 1\n"]
    assert written.metadata.papermill["end_time"] is not None  # the last write: when it ended, in papermill's finally


def test_the_runner_s_cube_lets_its_tables_go_only_where_they_stay_in_the_cache(tmp_path):
    # the user's cache keeps the tables after the run: the runner reads them again there when its summary asks;
    # a run's own cache is removed once the notebooks ran, and the packs written after them read the tables:
    # those are kept in memory
    from salesbook.cube.build import TABLES
    from salesbook.run.runner import build_cube
    for cache, kept in ((True, False), (False, True)):
        (tmp_path / str(cache)).mkdir()
        plan = a_plan(tmp_path / str(cache), "00_a", cache=cache)
        work = a_workspace(plan)
        cube = build_cube(plan, work, lambda msg: None).cube
        assert bool(cube._frames) is kept and (work.cache_dir is None) is cache
        if kept:
            shutil.rmtree(work.cache_dir)  # as execute does once the notebooks ran
        built = list(cube.built)
        for name in TABLES:  # read from memory or the cache, never built again from the lines
            assert len(cube.table(name)) > 0, name
        assert cube.built == built
