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
lang: str = ""  # report language: en or ru; empty: the language of the data's own names
currency: str = ""  # ISO 4217 code of the amounts (RUB, USD, GBP, ...); empty: the mapping's, else RUB'''

SETUP = '''import salesbook as sb

cube = sb.get_cube(source, mapping or None, as_of or None)
lang = lang or sb.data_language(cube)  # Russian names, a Russian workbook
nb = sb.Book(lang, currency or sb.mapping.currency_of(mapping))'''

NOTEBOOKS = {
    "00_overview": [
        md("# Overview / Обзор\n\nWhat was loaded and how sales move. Run the cells top to bottom; "
           "change the parameters in the next cell.", tags=["report-hide"]),
        code(PARAMS_COMMON + '''
examples: int = 5  # example line numbers shown per reason a line was set aside (0 to 5)''', tags=["parameters"]),
        code(SETUP + '''
from salesbook.views import overview as ov

nb.title("nb.00.title")'''),
        code('''profile = cube.profile
nb.section("profile.title")
for sentence in profile.sentences(lang):
    nb.say_text(sentence)'''),
        code('''r = cube.report
nb.section("overview.loaded")
nb.say("overview.loaded_text", read=nb.int(r.rows_read), source=r.source, kept=nb.int(r.rows_kept),
       dropped=nb.int(r.rows_dropped))
if r.lines:
    nb.table(r.to_frame(lang, examples))
else:
    nb.say("overview.no_drops")'''),
        code('''nb.section("overview.kpis")
nb.table(ov.key_figures(cube, lang))'''),
        code('''monthly = ov.monthly_turnover(cube)
last12, prev12 = ov.window_totals(cube)
nb.section("overview.monthly")
if prev12:
    nb.say("overview.monthly_text", last12=nb.money(last12), prev12=nb.money(prev12),
           change=nb.pct(last12 / prev12 - 1, signed=True))
else:
    nb.say("overview.no_comparison", last12=nb.money(last12))
    nb.say_text(profile.lacks("bridge", lang) or "")
nb.chart(ov.monthly_chart(monthly, lang))'''),
        code('''nb.section("overview.by_year")
nb.table(ov.yearly_view(ov.yearly_turnover(cube), lang))'''),
    ],
}


