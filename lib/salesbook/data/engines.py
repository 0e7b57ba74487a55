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
import uuid
from typing import TYPE_CHECKING, Any

from salesbook import paths
from salesbook.errors import DataError

if TYPE_CHECKING:
    import ibis

__all__ = ["is_engine_source", "is_engine_table", "open_source", "spark_session", "source_path", "spark_line_numbers", "spark_log_file"]

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


def is_engine_table(source: Any) -> bool:
    """An engine source with no local file behind it (``spark:erp.sales``, ``postgres://...#lines``): nothing a
    cache could watch for changes (:func:`salesbook.cube.get_cube`, a run's own cache)."""
    return is_engine_source(source) and source_path(str(source)) is None


def source_path(source: str) -> "os.PathLike | None":
    """The local file or folder behind an engine source (``spark:<file>``), for the cache key; else None."""
    if source.startswith(SPARK):
        where = _spark_location(source[len(SPARK):])
        if where is not None and not isinstance(where, str) and where.exists():
            return where
    return None


#: Spark's own log (log4j2): every line to a file, none to the terminal, which shows salesbook's progress only
_LOG4J2 = """\
status = error
appender.file.type = File
appender.file.name = file
appender.file.fileName = {path}
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{{yyyy-MM-dd'T'HH:mm:ss}} spark %p %c{{1}}: %m%n%ex
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
"""


def spark_log_file() -> "os.PathLike":
    """The file Spark's driver logs to (its WARN lines and errors): ``spark/spark.log`` in the cache folder
    (``SALESBOOK_CACHE``). A run copies what Spark wrote during it into its ``run.log``."""
    return paths.CACHE_DIR / "spark" / "spark.log"


def spark_session():
    """The Spark session: Spark Connect when ``SPARK_REMOTE`` is set, else the master in
    ``SALESBOOK_SPARK_MASTER`` (``spark://host:7077``, ``yarn``), else a local one on every core.
    Timestamps in UTC, so that months are the same as in DuckDB. The driver's log goes to
    :func:`spark_log_file`, not to the terminal."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DataError("spark", "PySpark is not installed: pip install 'ibis-framework[pyspark]' "
                                 "(make install installs it with the dev extras)") from None
    options = {"spark.app.name": "salesbook", "spark.sql.session.timeZone": "UTC"}
    setup = paths.current()
    if not setup.spark_remote:  # (Spark Connect always returns Arrow, and a hosted one may refuse settings)
        # results come back to Python as Arrow batches, not pickled rows converted one value at a time (the
        # sample's cube: most of the driver's Python time was that conversion of its dates)
        options["spark.sql.execution.arrow.pyspark.enabled"] = "true"
        log = spark_log_file()
        log.parent.mkdir(parents=True, exist_ok=True)
        conf = log.with_name("log4j2.properties")
        conf.write_text(_LOG4J2.format(path=str(log).replace("\\", "/")), encoding="utf-8")
        options.update({"spark.master": setup.spark_master,
                        "spark.ui.showConsoleProgress": "false",
                        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={conf.as_uri()}"})
        if setup.spark_master.startswith("local"):
            # one machine: a shuffle in a few partitions, not Spark's 200 meant for a cluster (the sample's cube
            # in 85 s instead of 354 s on 2 cores, a slice of 29,868 lines); no web UI to serve
            options.update({"spark.sql.shuffle.partitions": str(max(4, 2 * (os.cpu_count() or 1))),
                            "spark.ui.enabled": "false"})
        _start_driver(options, log)
    builder = SparkSession.builder
    for key, value in options.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _start_driver(options: dict[str, str], log: "os.PathLike") -> None:
    """Start Spark's driver (its JVM) once, its own output (the JVM's warnings) appended to ``log``."""
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    with SparkContext._lock:
        if SparkContext._gateway is not None:
            return
        conf = SparkConf(loadDefaults=False).setAll(list(options.items()))
        with open(log, "ab") as out:  # the JVM keeps its own copy of the file's descriptor
            SparkContext._gateway = launch_gateway(conf, popen_kwargs={"stdout": out, "stderr": out})
        SparkContext._jvm = SparkContext._gateway.jvm


def spark_line_numbers(table: "ibis.Table", first: int = 1) -> "ibis.Table":
    """``table`` (a Spark table read from a file, mapped line by line) with ``_row``: each line's number in
    the file, from ``first``, computed without a window over the whole table.

    Spark reads a file in splits (its partitions), in the file's order, and gives each line its split and its
    position there (``monotonically_increasing_id``: split << 33 | position). One pass counts the lines of
    each split, in parallel; a line's number is the lines of the splits before its own plus its position.
    A ``row_number()`` over the whole table would give the same numbers but move every line into one
    partition (Spark: "No Partition Defined for Window operation!"): on a cluster, one task for every line.
    """
    from pyspark.sql import functions as F

    con = table.get_backend()
    ids = con._session.sql(con.compile(table)).withColumn("_sb_id", F.monotonically_increasing_id())
    split, position = F.shiftright(F.col("_sb_id"), 33), F.col("_sb_id").bitwiseAND((1 << 33) - 1)
    counts = sorted((int(r[0]), int(r[1])) for r in ids.groupBy(split.alias("s")).count().collect())
    before, offsets = 0, []
    for s, n in counts:
        offsets += [F.lit(s), F.lit(before)]
        before += n
    start = F.element_at(F.create_map(*offsets), split) if offsets else F.lit(0)
    numbered = ids.withColumn("_row", (start + position + first).cast("long")).drop("_sb_id")
    name = f"salesbook_numbered_{uuid.uuid4().hex[:12]}"
    numbered.createOrReplaceTempView(name)
    return con.table(name)


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
