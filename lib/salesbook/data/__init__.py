"""Stage 1, the data: from a source to clean canonical lines, with a report of everything dropped.

Enters: a file (CSV/text, .xlsx/.xls/.ods, Parquet; each read by one reader of
:mod:`~salesbook.data.readers`, which says what it detected), a DataFrame, or a table in an engine (DuckDB, Spark, a warehouse
through ibis), and a column mapping (:mod:`~salesbook.data.mapping`, presets for known exports).
Leaves: :class:`~salesbook.data.load.Sales`: the validated lines as an ibis table, and the
:class:`~salesbook.data.load_report.LoadReport` that counts every line dropped on purpose (no client,
cancellations, suspicious dates or amounts). Also the sample company's generator
(:mod:`~salesbook.data.sample`), and the mapping proposed from a file's columns
(:mod:`~salesbook.data.propose`, ``salesbook map``).

Imports from: the foundation only (errors, paths, i18n, formats).
"""