NOTEBOOKS["01_segmentation"] = [
    md("# Segmentation / Сегментация\n\nABC/XYZ, RFM, the nine client categories, migration and "
       "reactivation lists. Change the thresholds in the next cell, or move the sliders at the end.",
       tags=["report-hide"]),
    code(PARAMS_COMMON + '''
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
interactive: bool = True  # show the sliders in JupyterLab (never in a report)''', tags=["parameters"]),
    code(SETUP + '''
from pathlib import Path

import pandas as pd
from salesbook.analysis import segments as sg
from salesbook.views import segment_views as sv
from salesbook.views.display import fmt_money, fmt_pct

rules = sg.Rules(window_months=window_months, abc_a=abc_a, abc_b=abc_b, new_months=new_months,
                 reactivated_recent_months=reactivated_recent_months, reactivated_gap_months=reactivated_gap_months,
                 sleeping_min_months=sleeping_min_months, sleeping_gap_multiple=sleeping_gap_multiple,
                 vip_active_months=vip_active_months, partner_tenure_months=partner_tenure_months,
                 partner_active_months=partner_active_months, partner_categories=partner_categories,
                 regular_active_months=regular_active_months, prospective_growth=prospective_growth)
as_of_date = cube.as_of
exports = Path(output_dir) if output_dir else sb.paths.REPORTS_DIR / "exports"
nb.title("nb.01.title")'''),
    code('''seg = sg.segment(cube, as_of_date, rules, lang, xyz_x, xyz_y, abc_measure, rfm_window_months)
classes, abc, scores = seg.classes, seg.abc, seg.rfm
summary = sg.category_summary(classes)
target = classes[classes.target]
nb.section("seg.categories")
nb.say_text(sg.history_note(cube, rules, lang))
nb.say("seg.categories_text", as_of=as_of_date.date(), target=len(target), total=len(classes),
       target_share=fmt_pct(summary.loc[list(sg.TARGET_CATEGORIES), "revenue_share"].sum(), lang),
       sleeping=int(summary.loc["sleeping", "clients"]))
nb.table(sv.category_table(summary, lang, window_months))
nb.chart(sv.category_chart(summary, lang))'''),
    code('''nb.section("seg.by_manager")
if cube.profile.has_manager:
    nb.table(sv.category_by_manager(classes, lang))
else:
    nb.say_text(cube.profile.lacks("manager", lang))
nb.section("seg.examples")
nb.table(sg.explained(classes.sort_values("revenue", ascending=False).head(15), lang))'''),
    code('''counts, shares = sg.abc_matrix(abc)
a_rows = abc[abc.abc == "A"]
nb.section("seg.abc")
nb.say("seg.abc_text", a_clients=len(a_rows), a_share=fmt_pct(len(a_rows) / max((abc.abc != "D").sum(), 1), lang),
       a_rev=fmt_pct(a_rows.share.sum(), lang), window=window_months, d_clients=int((abc.abc == "D").sum()))
nb.table(sv.matrix_table(counts), formats={c: str for c in "XYZ"})
nb.table(sv.matrix_table(shares), shares=list("XYZ"))
nb.chart(sv.pareto_chart(abc, lang))'''),
    code('''nb.section("seg.rfm")
nb.say("seg.rfm_text", window=rfm_window_months)
nb.chart(sv.rfm_chart(scores, lang))'''),
    code('''from_date = pd.Timestamp(compare_to) if compare_to else as_of_date - pd.DateOffset(months=12)
nb.section("seg.migration")
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
        nb.section("seg.moves_to_sleep")
        nb.table(sg.moves_view(to_sleep.sort_values("revenue", ascending=False), lang))'''),
    code('''sleepers = sg.reactivation_list(cube, classes, max_months_asleep)
files = sv.export_reactivation(sleepers, exports, lang)
nb.section("seg.reactivation")
if len(sleepers):
    nb.say("seg.reactivation_text", n=nb.int(len(sleepers)), months=max_months_asleep,
           revenue=fmt_money(sleepers.yearly_revenue.sum(), lang), files=", ".join(f.name for f in files))
    nb.links(files)
    from salesbook.analysis import calibration as cb
    nb.say_text(cb.reactivation_sentence(cb.expected_reactivation(cube, sleepers, rules, max_months_asleep), lang))
    nb.table(sg.reactivation_summary(sleepers, lang))
    nb.section("seg.reactivation_top")
    nb.table(sg.reactivation_view(sleepers.sort_values("yearly_revenue", ascending=False), lang))
else:
    nb.say("seg.no_sleepers", min=sleeping_min_months, months=cube.profile.n_full)'''),
    code('''from salesbook.analysis import vip

sector = vip.vip_sector(cube, classes, abc_a)
nb.section("vip.title")
nb.say_text(vip.vip_sentence(sector, cube, lang))
nb.links([sv.export_vip(sector, exports, lang, window_months)])
nb.section("vip.offended")
nb.table(vip.vip_view(sector["offended"], lang, window_months))
nb.section("vip.largest")
nb.table(vip.vip_view(sector["largest"], lang, window_months))'''),
    code('''if interactive and not sb.in_report():
    nb.section("seg.explore")
    sb.explore.segmentation_explorer(cube, rules, as_of_date, lang, max_months_asleep)'''),
]


