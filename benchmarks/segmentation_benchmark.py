"""Segmentation speed once the cube exists, and the explorer's update time.

    python benchmarks/segmentation_benchmark.py [--lines 10000000]

Uses the benchmark file of cube_benchmark.py (20k clients over 60 months; run
that first) through get_cube (cached), then times each segmentation step and a
slider change of the explorer (rules re-applied on cached features), on that
file and on the committed sample. Best of 3 runs each.
"""

from __future__ import annotations

import argparse
import copy
import os
import time
from dataclasses import replace
import sys
from pathlib import Path

import salesbook as sb
from salesbook.analysis import segments as sg
from salesbook.views.explore import SegmentationState

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from timing import best as _best  # noqa: E402


def best(fn, n: int = 3) -> float:
    return _best(fn, n)




def report(name: str, cube: sb.Cube) -> None:
    cube = copy.copy(cube.build())  # every table read or built first: the computations alone are timed
    cube.folder = None  # the computations themselves, not the results kept beside the cache
    print(f"{name}: {cube.clients.shape[0]:,} clients, {cube.client_month.month.nunique()} months, "
          f"{len(cube.client_day):,} client-days; {os.cpu_count()} cores")
    classes = sg.classify_clients(cube)
    steps = {
        "segment: 9 categories + reasons, ABC/XYZ, RFM": lambda: sg.segment(cube),
        "  of which classify_clients alone": lambda: sg.classify_clients(cube),
        "reactivation_list": lambda: sg.reactivation_list(cube, classes),
        "migration (two dates)": lambda: sg.migration(cube, cube.as_of - __import__("pandas").DateOffset(months=12)),
    }
    for label, fn in steps.items():
        s = best(fn)
        print(f"  {label:48s} {s * 1000:8.0f} ms")
    state = SegmentationState(cube)
    state.update(sg.Rules())  # features for the window are computed once
    k = iter(range(1, 1000))
    s = best(lambda: state.update(replace(sg.Rules(), regular_active_months=1 + next(k) % 12)), 5)
    print(f"  {'explorer: a slider change (rules re-applied)':48s} {s * 1000:8.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=10_000_000)
    args = ap.parse_args()
    report("sample", sb.get_cube("sample"))
    path = HERE / "data" / f"orders3_{args.lines}.parquet"
    if path.exists():
        t0 = time.perf_counter()
        cube = sb.get_cube(str(path))
        print(f"(cube of {path.name}: {time.perf_counter() - t0:.1f} s, cached after the first run)")
        report(path.name, cube)
    else:
        print(f"{path} not found: run benchmarks/cube_benchmark.py --lines {args.lines} first")


if __name__ == "__main__":
    main()
