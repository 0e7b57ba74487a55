"""The sample suite with its cube cached, against the notebook floor, in one run (issue 25, item 3).

The floor: six trivial notebooks (one cell each) through papermill, two at a time, each on a new kernel,
as papermill runs any notebook. The suite: ``salesbook run`` on the committed sample (six workbooks, the
summary, the pages), its cube already cached (a first run fills the cache and is not counted), with its
kernels forked from one process (the default on Linux) and started as new Pythons (``SALESBOOK_FORK=0``).
Each is measured ``--repeat`` times, the three in turns; the best of each is kept (benchmarks/timing.py).

    .venv/bin/python benchmarks/sample_suite_benchmark.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import best  # noqa: E402

SALESBOOK = str(Path(sys.executable).with_name("salesbook"))


def floor(folder: Path) -> float:
    """Six one-cell notebooks through papermill, two at a time: the cost of a kernel per notebook."""
    import papermill
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(6):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                    nbformat.v4.new_code_cell("x + 1")]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        path = folder / f"{i}.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    start = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda p: papermill.execute_notebook(str(p), str(p.with_suffix(".out.ipynb")),
                                                            parameters={"x": 2}, progress_bar=False), paths))
    return time.perf_counter() - start


def suite(out: Path, cache: Path, fork: bool) -> float:
    env = {**os.environ, "SALESBOOK_CACHE": str(cache), "SALESBOOK_FORK": "1" if fork else "0"}
    start = time.perf_counter()
    subprocess.run([SALESBOOK, "run", "-q", "--output", str(out)], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        cache = base / "cache"
        suite(base / "warm", cache, True)  # fills the cube cache and the per-cube results: not counted
        # in turns, so that a change of the machine's speed during the run weighs on the floor as on the suite (run
        # one after the other, the floor's best moved between 1.8 and 2.8 s from run to run)
        times: dict[str, list[float]] = {"floor": [], "forked": [], "new": []}
        for _ in range(args.repeat):
            times["floor"].append(best(lambda: floor(base / "floor"), 1))
            times["forked"].append(best(lambda: suite(base / "forked", cache, True), 1))
            times["new"].append(best(lambda: suite(base / "new", cache, False), 1))
        floor_s, forked, new = (min(times[k]) for k in ("floor", "forked", "new"))
    print(f"{os.cpu_count()} cores, best of {args.repeat}, in turns")
    print("| measure | seconds | against the floor |\n|---|---:|---:|")
    print(f"| six trivial notebooks, papermill, two at a time (floor) | {floor_s:.1f} | 1.0x |")
    print(f"| the sample suite, cube cached, kernels forked (default) | {forked:.1f} | {forked / floor_s:.1f}x |")
    print(f"| the sample suite, cube cached, kernels as new Pythons (SALESBOOK_FORK=0) | {new:.1f} | {new / floor_s:.1f}x |")


if __name__ == "__main__":
    main()
