"""The load report: what was read, what was detected, and where every line went.

Kept apart from :mod:`salesbook.data.validate` (which checks lines in the engine, with ibis and pandera)
so that reading a cached cube, and its report, imports neither.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

__all__ = ["LoadReport", "ReportLine", "REASONS", "EXAMPLES"]

REASONS = ("total_row", "repeated_header", "bad_value", "no_client", "bad_date", "bad_amount", "suspicious_amount", "suspicious_date", "after_as_of",
           "duplicate", "zero_amount", "return")
EXAMPLES = 5


@dataclass
class ReportLine:
    """Lines set aside or noted for one reason."""

    reason: str
    count: int
    action: str  # "dropped" or "kept"
    amount: float = 0.0
    rows: list[int] = field(default_factory=list)
    values: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    """What was read, what was detected, and where every line went."""

    source: str = ""
    kind: str = ""
    mapping: str = ""
    encoding: str | None = None
    delimiter: str | None = None
    header_line: int | None = None
    decimal: Any = None
    date_format: str | None = None
    line_word: str = "line"
    sheet: str | None = None
    #: source column -> {amount rule (currency $, thousands ",", parentheses): values it read}
    amount_rules: dict[str, dict[str, int]] = field(default_factory=dict)
    #: canonical columns whose source the mapping guessed (salesbook map, --mapping auto)
    guessed: list[str] = field(default_factory=list)
    columns_present: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_kept: int = 0
    as_of: str | None = None
    first_date: str | None = None
    last_date: str | None = None
    clients: int = 0
    revenue: float = 0.0
    lines: list[ReportLine] = field(default_factory=list)

    @property
    def rows_dropped(self) -> int:
        return sum(ln.count for ln in self.lines if ln.action == "dropped")

    @property
    def balanced(self) -> bool:
        """Every line read is either kept or dropped with a reason."""
        return self.rows_read == self.rows_kept + self.rows_dropped

    def count(self, reason: str) -> int:
        return sum(ln.count for ln in self.lines if ln.reason == reason)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "LoadReport":
        data = dict(data)
        data["lines"] = [ReportLine(**ln) for ln in data.get("lines", [])]
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, default=str)

    def to_frame(self, lang: str = "en", examples: int = EXAMPLES) -> pd.DataFrame:
        """One row per reason: lines, amount, action, up to ``examples`` line numbers. Labels in ``lang``."""
        from salesbook.i18n import t
        rows = []
        for ln in self.lines:
            examples_text = ", ".join(str(r) for r in ln.rows[:examples])
            rows.append({
                t("col.reason", lang): t(f"reason.{ln.reason}", lang),
                t("col.lines", lang): ln.count,
                t("col.amount", lang): round(ln.amount, 2),
                t("col.action", lang): t(f"action.{ln.action}", lang),
                t("col.examples", lang): examples_text,
            })
        out = pd.DataFrame(rows, columns=[t(k, lang) for k in
                                          ("col.reason", "col.lines", "col.amount", "col.action", "col.examples")])
        out.attrs["money"] = [t("col.amount", lang)]  # what a page shows with the run's currency
        return out

    def detected(self, lang: str = "en") -> list[str]:
        """What was detected (or given) to read the source, each in a few words in ``lang``: encoding,
        delimiter, decimal mark, date format, sheet, header line, the amount rules applied (with the
        number of values each read) and the columns whose source was guessed."""
        from salesbook.i18n import t
        out = []
        if self.encoding:
            out.append(t("readers.encoding", lang, value=self.encoding))
        if self.delimiter:
            out.append(t("readers.delimiter", lang, value="tab" if self.delimiter == "\t" else repr(self.delimiter)))
        if self.decimal:
            marks = sorted(set(self.decimal.values())) if isinstance(self.decimal, dict) else [self.decimal]
            out.append(t("readers.decimal", lang, value="/".join(repr(m) for m in marks)))
        if self.date_format:
            from salesbook.data.parse import human_format
            out.append(t("readers.date_format", lang, value=f"{human_format(self.date_format)} ({self.date_format})"))
        if self.sheet:
            out.append(t("readers.sheet", lang, value=self.sheet))
        if self.header_line and self.header_line > 1:
            out.append(t("readers.header", lang, value=self.header_line))
        for column, rules in (self.amount_rules or {}).items():
            for rule, count in rules.items():
                out.append(t("readers.rule", lang, column=column, rule=rule, count=count))
        if self.guessed:
            out.append(t("readers.guessed_short", lang, columns=", ".join(self.guessed)))
        return out

    def to_text(self, lang: str = "en") -> str:
        from salesbook.i18n import t
        out = [t("report.source", lang, source=self.source, kind=self.kind)]
        detected = self.detected(lang)
        if detected:
            out.append("  " + ", ".join(detected))
        out.append(t("report.counts", lang, read=self.rows_read, kept=self.rows_kept,
                     dropped=self.rows_dropped))
        if self.first_date:
            out.append(t("report.period", lang, first=self.first_date, last=self.last_date,
                         as_of=self.as_of, clients=self.clients))
        for ln in self.lines:
            where = ""
            if ln.rows:
                where = f" ({self.line_word} " + ", ".join(str(r) for r in ln.rows[:EXAMPLES])
                where += ", …)" if ln.count > len(ln.rows[:EXAMPLES]) else ")"
            out.append(f"  - {t('reason.' + ln.reason, lang)}: {ln.count} "
                       f"[{t('action.' + ln.action, lang)}; {ln.amount:,.2f}]{where}")
        return "\n".join(out)