NOTEBOOKS["02_seasonality"] = [
    md("# Seasonality / Сезонность\n\nSeasonal indices, the seasonally adjusted trend, seasonality by "
       "category and segment, weekdays and working days.", tags=["report-hide"]),
    code(PARAMS_COMMON + '''
trend_months: int = 36  # months of the adjusted series the trend line is fitted on
stl: bool = True  # also estimate the indices with STL (needs two full years)
min_share: float = 0.02  # segments below this share of revenue get no profile of their own
country: str = "RU"  # public-holiday calendar for working days (ISO country code)
extra_holidays: str = ""  # more days off, comma-separated ISO dates (company shutdowns)
extra_workdays: str = ""  # more working days, comma-separated ISO dates''', tags=["parameters"]),
    code(SETUP + '''
import pandas as pd
from salesbook.analysis import seasonality as se, segments as sg
from salesbook.views import season_views as sv
from salesbook.views.display import fmt_pct

y, partial = se.company_series(cube)
profile = se.seasonal_profile(se.complete_series(cube), stl=stl, min_months=cube.profile.evidence.season_months)
nb.title("nb.02.title")'''),
    code('''nb.section("season.profile")
if partial is not None:
    nb.say("season.partial", month=nb.months([partial])[0], day=pd.Timestamp(cube.report.last_date).day)
nb.say_text(se.profile_sentence(profile, lang))
if profile.enough:
    nb.say("season.profile_text")
    nb.chart(sv.profile_chart(profile, lang))'''),
    code('''nb.section("season.heatmap")
nb.chart(sv.heatmap_chart(se.year_month_table(y), lang))
yoy = se.yoy_table(se.complete_series(cube))
if cube.profile.lacks("yoy") is None and len(yoy):
    nb.chart(sv.yoy_chart(yoy, lang))
else:
    nb.say_text(cube.profile.lacks("yoy", lang))'''),
    code('''if profile.enough and not cube.profile.lacks("trend"):
    sa = se.adjusted_series(se.complete_series(cube), profile)
    fit = se.trend_fit(sa, trend_months)
    nb.section("season.adjusted")
    nb.say("season.adjusted_text", slope=fmt_pct(fit["slope_per_year"], lang, signed=True), months=fit["months"],
           low=fmt_pct(fit["low"], lang, signed=True), high=fmt_pct(fit["high"], lang, signed=True))
    nb.chart(sv.adjusted_chart(y, sa, fit, partial, lang))'''),
    code('''exclude = [partial] if partial is not None else []
if profile.enough:
    by_cat = se.segment_profiles(se.category_series(cube, y.index), exclude, min_share)
    if len(by_cat):
        nb.section("season.by_category")
        nb.chart(sv.profiles_heatmap(by_cat, lang, "season.by_category"))
    seg = sg.segment(cube, cube.as_of, lang=lang)
    by_seg = se.segment_profiles(se.monthly_by(cube, seg.classes.category), exclude, min_share)
    if len(by_seg):
        nb.section("season.by_segment")
        nb.chart(sv.profiles_heatmap(by_seg, lang, "season.by_segment", {c: nb.t(f"cat.{c}") for c in by_seg.index}))
    by_abc = se.segment_profiles(se.monthly_by(cube, seg.abc.abc[seg.abc.abc != "D"]), exclude, min_share)
    if len(by_abc):
        nb.section("season.by_abc")
        nb.chart(sv.profiles_heatmap(by_abc.sort_index(), lang, "season.by_abc"))'''),
    code('''if se.is_daily(cube):
    nb.section("season.weekdays")
    nb.say("season.weekdays_text")
    nb.chart(sv.weekday_chart(se.weekday_profile(cube), lang))
    wd = se.working_days(y.index, country, se.date_list(extra_holidays), se.date_list(extra_workdays))
    adjusted = se.workday_adjusted(y, wd, exclude)
    nb.section("season.workdays")
    nb.say("season.workdays_text", avg=sb.display.fmt_num(wd.mean(), lang, 1), country=sb.display.country_name(country, lang))
    nb.chart(sv.workday_chart(y, adjusted, lang))'''),
]


