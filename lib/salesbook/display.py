"""What a notebook shows: titles, sentences, tables and charts, escaped and translated.

Client names are data, not markup: every value that goes into a sentence or a
table is HTML-escaped here, and charts carry names only inside plotly's JSON.

Charts are shown with a renderer that sends two representations: plotly's own
mime type (interactive in JupyterLab) and an HTML ``<div>`` without plotly.js,
which the report template completes by embedding plotly.js once per file, so
that the HTML report draws every chart offline. When presenting (Voilà) charts
are plotly's ``FigureWidget`` instead (Voilà has no JupyterLab plotly extension),
and the segmentation explorer redraws one in place (:func:`update_chart`). The
what-if sliders draw HTML bars (``whatif_views.waterfall_html``): under Voilà,
plotly's in-place edits were now and then lost on the way to the screen.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
import re
from typing import Any, Iterable

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from .i18n import t

__all__ = ["Book", "month_ticks", "escape", "fmt_money", "fmt_int", "fmt_num", "fmt_pct", "fmt_short", "presenting",
           "update_chart", "waterfall_chart", "WATERFALL_COLOURS", "PALETTE"]

PALETTE = ["#1f4e79", "#c55a11", "#548235", "#7f6000", "#7030a0", "#2e75b6", "#bf9000", "#a5a5a5"]
_HOUSE = dict(colorway=PALETTE, font=dict(family="Segoe UI, Helvetica, Arial, sans-serif", size=13),
              margin=dict(l=60, r=20, t=60, b=50), legend=dict(orientation="h", y=-0.15))
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def escape(value: Any) -> str:
    """A value as inert text inside Markdown or HTML."""
    # quotes stay as they are: this is text, never an attribute (an escaped apostrophe showed as &#x27;)
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(value), quote=False))


def fmt_money(x: float, lang: str = "en", decimals: int = 0) -> str:
    if x is None or pd.isna(x):
        return "–"
    sep = "\u00a0" if lang == "ru" else ","
    text = f"{abs(x):,.{decimals}f}".replace(",", "\uffff")
    text = text.replace(".", "," if lang == "ru" else ".").replace("\uffff", sep)
    return ("−" if x < 0 else "") + text


_SHORT = {"en": ((1e9, "B"), (1e6, "M"), (1e3, "k")), "ru": ((1e9, "\u00a0млрд"), (1e6, "\u00a0млн"), (1e3, "\u00a0тыс."))}


def fmt_short(x: float, lang: str = "en") -> str:
    """A money amount in three significant digits for chart labels: 1.29B, 124M; 1,29 млрд in Russian.

    The same letters as plotly's axis ticks (B, not d3's G).
    """
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
    return ("−" if x < 0 else "") + text + suffix


#: bar colours of every waterfall: totals, rises, falls
WATERFALL_COLOURS = {"total": "#1f4e79", "up": "#548235", "down": "#c00000"}


def waterfall_chart(labels: list[str], values: list[float], title: str, lang: str = "en",
                    connector: str | None = None) -> go.Figure:
    """A start total, relative steps and an end total, labelled like the axis (1.29B)."""
    extra = {"connector": dict(line=dict(color=connector))} if connector else {}
    fig = go.Figure(go.Waterfall(x=labels, y=values, measure=["absolute"] + ["relative"] * (len(values) - 2) + ["total"],
                                 text=[fmt_short(v, lang) for v in values],
                                 increasing=dict(marker=dict(color=WATERFALL_COLOURS["up"])),
                                 decreasing=dict(marker=dict(color=WATERFALL_COLOURS["down"])),
                                 totals=dict(marker=dict(color=WATERFALL_COLOURS["total"])), **extra))
    fig.update_layout(title=title, showlegend=False, yaxis=dict(title=t("col.revenue", lang)))
    return fig


def fmt_int(x: float, lang: str = "en") -> str:
    return fmt_money(x, lang, 0)


def fmt_num(x: float, lang: str = "en", decimals: int = 2) -> str:
    """A plain number (a statistic, a ratio) in the language's style: 0.57 / 0,57."""
    return fmt_money(x, lang, decimals)


def fmt_pct(x: float, lang: str = "en", decimals: int = 1, signed: bool = False) -> str:
    if x is None or pd.isna(x):
        return "–"
    text = f"{x * 100:{'+' if signed else ''}.{decimals}f}"
    if lang == "ru":
        text = text.replace(".", ",")
    return text.replace("-", "−") + "\u00a0%"


def month_ticks(fig: go.Figure, months: Iterable[pd.Timestamp], lang: str = "en", every: tuple[int, ...] = (1, 7)) -> go.Figure:
    """Date-axis ticks with month names in ``lang`` (plotly would print English ones)."""
    from .i18n import month_names
    names = month_names(lang)
    ticks = [m for m in pd.DatetimeIndex(list(months)) if m.month in every and m.day == 1]
    fig.update_xaxes(tickvals=ticks, ticktext=[f"{names[m.month - 1]} {m.year}" for m in ticks])
    return fig


def _bundle(fig: go.Figure) -> dict:
    """plotly's mime type for JupyterLab plus an HTML div for reports (plotly.js added by the template)."""
    div = pio.to_html(fig, include_plotlyjs=False, full_html=False,
                      config={"displaylogo": False, "responsive": True})
    return {"application/vnd.plotly.v1+json": json.loads(pio.to_json(fig, validate=False, remove_uids=False)),
            "text/html": div}


