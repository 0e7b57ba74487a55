"""From a raw file to the cube, and to RFM, against what the engine needs at least (issue 25, item 2).

    python benchmarks/raw_benchmark.py [--lines 10000000] [--repeat 2] [--install-ors]

Uses the generated file of ``cube_benchmark.py`` (orders of 5 lines, 20,000 clients, 5 years; made here
when missing). Each measure runs in a fresh process with an empty cube cache, the two sides of a
comparison one after the other, ``--repeat`` times; the best time of each side is compared:

1. **load and cube**: ``get_cube(file, tables=True)`` as a run asks for it (read, validate and count every line set aside, then
   every cube table) against the raw DuckDB queries the cube needs, on the same file: the distinct lines
   (``SELECT DISTINCT *``, the duplicates the load drops) kept in DuckDB's memory, then client x month,
   client x category x month and client x day from them (the floor named in issue 25), and the floor with
   every cube table written by hand (``cube_benchmark.HAND_SQL`` and the two tables it lacks);
2. **RFM from the raw file**: ``get_cube(file)`` then ``segments.rfm(cube)`` against openretailscience's
   ``RFMSegmentation`` on an ibis DuckDB table of the same file (customer, order, date, amount), read into
   pandas (``.df``). openretailscience is a benchmark-only dependency, never salesbook's (its licence is
   Elastic 2.0, and it pins pandas < 3): it runs in its own virtualenv, ``benchmarks/data/ors-venv``
   (``--install-ors`` makes it: ``pip install openretailscience==0.48.1 'sqlglot<30.18'``), or the
   Python given by ``--ors-python``. Without it, that comparison is skipped and says so.

Prints seconds (wall) and the CPU seconds of each process (both cores count), the ratios to the floor
measured in the same run, and the machine's core count and load average: on a shared machine the
wall times vary with the other jobs, the CPU seconds less.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cube_benchmark import DATA, generate  # noqa: E402

ORS_VENV = DATA / "ors-venv"
ORS_PINS = ("openretailscience==0.48.1", "sqlglot<30.18")

_T = """(select *, date_trunc('month', date) as month, date_trunc('day', date) as day,
         coalesce(order_id, cast(date_trunc('day', date) as varchar)) as ord, amount > 0 as buy from lines) t"""
#: the floor of issue 25: the distinct lines, then the three largest aggregates of the cube, fetched whole
FLOOR = {
    "client_month": """select client_id, month, sum(amount), sum(cost), count(distinct ord) filter (where buy),
        count(*), sum(quantity) from {t} group by 1, 2""",
    "client_category_month": """select client_id, category, month, sum(amount), count(distinct ord) filter
        (where buy), count(*), min(date) filter (where buy), max(date) filter (where buy) from {t} group by 1, 2, 3""",
    "client_day": """select client_id, day, sum(amount), count(distinct ord) filter (where buy), count(*)
        from {t} group by 1, 2""",
}
#: the two cube tables cube_benchmark.HAND_SQL does not write (it has the other seven)
MORE = {
    "client_manager_month": """select client_id, manager, month, sum(amount), count(distinct ord) filter
        (where buy) from {t} group by 1, 2, 3""",
    "client_product_window": """select client_id, product_id, category,
        case when date >= timestamp '{after}' then 'after' else 'before' end as period,
        sum(amount) filter (where amount > 0), sum(quantity) filter (where amount > 0),
        sum(amount) filter (where amount < 0), sum(quantity) filter (where amount < 0)
        from lines where date >= timestamp '{before}' and date < timestamp '{end}' group by 1, 2, 3, 4""",
}


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _imported() -> None:
    """What a load imports (ibis, DuckDB, pandera: seconds on a busy machine), imported before the clock
    starts, as openretailscience's side imports ibis before its clock starts."""
    import salesbook.data.load  # noqa: F401
    import salesbook.data.validate  # noqa: F401


