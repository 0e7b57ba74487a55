"""One message catalogue for every label, title and sentence of every report.

``messages/*.yml`` hold each key with its English and Russian text side by
side, so that a language cannot fall behind unnoticed (a test checks that
every key has every language and the same placeholders). ``catalogue.yml`` is
the main file; an analysis may keep its messages in a file of its own
(``messages/<analysis>.yml``): the files are read as one catalogue, and a key
defined in two files is an error.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from salesbook.errors import ParameterError

__all__ = ["LANGS", "t", "catalogue", "month_names", "month_labels"]

LANGS = ("en", "ru")
_DIR = Path(__file__).resolve().parent / "messages"
_FILE = _DIR / "catalogue.yml"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """Every ``messages/*.yml`` as one mapping key -> {lang: text}."""
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(_DIR.glob("*.yml")):
        # libyaml's loader (PyYAML's C extension, when built with it): a tenth of the pure-Python parse, which
        # every kernel of a run paid once
        part = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
        twice = sorted(set(part) & set(merged))
        if twice:
            raise KeyError(f"{path.name}: message key(s) defined in another messages file too: {', '.join(twice)}")
        merged.update(part)
    return merged


def t(key: str, lang: str = "en", **values: Any) -> str:
    """The text of ``key`` in ``lang``, with ``{placeholders}`` filled from ``values``."""
    if lang not in LANGS:
        raise ParameterError(f"lang={lang!r}: expected one of {', '.join(LANGS)}")
    try:
        text = catalogue()[key][lang]
    except KeyError:
        raise KeyError(f"no message {key!r} in {_DIR.name}/*.yml") from None
    return text.format(**values) if values else text


def month_names(lang: str = "en", short: bool = True) -> list[str]:
    return t("months.short" if short else "months.long", lang).split(",")


def month_labels(months: Any, lang: str = "en") -> list[str]:
    """``янв 2026`` / ``Jan 2026`` for each month (any date-like values)."""
    names = month_names(lang)
    return [f"{names[m.month - 1]} {m.year}" for m in months]
