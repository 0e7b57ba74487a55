"""Sales lines where ERPs keep them: a real PostgreSQL server (a throwaway cluster on 127.0.0.1).

The sample is copied into it; the whole suite runs from ``postgres://…#sales`` and its figures equal the
Parquet run's to the cent. The password (from ``PGPASSWORD``, or in the URL) never reaches a report, a
log or an error message.
"""

from __future__ import annotations

import gc
import json
import math
import os

import pandas as pd
import pytest

from pgcluster import cluster, copy_frame
from salesbook import paths

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pg():
    with cluster() as info:
        copy_frame(info, "sales", pd.read_parquet(paths.SAMPLE_DIR / "sales.parquet"))
        old = os.environ.get("PGPASSWORD")
        os.environ["PGPASSWORD"] = info["password"]
        try:
            yield info
        finally:
            gc.collect()  # ibis drops its cached tables while the server still runs
            if old is None:
                os.environ.pop("PGPASSWORD", None)
            else:
                os.environ["PGPASSWORD"] = old


def _cents(a, b, where="figures"):
    """Every number of ``a`` equals ``b``'s to the cent; every other value is equal."""
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for k in a:
            _cents(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _cents(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, (int, float)):
        assert (math.isnan(a) and math.isnan(b)) or round(a, 2) == round(b, 2), where
    else:
        assert a == b, where


def test_the_lines_load_from_postgres_to_the_cent_and_the_password_stays_out(pg):
    from salesbook.data.load import load_sales
    from salesbook.errors import DataError
    db = load_sales(pg["url"] + "#sales")
    ref = load_sales(paths.SAMPLE_DIR / "sales.parquet")
    assert (db.report.rows_kept, round(db.report.revenue, 2)) == (ref.report.rows_kept, round(ref.report.revenue, 2))
    assert db.report.kind == "ibis" and pg["password"] not in db.report.to_json()
    with_password = pg["url"].replace(f"{pg['user']}@", f"{pg['user']}:{pg['password']}@")
    report = load_sales(with_password + "#sales").report
    assert pg["password"] not in report.to_json() and ":***@" in report.source
    with pytest.raises(DataError) as err:
        load_sales(with_password + "#no_such_table")
    assert pg["password"] not in str(err.value) and "no table 'no_such_table'" in str(err.value)
    del db, report
    gc.collect()


def test_the_suite_from_postgres_equals_the_parquet_run_to_the_cent(pg, tmp_path):
    from salesbook.cube import get_cube
    from salesbook.formats import plain
    from salesbook.run.runner import run
    from salesbook.run.summary import summarise
    pipeline = str(paths.SAMPLE_DIR / "pipeline.csv")
    logs: list[str] = []
    from_db = run(None, source=pg["url"] + "#sales", out=tmp_path / "db", log=logs.append, pipeline=pipeline,
                  cache=False, jobs=2, lang="en")
    # the summary the runner writes from the Parquet file, computed here from the file's cube (as test_spark does)
    figures, _ = summarise(get_cube(paths.SAMPLE_DIR / "sales.parquet"), "en", pipeline=pipeline)
    a = json.loads(plain(json.dumps(figures, default=str, ensure_ascii=False)))
    b = json.loads((from_db.folder / "summary.json").read_text(encoding="utf-8"))
    for figures in (a, b):
        figures.pop("source")
    assert b.pop("changes") is None  # the runner's comparison with a previous run: there is none
    _cents(b, a)
    pages = sorted(p.name for p in from_db.folder.glob("*.html"))
    assert [p for p in pages if p[:2].isdigit()] == ["00_overview.html", "01_segmentation.html", "02_seasonality.html",
                                                     "03_stagnation.html", "04_forecast.html", "05_whatif.html"]
    assert {"index.html", "glossary.html"} <= set(pages)
    for path in from_db.folder.rglob("*"):  # the pages, the log, the summary, the exports
        if path.is_file() and path.suffix in {".html", ".json", ".log", ".txt", ".ipynb", ".csv", ".yml"}:
            assert pg["password"] not in path.read_text(encoding="utf-8", errors="replace"), path
    assert not any(pg["password"] in line for line in logs)
