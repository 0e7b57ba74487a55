"""The hand-over comparison (``handovers.compare``) against the number of clients and hand-overs.

    python benchmarks/handover_benchmark.py [--managers 25 100 250]

Generates the sample's company with its hand-over story (``SampleSpec.handovers``) at several sizes:
more managers win proportionally more clients, and a fifth as many account managers take 40 % of them
after their 2nd deal. For each size, in its own process so that the peak memory is the comparison's
own: the lines, hand-overs and candidate client-months, the seconds of ``handovers`` + ``compare``
(retention, revenue growth with its bootstrap, categories), and the peak memory they allocate on top
of the cube (tracemalloc, which numpy and pandas report to). Prints the machine's core count.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc


def one(managers: int) -> dict:
    import salesbook as sb
    from salesbook.analysis import handovers as hv
    from salesbook.data.sample import SampleSpec, generate
    s = generate(SampleSpec.handovers(managers=managers, account_managers=max(1, managers // 5)))
    cube = sb.build_cube(sb.load_sales(s.lines, as_of=s.planted["as_of"])).build()  # the tables, untimed
    t0 = time.perf_counter()
    ho = hv.handovers(cube)
    t1 = time.perf_counter()
    res = hv.compare(cube, ho)
    t2 = time.perf_counter()
    tracemalloc.start()  # a second pass for the memory: tracing slows the first one down
    hv.compare(cube, hv.handovers(cube))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"managers": managers, "lines": len(s.lines), "clients": int(cube.clients.shape[0]),
            "handovers": len(ho), "handed": res["handed"], "kept": res["kept"],
            "handovers_s": t1 - t0, "compare_s": t2 - t1,
            "peak_mb": peak / 2 ** 20}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--managers", type=int, nargs="+", default=[25, 100, 250])
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    print(f"{os.cpu_count()} cores")
    print(f"{'managers':>8} {'lines':>10} {'clients':>8} {'hand-overs':>10} {'kept':>7} "
          f"{'list s':>7} {'compare s':>9} {'peak MB':>8}")
    for m in args.managers:
        out = subprocess.run([sys.executable, __file__, "--one", str(m)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['managers']:>8} {r['lines']:>10,} {r['clients']:>8,} {r['handovers']:>10,} {r['kept']:>7,} "
              f"{r['handovers_s']:>7.2f} {r['compare_s']:>9.2f} {r['peak_mb']:>8.0f}")


if __name__ == "__main__":
    main()
