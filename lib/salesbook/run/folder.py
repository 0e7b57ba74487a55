"""The output folder of runs: one run at a time (a lock), what dead runs left, a failed run set aside, and
a finished run swapped into place so a reader never sees half a folder."""

from __future__ import annotations

import datetime as _dt
import os
import re
import shutil
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import nbformat

from salesbook.errors import DataError, ParameterError
from salesbook.paths import RunFile  # the files of a run folder, named once (salesbook.paths)
from salesbook.run.kernels import SOCKETS_PREFIX

__all__ = ["RunFile", "LOCK_FILE", "NOTEBOOKS_ZIP", "RunBusy", "check_run_name", "lock_output", "sweep_leftovers",
           "set_aside", "pack_notebooks", "swap_into_place"]


LOCK_FILE = RunFile.LOCK
_RUN_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def check_run_name(name: str) -> str:
    """A run name is a plain folder name: letters, digits, ``_``, ``-``, ``.``; no separator, not hidden."""
    if not _RUN_NAME.match(name) or ".." in name:
        raise ParameterError(f"run name {name!r}: use letters, digits, '_', '-' and '.', with no '/' and no "
                             "leading dot (it names a folder inside the output folder)")
    return name


class RunBusy(ParameterError):
    """Another run is writing to the same output folder."""


def _lock_output(out: Path, wait: float = 0.0) -> Any:
    """Hold ``out``'s lock for this run (an open file, flock). Another run holding it: wait up to ``wait``
    seconds, then :class:`RunBusy` naming its pid and start. A process that dies releases its lock."""
    handle = open(out / LOCK_FILE, "a+", encoding="utf-8")
    try:
        import fcntl
    except ImportError:  # Windows: no advisory lock; runs are not serialised there
        return handle
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise RunBusy(f"another run ({holder}) is writing to {out}; try again later, or give --wait "
                              "SECONDS to wait for it") from None
            time.sleep(0.5)
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}, started {_dt.datetime.now().strftime('%Y-%m-%d %H:%M:%S')}")
    handle.flush()
    return handle


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_leftovers(out: Path) -> list[str]:
    """Remove what dead runs left (called under the output folder's lock, so no live run owns them): their
    temporary folders in ``out``, and kernel socket folders (sockets and connection files, which hold the
    kernels' keys) whose process is gone. Returns what was removed."""
    removed = []
    for folder in sorted(out.glob(".tmp-*")) + sorted(out.glob(".old-*")):
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(str(folder))
    for folder in Path(tempfile.gettempdir()).glob(f"{SOCKETS_PREFIX}*"):
        pid = folder.name[len(SOCKETS_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(str(folder))
    return removed


def _set_aside(tmp: Path, failed: Path, lines: list[str], exc: BaseException) -> None:
    """After a failure: keep only what diagnoses it (the executed notebooks and ``run.log``, with the
    traceback) in ``failed``; nothing when nothing ran (bad data or parameters say it all in one line);
    and never a half-written folder, even when the disk is full."""
    if not tmp.exists():
        return
    try:
        if isinstance(exc, (ParameterError, DataError)) and not any((tmp / RunFile.NOTEBOOKS_DIR).glob("*.ipynb")):
            raise OSError("nothing ran: nothing to keep")
        for item in tmp.iterdir():
            if item.name != RunFile.NOTEBOOKS_DIR:
                shutil.rmtree(item) if item.is_dir() else item.unlink()
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        (tmp / RunFile.RUN_LOG).write_text("\n".join(lines) + "\n" + trace, encoding="utf-8")
        shutil.rmtree(failed, ignore_errors=True)
        os.replace(tmp, failed)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)



#: the executed notebooks of a published run, compressed (every output is also in the pages: 1.3 MB -> 0.2 MB)
NOTEBOOKS_ZIP = RunFile.NOTEBOOKS


def _pack_notebooks(folder: Path) -> Path:
    """``folder/notebooks/*.ipynb`` -> ``folder/notebooks.zip`` (a failed run keeps them unpacked, to read)."""
    import zipfile
    target = folder / NOTEBOOKS_ZIP
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for path in sorted((folder / RunFile.NOTEBOOKS_DIR).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            for cell in nb.cells:  # a chart's HTML repeats its plotly JSON (the page has it): kept once
                for out in cell.get("outputs", []):
                    data = out.get("data", {})
                    if "application/vnd.plotly.v1+json" in data:
                        data.pop("text/html", None)
            z.writestr(f"{RunFile.NOTEBOOKS_DIR}/{path.name}", nbformat.writes(nb))
    shutil.rmtree(folder / RunFile.NOTEBOOKS_DIR)
    return target


def swap_into_place(tmp: Path, out: Path, run_name: str) -> Path:
    """Move the finished run ``tmp`` to ``out/run_name`` (the same name again: swapped, so a reader never sees
    half a folder) and point ``out/latest`` at it (``LATEST``, a text file, where links are not allowed)."""
    final = out / run_name
    if final.exists():
        old = out / f".old-{run_name}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)
    latest = out / RunFile.LATEST
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(final.name, target_is_directory=True)
    except OSError:
        (out / RunFile.LATEST_TEXT).write_text(final.name, encoding="utf-8")
    return final


lock_output, sweep_leftovers, set_aside, pack_notebooks = _lock_output, _sweep_leftovers, _set_aside, _pack_notebooks
