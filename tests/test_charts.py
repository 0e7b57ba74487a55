"""The charts' template, put on as plotly puts its default: the same figure as plotly's checked assignment."""

import json

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from salesbook.views.display import TEMPLATE, Book, with_template

FIGURES = {
    "bar": lambda: go.Figure(go.Bar(x=["a", "b"], y=[1, 2]), layout=dict(title="t", legend=dict(x=0.5))),
    "lines": lambda: go.Figure([go.Scatter(x=[1, 2], y=[3, 4], mode="lines"), go.Scatter(x=[1, 2], y=[4, 3])]),
    "heatmap": lambda: go.Figure(go.Heatmap(z=[[1, 2], [3, 4]], texttemplate="%{z}")),
    "waterfall": lambda: go.Figure(go.Waterfall(x=["a", "b", "c"], y=[10, -3, 7], measure=["absolute", "relative",
                                                                                          "total"])),
}


@pytest.mark.parametrize("kind", list(FIGURES))
def test_the_template_put_on_unchecked_gives_the_figure_plotlys_checked_assignment_gives(kind):
    checked = FIGURES[kind]().update_layout(template=TEMPLATE)
    fast = with_template(FIGURES[kind]())
    assert json.loads(fast.to_json()) == json.loads(checked.to_json())
    assert fast.layout.template.layout.plot_bgcolor == "white"  # plotly_white's, not plotly's default
    assert fast.layout._validate  # checking is back on for what the caller sets next
    with pytest.raises(ValueError):
        fast.update_layout(height="tall")


def test_styling_charts_leaves_the_registered_template_as_it_was():
    before = pio.templates[TEMPLATE].to_plotly_json()
    book = Book.__new__(Book)
    book.lang = "en"
    for make in FIGURES.values():
        fig = book.style(make())
        fig.update_layout(legend=dict(orientation="v"), font=dict(size=9), margin=dict(l=1))
    assert pio.templates[TEMPLATE].to_plotly_json() == before
