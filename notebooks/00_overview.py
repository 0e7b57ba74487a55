# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown] tags=["report-hide"]
# # Overview / Обзор
#
# What was loaded and how sales move. Run the cells top to bottom; change the parameters in the next cell.

# %% jupyter={"source_hidden": true} tags=["parameters"]
source: str = "sample"  # sales file (CSV, XLSX, Parquet) or sample; relative paths start at the project root
mapping: str = ""  # column mapping: YAML file or preset 1c; empty for canonical column names
as_of: str = ""  # analysis date, ISO yyyy-mm-dd; empty for the last date in the data
lang: str = ""  # report language: en or ru; empty: the language of the data's own names
currency: str = ""  # ISO 4217 code of the amounts (RUB, USD, GBP, ...); empty: the mapping's, else RUB
examples: int = 5  # example line numbers shown per reason a line was set aside (0 to 5)

# %% jupyter={"source_hidden": true}
import salesbook as sb

cube = sb.get_cube(source, mapping or None, as_of or None)
# the report's language (Russian names, a Russian workbook), carrying the currency of its amounts: passed to
# every function that writes a sentence, a table or a chart
lang = sb.Lang(lang or sb.data_language(cube), currency or sb.currency_of(mapping))
nb = sb.Book(lang)
from salesbook.views import overview as ov

nb.title("nb.00.title")

# %% jupyter={"source_hidden": true}
profile = cube.profile
nb.section(sb.Section.PROFILE)
for sentence in profile.sentences(lang):
    nb.say_text(sentence)

# %% jupyter={"source_hidden": true}
r = cube.report
nb.section(sb.Section.LOADED)
nb.say("overview.loaded_text", read=nb.int(r.rows_read), source=sb.paths.source_name(r.source), kept=nb.int(r.rows_kept),
       dropped=nb.int(r.rows_dropped))
if r.detected(lang):  # encoding, delimiter, decimal mark, date format, sheet, amount rules, guessed columns
    nb.say("readers.detected", what="; ".join(r.detected(lang)))
if r.lines:
    nb.table(r.to_frame(lang, examples))
else:
    nb.say("overview.no_drops")

# %% jupyter={"source_hidden": true}
nb.section(sb.Section.KPIS)
nb.table(ov.key_figures(cube, lang))

# %% jupyter={"source_hidden": true}
monthly = ov.monthly_turnover(cube)
last12, prev12 = ov.window_totals(cube)
nb.section(sb.Section.MONTHLY)
if prev12:
    nb.say("overview.monthly_text", last12=nb.money(last12), prev12=nb.money(prev12),
           change=nb.pct(last12 / prev12 - 1, signed=True))
else:
    nb.say("overview.no_comparison", last12=nb.money(last12))
    nb.say_text(profile.lacks("bridge", lang) or "")
nb.chart(ov.monthly_chart(monthly, lang))

# %% jupyter={"source_hidden": true}
nb.section(sb.Section.BY_YEAR)
nb.table(ov.yearly_view(ov.yearly_turnover(cube), lang))
