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
# # Forecast / Прогноз
#
# The weighted pipeline of target clients against a baseline from history and the plan.

# %% jupyter={"source_hidden": true} tags=["parameters"]
source: str = "sample"  # sales file (CSV, XLSX, Parquet) or sample; relative paths start at the project root
mapping: str = ""  # column mapping: YAML file or preset 1c; empty for canonical column names
as_of: str = ""  # analysis date, ISO yyyy-mm-dd; empty for the last date in the data
lang: str = ""  # report language: en or ru; empty: the language of the data's own names
currency: str = ""  # ISO 4217 code of the amounts (RUB, USD, GBP, ...); empty: the mapping's, else RUB
settings: str = ""  # the run's settings file (JSON; salesbook run writes it); empty: the defaults and this cell
pipeline: str = ""  # pipeline file (CSV/XLSX): client_id, manager, amount, expected_month, stage; empty: none (the sample's own with the sample)
plan: str = ""  # plan file (month, plan); empty for none
p30: float = 0.3  # probability of stage 30: calculation sent
p50: float = 0.5  # probability of stage 50: the offer suits the client
p70: float = 0.7  # probability of stage 70: agreed with the decision maker
p90: float = 0.9  # probability of stage 90: order date known
p100: float = 1.0  # probability of stage 100: invoice issued
horizon_months: int = 6  # months of the baseline forecast
spontaneous: str = "C"  # periodic buyers routed to the assistant, not the forecast: an ABC class (C), an amount of 12-month revenue, or empty for none

# %% jupyter={"source_hidden": true}
import salesbook as sb

cube = sb.get_cube(source, mapping or None, as_of or None)
# the report's language (Russian names, a Russian workbook), carrying the currency of its amounts: passed to
# every function that writes a sentence, a table or a chart
lang = sb.Lang(lang or sb.data_language(cube), currency or sb.currency_of(mapping))
nb = sb.Book(lang)
from salesbook.analysis import forecast as fc, segments as sg
from salesbook.views import forecast_views as fv
from salesbook.views.display import fmt_money

from salesbook.analysis import settings as rs

run_settings = rs.for_notebook(sb.Workbook.FORECAST, globals(), settings)  # this cell on the run's settings
probabilities = run_settings.forecast.probabilities
classes = sg.classify_clients(cube, cube.as_of, run_settings.segmentation.rules, lang=lang)  # the run's categories
deals = fc.run_deals(pipeline, source, classes, cube.as_of, probabilities, spontaneous)  # None: the run has no pipeline
base = fc.baseline(cube, horizon_months)
plan_series = fc.load_plan(plan) if plan else None
nb.title("nb.04.title")

# %% jupyter={"source_hidden": true}
nb.section(sb.Section.PIPELINE)
if deals is None:
    nb.say("fc.no_pipeline")
    deals = fc.no_deals()
else:
    live = deals[deals.target & ~deals.stale]
    nb.say("fc.pipeline_text", deals=nb.int(len(deals)), target=nb.int(deals.target.sum()),
           weighted=fmt_money(live.weighted.sum(), lang), stale=nb.int(deals.stale.sum()),
           outside=nb.int((~deals.target).sum()))
rates = deals.attrs.get("win_rates")
nb.section(sb.Section.WIN_RATES)
if rates is not None and rates.closed.sum():
    nb.say("fc.win_rates_text", closed=nb.int(rates.closed.sum()))
    nb.table(fv.win_rates_view(rates, lang))
else:
    nb.say("fc.win_rates_none")
nb.section(sb.Section.FORECAST_BY_MONTH)
if base is None:
    nb.say("fc.no_baseline", months=cube.profile.n_full)
if base is not None or len(deals):
    by_month = fc.forecast_table(deals, "month")
    nb.table(fv.month_table(by_month, base, plan_series, lang))
    nb.chart(fv.month_chart(by_month, base, plan_series, lang))
if base is not None:
    nb.say_text(fv.backtest_sentence(cube, lang))

# %% jupyter={"source_hidden": true}
if len(deals):
    nb.section(sb.Section.FORECAST_BY_MANAGER)
    nb.table(fv.group_table(fc.forecast_table(deals, "manager"), "col.manager", lang))
    nb.section(sb.Section.FORECAST_BY_CATEGORY)
    nb.table(fv.group_table(fc.forecast_table(deals, "category"), "col.category", lang, categories=True))
    nb.section(sb.Section.FORECAST_FLAGS)
    nb.table(fv.flags_table(deals, lang))

# %% jupyter={"source_hidden": true}
assistant = fc.assistant_clients(classes, horizon_months, spontaneous)
nb.section(sb.Section.ASSISTANT)
if len(assistant):
    nb.say("fc.assistant_text", clients=nb.int(len(assistant)), as_of=cube.as_of.date(),
           which=fv.assistant_which(assistant, spontaneous, lang),
           expected=nb.money(assistant.expected.sum()), horizon=horizon_months)
    if cube.profile.has_manager:  # one row of "—" says nothing
        nb.table(fv.assistant_view(assistant, lang, by_manager=True))
    nb.table(fv.assistant_view(assistant, lang))
else:
    nb.say("fc.no_assistant", as_of=cube.as_of.date())