class _Chart:
    """A figure shown with the salesbook bundle directly, not through ``fig.show()``: plotly's renderers
    import nbformat and, through jsonschema, a grammar that takes 2-4 s to build in every kernel."""

    def __init__(self, fig: go.Figure):
        self.fig = fig

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        return _bundle(self.fig)


def presenting() -> bool:
    """True in a workshop (``salesbook present``: Voilà), where charts are plotly widgets."""
    return os.environ.get("SALESBOOK_PRESENT") == "1"


def update_chart(live: go.FigureWidget, fig: go.Figure) -> None:
    """Redraw a live chart with a new figure's traces and layout, in one message to the browser."""
    fig.update_layout(**_HOUSE)  # the template is on the live chart already (and costly to copy)
    same = len(live.data) == len(fig.data) and all(a.type == b.type for a, b in zip(live.data, fig.data))
    if not same:
        live.data = []
        live.add_traces(list(fig.data))
    with live.batch_update():
        if same:
            for old, new in zip(live.data, fig.data):
                old.update(new.to_plotly_json(), overwrite=True)
        layout = fig.layout.to_plotly_json()
        layout.pop("template", None)  # plotly's default, put on every new figure: keep the live chart's
        live.layout.update(layout, overwrite=True)


def _display(obj: Any) -> None:
    from IPython.display import display
    display(obj)


class Book:
    """A notebook's voice: everything it shows goes through here, in one language.

    >>> nb = Book("ru")            # doctest: +SKIP
    >>> nb.title("nb.00.title")    # doctest: +SKIP
    """

    def __init__(self, lang: str = "en"):
        t("col.month", lang)  # validates lang
        self.lang = lang

    def t(self, key: str, **values: Any) -> str:
        return t(key, self.lang, **values)

    def _md(self, text: str) -> None:
        from IPython.display import Markdown
        _display(Markdown(text))

    def title(self, key: str) -> None:
        self._md(f"# {self.t(key)}")

    def section(self, key: str) -> None:
        self._md(f"## {self.t(key)}")

    def say(self, key: str, **values: Any) -> None:
        """A sentence from the catalogue; every value is escaped (client names are data)."""
        self._md(self.t(key, **{k: escape(v) for k, v in values.items()}))

    def say_text(self, text: str | None) -> None:
        """A sentence already in the report language (from a library function); escaped. Nothing for none."""
        if text:
            self._md(escape(text))

    def money(self, x: float) -> str:
        """An amount in the book's number style."""
        return fmt_money(x, self.lang)

    def int(self, x: float) -> str:
        """A count in the book's number style (1 286 082 in Russian, 1,286,082 in English)."""
        return fmt_int(x, self.lang)

    def pct(self, x: float, signed: bool = False) -> str:
        """A share as a percentage in the book's number style."""
        return fmt_pct(x, self.lang, signed=signed)

    def say_markdown(self, text: str) -> None:
        """Markdown built by a library function that escaped its own values (e.g. a memo)."""
        self._md(text)

    def table(self, df: pd.DataFrame, formats: dict[str, Any] | None = None, index: bool = False) -> None:
        """A table with escaped cells and localised numbers."""
        from IPython.display import HTML
        formats = dict(formats or {})
        for col in df.columns:
            if col in formats:
                continue
            if pd.api.types.is_integer_dtype(df[col]):
                formats[col] = lambda v, lang=self.lang: fmt_int(v, lang)
            elif pd.api.types.is_float_dtype(df[col]):
                big = df[col].abs().max() >= 1000 if len(df) else False
                formats[col] = lambda v, lang=self.lang, d=0 if big else 2: fmt_money(v, lang, d)
        styler = df.style.format(formats, escape="html", na_rep="–")
        styler = styler.format_index(escape="html", axis=1)
        if not index:
            styler = styler.hide(axis="index")
        else:
            styler = styler.format_index(escape="html", axis=0)
        text = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
        if text:
            styler = styler.set_properties(subset=text, **{"text-align": "left"})
        styler = styler.set_table_attributes('class="sb-table"')
        _display(HTML(styler.to_html()))

    @staticmethod
    def style(fig: go.Figure) -> go.Figure:
        """The house style of every chart."""
        return fig.update_layout(template="plotly_white", **_HOUSE)

    def chart(self, fig: go.Figure) -> None:
        """A chart: plotly's renderer in JupyterLab and reports, a plotly widget when presenting."""
        self.style(fig)
        if presenting():
            _display(go.FigureWidget(fig))
            return
        _display(_Chart(fig))

    def live_chart(self, fig: go.Figure) -> go.FigureWidget:
        """A chart that sliders redraw in place (see :func:`update_chart`); the caller displays it."""
        return go.FigureWidget(self.style(fig))

    def links(self, files: Iterable["os.PathLike | str"]) -> None:
        """Links to exported files: relative in a report or a workshop, absolute in JupyterLab."""
        from IPython.display import HTML
        items = []
        for f in files:
            path = Path(f)
            if os.environ.get("SALESBOOK_REPORT") == "1":
                href = f"{path.parent.name}/{path.name}"  # next to the report, wherever the run folder moves
            elif presenting():
                href = f"../files/{path.parent.name}/{path.name}"  # Voilà's file handler, from /voila/render/
            else:
                href = path.as_uri()
            items.append(f'<li><a href="{html.escape(href, quote=True)}">{html.escape(path.name)}</a></li>')
        _display(HTML("<ul>" + "".join(items) + "</ul>"))

    def months(self, values: Iterable[pd.Timestamp]) -> list[str]:
        from .i18n import month_names
        names = month_names(self.lang)
        return [f"{names[v.month - 1]} {v.year}" for v in values]
