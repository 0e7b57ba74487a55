"""The whole suite at 1M, 10M and 50M sales lines: time and peak memory per stage, and the SQL floor.

    python benchmarks/suite_benchmark.py [--lines 1000000 10000000 50000000] [--jobs 2] [--memory 2GB]

For each size, in a fresh process and with an empty cube cache:

1. the files are generated once (``cube_benchmark.generate``: orders of 5 lines over 5 years,
   20,000 clients, 60 managers, 12 categories, 2 % returns) into ``benchmarks/data/``;
2. the whole suite runs as ``salesbook run`` runs it (``runner.run``: load and validate, cube,
   the six workbooks ``--jobs`` at a time in their own kernels, an HTML page each, the summary),
   while a sampler reads the resident memory of this process and of every kernel every 0.1 s, and their
   proportional memory (PSS: shared pages counted once) near the highest totals (:class:`Sampler`). The
   sizes' runs share one reports folder, as a scheduled run's do: each run starts its workbooks
   longest first by the previous run's times (the first size's run, with none, in their order);
3. the cube's aggregates are computed again by hand-written DuckDB SQL (``cube_benchmark.HAND_SQL``)
   from the same clean lines held in DuckDB's memory, as the cube reads them, in a separate
   process: the floor the cube is measured against.

Prints one table per size (seconds and peak MB per stage) and the growth from size to size,
with the machine's core count. ``--json FILE`` also writes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cube_benchmark import DATA, generate  # noqa: E402


def _pss(process) -> int:
    """The memory a process holds, each page it shares with other processes counted as its share of it (its
    proportional set size, Linux; elsewhere its resident size). The kernels are forks of one process that
    imported the libraries: summing their resident sizes counted those shared pages once per kernel (about
    0.3 GB each). Reading it walks the process's page tables: 13-40 ms for a process of 1-3 GB."""
    try:
        return process.memory_full_info().pss
    except (AttributeError, NotImplementedError):
        return process.memory_info().rss


class Sampler(threading.Thread):
    """Memory of this process and of each child process (the kernels) every ``every`` seconds: resident sizes,
    which cost nothing to read, and, near the highest total seen so far (within 10 %, at most every
    ``pss_every`` seconds), proportional sizes (:func:`_pss`), from which the peak of all processes at once is
    taken. Reading every process's proportional size every 0.1 s took a core's time from a run of two cores:
    the 10M suite ran 40 s under it, 33-34 s without it."""

    def __init__(self, every: float = 0.1, pss_every: float = 0.5):
        super().__init__(daemon=True)
        import psutil
        self.me = psutil.Process()
        self.every, self.pss_every = every, pss_every
        self.samples: list[tuple[float, int, dict[int, int]]] = []  # (time, own, {child pid: its memory}): resident
        self.pss: list[tuple[float, int, dict[int, int]]] = []  # the same, proportional, near the highest totals
        self.stop = threading.Event()

    def _read(self, processes: list, size: "Callable[[Any], int]") -> dict[int, int]:
        import psutil
        out = {}
        for process in processes:
            try:
                out[process.pid] = size(process)
            except psutil.Error:
                continue
        return out

    def run(self) -> None:
        highest, last_pss = 0, float("-inf")
        while not self.stop.is_set():
            now = time.perf_counter()
            processes = [self.me, *self.me.children(recursive=True)]
            rss = self._read(processes, lambda p: p.memory_info().rss)
            own = rss.pop(self.me.pid, 0)
            self.samples.append((now, own, rss))
            total = own + sum(rss.values())
            highest = max(highest, total)
            if total >= 0.9 * highest and now - last_pss >= self.pss_every:
                pss = self._read(processes, _pss)
                self.pss.append((now, pss.pop(self.me.pid, 0), pss))
                last_pss = now
            time.sleep(self.every)

    def own_peak(self, start: float, end: float) -> int:
        return max((own for t, own, _ in self.samples if start <= t <= end), default=0)

    def child_peak(self, pid: int) -> int:
        return max((kids.get(pid, 0) for _, _, kids in self.samples), default=0)

    def total_peak(self) -> tuple[int, float]:
        """The highest total of all processes, and when it was sampled."""
        return max(((own + sum(kids.values()), t) for t, own, kids in self.pss or self.samples), default=(0, 0.0))

    def at_peak(self, names: dict[int, str]) -> dict[str, int]:
        """What each process held at the highest total: the runner, each notebook's kernel (``names``: by pid), and
        the other processes (the zygote, kernels started ahead) together."""
        _, t = self.total_peak()
        _, own, kids = next(s for s in self.pss or self.samples if s[0] == t)
        parts = {"runner": own, **{names[pid]: size for pid, size in kids.items() if pid in names}}
        parts["other processes"] = sum(size for pid, size in kids.items() if pid not in names)
        return parts