def salesbook_cube(path: str) -> dict:
    """Load and every cube table from the raw file (an empty cache: ``SALESBOOK_CACHE`` is set by the caller).
    A salesbook whose cube has no ``build`` (before issue 25) built every table in ``get_cube``."""
    import salesbook as sb
    _imported()
    c0, t0 = _cpu(), time.perf_counter()
    if hasattr(sb.Cube, "build"):  # every table, as a run asks for them (the load then knows)
        cube = sb.get_cube(path, tables=True)
    else:
        cube = sb.get_cube(path)
    t1 = time.perf_counter()
    t2 = time.perf_counter()
    seconds = cube.meta.get("seconds") or {}
    return {"seconds": t2 - t0, "cpu": _cpu() - c0, "load": seconds.get("load", t1 - t0),
            "cube": seconds.get("cube", 0.0), "kept": cube.report.rows_kept, "as_of": cube.report.as_of}


def floor(path: str, every: bool) -> dict:
    """The raw DuckDB queries of the same file: the distinct lines in memory, then the aggregates."""
    import duckdb
    import pandas as pd
    from cube_benchmark import HAND_SQL
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    c0, t0 = _cpu(), time.perf_counter()
    con.execute(f"create temp table lines as select distinct * from read_parquet('{path}')")
    queries = dict(FLOOR)
    if every:
        as_of = con.execute("select max(date) from lines").fetchone()[0]
        end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
        after, before = end - pd.DateOffset(months=12), end - pd.DateOffset(months=24)
        queries = {}
        for name, sql in HAND_SQL.items():  # client_category_month first: it keeps ccm for three others
            queries[name] = sql
        queries.update({name: sql.replace("{after}", str(after)).replace("{before}", str(before))
                        .replace("{end}", str(end)) for name, sql in MORE.items()})
    for name, sql in queries.items():
        *setup, query = [sql] if isinstance(sql, str) else sql
        for statement in setup:
            con.execute(statement.format(t=_T))
        con.execute(query.format(t=_T)).fetch_arrow_table()
    return {"seconds": time.perf_counter() - t0, "cpu": _cpu() - c0}


def salesbook_rfm(path: str) -> dict:
    """A new raw file, then RFM: what an analyst who opens it and asks for RFM waits for."""
    import salesbook as sb
    from salesbook.analysis import segments
    _imported()
    c0, t0 = _cpu(), time.perf_counter()
    cube = sb.get_cube(path)
    t1 = time.perf_counter()
    out = segments.rfm(cube)
    t2 = time.perf_counter()
    return {"seconds": t2 - t0, "cpu": _cpu() - c0, "load": t1 - t0, "rfm": t2 - t1, "clients": len(out),
            "built": getattr(cube, "built", list(TABLES_BEFORE)), "as_of": cube.report.as_of}


#: what get_cube built before issue 25: every table
TABLES_BEFORE = ("every table",)


ORS_PROGRAM = """
import json, os, sys, time
import ibis
from openretailscience.segmentation.rfm import RFMSegmentation
path, as_of = sys.argv[1], sys.argv[2]
t = os.times(); c0 = t.user + t.system; t0 = time.perf_counter()
raw = ibis.duckdb.connect().read_parquet(path)
table = raw.select(customer_id=raw.client_id, transaction_id=raw.order_id, transaction_date=raw.date,
                   unit_spend=raw.amount)
df = RFMSegmentation(table, current_date=as_of).df
t = os.times()
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": t.user + t.system - c0, "clients": len(df)}))
"""


