import atexit
import os
import shutil
import tempfile
from pathlib import Path

# tests never touch the project's own cache or reports
if "SALESBOOK_CACHE" not in os.environ:
    os.environ["SALESBOOK_CACHE"] = tempfile.mkdtemp(prefix="salesbook-cache-")
    atexit.register(shutil.rmtree, os.environ["SALESBOOK_CACHE"], ignore_errors=True)

# the test workers run side by side, one per core, as a run's processes do: one BLAS thread each, as
# salesbook run sets for itself and its kernels (salesbook.run.cli.one_blas_thread); set before NumPy loads here,
# and inherited by the workers and by every process a test starts
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# the tests' Spark drivers (a JVM each) live for a minute on small files: Java's first compiler only, without the
# optimising one whose threads compete with the other workers for the cores (SPARK_SUBMIT_OPTS: Spark's own
# variable for the driver's JVM options). The sample's run on Spark: 64 s -> 48-57 s on 2 cores
os.environ.setdefault("SPARK_SUBMIT_OPTS", "-XX:TieredStopAtLevel=1")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def lines() -> pd.DataFrame:
    """Seven hand-made sales lines in canonical columns."""
    return pd.DataFrame({
        "date": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-03", "2024-02-03", "2024-03-15",
                                "2024-03-20", "2024-04-01"]).astype("datetime64[us]"),
        "client_id": ["A", "A", "B", "B", "A", "C", "B"],
        "client_name": ["Alpha", "Alpha", "Beta", "Beta", "Alpha Ltd", "Gamma", "Beta"],
        "manager": ["Ivanov", "Ivanov", "Petrova", "Petrova", "Ivanov", "Petrova", "Ivanov"],
        "product_id": ["p1", "p2", "p1", "p3", "p1", "p2", "p1"],
        "category": ["x", "y", "x", "z", "x", "y", "x"],
        "quantity": [1.0, 2.0, 3.0, 1.0, 1.0, 5.0, -1.0],
        "amount": [100.0, 50.0, 300.0, 20.0, 100.0, 250.0, -100.0],
        "order_id": ["o1", "o2", "o3", "o3", "o4", "o5", "r1"],
    })


#: the published runs' settings: every rule of 01 and 03 moved away from its default (and 05's hunters, which the
#: advice simulates), so a figure computed with a default instead of the run's setting shows (issue 24)
STORY_CONFIG = {"01": {"sleeping_min_months": 9, "sleeping_gap_multiple": 5, "max_months_asleep": 18, "abc_a": 0.75,
                       "abc_b": 0.9, "window_months": 12, "new_months": 4, "vip_active_months": 8,
                       "partner_tenure_months": 30, "regular_active_months": 5, "prospective_growth": 1.2},
                "03": {"trend_months": 30, "hunter_share": 0.3, "farmer_share": 0.12, "whitespace_min": 0.3,
                       "acquisition_mild": 0.2, "flat_threshold": 0.02},
                "05": {"hunters": 5}}

#: the xdist group of every test that reads :func:`published`: one worker makes the two runs once
PUBLISHED = pytest.mark.xdist_group("published")


@pytest.fixture(scope="session")
def published(tmp_path_factory) -> dict[str, Path]:
    """The sample published in each language as a director receives it: the whole suite with every page, the
    managers' packs and the single file, with :data:`STORY_CONFIG`; the PDFs in Russian. Read by the pages' tests
    (tests/test_pages.py) and the one-story tests (tests/test_one_story.py), which are in one xdist group
    (:data:`PUBLISHED`) so the two runs are made once."""
    import json
    from salesbook.run.cli import main
    out = tmp_path_factory.mktemp("published")
    config = out / "run.yml"
    config.write_text(json.dumps({"parameters": STORY_CONFIG}), encoding="utf-8")  # JSON is YAML
    runs = {"ru": "001", "en": "002"}  # a run's name shows on its pages: a number is in neither language
    for lang, name in runs.items():
        # the PDFs once, in Russian (tests/test_pages.py, tests/test_one_story.py): Chromium's printing was half
        # of each run's CPU
        pdf = ["--pdf"] if lang == "ru" else []
        assert main(["run", "--config", str(config), "--output", str(out), "--run-name", name, "--lang", lang,
                     "--per-manager", "--single-file", *pdf, "-q"]) == 0
    return {lang: out / name for lang, name in runs.items()}


@pytest.fixture
def chromium() -> str:
    """Debian's chromium for the browser tests. ``make test`` installs it and sets SALESBOOK_BROWSER=required,
    so there (and in CI) a missing browser fails; a bare ``pytest`` on a machine without it skips."""
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("SALESBOOK_BROWSER") == "required":
            pytest.fail("chromium is not installed: `make browser` installs Debian's package")
        pytest.skip("Debian's chromium is not installed (make browser)")
    return path


