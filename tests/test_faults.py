"""Scheduled runs that never serve stale figures, never jam, and end with one line (issue 16).

Each fault asserts the exit code, the one line the scheduler mails, that the last good report is
untouched, and that nothing is left behind (no temporary folder, no kernel sockets or connection files).

Two tiers (issue 25): the end-to-end faults run ``salesbook run`` as a scheduler does (a notebook, its
kernels) and are marked ``slow``; each fault path also has a unit test here, in the fast tier, that
reaches the same code in this process and stops before any kernel starts.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

import salesbook as sb
from salesbook.run import runner
from salesbook.run.cli import main
from salesbook.views.export import inert, restored, write_plain_csv

ROOT = Path(__file__).resolve().parents[1]
SALESBOOK = str(Path(sys.executable).with_name("salesbook"))


def cli(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([SALESBOOK, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env={**os.environ, **(env or {})})


def one_line(done: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def leftovers(out: Path, pid: int | None = None) -> list[str]:
    found = [p.name for p in out.glob(".tmp-*")] + [p.name for p in out.glob(".old-*")]
    if pid is not None:
        found += [p.name for p in Path(tempfile.gettempdir()).glob(f"{runner.SOCKETS_PREFIX}{pid}-*")]
    return found


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    """An output folder with one good run ("good") of the overview on the sample."""
    out = tmp_path_factory.mktemp("faults") / "reports"
    assert main(["run", "00", "--output", str(out), "--run-name", "good", "-q"]) == 0
    return out


def _page(out: Path) -> bytes:
    return (out / "good" / "index.html").read_bytes()


# --------------------------------------------------------------------------- never stale


def test_a_same_size_same_mtime_replacement_of_the_source_is_not_served_from_the_cache(tmp_path):
    src = tmp_path / "sales.csv"
    src.write_text("date,client_id,amount\n2024-01-05,A,100\n2024-02-05,B,300\n", encoding="utf-8")
    first = sb.get_cube(str(src), cache_dir=tmp_path / "cache")
    stat = src.stat()
    src.write_text("date,client_id,amount\n2024-01-05,A,700\n2024-02-05,B,900\n", encoding="utf-8")  # same size
    os.utime(src, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as cp -p, rsync and some export jobs keep it
    assert src.stat().st_size == stat.st_size and src.stat().st_mtime_ns == stat.st_mtime_ns
    second = sb.get_cube(str(src), cache_dir=tmp_path / "cache")
    assert (first.report.revenue, second.report.revenue) == (400.0, 1600.0)
    assert first.folder != second.folder


def test_a_cache_entry_another_run_wrote_first_is_kept_whole(tmp_path):
    src = tmp_path / "sales.csv"
    src.write_text("date,client_id,amount\n2024-01-05,A,100\n", encoding="utf-8")
    a = sb.get_cube(str(src), cache_dir=tmp_path / "cache")
    (a.folder / "meta.json").unlink()  # pretend our entry is another run's, half-read: the next build
    # must not delete a folder someone may be reading; its own copy is dropped and nothing else changes
    b = sb.get_cube(str(src), cache_dir=tmp_path / "cache")
    assert b.report.revenue == 100.0
    assert not list((tmp_path / "cache" / "cubes").glob(".*"))  # no temporary copy left


# --------------------------------------------------------------------------- never jammed


@pytest.mark.slow
def test_a_second_run_into_the_same_folder_exits_2_naming_the_first(good):
    before = _page(good)
    lock = runner._lock_output(good)  # another run holds the folder
    try:
        done = cli("run", "00", "--output", str(good), "-q", "--wait", "1")
    finally:
        lock.close()
    assert done.returncode == 2
    line = one_line(done)
    assert f"another run (pid {os.getpid()}, started " in line and str(good) in line
    assert _page(good) == before and leftovers(good) == []


@pytest.mark.slow
@pytest.mark.notebook
def test_kill_9_in_the_middle_of_a_run_then_a_new_run_succeeds_and_cleans_up(good):
    before = _page(good)
    proc = subprocess.Popen([SALESBOOK, "run", "--output", str(good), "-q"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    sockets = lambda: list(Path(tempfile.gettempdir()).glob(f"{runner.SOCKETS_PREFIX}{proc.pid}-*"))  # noqa: E731
    while time.monotonic() < deadline and not (leftovers(good) and any(f.glob("kernel-*.json") for f in sockets())):
        time.sleep(0.2)
    assert leftovers(good) and sockets(), "the run never started its kernels"
    os.killpg(proc.pid, signal.SIGKILL)  # the runner and its kernels, as an OOM killer or a reboot would
    proc.wait()
    dead = proc.pid
    assert leftovers(good, dead)  # what it left: its temporary folder, its kernels' sockets and keys
    done = cli("run", "00", "--output", str(good), "--run-name", "after-kill", "-q")
    assert done.returncode == 0, done.stderr
    assert leftovers(good, dead) == []
    assert "removed the leftovers of a run that died" in (good / "after-kill" / "run.log").read_text(encoding="utf-8")
    assert _page(good) == before


@pytest.mark.slow
def test_a_disk_full_at_the_end_leaves_nothing_and_the_next_run_succeeds(good, monkeypatch):
    before = _page(good)

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device", str(good / "x"))
    monkeypatch.setattr(runner, "write_plain_csv", full)  # the last files of the run cannot be written
    with pytest.raises(OSError):
        runner.run(["00"], out=good, run_name="full")
    assert leftovers(good) == [] and not (good / "full").exists()
    # kept for diagnosis: the executed notebooks and the log (with the traceback) only
    assert {p.name for p in (good / ".failed-full").iterdir()} == {"notebooks", "run.log"}
    assert "No space left on device" in (good / ".failed-full" / "run.log").read_text(encoding="utf-8")
    assert _page(good) == before
    monkeypatch.undo()
    assert runner.run(["00"], out=good, run_name="full").index.exists()
    # what the scheduler mails: one line, exit 3 (the environment)
    from salesbook.run.cli import _fail
    assert _fail("run", OSError(errno.ENOSPC, "No space left on device", "/reports/x"), False) == 3


# --------------------------------------------------------------------------- one line, its exit code


@pytest.mark.slow
@pytest.mark.parametrize("args, env, code, says", [
    (["--as-of", "01.10.2026"], {}, 2, "write it as yyyy-mm-dd"),
    (["--as-of", "2026-13-01"], {}, 2, "write it as yyyy-mm-dd"),
    (["--run-name", "../../x"], {}, 2, "run name '../../x'"),
    ([], {"SALESBOOK_DUCKDB_MEMORY": "lots"}, 2, "SALESBOOK_DUCKDB_MEMORY='lots'"),
])
def test_bad_parameters_and_settings_end_in_one_line_and_exit_2(good, args, env, code, says):
    before = _page(good)
    done = cli("run", "00", "--output", str(good), "-q", "--no-cache", *args, env=env)
    assert done.returncode == code, done.stderr
    assert says in one_line(done)
    assert _page(good) == before and leftovers(good) == [] and not (good / "x").exists()


@pytest.mark.slow
def test_corrupt_parquet_and_xlsx_end_in_one_line_naming_the_file(good, tmp_path):
    bad_parquet = tmp_path / "sales.parquet"
    bad_parquet.write_bytes((ROOT / "data" / "sample" / "sales.parquet").read_bytes()[:5000])  # truncated
    bad_xlsx = tmp_path / "sales.xlsx"
    bad_xlsx.write_bytes(b"PK\x03\x04 truncated")
    before = _page(good)
    for path, what in ((bad_parquet, "not a readable Parquet file"), (bad_xlsx, "not a readable Excel workbook")):
        done = cli("run", "00", "--source", str(path), "--output", str(good), "-q")
        assert done.returncode == 2, done.stderr
        line = one_line(done)
        assert str(path) in line and what in line
    assert _page(good) == before and leftovers(good) == []


@pytest.mark.slow
def test_a_mapping_that_would_build_a_huge_string_is_refused_in_one_line(good, tmp_path):
    mapping = tmp_path / "m.yml"
    mapping.write_text("columns:\n  date: date\n  client_id: client_id\n  amount: \"'x' * 1000000000000\"\n",
                       encoding="utf-8")
    done = cli("run", "00", "--mapping", str(mapping), "--output", str(good), "-q")
    assert done.returncode == 2 and "numbers (up to 1e12)" in one_line(done)


@pytest.mark.slow
def test_an_output_folder_that_cannot_be_written_exits_3_naming_it(tmp_path):
    # as root a read-only mode does not stop a write; a path through a file fails for everyone
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    done = cli("run", "00", "--output", str(blocker / "reports"), "-q")
    assert done.returncode == 3
    assert str(blocker) in one_line(done)


# --------------------------------------------------------------------------- paths that mean one thing


@pytest.mark.slow
@pytest.mark.notebook
def test_relative_paths_mean_the_current_folder_on_the_command_line_and_the_config_folder_in_a_config(tmp_path):
    work = tmp_path / "work"
    (work / "in").mkdir(parents=True)
    (work / "in" / "sales.csv").write_text("date,client_id,amount\n2024-01-05,A,100\n2024-02-05,B,300\n",
                                           encoding="utf-8")
    done = cli("run", "00", "--source", "in/sales.csv", "--output", "out", "--run-name", "r", "-q", cwd=work)
    assert done.returncode == 0, done.stderr
    assert (work / "out" / "r" / "index.html").exists()
    conf = tmp_path / "etc"
    conf.mkdir()
    (conf / "in").mkdir()
    (conf / "in" / "s.csv").write_text("date,client_id,amount\n2024-01-05,A,10\n", encoding="utf-8")
    (conf / "run.yml").write_text("source: in/s.csv\noutput: reports\nrun_name: c\n", encoding="utf-8")
    elsewhere = tmp_path / "cron-cwd"
    elsewhere.mkdir()
    done = cli("run", "00", "--config", str(conf / "run.yml"), "-q", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert (conf / "reports" / "c" / "index.html").exists() and not (elsewhere / "reports").exists()
    report = (conf / "reports" / "c" / "load_report.json").read_text(encoding="utf-8")
    assert str(conf / "in" / "s.csv") in report  # the notebooks were given the absolute path


# --------------------------------------------------------------------------- inputs held to sense


def test_an_implausible_amount_is_set_aside_and_never_summed():
    lines = pd.DataFrame({"date": pd.to_datetime(["2024-01-05"] * 20 + ["2024-02-01"]).astype("datetime64[us]"),
                          "client_id": [f"C{i}" for i in range(21)], "amount": [100.0] * 20 + [1e300]})
    sales = sb.load_sales(lines)
    line = next(ln for ln in sales.report.lines if ln.reason == "suspicious_amount")
    assert line.count == 1 and line.values == ["1e+300"] and line.amount == 0.0
    assert sales.report.revenue == 2000.0 and sales.report.balanced


def test_a_runs_categories_csv_is_neutralised_and_read_back_as_it_was(tmp_path):
    cats = pd.DataFrame({"client_id": ["=1+2", "@SUM(A1)", "C1"], "category": ["new", "vip", "regular"],
                         "revenue": [1.0, 2.0, 3.0]})
    path = write_plain_csv(cats, tmp_path / "categories.csv")
    text = path.read_text(encoding="utf-8")
    assert "'=1+2" in text and "'@SUM(A1)" in text and "\n=1+2" not in text
    back = pd.read_csv(path, dtype={"client_id": str}).client_id.map(restored)
    assert back.tolist() == ["=1+2", "@SUM(A1)", "C1"] and inert("=x") == "'=x"


def test_a_duckdb_file_reads_its_only_table_or_the_one_named_and_stays_unwritten(tmp_path):
    import duckdb
    db = tmp_path / "erp.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create table lines as select date '2024-01-05' as date, 'A' as client_id, 100.0 as amount")
    con.close()
    before = db.read_bytes()
    assert sb.load_sales(str(db)).report.rows_kept == 1
    assert sb.load_sales(f"{db}#lines").report.rows_kept == 1
    assert db.read_bytes() == before


# --------------------------------------------------------------------------- the same faults, unit level (fast tier)


@pytest.fixture
def last_good(tmp_path) -> Path:
    """An output folder holding a last good report (a page written by hand, no run needed)."""
    out = tmp_path / "reports"
    (out / "good").mkdir(parents=True)
    (out / "good" / "index.html").write_text("<html>good</html>", encoding="utf-8")
    return out


def _stderr_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_held_output_folder_stops_a_second_run_before_anything_starts(last_good, capsys):
    lock = runner._lock_output(last_good)  # another run holds the folder
    try:
        assert main(["run", "00", "--output", str(last_good), "-q"]) == 2
    finally:
        lock.close()
    line = _stderr_line(capsys)
    assert f"another run (pid {os.getpid()}, started " in line and str(last_good) in line
    assert _page(last_good) == b"<html>good</html>" and leftovers(last_good) == []


def test_the_leftovers_of_a_dead_run_are_swept_and_a_live_runs_are_not(last_good):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process that has ended: its pid names a dead run
    mine = Path(tempfile.mkdtemp(prefix=f"{runner.SOCKETS_PREFIX}{os.getpid()}-"))
    theirs = Path(tempfile.mkdtemp(prefix=f"{runner.SOCKETS_PREFIX}{dead.pid}-"))
    (theirs / "kernel-1.json").write_text("{}", encoding="utf-8")  # a dead kernel's key
    (last_good / f".tmp-x-{dead.pid}-abc123" / "notebooks").mkdir(parents=True)
    try:
        removed = runner._sweep_leftovers(last_good)
        assert str(theirs) in removed and not theirs.exists()
        assert leftovers(last_good, dead.pid) == []
        assert mine.exists() and str(mine) not in removed  # this process is alive: its kernels are kept
        assert _page(last_good) == b"<html>good</html>"
    finally:
        shutil.rmtree(mine, ignore_errors=True)


def test_a_failed_run_keeps_its_notebooks_and_log_only_and_a_full_disk_exits_3(tmp_path, capsys):
    tmp = tmp_path / "reports" / ".tmp-full-1-abc"
    (tmp / "notebooks").mkdir(parents=True)
    (tmp / "notebooks" / "00_overview.ipynb").write_text("{}", encoding="utf-8")
    (tmp / "index.html").write_text("half", encoding="utf-8")
    (tmp / "assets").mkdir()
    failed = tmp_path / "reports" / ".failed-full"
    full = OSError(errno.ENOSPC, "No space left on device", str(tmp / "x"))
    runner._set_aside(tmp, failed, ["started"], full)
    assert not tmp.exists() and {p.name for p in failed.iterdir()} == {"notebooks", "run.log"}
    assert "No space left on device" in (failed / "run.log").read_text(encoding="utf-8")
    # bad data before any notebook ran: nothing is kept, the one line says it all
    early = tmp_path / "reports" / ".tmp-bad-1-abc"
    (early / "notebooks").mkdir(parents=True)
    runner._set_aside(early, tmp_path / "reports" / ".failed-bad", [], sb.DataError("x.csv", "file not found"))
    assert not early.exists() and not (tmp_path / "reports" / ".failed-bad").exists()
    from salesbook.run.cli import _fail
    assert _fail("run", full, False) == 3
    assert "No space left on device" in _stderr_line(capsys)


@pytest.mark.parametrize("args, says", [
    (["--as-of", "01.10.2026"], "write it as yyyy-mm-dd"),
    (["--as-of", "2026-13-01"], "write it as yyyy-mm-dd"),
    (["--run-name", "../../x"], "run name '../../x'"),
])
def test_bad_parameters_end_in_one_line_and_exit_2_before_anything_runs(last_good, capsys, args, says):
    assert main(["run", "00", "--output", str(last_good), "-q", "--no-cache", *args]) == 2
    assert says in _stderr_line(capsys)
    assert _page(last_good) == b"<html>good</html>" and leftovers(last_good) == []
    assert not (last_good / "x").exists()


def test_a_bad_duckdb_memory_setting_is_a_parameter_error_naming_it(monkeypatch):
    from salesbook.data.load import connect
    from salesbook.errors import ParameterError
    monkeypatch.setenv("SALESBOOK_DUCKDB_MEMORY", "lots")
    with pytest.raises(ParameterError, match="SALESBOOK_DUCKDB_MEMORY='lots'"):
        connect()


def test_corrupt_parquet_and_xlsx_are_data_errors_naming_the_file(tmp_path, capsys):
    bad_parquet = tmp_path / "sales.parquet"
    bad_parquet.write_bytes((ROOT / "data" / "sample" / "sales.parquet").read_bytes()[:5000])  # truncated
    bad_xlsx = tmp_path / "sales.xlsx"
    bad_xlsx.write_bytes(b"PK\x03\x04 truncated")
    from salesbook.run.cli import _fail
    for path, what in ((bad_parquet, "not a readable Parquet file"), (bad_xlsx, "not a readable Excel workbook")):
        with pytest.raises(sb.DataError) as caught:
            sb.load_sales(path)
        assert _fail("run", caught.value, False) == 2
        line = _stderr_line(capsys)
        assert str(path) in line and what in line


def test_a_mapping_that_would_build_a_huge_string_is_a_data_error(tmp_path):
    mapping = tmp_path / "m.yml"
    mapping.write_text("columns:\n  date: date\n  client_id: client_id\n  amount: \"'x' * 1000000000000\"\n",
                       encoding="utf-8")
    with pytest.raises(sb.DataError, match=r"numbers \(up to 1e12\)"):
        sb.load_sales("sample", mapping=str(mapping))


def test_an_output_folder_that_cannot_be_made_exits_3_naming_it(tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    assert main(["run", "00", "--output", str(blocker / "reports"), "-q"]) == 3
    assert str(blocker) in _stderr_line(capsys)


def test_relative_paths_mean_the_current_folder_on_the_command_line_and_the_config_folder_in_a_config(
        tmp_path, monkeypatch):
    from salesbook.run.cli import _options, build_parser
    work, conf = tmp_path / "work", tmp_path / "etc"
    work.mkdir()
    conf.mkdir()
    (conf / "run.yml").write_text("source: in/s.csv\noutput: reports\nrun_name: c\n", encoding="utf-8")
    monkeypatch.chdir(work)
    _, pick = _options(build_parser().parse_args(["run", "00", "--source", "in/sales.csv", "--output", "out"]))
    assert Path(pick("source", "sample")) == work / "in" / "sales.csv" and Path(pick("output", "")) == work / "out"
    monkeypatch.chdir(tmp_path)  # a scheduler's folder, elsewhere
    _, pick = _options(build_parser().parse_args(["run", "00", "--config", str(conf / "run.yml")]))
    assert Path(pick("source", "sample")) == conf / "in" / "s.csv" and Path(pick("output", "")) == conf / "reports"
    assert pick("run_name", None) == "c"
