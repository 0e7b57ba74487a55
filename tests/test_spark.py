"""The same workbooks on Spark (ibis's PySpark backend, local mode): the same figures as DuckDB, to the cent.

Marked ``spark``: ``pytest -m "not spark"`` skips it on a machine without Java; ``make test`` (CI) runs it.
"""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from salesbook.run.cli import main
from salesbook.cube import TABLES, get_cube
from salesbook.data.engines import is_engine_source, open_source
from salesbook.errors import DataError

pytestmark = [pytest.mark.spark, pytest.mark.slow]

KEYS = {"client_month": ["client_id", "month"], "client_category_month": ["client_id", "category", "month"],
        "client_day": ["client_id", "date"], "client_category": ["client_id", "category"],
        "manager_month": ["manager", "month"], "client_manager_month": ["client_id", "manager", "month"],
        "category_month": ["category", "month"], "clients": ["client_id"]}
MONEY = {"revenue", "cost", "first_year_revenue"}


@pytest.fixture(scope="module")
def cubes():
    if shutil.which("java") is None:
        pytest.fail("Spark's local mode needs Java 17 (java on PATH)")
    return get_cube("sample"), get_cube("spark:sample")  # the second one is cached for the run below


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


def test_the_run_config_selects_spark_and_every_workbook_runs_unchanged(cubes, tmp_path):
    from salesbook.run.summary import summarise
    duck, spark = cubes
    config = tmp_path / "spark.yml"
    config.write_text("source: spark:sample\nlang: en\n", encoding="utf-8")
    assert main(["run", "--config", str(config), "--output", str(tmp_path / "r"), "--run-name", "s", "-q"]) == 0
    run = json.loads((tmp_path / "r" / "s" / "run.json").read_text(encoding="utf-8"))
    assert run["source"].startswith("spark:")
    assert len(list((tmp_path / "r" / "s").glob("0*.html"))) == 6
    figures = json.loads((tmp_path / "r" / "s" / "summary.json").read_text(encoding="utf-8"))
    expected = json.loads(json.dumps(summarise(duck, "en")[0], default=str))
    assert figures.pop("source").startswith("spark:") and not expected.pop("source").startswith("spark:")
    assert figures.pop("changes") is None  # the runner's comparison with a previous run: there is none
    # every figure of the executive summary (turnover, verdict and its trend, findings, forecast, baseline)
    assert figures == expected


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
