"""Workshop mode: the workbooks as Voilà dashboards, without code and without a network.

``salesbook present`` (``make present``) copies the chosen workbooks into a
presenting folder with their parameters filled in (papermill's parameter
injection, so the same names and checks as a scheduled run), leaves out the
cells tagged ``report-hide``, and starts Voilà on that folder with salesbook's
page template: Voilà's lab page without its Font Awesome links to a CDN, and
a plain start page listing the workbooks.
Kernels started by Voilà see ``SALESBOOK_PRESENT=1``, so export links point
at Voilà's file handler. Charts are drawn by plotly's JupyterLab renderer
(``jupyterlab-plotly``, installed with plotly), which Voilà serves from this
machine; ``serve`` checks it is there before anything starts.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from urllib.parse import quote
from pathlib import Path
from typing import Any, Iterable

import nbformat

from salesbook import paths
from salesbook.run.pdf import BROWSER_ARGS  # Chromium headless without network: one list for the PDFs, tests, benchmarks

__all__ = ["PRESENTED", "PLOTLY_RENDERER", "check_renderer", "prepare", "presenting_name", "environment", "command", "serve", "start", "stop", "free_port",
           "BROWSER_ARGS", "TOKEN"]

#: the workbooks a workshop shows unless told otherwise
PRESENTED = (paths.Workbook.OVERVIEW, paths.Workbook.WHATIF)
#: a Jupyter data root holding ``voila/templates/salesbook``
SHARE = paths.PACKAGE_DIR / "share"
TEMPLATE = "salesbook"
#: the JupyterLab extension that draws plotly's mime type (it comes with the plotly package)
PLOTLY_RENDERER = "jupyterlab-plotly"
#: files Voilà may serve from the presenting folder (pictures, and the workbooks' exports)
ALLOWED_FILES = r".*\.(png|jpg|gif|svg|xlsx|csv)"


def prepare(notebooks: Iterable[str] | None = None, *, source: str = "sample", mapping: str = "", as_of: str = "",
            lang: str = "en", currency: str | None = None, parameters: dict[str, dict[str, Any]] | None = None,
            folder: Path | None = None) -> list[Path]:
    """Write the presenting copies of the workbooks and return their paths.

    Parameters are checked like a scheduled run's (unknown names and wrong types
    are a :class:`~salesbook.errors.ParameterError` before anything starts).
    """
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from salesbook.views.display import check_currency
    from salesbook.data.mapping import currency_of
    from salesbook.views.pages import short_title
    from salesbook.run.runner import list_notebooks, plan_parameters, planned_title, resolve_as_of

    chosen = list_notebooks(list(notebooks or PRESENTED))
    common = {"source": str(source), "mapping": mapping or "", "as_of": resolve_as_of(as_of) or "", "lang": lang,
              "currency": check_currency(currency or currency_of(mapping or None))}
    plan = plan_parameters(chosen, common, parameters)
    folder = Path(folder or paths.CACHE_DIR / "present")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    written = []
    for nb_path, params in plan:
        nb = load_notebook_node(str(nb_path))  # as papermill reads it: every cell has its tags list
        nb.cells = [c for c in nb.cells if "report-hide" not in c.metadata.tags]
        nb = parameterize_notebook(nb, params)
        # named by its title in the workshop's language: the start page and the browser tab show it
        target = folder / presenting_name(nb_path.stem, short_title(planned_title(nb_path.stem, lang)))
        nbformat.write(nb, target)
        written.append(target)
    return written


def presenting_name(stem: str, title: str) -> str:
    """``05_whatif`` + ``Что если`` -> ``05 Что если.ipynb`` (the number keeps the workbooks in order)."""
    safe = "".join(c for c in title if c not in '/\\:*?"<>|').strip() or stem
    return f"{stem[:2]} {safe}.ipynb"


def environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the Voilà server and so of its kernels."""
    env = dict(paths.current().environ if base is None else base)
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(SHARE), env.get("JUPYTER_PATH", "")) if p)
    env["SALESBOOK_PRESENT"] = "1"
    env.pop("SALESBOOK_REPORT", None)
    return env


def command(folder: Path, port: int = 8866, ip: str = "127.0.0.1", open_browser: bool = False,
            preheat: bool = True) -> list[str]:
    """The Voilà command line serving the presenting folder."""
    return [sys.executable, "-m", "voila", str(folder), f"--port={port}", f"--Voila.ip={ip}",
            f"--template={TEMPLATE}", "--theme=light", "--show_tracebacks=True", "--classic_tree=True",
            f"--Voila.open_browser={open_browser}",
            f"--VoilaConfiguration.file_allowlist={ALLOWED_FILES}",
            # jupytext's JupyterLab extension (the workbooks' text pairs) is for editing: in Voilà's frontend
            # it fails to load ("the getter for the shared module is not a function") and a dashboard needs none
            "--VoilaConfiguration.extension_denylist=['jupyterlab-jupytext']",
            # a closed or reloaded page leaves its kernel behind: stop those idle and disconnected for 10 minutes
            "--MappingKernelManager.cull_idle_timeout=600", "--MappingKernelManager.cull_interval=60",
            # each workbook runs once ahead in a kernel kept ready (Voilà's preheated pool; pooled kernels are
            # never culled): a page appears within a second of the click, the next one is prepared behind it.
            # The cost (benchmarks/present_benchmark.py): one kernel per workbook, held from the start
            f"--preheat_kernel={preheat}", "--pool_size=1"]


