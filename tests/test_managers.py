"""A pack per manager: his page and his Excel name only his own clients; his lists are his rows of the
company's, computed once (issue 25)."""

import html
import json
import re
from collections import Counter

import pandas as pd
import pytest
from openpyxl import load_workbook

import salesbook as sb
from salesbook import paths
from salesbook.analysis import atrisk
from salesbook.analysis import calibration as cb
from salesbook.analysis import segments as sg
from salesbook.analysis.settings import Settings
from salesbook.i18n import t
from salesbook.run.cli import main
from salesbook.run.managers import company_lists, folder_name, write_packs
from salesbook.views.display import money_header
from shapes import visible_text


def test_folder_names_are_safe_and_unique():
    taken: set[str] = set()
    assert folder_name("Петрова Е.С.", taken) == "Петрова_Е.С"
    assert folder_name("Петрова Е.С.", taken) == "Петрова_Е.С_2"
    assert folder_name("../../etc/passwd", taken) == "etc_passwd"


@pytest.mark.slow
def test_no_file_in_a_managers_folder_names_another_managers_client(tmp_path):
    assert main(["run", "--output", str(tmp_path), "--run-name", "001", "--per-manager", "-q", "--lang", "ru"]) == 0
    folder = tmp_path / "001"
    cube = sb.get_cube("sample")
    classes = sg.classify_clients(cube)
    owner = classes.manager.astype(str)
    names = classes.client_name.astype(str)
    packs = sorted((folder / "managers").iterdir())
    assert len(packs) == 25
    summary = (folder / "index.html").read_text(encoding="utf-8")
    for pack in packs:
        page = (pack / "index.html").read_text(encoding="utf-8")
        manager = re.search(r"<h1>(.*?):", page).group(1)
        assert f'href="managers/{pack.name}/index.html"' in summary  # the scorecard links each pack
        cells = set(visible_text(page))  # a name is a whole cell (ПАО "КедрСнаб" and АО "КедрСнаб" are two clients)
        wb = load_workbook(pack / "clients.xlsx")
        cells |= {str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None}
        words = set(re.findall(r"\b[\w-]+\b", " ".join(cells)))
        others = set(owner[owner != manager].index.astype(str))
        mine = set(owner[owner == manager].index.astype(str))
        assert mine & words, pack.name  # his clients are there
        assert not (others & words), (pack.name, sorted(others & words)[:5])
        other_names = set(names[owner != manager]) - set(names[owner == manager])
        assert not (other_names & cells), (pack.name, sorted(other_names & cells)[:5])
        assert "<script" not in page and 'href="../' not in page  # self-contained: it can be sent alone
        # sheet names are names, and the portfolio carries each client's revenue of the 12 months to as_of,
        # the same figure as the segmentation's, largest first: the manager can rank his clients
        assert wb.sheetnames[:2] == ["Портфель", "Реанимация"] and set(wb.sheetnames[2:]) <= {"Незакрытые категории", "Под угрозой"}
        ws = wb["Портфель"]
        header = [c.value for c in ws[3]]
        assert header[:3] == ["Код клиента", "Клиент", "Выручка за 12 мес., ₽"]
        listed = {str(r[0].value): r[2].value for r in ws.iter_rows(min_row=4) if r[0].value is not None}
        his = classes[owner == manager]
        assert set(listed) == set(his.index.astype(str))
        assert all(listed[c] == pytest.approx(float(his.revenue[c]), abs=0.01) for c in listed)
        shown = [r[2].value for r in ws.iter_rows(min_row=4)]
        assert shown == sorted(shown, reverse=True) and shown[0] > 0


def test_the_summarys_managers_table_has_no_column_repeating_the_client_count():
    """Issue 24: "clients with whitespace" equalled the client count on every row (every active client has a
    category his peers buy): the column is gone; the sleeping count, which differs, stays."""
    from salesbook.run.summary import _scorecard
    rows = [{"manager": "Петрова Е.С.", "folder": "managers/Петрова_Е.С/index.html", "clients": 32,
             "revenue": 50_332_067.0, "new": 5, "profile": "", "sleeping": 15, "whitespace": 32}]
    page = _scorecard(rows, "ru")
    heads = re.findall(r"<th>(.*?)</th>", page)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", page)
    assert "Клиентов с незакрытыми категориями" not in heads and len(heads) == len(cells) == 7
    assert cells[1] == "32" and cells.count("32") == 1 and "15" in cells  # the count once, the sleeping beside



