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
# # Segmentation / Сегментация
#
# ABC/XYZ, RFM, the nine client categories, migration and reactivation lists. Change the thresholds in the next cell, or move the sliders at the end.

# %% jupyter={"source_hidden": true} tags=["parameters"]
source: str = "sample"  # sales file (CSV, XLSX, Parquet) or sample; relative paths start at the project root
mapping: str = ""  # column mapping: YAML file or preset 1c; empty for canonical column names
as_of: str = ""  # analysis date, ISO yyyy-mm-dd; empty for the last date in the data
lang: str = ""  # report language: en or ru; empty: the language of the data's own names
currency: str = ""  # ISO 4217 code of the amounts (RUB, USD, GBP, ...); empty: the mapping's, else RUB
settings: str = ""  # the run's settings file (JSON; salesbook run writes it); empty: the defaults and this cell
window_months: int = 12  # months of activity, revenue and ABC
abc_a: float = 0.8  # cumulative revenue share closing class A
abc_b: float = 0.95  # cumulative revenue share closing class B
abc_measure: str = "revenue"  # revenue or margin (needs a cost column)
xyz_x: float = 0.5  # X: coefficient of variation of monthly purchases up to this
xyz_y: float = 1.0  # Y: up to this; Z above
rfm_window_months: int = 24  # months of frequency and monetary value in RFM
new_months: int = 6  # New: first purchase within this many months
reactivated_recent_months: int = 3  # Reactivated: bought within this many months
reactivated_gap_months: int = 6  # Reactivated: after a gap of at least this many months
sleeping_min_months: int = 6  # Sleeping: no purchase for longer than this many months
sleeping_gap_multiple: float = 3.0  # Sleeping: and longer than this many usual gaps
vip_active_months: int = 9  # VIP: class A and active in this many months of the window
partner_tenure_months: int = 36  # Partner: client for at least this many months
partner_active_months: int = 9  # Partner: active in this many months of the window
partner_categories: int = 3  # Partner: buying at least this many categories
regular_active_months: int = 6  # Regular: active in this many months of the window
prospective_growth: float = 1.3  # Prospective: revenue growth factor against the window before
compare_to: str = ""  # migration from this date, ISO; empty for one year before as_of
max_months_asleep: int = 24  # reactivation lists leave out clients asleep longer
output_dir: str = ""  # folder for the Excel and CSV exports; empty for reports/exports
interactive: bool = True  # show the sliders in JupyterLab (never in a report)

# %% jupyter={"source_hidden": true}
import salesbook as sb

cube = sb.get_cube(source, mapping or None, as_of or None)
# the report's language (Russian names, a Russian workbook), carrying the currency of its amounts: passed to
# every function that writes a sentence, a table or a chart
lang = sb.Lang(lang or sb.data_language(cube), currency or sb.currency_of(mapping))
nb = sb.Book(lang)
from pathlib import Path

import pandas as pd
from salesbook.analysis import segments as sg
from salesbook.views import segment_views as sv
from salesbook.views.display import fmt_money, fmt_pct
from salesbook.formats import fact

from salesbook.analysis import settings as rs

rules = rs.for_notebook(sb.Workbook.SEGMENTATION, globals(), settings).segmentation.rules  # this cell on the run's settings
as_of_date = cube.as_of
exports = Path(output_dir) if output_dir else sb.paths.REPORTS_DIR / sb.paths.RunFile.EXPORTS
nb.title("nb.01.title")

# %% jupyter={"source_hidden": true}
seg = sg.segment(cube, as_of_date, rules, lang, xyz_x, xyz_y, abc_measure, rfm_window_months)
classes, abc, scores = seg.classes, seg.abc, seg.rfm
summary = sg.category_summary(classes)
target = classes[classes.target]
nb.section(sb.Section.CATEGORIES)
nb.say_text(sg.history_note(cube, rules, lang))
nb.say("seg.categories_text", as_of=as_of_date.date(), target=len(target), total=len(classes),
       target_share=fmt_pct(summary.loc[list(sg.TARGET_CATEGORIES), "revenue_share"].sum(), lang),
       sleeping=fact("sleeping.count", nb.int(summary.loc["sleeping", "clients"]), summary.loc["sleeping", "clients"]))
nb.table(sv.category_table(summary, lang, window_months))
nb.chart(sv.category_chart(summary, lang))

# %% jupyter={"source_hidden": true}
nb.section(sb.Section.BY_MANAGER)
if cube.profile.has_manager:
    nb.table(sv.category_by_manager(classes, lang))
else:
    nb.say_text(cube.profile.lacks("manager", lang))
nb.section(sb.Section.EXAMPLES)
nb.table(sg.explained(classes.sort_values("revenue", ascending=False).head(15), lang))

