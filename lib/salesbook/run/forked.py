"""Kernels forked from a process that imported the scientific stack once (Linux; issue 25).

A fresh Python kernel pays 3-4 s of CPU before a notebook's first cell: IPython and ipykernel, then
pandas, scipy, statsmodels, ibis... A run starts one kernel per workbook, so a run of six paid that six
times. Here the run starts one **zygote**: a process that imports those libraries (:data:`PRELOAD`) and
waits. Each kernel is a ``fork`` of it, which then starts ipykernel exactly as ``python -m
ipykernel_launcher -f <connection file>`` does, in the notebook's folder, with the kernel's environment.
The notebook still runs in a kernel of its own, on a fresh namespace; it only finds those libraries
already imported, as the warm-up of :mod:`salesbook.run.warm` made it find them before.

Libraries that choose their behaviour at import from the IPython shell they find (plotly's default
renderer, ipywidgets' comm target, tqdm.auto, itables) are never imported in the zygote
(:data:`KERNEL_AWARE`): the kernel imports them itself, inside its shell.

Nothing outlives the run: the zygote exits, killing what it forked, when the runner closes its input or
dies (its input pipe closes with it); a forked kernel dies with the zygote (``PR_SET_PDEATHSIG``) and
leaves its own process group, as jupyter_client's kernels do. jupyter_client drives the kernels through
:class:`ForkProvisioner`, a :class:`LocalProvisioner` whose launch asks the zygote instead of ``Popen``.
Where ``fork`` is not safe or not there (not Linux), :func:`available` is false and kernels start as usual.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import LocalProvisioner

__all__ = ["PRELOAD", "KERNEL_AWARE", "PROVISIONER", "Zygote", "ForkProvisioner", "available", "register",
           "start_early", "take_early", "drop_early"]

#: imported once in the zygote: what a kernel and salesbook's workbooks import that takes the time (the statsmodels
#: modules salesbook's analyses import, each module's DEFERRED, not statsmodels.api, which imports all of statsmodels:
#: a third more of the zygote's time). Not ibis, DuckDB or openpyxl: a run's kernels read the cube the runner built,
#: never a source (0.25 s of the zygote's start, before the first kernel could start)
PRELOAD = ("IPython", "ipykernel.kernelapp", "ipykernel.ipkernel", "numpy", "pandas", "pyarrow", "pyarrow.parquet",
           "scipy.stats", "scipy.optimize", "scipy.special", "statsmodels.tsa.holtwinters",
           "statsmodels.tsa.seasonal", "statsmodels.regression.linear_model", "xlsxwriter", "nbformat")
#: never imported before the kernel's shell exists: they look for it at import (plotly's renderers: its figures,
#: which look for nothing, are made ready in the zygote, :func:`_warm_charts`)
KERNEL_AWARE = ("plotly.io._renderers", "ipywidgets", "anywidget", "itables", "tqdm", "matplotlib")
#: the provisioner's name in jupyter_client's registry (and pyproject's entry points)
PROVISIONER = "salesbook-fork"
_PR_SET_PDEATHSIG = 1
#: the zygote's program: this file loaded on its own, then :func:`_serve`
_BOOT = ("import sys, importlib.util as u; s = u.spec_from_file_location('salesbook_zygote', sys.argv[1]); "
         "m = u.module_from_spec(s); s.loader.exec_module(m); m._serve(int(sys.argv[2]))")


def available() -> bool:
    """Forked kernels here: Linux (``fork`` and ``PR_SET_PDEATHSIG``), and not switched off with
    ``SALESBOOK_FORK=0`` (read by the command line layer, passed as ``fork=``)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def register() -> None:
    """Make :class:`ForkProvisioner` known to jupyter_client (as pyproject's entry point does, for a
    checkout that was not reinstalled)."""
    from importlib.metadata import EntryPoint
    from jupyter_client.provisioning.factory import KernelProvisionerFactory
    factory = KernelProvisionerFactory.instance()
    if PROVISIONER not in factory.provisioners:
        factory.provisioners[PROVISIONER] = EntryPoint(PROVISIONER, f"{__name__}:ForkProvisioner",
                                                       factory.GROUP_NAME)


