"""The data-shape matrix: awkward shapes a real export has, cut or altered from the committed sample.

Each shape is a source file (Parquet, canonical columns unless said) plus the run settings it needs.
``make_shape(name, folder)`` writes it and returns a :class:`Shape`; the real Online Retail II file
is used as it is, from ``../shared/data``.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from salesbook import paths

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "sales.parquet"
REAL = ROOT.parent / "shared" / "data" / "online_retail_ii_2009_2010.parquet"
REAL_MAPPING = ROOT / "data" / "mappings" / "online_retail_ii.yml"


@dataclass
class Shape:
    name: str
    source: Path
    mapping: str = ""
    as_of: str = ""
    #: what the shape is, for the closing table
    what: str = ""
    extra: dict = field(default_factory=dict)


def _sample() -> pd.DataFrame:
    return pd.read_parquet(SAMPLE)


def _last(months: int) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The last ``months`` calendar months of the sample."""
    def cut(d: pd.DataFrame) -> pd.DataFrame:
        return d[d.date >= (d.date.max().to_period("M") - (months - 1)).to_timestamp()]
    return cut


def _last_busy_day(d: pd.DataFrame) -> pd.DataFrame:
    """One day of history: the sample's last day with at least 10 buying clients."""
    buyers = d[d.amount > 0].groupby(d.date.dt.normalize()).client_id.nunique()
    day = buyers[buyers >= 10].index.max()
    return d[d.date.dt.normalize() == day]


def _only_returns(d: pd.DataFrame) -> pd.DataFrame:
    extra = d[d.client_id == d.client_id.iloc[0]].head(3).copy()
    extra["client_id"], extra["client_name"] = "RET-ONLY", "Returns only Ltd"
    extra["amount"] = -extra["amount"].abs()
    extra["order_id"] = "RET-" + extra["order_id"].astype(str)
    return pd.concat([d, extra], ignore_index=True)


