"""Column mappings: how a source's columns become salesbook's canonical columns.

A mapping is a YAML file (or dict) such as::

    columns:
      date: InvoiceDate
      client_id: Customer ID
      amount: Quantity * Price       # an arithmetic expression of source columns
      client_name: [Company, City]   # a list joins text columns with " / "
    read:                            # optional: override what is detected
      encoding: cp1251
      delimiter: ";"
      decimal: ","
      date_format: "%d.%m.%Y"
      sheet: 0
      total_row: Итого
      repeated_headers: drop         # header rows repeated mid-file (pasted exports): dropped, counted

A name that is a column of the source is taken as it is; otherwise the value
is an expression of ``+ - * /``, numbers and column names (names with spaces
or other characters in backticks: ```Customer ID```).
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping as TMapping

import yaml

from salesbook import paths

from salesbook.errors import DataError, Problem

__all__ = ["CANONICAL", "REQUIRED", "NUMERIC", "TEXT", "ColumnMapping", "load_mapping",
           "PRESETS", "referenced_columns"]

#: canonical columns in their documented order
CANONICAL = ("date", "client_id", "amount", "client_name", "manager", "product_id",
             "product_name", "category", "quantity", "order_id", "region", "cost")
REQUIRED = ("date", "client_id", "amount")
NUMERIC = frozenset({"amount", "quantity", "cost"})
TEXT = frozenset(set(CANONICAL) - NUMERIC - {"date"})

_READ_KEYS = {"encoding", "delimiter", "decimal", "date_format", "sheet", "total_row", "header_row",
              "repeated_headers"}

_PRESET_DIR = paths.PACKAGE_DIR / "presets"


@dataclass
class ColumnMapping:
    """Canonical column -> source column name, expression, or list of text columns."""

    columns: dict[str, Any] = field(default_factory=dict)
    read: dict[str, Any] = field(default_factory=dict)
    name: str = "identity"
    currency: str | None = None  #: ISO 4217 code of the export's amounts, when the mapping knows it
    #: canonical columns whose source was guessed (``salesbook map``, ``--mapping auto``), not written by a person
    guessed: tuple[str, ...] = ()

    def target(self, canonical: str) -> Any:
        return self.columns.get(canonical, canonical)

    def merged(self, other: "ColumnMapping") -> "ColumnMapping":
        return ColumnMapping({**self.columns, **other.columns}, {**self.read, **other.read},
                             f"{self.name}+{other.name}", other.currency or self.currency,
                             tuple(dict.fromkeys(self.guessed + other.guessed)))


def _check(raw: TMapping[str, Any], where: str) -> ColumnMapping:
    problems = []
    columns = dict(raw.get("columns") or {})
    read = dict(raw.get("read") or {})
    for key in set(raw) - {"columns", "read", "name", "currency", "guessed"}:
        problems.append(Problem(f"unknown section '{key}'",
                                expected="'columns', 'read', 'name', 'currency' and 'guessed'"))
    currency = raw.get("currency")
    if currency is not None:
        from babel.numbers import list_currencies
        if str(currency).upper() not in list_currencies():
            problems.append(Problem(f"currency {currency!r} is not an ISO 4217 code", expected="RUB, USD, EUR, GBP, ..."))
    for key in columns:
        if key not in CANONICAL:
            problems.append(Problem(f"unknown canonical column '{key}'",
                                    expected="one of " + ", ".join(CANONICAL)))
    for key in read:
        if key not in _READ_KEYS:
            problems.append(Problem(f"unknown read option '{key}'",
                                    expected="one of " + ", ".join(sorted(_READ_KEYS))))
    repeated = read.get("repeated_headers")
    if repeated is not None and repeated not in ("drop", "raise"):
        problems.append(Problem(f"read option repeated_headers: {repeated!r}", expected="drop or raise"))
    guessed = raw.get("guessed") or ()
    if problems:
        raise DataError(where, problems)
    return ColumnMapping(columns, read, str(raw.get("name", where)), str(currency).upper() if currency else None,
                         tuple(str(g) for g in guessed))


def currency_of(mapping: Any = None, default: str = "RUB") -> str:
    """The currency of a source's amounts: its mapping's ``currency:``, else ``default``."""
    if not mapping:
        return default
    return load_mapping(mapping).currency or default


def load_mapping(mapping: "str | os.PathLike | TMapping[str, Any] | ColumnMapping | None") -> ColumnMapping:
    """Read a mapping from a YAML path, a preset name (``"1c"``), a dict, or pass one through."""
    if mapping is None:
        return ColumnMapping()
    if isinstance(mapping, ColumnMapping):
        return mapping
    if isinstance(mapping, TMapping):
        return _check(mapping, "mapping")
    text = str(mapping)
    if text in PRESETS:
        return PRESETS[text]()
    path = Path(text)
    if not path.exists():
        raise DataError(text, f"mapping file not found; built-in presets are: {', '.join(PRESETS)}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise DataError(text, f"mapping is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise DataError(text, "mapping must be a YAML mapping with a 'columns' section")
    return _check(raw, text)


def _preset(name: str):
    def make() -> ColumnMapping:
        raw = yaml.safe_load((_PRESET_DIR / f"{name}.yml").read_text(encoding="utf-8"))
        return _check(raw, f"preset {name}")
    return make


PRESETS = {"1c": _preset("1c")}

# --------------------------------------------------------------------------- expressions

_BACKTICK = re.compile(r"`([^`]+)`")
_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Load, ast.Constant,
            ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.UAdd)


class UnsafeExpression(ValueError):
    """An expression that parses but uses more than + - * /, numbers and column names."""


def _parse_expression(expr: str) -> tuple[ast.Expression, dict[str, str]]:
    names: dict[str, str] = {}

    def sub(m: re.Match) -> str:
        key = f"_c{len(names)}"
        names[key] = m.group(1)
        return key

    code = _BACKTICK.sub(sub, expr)
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError:
        raise ValueError(f"'{expr}' is neither a source column nor an expression of + - * /") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise UnsafeExpression(f"'{expr}': only + - * /, numbers and column names are allowed")
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or not isinstance(node.value, (int, float))
                                               or abs(node.value) > 1e12):
            # a text constant would make '...' * 10**12 a terabyte string; numbers are all an amount needs
            raise UnsafeExpression(f"'{expr}': only + - * /, numbers (up to 1e12) and column names are allowed")
        if isinstance(node, ast.Name) and node.id not in names:
            names[node.id] = node.id
    return tree, names


def referenced_columns(spec: Any, available: set[str]) -> list[str]:
    """The source columns a mapping value reads."""
    if isinstance(spec, list):
        return [str(s) for s in spec]
    spec = str(spec)
    if spec in available:
        return [spec]
    try:
        _, names = _parse_expression(spec)
    except UnsafeExpression:
        raise
    except ValueError:
        return [spec]
    return list(dict.fromkeys(names.values()))


def evaluate(spec: str, columns: TMapping[str, Any]) -> Any:
    """Evaluate an expression over column objects (ibis or pandas) that support arithmetic."""
    tree, names = _parse_expression(spec)

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return columns[names[node.id]]
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        left, right = ev(node.left), ev(node.right)
        op = type(node.op)
        return {ast.Add: lambda: left + right, ast.Sub: lambda: left - right,
                ast.Mult: lambda: left * right, ast.Div: lambda: left / right}[op]()

    return ev(tree)