#: what a test needs, read from the fixtures it uses: a browser, a server, or a whole run of a workbook
NEEDS = {"chromium": "browser", "voila": "server", "lab": "server",
         "good": "notebook", "good_run": "notebook", "published": "notebook", "runs": "notebook",
         "pg": "server"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Honest tiers and workers (issue 25).

    A test is marked by what it needs: ``browser``, ``server`` and ``notebook`` (a workbook run through
    papermill, nbval or ``salesbook run``) come from the fixtures it uses and from nbval's notebook cells,
    besides the marks written on the tests; every such test must also be ``slow``, so that
    ``make test-fast`` (``-m "not slow"``) never runs one: a test that is not fails at collection.

    ``make test`` and ``make test-fast`` run the tests on every core (pytest-xdist, ``--dist loadgroup``):
    a test that uses a module-scoped fixture of ours (one run of the suite, one cube) goes to the same
    worker as the module's other such tests, so the fixture is made once; a notebook's cells stay
    together, in order, in one kernel; a test that names its own ``xdist_group`` (the shape matrix: one
    group per shape; Spark: one session) keeps it; every other test goes to whichever worker is free.
    Each worker has its own cache folder (above) and temporary folders; servers take free ports."""
    wrong = []
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:  # a notebook's cell under nbval
            item.add_marker(pytest.mark.notebook)
        for fixture, need in NEEDS.items():
            if info is not None and fixture in info.name2fixturedefs:
                item.add_marker(getattr(pytest.mark, need))
        needs = [m for m in ("browser", "server", "notebook") if item.get_closest_marker(m)]
        if needs and info is not None and not item.get_closest_marker("slow"):
            wrong.append(f"{item.nodeid} needs {', '.join(needs)} but is not marked slow")
        if item.get_closest_marker("xdist_group"):
            continue
        shared = info is None or any(
            defs and defs[-1].scope in ("module", "package", "session") and defs[-1].baseid
            for defs in info.name2fixturedefs.values())
        if shared:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    if wrong:
        raise pytest.UsageError("tests in the wrong tier:\n" + "\n".join(wrong))
    _longest_first(items)
    _name_groups(config, items)


#: the groups that take longest (one Spark run; the published runs and the browser's pages; the suite from
#: PostgreSQL; the shape matrix), in that order. ``make test`` passes ``--no-loadscope-reorder``: xdist then
#: hands out groups in collection order, instead of the groups with the most tests first (which left Spark's
#: four tests to the end, one worker running them alone while the other waited)
LONGEST_FIRST = ("spark", "published", "tests/test_postgres.py", "shape-")


def _longest_first(items) -> None:
    """Order the tests: the longest groups first, then the other groups, then the single tests, which fill the
    workers' gaps at the end: the slow ones (a run, a browser) and the property tests (up to 20 loads each)
    before the rest. The sort is stable: a group's tests stay together and in their order."""
    def rank(item) -> int:
        names = [str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                 for m in item.iter_markers("xdist_group")]
        for i, prefix in enumerate(LONGEST_FIRST):
            if any(name.startswith(prefix) for name in names):
                return i
        if names:
            return len(LONGEST_FIRST)
        test = getattr(item, "obj", None)
        long_single = item.get_closest_marker("slow") or getattr(test, "is_hypothesis_test", False)
        return len(LONGEST_FIRST) + (1 if long_single else 2)
    items.sort(key=rank)


def _name_groups(config, items) -> None:
    """pytest-xdist 3.8 sends a group to one worker by appending ``@group`` to each test's id through
    ``item._nodeid``; pytest 9.2 keeps the id in ``item._id`` (a ``NodeId``) and ignores ``_nodeid``, so every
    group was spread over the workers and each module-scoped fixture made once per worker
    (pytest-dev/pytest-xdist#1386). On such a pytest, write the suffix where it reads the id."""
    try:
        from _pytest.nodeid import NodeId  # pytest >= 9.2
    except ImportError:  # an older pytest reads _nodeid: xdist's own suffix works
        return
    structured = bool(items) and isinstance(getattr(items[0], "_id", None), NodeId)
    if not (structured and getattr(config.option, "loadgroup", False)):
        return
    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if names and not item.nodeid.endswith("@" + "_".join(names)):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")


def pytest_collection_finish(session):
    """Freeze what collection imported (pandas, ibis, DuckDB, the tests' modules): the garbage collector's full
    passes then walk only what the tests make. Each pass over the imported objects cost a few tenths of a second
    of CPU, a few times a minute of tests."""
    import gc
    gc.collect()
    gc.freeze()
