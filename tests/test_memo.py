"""Analyses kept beside the cached cube (salesbook.cube.memo): the same result, computed once, never stale."""

import functools
import shutil

import pandas as pd
import pytest

import salesbook as sb
from salesbook.cube import memo
from salesbook.analysis import segments as sg, stagnation as st


@pytest.fixture(scope="module")
def entry(tmp_path_factory):
    """The sample's cache entry, built once for the module (before any analysis kept a result in it)."""
    cube = sb.get_cube("sample", cache_dir=tmp_path_factory.mktemp("cache"))
    assert not (cube.folder / "memo").exists()
    return cube.folder


@pytest.fixture
def cached(tmp_path, entry):
    """The sample's cube read from a cache of the test's own, which holds no kept result yet: the module's
    entry copied (the same files get_cube wrote), instead of building the cube again for each test."""
    shutil.copytree(entry, tmp_path / "cubes" / entry.name)
    cube = sb.get_cube("sample", cache_dir=tmp_path)
    assert cube.folder is not None and cube.folder.parent == tmp_path / "cubes"
    return cube


def _calls(monkeypatch, module, name):
    """Count the calls that reach the function's body (the memo wraps it as __wrapped__)."""
    counted = {"n": 0}
    inner = getattr(module, name).__wrapped__

    @functools.wraps(inner)  # the same signature, so the same key
    def body(*args, **kwargs):
        counted["n"] += 1
        return inner(*args, **kwargs)
    monkeypatch.setattr(module, name, memo.per_cube(body))
    return counted


def test_a_second_call_and_another_process_read_the_result_kept_beside_the_cube(cached, monkeypatch):
    first = sg.segment(cached, cached.as_of, lang="ru")
    again = sg.segment(sb.get_cube("sample", cache_dir=cached.folder.parents[1]), cached.as_of, lang="ru")
    pd.testing.assert_frame_equal(again.classes, first.classes)
    pd.testing.assert_frame_equal(again.rfm, first.rfm)
    assert again.classes is not first.classes  # a copy each: callers may change it
    assert len(list((cached.folder / "memo").glob("segment-*.pkl"))) == 1
    n = _calls(monkeypatch, st, "diagnose")
    a = st.diagnose(cached, 24)
    b = st.diagnose(cached, 24)
    assert n["n"] == 1 and a["verdict"] == b["verdict"]
    assert [s.severity for s in a["symptoms"]] == [s.severity for s in b["symptoms"]]


def test_another_argument_or_another_code_is_computed_again(cached, monkeypatch):
    n = _calls(monkeypatch, st, "whitespace")
    st.whitespace(cached, 12)
    st.whitespace(cached, 12, 0.25)  # the default, named: the same call
    assert n["n"] == 1
    st.whitespace(cached, 6)
    assert n["n"] == 2
    monkeypatch.setattr(memo, "code_digest", lambda: "another salesbook")
    st.whitespace(cached, 12)
    assert n["n"] == 3


def test_a_cube_in_memory_or_an_argument_without_a_stable_form_is_not_kept(cached, monkeypatch, lines):
    n = _calls(monkeypatch, sg, "classify_clients")
    uncached = sb.get_cube(lines, cache=False)  # any cube without a folder: the seven hand-made lines, not the sample
    assert uncached.folder is None
    sg.classify_clients(uncached)
    sg.classify_clients(uncached)
    assert n["n"] == 2
    features = sg.features_at(cached, cached.as_of)
    sg.classify_clients(cached, cached.as_of, features=features)
    sg.classify_clients(cached, cached.as_of, features=features)
    assert n["n"] == 4 and not (cached.folder / "memo").exists()
    with pytest.raises(TypeError):
        memo._stable(pd.DataFrame())
    assert memo._stable(sg.Rules()) == memo._stable(sg.Rules())
    assert memo._stable(sg.Rules(new_months=3)) != memo._stable(sg.Rules())


