"""What this data can tell: one profile of the data per run, and the minimum evidence of each claim.

Every analysis, workbook and the summary read :func:`data_profile` (``cube.profile``) instead of
deriving coverage again: the first and last date, the months fully covered, a partial first or last
month, months after the data's end that have no data, the optional columns present, the managers,
whether the history looks left-censored, and the analysis date against the data's end.

:class:`Evidence` holds the documented minimum for each kind of claim. Below it a section says
"cannot tell yet" and why (:meth:`DataProfile.lacks`), never a figure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from salesbook.i18n import t

if TYPE_CHECKING:
    from salesbook.cube import Cube

__all__ = ["Evidence", "DataProfile", "data_profile", "EVIDENCE", "windows"]


@dataclass(frozen=True)
class Evidence:
    """The minimum evidence of each kind of claim (defaults; every one a parameter).

    Months are full calendar months of data (a partial first or last month does not count).
    """

    trend_months: int = 24  #: a growth / decline verdict: the seasonally adjusted series needs this many
    season_months: int = 24  #: seasonal indices (two full years: each calendar month seen twice)
    yoy_months: int = 24  #: year-over-year by month: two full years
    bridge_months: int = 12  #: a revenue bridge or a "last 12 months against the 12 before": two such windows
    cohort_months: int = 12  #: a cohort's rates and first-year revenue: a full year after it was won
    correlation_points: int = 12  #: a correlation (managers x quarters): at least this many pairs
    correlation_managers: int = 3  #: ... from at least this many managers
    lead_in_months: int = 6  #: a client is new only when first seen this long after the data start
    edge_days: int = 3  #: days without lines at either end of the data still count as covered (a weekend)


EVIDENCE = Evidence()


@dataclass
class DataProfile:
    """What the data cover, and what they can support.

    ``start`` / ``end``: the span the data cover (first line; last line, or the analysis date when the
    last line is within ``edge_days`` of it). ``full_months``: calendar months wholly inside that span.
    ``no_data_months``: months after the data end up to the analysis date (not zero sales: no data).
    ``lead_in_end``: clients first seen before it were probably there before the export began.
    """

    first_date: pd.Timestamp
    last_date: pd.Timestamp
    as_of: pd.Timestamp
    start: pd.Timestamp
    end: pd.Timestamp
    months: list[pd.Timestamp]
    full_months: list[pd.Timestamp]
    partial_first: pd.Timestamp | None
    partial_last: pd.Timestamp | None
    no_data_months: list[pd.Timestamp]
    columns: set[str]
    managers: int
    categories: int
    clients: int
    left_censored: bool
    lead_in_end: pd.Timestamp
    evidence: Evidence = field(default_factory=Evidence)

    # ------------------------------------------------------------------ questions the analyses ask

    @property
    def n_full(self) -> int:
        return len(self.full_months)

    @property
    def has_manager(self) -> bool:
        return "manager" in self.columns and self.managers > 0

    @property
    def has_category(self) -> bool:
        return "category" in self.columns and self.categories > 0

    @property
    def has_cost(self) -> bool:
        return "cost" in self.columns

    def covers(self, start: Any, end: Any) -> bool:
        """True when the data fully cover the days ``start`` to ``end`` (both inclusive)."""
        return pd.Timestamp(start).normalize() >= self.start and pd.Timestamp(end).normalize() <= self.end

    def full_years(self) -> list[int]:
        """Calendar years whose twelve months are all full months of data."""
        years = pd.Series([m.year for m in self.full_months])
        counts = years.value_counts()
        return sorted(int(y) for y, n in counts.items() if n == 12)

    def year_months(self) -> dict[int, int]:
        """Full months of data per calendar year (a partial year has fewer than 12)."""
        out: dict[int, int] = {}
        for m in self.full_months:
            out[m.year] = out.get(m.year, 0) + 1
        return out

    def lacks(self, claim: str, lang: str = "en") -> str | None:
        """None when the data support ``claim``; else one sentence in ``lang``: what it needs, what the data have.

        ``claim``: ``trend``, ``season``, ``yoy``, ``bridge``, ``manager``, ``category``, ``cost``.
        """
        e = self.evidence
        need_months = {"trend": e.trend_months, "season": e.season_months, "yoy": e.yoy_months,
                       "bridge": 2 * e.bridge_months}
        if claim in need_months:
            if claim == "bridge":
                (s1, e1), (s0, _) = windows(self.as_of, e.bridge_months)
                if self.covers(s0, e1):
                    return None
                return t("profile.lacks.bridge", lang, window=e.bridge_months, need=need_months[claim],
                         months=self.n_full, start=self.start.date(), end=self.end.date())
            if self.n_full >= need_months[claim]:
                return None
            return t(f"profile.lacks.{claim}", lang, need=need_months[claim], months=self.n_full)
        if claim in ("manager", "category", "cost"):
            ok = {"manager": self.has_manager, "category": self.has_category, "cost": self.has_cost}[claim]
            return None if ok else t(f"profile.lacks.{claim}", lang)
        raise ValueError(f"unknown claim {claim!r}")

    def to_dict(self) -> dict[str, Any]:
        day = lambda v: None if v is None else str(pd.Timestamp(v).date())  # noqa: E731
        return {"first_date": day(self.first_date), "last_date": day(self.last_date), "as_of": day(self.as_of),
                "start": day(self.start), "end": day(self.end), "full_months": self.n_full,
                "partial_first": day(self.partial_first), "partial_last": day(self.partial_last),
                "no_data_months": [day(m) for m in self.no_data_months], "columns": sorted(self.columns),
                "managers": self.managers, "categories": self.categories, "clients": self.clients,
                "left_censored": self.left_censored, "lead_in_end": day(self.lead_in_end),
                "evidence": asdict(self.evidence)}

    def sentences(self, lang: str = "en", claims: bool = True) -> list[str]:
        """The overview's "what this data can tell", one sentence each, in ``lang``.

        ``claims=False``: the facts only (span, partial months, months without data, managers, the
        lead-in), for a page that says what cannot be told elsewhere (the summary's diagnosis)."""
        e = self.evidence
        out = [t("profile.span", lang, first=self.first_date.date(), last=self.last_date.date(),
                 as_of=self.as_of.date(), full=self.n_full)]
        if self.partial_first is not None:
            out.append(t("profile.partial_first", lang, month=_month(self.partial_first, lang),
                         day=self.first_date.day))
        if self.partial_last is not None:
            out.append(t("profile.partial_last", lang, month=_month(self.partial_last, lang), day=self.last_date.day))
        if self.no_data_months:
            out.append(t("profile.no_data", lang, last=self.last_date.date(), as_of=self.as_of.date(),
                         months=", ".join(_month(m, lang) for m in self.no_data_months)))
        missing = [c for c in ("manager", "category", "cost") if self.lacks(c) is not None]
        if missing and claims:
            out.append(t("profile.missing", lang, columns=", ".join(t(f"profile.col.{c}", lang) for c in missing)))
        if self.has_manager:
            out.append(t("profile.managers", lang, n=self.managers))
        if self.left_censored:
            out.append(t("profile.censored", lang, first=self.first_date.date(), lead=e.lead_in_months,
                         until=self.lead_in_end.date()))
        for claim in ("trend", "season", "bridge") if claims else ():
            why = self.lacks(claim, lang)
            if why:
                out.append(why)
        return out


def _month(m: pd.Timestamp, lang: str) -> str:
    from salesbook.i18n import month_names
    return f"{month_names(lang)[m.month - 1]} {m.year}"


def windows(end: Any, months: int = 12) -> tuple[tuple[pd.Timestamp, pd.Timestamp], tuple[pd.Timestamp, pd.Timestamp]]:
    """(later, earlier) windows of ``months`` each, the later one ending on ``end``; days inclusive."""
    end = pd.Timestamp(end).normalize()
    s1 = end - pd.DateOffset(months=months) + pd.Timedelta(days=1)
    return (s1, end), (s1 - pd.DateOffset(months=months), s1 - pd.Timedelta(days=1))


def data_profile(cube: "Cube", evidence: Evidence = EVIDENCE) -> DataProfile:
    """The profile of ``cube``'s data at its analysis date (see :class:`DataProfile`)."""
    r = cube.report
    first, last = pd.Timestamp(r.first_date), pd.Timestamp(r.last_date)
    as_of = cube.as_of.normalize()
    edge = pd.Timedelta(days=evidence.edge_days)
    start = first.to_period("M").to_timestamp() if first - first.to_period("M").to_timestamp() < edge else first
    end = as_of if as_of - last <= edge else last
    months = list(pd.date_range(first.to_period("M").to_timestamp(), as_of.to_period("M").to_timestamp(), freq="MS"))
    # a month is full when the data cover it, but for at most ``edge_days`` at either end
    full = [m for m in months if m >= start and (m + pd.offsets.MonthEnd(0)).normalize() - end < edge]
    first_m, last_m = first.to_period("M").to_timestamp(), last.to_period("M").to_timestamp()
    partial_first = first_m if first_m not in full else None
    partial_last = last_m if last_m not in full and last_m != first_m else None
    no_data = [m for m in months if m > last_m]
    mm = cube.manager_month
    managers = int(mm.loc[mm.revenue != 0, "manager"].dropna().nunique()) if "manager" in r.columns_present else 0
    cc = cube.client_category
    categories = int(cc.category.dropna().nunique()) if "category" in r.columns_present else 0
    lead_in_end = (start + pd.DateOffset(months=evidence.lead_in_months)).normalize()
    censored = _looks_left_censored(cube, start, lead_in_end)
    return DataProfile(first, last, as_of, start, end, months, full, partial_first, partial_last, no_data,
                       cube.has, managers, categories, int(r.clients), censored, lead_in_end,
                       evidence)


def _looks_left_censored(cube: "Cube", start: pd.Timestamp, lead_in_end: pd.Timestamp) -> bool:
    """True when the first month holds far more first purchases than a later month does: clients who were
    buying before the export began, all "first seen" at its start. Rule: first-month first purchases at
    least twice the median of the months after the lead-in (or no month after it to compare with)."""
    firsts = cube.clients.first_date.dropna()
    if firsts.empty:
        return False
    per_month = firsts.dt.to_period("M").value_counts()
    first_m = start.to_period("M")
    at_start = int(per_month.get(first_m, 0))
    later = per_month[per_month.index >= lead_in_end.to_period("M")]
    if later.empty:
        return at_start > 0
    return at_start >= 2 * max(float(later.median()), 1.0)


def data_language(cube: "Cube", sample: int = 2000) -> str:
    """The language of the data's own names: ``ru`` when most letters of the client names are Cyrillic,
    else ``en``. A workbook opened without a ``lang`` speaks the language of its data."""
    names = cube.clients.client_name.dropna().astype(str).head(sample) if "client_name" in cube.clients else []
    text = "".join(names)
    letters = sum(ch.isalpha() for ch in text)
    cyrillic = sum("\u0400" <= ch <= "\u04ff" for ch in text)
    return "ru" if letters and cyrillic / letters > 0.5 else "en"
