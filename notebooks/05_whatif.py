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
# # What if / Что если
#
# The levers of account management and their 12-month effect, calibrated on the company's own numbers. Move the sliders: the verdict, the waterfall and the effect by category beside them follow.

# %% jupyter={"source_hidden": true} tags=["parameters"]
source: str = "sample"  # sales file (CSV, XLSX, Parquet) or sample; relative paths start at the project root
mapping: str = ""  # column mapping: YAML file or preset 1c; empty for canonical column names
as_of: str = ""  # analysis date, ISO yyyy-mm-dd; empty for the last date in the data
lang: str = ""  # report language: en or ru; empty: the language of the data's own names
currency: str = ""  # ISO 4217 code of the amounts (RUB, USD, GBP, ...); empty: the mapping's, else RUB
settings: str = ""  # the run's settings file (JSON; salesbook run writes it); empty: the defaults and this cell
reactivate: float = 0.1  # share of the sleeping clients won back
frequency: float = 0.05  # purchase frequency of repeat buyers, relative rise
deal_size: float = 0.05  # average deal of repeat buyers, relative rise
categories: float = 0.2  # more categories per active client
retain: float = 0.2  # share of last year's lost revenue kept
hunters: int = 3  # managers moved to hunting new clients only
hunter_rate: float = -1.0  # new clients a month per hunter; negative for the rate calibrated on the data
ramp_months: int = 3  # months before a hunter reaches that rate
handover: str = "deals:2"  # when a hunter hands a client to an account manager: deals:N, months:N or amount:X
overflow_loss: float = 0.3  # yearly revenue lost on clients beyond the account managers' capacity
projection_months: int = 36  # months of the projection
interactive: bool = True  # show the sliders in JupyterLab (never in a report)

# %% jupyter={"source_hidden": true}
import salesbook as sb

cube = sb.get_cube(source, mapping or None, as_of or None)
# the report's language (Russian names, a Russian workbook), carrying the currency of its amounts: passed to
# every function that writes a sentence, a table or a chart
lang = sb.Lang(lang or sb.data_language(cube), currency or sb.currency_of(mapping))
nb = sb.Book(lang)
import pandas as pd
from salesbook.analysis import whatif as wi
from salesbook.views import whatif_views as wv

from salesbook.analysis import settings as rs

run_settings = rs.for_notebook(sb.Workbook.WHATIF, globals(), settings)  # this cell on the run's settings
seg_settings = run_settings.segmentation  # the run's categories and call lists, as workbook 01 draws them
cal = wi.calibrate(cube, seg_settings.max_months_asleep, seg_settings.rules)
levers = wi.Levers(reactivate, frequency, deal_size, categories, retain)
result = wi.simulate(cal, levers)
nb.title("nb.05.title")

# %% jupyter={"source_hidden": true}
explore = interactive and not sb.in_report()  # JupyterLab and the workshop: sliders beside the chart
if explore:  # the sliders redraw the verdict, the waterfall and the effect by category
    nb.section(sb.Section.WHATIF_EXPLORER)
    wv.levers_explorer(cal, levers, lang)
else:
    nb.say_text(wv.result_sentence(result, lang, cal.as_of))
    nb.section(sb.Section.WHATIF_SETTINGS)
    nb.table(wv.levers_table(cal, levers, lang))
    nb.chart(wv.waterfall(result, lang))
    nb.section(sb.Section.WHATIF_BY_CATEGORY)
    nb.table(wv.category_table(result, lang))
nb.section(sb.Section.CALIBRATION)
nb.table(wv.calibration_table(cal, lang))

# %% jupyter={"source_hidden": true}
nb.section(sb.Section.REORGANISATION)
why = wv.reorg_lacks_sentence(cube, hunters, lang)
if why:
    nb.say_text(why)
else:
    org = wi.calibrate_org(cube)
    start = cube.as_of.to_period("M").to_timestamp() + pd.offsets.MonthBegin(1)
    rate = None if hunter_rate < 0 else hunter_rate
    if explore:  # the slider redraws the sentence, the yearly figures and the assumptions
        wv.hunters_explorer(org, hunters, rate, ramp_months, projection_months, overflow_loss, start, lang, handover)
    else:
        proj = wi.project(org, hunters, rate, ramp_months, projection_months, overflow_loss, start, handover)
        nb.say_text(wv.reorg_sentence(proj, hunters, lang))
        nb.chart(wv.projection_chart(proj, lang))
        nb.table(wv.assumptions_table(org, hunters, hunter_rate, ramp_months, overflow_loss, lang, handover))