NOTEBOOKS["03_stagnation"] = [
    md("# Stagnation / Стагнация\n\nIs turnover flat, where the change comes from, and whether the sales "
       "department has become an account-management department.", tags=["report-hide"]),
    code(PARAMS_COMMON + '''
trend_months: int = 36  # months of the adjusted series the verdict is based on
bridge_end: str = ""  # end of the bridge's later window, ISO; empty for as_of
bridge_months: int = 12  # length of each bridge window in months
cohort_freq: str = "Y"  # cohorts by acquisition year Y or quarter Q
hunter_share: float = 0.25  # hunter: at least this share of revenue from clients won in 12 months
farmer_share: float = 0.1  # account manager: at most this share
whitespace_min: float = 0.25  # whitespace: at least this share of similar clients buy the category
output_dir: str = ""  # folder for the whitespace exports; empty for reports/exports''', tags=["parameters"]),
    code(SETUP + '''
import pandas as pd
from salesbook.analysis import stagnation as st
from salesbook.views import stagnation_views as sv
from salesbook.views.display import fmt_money, fmt_pct

exports = sb.paths.REPORTS_DIR / "exports" if not output_dir else output_dir
diagnosis = st.diagnose(cube, trend_months)
nb.title("nb.03.title")
nb.section("stag.memo")
nb.say_markdown(st.memo(diagnosis, lang))'''),
    code('''flat = diagnosis["flatness"]
prof = cube.profile
nb.section("stag.flat")
if flat["verdict"] == "unknown":
    nb.say_text(prof.lacks("trend", lang) or prof.lacks("season", lang))
else:
    nb.say("stag.flat_text", cagr=fmt_pct(flat["cagr"], lang, signed=True), tau=sb.display.fmt_num(flat["mann_kendall_tau"], lang),
           p=sb.display.fmt_num(flat["mann_kendall_p"], lang, 3), months=flat["months"])
    nb.chart(sv.rolling_chart(flat, lang))'''),
    code('''(s1, end), (s0, e0) = st.bridge_windows(bridge_end or cube.as_of, bridge_months)
nb.section("stag.bridge")
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
    nb.chart(sv.bridges_chart(diagnosis["bridges"], lang))'''),
    code('''cohorts = st.cohort_tables(cube, cohort_freq)
nb.section("stag.cohorts")
nb.say("stag.cohorts_text", since=cohorts["lead_in_end"].date())
if len(cohorts["size"]):
    nb.chart(sv.retention_chart(cohorts["retention"], lang))
    nb.table(sv.cohort_table(cohorts["revenue"], cohorts["partial"], lang))
    nb.section("stag.nrr")
    if cohorts["nrr"].shape[1]:
        nrr = sv.cohort_table(cohorts["nrr"].round(3), [], lang)
        nb.table(nrr, shares=list(nrr.columns[1:]))  # revenue of a cohort against its first full year
    else:
        nb.say("stag.nrr_lacks")
    nb.section("stag.first_year")
    nb.table(sv.first_year_table(cohorts, lang))
else:
    nb.say("stag.no_cohorts")'''),
    code('''nb.section("stag.acquisition")
if prof.has_manager:
    sat = st.saturation(cube, "Q")
    if len(sat):
        nb.chart(sv.saturation_chart(sat, lang))
    nb.section("stag.profiles")
    nb.table(sv.profiles_table(st.manager_profiles(cube, 12, hunter_share, farmer_share), lang),
             formats={nb.t("stag.col.share_new"): lambda v: fmt_pct(v, lang)})
else:
    nb.say_text(prof.lacks("manager", lang))'''),
    code('''from salesbook.analysis import handovers as hv

nb.section("ho.title")
for sentence in hv.handover_sentences(cube, lang):
    nb.say_text(sentence)'''),
    code('''nb.section("stag.crosssell")
if prof.has_category:
    breadth = st.category_breadth(cube)
    if len(breadth):
        nb.chart(sv.breadth_chart(breadth, st.acquisition(cube, "Y").new_clients, lang))
    ws = st.whitespace(cube, 12, whitespace_min)
    nb.section("stag.whitespace")
    if len(ws):
        files = sv.export_whitespace(ws, exports, lang)
        nb.say("stag.whitespace_text", n=nb.int(len(ws)), clients=nb.int(ws.client_id.nunique()),
               potential=fmt_money(ws.potential.sum(), lang), files=", ".join(f.name for f in files))
        nb.links(files)
        from salesbook.analysis import calibration as cb
        nb.say_text(cb.whitespace_sentence(cb.expected_whitespace(cube, ws), lang))
        nb.table(sv.whitespace_view(ws.sort_values("potential", ascending=False), lang))
    else:
        nb.say("stag.no_whitespace")
else:
    nb.say_text(prof.lacks("category", lang))'''),
    code('''nb.section("stag.concentration")
conc = st.concentration(cube)
if len(conc):
    nb.table(sv.concentration_table(conc, st.productivity(cube), lang),
             formats={nb.t("stag.top10"): lambda v: fmt_pct(v, lang), nb.t("stag.top20"): lambda v: fmt_pct(v, lang)})
else:
    nb.say("stag.no_full_year")'''),
]