# %% jupyter={"source_hidden": true}
counts, shares = sg.abc_matrix(abc)
a_rows = abc[abc.abc == "A"]
nb.section(sb.Section.ABC)
nb.say("seg.abc_text", a_clients=len(a_rows), a_share=fmt_pct(len(a_rows) / max((abc.abc != "D").sum(), 1), lang),
       a_rev=fmt_pct(a_rows.share.sum(), lang), window=window_months, d_clients=int((abc.abc == "D").sum()))
nb.table(sv.matrix_table(counts), formats={c: str for c in "XYZ"})
nb.table(sv.matrix_table(shares), shares=list("XYZ"))
nb.chart(sv.pareto_chart(abc, lang))

# %% jupyter={"source_hidden": true}
nb.section(sb.Section.RFM)
nb.say("seg.rfm_text", window=rfm_window_months)
nb.chart(sv.rfm_chart(scores, lang))

# %% jupyter={"source_hidden": true}
from_date = pd.Timestamp(compare_to) if compare_to else as_of_date - pd.DateOffset(months=12)
nb.section(sb.Section.MIGRATION)
why = sg.migration_lacks(cube, from_date, rules, lang)
if why:
    nb.say_text(why)
else:
    matrix, moves = sg.migration(cube, from_date, as_of_date, rules)
    changed = moves[moves["from"] != moves["to"]]
    nb.say("seg.migration_text", from_date=from_date.date(), to_date=as_of_date.date(), moved=len(changed),
           to_sleep=int(((changed["to"] == "sleeping")).sum()), woke=int((changed["to"] == "reactivated").sum()))
    nb.chart(sv.migration_chart(matrix, lang))
    nb.links([sv.export_migration(matrix, moves, exports, lang)])
    to_sleep = changed[changed["to"] == "sleeping"]
    if len(to_sleep):
        nb.section(sb.Section.MOVES_TO_SLEEP)
        nb.table(sg.moves_view(to_sleep.sort_values("revenue", ascending=False), lang))

# %% jupyter={"source_hidden": true}
sleepers = sg.reactivation_list(cube, classes, max_months_asleep)
files = sv.export_reactivation(sleepers, exports, lang)
nb.section(sb.Section.REACTIVATION)
if len(sleepers):
    n_sleeping = int((classes.category == "sleeping").sum())
    nb.say("seg.reactivation_text", n=fact("sleeping.listed", nb.int(len(sleepers)), len(sleepers)),
           all=fact("sleeping.count", nb.int(n_sleeping), n_sleeping), months=max_months_asleep,
           revenue=fact("sleeping.listed_bought", fmt_money(sleepers.yearly_revenue.sum(), lang), sleepers.yearly_revenue.sum()),
           files=", ".join(f.name for f in files))
    nb.links(files)
    from salesbook.analysis import calibration as cb
    nb.say_text(cb.reactivation_sentence(cb.expected_reactivation(cube, sleepers, rules, max_months_asleep), lang))
    if cube.profile.has_manager:  # one row of "—" says nothing
        nb.table(sg.reactivation_summary(sleepers, lang))
    nb.section(sb.Section.REACTIVATION_TOP)
    nb.table(sg.reactivation_view(sleepers.sort_values("yearly_revenue", ascending=False), lang))
else:
    nb.say("seg.no_sleepers", min=sleeping_min_months, months=cube.profile.n_full)

# %% jupyter={"source_hidden": true}
from salesbook.analysis import atrisk

risk = atrisk.at_risk(cube, rules, classes=classes)
nb.section(sb.Section.AT_RISK)
nb.say_text(atrisk.at_risk_sentence(risk, lang))
if not risk["unknown"]:
    nb.say_text(atrisk.compare_sentence(risk, lang))
    nb.table(atrisk.comparison_table(risk, lang))
    nb.links(sv.export_at_risk(risk, exports, lang))
    nb.table(atrisk.at_risk_view(risk["list"], lang))

# %% jupyter={"source_hidden": true}
from salesbook.analysis import vip

sector = vip.vip_sector(cube, classes, abc_a)
nb.section(sb.Section.VIP)
nb.say_text(vip.vip_sentence(sector, cube, lang))
nb.links([sv.export_vip(sector, exports, lang, window_months)])
for part, section in (("offended", sb.Section.VIP_OFFENDED), ("largest", sb.Section.VIP_LARGEST)):
    if len(sector[part]):  # the sentence above says when a list is empty
        nb.section(section)
        nb.table(vip.vip_view(sector[part], lang, window_months))

# %% jupyter={"source_hidden": true}
if interactive and not sb.in_report():
    nb.section(sb.Section.SEGMENT_EXPLORER)
    sb.explore.segmentation_explorer(cube, rules, as_of_date, lang, max_months_asleep)