def _typo_2031(d: pd.DataFrame) -> pd.DataFrame:
    extra = d.iloc[[len(d) // 2]].copy()
    extra["date"] = pd.Timestamp("2031-01-01")
    extra["order_id"] = "TYPO-1"
    return pd.concat([d, extra], ignore_index=True)


def _shuffled(d: pd.DataFrame) -> pd.DataFrame:
    from salesbook.data.sample import shuffle_managers
    return shuffle_managers(d, seed=1)


#: name -> (what it is, how it is made from the sample, run settings)
SHAPES: dict[str, tuple[str, Callable[[pd.DataFrame], pd.DataFrame], dict]] = {
    "one_day": ("1 day of history", _last_busy_day, {}),
    "one_month": ("1 month of history", _last(1), {}),
    "three_months": ("3 months of history", _last(3), {}),
    "months_23": ("23 months of history", _last(23), {}),
    "months_25": ("25 months of history", _last(25), {}),
    "no_manager": ("no manager column", lambda d: d.drop(columns="manager"), {}),
    "one_manager": ("exactly one manager", lambda d: d.assign(manager="Иванов"), {}),
    "no_category": ("no category column", lambda d: d.drop(columns="category"), {}),
    "no_order_id": ("no order id column", lambda d: d.drop(columns="order_id"), {}),
    "no_quantity": ("no quantity column", lambda d: d.drop(columns="quantity"), {}),
    "no_product": ("no product column", lambda d: d.drop(columns=["product_id", "product_name"]), {}),
    "returns_only_client": ("a client with only returns", _only_returns, {}),
    "typo_2031": ("one line dated 2031-01-01", _typo_2031, {}),
    "ends_early": ("data end two months before as_of", lambda d: d[d.date < "2026-09-01"],
                   {"as_of": "2026-10-31"}),
    "shuffled_managers": ("managers shuffled within each month: no client keeps a manager",
                          lambda d: _shuffled(d), {}),
}


def _plan(rows: list[tuple[str, str, float, str]]) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / "plan.csv"
        pd.DataFrame(rows, columns=["month", "manager", "plan", "currency"]).to_csv(path, index=False)
        return path
    return write


#: plans that must stop a run before any workbook runs, with a one-line error and exit code 2 (README)
PLAN_SHAPES: dict[str, tuple[str, Callable[[Path], Path], str]] = {
    "plan_unknown_manager": ("a plan naming a manager not in the data",
                             _plan([("2026-01", "Петрова Е.С.", 1e6, "RUB"), ("2026-01", "Нетов Н.Н.", 1e6, "RUB")]),
                             "manager(s) not in the data: Нетов Н.Н."),
    "plan_other_currency": ("a plan in another currency",
                            _plan([("2026-01", "Петрова Е.С.", 1e4, "USD")]),
                            "the plan is in USD, the run's amounts are in RUB"),
}


def shape_names(real: bool = True) -> list[str]:
    return (["real_online_retail"] if real else []) + list(SHAPES)


def make_shape(name: str, folder: Path) -> Shape:
    """Write shape ``name`` under ``folder`` and return how to run it."""
    if name == "real_online_retail":
        return Shape(name, REAL, str(REAL_MAPPING), what="the real file: 13 months, no manager, no category")
    what, make, settings = SHAPES[name]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.parquet"
    make(_sample()).reset_index(drop=True).to_parquet(path, index=False)
    return Shape(name, path, what=what, **settings)


class _Text:
    """The visible text of an HTML page (no script, no style; no ``<code>`` with ``code=False``)."""

    def __init__(self, page: str, code: bool = True):
        from html.parser import HTMLParser

        parts: list[str] = []
        hidden = ("script", "style") if code else ("script", "style", "code")

        class Parser(HTMLParser):
            skip = 0

            def handle_starttag(self, tag, attrs):
                if tag in hidden:
                    self.skip += 1

            def handle_endtag(self, tag):
                if tag in hidden and self.skip:
                    self.skip -= 1

            def handle_data(self, data):
                if not self.skip and data.strip():
                    parts.append(data.strip())

        Parser().feed(page)
        self.parts = parts


def visible_text(page: str, code: bool = True) -> list[str]:
    """The text pieces a reader sees on an HTML page (``code=False``: leaving out names typed as code)."""
    return _Text(page, code).parts


#: what must never reach a reader: a missing number, an infinity, a raw message key, a Python repr
BAD_TEXT = re.compile(r"\b(nan|NaN|NaT|inf|-inf|None|<NA>)\b|\b(?:diag|profile|stag|seg|kpi|fc|wi|sum|walk|pace)\.[a-z_]+\.?[a-z_]*\b"
                      r"|<[a-zA-Z_.]+ object at 0x|\bTimestamp\(|\bPeriod\(|dtype[:=]")


def bad_text(folder: Path) -> list[tuple[str, str]]:
    """(page, text) for every piece of visible text on the run's pages that a reader must never see."""
    out = []
    for page in sorted(folder.glob("*.html")):
        for text in visible_text(page.read_text(encoding="utf-8")):
            if BAD_TEXT.search(text.replace("None of the symptoms", "")):
                out.append((page.name, text[:160]))
    return out


# --------------------------------------------------------------------------- one language, one number style

#: abbreviations a Russian page may write in Latin letters (the issue's list, and STL, a method's name)
ACCEPTED = {"ABC", "XYZ", "RFM", "VIP", "NRR", "HHI", "STL", "AUC", "salesbook"}  # AUC: the at-risk backtest's measure, as Russian analysts write it too
#: file names and paths are names, in any language
FILES = re.compile(r"\S*/\S*|\S+\.(?:xlsx|csv|parquet|html|json|ya?ml|ipynb|pdf|js)\b")
LATIN = re.compile(r"[A-Za-z][A-Za-z]+")
CYRILLIC = re.compile(r"[А-Яа-яЁё]{2,}")
#: what a chart shows as text (not colours, modes or the template)
_CHART_TEXT = {"text", "name", "hovertemplate", "ticktext", "texttemplate", "title", "x", "y"}
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][\d:.]+)?$")