NOTEBOOKS["04_forecast"] = [
    md("# Forecast / Прогноз\n\nThe weighted pipeline of target clients against a baseline from history "
       "and the plan.", tags=["report-hide"]),
    code(PARAMS_COMMON + '''
pipeline: str = ""  # pipeline file (CSV/XLSX): client_id, manager, amount, expected_month, stage; empty: none (the sample's own with the sample)
plan: str = ""  # plan file (month, plan); empty for none
p30: float = 0.3  # probability of stage 30: calculation sent
p50: float = 0.5  # probability of stage 50: the offer suits the client
p70: float = 0.7  # probability of stage 70: agreed with the decision maker
p90: float = 0.9  # probability of stage 90: order date known
p100: float = 1.0  # probability of stage 100: invoice issued
horizon_months: int = 6  # months of the baseline forecast
spontaneous: str = "C"  # periodic buyers routed to the assistant, not the forecast: an ABC class (C), an amount of 12-month revenue, or empty for none''', tags=["parameters"]),
    code(SETUP + '''
from salesbook.analysis import forecast as fc, segments as sg
from salesbook.views import forecast_views as fv
from salesbook.views.display import fmt_money

probabilities = {30: p30, 50: p50, 70: p70, 90: p90, 100: p100}
classes = sg.classify_clients(cube, cube.as_of, lang=lang)
deals = fc.run_deals(pipeline, source, classes, cube.as_of, probabilities, spontaneous)  # None: the run has no pipeline
base = fc.baseline(cube, horizon_months)
plan_series = fc.load_plan(plan) if plan else None
nb.title("nb.04.title")'''),
    code('''nb.section("fc.pipeline")
if deals is None:
    nb.say("fc.no_pipeline")
    deals = fc.no_deals()
else:
    live = deals[deals.target & ~deals.stale]
    nb.say("fc.pipeline_text", deals=nb.int(len(deals)), target=nb.int(deals.target.sum()),
           weighted=fmt_money(live.weighted.sum(), lang), stale=nb.int(deals.stale.sum()),
           outside=nb.int((~deals.target).sum()))
rates = deals.attrs.get("win_rates")
nb.section("fc.win_rates")
if rates is not None and rates.closed.sum():
    nb.say("fc.win_rates_text", closed=nb.int(rates.closed.sum()))
    nb.table(fv.win_rates_view(rates, lang))
else:
    nb.say("fc.win_rates_none")
nb.section("fc.by_month")
if base is None:
    nb.say("fc.no_baseline", months=cube.profile.n_full)
if base is not None or len(deals):
    by_month = fc.forecast_table(deals, "month")
    nb.table(fv.month_table(by_month, base, plan_series, lang))
    nb.chart(fv.month_chart(by_month, base, plan_series, lang))
if base is not None:
    nb.say_text(fv.backtest_sentence(cube, lang))'''),
    code('''if len(deals):
    nb.section("fc.by_manager")
    nb.table(fv.group_table(fc.forecast_table(deals, "manager"), "col.manager", lang))
    nb.section("fc.by_category")
    nb.table(fv.group_table(fc.forecast_table(deals, "category"), "col.category", lang, categories=True))
    nb.section("fc.flags")
    nb.table(fv.flags_table(deals, lang))'''),
    code('''assistant = fc.assistant_clients(classes, horizon_months, spontaneous)
nb.section("fc.assistant")
if len(assistant):
    nb.say("fc.assistant_text", clients=nb.int(len(assistant)), as_of=cube.as_of.date(),
           which=fv.assistant_which(assistant, spontaneous, lang),
           expected=nb.money(assistant.expected.sum()), horizon=horizon_months)
    nb.table(fv.assistant_view(assistant, lang, by_manager=True))
    nb.table(fv.assistant_view(assistant, lang))
else:
    nb.say("fc.no_assistant", as_of=cube.as_of.date())'''),
]


