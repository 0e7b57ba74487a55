"""A pack per manager: his page and his Excel name only his own clients."""

import re

import pytest
from openpyxl import load_workbook

import salesbook as sb
from salesbook.analysis import segments as sg
from salesbook.run.cli import main
from salesbook.run.managers import folder_name
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
