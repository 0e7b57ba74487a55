"""Each workbook is a pair: the py:percent text people edit and review, and the .ipynb that papermill,
nbval and Voilà run. The two must hold the same cells, and the .ipynb no outputs."""

import json
from pathlib import Path

import jupytext
import nbformat
import pytest

from salesbook import paths

NOTEBOOKS = paths.NOTEBOOKS_DIR


def cells(nb: nbformat.NotebookNode) -> list[tuple]:
    """What a pair must agree on: each cell's type, source, tags and hidden-source flag."""
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", ())),
             bool(c.metadata.get("jupyter", {}).get("source_hidden"))) for c in nb.cells]


def out_of_sync(ipynb: Path, text: str) -> list[str]:
    """Where the .ipynb and its text differ (empty: in sync)."""
    a = cells(nbformat.read(ipynb, as_version=4))
    b = cells(jupytext.reads(text, fmt="py:percent"))
    if len(a) != len(b):
        return [f"{ipynb.name}: {len(a)} cells, its .py {len(b)}"]
    return [f"{ipynb.name} cell {i + 1}: {x[1][:40]!r} against {y[1][:40]!r}" for i, (x, y) in enumerate(zip(a, b)) if x != y]


def pairs() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def test_every_workbook_has_its_text_and_the_pairing_is_declared():
    books = {p.stem for p in pairs()}
    texts = {p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.py")}
    assert books and books == texts, f"unpaired: {sorted(books ^ texts)}"
    config = jupytext.config.find_jupytext_configuration_file(str(NOTEBOOKS))
    assert config and Path(config).parent == NOTEBOOKS
    assert jupytext.config.load_jupytext_configuration_file(config).formats in ("ipynb,py:percent", ["ipynb,py:percent"])


@pytest.mark.parametrize("ipynb", pairs(), ids=lambda p: p.stem)
def test_a_pair_holds_the_same_cells(ipynb):
    assert out_of_sync(ipynb, ipynb.with_suffix(".py").read_text(encoding="utf-8")) == [], \
        "run `make notebooks` (jupytext --sync) after editing either file"


@pytest.mark.parametrize("ipynb", pairs(), ids=lambda p: p.stem)
def test_a_workbook_is_committed_without_outputs_with_its_code_collapsed(ipynb):
    raw = json.loads(ipynb.read_text(encoding="utf-8"))
    code = [c for c in raw["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code), "strip the outputs"
    assert all(c["metadata"].get("jupyter", {}).get("source_hidden") for c in code), \
        "a director sees outputs first: give every code cell jupyter={\"source_hidden\": true}"
    ids = [c.get("id") for c in raw["cells"]]
    assert all(ids) and len(set(ids)) == len(ids)
    assert sum("parameters" in c["metadata"].get("tags", []) for c in code) == 1


def test_the_sync_check_catches_an_edit_on_one_side_only():
    ipynb = pairs()[0]
    text = ipynb.with_suffix(".py").read_text(encoding="utf-8")
    edited = text.replace('nb.title("nb.00.title")', 'nb.title("nb.00.title")  # changed in the .py only')
    assert edited != text and out_of_sync(ipynb, edited)
    dropped = text.replace("# %% jupyter={\"source_hidden\": true}\nprofile", "# %%\nprofile")
    assert dropped != text and "cell 4" in out_of_sync(ipynb, dropped)[0]
