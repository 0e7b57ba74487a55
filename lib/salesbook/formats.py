"""How every number and name reads in each language: amounts with their currency, counts, shares and
differences of shares, short amounts for chart ticks; and text made inert inside Markdown or HTML.

The foundation of every stage: analyses write their sentences with it, views their tables and charts.
One style a language: ``1 286 082 585 ₽``, ``+1,4 %``, ``−9 п. п.`` in Russian; ``RUB 1,286,082,585``,
``+1.4%``, ``−9 pts`` in English.
"""

from __future__ import annotations

import enum
import functools
import html
import re
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

import pandas as pd

__all__ = ["escape", "escape_html", "fact", "plain", "Lang", "check_currency", "using_currency", "currency_symbol",
           "lang_currency", "with_currency", "country_name",
           "money_header", "fmt_number", "fmt_money", "fmt_short", "fmt_int", "fmt_num", "fmt_pct", "fmt_points",
           "CURRENCY", "DEFAULT_CURRENCY", "Kind", "Measure", "as_money", "as_share", "as_points", "as_count",
           "as_number", "fmt_measure"]


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def _escape_text(text: str) -> str:
    # quotes stay as they are: this is text, never an attribute (an escaped apostrophe showed as &#x27;)
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def escape(value: Any) -> str:
    """A value as inert text inside Markdown or HTML; a named figure (:func:`fact`) becomes its span."""
    return _with_facts(str(value), _escape_text)


def escape_html(value: Any, quote: bool = True) -> str:
    """A value as inert text inside HTML (not Markdown); a named figure (:func:`fact`) becomes its span."""
    return _with_facts(str(value), lambda text: html.escape(text, quote=quote))


# --------------------------------------------------------------------------- named figures

#: a figure with its stable name travels through sentences (``t(...)``) as text between private-use marks,
#: and becomes ``<span data-fact=... data-value=...>`` where the sentence is escaped for a page
_FACT = re.compile("\uE010([^\uE011\uE012]*)\uE011([^\uE010\uE012]*)\uE012")


def fact(name: str, text: Any, value: Any = None, scope: str = "") -> str:
    """``text`` (a formatted figure) marked with its stable ``name`` (``sleeping.count``), its raw ``value``
    (when the text is formatted: ``570``, ``575750920.0``) and its ``scope`` (``""`` for the company, a
    manager's name in his pack). Pages show the text inside ``<span data-fact data-value data-scope>``;
    :func:`plain` gives the text alone (JSON, Excel)."""
    meta = "\uE013".join([name, "" if value is None else value if isinstance(value, str) else _raw(float(value)),
                           str(scope)])
    return f"\uE010{meta}\uE011{text}\uE012"


def _raw(x: float) -> str:
    """A figure's raw value as every page writes it: to the cent from 100 on (money is kept to the cent, so a
    figure rounded there for JSON reads the same), else to 1e-9 (shares, rates)."""
    return repr(round(x, 2 if abs(x) >= 100 else 9))


def plain(text: str) -> str:
    """``text`` without the marks of its named figures."""
    return _FACT.sub(lambda m: m.group(2), text)


def _with_facts(text: str, esc: Any) -> str:
    out, at = [], 0
    for m in _FACT.finditer(text):
        out.append(esc(text[at:m.start()]))
        name, value, scope = (m.group(1).split("\uE013") + ["", ""])[:3]
        attrs = f' data-fact="{html.escape(name)}"'
        if value:
            attrs += f' data-value="{html.escape(value)}"'
        if scope:
            attrs += f' data-scope="{html.escape(scope)}"'
        out.append(f"<span{attrs}>{esc(m.group(2))}</span>")
        at = m.end()
    out.append(esc(text[at:]))
    return "".join(out)


DEFAULT_CURRENCY = "RUB"

#: the currency of amounts written in a bare language code (``"ru"``, not a :class:`Lang`): RUB, or the one a
#: block names (:func:`using_currency`). A run, a notebook and the summary pass a :class:`Lang` instead, which
#: carries its own; nothing sets this for longer than a ``with`` block.
CURRENCY: ContextVar[str] = ContextVar("salesbook_currency", default=DEFAULT_CURRENCY)


_SEPARATORS = {"en": (".", ","), "ru": (",", "\u00a0")}  # decimal mark, thousands separator


_MINUS = "\u2212"


def check_currency(code: str) -> str:
    """An ISO 4217 code (``RUB``, ``usd``) upper-cased; anything else is a :class:`ParameterError`."""
    from babel.numbers import list_currencies

    from salesbook.errors import ParameterError
    text = str(code or "").strip().upper()
    if text not in list_currencies():
        raise ParameterError(f"currency {code!r} is not an ISO 4217 code (RUB, USD, EUR, KZT, ...)")
    return text


