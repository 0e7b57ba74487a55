"""One run, one story (issue 24): every named figure has one value on every page, pack, the single file
and the PDF, computed with the run's settings, in both languages."""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import PUBLISHED
from salesbook.views.glossary import GLOSSARY, GLOSSARY_PAGE

pytestmark = PUBLISHED  # the runs of the sample published in both languages, shared with test_pages

_SPAN = re.compile(r'<span data-fact="([^"]+)"(?: data-value="([^"]*)")?(?: data-scope="([^"]*)")?[^>]*>(.*?)</span>',
                   re.S)


def _cents(value: str) -> str:
    """A raw value to the cent (money is kept to the cent: summary.json rounds there), a share to 1e-9."""
    try:
        return repr(round(float(value), 2 if abs(float(value)) >= 100 else 9))
    except ValueError:
        return value


def facts(folder: Path) -> dict[tuple[str, str], dict[str, set[str]]]:
    """(name, scope) -> {file: the values it shows} over every HTML file of a run."""
    found: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for page in sorted(folder.rglob("*.html")):
        for name, value, scope, text in _SPAN.findall(page.read_text(encoding="utf-8")):
            found[(name, html.unescape(scope))][str(page.relative_to(folder))].add(_cents(value) or html.unescape(text))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_named_figure_has_one_value_on_every_page_and_pack(published, lang):
    found = facts(published[lang])
    names = {name for name, _ in found}
    # the figures a reader could confuse are named on the summary, in workbook 01 and in the packs
    for name in ("sleeping.count", "sleeping.listed", "sleeping.listed_bought", "vip_desk.count", "turnover.12m",
                 "clients.active"):
        assert name in names, f"{name} is on no page of the {lang} run"
    assert {"index.html", "01_segmentation.html"} <= set(found[("sleeping.count", "")])
    assert {"index.html", "01_segmentation.html"} <= set(found[("sleeping.listed", "")])
    assert any(f.startswith("managers/") for (n, scope), files in found.items() if scope for f in files)
    for (name, scope), files in found.items():
        assert name in GLOSSARY, f"{name} has no glossary entry"
        values = set().union(*files.values())
        assert len(values) == 1, f"{name} ({scope or 'company'}) differs between pages: {dict(files)}"
    # the run's settings reached the summary: the listed sleeping clients are fewer than the sleeping ones
    listed = float(next(iter(set().union(*found[("sleeping.listed", "")].values()))))
    sleeping = float(next(iter(set().union(*found[("sleeping.count", "")].values()))))
    assert 0 < listed < sleeping
    summary = json.loads((published[lang] / "summary.json").read_text(encoding="utf-8"))
    assert summary["reactivation"]["clients"] == listed and summary["reactivation"]["max_months_asleep"] == 18
    assert "\ue010" not in json.dumps(summary, ensure_ascii=False)  # the pages' marks stay out of the JSON
    settings = json.loads((published[lang] / "settings.json").read_text(encoding="utf-8"))
    assert settings["segmentation"]["rules"]["sleeping_min_months"] == 9
    assert settings["stagnation"]["rules"]["acquisition_mild"] == 0.2
    # the glossary shows the run's values
    assert "01: sleeping_min_months = 9" in (published[lang] / GLOSSARY_PAGE).read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_single_file_and_the_pdf_tell_the_same_figures(published):
    folder = published["ru"]  # the run with PDFs
    found = facts(folder)
    single = f"{folder.name}.html"
    for name in ("sleeping.count", "sleeping.listed", "turnover.12m", "vip_desk.count"):
        assert found[(name, "")][single] == found[(name, "")]["index.html"], name  # the same figure travels with it
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(str(folder / "summary.pdf"))
    text = " ".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    text = re.sub(r"\s+", " ", text)
    page = (folder / "index.html").read_text(encoding="utf-8")
    for name in ("sleeping.count", "sleeping.listed", "turnover.12m", "vip_desk.count"):
        shown = re.search(rf'<span data-fact="{re.escape(name)}"[^>]*>(.*?)</span>', page).group(1)
        assert re.sub(r"\s+", " ", html.unescape(shown)) in text, f"{name}: {shown!r} not in summary.pdf"


@pytest.mark.slow
def test_the_summary_headline_and_the_memo_tell_one_story(published):
    folder = published["en"]
    index = html.unescape(re.sub(r"<[^>]+>", "", (folder / "index.html").read_text(encoding="utf-8")))
    memo = html.unescape(re.sub(r"<[^>]+>", "", (folder / "03_stagnation.html").read_text(encoding="utf-8")))
    headline = re.search(r"Turnover is \w+: .*?why\.", index, re.S).group(0)
    assert "the last 12 months and their bridge say where the company stands now" in headline
    assert re.sub(r"\s+", " ", headline)[:200] in re.sub(r"\s+", " ", memo.replace("\\", ""))
    # no remedy is rated strong whose simulated effect is not a material gain
    for line in re.findall(r"Strong — .*?(?=Strong —|Mild —|$)", index, re.S):
        assert "no gain it can tell from noise" not in line and "expects a loss" not in line and "expects only" not in line
