"""Analyses computed once per cached cube and reused by every process that reads it.

A scheduled run computes the same segmentation in three workbooks and the summary, each in its own
process, and the stagnation diagnosis twice. A function decorated with :func:`per_cube` keeps its
result beside the cached cube (``<cube folder>/memo/``, pickled) under a key made of the function, its
arguments and a digest of salesbook's own code, so that a changed argument or a changed salesbook
never returns an old result. Only arguments with a stable text form take part (text, numbers, dates,
frozen dataclasses of those); a call with any other argument (a DataFrame), or on a cube that is not
cached (built in memory), is computed as usual. Each call returns its own copy: callers may change it; except
a result whose class sets ``memo_shared`` (its readers never change it): one object per process.

Two processes (or threads) asking for a result nobody kept yet do not both compute it: the first computes it
under a lock file beside it, the others wait and read what it kept. On two cores, the summary computed in
the runner while a workbook computed the same diagnosis doubled that work's time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import functools
import hashlib
import inspect
import os
import pickle
import sys
import tempfile
import threading
import weakref
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from salesbook.cube.locks import locked

__all__ = ["per_cube", "code_digest", "leaving_out_shared", "release_heap"]

F = TypeVar("F", bound=Callable[..., Any])


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of every salesbook module's source: results of another version are never reused."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parents[1].rglob("*.py")):
        h.update(str(path.relative_to(Path(__file__).resolve().parents[1])).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _stable(value: Any) -> str:
    """The text form of an argument that identifies it, or TypeError when there is none."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, (_dt.date, _dt.datetime)):  # pandas Timestamp too
        return f"{type(value).__name__}({value.isoformat()})"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__}({', '.join(_stable(v) for v in value)})"
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and value.__dataclass_params__.frozen:
        fields = ", ".join(f"{f.name}={_stable(getattr(value, f.name))}" for f in dataclasses.fields(value))
        return f"{type(value).__qualname__}({fields})"
    raise TypeError(type(value).__name__)


#: the results this process kept or read, by identity, with their file: a result that holds one of them (the
#: diagnosis holds the revenue walk, 437 MB pickled at 10M lines) is kept with a reference to that file, beside it
#: in the same cube's memo folder, instead of a second copy of it
_FILES: dict[int, tuple["weakref.ref[Any]", Path]] = {}


#: results of a class that says every caller may share one (``memo_shared``: its readers never change it, such as
#: the revenue walk), by their file, while anything in this process holds them. A run's summary read the walk
#: twice (in the diagnosis, and for its own figures), workbook 03 computed it in the diagnosis and read it again:
#: 0.45 s and 0.66 GB each time at 10M lines
_SHARED: "weakref.WeakValueDictionary[Path, Any]" = weakref.WeakValueDictionary()


def _known(result: Any, path: Path) -> None:
    """Remember that ``result`` is kept at ``path`` (while it lives; a result that takes no weak reference, such
    as a tuple, is not remembered and is copied into the results that hold it, as before)."""
    try:
        ref = weakref.ref(result, lambda _ref, key=id(result): _FILES.pop(key, None))
    except TypeError:
        return
    _FILES[id(result)] = (ref, path)
    if getattr(type(result), "memo_shared", False):
        _SHARED[path] = result


def release_heap() -> None:
    """Give the heap that Python and the libraries freed back to the system (glibc's ``malloc_trim``; nothing
    where there is no glibc). glibc keeps what was freed for the next allocations: workbook 03's kernel at 10M
    lines held 1.59 GB after the diagnosis, of which 0.58 GB was free; 1.02 GB after a trim, which took under a
    hundredth of a second."""
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:  # and what Arrow's pool keeps for reuse
        arrow.default_memory_pool().release_unused()
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


@functools.lru_cache(maxsize=1)
def _libc() -> Any:
    """The C library, where glibc's ``malloc_trim`` is (None where it cannot be loaded: Windows)."""
    import ctypes
    import ctypes.util
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


#: this thread's reading and computing: ``leaving_out`` (within :func:`leaving_out_shared`) and ``depth`` (how many
#: memoised analyses it is computing, one inside another: the diagnosis computes the walk)
_THREAD = threading.local()


