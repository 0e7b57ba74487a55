"""The one timer of the benchmarks: the best of ``n`` runs of a function, in seconds."""

from __future__ import annotations

import gc
import time
from typing import Callable


def best(fn: Callable[[], object], n: int = 2, collect: bool = False) -> float:
    """The shortest of ``n`` wall-clock times of ``fn()``; ``collect``: a garbage collection after each."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if collect:
            gc.collect()
    return min(times)
