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
# # Stagnation / Стагнация
#
# Is turnover flat, where the change comes from, and whether the sales department has become an account-management department.

# %% jupyter={"source_hidden": true} tags=["parameters"]
source: str = "sample"  # sales file (CSV, XLSX, Parquet) or sample; relative paths start at the project root
mapping: str = ""  # column mapping: YAML file or preset 1c; empty for canonical column names
as_of: str = ""  # analysis date, ISO yyyy-mm-dd; empty for the last date in the data
lang: str = ""  # report language: en or ru; empty: the language of the data's own names
currency: str = ""  # ISO 4217 code of the amounts (RUB, USD, GBP, ...); empty: the mapping's, else RUB
settings: str = ""  # the run's settings file (JSON; salesbook run writes it); empty: the defaults and this cell
trend_months: int = 36  # months of the adjusted series the verdict is based on
bridge_end: str = ""  # end of the bridge's later window, ISO; empty for as_of
bridge_months: int = 12  # length of each bridge window in months
cohort_freq: str = "Y"  # cohorts by acquisition year Y or quarter Q
hunter_share: float = 0.25  # hunter: at least this share of revenue from clients won in 12 months
farmer_share: float = 0.1  # account manager: at most this share
whitespace_min: float = 0.25  # whitespace: at least this share of similar clients buy the category
output_dir: str = ""  # folder for the whitespace exports; empty for reports/exports
walk_top: int = 10  # biggest contributors listed under each step of the revenue walk

# %% jupyter={"source_hidden": true}
import salesbook as sb

cube = sb.get_cube(source, mapping or None, as_of or None)
# the report's language (Russian names, a Russian workbook), carrying the currency of its amounts: passed to
# every function that writes a sentence, a table or a chart
lang = sb.Lang(lang or sb.data_language(cube), currency or sb.currency_of(mapping))
nb = sb.Book(lang)
import pandas as pd
from salesbook.analysis import stagnation as st
from salesbook.views import stagnation_views as sv
from salesbook.views.display import fmt_money, fmt_pct
from salesbook.formats import Kind, fact

from salesbook.analysis import settings as rs

run_settings = rs.for_notebook(sb.Workbook.STAGNATION, globals(), settings)  # this cell on the run's settings
exports = sb.paths.REPORTS_DIR / sb.paths.RunFile.EXPORTS if not output_dir else output_dir
from salesbook.analysis.advice import advise, apply_advice

advice = advise(cube, run_settings)  # each remedy's simulated effect, as the summary shows it
diagnosis = apply_advice(st.diagnose(cube, run_settings.stagnation.rules), advice)
nb.title("nb.03.title")
from salesbook.analysis import alerts as al

nb.section(sb.Section.MEMO)
nb.say_markdown(st.memo(diagnosis, lang, run_settings.stagnation.rules,
                            al.early_warning_lines(cube, lang, rules=run_settings.segmentation.rules)))

# %% jupyter={"source_hidden": true}
flat = diagnosis["flatness"]
prof = cube.profile
nb.section(sb.Section.FLAT)
if flat["verdict"] == "unknown":
    nb.say_text(prof.lacks("trend", lang) or prof.lacks("season", lang))
else:
    r12 = flat["rolling_12m"]
    nb.say("stag.flat_text", cagr=fmt_pct(flat["cagr"], lang, signed=True), first=sb.i18n.month_labels(r12.index[:1], lang)[0],
           last=sb.i18n.month_labels(r12.index[-1:], lang)[0], tau=sb.display.fmt_num(flat["mann_kendall_tau"], lang),
           p=sb.display.fmt_num(flat["mann_kendall_p"], lang, 3), months=flat["months"])
    nb.chart(sv.rolling_chart(flat, lang))

# %% jupyter={"source_hidden": true}
(s1, end), (s0, e0) = st.bridge_windows(bridge_end or cube.as_of, bridge_months)
nb.section(sb.Section.BRIDGE)
if prof.covers(s0, end):
    parts, detail = st.revenue_bridge(cube, (s1, end), (s0, e0))
    nb.say("stag.bridge_text", before=fmt_money(detail.before.sum(), lang), after=fmt_money(detail.after.sum(), lang),
           prev_end=e0.date(), end=end.date(), months=bridge_months,
           **{k: fmt_money(v, lang) for k, v in parts.items()})
    nb.chart(sv.bridge_chart(parts, detail.before.sum(), detail.after.sum(), lang))
    nb.links([sv.export_bridge(detail, exports, lang)])
else:
    nb.say("stag.bridge_lacks", months=bridge_months, start=s0.date(), end=end.date(), first=prof.start.date(),
           last=prof.end.date())