@contextlib.contextmanager
def leaving_out_shared() -> "Iterator[None]":
    """Within (in this thread): a kept result read from the memo has None in place of each shared result it refers
    to (``memo_shared``, in its own file), which is then not read. For a reader that uses none of them: a run's
    summary reads the diagnosis for its verdict and symptoms, not the revenue walk it holds (at 10M lines, 0.3 GB
    read in the runner while workbook 03's kernel was at its largest). Such a partial result is not remembered as
    the kept one; a result computed here is whole."""
    before = getattr(_THREAD, "leaving_out", False)
    _THREAD.leaving_out = True
    try:
        yield
    finally:
        _THREAD.leaving_out = before


class _Pickler(pickle.Pickler):
    """Pickles a result, each kept result it holds (another's file, beside it) as a reference to that file."""

    def __init__(self, file: Any, folder: Path, own: str) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.folder, self.own = folder, own

    def persistent_id(self, obj: Any) -> "tuple[str, str] | None":
        known = _FILES.get(id(obj))
        if known is None or known[0]() is not obj:
            return None
        path = known[1]
        if path.name == self.own or path.parent != self.folder or not path.exists():  # another cube's: a copy
            return None
        return ("memo", path.name, bool(getattr(type(obj), "memo_shared", False)))


class _Unpickler(pickle.Unpickler):
    """Reads a kept result, each reference to another's file (:class:`_Pickler`) read from that file: a copy."""

    def __init__(self, file: Any, folder: Path) -> None:
        super().__init__(file)
        self.folder = folder
        #: a shared result it refers to was left out (:func:`leaving_out_shared`)
        self.partial = False

    def persistent_load(self, pid: Any) -> Any:
        kind, name, shared = pid
        if shared and getattr(_THREAD, "leaving_out", False):
            self.partial = True
            return None
        got = _read(self.folder / name) if kind == "memo" else _MISSING
        if got is _MISSING:  # the whole result is then computed again
            raise pickle.UnpicklingError(f"the kept result it refers to is missing: {name}")
        return got


def _keep(result: Any, path: Path) -> None:
    """Write ``result`` whole, then move it into place: a reader never sees half a file. A memo that cannot
    be written only costs time."""
    try:
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            _Pickler(f, path.parent, path.name).dump(result)
        os.replace(tmp, path)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        Path(tmp).unlink(missing_ok=True)


_MISSING = object()


def _read(path: Path) -> Any:
    """The result kept at ``path``, or ``_MISSING`` (not computed yet, or unreadable: computed again). A shared
    result (:data:`_SHARED`) this process already holds is not read again, while its file is there."""
    shared = _SHARED.get(path)
    if shared is not None and path.exists():
        return shared
    try:
        with open(path, "rb") as f:
            reader = _Unpickler(f, path.parent)
            got = reader.load()
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, ValueError):
        return _MISSING
    if not reader.partial:
        _known(got, path)
    return got


def per_cube(fn: F) -> F:
    """Keep ``fn(cube, ...)``'s result beside the cached cube, for every process that reads it."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(cube: Any, *args: Any, **kwargs: Any) -> Any:
        folder = getattr(cube, "folder", None)
        if folder is None:
            return fn(cube, *args, **kwargs)
        bound = signature.bind(cube, *args, **kwargs)
        bound.apply_defaults()
        try:
            text = ";".join(f"{k}={_stable(v)}" for k, v in list(bound.arguments.items())[1:])
        except TypeError:
            return fn(cube, *args, **kwargs)
        key = hashlib.sha256(f"{fn.__module__}.{fn.__qualname__}({text}){code_digest()}".encode()).hexdigest()[:24]
        path = Path(folder) / "memo" / f"{fn.__name__}-{key}.pkl"
        kept = _read(path)  # remembered by _read
        if kept is not _MISSING:
            return kept
        # not computed yet: computed by one process; another that asks meanwhile (the summary in the runner while
        # a workbook's kernel computes the same segmentation) waits for it and reads what it kept. No two calls
        # wait for each other: a result's computation asks only for results of the functions it calls, and no
        # memoised function calls one that calls it back
        with contextlib.suppress(OSError):  # a cache that cannot be written: no lock, computed as usual
            path.parent.mkdir(exist_ok=True)
        with locked(path.parent, path.stem):
            kept = _read(path)
            if kept is not _MISSING:
                return kept
            depth = getattr(_THREAD, "depth", 0)
            _THREAD.depth = depth + 1
            try:
                result = fn(cube, *args, **kwargs)
            finally:
                _THREAD.depth = depth
            _keep(result, path)
            _known(result, path)
        if not depth:
            release_heap()  # what computing it freed, given back once the outermost analysis has its result
        return result

    return wrapper  # type: ignore[return-value]
