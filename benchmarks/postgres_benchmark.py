"""Loading N sales lines from PostgreSQL against loading the same lines from a Parquet file.

    python benchmarks/postgres_benchmark.py [--lines 1000000] [--clients 20000]

The lines are cube_benchmark's generated orders (cached in benchmarks/data/). A throwaway cluster on
127.0.0.1 (tests/pgcluster.py: Debian's postgresql binaries) holds them in a table ``sales``; the load
is :func:`salesbook.data.load.load_sales` with ``stage=True`` (the clean lines computed once, in the
engine: what the cube does), then the count of clean lines, best of 2. The COPY into PostgreSQL is
timed apart: a company's database already holds its lines.

Measured at 1,000,000 lines on 2 cores shared with other work: Parquet 4.5 s, PostgreSQL 25.9 s (the checks run
in PostgreSQL and the clean lines are kept there in a temporary table, ibis' cache; COPY 8.7 s).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from timing import best as _best  # noqa: E402
sys.path.insert(0, str(HERE.parent / "tests"))


def best(fn, n: int = 2) -> float:
    return _best(fn, n, collect=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--lines", type=int, default=1_000_000)
    p.add_argument("--clients", type=int, default=20_000)
    args = p.parse_args()
    import pandas as pd
    from cube_benchmark import DATA, generate
    from pgcluster import cluster, copy_frame
    from salesbook.data.load import load_sales
    DATA.mkdir(exist_ok=True)
    path = DATA / f"orders3_{args.lines}.parquet"
    if not path.exists():
        generate(path, args.lines, args.clients)

    def load(source: str) -> int:
        sales = load_sales(source, stage=True)
        return int(sales.table.count().execute())

    file_seconds = best(lambda: load(str(path)))
    with cluster() as pg:
        frame = pd.read_parquet(path)
        t0 = time.perf_counter()
        copy_frame(pg, "sales", frame)
        copy_seconds = time.perf_counter() - t0
        del frame
        os.environ["PGPASSWORD"] = pg["password"]
        kept = load(pg["url"] + "#sales")
        db_seconds = best(lambda: load(pg["url"] + "#sales"))
        gc.collect()
    print(f"{args.lines:,} lines ({kept:,} kept), {os.cpu_count()} cores")
    print("| source | load + count (s) |\n|---|---|")
    print(f"| Parquet file (DuckDB) | {file_seconds:.2f} |")
    print(f"| PostgreSQL table (ibis postgres backend) | {db_seconds:.2f} |")
    print(f"(COPY of the lines into PostgreSQL, not part of a load: {copy_seconds:.1f} s)")


if __name__ == "__main__":
    main()
