"""Kernels forked from one process that imported the libraries once (issue 25; salesbook.run.forked).

A forked kernel must be what ``python -m ipykernel_launcher`` starts: its own folder, environment,
``sys.path``, random state and process group, plotly choosing its renderer inside the kernel's shell; and
nothing it or the zygote started outlives the run, whether the run ends, fails or is killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from salesbook.run import forked
from salesbook.run.kernels import PapermillEngine

pytestmark = pytest.mark.skipif(not forked.available(), reason="kernels are forked on Linux only")
KERNELS = [pytest.mark.slow, pytest.mark.server]  # each test below starts kernels

#: what a notebook sees of its process, as JSON on its last output
PROBE = """
import gc, json, os, random, sys
first = {m: m in sys.modules for m in ("pandas", "scipy.stats", "plotly.graph_objects", "plotly.io._renderers",
                                       "ipywidgets", "itables", "salesbook_zygote")}
import plotly.io as pio
print(json.dumps({"pid": os.getpid(), "ppid": os.getppid(), "pgid": os.getpgid(0), "cwd": os.getcwd(),
                  "path0": sys.path[:3], "env": os.environ.get("SALESBOOK_PROBE"), "first": first,
                  "renderer": pio.renderers.default, "random": random.random(), "argv0": sys.argv[0],
                  "main": type(get_ipython()).__name__, "gc": gc.isenabled(), "frozen": gc.get_freeze_count()}))
"""


def _notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}), nbformat.v4.new_code_cell(PROBE)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "probe.ipynb"
    nbformat.write(nb, path)
    return path


def _probe(engine: PapermillEngine, notebook: Path, cwd: Path) -> dict:
    handle = engine.start(notebook, cwd)
    try:
        done = engine.execute(handle, notebook, cwd / f"out-{id(handle)}.ipynb", {"x": 2})
    finally:
        engine.release(handle)
    return json.loads(done.cells[-1].outputs[-1]["text"])


def _alive(pid: int) -> bool:
    return forked._alive(pid)


@KERNELS[0]
@KERNELS[1]
def test_a_forked_kernel_is_what_a_new_kernel_would_be(tmp_path):
    notebook = _notebook(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    usual = PapermillEngine(env={"SALESBOOK_PROBE": "usual"}, fork=False)
    try:
        new = _probe(usual, notebook, tmp_path / "a")
    finally:
        usual.close()
    engine = PapermillEngine(env={"SALESBOOK_PROBE": "forked"}, fork=True)
    try:
        one = _probe(engine, notebook, tmp_path / "a")
        two = _probe(engine, notebook, tmp_path / "b")
        zygote = engine.zygote().process.pid
    finally:
        engine.close()
    # forked from the zygote, which had imported the libraries: pandas is there before the notebook imports it
    assert one["ppid"] == two["ppid"] == zygote and one["pid"] != two["pid"]
    assert one["first"]["pandas"] and one["first"]["scipy.stats"] and not new["first"]["scipy.stats"]
    assert not one["first"]["salesbook_zygote"]  # the zygote's own module is not the kernel's
    # plotly's figures made ready there; its renderers, which look for the shell, imported by the kernel itself
    assert one["first"]["plotly.graph_objects"]
    assert not one["first"]["plotly.io._renderers"] and not one["first"]["ipywidgets"]
    # the same kernel otherwise: folder, sys.path, environment, renderer, shell, own process group
    assert one["cwd"] == str(tmp_path / "a") and two["cwd"] == str(tmp_path / "b")
    assert one["path0"] == new["path0"]
    assert one["env"] == "forked" and new["env"] == "usual"
    assert one["renderer"] == new["renderer"] == "plotly_mimetype"
    assert one["main"] == new["main"] == "ZMQInteractiveShell"
    assert one["pgid"] == one["pid"] and new["pgid"] == new["pid"]
    assert one["random"] != two["random"]  # each kernel draws its own random numbers
    # the kernel collects its own garbage; what the zygote imported is frozen, never walked by the collector
    assert one["gc"] and new["gc"] and one["frozen"] > 100_000 and new["frozen"] == 0
    # closed: the zygote and its kernels are gone
    assert not _alive(zygote) and not _alive(one["pid"]) and not _alive(two["pid"])


@KERNELS[0]
@KERNELS[1]
def test_a_kernel_dies_with_its_zygote_and_the_zygote_with_its_runner(tmp_path):
    """The runner killed (kill -9) while a kernel runs: its input closes, the zygote kills the kernel and
    exits; the zygote killed: its kernel dies with it (PR_SET_PDEATHSIG)."""
    script = tmp_path / "runner.py"
    script.write_text(f"""
