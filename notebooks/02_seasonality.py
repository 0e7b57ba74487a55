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
# # Seasonality / Сезонность
#
# Seasonal indices, the seasonally adjusted trend, seasonality by category and segment, weekdays and working days.

# %% jupyter={"source_hidden": true} tags=["parameters"]
source: str = "sample"  # sales file (CSV, XLSX, Parquet) or sample; relative paths start at the project root
mapping: str = ""  # column mapping: YAML file or preset 1c; empty for canonical column names
as_of: str = ""  # analysis date, ISO yyyy-mm-dd; empty for the last date in the data
lang: str = ""  # report language: en or ru; empty: the language of the data's own names
currency: str = ""  # ISO 4217 code of the amounts (RUB, USD, GBP, ...); empty: the mapping's, else RUB
settings: str = ""  # the run's settings file (JSON; salesbook run writes it); empty: the defaults and this cell
trend_months: int = 36  # months of the adjusted series the trend line is fitted on
stl: bool = True  # also estimate the indices with STL (needs two full years)
min_share: float = 0.02  # segments below this share of revenue get no profile of their own
country: str = "RU"  # public-holiday calendar for working days (ISO country code)
extra_holidays: str = ""  # more days off, comma-separated ISO dates (company shutdowns)
extra_workdays: str = ""  # more working days, comma-separated ISO dates

# %% jupyter={"source_hidden": true}
import salesbook as sb

cube = sb.get_cube(source, mapping or None, as_of or None)
# the report's language (Russian names, a Russian workbook), carrying the currency of its amounts: passed to
# every function that writes a sentence, a table or a chart
lang = sb.Lang(lang or sb.data_language(cube), currency or sb.currency_of(mapping))
nb = sb.Book(lang)
import pandas as pd
from salesbook.analysis import seasonality as se, segments as sg
from salesbook.views import season_views as sv
from salesbook.views.display import fmt_pct

y, partial = se.company_series(cube)
profile = se.seasonal_profile(se.complete_series(cube), stl=stl, min_months=cube.profile.evidence.season_months)
nb.title("nb.02.title")

# %% jupyter={"source_hidden": true}
nb.section(sb.Section.SEASON_PROFILE)
if partial is not None:
    nb.say("season.partial", month=nb.months([partial])[0], day=pd.Timestamp(cube.report.last_date).day)
nb.say_text(se.profile_sentence(profile, lang))
if profile.enough:
    nb.say("season.profile_text")
    nb.chart(sv.profile_chart(profile, lang))

# %% jupyter={"source_hidden": true}
nb.section(sb.Section.SEASON_HEATMAP)
nb.chart(sv.heatmap_chart(se.year_month_table(y), lang))
yoy = se.yoy_table(se.complete_series(cube))
if cube.profile.lacks("yoy") is None and len(yoy):
    nb.chart(sv.yoy_chart(yoy, lang))
else:
    nb.say_text(cube.profile.lacks("yoy", lang))

# %% jupyter={"source_hidden": true}
if profile.enough and not cube.profile.lacks("trend"):
    sa = se.adjusted_series(se.complete_series(cube), profile)
    fit = se.trend_fit(sa, trend_months)
    nb.section(sb.Section.SEASON_ADJUSTED)
    nb.say("season.adjusted_text", slope=fmt_pct(fit["slope_per_year"], lang, signed=True), months=fit["months"],
           low=fmt_pct(fit["low"], lang, signed=True), high=fmt_pct(fit["high"], lang, signed=True))
    nb.chart(sv.adjusted_chart(y, sa, fit, partial, lang))

# %% jupyter={"source_hidden": true}
exclude = [partial] if partial is not None else []
if profile.enough:
    by_cat = se.segment_profiles(se.category_series(cube, y.index), exclude, min_share)
    if len(by_cat):
        nb.section(sb.Section.SEASON_BY_CATEGORY)
        nb.chart(sv.profiles_heatmap(by_cat, lang, sb.Section.SEASON_BY_CATEGORY))
    seg = sg.segment(cube, cube.as_of, lang=lang)
    by_seg = se.segment_profiles(se.monthly_by(cube, seg.classes.category), exclude, min_share)
    if len(by_seg):
        nb.section(sb.Section.SEASON_BY_SEGMENT)
        nb.chart(sv.profiles_heatmap(by_seg, lang, sb.Section.SEASON_BY_SEGMENT, {c: nb.t(f"cat.{c}") for c in by_seg.index}))
    by_abc = se.segment_profiles(se.monthly_by(cube, seg.abc.abc[seg.abc.abc != "D"]), exclude, min_share)
    if len(by_abc):
        nb.section(sb.Section.SEASON_BY_ABC)
        nb.chart(sv.profiles_heatmap(by_abc.sort_index(), lang, sb.Section.SEASON_BY_ABC))

# %% jupyter={"source_hidden": true}
if se.is_daily(cube):
    nb.section(sb.Section.WEEKDAYS)
    nb.say("season.weekdays_text")
    nb.chart(sv.weekday_chart(se.weekday_profile(cube), lang))
    wd = se.working_days(y.index, country, se.date_list(extra_holidays), se.date_list(extra_workdays))
    adjusted = se.workday_adjusted(y, wd, exclude)
    nb.section(sb.Section.WORKDAYS)
    nb.say("season.workdays_text", avg=sb.display.fmt_num(wd.mean(), lang, 1), country=sb.display.country_name(country, lang))
    nb.chart(sv.workday_chart(y, adjusted, lang))