def suite(path: Path, jobs: int, reports: Path) -> dict:
    """One whole run on ``path`` in this process, its report in ``reports`` (call in a fresh process, with
    SALESBOOK_CACHE set)."""
    from salesbook.run.cli import run_process
    with run_process():  # as `salesbook run` sets its process up: one BLAS thread, the kernels' zygote started early
        return _suite(path, jobs, reports)


def _suite(path: Path, jobs: int, reports: Path) -> dict:
    from salesbook.run.runner import run
    from salesbook.run import kernels
    pids: dict[str, int] = {}  # each notebook's kernel, as the engine started it
    start = kernels.PapermillEngine.start

    def started(self, notebook: Path, cwd: Path):
        km = start(self, notebook, cwd)
        prov = getattr(km, "provisioner", None)
        pid = getattr(prov, "pid", None) or getattr(getattr(prov, "process", None), "pid", None)
        if pid:
            pids[notebook.stem] = int(pid)
        return km

    kernels.PapermillEngine.start = started
    events: list[tuple[float, str]] = []
    sampler = Sampler()
    sampler.start()
    t0 = time.perf_counter()
    result = run(source=str(path), out=reports, run_name=path.stem, jobs=jobs,
                 log=lambda msg: events.append((time.perf_counter(), msg)))
    wall = time.perf_counter() - t0
    info = json.loads((result.folder / "run.json").read_text(encoding="utf-8"))
    load_report = json.loads((result.folder / "load_report.json").read_text(encoding="utf-8"))
    sampler.stop.set()
    sampler.join()
    sec = result.seconds
    MB = 1024 * 1024
    rows = [{"stage": "load and validate", "seconds": sec["load"], "peak_mb": sampler.own_peak(t0, t0 + sec["load"]) / MB},
            {"stage": "cube", "seconds": sec["cube"],
             "peak_mb": sampler.own_peak(t0 + sec["load"], t0 + sec["load"] + sec["cube"]) / MB}]
    # each notebook's kernel by the pid the engine started it with (two kernels start at once: the order in
    # which the sampler first saw them did not tell which was which)
    notebooks = [name for name in info["started"] if name in info["notebooks"]]
    for name in notebooks:
        peak = sampler.child_peak(pids[name]) / MB if name in pids else None
        rows.append({"stage": f"{name} (its kernel)", "seconds": sec[name], "peak_mb": peak})
        rows.append({"stage": f"{name} HTML page", "seconds": sec[f"{name} html"], "peak_mb": None})
    # the summary runs in the runner, a task among the notebooks; "summary" is logged once every page is
    # written, when the runner waits for it: what follows is the wait, the index and the files
    summary_at = next(t for t, msg in events if msg == "summary")
    rows.append({"stage": "summary (in the runner, among the notebooks)", "seconds": sec["summary"], "peak_mb": None})
    rows.append({"stage": "rest of the summary, index, files", "seconds": t0 + wall - summary_at,
                 "peak_mb": sampler.own_peak(summary_at, t0 + wall) / MB})
    rows.append({"stage": "notebooks phase (wall, {} at a time)".format(jobs),
                 "seconds": summary_at - (t0 + sec["load"] + sec["cube"]), "peak_mb": None})
    peak, peak_at = sampler.total_peak()
    stages = [(t0 + sec["load"], "load"), (t0 + sec["load"] + sec["cube"], "cube"), (summary_at, "notebooks")]
    return {"rows": rows, "wall": wall, "peak_total_mb": peak / MB,
            "peak_stage": next((name for end, name in stages if peak_at <= end), "summary and files"),
            "peak_parts_mb": {k: v / MB for k, v in sampler.at_peak({pid: name for name, pid in pids.items()}).items()},
            "peak_runner_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "lines_read": load_report["rows_read"], "lines_kept": load_report["rows_kept"]}


def clean_lines(source: Path, clean: Path) -> dict:
    """The clean lines for the floor, written to ``clean`` (call in a fresh process: the floor's memory is
    then its own)."""
    from cube_benchmark import write_clean_lines
    write_clean_lines(str(source), str(clean))
    return {"clean": str(clean)}


def sql_floor(clean: Path) -> dict:
    """The cube's aggregates by hand-written DuckDB SQL from the clean lines held in memory, as the cube
    reads them (call in a fresh process). Copying them into memory is the load's work: not timed."""
    import duckdb
    from cube_benchmark import clean_lines_table, hand_sql
    limit = os.environ.get("SALESBOOK_DUCKDB_MEMORY")
    con = duckdb.connect(config={"memory_limit": limit} if limit else {})
    table = clean_lines_table(con, str(clean))
    t0 = time.perf_counter()
    hand_sql(con, table)
    return {"seconds": time.perf_counter() - t0, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _child(args: list[str], env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"benchmark step {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(lines: int, clients: int, jobs: int, reports: Path) -> dict:
    path = DATA / f"orders3_{lines}.parquet"
    if not path.exists():
        t0 = time.perf_counter()
        DATA.mkdir(exist_ok=True)
        generate(path, lines, clients)
        print(f"generated {path.name} in {time.perf_counter() - t0:.0f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="salesbook-cache-") as cache:
        env = {**os.environ, "SALESBOOK_CACHE": cache}
        res = _child(["--suite", str(path), "--jobs", str(jobs), "--reports", str(reports)], env)
        clean = Path(cache) / "lines.parquet"
        _child(["--clean", str(path), str(clean)], env)
        res["sql"] = _child(["--sql", str(clean)], env)
    return res


def show(lines: int, res: dict) -> None:
    print(f"\n{lines:,} lines ({res['lines_kept']:,} kept); {os.cpu_count()} cores")
    print("| stage | seconds | peak MB (resident) |\n|---|---:|---:|")
    for row in res["rows"]:
        mb = "" if row["peak_mb"] is None else f"{row['peak_mb']:,.0f}"
        print(f"| {row['stage']} | {row['seconds']:.1f} | {mb} |")
    print(f"| hand-written DuckDB SQL, same aggregates (floor) | {res['sql']['seconds']:.1f} | {res['sql']['peak_mb']:,.0f} |")
    cube = next(r["seconds"] for r in res["rows"] if r["stage"] == "cube")
    print(f"| **whole suite** (wall) | **{res['wall']:.1f}** | **{res['peak_total_mb']:,.0f}** (all processes at once, proportional; in: {res['peak_stage']}) |")
    print("at that peak: " + ", ".join(f"{k} {v:,.0f} MB" for k, v in res["peak_parts_mb"].items() if v >= 1))
    print(f"cube / SQL floor: {cube / res['sql']['seconds']:.2f}x; the runner's own peak (getrusage): "
          f"{res['peak_runner_mb']:,.0f} MB", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, nargs="+", default=[1_000_000, 10_000_000, 50_000_000])
    ap.add_argument("--clients", type=int, default=20_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--memory", help="DuckDB memory limit (SALESBOOK_DUCKDB_MEMORY), e.g. 2GB")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--suite", help=argparse.SUPPRESS)
    ap.add_argument("--sql", help=argparse.SUPPRESS)
    ap.add_argument("--clean", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--reports", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory:
        os.environ["SALESBOOK_DUCKDB_MEMORY"] = args.memory
    if args.suite:
        print(json.dumps(suite(Path(args.suite), args.jobs, Path(args.reports))))
        return
    if args.clean:
        print(json.dumps(clean_lines(Path(args.clean[0]), Path(args.clean[1]))))
        return
    if args.sql:
        print(json.dumps(sql_floor(Path(args.sql))))
        return
    print(f"salesbook suite benchmark; {os.cpu_count()} cores; jobs {args.jobs}; "
          f"DuckDB memory limit: {args.memory or 'default (80 % of RAM)'}", flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="salesbook-bench-") as reports:
        for n in args.lines:  # one reports folder: each run has the previous size's run before it, as scheduled
            results[n] = measure(n, args.clients, args.jobs, Path(reports))  # runs have theirs (longest first)
            show(n, results[n])
    sizes = sorted(results)
    for a, b in zip(sizes, sizes[1:]):
        print(f"{a:,} -> {b:,} lines (x{b / a:.0f}): whole suite x{results[b]['wall'] / results[a]['wall']:.1f}, "
              f"peak memory x{results[b]['peak_total_mb'] / results[a]['peak_total_mb']:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps({str(k): v for k, v in results.items()}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