# --------------------------------------------------------------------------- issue 25: computed once, cut by manager


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    """Six of the sample's managers with all their clients, built in memory; a planted sleeper (on the
    reactivation list) carries the sample's hostile name. Their packs written once (English, the sample's
    pipeline, the rules ranking the at-risk list: no model fit), from the company's lists. One manager's
    share of the at-risk list is given no model probability while the others' have one: his sheet must
    leave that column out, as his own list's view did."""
    from salesbook.data.sample import HOSTILE_NAME
    lines = pd.read_parquet(paths.SAMPLE_DIR / "sales.parquet")
    planted = json.loads((paths.SAMPLE_DIR / "planted.json").read_text(encoding="utf-8"))
    hostile = planted["sleeping_clients"][0]
    lines.loc[lines.client_id == hostile, "client_name"] = HOSTILE_NAME
    boss = lines.loc[lines.client_id == hostile, "manager"].iloc[0]
    keep = sorted(set(lines.manager) - {boss})[:5] + [boss]
    cube = sb.build_cube(sb.load_sales(lines[lines.manager.isin(keep)], as_of=planted["as_of"], stage=True))
    settings = Settings()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(atrisk, "model_available", lambda: False)
        co = company_lists(cube, "en", str(paths.SAMPLE_DIR / "pipeline.csv"), "sample", settings)
        risky = co.risk["list"]
        assert len(risky) > 10 and risky.manager.nunique() > 2, "the at-risk list is long enough to cut"
        left_out = sorted(risky.manager.unique())[0]
        co.risk["list"] = risky.assign(p_buy=[float("nan") if m == left_out else 0.5 for m in risky.manager])
        folder = tmp_path_factory.mktemp("packs")
        rows = write_packs(cube, folder, "en", settings=settings, company=co)
    return {"cube": cube, "co": co, "rows": rows, "folder": folder, "hostile": hostile, "boss": boss,
            "left_out": left_out, "settings": settings}


def _sheet(pack, name):
    """A pack's sheet as a frame (its title, a blank line, then the header), or None when it has none."""
    wb = load_workbook(pack / "clients.xlsx")
    if name not in wb.sheetnames:
        return None
    cells = [[c.value for c in row] for row in wb[name].iter_rows(min_row=3)]
    return pd.DataFrame(cells[1:], columns=cells[0])


def _packs(team):
    return {r["manager"]: team["folder"] / r["folder"].rsplit("/", 1)[0] for r in team["rows"]}


@pytest.mark.parametrize("sheet, name, keys, header, column", [
    ("xl.sheet.reactivation", "reactivation", ["client_id"], "seg.col.yearly_revenue", "yearly_revenue"),
    ("risk.sheet", "at_risk", ["client_id"], "risk.col.revenue", "revenue"),
    ("xl.sheet.whitespace", "whitespace", ["client_id", "category"], "stag.col.potential", "potential"),
])
def test_the_packs_lists_add_up_to_the_companys_each_client_in_his_managers_pack_alone(team, sheet, name, keys,
                                                                                        header, column):
    frame, owner = team["co"].lists()[name]
    labels = {"client_id": t("seg.col.client_id", "en"), "category": t("col.category", "en")}
    money = money_header(t(header, "en"), "en")
    seen: Counter = Counter()
    total = 0.0
    for manager, pack in _packs(team).items():
        df = _sheet(pack, t(sheet, "en"))
        if df is None:
            continue
        his = frame[owner.to_numpy() == manager]
        ids = list(zip(*(df[labels[k]].astype(str) for k in keys)))
        assert ids == list(zip(*(his[k].astype(str) for k in keys))), manager  # his rows, in the list's order
        assert df[money].tolist() == pytest.approx(his[column].astype(float).tolist(), abs=0.01), manager
        seen.update(ids)
        total += float(df[money].sum())
    assert len(seen) > 10 and max(seen.values()) == 1  # no client (suggestion) in two packs
    assert set(seen) == set(zip(*(frame[k].astype(str) for k in keys)))  # and every one in a pack
    assert total == pytest.approx(float(frame[column].sum()), abs=0.01 * len(frame))


def test_a_managers_calibrated_expectations_are_his_share_of_the_companys_as_computed_for_him_alone(team):
    cube, co, s = team["cube"], team["co"], team["settings"]
    s1, s3 = s.segmentation, s.stagnation
    company = cb.expected_reactivation(cube, co.sleepers, s1.rules, s1.max_months_asleep)
    assert not company["unknown"] and company["expected"] > 0
    assert sum(co.reactivation[m]["expected"] for m in co.managers) == pytest.approx(company["expected"], rel=1e-12)
    ws = cb.expected_whitespace(cube, co.ws, min_lift=s3.whitespace_min)
    assert not ws["unknown"] and ws["expected"] > 0
    assert sum(r["expected"] for r in co.whitespace.values()) == pytest.approx(ws["expected"], rel=1e-12)
    backtest = cb.reactivation_backtest(cube, s1.rules, s1.max_months_asleep)
    ws_backtest = cb.whitespace_backtest(cube, min_lift=s3.whitespace_min)
    others = cb.whitespace_others(cube, ws_backtest)
    for m, pack in _packs(team).items():
        his = co.sleepers[co.sleepers.manager == m]
        alone = cb.expected_reactivation(cube, his, backtest=backtest)  # what each pack computed before
        for k in ("expected", "low", "high", "potential", "share", "ratio"):
            assert co.reactivation[m][k] == pytest.approx(alone[k], rel=1e-9, abs=1e-6), (m, k)
        page = (pack / "index.html").read_text(encoding="utf-8")
        assert html.escape(cb.reactivation_sentence(alone, "en")) in page
        mine = co.ws[co.ws.manager == m]
        if len(mine):
            alone = cb.expected_whitespace(cube, mine, backtest=ws_backtest, others=others)
            assert html.escape(cb.whitespace_sentence(alone, "en")) in page