class Zygote:
    """The process kernels are forked from: started here, its input closed by :meth:`close`.

    ``env``: its environment (the kernels get theirs at each fork). Thread-safe: kernels are asked for
    from the runner's worker threads, one fork at a time."""

    def __init__(self, env: dict[str, str] | None = None):
        read, write = os.pipe()
        try:
            # this file alone, not the salesbook package: each kernel imports salesbook itself, its module state
            # (setup, caches) fresh, as in a new kernel
            self.process = subprocess.Popen([sys.executable, "-c", _BOOT, __file__, str(write)], stdin=subprocess.PIPE,
                                            pass_fds=(write,), env=env, text=True)
        finally:
            os.close(write)
        self._answers = os.fdopen(read, "r", encoding="utf-8")
        self._lock = threading.Lock()

    def fork(self, argv: list[str], cwd: str, env: dict[str, str]) -> int:
        """A kernel started with ``argv`` (ipykernel's, after ``-m ipykernel_launcher``): its pid."""
        with self._lock:
            if self.process.poll() is not None or self.process.stdin is None:
                raise RuntimeError(f"the kernels' zygote has exited ({self.process.returncode})")
            self.process.stdin.write(json.dumps({"argv": argv, "cwd": cwd, "env": env}) + "\n")
            self.process.stdin.flush()
            line = self._answers.readline()
        if not line:
            raise RuntimeError(f"the kernels' zygote has exited ({self.process.wait()})")
        answer = json.loads(line)
        if "pid" not in answer:
            raise RuntimeError(f"the kernels' zygote could not fork: {answer.get('error')}")
        return int(answer["pid"])

    def close(self, timeout: float = 5) -> None:
        """Close its input: it kills any kernel still there and exits (killed after ``timeout`` seconds, when
        still importing: a kernel it forked dies with it)."""
        with self._lock:
            if self.process.stdin is not None and not self.process.stdin.closed:
                try:
                    self.process.stdin.close()
                except OSError:
                    pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self._answers.close()


#: a zygote the command line started before it imported anything else (:func:`start_early`), for the run's engine
_early: "Zygote | None" = None


def start_early() -> None:
    """Start this process's zygote now, for a run about to begin: its imports (1.3-1.7 s on 2 cores) overlap the
    command line's own (pandas, the runner: 0.4 s) and the checks of the inputs, instead of following them. The
    run's engine takes it (:func:`take_early`); :func:`drop_early` kills it if the run ends before."""
    global _early
    if _early is None and available():
        _early = Zygote()


def take_early() -> "Zygote | None":
    """The zygote :func:`start_early` started, now the caller's to close; None if none is waiting."""
    global _early
    zygote, _early = _early, None
    return zygote


def drop_early() -> None:
    """Kill a zygote started early that no run took (a run that failed on its inputs): it forked nothing."""
    zygote = take_early()
    if zygote is not None:
        zygote.close(timeout=0)  # killed now, not once its imports are done


class _Forked:
    """What jupyter_client needs of a ``Popen`` for a kernel that is the zygote's child, not ours."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid, self.returncode = pid, None

    def poll(self) -> int | None:
        if self.returncode is None and not _alive(self.pid):
            self.returncode = 0  # the zygote reaped it; its status is the zygote's to know
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting for the zygote to reap it)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def _launcher_args(cmd: list[str]) -> list[str] | None:
    """ipykernel's arguments when ``cmd`` starts this Python's ``ipykernel_launcher``; else None."""
    if len(cmd) < 3 or cmd[1:3] != ["-m", "ipykernel_launcher"]:
        return None
    import shutil
    exe = shutil.which(cmd[0]) or cmd[0]
    same = os.path.realpath(exe) == os.path.realpath(sys.executable)
    return cmd[3:] if same else None


class ForkProvisioner(LocalProvisioner):  # type: ignore[misc]
    """jupyter_client's local provisioner, launching through the :class:`Zygote` its kernel manager carries
    (``km.salesbook_zygote``); any other command, or no zygote, launches as usual."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        zygote = getattr(self.parent, "salesbook_zygote", None)
        argv = _launcher_args(cmd)
        if zygote is None or argv is None:
            return await super().launch_kernel(cmd, **kwargs)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        env = dict(kwargs["env"])  # the kernel's whole environment, as jupyter_client's pre_launch made it
        pid = await asyncio.get_running_loop().run_in_executor(None, zygote.fork, argv, cwd, env)
        self.process = _Forked(pid)  # type: ignore[assignment]
        self.pid = self.pgid = pid  # its own session and process group, as jupyter_client's kernels
        self.cwd = cwd
        return self.connection_info


# --------------------------------------------------------------------------- the zygote's side


