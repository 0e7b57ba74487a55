"""Where the sales lines are read and aggregated: DuckDB (default), Spark, or any ibis backend.

A workbook's ``source`` names the engine as well as the data:

``data/sales.parquet``, ``sample``
    a file on this machine, read by the embedded DuckDB (the default);
``spark:data/sales.parquet``, ``spark:hdfs:///lake/sales/``, ``spark:sales_db.lines``
    a Parquet/CSV file or folder (local, or the cluster's storage by URL), or a catalog table, read by a Spark session through
    ibis's PySpark backend. Locally that is ``local[*]``; ``SPARK_REMOTE=sc://host:15002``
    (Spark Connect) or ``SALESBOOK_SPARK_MASTER=spark://host:7077`` / ``yarn`` point it at
    a cluster;
``<ibis URL>#<table>``
    a table of any other ibis backend, e.g. ``postgres://user@host:5432/erp#sales_lines``
    or ``duckdb:///data/warehouse.duckdb#lines`` (the backend's extra must be installed,
    ``pip install 'ibis-framework[postgres]'``).

Validation and the cube run as ibis expressions in that engine; only counts and
aggregates come back.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from salesbook import paths
from salesbook.errors import DataError

if TYPE_CHECKING:
    import ibis

__all__ = ["is_engine_source", "open_source", "spark_session", "source_path"]

SPARK = "spark:"
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_FILE_SUFFIXES = {".parquet", ".pq", ".csv"}


def is_engine_source(source: Any) -> bool:
    """True for ``spark:...`` and ``<url>#<table>`` sources (not read by the default DuckDB)."""
    return isinstance(source, str) and (source.startswith(SPARK) or bool(_URL.match(source)))


def _spark_location(target: str) -> "str | os.PathLike | None":
    """Where ``spark:<target>`` reads: a storage URL as it is, a local path resolved; None for a catalog table."""
    if _URL.match(target):
        return target
    is_path = "/" in target or "\\" in target or target == "sample" or \
        os.path.splitext(target)[1].lower() in _FILE_SUFFIXES
    return paths.resolve_source(target) if is_path else None


def source_path(source: str) -> "os.PathLike | None":
    """The local file or folder behind an engine source (``spark:<file>``), for the cache key; else None."""
    if source.startswith(SPARK):
        where = _spark_location(source[len(SPARK):])
        if where is not None and not isinstance(where, str) and where.exists():
            return where
    return None


def spark_session():
    """The Spark session: Spark Connect when ``SPARK_REMOTE`` is set, else the master in
    ``SALESBOOK_SPARK_MASTER``, else a local one on every core. Timestamps in UTC, so that
    months are the same as in DuckDB."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DataError("spark", "PySpark is not installed: pip install 'ibis-framework[pyspark]' "
                                 "(make install installs it with the dev extras)") from None
    builder = SparkSession.builder.appName("salesbook").config("spark.sql.session.timeZone", "UTC")
    if not os.environ.get("SPARK_REMOTE"):
        builder = builder.master(os.environ.get("SALESBOOK_SPARK_MASTER", "local[*]"))
        builder = builder.config("spark.ui.showConsoleProgress", "false")
    return builder.getOrCreate()


def _redact(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def open_source(source: str, table: str | None = None) -> tuple[ibis.Table, str, str, ibis.BaseBackend]:
    """The raw table of an engine source, its name for messages, its kind and the connection."""
    import ibis  # here, not at import: the cache key checks sources without the engine
    if source.startswith(SPARK):
        target = source[len(SPARK):]
        where = _spark_location(target)
        if where is not None and not isinstance(where, str) and not where.exists():
            raise DataError(f"spark:{where}", "file not found")  # before a Spark session is started for nothing
        con = ibis.pyspark.connect(spark_session())
        if where is not None:  # a file, a folder of parts, or the cluster's storage (hdfs://, s3a://, abfss://)
            is_csv = str(where).lower().endswith(".csv")
            raw = con.read_csv(str(where)) if is_csv else con.read_parquet(str(where))
            return raw, f"spark:{where}", "spark", con
        try:
            return con.table(target), f"spark:{target}", "spark", con
        except Exception as exc:  # noqa: BLE001 - the engine's own error says which table is missing
            raise DataError(f"spark:{target}", f"cannot read table {target!r}: {exc}") from None
    url, _, name = source.partition("#")
    name = name or table
    where = _redact(url)
    if not name:
        raise DataError(where, "name the table after the URL: <url>#<table>")
    try:
        con = ibis.connect(url)
    except Exception as exc:  # noqa: BLE001 - driver missing, host unreachable, bad credentials
        raise DataError(where, f"cannot connect: {exc}") from None
    tables = con.list_tables()
    if name not in tables:
        raise DataError(f"{where}#{name}", f"no table {name!r}; tables: {', '.join(tables) or 'none'}")
    return con.table(name), f"{where}#{name}", "ibis", con
