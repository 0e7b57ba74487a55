"""Errors a sales analyst can read: which file, which column, which lines, what was expected."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

__all__ = ["DataError", "Problem", "ParameterError"]


def _short(value: object, limit: int = 40) -> str:
    text = str(value)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


@dataclass
class Problem:
    """One thing wrong with an input file.

    ``rows`` are line numbers in the file as a text editor shows them (CSV) or
    row numbers as Excel shows them; ``values`` are the offending texts, in the
    same order.
    """

    message: str
    column: str | None = None
    source_column: str | None = None
    rows: Sequence[int] = field(default_factory=list)
    values: Sequence[object] = field(default_factory=list)
    count: int | None = None
    expected: str | None = None

    def describe(self, line_word: str = "line") -> str:
        parts = []
        if self.column:
            col = f"column '{self.column}'"
            if self.source_column and self.source_column != self.column:
                col += f" (source column '{self.source_column}')"
            parts.append(col + ":")
        n = self.count if self.count is not None else len(self.rows)
        parts.append(self.message.format(n=n))
        if self.rows:
            shown = list(zip(self.rows, self.values))[:5] if self.values else [(r, None) for r in self.rows[:5]]
            where = ", ".join(f"{line_word} {r}" + (f": {_short(v)}" if v is not None else "") for r, v in shown)
            more = f" and {n - len(shown)} more" if n > len(shown) else ""
            parts.append(f"at {where}{more}.")
        if self.expected:
            parts.append(f"Expected {self.expected}.")
        return " ".join(parts)


class DataError(ValueError):
    """Input data that cannot be used as it is, with every problem found in it."""

    def __init__(self, source: str, problems: Sequence[Problem] | str, line_word: str = "line"):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        self.source = str(source)
        self.problems = list(problems)
        self.line_word = line_word
        super().__init__(self._text())

    def _text(self) -> str:
        head = f"{self.source}: " + (
            "1 problem" if len(self.problems) == 1 else f"{len(self.problems)} problems"
        )
        return head + "\n" + "\n".join(f"  - {p.describe(self.line_word)}" for p in self.problems)


class ParameterError(ValueError):
    """A run parameter or configuration value that is not allowed."""


class EnvironmentProblem(RuntimeError):
    """Something this machine lacks (a program, a package): the message names it and how to install it."""