def _die_with_parent() -> None:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _kernel(request: dict[str, Any], answers: int, zygote: int) -> None:
    """In the forked child: become the kernel ``python -m ipykernel_launcher`` would have started. Never returns."""
    code = 1
    try:
        os.setsid()
        _die_with_parent()
        if os.getppid() != zygote:  # the zygote died between fork and prctl
            os._exit(1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.close(answers)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["JPY_PARENT_PID"] = str(zygote)  # ipykernel's parent poller: gone with the zygote
        if sys.path and sys.path[0] in ("", os.getcwd()):
            del sys.path[0]  # as ipykernel_launcher does (IPython adds the folder back where it wants it)
        # ipykernel read JPY_PARENT_PID when the zygote imported it: said again, its parent poller runs and no
        # "To connect another client" banner reaches the runner's terminal
        argv = [*request["argv"], f"--IPKernelApp.parent_handle={zygote}"]
        sys.argv = [sys.executable, *argv]
        sys.modules.pop("salesbook_zygote", None)  # this file, loaded on its own: not the kernel's to see
        import gc
        gc.enable()  # the zygote's objects stay frozen (:func:`_serve`); the kernel's own are collected as usual
        import random
        random.seed()  # the zygote's random state is not shared by its kernels
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        from ipykernel import kernelapp
        kernelapp.launch_new_instance(argv=argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001 - the kernel's own error, on its stderr as ipykernel's would be
        import traceback
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _warm_charts() -> None:
    """plotly's figure classes and the checks (validators) of what salesbook's charts set, made once here: each
    kernel made them on its first charts (a tenth of a workbook's CPU on the sample, its cube and results cached).
    Only the figures: plotly.io's renderers, which look for the kernel's shell at import, stay the kernel's."""
    import plotly.graph_objects as go
    fig = go.Figure([go.Bar(x=["a"], y=[1.0], marker_color="#000", customdata=["a"], hovertemplate="%{y}", name="a"),
                     go.Scatter(x=[1], y=[1.0], mode="lines+markers", line=dict(dash="dot"), text=["a"]),
                     go.Heatmap(z=[[1.0]], x=["a"], y=["b"], text=[["a"]], texttemplate="%{text}", colorscale="Blues"),
                     go.Waterfall(x=["a"], y=[1.0], measure=["absolute"], textposition="outside")])
    fig.update_layout(title="a", height=300, showlegend=True, separators=".,", barmode="group",
                      colorway=["#000"], font=dict(family="a", size=13), margin=dict(l=1, r=1, t=1, b=1),
                      legend=dict(orientation="h", y=-0.1), xaxis=dict(title="a", tickformat=",d", tickvals=[1],
                      ticktext=["a"]), yaxis=dict(title="b", tickformat=",.0f", rangemode="tozero"),
                      annotations=[dict(text="a", x=0, y=0, showarrow=False)],
                      shapes=[dict(type="line", x0=0, x1=1, y0=0, y1=0)])
    fig.to_dict()


def _serve(answers: int) -> None:
    """Import :data:`PRELOAD`, then fork a kernel for each request line on standard input until it closes.

    The imported objects are frozen (``gc.freeze``, as Python's documentation advises before ``fork``): a kernel's
    garbage collector never walks them (a full collection over them took 0.3-0.5 s of a kernel's CPU) nor writes
    into their pages, which stay shared with the zygote."""
    import gc
    import importlib
    gc.disable()  # no collection leaves holes in the pages the kernels will share
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to handle: it closes our input
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the kernel imports it itself and reports the error
            pass
    try:
        _warm_charts()
    except Exception:  # noqa: BLE001 - the kernel's charts make them, and report any error themselves
        pass
    gc.freeze()
    kernels: set[int] = set()

    def reap(*_: Any) -> None:
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            kernels.discard(pid)

    signal.signal(signal.SIGCHLD, reap)
    out = os.fdopen(answers, "w", encoding="utf-8")
    me = os.getpid()
    try:
        for line in sys.stdin:
            try:
                request = json.loads(line)
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
            except Exception as exc:  # noqa: BLE001 - said to the runner, which starts no kernel
                out.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
                out.flush()
                continue
            if pid == 0:
                _kernel(request, answers, me)
            kernels.add(pid)
            out.write(json.dumps({"pid": pid}) + "\n")
            out.flush()
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for pid in list(kernels):  # the runner is done or gone: so are its kernels
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        reap()
