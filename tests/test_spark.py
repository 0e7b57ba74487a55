"""The same workbooks on Spark (ibis's PySpark backend, local mode): the same figures as DuckDB, to the cent.

Marked ``spark``: ``pytest -m "not spark"`` skips it on a machine without Java; ``make test`` (CI) runs it.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salesbook.cube import TABLES, get_cube
from salesbook.formats import plain
from salesbook.data.engines import is_engine_source, open_source
from salesbook.errors import DataError

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.xdist_group("spark")]  # one Spark session

KEYS = {"client_month": ["client_id", "month"], "client_category_month": ["client_id", "category", "month"],
        "client_day": ["client_id", "date"], "client_category": ["client_id", "category"],
        "manager_month": ["manager", "month"], "client_manager_month": ["client_id", "manager", "month"],
        "category_month": ["category", "month"], "clients": ["client_id"],
        "client_product_window": ["client_id", "product_id", "category", "period"]}
MONEY = {"revenue", "cost", "first_year_revenue"}


def _java() -> None:
    if shutil.which("java") is None:
        pytest.fail("Spark's local mode needs Java 17 (java on PATH)")


@pytest.fixture(scope="module")
def spark_run(tmp_path_factory):
    """The whole suite run once on Spark, as a user types it (``salesbook run --config``, its own process and
    cube cache): the cube tables, the figures and the terminal's output below all come from this one run."""
    _java()
    base = tmp_path_factory.mktemp("spark")
    config = base / "spark.yml"
    config.write_text("source: spark:sample\nlang: en\n", encoding="utf-8")
    salesbook_cli = str(Path(sys.executable).with_name("salesbook"))
    done = subprocess.run([salesbook_cli, "run", "--config", str(config), "--output", str(base / "r"), "--run-name", "s",
                           "-q"], capture_output=True, text=True, timeout=1200,
                          env={**os.environ, "SALESBOOK_CACHE": str(base / "cache")})
    assert done.returncode == 0, done.stderr[-3000:]
    return done, base


@pytest.fixture(scope="module")
def cubes(spark_run):
    """DuckDB's cube of the sample, and the cube the Spark run built (read from its cache: no second build)."""
    _, base = spark_run
    spark = get_cube("spark:sample", cache_dir=base / "cache")
    assert spark.folder is not None and (base / "cache") in Path(spark.folder).parents
    return get_cube("sample"), spark


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(str)
    return out.sort_values(keys).reset_index(drop=True)


def test_every_cube_table_is_the_same_on_spark_as_on_duckdb_to_the_cent(cubes):
    duck, spark = cubes
    assert spark.report.source.startswith("spark:") and duck.report.kind != "spark"
    for name in TABLES:
        a, b = _sorted(getattr(duck, name), KEYS[name]), _sorted(getattr(spark, name), KEYS[name])
        assert list(a.columns) == list(b.columns), name
        assert len(a) == len(b), name
        for col in a.columns:
            x, y = a[col], b[col]
            if col in MONEY:
                assert (np.round(x.fillna(0).to_numpy() * 100) == np.round(y.fillna(0).to_numpy() * 100)).all(), \
                    (name, col)
                assert (x.isna() == y.isna()).all(), (name, col)
            elif pd.api.types.is_float_dtype(x):
                assert np.allclose(x.to_numpy(), y.to_numpy(), equal_nan=True), (name, col)
            else:
                assert (x.astype(str) == y.astype(str)).all(), (name, col, x[x.astype(str) != y.astype(str)].head())
    # and the account of every line: read, kept, set aside per reason with its amount
    ra, rb = duck.report, spark.report
    assert (ra.rows_read, ra.rows_kept, ra.as_of) == (rb.rows_read, rb.rows_kept, rb.as_of)
    account = lambda r: sorted((ln.reason, ln.action, ln.count, round(ln.amount or 0, 2), ln.rows)  # noqa: E731
                               for ln in r.lines)
    assert account(ra) == account(rb)


