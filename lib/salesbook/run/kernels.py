"""The engine that executes a run's notebooks: papermill on a kernel started ahead (:mod:`salesbook.run.warm`).

The runner (:mod:`salesbook.run.runner`) talks to an :class:`Engine`: ``start`` a notebook's kernel (it
imports what the notebook imports while the cube is built), ``execute`` the notebook on it, ``release``
it, and ``close`` once every notebook ran. :class:`PapermillEngine` is the real one; the runner's tests give
a fake that needs no kernel. A failing cell is a :class:`CellFailed`, whatever the engine.

The kernels' environment is given here, explicitly (:attr:`PapermillEngine.env`: the report mode, the run's
cube cache), on top of the one the process was started with; the runner never changes its own.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Protocol

import nbformat

from salesbook.run.warm import imported_modules

__all__ = ["SOCKETS_PREFIX", "CellFailed", "Engine", "PapermillEngine"]

#: kernel socket folders are named by the process that made them: ``salesbook-kernels-<pid>-...``
SOCKETS_PREFIX = "salesbook-kernels-"


class CellFailed(Exception):
    """A cell of a notebook raised: its index in the executed notebook, the error's name and value."""

    def __init__(self, cell_index: int, ename: str, evalue: str):
        super().__init__(f"{ename}: {evalue}")
        self.cell_index, self.ename, self.evalue = cell_index, ename, evalue


class Engine(Protocol):
    """What the runner needs of an engine. ``start`` is called from a worker thread, then ``execute`` and
    ``release`` from the same thread; ``close`` once, from the runner's thread, after every task ended."""

    def start(self, notebook: Path, cwd: Path) -> Any:
        """Make ready to run ``notebook`` in ``cwd`` (start its kernel, import ahead); returns a handle."""

    def execute(self, handle: Any, notebook: Path, output: Path, parameters: dict[str, Any]) -> nbformat.NotebookNode:
        """Run ``notebook`` with ``parameters``, writing the executed notebook to ``output`` when it ends (however
        it ends) and during a long cell; :class:`CellFailed` when a cell raises."""

    def release(self, handle: Any) -> None:
        """The notebook is done (or failed): let its kernel go without waiting."""

    def close(self) -> None:
        """Wait for every kernel to stop and remove their files (sockets, connection files)."""


def _warm_kernel(kernel: str, cwd: Path, modules: list[str], timeout: int = 120,
                 sockets: Path | None = None, env: Mapping[str, str] | None = None, zygote: Any = None) -> Any:
    """A kernel for one notebook, started now in ``cwd``, that has imported ``modules`` (:mod:`salesbook.run.warm`).

    Started in the calling thread's event loop, where papermill (nbclient) then runs the notebook
    on it; the caller shuts it down. ``SALESBOOK_REPORT`` is set in its environment, with ``env`` (added
through the kernel's spec: the kernel inherits the rest of this process's environment). With ``sockets``
    (a folder; POSIX) it talks over Unix sockets there rather than over TCP on localhost: no open port,
    and no warning in a scheduled run's log about TCP without encryption. With ``zygote``
    (:class:`salesbook.run.forked.Zygote`) the kernel is forked from it, its libraries already imported.
    """
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    async def start() -> AsyncKernelManager:
        own = uuid.uuid4().hex[:8]  # kernels starting together would otherwise pick the same files
        # the connection file (it holds the kernel's key) beside the sockets, not in Jupyter's runtime folder:
        # removed with them, or by the next run when this one dies
        where = {"connection_file": str(sockets / f"kernel-{own}.json")} if sockets is not None else {}
        if sockets is not None and os.name == "posix":
            km = AsyncKernelManager(kernel_name=kernel, transport="ipc", ip=str(sockets / own), **where)
        else:
            km = AsyncKernelManager(kernel_name=kernel, **where)
        # added to what the kernel inherits (jupyter_client copies the process's environment), never set here
        km.kernel_spec.env = {**km.kernel_spec.env, "SALESBOOK_REPORT": "1", **(env or {})}
        if zygote is not None:
            from salesbook.run.forked import PROVISIONER, register
            register()
            km.kernel_spec.metadata = {**km.kernel_spec.metadata, "kernel_provisioner": {"provisioner_name": PROVISIONER}}
            km.salesbook_zygote = zygote
        # as nbclient starts its kernels: no history database shared by the kernels running side by side
        await km.start_kernel(cwd=str(cwd),
                              extra_arguments=["--HistoryManager.hist_file=:memory:"])
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=timeout)
            # silent: no output, no history, no execution count; binds no name in the notebook's namespace
            msg_id = kc.execute(f"__import__('salesbook.run.warm', fromlist=['warm']).warm({modules!r})",
                                silent=True, store_history=False, allow_stdin=False)
            while (await kc.get_shell_msg(timeout=timeout))["parent_header"].get("msg_id") != msg_id:
                pass
        except BaseException:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
            raise
        kc.stop_channels()
        return km

    return run_sync(start)()


def _ask_to_stop(km: Any) -> None:
    """Ask the kernel to shut down without waiting for it: its thread moves on to the next notebook."""
    from jupyter_core.utils import run_sync
    try:
        run_sync(km.request_shutdown)()
    except Exception:  # noqa: BLE001 - already gone; _stop_kernel makes sure
        pass


