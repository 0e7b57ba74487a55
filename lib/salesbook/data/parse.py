"""Numbers and dates written as text, parsed with pandas (sales exports, pipeline files).

Light on purpose: the pipeline reader uses it without importing the engine side of the loader.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["parse_numbers", "parse_dates"]

_SPACES = " \u00a0\u202f\u2009'"


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
    """Parse dates written as text with ``fmt``; returns timestamps and a mask of bad texts."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[us]"), pd.Series(False, index=values.index)
    txt = values.astype("string").str.strip()
    empty = txt.isna() | (txt == "")
    if fmt is None:
        parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    else:
        parsed = pd.to_datetime(txt.astype(object).where(~empty, None), format=fmt,
                                errors="coerce").astype("datetime64[us]")
    bad = parsed.isna() & ~empty
    return parsed, bad.fillna(False).astype(bool)