def sample_names() -> set[str]:
    """Every word of the sample's names (clients, managers, categories, products): data, in any language."""
    sales = pd.read_parquet(paths.SAMPLE_DIR / "sales.parquet")
    words: set[str] = set()
    for col in ("client_name", "manager", "category", "product_name", "product_id", "client_id"):
        if col in sales:
            for value in sales[col].dropna().astype(str).unique():
                words.update(re.findall(r"\w+", value))
    return words


def _chart_strings(obj, key=None):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k not in ("template", "meta"):
                yield from _chart_strings(v, k)
    elif isinstance(obj, list):
        for v in obj:
            yield from _chart_strings(v, key)
    elif isinstance(obj, str) and key in _CHART_TEXT and not _ISO_TIME.match(obj):  # dates as data, not as shown
        yield re.sub(r"%\{[^}]*\}|<[^>]+>", " ", obj)


def _page_texts(folder: Path) -> dict[str, list[str]]:
    """page -> the text a reader sees on it (visible text without code, and every chart's text)."""
    texts = {p.name: visible_text(p.read_text(encoding="utf-8"), code=False) for p in sorted(folder.glob("*.html"))
             if not p.name.startswith(folder.name)}
    with zipfile.ZipFile(folder / "notebooks.zip") as z:
        for name in z.namelist():
            nb = json.loads(z.read(name))
            page = Path(name).stem + ".html"
            for cell in nb["cells"]:
                for out in cell.get("outputs", []):
                    fig = out.get("data", {}).get("application/vnd.plotly.v1+json")
                    if fig:
                        texts[page].extend(_chart_strings(fig))
    return texts


def _foreign_words(text: str, lang: str, names: set[str]) -> list[str]:
    text = FILES.sub(" ", text)
    if lang == "ru":
        return [w for w in LATIN.findall(text) if w not in ACCEPTED and w not in names]
    return [w for w in CYRILLIC.findall(text) if w not in names]


_EN_DECIMAL = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])")  # 20.6 (not 2026-10-31, not a version 0.1.0)
_RU_DECIMAL = re.compile(r"(?<![\d,])\d+,\d{1,2}(?![\d,])")  # 20,6
_EN_THOUSANDS = re.compile(r"(?<![\d,])[1-9]\d{0,2}(?:,\d{3})+(?![\d,])")  # 0,567 is a Russian decimal
_RU_THOUSANDS = re.compile(r"\d\u00a0\d{3}(?!\d)")




def foreign_words(folder: Path, lang: str, names: set[str]) -> list[tuple[str, list[str]]]:
    """(page, words) of every page of a run with words of the other language (names, files and the
    accepted abbreviations aside), in its visible text and its charts' text."""
    out = []
    for page, texts in _page_texts(folder).items():
        foreign = sorted({w for text in texts for w in _foreign_words(text, lang, names)})
        if foreign:
            out.append((page, foreign[:20]))
    return out


def number_style_errors(folder: Path, lang: str) -> list[tuple[str, str]]:
    """(page, text) of every piece of text on a run's pages with a number in the other language's style."""
    out = []
    for page, texts in _page_texts(folder).items():
        for text in texts:
            text = FILES.sub(" ", text)
            if lang == "ru":  # and a percentage is written with a space before its sign
                bad = _EN_DECIMAL.search(text) or _EN_THOUSANDS.search(text) or re.search(r"\d%", text)
            else:
                bad = _RU_DECIMAL.search(text) or _RU_THOUSANDS.search(text) or re.search(r"\d[ \u00a0]%", text)
            if bad:
                out.append((page, text[:120]))
    return out