def _stop_kernel(km: Any) -> None:
    """Wait for a kernel asked to stop (killed if it has not after ``shutdown_wait_time``), remove its files."""
    from jupyter_core.utils import run_sync
    try:
        run_sync(km.finish_shutdown)()
    except Exception:  # noqa: BLE001 - already gone
        pass
    try:
        run_sync(km.cleanup_resources)()
    except Exception:  # noqa: BLE001
        pass


@dataclass
class PapermillEngine:
    """Notebooks through papermill's Python API, each on its own kernel started ahead in ``cwd``.

    ``env``: variables added to each kernel's environment (through the kernel manager, on top of the
    process's own): the runner gives ``SALESBOOK_REPORT`` and, for a run's own cube, ``SALESBOOK_CACHE``.
    The kernels talk over Unix sockets in a folder named by this process (:data:`SOCKETS_PREFIX`): a later
    run removes it if this one dies (``kill -9``); short, as a Unix socket path has 107 bytes.
    """

    kernel: str = "python3"
    timeout: int = 1800
    env: Mapping[str, str] = field(default_factory=dict)
    sockets: Path | None = None
    fork: bool | None = None
    _kernels: list[Any] = field(default_factory=list, repr=False)
    _zygote: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.sockets is None:
            self.sockets = Path(tempfile.mkdtemp(prefix=f"{SOCKETS_PREFIX}{os.getpid()}-"))
        if self.fork is None:
            from salesbook.run.forked import available
            self.fork = available()

    def zygote(self) -> Any:
        """The process this run's kernels are forked from (:mod:`salesbook.run.forked`), started on first use;
        None where kernels start as usual (``fork=False``)."""
        with self._lock:
            if self.fork and self._zygote is None:
                from salesbook.run.forked import Zygote, take_early
                self._zygote = take_early() or Zygote()
            return self._zygote

    def start(self, notebook: Path, cwd: Path) -> Any:
        source_cells = [c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
        km = _warm_kernel(self.kernel, cwd, imported_modules(source_cells), sockets=self.sockets, env=self.env,
                          zygote=self.zygote())
        with self._lock:
            self._kernels.append(km)
        return km

    def execute(self, handle: Any, notebook: Path, output: Path, parameters: dict[str, Any]) -> nbformat.NotebookNode:
        import papermill
        from papermill.exceptions import PapermillExecutionError
        # papermill is given no cwd: it would os.chdir the whole process from this thread (the kernel has its own)
        try:
            return papermill.execute_notebook(str(notebook), str(output), parameters=parameters,
                                              kernel_name=self.kernel, progress_bar=False, cwd=None,
                                              execution_timeout=self.timeout, km=handle,
                                              engine_name=_end_saving_engine())
        except PapermillExecutionError as exc:
            raise CellFailed(exc.cell_index, exc.ename, exc.evalue) from None

    def release(self, handle: Any) -> None:
        _ask_to_stop(handle)  # waited for in close()

    def close(self) -> None:
        for km in self._kernels:
            _stop_kernel(km)
        if self._zygote is not None:  # one that forked no kernel (a run that failed before its notebooks) is
            self._zygote.close(timeout=5 if self._kernels else 0)  # killed, not waited for while it imports
        if self.sockets is not None:
            shutil.rmtree(self.sockets, ignore_errors=True)


#: the name salesbook's papermill engine is registered under (:func:`_end_saving_engine`)
END_SAVING = "salesbook-end-saving"


def _end_saving_engine() -> str:
    """papermill's nbclient engine, with a notebook manager that writes the executed notebook when it ends and
    during a long cell (papermill's autosave, every 30 s), not at each cell's start and end as papermill does:
    each of those writes copied, validated and serialised the whole notebook so far, charts and all (132 writes,
    2.2 s of CPU in a sample run's process). The notebook still ends on disk however it ends: papermill writes it
    in a ``finally`` (a timeout, a dead kernel) and before raising a failed cell. Registered once; its name."""
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
    from papermill.exceptions import PapermillException

    try:
        papermill_engines.get_engine(END_SAVING)
        return END_SAVING
    except PapermillException:  # not registered yet
        pass

    class Manager(NotebookExecutionManager):
        writing = False

        def save(self, **kwargs: Any) -> None:
            if self.writing:
                super().save(**kwargs)

        def _writing(self, method: Any, **kwargs: Any) -> None:
            self.writing = True
            try:
                method(**kwargs)
            finally:
                self.writing = False

        def autosave_cell(self) -> None:
            self._writing(super().autosave_cell)

        def notebook_complete(self, **kwargs: Any) -> None:
            self._writing(super().notebook_complete, **kwargs)

    class EndSaving(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb: Any, kernel_name: str, output_path: Any = None, progress_bar: bool = True,
                             log_output: bool = False, autosave_cell_every: int = 30, **kwargs: Any) -> Any:
            # papermill 2.7's Engine.execute_notebook, with the manager above
            nb_man = Manager(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                             autosave_cell_every=autosave_cell_every)
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

    papermill_engines.register(END_SAVING, EndSaving)
    return END_SAVING