def check_renderer(env: dict[str, str] | None = None) -> Path:
    """The folder of plotly's JupyterLab renderer, as Voilà will look for it (Jupyter's data path with the
    presenting environment's ``JUPYTER_PATH``); without it every chart of a workshop would be an empty box."""
    from jupyter_core.paths import jupyter_path
    from salesbook.errors import EnvironmentProblem
    env = environment() if env is None else env
    roots = [os.path.join(p, "labextensions") for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    roots += [r for r in jupyter_path("labextensions") if r not in roots]  # this Python's and the user's data
    for root in roots:
        if (Path(root) / PLOTLY_RENDERER / "package.json").is_file():
            return Path(root) / PLOTLY_RENDERER
    raise EnvironmentProblem(f"plotly's JupyterLab renderer ({PLOTLY_RENDERER}) is in none of {os.pathsep.join(roots)}: "
                             "reinstall plotly (make install)")


def serve(notebooks: Iterable[str] | None = None, *, port: int = 8866, ip: str = "127.0.0.1",
          open_browser: bool = False, folder: Path | None = None, preheat: bool = True, **params: Any) -> int:
    """Prepare the workbooks and run Voilà until interrupted; returns Voilà's exit code.

    The presenting copies go to ``folder``, by default one per port under the cache: a second workshop on
    another port must not empty the folder the first one's Voilà runs in."""
    check_renderer()
    files = prepare(notebooks, folder=folder or paths.CACHE_DIR / "present" / str(port), **params)
    folder = files[0].parent
    print(f"Presenting {', '.join(f.stem for f in files)} at http://{ip}:{port}/ (Ctrl+C stops)", flush=True)
    for f in files:
        print(f"  http://{ip}:{port}/voila/render/{quote(f.name)}", flush=True)
    token = uuid.uuid4().hex
    env = environment()
    env[TOKEN] = token  # every kernel Voilà starts inherits it: found and stopped even if orphaned
    # Voilà in a session of its own: a Ctrl+C in the terminal reaches this process only, which stops Voilà
    # and its kernels in order (Voilà's own Ctrl+C asks "Shutdown this Voilà server (y/[n])?")
    proc = subprocess.Popen(command(folder, port, ip, open_browser, preheat), env=env, cwd=folder,
                            start_new_session=True)
    previous = {sig: signal.signal(sig, _interrupt) for sig in _STOP_SIGNALS}
    try:
        return proc.wait()
    except KeyboardInterrupt:  # Ctrl+C, SIGTERM, SIGHUP
        return 0
    finally:
        for sig in _STOP_SIGNALS:  # a second signal while stopping must not cut the stop short
            signal.signal(sig, signal.SIG_IGN)
        stopped = stop(proc, token)
        if stopped:
            print(f"Stopped Voilà and its kernels ({stopped} processes)", flush=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


#: the environment variable that marks Voilà's processes of one ``serve``: its kernels inherit it
TOKEN = "SALESBOOK_PRESENT_TOKEN"
#: the signals that stop a workshop: Ctrl+C, ``kill``, a closed terminal
_STOP_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _marked(token: str) -> list:
    """This user's processes whose environment carries ``TOKEN=token`` (Voilà's kernels, wherever they went)."""
    import psutil
    found = []
    for p in psutil.process_iter(["pid"]):
        try:
            if p.environ().get(TOKEN) == token:
                found.append(p)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess, OSError):
            continue
    return found


def stop(proc: subprocess.Popen, token: str = "", timeout: float = 10) -> int:
    """Stop Voilà and every process it started: SIGTERM to all of them at once, SIGKILL to any left after
    ``timeout`` seconds. Kernels run in sessions of their own (jupyter_client starts them so), so a signal to
    Voilà's process group misses them: they are found as Voilà's descendants and by ``token`` in their
    environment. Returns how many processes were stopped."""
    import psutil
    family: dict[int, Any] = {}
    try:
        root = psutil.Process(proc.pid)
        family[root.pid] = root
        family.update({c.pid: c for c in root.children(recursive=True)})
    except psutil.NoSuchProcess:
        pass
    if token:
        family.update({p.pid: p for p in _marked(token) if p.pid != os.getpid()})
    for p in family.values():
        try:
            p.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(list(family.values()), timeout=timeout)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=timeout)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    return len(family)


def free_port() -> int:
    """A TCP port nobody listens on now (for tests and benchmarks)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port: int, log: Path, *args: str, timeout: float = 90) -> subprocess.Popen:
    """``salesbook present`` in the background, returned once its start page answers.

    It runs in its own process group; a SIGTERM or SIGINT to ``proc`` stops Voilà and its kernels
    (:func:`serve`). Raises ``RuntimeError`` with Voilà's log if it does not start.
    """
    out = open(log, "w")
    proc = subprocess.Popen([sys.executable, "-m", "salesbook.run.cli", "present", "--port", str(port), *args],
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    out.close()
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
            return proc
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError("Voilà did not start:\n" + Path(log).read_text()) from None
            time.sleep(0.5)