import sys, time
from pathlib import Path
from salesbook.run.kernels import PapermillEngine
engine = PapermillEngine(fork=True)
handle = engine.start(Path({str(_notebook(tmp_path))!r}), Path({str(tmp_path)!r}))
print(engine.zygote().process.pid, handle.provisioner.pid, flush=True)
time.sleep(600)
""", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    zygote, kernel = map(int, proc.stdout.readline().split())
    assert _alive(zygote) and _alive(kernel)
    os.kill(proc.pid, signal.SIGKILL)  # the runner alone, not its process group
    proc.wait()
    deadline = time.monotonic() + 30
    while (_alive(zygote) or _alive(kernel)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(zygote) and not _alive(kernel)

    engine = PapermillEngine(fork=True)
    try:
        handle = engine.start(_notebook(tmp_path), tmp_path)
        kernel = handle.provisioner.pid
        os.kill(engine.zygote().process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while _alive(kernel) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(kernel)
    finally:
        engine.close()


@pytest.mark.slow  # a new Python importing the zygote's whole preload (the scientific stack): 9-14 s
def test_the_zygote_imports_nothing_that_looks_for_a_kernel_at_import():
    """plotly picks its renderer, ipywidgets its comm target, from the IPython shell found at import: the
    zygote (no shell) must leave them to the kernel, which imports them inside its own shell. plotly's figures,
    which look for nothing, are made ready in the zygote (its renderers are not imported with them)."""
    code = ("import importlib, importlib.util as u, sys\n"
            f"s = u.spec_from_file_location('z', {forked.__file__!r}); m = u.module_from_spec(s); s.loader.exec_module(m)\n"
            "for name in m.PRELOAD: importlib.import_module(name)\n"
            "m._warm_charts()\n"
            "print(sorted(n for n in sys.modules if any(n == k or n.startswith(k + '.') for k in m.KERNEL_AWARE)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_command_that_is_not_this_pythons_ipykernel_is_launched_as_usual():
    exe = sys.executable
    assert forked._launcher_args([exe, "-m", "ipykernel_launcher", "-f", "k.json"]) == ["-f", "k.json"]
    assert forked._launcher_args(["/usr/bin/env", "-m", "ipykernel_launcher"]) is None
    assert forked._launcher_args([exe, "-m", "other_kernel", "-f", "k.json"]) is None


def test_the_zygote_preloads_every_library_salesbook_imports_on_first_use():
    """Each module's DEFERRED libraries (statsmodels' and SciPy's parts, XlsxWriter) are what the workbooks' kernels
    import on first use: the zygote imports exactly those once per run, not statsmodels.api's whole package."""
    import importlib
    import pkgutil

    import salesbook
    deferred = set()
    for info in pkgutil.walk_packages(salesbook.__path__, "salesbook."):
        deferred |= set(getattr(importlib.import_module(info.name), "DEFERRED", ()))
    assert deferred and deferred <= set(forked.PRELOAD), sorted(deferred - set(forked.PRELOAD))
    assert not any(m.startswith("statsmodels.api") for m in forked.PRELOAD)