def _child(args: list[str], env: dict[str, str] | None = None, python: str = sys.executable) -> dict:
    out = subprocess.run([python, *args], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"benchmark step {args[:3]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fresh(step: str, path: Path, lib: str | None = None) -> dict:
    """``step`` in a fresh process with an empty cube cache; ``lib``: another salesbook's ``lib`` folder."""
    with tempfile.TemporaryDirectory(prefix="salesbook-cache-") as cache:
        env = {**os.environ, "SALESBOOK_CACHE": cache}
        if lib:
            env["PYTHONPATH"] = lib
        return _child([__file__, "--step", step, "--path", str(path)], env)


def install_ors() -> None:
    import venv
    print(f"making {ORS_VENV} with {' '.join(ORS_PINS)}", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(ORS_VENV)
    subprocess.run([str(ORS_VENV / "bin" / "python"), "-m", "pip", "install", "-q", *ORS_PINS], check=True)


def _show(label: str, res: dict) -> None:
    extra = "".join(f", {k} {res[k]:.1f} s" for k in ("load", "cube", "rfm") if k in res)
    print(f"  {label:44s} {res['seconds']:6.1f} s wall  {res['cpu']:6.1f} s CPU{extra}", flush=True)


def _best(runs: list[dict]) -> dict:
    return min(runs, key=lambda r: r["seconds"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--clients", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--only", choices=("cube", "rfm"))
    ap.add_argument("--ors-python", default=str(ORS_VENV / "bin" / "python"))
    ap.add_argument("--install-ors", action="store_true")
    ap.add_argument("--before", help="another salesbook's lib folder (e.g. main's), measured alongside")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        steps = {"cube": salesbook_cube, "floor": lambda p: floor(p, False), "floor-every": lambda p: floor(p, True),
                 "rfm": salesbook_rfm}
        print(json.dumps(steps[args.step](args.path)))
        return
    if args.install_ors:
        install_ors()
    DATA.mkdir(exist_ok=True)
    path = DATA / f"orders3_{args.lines}.parquet"
    if not path.exists():
        t0 = time.perf_counter()
        generate(path, args.lines, args.clients)
        print(f"generated {path.name} in {time.perf_counter() - t0:.0f} s")
    print(f"{args.lines:,} lines, {args.clients:,} clients; {os.cpu_count()} cores; load average at start "
          f"{os.getloadavg()[0]:.1f} (a shared machine: compare within this run)", flush=True)
    if args.only in (None, "cube"):
        print("load and cube from the raw file:")
        runs: dict[str, list[dict]] = {"cube": [], "floor": [], "floor-every": []}
        labels = {"cube": "salesbook: get_cube(file, tables=True)", "floor": "floor: DISTINCT *, client x month, "
                  "x category x month, x day", "floor-every": "floor with every cube table by hand",
                  "before": f"before: {args.before}"}
        if args.before:
            runs["before"] = []
        for _ in range(args.repeat):
            for step in runs:
                runs[step].append(_fresh("cube" if step == "before" else step, path,
                                         args.before if step == "before" else None))
                _show(labels[step], runs[step][-1])
        best = {k: _best(v) for k, v in runs.items()}
        for mine in ("cube", "before") if args.before else ("cube",):
            for k in ("floor", "floor-every"):
                print(f"  {labels[mine].split(':')[0]}: load and cube / {labels[k]} (best of {args.repeat}): "
                      f"{best[mine]['seconds'] / best[k]['seconds']:.2f}x wall, "
                      f"{best[mine]['cpu'] / best[k]['cpu']:.2f}x CPU")
    if args.only in (None, "rfm"):
        print("RFM from the raw file:")
        ors = Path(args.ors_python)
        if not ors.exists():
            print(f"  openretailscience: no {ors} (run with --install-ors, or give --ors-python): skipped")
            return
        runs = {"rfm": [], "ors": [], "before": []}
        for _ in range(args.repeat):
            runs["rfm"].append(_fresh("rfm", path))
            _show("salesbook: get_cube(file), segments.rfm", runs["rfm"][-1])
            if args.before:
                runs["before"].append(_fresh("rfm", path, args.before))
                _show(f"before: {args.before}", runs["before"][-1])
            as_of = runs["rfm"][-1]["as_of"]
            runs["ors"].append(_child(["-c", ORS_PROGRAM, str(path), as_of], python=str(ors)))
            _show("openretailscience 0.48.1 RFMSegmentation(...).df", runs["ors"][-1])
        print(f"  tables built for RFM: {', '.join(runs['rfm'][-1]['built'])}; clients: "
              f"{runs['rfm'][-1]['clients']:,} (openretailscience: {runs['ors'][-1]['clients']:,})")
        b = _best(runs["ors"])
        for mine in ("rfm", "before") if args.before else ("rfm",):
            a = _best(runs[mine])
            print(f"  {'salesbook' if mine == 'rfm' else 'before'}: RFM / openretailscience (best of {args.repeat}): "
                  f"{a['seconds'] / b['seconds']:.2f}x wall, {a['cpu'] / b['cpu']:.2f}x CPU")


if __name__ == "__main__":
    main()