if len(diagnosis["bridges"]) > 1:
    nb.chart(sv.bridges_chart(diagnosis["bridges"], lang))

# %% jupyter={"source_hidden": true}
from salesbook.analysis import walk as wk
from salesbook.run.walk_summary import walk_figures
from salesbook.views import walk_views as wv

walk = wk.revenue_walk(cube)
nb.section(sb.Section.WALK)
for sentence in walk_figures(cube, lang, run_settings.stagnation.walk)["text"]:  # the summary's walk, the same result
    nb.say_text(sentence)
if len(walk.steps):
    nb.chart(wv.walk_chart(walk, lang))
    nb.table(wv.walk_table(walk, lang))
    if walk.split:
        nb.say("walk.convention")
    for sentence, table in wv.drilldowns(cube, walk, lang) + wv.step_lists(walk, lang, run_settings.stagnation.walk.walk_top):
        nb.say_text(sentence)
        nb.table(table, interactive=True)

# %% jupyter={"source_hidden": true}
cohorts = st.cohort_tables(cube, cohort_freq)
nb.section(sb.Section.COHORTS)
nb.say("stag.cohorts_text", since=cohorts["lead_in_end"].date())
if len(cohorts["size"]):
    nb.chart(sv.retention_chart(cohorts["retention"], lang))
    nb.table(sv.cohort_table(cohorts["revenue"], cohorts["partial"], lang))
    nb.section(sb.Section.NRR)
    if cohorts["nrr"].shape[1]:
        # revenue of a cohort against its first full year: shares
        nb.table(sv.cohort_table(cohorts["nrr"].round(3), [], lang, kind=Kind.SHARE))
    else:
        nb.say("stag.nrr_lacks")
    nb.section(sb.Section.FIRST_YEAR)
    nb.table(sv.first_year_table(cohorts, lang))
else:
    nb.say("stag.no_cohorts")

# %% jupyter={"source_hidden": true}
from salesbook.analysis import assignment as asg

nb.section(sb.Section.ACQUISITION)
assignment = run_settings.stagnation.rules.assignment  # what counts as a stable client -> manager assignment
unstable = asg.lacks(cube, lang, "asg.unstable_managers", assignment)  # no stable manager: no portfolios
if unstable:
    nb.say_text(unstable)
elif prof.has_manager:
    sat = st.saturation(cube, "Q")
    if len(sat):
        nb.chart(sv.saturation_chart(sat, lang))
    nb.section(sb.Section.PROFILES)
    nb.table(sv.profiles_table(st.manager_profiles(cube, 12, hunter_share, farmer_share), lang))
else:
    nb.say_text(prof.lacks("manager", lang))

# %% jupyter={"source_hidden": true}
from salesbook.analysis import handovers as hv

nb.section(sb.Section.HANDOVERS)
for sentence in hv.handover_sentences(cube, lang, run_settings.stagnation.handovers, assignment):
    nb.say_text(sentence)

# %% jupyter={"source_hidden": true}
nb.section(sb.Section.CROSSSELL)
if prof.has_category:
    breadth = st.category_breadth(cube)
    if len(breadth):
        nb.chart(sv.breadth_chart(breadth, st.acquisition(cube, "Y").new_clients, lang))
    ws = st.whitespace(cube, 12, whitespace_min)
    nb.section(sb.Section.WHITESPACE)
    if len(ws):
        files = sv.export_whitespace(ws, exports, lang)
        nb.say("stag.whitespace_text", n=nb.int(len(ws)),
               clients=fact("whitespace.clients", nb.int(ws.client_id.nunique()), ws.client_id.nunique()),
               potential=fact("whitespace.potential", fmt_money(ws.potential.sum(), lang), ws.potential.sum()),
               files=", ".join(f.name for f in files))
        nb.links(files)
        from salesbook.analysis import calibration as cb
        nb.say_text(cb.whitespace_sentence(advice["whitespace"], lang))
        nb.table(sv.whitespace_view(ws.sort_values("potential", ascending=False), lang))
    else:
        nb.say("stag.no_whitespace")
else:
    nb.say_text(prof.lacks("category", lang))

# %% jupyter={"source_hidden": true}
nb.section(sb.Section.CONCENTRATION)
conc = st.concentration(cube)
if len(conc):
    nb.table(sv.concentration_table(conc, st.productivity(cube), lang))
else:
    nb.say("stag.no_full_year")

# %% jupyter={"source_hidden": true}
found = al.alerts(cube)
nb.section(sb.Section.ALERTS)
for sentence in al.alert_sentences(found, lang, cube)[:1]:
    nb.say_text(sentence)
if len(found["alerts"]):
    nb.table(al.alerts_view(found, lang, cube))
