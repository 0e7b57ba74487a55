"""The managers' packs (``--per-manager``) at 1000 managers and 10,000 clients, against the same run without them.

    python benchmarks/packs_benchmark.py [--managers 1000] [--clients-per-manager 4] [--jobs 2]

The company comes from salesbook's generator (``SampleSpec``: ``--managers`` managers with
``--clients-per-manager`` clients each at the start, a portfolio that stops hunting at 9 active
clients, 48 months; at 1000 managers about 10,200 clients and 840,000 lines, 2,000 pipeline deals),
written once to ``benchmarks/data/`` (generating it takes a few minutes). Then, with an empty cube cache
(a temporary folder), in this process:

1. the floor: ``salesbook run`` of the six workbooks on it, without packs (``runner.run``, ``--jobs``
   at a time, Russian, the generated pipeline): the run that ``--per-manager`` adds the packs to;
2. the same run with ``--per-manager``: the packs' own seconds, as the runner times them after the
   workbooks (``write_packs``: the company's lists and calibrations, read from what the workbooks kept
   beside the cube or computed once, then every manager's page and Excel), and the run's wall time;
3. ``write_packs`` alone on the cube without what the workbooks kept (every list and calibration
   computed by the packs themselves): the worst case, best of 2.

Prints the seconds with the machine's core count and load average (the machine may be shared), and
the packs' time against the floor.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from timing import best  # noqa: E402

DATA = HERE / "data"


def company(managers: int, per_manager: int) -> tuple[Path, Path]:
    """The generated company's lines (Parquet) and pipeline (CSV) in ``benchmarks/data/``, made once."""
    lines = DATA / f"packs_{managers}x{per_manager}.parquet"
    deals = DATA / f"packs_{managers}x{per_manager}_pipeline.csv"
    if lines.exists() and deals.exists():
        return lines, deals
    from salesbook.data.sample import SampleSpec, generate
    DATA.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    s = generate(SampleSpec(managers=managers, initial_clients_per_manager=per_manager, capacity=9.0,
                            hunting_rate=0.5, months=48, pipeline_deals=2 * managers,
                            planted_sleepers=managers * 3 // 10, planted_reactivated=managers * 3 // 20,
                            big_clients=max(6, managers // 50)))
    s.lines.to_parquet(lines, index=False, compression="zstd")
    s.pipeline.to_csv(deals, index=False, encoding="utf-8")
    print(f"generated {lines.name}: {len(s.lines):,} lines in {time.perf_counter() - t0:.0f} s", flush=True)
    return lines, deals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--managers", type=int, default=1000)
    ap.add_argument("--clients-per-manager", type=int, default=4, help="each manager's clients at the start")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    lines, deals = company(args.managers, args.clients_per_manager)
    with tempfile.TemporaryDirectory(prefix="packs-benchmark-") as tmp:
        os.environ["SALESBOOK_CACHE"] = str(Path(tmp) / "cache")  # an empty cache: the floor builds its cube
        import salesbook as sb
        from salesbook.analysis.settings import Settings
        from salesbook.run.managers import write_packs
        from salesbook.run.cli import run_process
        from salesbook.run.runner import run
        from salesbook.views.display import using_currency

        def one(name: str, per_manager: bool) -> tuple[float, dict[str, float]]:
            t0 = time.perf_counter()
            with run_process():  # as `salesbook run` sets its process up
                result = run(source=str(lines), pipeline=str(deals), lang="ru", out=Path(tmp) / "reports",
                             run_name=name, jobs=args.jobs, per_manager=per_manager)
            return time.perf_counter() - t0, result.seconds

        floor, _ = one("floor", False)
        cube = sb.get_cube(str(lines))
        clients, managers = cube.clients.shape[0], cube.clients.manager.nunique()
        load = os.getloadavg()[0]
        with_packs, seconds = one("packs", True)
        bare = copy.copy(cube.build())  # every table built; without a folder nothing the workbooks kept is read:
        bare.folder = None                # the packs compute every list
        with using_currency("RUB"):
            cold = best(lambda: write_packs(bare, Path(tmp) / "cold", "ru", str(deals), str(lines),
                                            settings=Settings()), 2)
        load = max(load, os.getloadavg()[0])
    packs = seconds["packs"]
    print(f"{os.cpu_count()} cores, load average up to {load:.1f} during the runs")
    print(f"{lines.name}: {managers:,} managers, {clients:,} clients")
    print(f"  run without packs (the floor, {args.jobs} workbooks at a time)  {floor:7.1f} s")
    print(f"  run with --per-manager                                {with_packs:7.1f} s")
    print(f"  of which write_packs, in the run                      {packs:7.1f} s  ({packs / floor:.2f}x the floor)")
    print(f"  write_packs alone, every list computed by it (best of 2) {cold:7.1f} s  ({cold / floor:.2f}x the floor)")


if __name__ == "__main__":
    main()