def test_the_scorecard_counts_each_managers_rows_of_the_companys_lists(team):
    co, rows = team["co"], team["rows"]
    assert [r["manager"] for r in rows] == co.managers == sorted(co.managers) and len(rows) == 6
    assert sum(r["sleeping"] for r in rows) == len(co.sleepers)
    assert sum(r["at_risk"] for r in rows) == len(co.risk["list"])
    assert sum(r["whitespace"] for r in rows) == co.ws.client_id.nunique()
    assert sum(r["revenue"] for r in rows) == pytest.approx(float(co.classes.revenue.sum()), abs=1)
    deals = co.deals.groupby("owner").size()
    assert deals.reindex(co.managers).notna().sum() >= 3  # most of the six have deals
    for r in rows:  # a deal goes with its client's manager
        page = (team["folder"] / r["folder"]).read_text(encoding="utf-8")
        assert f'{int(deals.get(r["manager"], 0))} deals in the pipeline' in page


def test_a_share_without_the_models_probability_leaves_its_column_out_as_the_lists_own_view_does(team):
    packs = _packs(team)
    p_buy = t("risk.col.p_buy", "en")
    left = _sheet(packs[team["left_out"]], t("risk.sheet", "en"))
    assert left is not None and p_buy not in left.columns
    others = [_sheet(p, t("risk.sheet", "en")) for m, p in packs.items() if m != team["left_out"]]
    others = [df for df in others if df is not None]
    assert others and all(p_buy in df.columns for df in others)
    page = (packs[team["left_out"]] / "index.html").read_text(encoding="utf-8")
    assert html.escape(p_buy) not in page


def test_client_names_stay_inert_in_the_packs(team):
    from salesbook.data.sample import HOSTILE_NAME
    co, packs = team["co"], _packs(team)
    for pack in packs.values():
        assert "<script" not in (pack / "index.html").read_text(encoding="utf-8")
    page = (packs[team["boss"]] / "index.html").read_text(encoding="utf-8")
    assert team["hostile"] in set(co.sleepers.client_id.astype(str))  # on his reactivation list: shown as text
    assert html.escape(HOSTILE_NAME) in page
    sheet = _sheet(packs[team["boss"]], t("mgr.portfolio", "en"))
    assert "'" + HOSTILE_NAME in sheet[t("col.client", "en")].tolist()  # in Excel, never a formula


def _rows(n):
    return [{"manager": f"M{i:04d} <b>", "folder": f"managers/M{i:04d}/index.html", "clients": 10 + i % 7,
             "revenue": 1000.0 * ((i * 7919) % n), "new": i % 3, "profile": "", "sleeping": i % 5}
            for i in range(n)]


def test_the_scorecard_of_a_thousand_managers_shows_the_top_and_bottom_ten_then_all_sortable():
    from salesbook.run.summary import _scorecard
    rows = _rows(1000)
    page = _scorecard(rows, "en", "2026-10-31")
    tables = re.findall(r"<table.*?</table>", page, re.S)
    assert len(tables) == 3
    top, bottom, every = ([re.search(r"<td>(.*?)</td>", r).group(1) for r in re.findall(r"<tr><td>.*?</tr>", x)]
                          for x in tables)
    by_revenue = sorted(rows, key=lambda r: -r["revenue"])
    assert top == [html.escape(r["manager"]) for r in by_revenue[:10]]
    assert bottom == [html.escape(r["manager"]) for r in by_revenue[::-1][:10]]
    assert len(every) == 1000 and 'data-sb-interactive="1"' in tables[2] and 'data-sb-interactive' not in tables[0]
    assert '<script src="sb-tables.js"></script>' in page and "<b>" not in page  # names are text
    assert page.count('href="managers/') == 1020
    small = _scorecard(rows[:25], "en", "2026-10-31")
    assert small.count("<table") == 1 and "<script" not in small and small.count("<tr><td>") == 25
