"""Cube build time and peak memory against hand-written DuckDB SQL for the same aggregates.

(The whole suite, every stage, at several sizes: ``suite_benchmark.py``; this one isolates the cube.)

    python benchmarks/cube_benchmark.py [--lines 10000000] [--clients 20000]

Generates (once, cached in benchmarks/data/) a parquet file of N sales lines over
5 years, then in separate processes, so that peak memory is each stage's own:
  1. load + validate (counts, dedup) into DuckDB's memory, as get_cube does (then written to
     parquet, untimed, to hand them to the next stages),
  2. the cube with salesbook (ibis on DuckDB) from the clean lines held in memory,
  3. the same aggregates as hand-written DuckDB SQL from the same lines in memory (the floor).
Prints seconds and peak RSS per stage, and the machine's core count.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"


def generate(path: Path, lines: int, clients: int) -> None:
    """Orders of 5 lines that share client, date and manager, as in an ERP export; each client buys
    three of the 12 categories (products within them)."""
    import duckdb
    con = duckdb.connect()
    con.execute(f"""
        copy (
          with l as (select range as i, range // 5 as o, hash(range // 5) as h, hash(range) as g from range({lines})),
          c as (select *, cast(floor(pow((h % 1000003) / 1000003.0, 2) * {clients}) as integer) as cl from l)
          select timestamp '2021-11-01' + to_days(cast((h // 7) % 1826 as integer)) as date,
                 'C' || lpad(cast(cl as varchar), 6, '0') as client_id,
                 'Client ' || cast(cl as varchar) as client_name,
                 'M' || cast(hash(cl) % 60 as varchar) as manager,
                 'P' || cast(((hash(cl) + g % 3) % 12) * 250 + (g // 3) % 250 as varchar) as product_id,
                 'Product' as product_name,
                 'Cat' || cast((hash(cl) + g % 3) % 12 as varchar) as category,
                 cast(g % 20 + 1 as double) as quantity,
                 round(case when g % 50 = 0 then -1 else 1 end * exp(((g // 60000) % 1000) / 1000.0 * 6 + 3), 2) as amount,
                 'O' || cast(o as varchar) as order_id,
                 'R' || cast(hash(cl) % 10 as varchar) as region,
                 cast(null as double) as cost
          from c
        ) to '{path}' (format parquet, compression zstd)""")


_T = """(select *, date_trunc('month', date) as month, date_trunc('day', date) as day,
         coalesce(order_id, cast(date_trunc('day', date) as varchar)) as ord, amount > 0 as buy
         from {source}) t"""
#: the same seven result tables as salesbook's cube, each fetched whole (as the cube does). Like the cube,
#: client_category, category_month and client_month's categories are sums over client_category_month (kept
#: in a temporary table, with its lines and purchase dates) rather than passes over the lines; a statement
#: list runs in order
HAND_SQL = {
    "client_category_month": ["""create or replace temp table ccm as select client_id, category, month,
        sum(amount) as revenue, count(distinct ord) filter (where buy) as orders, count(*) as lines,
        min(date) filter (where buy) as first_date, max(date) filter (where buy) as last_date
        from {t} group by 1, 2, 3""", "select client_id, category, month, revenue, orders from ccm"],
    "client_month": """select * from (select client_id, month, sum(amount), sum(cost),
        count(distinct ord) filter (where buy), count(*), sum(quantity) from {t} group by 1, 2)
        join (select client_id, month, count(*) filter (where orders > 0 and category is not null) from ccm
        group by 1, 2) using (client_id, month)""",
    "client_day": """select client_id, day, sum(amount), count(distinct ord) filter (where buy), count(*)
        from {t} group by 1, 2""",
    "client_category": """select client_id, category, sum(revenue), sum(lines), min(first_date), max(last_date),
        count(*) filter (where orders > 0) from ccm group by 1, 2""",
    "manager_month": """select manager, month, sum(amount), count(distinct client_id) filter (where buy),
        count(distinct ord) filter (where buy), count(*) from {t} group by 1, 2""",
    "category_month": """select category, month, sum(revenue), count(*) filter (where orders > 0), sum(lines)
        from ccm group by 1, 2""",
    "clients": """with g as (select client_id, day, lag(day) over (partition by client_id order by day) as prev
            from (select distinct client_id, day from {t} where buy)),
        m as (select client_id, median(datediff('day', prev, day)) as gap from g group by 1)
        select a.*, m.gap from (select client_id, arg_max(client_name, date), arg_max(region, date),
        min(date) filter (where buy), max(date) filter (where buy), arg_min(manager, date) filter (where buy),
        arg_max(manager, date), sum(amount), count(distinct ord) filter (where buy), count(*),
        count(distinct category) from {t} group by 1) a left join m using (client_id)""",
}


def write_clean_lines(source: str, clean: str):
    """The clean lines as get_cube loads them (in memory, with the cube's columns), then written to the Parquet
    file ``clean`` to hand them to another process; returns the Sales and the seconds of the load alone."""
    import salesbook as sb
    from salesbook.cube import COLUMNS
    t0 = time.perf_counter()
    sales = sb.load_sales(source, stage=True, columns=COLUMNS)
    seconds = time.perf_counter() - t0
    sales.table.to_parquet(clean)
    return sales, seconds


def clean_lines_table(con, clean: str, name: str = "lines") -> str:
    """The clean lines at ``clean`` (Parquet) as a DuckDB table in memory, as get_cube holds them before it
    aggregates (not timed: the load's work); returns its name."""
    con.execute(f"create or replace table {name} as select * from read_parquet('{clean}')")
    return name


def hand_sql(con, source: str) -> dict[str, int]:
    """Run :data:`HAND_SQL` on the clean lines in ``source`` (a table name) with a DuckDB connection;
    rows per table."""
    t = _T.format(source=source)
    rows = {}
    for name, sql in HAND_SQL.items():
        *setup, query = [sql] if isinstance(sql, str) else sql
        for statement in setup:
            con.execute(statement.format(t=t))
        rows[name] = len(con.execute(query.format(t=t)).fetch_df())
    return rows


def stage(name: str, path: str) -> dict:
    """One stage, timed on its work only (imports and the hand-over between processes are not counted)."""
    import duckdb
    import salesbook as sb
    from salesbook.data.load import Sales, connect
    from salesbook.data.load_report import LoadReport
    clean = path.replace(".parquet", ".clean.parquet")
    extra: dict = {}
    if name == "load":  # timed as get_cube loads; the Parquet file for the next stages is not
        s, seconds = write_clean_lines(path, clean)
        (Path(path).parent / "report.json").write_text(s.report.to_json(), encoding="utf-8")
        extra = {"kept": s.report.rows_kept, "read": s.report.rows_read}
    elif name == "cube":  # what get_cube does after loading: the cube from the clean lines held in memory
        con = connect()
        report = LoadReport.from_dict(json.loads((Path(path).parent / "report.json").read_text(encoding="utf-8")))
        lines = con.read_parquet(clean).cache()
        t0 = time.perf_counter()
        c = sb.build_cube(Sales(lines, report, con, True)).build()  # every table: the cube builds them when asked
        seconds = time.perf_counter() - t0
        extra = {"client_month_rows": len(c.client_month)}
    else:  # the floor, from the same clean lines in memory
        limit = os.environ.get("SALESBOOK_DUCKDB_MEMORY")
        con = duckdb.connect(config={"memory_limit": limit} if limit else {})
        source = clean_lines_table(con, clean)
        t0 = time.perf_counter()
        extra = hand_sql(con, source)
        seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"stage": name, "seconds": round(seconds, 2), "peak_mb": round(peak_mb), **extra}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--clients", type=int, default=20_000)
    ap.add_argument("--memory", help="DuckDB memory limit for salesbook and the SQL floor, e.g. 600MB")
    ap.add_argument("--stage")
    ap.add_argument("--path")
    args = ap.parse_args()
    if args.memory:
        os.environ["SALESBOOK_DUCKDB_MEMORY"] = args.memory
    if args.stage:
        print(json.dumps(stage(args.stage, args.path)))
        return
    DATA.mkdir(exist_ok=True)
    path = DATA / f"orders3_{args.lines}.parquet"
    if not path.exists():
        t0 = time.perf_counter()
        generate(path, args.lines, args.clients)
        print(f"generated {path.name} in {time.perf_counter() - t0:.1f} s")
    print(f"{args.lines:,} lines, {args.clients:,} clients; {os.cpu_count()} cores; "
          f"DuckDB memory limit: {args.memory or 'default (80 % of RAM)'}")
    results = []
    for name in ("load", "cube", "sql", "cube", "sql"):
        out = subprocess.run([sys.executable, __file__, "--stage", name, "--path", str(path)],
                             capture_output=True, text=True, check=True)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(res)
        print(f"  {res['stage']:5s} {res['seconds']:7.2f} s  peak {res['peak_mb']:6,} MB")
    best = {n: min(r["seconds"] for r in results if r["stage"] == n) for n in ("cube", "sql")}
    print(f"cube / hand-written SQL (best of 2): {best['cube'] / best['sql']:.2f}x")


if __name__ == "__main__":
    main()