NOTEBOOKS["05_whatif"] = [
    md("# What if / Что если\n\nThe levers of account management and their 12-month effect, calibrated on "
       "the company's own numbers. Move the sliders: the waterfall under them follows.", tags=["report-hide"]),
    code(PARAMS_COMMON + '''
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
interactive: bool = True  # show the sliders in JupyterLab (never in a report)''', tags=["parameters"]),
    code(SETUP + '''
import pandas as pd
from salesbook.analysis import whatif as wi
from salesbook.views import whatif_views as wv

cal = wi.calibrate(cube)
levers = wi.Levers(reactivate, frequency, deal_size, categories, retain)
result = wi.simulate(cal, levers)
nb.title("nb.05.title")'''),
    code('''explore = interactive and not sb.in_report()  # JupyterLab and the workshop: sliders above the chart
if explore:
    nb.section("wi.explore")
    wv.levers_explorer(cal, levers, lang)
else:
    nb.say_text(wv.result_sentence(result, lang, cal.as_of))
    nb.section("wi.settings")
    nb.table(wv.levers_table(cal, levers, lang))
    nb.chart(wv.waterfall(result, lang))
nb.section("wi.by_category")
nb.table(wv.category_table(result, lang))
nb.section("wi.calibration")
nb.table(wv.calibration_table(cal, lang))'''),
    code('''nb.section("wi.reorg")
why = wv.reorg_lacks_sentence(cube, hunters, lang)
if why:
    nb.say_text(why)
else:
    org = wi.calibrate_org(cube)
    start = cube.as_of.to_period("M").to_timestamp() + pd.offsets.MonthBegin(1)
    rate = None if hunter_rate < 0 else hunter_rate
    if explore:
        wv.hunters_explorer(org, hunters, rate, ramp_months, projection_months, overflow_loss, start, lang, handover)
    else:
        proj = wi.project(org, hunters, rate, ramp_months, projection_months, overflow_loss, start, handover)
        nb.say_text(wv.reorg_sentence(proj, hunters, lang))
        nb.chart(wv.projection_chart(proj, lang))
    nb.table(wv.assumptions_table(org, hunters, hunter_rate, ramp_months, overflow_loss, lang, handover))'''),
]


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        book = nbf.v4.new_notebook()
        book.cells = cells
        for i, cell in enumerate(book.cells):  # stable ids: regenerating changes only what changed
            cell.id = f"{name[:2]}-cell-{i:02d}"
        for cell in book.cells:  # a director sees titles, explanations and outputs; the code is a click away
            if cell.cell_type == "code":
                cell.metadata["jupyter"] = {"source_hidden": True}
        book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        book.metadata["language_info"] = {"name": "python"}
        nbf.validate(book)
        nbf.write(book, ROOT / "notebooks" / f"{name}.ipynb")


if __name__ == "__main__":
    main()