def test_two_threads_asking_for_a_result_nobody_kept_compute_it_once(tmp_path):
    """The runner's summary and a workbook's kernel ask for the same diagnosis at once: one computes it, the
    other waits for it and reads what it kept (a lock file beside the result)."""
    import threading
    import time
    import types
    calls = []
    started = threading.Barrier(2)

    @memo.per_cube
    def slow(cube, n: int) -> int:
        calls.append(n)
        time.sleep(0.3)  # long enough for the other thread to ask while this one computes
        return 2 * n

    cube = types.SimpleNamespace(folder=tmp_path)

    def ask(_):
        started.wait()
        return slow(cube, 21)

    results: list = []
    threads = [threading.Thread(target=lambda: results.append(ask(None))) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert results == [42, 42] and calls == [21]
    assert len(list((tmp_path / "memo").glob("slow-*.pkl"))) == 1
    assert slow(cube, 5) == 10 and slow(cube, 5) == 10 and calls == [21, 5]  # another argument: its own result


def test_a_result_that_holds_another_kept_result_refers_to_its_file_instead_of_a_second_copy(cached, monkeypatch):
    from salesbook.analysis import walk as wk
    diagnosis = st.diagnose(cached, 24)
    walk_file, = (cached.folder / "memo").glob("revenue_walk-*.pkl")
    diagnosis_file, = (cached.folder / "memo").glob("diagnose-*.pkl")
    # the walk is most of the diagnosis: kept once, the diagnosis names its file
    assert diagnosis_file.stat().st_size < walk_file.stat().st_size / 2
    assert walk_file.name.encode() in diagnosis_file.read_bytes()
    # in this process, the walk is one object for every caller (memo_shared): the diagnosis's, read or computed
    assert wk.revenue_walk(cached) is diagnosis["walk"] and st.diagnose(cached, 24)["walk"] is diagnosis["walk"]
    assert st.diagnose(cached, 24) is not diagnosis  # a result that does not say so is a copy
    memo._FILES.clear()  # as another process reads them: from the files alone
    memo._SHARED.clear()
    n = _calls(monkeypatch, st, "diagnose")
    again = st.diagnose(cached, 24)
    assert n["n"] == 0 and again["walk"] is not diagnosis["walk"]  # read, a copy
    pd.testing.assert_frame_equal(again["walk"].lines, diagnosis["walk"].lines)
    pd.testing.assert_series_equal(again["walk"].steps, diagnosis["walk"].steps)
    assert again["verdict"] == diagnosis["verdict"]
    # the walk's file gone: the diagnosis is computed again, not read without its walk
    walk_file.unlink()
    third = st.diagnose(cached, 24)
    assert n["n"] == 1 and third["walk"].lines.equals(diagnosis["walk"].lines)
    assert walk_file.exists() and walk_file.name.encode() in diagnosis_file.read_bytes()  # both kept again
    assert wk.revenue_walk(cached).lines.equals(diagnosis["walk"].lines)


def test_a_reader_that_leaves_out_shared_results_gets_the_diagnosis_without_reading_its_walk(cached, monkeypatch):
    """leaving_out_shared (a run's summary): the kept diagnosis is read with None in place of the revenue walk it
    refers to, whose file is not opened; the rest is the diagnosis. That partial copy is not remembered: a later
    reader, or one outside the block, gets the whole diagnosis. The walk's own figures are kept too (walk_figures),
    so the summary reads them instead of the walk."""
    from salesbook.analysis import walk as wk
    from salesbook.run.walk_summary import walk_figures
    diagnosis = st.diagnose(cached, 24)
    figures = walk_figures(cached, sb.Lang("en", "EUR"))
    memo._FILES.clear()  # as another process reads them: from the files alone
    memo._SHARED.clear()
    opened: list[str] = []
    real_open = open

    def spy(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr("builtins.open", spy)
    n = _calls(monkeypatch, st, "diagnose")
    with memo.leaving_out_shared():
        partial = st.diagnose(cached, 24)
        again = walk_figures(cached, sb.Lang("en", "EUR"))
    assert n["n"] == 0 and partial["walk"] is None
    assert partial["verdict"] == diagnosis["verdict"] and partial["causes"] == diagnosis["causes"]
    assert [s.key for s in partial["symptoms"]] == [s.key for s in diagnosis["symptoms"]]
    assert not any("revenue_walk-" in p for p in opened)  # the walk's file never opened
    assert again == figures and any("walk_figures-" in p for p in opened)
    whole = st.diagnose(cached, 24)
    assert n["n"] == 0 and whole["walk"] is not None
    pd.testing.assert_frame_equal(whole["walk"].lines, diagnosis["walk"].lines)
    assert wk.revenue_walk(cached) is whole["walk"]


def test_the_heap_is_given_back_after_a_result_is_computed_not_after_it_is_read(cached, monkeypatch):
    """per_cube gives the memory an analysis freed back to the system (release_heap) once it has computed and kept
    its result: once, for the outermost (the diagnosis, not each analysis it computes on the way, such as the walk);
    reading a kept result computes nothing, and gives nothing back."""
    from salesbook.analysis import walk as wk
    given: list[int] = []
    monkeypatch.setattr(memo, "release_heap", lambda: given.append(1))
    st.diagnose(cached, 24)
    assert given == [1] and list((cached.folder / "memo").glob("revenue_walk-*.pkl"))
    st.diagnose(cached, 24)
    wk.revenue_walk(cached)
    assert given == [1]
    sg.segment(cached, cached.as_of)
    assert given == [1, 1]


def test_release_heap_runs_here():
    """Where there is a glibc (Linux) it trims; elsewhere it does nothing: either way it returns."""
    import sys
    assert memo.release_heap() is None
    assert (memo._libc() is not None and hasattr(memo._libc(), "malloc_trim")) or not sys.platform.startswith("linux")