class Lang(str):
    """A report's language that carries the currency of its amounts (ISO 4217): ``Lang("ru", "USD")`` is
    ``"ru"`` wherever a language is read (the catalogue, the separators, ``lang == "ru"``), and every amount
    written in it (:func:`fmt_money`, :func:`money_header`, :func:`fmt_short`, a chart's axis) carries USD.

    The run's currency travels as an argument with the language every sentence and table already takes,
    instead of living in the process: a notebook makes one (``lang = sb.Lang(lang, currency)``) and passes
    it, the runner makes one for the summary and the packs. Without ``currency``: ``lang``'s own when it is
    a :class:`Lang`, else the block's (:func:`using_currency`), else RUB.
    """

    currency: str

    def __new__(cls, lang: str = "en", currency: str | None = None) -> "Lang":
        from salesbook.errors import ParameterError
        from salesbook.i18n import LANGS
        if str(lang) not in LANGS:
            raise ParameterError(f"lang={str(lang)!r}: expected one of {', '.join(LANGS)}")
        obj = super().__new__(cls, str(lang))
        obj.currency = check_currency(currency) if currency else lang_currency(lang)
        return obj

    def __repr__(self) -> str:  # the currency too: a memo keyed by its arguments tells two currencies apart
        return f"Lang({str(self)!r}, {self.currency!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Lang, (str(self), self.currency))


def lang_currency(lang: str) -> str:
    """The currency amounts are written in for ``lang``: a :class:`Lang`'s own, else the block's
    (:func:`using_currency`), else RUB."""
    return getattr(lang, "currency", None) or CURRENCY.get()


@contextmanager
def using_currency(code: str) -> Iterator[str]:
    """Amounts formatted in a bare language code inside the block carry ``code`` (a test, a caller that has
    no :class:`Lang`); a :class:`Lang` keeps its own."""
    token = CURRENCY.set(check_currency(code))
    try:
        yield CURRENCY.get()
    finally:
        CURRENCY.reset(token)


def currency_symbol(lang: str = "en", code: str | None = None) -> str:
    """The currency (``code``, else :func:`lang_currency` of ``lang``) as ``lang`` writes it (CLDR, through Babel):
    ₽ in Russian, RUB in English, $ in both."""
    return _symbol(code or lang_currency(lang), str(lang))


@functools.lru_cache(maxsize=None)
def _symbol(code: str, lang: str) -> str:  # Babel's lookup, once per currency and language (a list formats thousands)
    from babel.numbers import get_currency_symbol
    return get_currency_symbol(code, locale=lang)


def with_currency(number: str, lang: str = "en", code: str | None = None) -> str:
    """``1 286 082 585 ₽`` in Russian, ``RUB 1,286,082,585`` / ``$1,286,082,585`` in English."""
    symbol = currency_symbol(lang, code)
    if lang == "ru":
        return f"{number}\u00a0{symbol}"
    sign = number[:1] if number[:1] == _MINUS else ""
    gap = "\u00a0" if symbol[-1:].isalpha() else ""
    return f"{sign}{symbol}{gap}{number[len(sign):]}"


def country_name(code: str, lang: str = "en") -> str:
    """A country as ``lang`` names it (CLDR, through Babel): ``RU`` -> ``Россия`` / ``Russia``."""
    from babel import Locale
    return Locale.parse(lang).territories.get(str(code).upper(), str(code))


def money_header(header: str, lang: str = "en") -> str:
    """A column or axis title with the run's currency: ``Выручка, ₽``, ``Revenue, RUB``."""
    return f"{header}, {currency_symbol(lang)}"


def _number(x: float, lang: str, decimals: int) -> str:
    point, sep = _SEPARATORS[lang]
    text = f"{abs(x):,.{decimals}f}".replace(",", "\uffff").replace(".", point).replace("\uffff", sep)
    return (_MINUS if x < 0 and text.strip("0.,\u00a0") else "") + text


def fmt_number(x: float, lang: str = "en", decimals: int = 0) -> str:
    """Any number in the language's one style: ``1 286 082 585`` / ``1,286,082,585``, ``0,57`` / ``0.57``."""
    if x is None or pd.isna(x):
        return "–"
    return _number(float(x), lang, decimals)


def fmt_money(x: float, lang: str = "en", decimals: int = 0, currency: bool = True) -> str:
    """An amount with the run's currency: ``1 286 082 585 ₽`` / ``RUB 1,286,082,585``.

    ``currency=False`` for a cell under a header that names the currency (:func:`money_header`).
    """
    if x is None or pd.isna(x):
        return "–"
    text = _number(float(x), lang, decimals)
    return with_currency(text, lang) if currency else text


