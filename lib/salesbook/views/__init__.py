"""Stage 4, the views: what a workbook shows, in the run's language and number style.

Enters: the analyses' tables and figures. Leaves: escaped, translated tables (sortable offline),
plotly charts with localised axes and hover, the Excel and CSV exports, the widgets of the explorer,
the page furniture (:mod:`~salesbook.views.pages`) and :class:`~salesbook.views.display.Book`, through
which a notebook says, shows and links.

Imports from: the foundation, :mod:`salesbook.cube` and :mod:`salesbook.analysis`; never from run.
"""