def test_a_run_starts_its_zygote_early_and_a_run_that_fails_before_its_notebooks_leaves_none(tmp_path, monkeypatch):
    """The run's zygote starts once its inputs are checked, while the folder is prepared (its imports took 1.3 s
    before the first kernel could start); a run that fails before any engine took it kills it."""
    from salesbook.run import runner
    started: list[forked.Zygote] = []
    real = forked.Zygote

    def zygote(*args, **kwargs):
        started.append(real(*args, **kwargs))
        return started[-1]
    monkeypatch.setattr(forked, "Zygote", zygote)

    def no_room(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(runner, "prepare_folder", no_room)
    with pytest.raises(OSError, match="No space left"):
        runner.run(source="sample", out=tmp_path / "reports", run_name="r", fork=True)
    assert len(started) == 1 and started[0].process.poll() is not None  # killed, not left importing
    # a run given its own engine starts none; a run told not to fork starts none
    from test_run_steps import FakeEngine
    for options in ({"engine": FakeEngine()}, {"fork": False}):
        with pytest.raises(OSError, match="No space left"):
            runner.run(source="sample", out=tmp_path / "reports", run_name="r", **options)
    assert len(started) == 1


class _Recorded:
    """A stand-in for the zygote's process: what was done to it."""

    def __init__(self) -> None:
        self.killed = self.waited = False

    def kill(self) -> None:
        self.killed = True

    stdin = None

    def wait(self, timeout: float | None = None) -> int:
        if timeout is not None and not self.killed:  # still importing
            raise subprocess.TimeoutExpired("zygote", timeout)
        self.waited = True
        return -9


class _FakeZygote(forked.Zygote):
    """A zygote that starts no process: the rest (closing it) is the real one's."""

    started: list["_FakeZygote"] = []

    def __init__(self, env=None) -> None:
        import threading
        self.process, self._answers = _Recorded(), open(os.devnull, encoding="utf-8")
        self._lock = threading.Lock()
        _FakeZygote.started.append(self)


def test_the_command_line_starts_the_zygote_first_and_its_run_takes_it_or_kills_it(tmp_path, monkeypatch):
    """``salesbook run`` starts its kernels' zygote before it imports anything else; the run's engine takes
    that one (no second zygote), and a run that ends before its engine took it (a bad parameter: one line, exit 2)
    kills it: nothing it started outlives it. ``import salesbook`` and the command line import no pandas,
    so that the zygote's imports overlap the command line's own."""
    from salesbook.run import cli
    monkeypatch.setattr(forked, "Zygote", _FakeZygote)
    _FakeZygote.started.clear()
    forked.start_early()
    early = _FakeZygote.started[-1]
    forked.start_early()  # one at a time
    assert len(_FakeZygote.started) == 1
    engine = PapermillEngine(fork=True, sockets=tmp_path / "s")
    assert engine.zygote() is early and forked.take_early() is None and engine.zygote() is early
    assert len(_FakeZygote.started) == 1
    code = cli.main(["run", "-q", "--as-of", "2024-13-45", "--output", str(tmp_path / "out")],
                    environ={"SALESBOOK_CACHE": str(tmp_path / "c")})
    assert code == cli.EXIT_INPUT and len(_FakeZygote.started) == 2
    dropped = _FakeZygote.started[-1]
    assert dropped.process.killed and dropped.process.waited and forked.take_early() is None
    code = cli.main(["run", "-q", "--as-of", "2024-13-45", "--output", str(tmp_path / "out")],
                    environ={"SALESBOOK_CACHE": str(tmp_path / "c"), "SALESBOOK_FORK": "0"})
    assert code == cli.EXIT_INPUT and len(_FakeZygote.started) == 2  # kernels as new Pythons: no zygote
    lazy = subprocess.run([sys.executable, "-c", "import sys, salesbook, salesbook.run.cli; import salesbook as sb; "
                           "print('pandas' in sys.modules, sb.cube.TABLES[0], sb.get_cube.__module__, "
                           "sorted(set(sb.__all__) - set(dir(sb))))"], capture_output=True, text=True, check=True)
    assert lazy.stdout.split() == ["False", "client_month", "salesbook.cube.build", "[]"], lazy.stdout
