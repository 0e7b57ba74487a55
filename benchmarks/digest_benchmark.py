"""Cost of the cube cache's content digest (SHA-256 of the source's bytes, salesbook.cube.content_digest).

    python benchmarks/digest_benchmark.py [--gb 1] [--lines 10000000]

Times the digest of a file of ``--gb`` GB of random bytes (written once to a temporary folder) and of the
``--lines`` Parquet file the cube benchmark generates (benchmarks/data/, made here if absent), best of 3,
in seconds, with the machine's core count. The digest runs on one core.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def best_of(path: Path, runs: int = 3) -> float:
    from salesbook.cube import content_digest
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        content_digest(path)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gb", type=float, default=1.0)
    ap.add_argument("--lines", type=int, default=10_000_000)
    args = ap.parse_args()
    print(f"cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "random.bin"
        with open(big, "wb") as f:
            for _ in range(int(args.gb * 1000)):
                f.write(os.urandom(1_000_000))
        s = best_of(big)
        print(f"{args.gb:g} GB of random bytes: {s:.2f} s ({args.gb * 1000 / s:.0f} MB/s)")
    from cube_benchmark import DATA, generate
    lines = DATA / f"orders3_{args.lines}.parquet"  # the cube benchmark's file
    if not lines.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        generate(lines, args.lines, 20_000)
    mb = lines.stat().st_size / 1e6
    s = best_of(lines)
    print(f"{args.lines:,} lines ({mb:.0f} MB of Parquet): {s:.2f} s")


if __name__ == "__main__":
    main()
