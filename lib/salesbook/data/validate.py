"""Clean canonical sales lines and account for every line: the load report.

Lines are examined in a fixed order and each line is counted under the first
reason that applies to it:

=================  ==========================================  =================
reason             what                                        default action
=================  ==========================================  =================
``total_row``      a total row of the export ("Итого")         dropped
``bad_value``      a date or amount that cannot be read        error (or dropped)
``no_client``      no client id                                dropped
``bad_date``       no date (typed sources)                     dropped
``bad_amount``     no amount, or not finite (typed sources)    dropped
``suspicious_amount``  beyond 1000 x the 99.9th percentile, or 1e12  dropped (a typo, an overflow)
``suspicious_date``  a few isolated dates far after the rest     dropped (a typo such as 2031)
``after_as_of``    dated after the analysis date               dropped
``duplicate``      an exact copy of an earlier line            dropped
``zero_amount``    amount exactly 0                            dropped
``return``         negative amount: return or cancellation     kept, nets sales
=================  ==========================================  =================

So ``rows_read == rows_kept + sum(dropped counts)`` always holds.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable

import ibis
import ibis.expr.datatypes as dt
import pandas as pd
import pandera.ibis as pa

from salesbook.errors import DataError, Problem
from salesbook.data.load_report import EXAMPLES, REASONS, LoadReport, ReportLine
from salesbook.data.mapping import CANONICAL, NUMERIC, REQUIRED

__all__ = ["LoadReport", "ReportLine", "clean_lines", "SALES_SCHEMA", "check_schema", "REASONS"]

# --------------------------------------------------------------------------- schema (pandera)

SALES_SCHEMA = pa.DataFrameSchema(
    {
        "date": pa.Column(dt.Timestamp(), nullable=False),
        "client_id": pa.Column(dt.String(), nullable=False),
        "amount": pa.Column(dt.Float64(), nullable=False),
        **{c: pa.Column(dt.Float64(), nullable=True) for c in sorted(NUMERIC - {"amount"})},
        **{c: pa.Column(dt.String(), nullable=True)
           for c in CANONICAL if c not in NUMERIC and c not in ("date", "client_id")},
    },
    strict=True,
    name="canonical sales lines",
)


def check_schema(table: ibis.Table, where: str) -> ibis.Table:
    """Check the clean table against :data:`SALES_SCHEMA` (pandera, in the engine): every canonical column,
    or those it keeps (``load_sales(columns=...)``), each of its type."""
    schema = SALES_SCHEMA if set(table.columns) >= set(SALES_SCHEMA.columns) else \
        SALES_SCHEMA.select_columns([c for c in SALES_SCHEMA.columns if c in table.columns or c in REQUIRED])
    try:
        return schema.validate(table, lazy=True)
    except (pa.errors.SchemaErrors, pa.errors.SchemaError) as exc:  # type: ignore[attr-defined]
        cases = getattr(exc, "failure_cases", None)
        problems = []
        if cases is not None:
            for _, row in cases.head(20).iterrows():
                problems.append(Problem(f"{row.get('check')}: {row.get('failure_case')}",
                                        column=row.get("column")))
        raise DataError(where, problems or [Problem(str(exc))]) from None


# --------------------------------------------------------------------------- cleaning


def _end_of(day: "str | date | datetime") -> datetime:
    d = pd.Timestamp(day).normalize()
    return (d + timedelta(days=1)).to_pydatetime()


def _examples(table: ibis.Table, cond, column: str) -> tuple[list[int], list[str]]:
    """Up to EXAMPLES line numbers and values where ``cond(table)`` holds."""
    got = (table.filter(cond(table)).order_by("_row").select("_row", column)
           .limit(EXAMPLES).to_pyarrow().to_pylist())
    return [int(r["_row"]) for r in got], [str(r[column]) for r in got]


#: a date is suspicious when it lies more than this many days after the next earlier date with lines ...
SUSPICIOUS_GAP_DAYS = 90
#: ... and the lines at or after it are at most this share of the lines (and at most SUSPICIOUS_MAX_LINES)
SUSPICIOUS_SHARE = 0.001
SUSPICIOUS_MAX_LINES = 1000


def suspicious_from(t: ibis.Table, gap_days: int = SUSPICIOUS_GAP_DAYS, share: float = SUSPICIOUS_SHARE,
                    max_lines: int = SUSPICIOUS_MAX_LINES) -> datetime | None:
    """The first day of isolated dates far beyond the rest of the data (a typo year), or ``None``.

    Rule: among the latest 20 days with lines, scanning from the latest, the first gap between two
    consecutive days of more than ``gap_days`` and more than 10 times the median gap of the days before
    it, whose later side holds at most ``share`` of the lines (at least 10 lines allowed, at most
    ``max_lines``). Such lines are set aside as ``suspicious_date``
    and never move the analysis date.
    """
    f = t.filter(t.client_id.notnull() & t.date.notnull())
    # every day's count in one pass (a few thousand days): the latest 20, and the total from them
    every = f.group_by(day=f.date.truncate("D")).aggregate(n=f.count()).to_pyarrow().to_pylist()
    days = sorted(every, key=lambda d: d["day"], reverse=True)[:20]
    if len(days) < 2:
        return None
    total = sum(int(d["n"]) for d in every)
    allowed = min(max(10, int(total * share)), max_lines)
    gaps = [(later["day"] - earlier["day"]).days for later, earlier in zip(days, days[1:])]
    after = 0
    for i, (later, gap) in enumerate(zip(days, gaps)):
        after += int(later["n"])
        if after > allowed:
            return None
        before = sorted(gaps[i + 1:])
        if len(before) < 10:  # too few days before it to know their rhythm
            return None
        if gap > max(gap_days, 10 * before[len(before) // 2]):  # far beyond the rhythm of the days before it
            return later["day"]
    return None


#: an amount is suspicious beyond this many times the 99.9th percentile of the absolute amounts ...
SUSPICIOUS_AMOUNT_FACTOR = 1000
#: ... or beyond this, whatever the data (1e300 is a typo or an overflow, never a sale)
MAX_AMOUNT = 1e12


def amount_bound(t: ibis.Table, factor: float = SUSPICIOUS_AMOUNT_FACTOR, cap: float = MAX_AMOUNT) -> float:
    """The largest plausible absolute amount of a line: ``factor`` times the 99.9th percentile of the lines'
    absolute amounts, at most ``cap``. Lines beyond it are set aside as ``suspicious_amount``, never summed."""
    ok = t.filter(t.client_id.notnull() & t.amount.notnull() & ~t.amount.isnan() & ~t.amount.isinf()
                  & (t.amount.abs() <= cap))
    q = ok.aggregate(q=ok.amount.abs().quantile(0.999)).to_pyarrow().to_pylist()[0]["q"]
    return min(cap, factor * float(q)) if q else cap


def _stage1(t: ibis.Table, cutoff: datetime | None, odd: datetime | None = None,
            bound: float | None = None) -> dict[str, ibis.Value]:
    """Exclusive conditions of the first checks: each line under its first reason."""
    conds = {
        "no_client": t.client_id.isnull(),
        "bad_date": t.date.isnull(),
        "bad_amount": t.amount.isnull() | t.amount.isnan() | t.amount.isinf(),
    }
    if bound is not None:
        conds["suspicious_amount"] = t.amount.abs() > bound
    if odd is not None:  # lines after the analysis date are counted as such, not as suspicious
        conds["suspicious_date"] = (t.date >= odd) & (t.date < cutoff) if cutoff is not None else t.date >= odd
    seen = ibis.literal(False)
    out = {}
    for reason, cond in conds.items():
        out[reason] = cond & ~seen
        seen = seen | cond
    if cutoff is not None:
        out["after_as_of"] = ~seen & (t.date >= cutoff)
    out["valid"] = ~seen
    return out


#: the column that identifies each line of a Parquet file read by DuckDB (its position in the file, from 0)
ROW_ID = "_rid"
#: lines sharing a hash with another line: past this many, the duplicates are found by the engine computing
#: the distinct lines once (a file exported twice over), and the row ids of so many copies are not listed
DUPLICATE_CANDIDATES = 200_000


def _copies(t: ibis.Table, keys: list[str]) -> "pd.DataFrame | None":
    """The lines of ``t`` that copy an earlier line (every one of ``keys`` equal; earlier: a smaller
    :data:`ROW_ID`), as their row ids and amounts, without computing the lines ahead (DuckDB).

    One pass groups the lines by a hash of their columns; only lines that share a hash are then read and
    compared, column by column, by the engine (lines that share a hash without being equal stay). ``None``
    when more than :data:`DUPLICATE_CANDIDATES` lines share a hash: the caller computes the distinct lines.
    """
    con = t.get_backend()
    cols = ", ".join(f'"{k}"' for k in keys)
    hashed = con.sql(f'SELECT hash({cols}) AS _h, "{ROW_ID}" FROM ({con.compile(t)})')
    groups = (hashed.group_by("_h").aggregate(n=hashed.count(), lo=hashed[ROW_ID].min(), hi=hashed[ROW_ID].max())
              .filter(lambda g: g.n > 1).to_pyarrow().to_pandas())
    if groups.n.sum() > DUPLICATE_CANDIDATES:
        return None
    if groups.empty:
        return pd.DataFrame({ROW_ID: pd.Series(dtype="int64"), "amount": pd.Series(dtype="float64")})
    pairs = groups[groups.n == 2]
    rows = pd.concat([pairs.lo, pairs.hi]).tolist()
    many = groups.loc[groups.n > 2, "_h"]
    if len(many):  # three lines or more share a hash: their row ids
        more = hashed.semi_join(ibis.memtable({"_h": many.to_numpy()}), "_h")[ROW_ID].to_pyarrow().to_pylist()
        rows += more
    candidates = t.semi_join(ibis.memtable({ROW_ID: pd.Series(rows, dtype="int64")}), ROW_ID)
    w = ibis.window(group_by=keys, order_by=ROW_ID)
    marked = candidates.mutate(_copy=ibis.row_number().over(w))
    return (marked.filter(marked._copy > 0).select(ROW_ID, "amount").order_by(ROW_ID)
            .to_pyarrow().to_pandas())


def _without(t: ibis.Table, rows: list[int]) -> ibis.Table:
    """``t`` without the lines of these row ids."""
    if not rows:
        return t
    return t.anti_join(ibis.memtable({ROW_ID: pd.Series(rows, dtype="int64")}), ROW_ID)


def replay_lines(canon: ibis.Table, recipe: dict[str, Any]) -> ibis.Table:
    """The clean lines of ``canon`` as :func:`clean_lines` left them, from its ``recipe`` (what its checks
    decided: the analysis date, the amount bound, the first suspicious date, the copies dropped, and whether
    zero amounts and returns were dropped), without a pass over the lines: one expression over the source."""
    cutoff = pd.Timestamp(recipe["cutoff"]).to_pydatetime()
    odd = None if recipe.get("odd") is None else pd.Timestamp(recipe["odd"]).to_pydatetime()
    t = canon
    t = t.filter(_stage1(t, cutoff, odd, recipe["bound"])["valid"] & (t.date < cutoff))
    t = _without(t, recipe.get("copies") or [])
    if recipe.get("drop_zero"):
        t = t.filter(~(t.amount == 0))
    if recipe.get("drop_returns"):
        t = t.filter(~(t.amount < 0))
    return t.drop(ROW_ID)


def value_lists(t: ibis.Table, columns: Iterable[str]) -> dict[str, ibis.Value]:
    """Aggregates that list each of ``columns``' distinct values (missing ones left out), to add to a pass over
    ``t``; :func:`listed_values` reads them from its result."""
    return {f"_values_{c}": t[c].collect(distinct=True) for c in columns}


def listed_values(row: dict[str, Any], columns: Iterable[str]) -> dict[str, list[str]]:
    """Each column's values, sorted, from a result ``row`` of :func:`value_lists`' aggregates (taken out of it)."""
    return {c: sorted(row.pop(f"_values_{c}") or []) for c in columns}


def clean_lines(
    canon: ibis.Table,
    report: LoadReport,
    *,
    as_of: "str | date | None" = None,
    returns: str = "net",
    duplicates: str = "drop",
    zero_amounts: str = "drop",
    future: str = "drop",
    odd_dates: str = "drop",
    total_rows: list[int] | None = None,
    parse_drops: dict[str, list[int]] | None = None,
    stage: "Callable[[ibis.Table], ibis.Table] | None" = None,
    number: "Callable[[ibis.Table], ibis.Table] | None" = None,
    recipe: "dict[str, Any] | None" = None,
    listed: "dict[str, list[str]] | None" = None,
) -> ibis.Table:
    """Apply the cleaning steps in order, fill ``report`` and return the clean lines.

    ``stage`` receives the lines that passed every check up to the duplicates (deduplicated when
    they are dropped) and returns the table the later steps read: a file or cache the engine
    computed once (see :func:`salesbook.data.load.load_sales`), so that the source is not mapped and
    deduplicated again by each count. ``None``: the steps stay one lazy expression.

    ``number`` gives the lines a ``_row`` column, each line's number in the source, for the examples a
    report names; it is called only when a reason has examples to name. ``None``: a ``row_number()`` over
    the whole table, cheap in DuckDB; on Spark that window would move every line into one partition, so
    :func:`salesbook.data.engines.spark_line_numbers` numbers them per file split instead.

    Lines that carry :data:`ROW_ID` (a Parquet file read by DuckDB: each line's position in the file) are never
    computed ahead: the duplicates are found by :func:`_copies` (a hash of each line; only lines sharing one
    are compared) and the clean lines stay one expression over the source, filtered by what the checks
    decided. That decision is written into ``recipe`` (a dict filled here: :func:`replay_lines` gives the
    same clean lines again from the source, without any of the checks' passes); ``stage`` is then not called.

    ``listed``: text columns (its keys) whose distinct values the last pass also lists, sorted, into it (the
    values of the lines that passed the checks before zero amounts and returns are dropped: every value of the
    clean lines, and perhaps a few more), for the engine to hold them coded (:func:`salesbook.data.load._held_coded`).
    """
    stage = stage or (lambda table: table)
    for name, value, allowed in (("returns", returns, ("net", "drop")),
                                 ("duplicates", duplicates, ("drop", "keep")),
                                 ("zero_amounts", zero_amounts, ("drop", "keep")),
                                 ("future", future, ("drop", "raise")),
                                 ("odd_dates", odd_dates, ("drop", "keep"))):
        if value not in allowed:
            raise ValueError(f"{name}={value!r}: expected one of {allowed}")
    t = canon
    has_row = "_row" in t.columns
    row_id = ROW_ID if ROW_ID in t.columns and not has_row else None
    if row_id is not None and number is None:  # the file's own line positions: no window over every line
        number = lambda table: table.mutate(_row=table[ROW_ID] + 1)  # noqa: E731
    number = number or (lambda table: table.mutate(_row=ibis.row_number() + 1))
    numbered_once: list[ibis.Table] = []

    def numbered() -> ibis.Table:
        """The source lines with their numbers, made on first use (only a report with examples needs them)."""
        if not numbered_once:
            numbered_once.append(canon if has_row else number(canon))
        return numbered_once[0]

    def ex_table(current: ibis.Table) -> ibis.Table:
        return current if has_row else numbered()

    if total_rows:
        report.lines.append(ReportLine("total_row", len(total_rows), "dropped", rows=total_rows[:EXAMPLES]))
    for col, rows in (parse_drops or {}).items():
        if rows:
            report.lines.append(ReportLine("bad_value", len(rows), "dropped", rows=rows[:EXAMPLES],
                                           values=[col]))

    # one pass over the source: every reason's count and amount, and the last valid date when as_of is not given
    # (then nothing is after it); the lines that pass these checks are counted for the duplicate account
    bound = amount_bound(t)
    odd = suspicious_from(t if as_of is None else t.filter(t.date < _end_of(as_of))) if odd_dates == "drop" else None
    first = _stage1(t, None if as_of is None else _end_of(as_of), odd, bound)
    passed = first["valid"] & ~first["after_as_of"] if "after_as_of" in first else first["valid"]
    aggs = {"n": t.count(), "valid_n": passed.sum(), "valid_amt": ibis.ifelse(passed, t.amount, 0).sum()}
    for reason, cond in first.items():
        if reason != "valid":
            aggs[f"{reason}_n"] = cond.sum()
            aggs[f"{reason}_amt"] = ibis.ifelse(cond, t.amount.fill_null(0), 0).sum()
    if as_of is None:
        aggs["last"] = t.date.max(where=first["valid"])
    row = t.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    if as_of is None:
        last = row["last"]
        if last is None:
            raise DataError(report.source, "no sales lines with a client, a date and an amount "
                            f"({report.rows_read + int(row['n'])} lines read)", report.line_word)
        as_of = last.date() if isinstance(last, datetime) else last
    cutoff = _end_of(as_of)
    exclusive = _stage1(t, cutoff, odd, bound)
    valid = exclusive.pop("valid")
    report.as_of = str(pd.Timestamp(as_of).date())
    report.rows_read += int(row["n"])  # plus what the reader set aside before
    for reason in exclusive:
        n = int(row.get(f"{reason}_n") or 0)
        if n:
            col = {"no_client": "client_id", "bad_date": "date", "bad_amount": "amount",
                   "after_as_of": "date", "suspicious_date": "date", "suspicious_amount": "amount"}[reason]
            rows, values = _examples(numbered(), lambda x, r=reason: _stage1(x, cutoff, odd, bound)[r], col)
            if reason == "after_as_of" and future == "raise":
                raise DataError(report.source, [Problem(
                    "{n} lines are dated after the analysis date " + report.as_of, column="date",
                    rows=rows, values=values, count=n, expected=f"dates up to {report.as_of}")],
                    report.line_word)
            # an implausible amount is not summed even here (1e300 would be the report's largest figure)
            amount = 0.0 if reason == "suspicious_amount" else float(row[f"{reason}_amt"] or 0)
            report.lines.append(ReportLine(reason, n, "dropped", amount, rows, values))
    t = t.filter(valid & (t.date < cutoff))
    passed_n, passed_amt = int(row["valid_n"] or 0), float(row["valid_amt"] or 0)

    def kept_before(x: ibis.Table) -> ibis.Value:
        """On the numbered original table: lines that passed the first checks."""
        return ibis.literal(True) if has_row else (_stage1(x, None, odd, bound)["valid"] & (x.date < cutoff))

    # exact duplicates: every canonical column equal; the first occurrence is kept
    keys = list(CANONICAL)
    if has_row:
        w = ibis.window(group_by=keys, order_by="_row")
        marked = t.mutate(_copy=ibis.row_number().over(w))
        dup_cond = marked._copy > 0
        stats = marked.aggregate(n=dup_cond.sum(), amt=ibis.ifelse(dup_cond, marked.amount, 0).sum())
        st = stats.to_pyarrow().to_pylist()[0]
        n_dup = int(st["n"] or 0)
        if n_dup:
            rows, values = _examples(marked, lambda x: x._copy > 0, "client_id")
            report.lines.append(ReportLine("duplicate", n_dup, "dropped" if duplicates == "drop" else "kept",
                                           float(st["amt"] or 0), rows, values))
        t = stage((marked.filter(~dup_cond) if duplicates == "drop" else marked).drop("_copy"))
    elif row_id is not None and (copies := _copies(t, keys)) is not None:
        # the lines stay where they are: the copies of earlier lines are known by their row ids
        n_dup = len(copies)
        if n_dup:
            report.lines.append(ReportLine("duplicate", n_dup, "dropped" if duplicates == "drop" else "kept",
                                           round(float(copies["amount"].sum()), 2)))
        excluded = copies[ROW_ID].tolist() if n_dup and duplicates == "drop" else []
        t = _without(t, excluded)
        if recipe is not None:
            recipe.update(as_of=report.as_of, cutoff=cutoff.isoformat(), bound=bound,
                          odd=None if odd is None else pd.Timestamp(odd).isoformat(), copies=excluded)
    elif duplicates == "drop":
        # the distinct lines are staged once; what they lack against the lines that passed is the duplicates
        t = stage(t.select(*keys).distinct())
        st = t.aggregate(n=t.count(), amt=t.amount.sum()).to_pyarrow().to_pylist()[0]
        n_dup = passed_n - int(st["n"] or 0)
        if n_dup:
            report.lines.append(ReportLine("duplicate", n_dup, "dropped", round(passed_amt - float(st["amt"] or 0), 2)))
    else:
        every, t = t, stage(t)
        # over every canonical column: the staged lines when they keep them all, else the lines before staging
        src = t if set(keys) <= set(t.columns) else every
        counted = src.group_by(keys).aggregate(_n=src.count(), _amt=src.amount.sum())
        st = counted.aggregate(n=(counted._n - 1).sum(),
                               amt=(counted._amt - counted._amt / counted._n).sum()).to_pyarrow().to_pylist()[0]
        n_dup = int(st["n"] or 0)
        if n_dup:
            report.lines.append(ReportLine("duplicate", n_dup, "kept", float(st["amt"] or 0)))

    zero = t.amount == 0
    neg = t.amount < 0
    # one pass: the zero amounts and returns, and the summary of the lines that stay once they are dropped
    stays = ibis.literal(True)
    if zero_amounts == "drop":
        stays = stays & ~zero
    if returns == "drop":
        stays = stays & ~neg
    st = t.aggregate(z=zero.sum(), r=neg.sum(), ramt=ibis.ifelse(neg, t.amount, 0).sum(), n=stays.sum(),
                     rev=t.amount.sum(where=stays), first=t.date.min(where=stays), last=t.date.max(where=stays),
                     clients=t.client_id.nunique(where=stays),
                     **value_lists(t, listed or ())).to_pyarrow().to_pylist()[0]
    if listed:
        listed.update(listed_values(st, listed))
    if st["z"]:
        rows, values = _examples(ex_table(t), lambda x: kept_before(x) & (x.amount == 0), "amount")
        report.lines.append(ReportLine("zero_amount", int(st["z"]),
                                       "dropped" if zero_amounts == "drop" else "kept", 0.0, rows, values))
        if zero_amounts == "drop":
            t = t.filter(~zero)
            if recipe:
                recipe["drop_zero"] = True
    if st["r"]:
        rows, values = _examples(ex_table(t), lambda x: kept_before(x) & (x.amount < 0), "amount")
        report.lines.append(ReportLine("return", int(st["r"]), "kept" if returns == "net" else "dropped",
                                       float(st["ramt"] or 0), rows, values))
        if returns == "drop":
            t = t.filter(~neg)
            if recipe:
                recipe["drop_returns"] = True

    for col in ("_row", ROW_ID):
        if col in t.columns:
            t = t.drop(col)
    kept = [k for k in keys if k in t.columns]  # the staged lines may keep fewer columns (load_sales(columns=))
    if list(t.columns) != kept:
        t = t.select(*kept)
    summary = st
    report.rows_kept = int(summary["n"] or 0)
    report.revenue = float(summary["rev"] or 0)
    report.clients = int(summary["clients"] or 0)
    report.first_date = str(summary["first"].date()) if summary["first"] else None
    report.last_date = str(summary["last"].date()) if summary["last"] else None
    late = next((ln for ln in report.lines if ln.reason == "after_as_of"), None)
    if report.rows_kept == 0 and late is not None:
        raise DataError(report.source, f"no sales lines left to analyse: the analysis date {report.as_of} is "
                        "before the data start: all "
                        f"{late.count} lines with a client, a date and an amount are dated after it "
                        f"(first example: {late.values[0] if late.values else '?'})", report.line_word)
    if report.rows_kept == 0:
        raise DataError(report.source, "no sales lines left to analyse: " + "; ".join(
            f"{ln.reason} {ln.count}" for ln in report.lines) if report.lines else
            "no sales lines in the file")
    # the schema's columns and types are checked, not its null checks: each would be one more query over the
    # lines (a pass over the file, or a tenth of a second compiling the cleaning for a small frame), and the
    # checks above left no line without a date, a client or an amount
    from pandera.config import ValidationDepth, config_context
    with config_context(validation_depth=ValidationDepth.SCHEMA_ONLY):
        return check_schema(t, report.source)
