"""What a notebook shows: titles, sentences, tables and charts, escaped and translated.

Client names are data, not markup: every value that goes into a sentence or a
table is HTML-escaped here, and charts carry names only inside plotly's JSON.

Charts are shown with a renderer that sends two representations: plotly's own
mime type (drawn by plotly's JupyterLab renderer, ``jupyterlab-plotly``, in
JupyterLab and in a workshop under Voilà, which loads it from this machine) and
an HTML ``<div>`` without plotly.js, which the report template completes by
embedding plotly.js once per file, so that the HTML report draws every chart
offline. A chart is never a widget when it does not change: a ``FigureWidget``
carries plotly's 5 MB script in its state, and under load Voilà's widget
manager gave up on it after 2 s ("model not found"). The segmentation explorer
redraws one ``FigureWidget`` in place (:func:`update_chart`). The what-if
sliders draw HTML bars (``whatif_views.waterfall_html``): under Voilà, plotly's
in-place edits were now and then lost on the way to the screen.
"""

from __future__ import annotations

import enum
import html
import json
import os
from pathlib import Path
import re
from typing import Any, Iterable

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from salesbook import paths
from salesbook.paths import Section
from salesbook.views import tables
from salesbook.i18n import t
from salesbook.formats import (CURRENCY, DEFAULT_CURRENCY, _MINUS, _SEPARATORS, Lang, check_currency,  # noqa: F401
                      country_name, currency_symbol, escape, fmt_int, fmt_money, fmt_num, fmt_number, fmt_pct,
                      fmt_points, fmt_short, lang_currency, money_header, using_currency, with_currency)

__all__ = ["Book", "Mode", "Lang", "month_ticks", "escape", "fmt_number", "fmt_money", "check_currency", "using_currency",
           "currency_symbol", "with_currency", "money_header", "localise", "money_axis", "pct_axis", "nice_ticks", "fmt_int", "fmt_num", "fmt_pct", "fmt_short",
           "update_chart", "waterfall_chart", "WATERFALL_COLOURS", "PALETTE", "TEMPLATE", "with_template"]

PALETTE = ["#1f4e79", "#c55a11", "#548235", "#7f6000", "#7030a0", "#2e75b6", "#bf9000", "#a5a5a5"]
_HOUSE = dict(colorway=PALETTE, font=dict(family="Segoe UI, Helvetica, Arial, sans-serif", size=13),
              margin=dict(l=60, r=20, t=60, b=50), legend=dict(orientation="h", y=-0.15))


#: the charts' plotly template (its registered name)
TEMPLATE = "plotly_white"


def with_template(fig: go.Figure) -> go.Figure:
    """``fig`` on :data:`TEMPLATE`, put on as plotly puts its default template on every new figure
    (``BaseFigure._initialize_layout_template``, plotly 7.1): the registered template, checked once when plotly
    made it, is not copied and checked again. Assigned the usual way, the check took 20-30 ms a chart, a tenth of
    a run's kernels' CPU; the figure's JSON is the same (tests/test_charts.py)."""
    import plotly.io as pio
    layout = fig.layout
    checking = layout._validate
    layout._validate = False
    try:
        layout.template = pio.templates[TEMPLATE]
    finally:
        layout._validate = checking
    return fig


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
    return money_axis(fig)


def month_ticks(fig: go.Figure, months: Iterable[pd.Timestamp], lang: str = "en", every: tuple[int, ...] = (1, 7)) -> go.Figure:
    """Date-axis ticks with month names in ``lang`` (plotly would print English ones)."""
    from salesbook.i18n import month_labels
    ticks = [m for m in pd.DatetimeIndex(list(months)) if m.month in every and m.day == 1]
    fig.update_xaxes(tickvals=ticks, ticktext=month_labels(ticks, lang))
    return fig


def money_axis(fig: go.Figure, axis: str = "y") -> go.Figure:
    """Mark an axis (``"y"``, ``"x"``, ``"y2"``) of ``fig`` as money: :func:`localise` gives it ticks in the
    language's short style (``1,29 млрд``), the currency in its title, and amounts with the currency in hover."""
    meta = dict(fig.layout.meta) if isinstance(fig.layout.meta, dict) else {}
    meta["money"] = sorted(set(meta.get("money", [])) | {axis})
    return fig.update_layout(meta=meta)