def test_the_run_config_selects_spark_and_every_workbook_runs_unchanged(spark_run, cubes):
    from salesbook.run.summary import summarise
    done, base = spark_run
    duck, _ = cubes
    folder = base / "r" / "s"
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert run["source"].startswith("spark:")
    assert len(list(folder.glob("0*.html"))) == 6
    figures = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    # the summary's JSON is text without the pages' marks of named figures (formats.plain), as the runner writes it
    expected = json.loads(plain(json.dumps(summarise(duck, "en")[0], default=str, ensure_ascii=False)))
    assert figures.pop("source").startswith("spark:") and not expected.pop("source").startswith("spark:")
    assert figures.pop("changes") is None  # the runner's comparison with a previous run: there is none
    # every figure of the executive summary (turnover, verdict and its trend, findings, forecast, baseline)
    assert figures == expected
    # Spark's WARN lines go to the run's log, not the terminal
    assert "WARN" not in done.stderr and "WARN" not in done.stdout, done.stderr[-3000:]
    log = (folder / "run.log").read_text(encoding="utf-8")
    assert " spark WARN " in log  # e.g. NativeCodeLoader: no native Hadoop library on this machine


def test_engine_sources_name_what_is_missing(tmp_path):
    assert is_engine_source("spark:sample") and is_engine_source("duckdb:///x.db#t")
    assert not is_engine_source("data/sample/sales.parquet") and not is_engine_source("sample")
    with pytest.raises(DataError, match="file not found"):
        open_source(f"spark:{tmp_path}/nothing.parquet")
    # any other ibis backend by URL: a DuckDB file here, a warehouse in production
    import duckdb
    db = tmp_path / "wh.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table lines as select * from read_parquet(?)",
                    [str(__import__("salesbook").paths.SAMPLE_SALES)])
    with pytest.raises(DataError, match="no table 'sales'; tables: lines"):
        open_source(f"duckdb:///{db}#sales")
    with pytest.raises(DataError, match="name the table"):
        open_source(f"duckdb:///{db}")
    cube = get_cube(f"duckdb:///{db}#lines", cache=False)
    assert cube.report.rows_kept == get_cube("sample").report.rows_kept


# --------------------------------------------------------------------------- no step in one partition (issue 25)


def _windows_without_partition(df) -> list[str]:
    """The windows of a Spark query's optimised plan that have no PARTITION BY: Spark moves every line of
    such a window into one partition ("No Partition Defined for Window operation!")."""
    plan = json.loads(df._jdf.queryExecution().optimizedPlan().toJSON())
    return [str(n.get("windowExpressions"))[:200] for n in plan
            if n["class"].endswith(".Window") and not n.get("partitionSpec")]


def test_the_load_numbers_lines_per_file_split_with_no_window_over_every_line(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.sql import SparkSession

    from salesbook.data.engines import spark_session
    from salesbook.data.load import load_sales

    _java()
    n = 3000
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="h").astype("datetime64[us]"),
                          "client_id": [f"C{i % 50}" for i in range(n)], "amount": 100.0 + np.arange(n) % 7})
    frame.loc[[10, 1510, 2990], "client_id"] = None  # no client: lines 11, 1511, 2991 (counting from 1)
    frame.loc[[700, 2400], "amount"] = 0.0  # zero amounts: lines 701, 2401
    frame.loc[[5, 2600], "amount"] = -30.0  # returns: lines 6, 2601
    path = tmp_path / "lines.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=400)
    session = spark_session()
    # results come back to Python as Arrow batches (not pickled rows, each date converted in Python)
    assert session.conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"
    session.conf.set("spark.sql.files.maxPartitionBytes", str(path.stat().st_size // 6))
    queries = []
    real = SparkSession.sql

    def spy(self, query, *args, **kwargs):
        df = real(self, query, *args, **kwargs)
        queries.append(df)
        return df

    monkeypatch.setattr(SparkSession, "sql", spy)
    try:
        assert session.read.parquet(str(path)).rdd.getNumPartitions() > 2  # Spark reads it in several splits
        sales = load_sales(f"spark:{path}")
    finally:
        monkeypatch.undo()
        session.conf.unset("spark.sql.files.maxPartitionBytes")
    assert len(queries) > 5  # every count and example of the load went through the spy
    assert [w for q in queries for w in _windows_without_partition(q)] == []
    rows = {ln.reason: ln.rows for ln in sales.report.lines}
    assert rows == {"no_client": [11, 1511, 2991], "zero_amount": [701, 2401], "return": [6, 2601]}
    # DuckDB numbers the same file's lines the same way
    assert {ln.reason: ln.rows for ln in load_sales(str(path)).report.lines} == rows
    # and the check sees a window over every line
    assert _windows_without_partition(session.range(3).selectExpr("row_number() over (order by id) as n"))
