"""The whole suite on a real Spark standalone cluster on 127.0.0.1, against the same run on local DuckDB.

    python benchmarks/spark_cluster_benchmark.py [--lines 1000000] [--cores 2] [--split-mb 8] [--shuffle 8]

1. A file is generated once (``cube_benchmark.generate``: orders of 5 lines over 5 years, 20,000 clients,
   60 managers, 12 categories, 2 % returns) into ``benchmarks/data/``.
2. A standalone cluster is started from the pyspark package: ``spark-class
   org.apache.spark.deploy.master.Master`` on 127.0.0.1:7077 and one ``Worker`` (``--cores``).
3. The suite runs as ``salesbook run`` runs it (``runner.run``) on ``spark:<file>`` with
   ``SALESBOOK_SPARK_MASTER=spark://127.0.0.1:7077``, in a fresh process with an empty cube cache;
   Spark reads the file in splits of ``--split-mb`` (``spark.sql.files.maxPartitionBytes``), so that
   a step that moved every line into one partition would show as a stage of one task.
4. The same suite on the same file with local DuckDB (the default engine), in a fresh process: the floor.
5. The cluster it started is stopped (master and worker, their process groups), whatever happened.

Prints seconds per stage for both engines and their ratio, the number of the file's splits, and the
number of tasks of the largest stage of the load and the cube (every Spark job of the run is theirs:
the workbooks read the cube from the cache), with the machine's core count.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cube_benchmark import DATA, generate  # noqa: E402

JOB_GROUP = "salesbook-load-and-cube"


def _spark_home() -> Path:
    import pyspark
    return Path(pyspark.__file__).resolve().parent


def _wait_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {seconds:.0f} s")


class Cluster:
    """A standalone master and one worker on 127.0.0.1, each in its own process group; ``stop`` ends both."""

    def __init__(self, port: int, ui_port: int, cores: int, memory: str, folder: Path):
        self.port, self.ui_port, self.cores, self.memory, self.folder = port, ui_port, cores, memory, folder
        self.procs: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return f"spark://127.0.0.1:{self.port}"

    def _start(self, name: str, *args: str) -> None:
        cls = f"org.apache.spark.deploy.{name.lower()}.{name}"
        env = {**os.environ, "SPARK_HOME": str(_spark_home()), "SPARK_LOCAL_IP": "127.0.0.1",
               "SPARK_WORKER_DIR": str(self.folder / "work"), "PYSPARK_PYTHON": sys.executable}
        log = open(self.folder / f"{name.lower()}.log", "wb")
        self.procs.append(subprocess.Popen([str(_spark_home() / "bin" / "spark-class"), cls, *args],
                                           stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True))

    def start(self) -> None:
        self._start("Master", "--host", "127.0.0.1", "--port", str(self.port), "--webui-port", str(self.ui_port))
        _wait_port(self.port, 120)
        self._start("Worker", self.url, "--host", "127.0.0.1", "--cores", str(self.cores), "--memory",
                    self.memory, "--webui-port", "0")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                state = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{self.ui_port}/json/", timeout=2).read())
                if state.get("aliveworkers", 0) >= 1:
                    return
            except OSError:
                pass
            time.sleep(1)
        raise SystemExit("the worker did not register with the master; see " + str(self.folder))

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def suite(source: str, reports: Path, split_mb: int, shuffle: int) -> dict:
    """One whole run on ``source`` in this process (fresh, SALESBOOK_CACHE empty); on Spark, the tasks of
    every stage of its jobs (the load and the cube)."""
    from salesbook.run.runner import run
    spark = None
    if source.startswith("spark:"):
        from salesbook.data.engines import spark_session
        spark = spark_session()
        spark.conf.set("spark.sql.files.maxPartitionBytes", f"{split_mb}m")
        spark.conf.set("spark.sql.shuffle.partitions", str(shuffle))  # Spark's 200 is for a big cluster
        spark.sparkContext.setJobGroup(JOB_GROUP, "the load and the cube")  # this thread builds the cube
    t0 = time.perf_counter()
    result = run(source=source, out=reports, run_name="spark" if spark else "duckdb", jobs=2)
    out = {"wall": time.perf_counter() - t0, "seconds": result.seconds}
    if spark is not None:
        tracker = spark.sparkContext.statusTracker()
        tasks = []
        for job in tracker.getJobIdsForGroup(JOB_GROUP):
            info = tracker.getJobInfo(job)
            for stage in (info.stageIds if info else []):
                s = tracker.getStageInfo(stage)
                if s is not None:
                    tasks.append(s.numTasks)
        path = source[len("spark:"):]
        out.update({"jobs": len(tracker.getJobIdsForGroup(JOB_GROUP)), "stage_tasks": tasks,
                    "splits": spark.read.parquet(path).rdd.getNumPartitions(),
                    "master": spark.sparkContext.master})
        spark.stop()
    return out


def _child(args: list[str], env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"benchmark step {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _interrupted(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=20_000)
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 2, help="the worker's cores")
    ap.add_argument("--memory", default="2g", help="the worker's memory")
    ap.add_argument("--port", type=int, default=7077)
    ap.add_argument("--split-mb", type=int, default=8, help="spark.sql.files.maxPartitionBytes, in MB")
    ap.add_argument("--shuffle", type=int, help="spark.sql.shuffle.partitions (default: 4 per worker core)")
    ap.add_argument("--suite", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.suite:
        print(json.dumps(suite(args.suite[0], Path(args.suite[1]), args.split_mb, args.shuffle or 4 * args.cores),
                         default=str))
        return

    path = DATA / f"orders3_{args.lines}.parquet"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        generate(path, args.lines, args.clients)
    print(f"salesbook on a Spark standalone cluster; {os.cpu_count()} cores on this machine; "
          f"{args.lines:,} lines ({path.stat().st_size / 1e6:.0f} MB); worker: {args.cores} cores, {args.memory}",
          flush=True)
    # a timeout's SIGTERM unwinds like Ctrl-C, so the cluster below is stopped all the same
    signal.signal(signal.SIGTERM, _interrupted)
    with tempfile.TemporaryDirectory(prefix="salesbook-spark-bench-") as tmp:
        tmp = Path(tmp)
        cluster = Cluster(args.port, args.port + 1003, args.cores, args.memory, tmp)
        try:
            cluster.start()
            env = {**os.environ, "SALESBOOK_SPARK_MASTER": cluster.url, "SALESBOOK_CACHE": str(tmp / "cache-spark"),
                   "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
            spark = _child(["--suite", f"spark:{path}", str(tmp / "reports-spark"), "--split-mb",
                            str(args.split_mb), "--cores", str(args.cores)]
                           + (["--shuffle", str(args.shuffle)] if args.shuffle else []), env)
        finally:
            cluster.stop()
        duck = _child(["--suite", str(path), str(tmp / "reports-duckdb")],
                      {**os.environ, "SALESBOOK_CACHE": str(tmp / "cache-duckdb")})
    print(f"\n| stage | Spark cluster, s | local DuckDB (floor), s | ratio |\n|---|---:|---:|---:|")
    for stage in ("load", "cube"):
        a, b = spark["seconds"].get(stage), duck["seconds"].get(stage)
        if a is not None and b:
            print(f"| {stage} | {a:.1f} | {b:.1f} | {a / b:.1f}x |")
    print(f"| **whole suite** (wall) | **{spark['wall']:.1f}** | **{duck['wall']:.1f}** | "
          f"**{spark['wall'] / duck['wall']:.1f}x** |")
    tasks = spark["stage_tasks"]
    print(f"\nmaster {spark['master']}: the file in {spark['splits']} splits of at most {args.split_mb} MB; "
          f"the load and the cube ran {spark['jobs']} Spark jobs, {len(tasks)} stages; "
          f"the largest stage has {max(tasks, default=0)} tasks; stages of one task: "
          f"{sum(1 for n in tasks if n == 1)} (global aggregates' final step, a few rows each)")
    print("the cluster it started is stopped", flush=True)


if __name__ == "__main__":
    main()
