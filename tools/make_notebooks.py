"""Write the workbooks' .ipynb files from the cell lists below (outputs never committed).

Run `python tools/make_notebooks.py` after editing; the notebooks are the artefact users open.
"""

from pathlib import Path

import nbformat as nbf

ROOT = Path(__file__).resolve().parents[1]


def md(text, tags=()):
    c = nbf.v4.new_markdown_cell(text)
    if tags:
        c.metadata["tags"] = list(tags)
    return c


def code(text, tags=()):
    c = nbf.v4.new_code_cell(text)
    if tags:
        c.metadata["tags"] = list(tags)
    return c


PARAMS_COMMON = '''source: str = "sample"  # sales file (CSV, XLSX, Parquet) or sample; relative paths start at the project root
mapping: str = ""  # column mapping: YAML file or preset 1c; empty for canonical column names
as_of: str = ""  # analysis date, ISO yyyy-mm-dd; empty for the last date in the data
lang: str = "en"  # report language: en or ru'''

SETUP = '''import salesbook as sb

nb = sb.Book(lang)
cube = sb.get_cube(source, mapping or None, as_of or None)'''

NOTEBOOKS = {
    "00_overview": [
        md("# Overview / Обзор\n\nWhat was loaded and how sales move. Run the cells top to bottom; "
           "change the parameters in the next cell.", tags=["report-hide"]),
        code(PARAMS_COMMON + '''
examples: int = 5  # example line numbers shown per reason a line was set aside (0 to 5)''', tags=["parameters"]),
        code(SETUP + '''
from salesbook import overview as ov

nb.title("nb.00.title")'''),
        code('''r = cube.report
nb.section("overview.loaded")
nb.say("overview.loaded_text", read=f"{r.rows_read:,}", source=r.source, kept=f"{r.rows_kept:,}",
       dropped=f"{r.rows_dropped:,}")
if r.lines:
    nb.table(r.to_frame(lang, examples))
else:
    nb.say("overview.no_drops")'''),
        code('''nb.section("overview.kpis")
nb.table(ov.key_figures(cube, lang))'''),
        code('''monthly = ov.monthly_turnover(cube)
last12, prev12 = ov.window_totals(cube)
nb.section("overview.monthly")
nb.say("overview.monthly_text", last12=sb.display.fmt_money(last12, lang), prev12=sb.display.fmt_money(prev12, lang),
       change=sb.display.fmt_pct(last12 / prev12 - 1, lang, signed=True) if prev12 else "–")
partial = ov.partial_last_month(cube)
if partial:
    nb.say("overview.partial_month", month=nb.months([partial[0]])[0], day=partial[1])
nb.chart(ov.monthly_chart(monthly, lang))'''),
        code('''yearly = ov.yearly_turnover(cube).rename(columns={"year": nb.t("col.year"), "revenue": nb.t("col.revenue"),
                                                    "clients": nb.t("col.clients")})
nb.section("overview.by_year")
nb.table(yearly.drop(columns="months"), formats={nb.t("col.year"): str})'''),
    ],
}


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        book = nbf.v4.new_notebook()
        book.cells = cells
        book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        book.metadata["language_info"] = {"name": "python"}
        nbf.validate(book)
        nbf.write(book, ROOT / "notebooks" / f"{name}.ipynb")


if __name__ == "__main__":
    main()
