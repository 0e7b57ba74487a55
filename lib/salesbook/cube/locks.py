"""One lock file per thing being made in a cache folder: a cube table being built, an analysis being computed.

While one process (or thread) makes it, another that asks for it waits, then reads what the first wrote. The lock
goes with the process, whatever becomes of it (``flock``). A thing asked for again by the thread making it (a
table's build reads a table under the same lock) takes no lock on itself. On a system without ``fcntl``, or a
folder that cannot be written, there is no lock: each process makes its own, whole.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Iterator

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["locked"]

#: the lock files this thread holds
_HELD = threading.local()


@contextlib.contextmanager
def locked(folder: Path | None, name: str) -> Iterator[None]:
    """While held, no other process or thread makes ``name`` in ``folder`` (the lock file ``folder/.name.lock``).
    No folder: no lock."""
    path = None if folder is None else Path(folder) / f".{name}.lock"
    held = _HELD.__dict__.setdefault("paths", set())
    if path is None or fcntl is None or path in held:  # held already by this thread: making it now
        yield
        return
    try:
        handle = open(path, "a+b")
    except OSError:  # a cache that cannot be written: each process makes its own
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        held.add(path)
        try:
            yield
        finally:
            held.discard(path)
            fcntl.flock(handle, fcntl.LOCK_UN)