_SHORT = {"en": ((1e9, "\u00a0bn"), (1e6, "\u00a0m"), (1e3, "\u00a0k")),
          "ru": ((1e9, "\u00a0млрд"), (1e6, "\u00a0млн"), (1e3, "\u00a0тыс."))}


def fmt_short(x: float, lang: str = "en", currency: bool = False) -> str:
    """An amount in three significant digits for chart ticks and labels: ``1.29 bn``, ``124 m``; ``1,29 млрд``."""
    if x is None or pd.isna(x):
        return "–"
    for size, suffix in _SHORT[lang]:
        if abs(x) >= size:
            text = f"{abs(x) / size:.3g}"
            break
    else:
        text, suffix = f"{abs(x):.3g}", ""
    if lang == "ru":
        text = text.replace(".", ",")
    text = (_MINUS if x < 0 else "") + text + suffix
    return with_currency(text, lang) if currency else text


def fmt_int(x: float, lang: str = "en") -> str:
    """A count: ``1 286 082`` / ``1,286,082``."""
    return fmt_number(x, lang, 0)


def fmt_num(x: float, lang: str = "en", decimals: int = 2) -> str:
    """A plain number (a statistic, a ratio) in the language's style: 0.57 / 0,57."""
    return fmt_number(x, lang, decimals)


def _hundredths(x: float, lang: str, decimals: int, signed: bool) -> str:
    """``x`` times 100 in the language's decimal mark, with a true minus."""
    text = f"{x * 100:{'+' if signed else ''}.{decimals}f}"
    return (text.replace(".", ",") if lang == "ru" else text).replace("-", _MINUS)


def fmt_pct(x: float, lang: str = "en", decimals: int = 1, signed: bool = False) -> str:
    """A share as a percentage: ``+1,4 %`` in Russian (a space before the sign), ``+1.4%`` in English."""
    if x is None or pd.isna(x):
        return "–"
    return _hundredths(x, lang, decimals, signed) + ("\u00a0%" if lang == "ru" else "%")


def fmt_points(x: float, lang: str = "en", decimals: int = 0) -> str:
    """A difference of two percentages, in percentage points, signed: ``−9 pts`` / ``−9 п. п.`` (never
    ``−9 %``, which reads as a relative change)."""
    if x is None or pd.isna(x):
        return "–"
    return _hundredths(x, lang, decimals, True) + ("\u00a0п.\u00a0п." if lang == "ru" else "\u00a0pts")


class Kind(enum.StrEnum):
    """What a figure is, said where it is computed, so that no formatter guesses (:class:`Measure`)."""

    MONEY = "money"  #: an amount in the run's currency
    SHARE = "share"  #: a fraction (0.25) written as a percentage, or a relative change
    POINTS = "points"  #: a difference of two shares, in percentage points
    COUNT = "count"  #: a number of things (clients, months)
    NUMBER = "number"  #: a plain number: a correlation, categories per client


class Measure(float):
    """A number that carries its :class:`Kind` (and, for a plain number, its decimals): a float everywhere
    else (arithmetic, comparisons, JSON), written by :func:`fmt_measure` in the report's style."""

    kind: Kind
    decimals: int
    signed: bool

    def __new__(cls, value: float, kind: Kind, decimals: int = 2, signed: bool = False) -> "Measure":
        obj = super().__new__(cls, value)
        obj.kind, obj.decimals, obj.signed = Kind(kind), decimals, signed
        return obj

    def __reduce__(self) -> tuple[Any, ...]:  # pickled with its kind (the memo keeps diagnoses on disk)
        return (Measure, (float(self), self.kind, self.decimals, self.signed))


def as_money(x: float) -> Measure:
    return Measure(x, Kind.MONEY)


def as_share(x: float, signed: bool = True) -> Measure:
    return Measure(x, Kind.SHARE, signed=signed)


def as_points(x: float) -> Measure:
    return Measure(x, Kind.POINTS, signed=True)


def as_count(x: float) -> Measure:
    return Measure(x, Kind.COUNT)


def as_number(x: float, decimals: int = 2, signed: bool = False) -> Measure:
    return Measure(x, Kind.NUMBER, decimals, signed)


def fmt_measure(x: Measure, lang: str = "en") -> str:
    """A figure in the report's style by its kind: ``RUB 1,234``, ``+1.4%``, ``−9 pts``, ``1,234``, ``+0.33``."""
    if x.kind is Kind.MONEY:
        return fmt_money(x, lang)
    if x.kind is Kind.SHARE:
        return fmt_pct(x, lang, signed=x.signed)
    if x.kind is Kind.POINTS:
        return fmt_points(x, lang)
    if x.kind is Kind.COUNT:
        return fmt_int(x, lang)
    text = fmt_num(x, lang, x.decimals)
    return ("+" + text) if x.signed and x > 0 else text