def pct_axis(fig: go.Figure, axis: str = "y") -> go.Figure:
    """Mark an axis whose values are percentages (12.5 for 12.5 %): :func:`localise` writes its ticks and
    hover values as the language writes a percentage (``12,5 %`` / ``12.5%``)."""
    meta = dict(fig.layout.meta) if isinstance(fig.layout.meta, dict) else {}
    meta["pct"] = sorted(set(meta.get("pct", [])) | {axis})
    return fig.update_layout(meta=meta)


def _on_axis(trace: Any, axis: str) -> bool:
    return (getattr(trace, f"{axis[0]}axis", None) or axis[0]) == axis and trace.type != "heatmap"


def _axis_values(fig: go.Figure, axis: str) -> list[float]:
    """Every value drawn on ``axis`` (a waterfall's running totals, a bar's zero base)."""
    letter = axis[0]
    values: list[float] = []
    for tr in fig.data:
        if (getattr(tr, f"{letter}axis", None) or letter) != axis:
            continue
        if tr.type == "bar" and (tr.orientation or "v") != ("h" if letter == "x" else "v"):
            continue  # a bar's money is along its length
        data = getattr(tr, letter, None)
        if data is None or tr.type in ("heatmap",):
            continue
        nums = pd.to_numeric(pd.Series(list(data)), errors="coerce").dropna().astype(float)
        if tr.type == "waterfall":
            measure = list(tr.measure or [])
            total = 0.0
            for i, v in enumerate(nums):
                total = v if (measure[i] if i < len(measure) else "relative") == "absolute" else \
                    (total if (measure[i] if i < len(measure) else "") == "total" else total + v)
                values.append(total)
            values.append(0.0)
        else:
            values.extend(nums.tolist())
            if tr.type == "bar":
                values.append(0.0)
    return values


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[lo, hi]``, about ``count`` steps (1, 2, 2.5 or 5 times a power of ten)."""
    import math
    if not math.isfinite(lo) or not math.isfinite(hi):
        return []
    if hi == lo:
        hi, lo = (hi, 0.0) if hi > 0 else (0.0, lo) if lo < 0 else (1.0, 0.0)
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first, last = math.floor(lo / step), math.ceil(hi / step)
    return [round(i * step, 10) for i in range(first, last + 1)]


_HOVER_VALUE = "%{{{axis}:,.0f}}"


def localise(fig: go.Figure, lang: str = "en") -> go.Figure:
    """Numbers on a chart in the language's style: separators of axes and hover text (plotly's own
    ``separators``), and on axes marked by :func:`money_axis` ticks such as ``1,29 млрд`` / ``1.29 bn``, the
    currency in the axis title and in hover amounts."""
    point, sep = _SEPARATORS[lang]
    fig.update_layout(separators=point + sep)
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    for axis in meta.get("money", []):
        name = f"{axis[0]}axis{axis[1:]}"
        layout_axis = fig.layout[name]
        values = _axis_values(fig, axis)
        if values:
            ticks = nice_ticks(min(values), max(values))
            layout_axis.update(tickmode="array", tickvals=ticks, ticktext=[fmt_short(v, lang) for v in ticks])
        title = layout_axis.title.text if layout_axis.title else None
        symbol = currency_symbol(lang)
        if not title:
            layout_axis.update(title_text=symbol)
        elif not title.endswith(f", {symbol}"):
            layout_axis.update(title_text=money_header(title, lang))
        amount = with_currency(_HOVER_VALUE.format(axis=axis[0]), lang)
        for tr in fig.data:
            if not _on_axis(tr, axis):
                continue
            if tr.hovertemplate:
                tr.hovertemplate = re.sub(r"%\{" + axis[0] + r"(:[^}]*)?\}", lambda m: amount, tr.hovertemplate)
            else:
                other = "y" if axis[0] == "x" else "x"
                label = "%{fullData.name}<br>" if tr.name else ""
                tr.hovertemplate = f"{label}%{{{other}}}: {amount}<extra></extra>"
    suffix = "\u00a0%" if lang == "ru" else "%"
    for axis in meta.get("pct", []):
        fig.layout[f"{axis[0]}axis{axis[1:]}"].update(ticksuffix=suffix)
        for tr in fig.data:
            if _on_axis(tr, axis) and tr.hovertemplate:
                tr.hovertemplate = re.sub(r"%\{" + axis[0] + r"(:[^}]*)?\}", "%{" + axis[0] + ":.1f}" + suffix,
                                          tr.hovertemplate)
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


class Mode(enum.Enum):
    """Where a notebook's output goes: a report (``salesbook run``), a workshop (Voilà), or JupyterLab."""

    REPORT = "report"
    PRESENT = "present"
    LAB = "lab"

    @classmethod
    def of(cls, setup: "paths.Setup | None" = None) -> "Mode":
        """The mode a process was set up in (:func:`salesbook.paths.current`: its runner says so)."""
        setup = setup or paths.current()
        return cls.REPORT if setup.report else cls.PRESENT if setup.present else cls.LAB


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

    def __init__(self, lang: str = "en", currency: str | None = None, mode: Mode | None = None):
        #: the report's language with the currency of its amounts (:class:`~salesbook.formats.Lang`: ``lang``'s
        #: own, or ``currency``); everything this book shows is written in it, and a notebook passes the same
        #: one to the library functions that write sentences. Nothing is set in the process.
        self.lang = Lang(lang, currency)
        self.currency = self.lang.currency
        #: a report, a workshop or JupyterLab: given, else the process's (:meth:`Mode.of`)
        self.mode = mode or Mode.of()
        #: whether this book's output already carries the tables' loader (:meth:`_table_loader`)
        self._loader_sent = False

    def t(self, key: str, **values: Any) -> str:
        return t(key, self.lang, **values)

    def _md(self, text: str) -> None:
        from IPython.display import Markdown
        _display(Markdown(text))

    def title(self, key: str) -> None:
        self._md(f"# {self.t(key)}")

    def section(self, section: "Section | str") -> None:
        """A section heading with its stable anchor (:attr:`Section.anchor <salesbook.paths.Section.anchor>`):
        the bar's contents and the summary's links point at it. ``section``: a member of
        :class:`~salesbook.paths.Section` (or its message key); anything else is a ``ValueError`` here, not a
        broken link on another page."""
        from salesbook.views.pages import anchor
        section = Section(section)
        self._md(f"{anchor(section)}\n\n## {self.t(section)}")

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

    def table(self, df: pd.DataFrame, formats: dict[str, Any] | None = None, index: bool = False,
              money: Iterable[str] | None = None, shares: Iterable[str] | None = None,
              interactive: bool | None = None) -> None:
        """A table with escaped cells and localised numbers, each column written by the kind its table
        declares where it is made, never by the size of its values.

        ``money``: columns of amounts, whose header gets the currency (``Выручка, ₽``) and cells the
        language's separators; default ``df.attrs["money"]`` (none when the table declares none).
        ``shares``: columns of shares (0.05) shown as percentages (``5,0 %``); default ``df.attrs["shares"]``.
        ``formats``: a column's own formatter. Any other column of whole numbers is a count (``1 286``), of
        other numbers a plain number with two decimals (``0,57``).
        ``interactive``: sortable, searchable and paged (:mod:`salesbook.views.tables`); by default when the table
        is longer than a screen.
        """
        from IPython.display import HTML
        _display(HTML(self.table_html(df, formats, index, money, shares, interactive)))

    def _table_loader(self) -> str:
        """In a report, nothing (the page loads the run's one copy of DataTables); elsewhere, the first
        interactive table this book shows carries the loader (which loads once per page whatever the number of
        books: a notebook run again from the top makes a new one, whose output carries it again), and each
        one asks to be enhanced."""
        if self.mode is Mode.REPORT:
            return ""
        first = "" if self._loader_sent else f"<script>{tables.loader_js()}</script>"
        self._loader_sent = True
        return first + "<script>window.salesbookEnhanceTables && window.salesbookEnhanceTables();</script>"

    def table_html(self, df: pd.DataFrame, formats: dict[str, Any] | None = None, index: bool = False,
                   money: Iterable[str] | None = None, shares: Iterable[str] | None = None,
                   interactive: bool | None = None) -> str:
        """The HTML of :meth:`table`."""
        lang = self.lang
        df, formats, text = self._cells(df, formats, money, shares)
        if interactive if interactive is not None else len(df) > tables.MIN_ROWS:
            shown = df.reset_index() if index else df
            more = ""
            if len(shown) > tables.MAX_ROWS:  # a page stays light: the whole list is in the workbook's Excel file
                more = f'<p class="sb-more">{html.escape(self.t("table.first_rows", shown=fmt_int(tables.MAX_ROWS, lang), total=fmt_int(len(shown), lang)))}</p>'
                shown = shown.head(tables.MAX_ROWS)
            return tables.interactive_html(shown, formats, lang, text) + more + self._table_loader()
        styler = df.style.format(formats, escape="html", na_rep="–")
        styler = styler.format_index(escape="html", axis=1)
        if not index:
            styler = styler.hide(axis="index")
        else:
            styler = styler.format_index(escape="html", axis=0)
        if text:
            styler = styler.set_properties(subset=text, **{"text-align": "left"})
        styler = styler.set_table_attributes('class="sb-table"')
        return styler.to_html()

    def _cells(self, df: pd.DataFrame, formats: dict[str, Any] | None, money: Iterable[str] | None,
               shares: Iterable[str] | None) -> tuple[pd.DataFrame, dict[Any, Any], list[Any]]:
        """How :meth:`table_html` writes ``df``'s cells: the frame with money headers (``Выручка, ₽``), each
        column's formatter, and the text columns."""
        lang = self.lang
        formats = dict(formats or {})
        shares = [c for c in (shares if shares is not None else df.attrs.get("shares", [])) if c in df.columns]
        if money is None:
            money = df.attrs.get("money", [])
        money = [c for c in money if c in df.columns]
        for col in shares:
            formats.setdefault(col, lambda v: fmt_pct(v, lang))
        for col in money:
            formats.setdefault(col, lambda v: fmt_money(v, lang, currency=False))
        for col in df.columns:
            if col in formats:
                continue
            if pd.api.types.is_integer_dtype(df[col]):
                formats[col] = lambda v: fmt_int(v, lang)
            elif pd.api.types.is_float_dtype(df[col]):
                formats[col] = lambda v: fmt_num(v, lang, 2)
        headers = {c: money_header(str(c), lang) for c in money}
        if headers:
            df = df.rename(columns=headers)
            formats = {headers.get(c, c): f for c, f in formats.items()}
        return df, formats, [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]

    def table_parts(self, df: pd.DataFrame, formats: dict[str, Any] | None = None,
                    money: Iterable[str] | None = None, shares: Iterable[str] | None = None) -> tuple[str, list[str]]:
        """A plain table of ``df`` in parts: its head and one ``<tr>`` per row, each cell as :meth:`table_html`
        writes it (escaped, localised, money headers with the currency). For many small tables cut from one
        long frame (a manager's pack each: :func:`salesbook.views.tables.plain_table` joins a head and some
        rows), every cell is formatted once; money columns not named are those the whole frame declares."""
        df, formats, text = self._cells(df, formats, money, shares)
        return tables.plain_parts(df, formats, text)

    def style(self, fig: go.Figure) -> go.Figure:
        """The house style of every chart, its numbers in the book's language (:func:`localise`)."""
        return localise(with_template(fig).update_layout(**_HOUSE), self.lang)

    def chart(self, fig: go.Figure) -> None:
        """A chart: plotly's mime type for JupyterLab and Voilà, an HTML div for reports (:func:`_bundle`)."""
        _display(_Chart(self.style(fig)))

    def live_chart(self, fig: go.Figure) -> go.FigureWidget:
        """A chart that sliders redraw in place (see :func:`update_chart`); the caller displays it."""
        return go.FigureWidget(self.style(fig))

    def links(self, files: Iterable["os.PathLike | str"]) -> None:
        """Links to exported files: relative in a report or a workshop, absolute in JupyterLab."""
        from IPython.display import HTML
        items = []
        for f in files:
            path = Path(f)
            if self.mode is Mode.REPORT:
                href = f"{path.parent.name}/{path.name}"  # next to the report, wherever the run folder moves
            elif self.mode is Mode.PRESENT:
                href = f"../files/{path.parent.name}/{path.name}"  # Voilà's file handler, from /voila/render/
            else:
                href = path.as_uri()
            items.append(f'<li><a href="{html.escape(href, quote=True)}">{html.escape(path.name)}</a></li>')
        _display(HTML("<ul>" + "".join(items) + "</ul>"))

    def months(self, values: Iterable[pd.Timestamp]) -> list[str]:
        from salesbook.i18n import month_labels
        return month_labels(values, self.lang)
