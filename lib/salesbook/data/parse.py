"""Numbers and dates written as text, parsed with pandas (sales exports, pipeline files).

Light on purpose: the pipeline reader uses it without importing the engine side of the loader.

Dates are read as they are written (:func:`date_reading`): day first or month first is told from the
values (a field over 12 decides, and the whole column must agree), two-digit years, Excel serial numbers
(in a plausible range only), ISO with a time or a zone, ``dd.mm.yyyy``. When no value tells the order,
:func:`date_reading` says so (``ambiguous``) instead of choosing one.

Amounts (:func:`read_amounts`): a currency sign, thousands separators of either style and accounting
negatives in parentheses, each rule applied only when the whole column agrees with it, and counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["parse_numbers", "parse_dates", "read_amounts", "date_reading", "DateReading", "human_format",
           "EXCEL_SERIAL", "SERIAL_RANGE", "CURRENCY_SIGNS"]

_SPACES = " \u00a0\u202f\u2009'"

#: the pseudo-format of dates written as Excel serial numbers (days since 1899-12-30)
EXCEL_SERIAL = "excel-serial"
#: serial numbers read as dates: 1960-01-01 .. 2099-12-31; others are numbers, not dates
SERIAL_RANGE = (21916, 73415)
#: currency signs and words stripped from amounts when the whole column carries the same one
CURRENCY_SIGNS = ("$", "€", "£", "₽", "¥", "₴", "₸", "руб.", "руб", "р.", "USD", "EUR", "GBP", "RUB")

_CURRENCY = re.compile(r"^\(?-?\s*(" + "|".join(re.escape(s) for s in sorted(CURRENCY_SIGNS, key=len, reverse=True))
                       + r")|(" + "|".join(re.escape(s) for s in sorted(CURRENCY_SIGNS, key=len, reverse=True))
                       + r")\s*\)?$")


def human_format(fmt: str | None) -> str:
    """``%d/%m/%y`` as ``dd/mm/yy`` (what a reader recognises)."""
    if not fmt:
        return "?"
    if fmt == EXCEL_SERIAL:
        return "Excel serial numbers"
    if fmt == "ISO8601":
        return "yyyy-mm-dd[Thh:mm[:ss]][zone]"
    return (fmt.replace("%Y", "yyyy").replace("%y", "yy").replace("%m", "mm").replace("%d", "dd")
            .replace("%H", "hh").replace("%M", "mi").replace("%S", "ss"))


def read_amounts(values: pd.Series, decimal: str = ".") -> tuple[pd.Series, pd.Series, dict[str, int]]:
    """Amounts written as text, and the rules that read them, each with the number of values it applied to.

    Rules: ``currency <sign>`` (one sign for the whole column: ``$1,234.50``; a column mixing ``$`` and
    ``€`` is left unread), ``thousands <sep>`` (``1,234.50`` or ``1.234,50`` or ``1 234,50``: the
    separator that is not ``decimal``), ``parentheses`` (accounting negatives ``(16.45)``). Returns the
    float64 values, a mask of non-empty texts that are not numbers, and ``{rule: values}``.
    """
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64"), pd.Series(False, index=values.index), {}
    txt = values.astype("string").str.strip()
    empty = txt.isna() | (txt == "")
    rules: dict[str, int] = {}
    maybe = txt.str.contains(r"[^\d\s.,'()+\-]", regex=True).fillna(False)  # fast (Arrow): who can carry a sign
    signs = txt[maybe].str.extract(_CURRENCY)
    sign = signs[0].fillna(signs[1]).reindex(txt.index) if len(signs) else pd.Series(pd.NA, index=txt.index)
    found = sorted(set(sign.dropna()))
    if len(found) == 1:  # the whole column agrees on one currency: strip it
        rules[f"currency {found[0]}"] = int(sign.notna().sum())
        pattern = re.escape(found[0])
        txt = txt.str.replace(rf"^(\(?-?)\s*{pattern}\s*|\s*{pattern}\s*(\)?)$", r"\1\2", regex=True).str.strip()
    paren = txt.str.match(r"^\(.*\)$").fillna(False)
    if paren.any():
        rules["parentheses"] = int(paren.sum())
    nospace = txt.str.replace(f"[{_SPACES}]", "", regex=True)
    thousands = "." if decimal == "," else ","
    grouped = nospace.str.contains(re.escape(thousands), regex=True).fillna(False) | \
        (txt != nospace).fillna(False)
    num, bad = parse_numbers(txt, decimal)
    if grouped.any():
        used = int((grouped & ~bad).sum())
        if used:
            spaced = bool((nospace != txt).fillna(False).any())
            rules[f"thousands {'space' if spaced else thousands}"] = used
    return num, bad, rules


def parse_numbers(values: pd.Series, decimal: str = ".") -> tuple[pd.Series, pd.Series]:
    """Parse numbers written as text: spaces or NBSP between thousands, ``decimal`` mark.

    Returns the float64 values and a boolean mask of non-empty texts that are not numbers.
    """
    if pd.api.types.is_numeric_dtype(values):
        num = values.astype("float64")
        return num, pd.Series(False, index=values.index)
    txt = values.astype("string").str.strip()
    empty = txt.isna() | (txt == "")
    cleaned = txt.str.replace(f"[{_SPACES}]", "", regex=True)
    if decimal == ",":
        cleaned = cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        cleaned = cleaned.str.replace(",", "", regex=False)
    # accounting negatives: (1 234,00)
    cleaned = cleaned.str.replace(r"^\((.*)\)$", r"-\1", regex=True)
    num = pd.to_numeric(cleaned.astype(object).where(~empty, None), errors="coerce").astype("float64")
    bad = num.isna() & ~empty
    return num, bad.fillna(False).astype(bool)


def parse_dates(values: pd.Series, fmt: str | None) -> tuple[pd.Series, pd.Series]:
    """Parse dates written as text with ``fmt`` (a strftime format, ``ISO8601`` or :data:`EXCEL_SERIAL`);
    returns timestamps and a mask of bad texts. A zone written after an ISO time is dropped: the time is
    kept as written (the seller's wall clock)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
        return values.astype("datetime64[us]"), pd.Series(False, index=values.index)
    if fmt == EXCEL_SERIAL:
        num = pd.to_numeric(values if pd.api.types.is_numeric_dtype(values)
                            else values.astype("string").str.strip().astype(object), errors="coerce")
        empty = values.isna() if pd.api.types.is_numeric_dtype(values) else \
            (values.isna() | (values.astype("string").str.strip() == "")).fillna(True)
        ok = num.between(*SERIAL_RANGE)
        parsed = (pd.Timestamp("1899-12-30") + pd.to_timedelta(num.where(ok), unit="D")).astype("datetime64[us]")
        bad = ~ok & ~empty
        return parsed, bad.fillna(False).astype(bool)
    txt = values.astype("string").str.strip()
    empty = txt.isna() | (txt == "")
    if fmt is None:
        parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    elif fmt == "ISO8601":
        local = txt.str.replace(r"(?<=\d)(Z|[+-]\d{2}:?\d{2})$", "", regex=True)
        parsed = pd.to_datetime(local.astype(object).where(~empty, None), format="ISO8601",
                                errors="coerce").astype("datetime64[us]")
    else:
        parsed = pd.to_datetime(txt.astype(object).where(~empty, None), format=fmt,
                                errors="coerce").astype("datetime64[us]")
    bad = parsed.isna() & ~empty
    return parsed, bad.fillna(False).astype(bool)


# --------------------------------------------------------------------------- date order

_DMY = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_ISO_EXACT = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")
_COMPACT = re.compile(r"^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")


@dataclass
class DateReading:
    """How a column's dates are written, as far as the values tell.

    ``fmt``: the format to read them with (a strftime format, ``ISO8601`` or :data:`EXCEL_SERIAL`), or None.
    ``ambiguous``: no value tells day-first from month-first; ``readings`` then holds both formats.
    ``conflict``: some values are day-first only and others month-first only. ``example``: a value shown.
    """

    fmt: str | None = None
    order: str | None = None  # "day-first", "month-first", "year-first", "serial"
    ambiguous: bool = False
    conflict: bool = False
    readings: tuple[str, ...] = ()
    example: str | None = None
    evidence: str = ""
    extra: dict[str, int] = field(default_factory=dict)


def _time_part(hour: pd.Series, seconds: pd.Series) -> str:
    if hour.isna().all():
        return ""
    return " %H:%M:%S" if seconds.notna().any() else " %H:%M"


def date_reading(values: pd.Series, sample: int = 20000) -> DateReading:
    """Read how the dates of ``values`` are written (see the module's docstring).

    A field over 12 decides the order (``13/01/19`` is day first), and every value must agree with it;
    values of the first two fields all 12 or less (and not equal) leave the order ``ambiguous``.
    Dotted dates (``01.02.2024``) are day first unless a value says otherwise: no one writes mm.dd.yyyy.
    """
    present = values.dropna()
    if pd.api.types.is_datetime64_any_dtype(values):
        return DateReading("typed", "typed")
    if pd.api.types.is_numeric_dtype(values):
        num = pd.to_numeric(present, errors="coerce")
        if len(num) and num.between(*SERIAL_RANGE).all():
            return DateReading(EXCEL_SERIAL, "serial", example=str(num.iloc[0]),
                               evidence=f"numbers {int(num.min())}..{int(num.max())} (Excel serial dates)")
        return DateReading(None)
    txt = present.astype(str).str.strip()
    txt = txt[txt != ""]
    if len(txt) > sample:  # the order is told by every value: take the distinct ones, up to `sample`
        txt = pd.Series(txt.unique()[:sample])
    if txt.empty:
        return DateReading(None)
    example = str(txt.iloc[0])
    if txt.str.match(_ISO).all():
        for fmt in _ISO_EXACT:  # one shape for the whole column: named exactly (the report shows it)
            if pd.to_datetime(txt, format=fmt, errors="coerce").notna().all():
                return DateReading(fmt, "year-first", example=example, evidence="ISO dates (yyyy-mm-dd)")
        return DateReading("ISO8601", "year-first", example=example, evidence="ISO dates (yyyy-mm-dd)")
    if txt.str.match(_COMPACT).all():
        return DateReading("%Y%m%d", "year-first", example=example, evidence="yyyymmdd")
    if txt.str.fullmatch(r"\d{5}(\.0+)?").all():
        num = pd.to_numeric(txt, errors="coerce")
        if num.between(*SERIAL_RANGE).all():
            return DateReading(EXCEL_SERIAL, "serial", example=example,
                               evidence=f"numbers {int(num.min())}..{int(num.max())} (Excel serial dates)")
    parts = txt.str.extract(_DMY)
    if parts[0].notna().mean() < 0.99:  # not this shape (a stray header or typo is named later, by its line)
        return DateReading(None, example=example)
    parts = parts[parts[0].notna()]
    a, b = parts[0].astype(int), parts[2].astype(int)
    sep = parts[1].mode().iloc[0]
    year = "%Y" if parts[3].str.len().max() == 4 else "%y"
    clock = _time_part(parts[4], parts[6])
    day_first, month_first = f"%d{sep}%m{sep}{year}{clock}", f"%m{sep}%d{sep}{year}{clock}"
    a_over, b_over = int((a > 12).sum()), int((b > 12).sum())
    extra = {"first_over_12": a_over, "second_over_12": b_over}
    if a_over and b_over:
        return DateReading(None, conflict=True, readings=(day_first, month_first), example=example,
                           extra=extra, evidence=f"{a_over} value(s) day first, {b_over} month first")
    if a_over:
        return DateReading(day_first, "day-first", example=example, extra=extra,
                           evidence=f"{a_over} value(s) with a first field over 12")
    if b_over:
        return DateReading(month_first, "month-first", example=example, extra=extra,
                           evidence=f"{b_over} value(s) with a second field over 12")
    if sep == "." or bool((a == b).all()):
        return DateReading(day_first, "day-first", example=example, extra=extra, evidence="dd.mm (dotted)")
    differ = txt[(a != b).to_numpy()]
    return DateReading(None, ambiguous=True, readings=(day_first, month_first),
                       example=str(differ.iloc[0]) if len(differ) else example, extra=extra,
                       evidence="no field over 12")


def reading_of(fmt: str, value: str) -> str:
    """``value`` read with ``fmt``, written as ``3 Jan 2019`` (for the message naming both readings)."""
    try:
        return pd.to_datetime(value, format=fmt).strftime("%-d %b %Y")
    except (ValueError, TypeError):
        return "?"


__all__ += ["reading_of"]
