"""The ``salesbook`` command: run reports, present a workshop, validate a file, write the sample."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from salesbook import __version__
from salesbook import paths
from salesbook.errors import DataError, EnvironmentProblem, ParameterError

__all__ = ["main"]

_CONFIG_KEYS = {"source", "mapping", "as_of", "lang", "currency", "single_file", "pdf", "per_manager", "notebooks", "parameters", "output", "run_name", "pipeline",
                "plan", "jobs"}


def _read_config(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ParameterError(f"{path}: cannot read the run config: {exc}") from None
    if not isinstance(raw, dict):
        raise ParameterError(f"{path}: the run config must be a YAML mapping")
    unknown = set(raw) - _CONFIG_KEYS
    if unknown:
        raise ParameterError(f"{path}: unknown keys {', '.join(sorted(unknown))}; allowed: "
                             + ", ".join(sorted(_CONFIG_KEYS)))
    return raw


#: options that name a file or folder: relative ones are taken from where they were written (below)
_PATHS = ("source", "mapping", "output", "pipeline", "plan")
#: words that name something of salesbook's own, never a path
_KEYWORDS = {"sample", "1c", "auto"}


def _absolute(value: Any, base: Path) -> Any:
    """``value`` as an absolute path from ``base``; keywords (``sample``, ``1c``), engine sources
    (``spark:...``, ``postgres://...#t``) and empty values unchanged."""
    if value in (None, "") or not isinstance(value, (str, Path)):
        return value
    text = str(value)
    from salesbook.data.engines import is_engine_source
    if text in _KEYWORDS:
        return text
    if is_engine_source(text):
        rest = text.split(":", 1)[1] if text.startswith("spark:") else ""
        local = base / rest if rest and not rest.startswith("/") and "://" not in rest and rest != "sample" else None
        # spark:<file or folder> is a path like any other; spark:<catalog table> and URLs stay as written
        return "spark:" + str(local.resolve()) if local is not None and local.exists() else text
    path = Path(text).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def _options(args: argparse.Namespace) -> tuple[dict[str, Any], Callable[[str, Any], Any]]:
    """The run config (``--config``) and a ``pick(key, default)``: the command line first, then the config.

    Paths mean one thing wherever they are written: on the command line, relative to the current folder;
    in a run config, relative to the config file's folder. The notebooks receive them absolute.
    """
    cfg = _read_config(Path(args.config)) if args.config else {}
    cfg_base = Path(args.config).resolve().parent if args.config else Path.cwd()
    here = Path.cwd()

    def pick(key: str, default: Any) -> Any:
        value = getattr(args, key, None)
        if value is not None:
            return _absolute(value, here) if key in _PATHS else value
        value = cfg.get(key, default)
        return _absolute(value, cfg_base) if key in _PATHS and key in cfg else value
    return cfg, pick


#: exit codes (README): 0 ok; 1 a notebook (or the run itself) failed; 2 bad data, parameters or paths,
#: or another run holds the output folder; 3 the environment: disk full, no permission, out of memory
EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_ENVIRONMENT = 0, 1, 2, 3


def _fail(command: str, exc: BaseException, debug: bool) -> int:
    """One line on stderr naming the cause, and the exit code of its kind; the traceback only with --debug
    (a failed run also keeps it in its ``.failed-<run>/run.log``)."""
    import traceback
    from salesbook.run.runner import RunError
    if isinstance(exc, (DataError, ParameterError)):
        code, text = EXIT_INPUT, str(exc)
    elif isinstance(exc, RunError):
        code, text = EXIT_FAILED, f"FAILED: {exc}"
    elif isinstance(exc, EnvironmentProblem):
        code, text = EXIT_ENVIRONMENT, str(exc)
    elif isinstance(exc, MemoryError):
        code, text = EXIT_ENVIRONMENT, "out of memory (SALESBOOK_DUCKDB_MEMORY caps DuckDB's share)"
    elif isinstance(exc, OSError):
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        code, text = EXIT_ENVIRONMENT, f"cannot write or read{where}: {exc.strerror or exc}"
    else:
        code, text = EXIT_FAILED, f"unexpected error: {type(exc).__name__}: {exc}"
    print(f"salesbook {command}: " + " ".join(text.split()), file=sys.stderr)
    if debug:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    return code


#: the BLAS libraries' thread counts (OpenBLAS in NumPy's and SciPy's wheels; MKL in some distributions')
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def one_blas_thread() -> None:
    """One BLAS thread per process of a run, unless the user set a count: a run works side by side (its kernels,
    two at a time, and the summary in this process) on small matrices, where OpenBLAS's threads, one per core in
    every process, mostly wait for each other (the at-risk model's fit on the sample: 0.5 s with them, 0.12 s
    without, on 2 cores with a test run beside it). The kernels and their zygote inherit the variables; this
    process reads them when it loads NumPy, or, if it has already, its pool is set through threadpoolctl."""
    if all(var in os.environ for var in BLAS_THREADS):
        return
    for var in BLAS_THREADS:
        os.environ.setdefault(var, "1")
    from threadpoolctl import threadpool_limits
    threadpool_limits(int(os.environ["OPENBLAS_NUM_THREADS"]), user_api="blas")


@contextlib.contextmanager
def run_process() -> Iterator[None]:
    """What a process that runs the suite sets up before anything else (``salesbook run``, and the benchmarks that
    run it in their own process): one BLAS thread, then the kernels' zygote started early, killed on the way out
    if the run's engine did not take it."""
    one_blas_thread()  # before the zygote starts: it and the kernels it forks load NumPy with these variables
    early = paths.current().fork is not False  # forked kernels (where they can be) unless SALESBOOK_FORK=0
    if early:
        from salesbook.run import forked
        forked.start_early()  # before anything else is imported here: see start_early
    try:
        yield
    finally:
        if early:
            forked.drop_early()  # the run ended before its engine took it


def _cmd_run(args: argparse.Namespace) -> int:
    with run_process():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from salesbook.run.runner import run
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    try:
        cfg, pick = _options(args)
        result = run(args.notebooks or cfg.get("notebooks"), source=str(pick("source", "sample")),
                     mapping=str(pick("mapping", "") or ""), as_of=str(pick("as_of", "") or ""),
                     lang=pick("lang", "en"), currency=pick("currency", None),
                     out=Path(pick("output", paths.REPORTS_DIR)),
                     run_name=pick("run_name", None), parameters=cfg.get("parameters"), log=log,
                     progress=not args.quiet, config=cfg, pipeline=pick("pipeline", None),
                     plan_file=pick("plan", None), jobs=int(pick("jobs", 2)), wait=float(args.wait or 0),
                     cache=not args.no_cache, single_file=bool(pick("single_file", False)),
                     pdf=bool(pick("pdf", False)), per_manager=bool(pick("per_manager", False)),
                     fork=paths.current().fork)
    except (Exception, MemoryError) as exc:  # noqa: BLE001 - every failure ends in one line and its exit code
        code = _fail("run", exc, args.debug)
        if isinstance(exc, DataError) and not args.mapping and not args.config:
            _print_proposal(str(args.source or "sample"), exc, args.lang or "en", sys.stderr)
        return code
    print(result.index)
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    from salesbook.data.load import load_sales
    here = Path.cwd()  # relative paths on the command line: from the current folder
    try:
        mapping = _absolute(args.mapping, here) or None
        if mapping == "auto":
            mapping = _auto_mapping_file(_absolute(args.file, here), args.lang)
        sales = load_sales(_absolute(args.file, here), mapping, as_of=args.as_of or None,
                           bad_values="drop" if args.drop_bad else "raise")
    except (DataError, ParameterError) as exc:
        print(str(exc))
        if not args.mapping:
            _print_proposal(args.file, exc, args.lang, sys.stdout)
        return 1
    print(sales.report.to_text(args.lang))
    return 0


def _auto_mapping_file(source: str, lang: str) -> str:
    """``--mapping auto`` for validate: the proposal written to a temporary file (or the error)."""
    import tempfile
    from salesbook.data.propose import auto_mapping
    text = auto_mapping(source, lang)
    fd, name = tempfile.mkstemp(prefix="salesbook-mapping-", suffix=".yml")
    with open(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return name


def _print_proposal(source: str, exc: BaseException, lang: str, stream: Any) -> None:
    """After a load that found no canonical columns: the proposed mapping, and the command that saves it."""
    from salesbook.data.propose import is_missing_columns, propose
    from salesbook.i18n import t
    if not is_missing_columns(exc) or source in _KEYWORDS:
        return
    try:
        proposal = propose(_absolute(source, Path.cwd()), lang)
    except (DataError, ParameterError):
        return
    print(file=stream)
    print(proposal.to_yaml(lang), file=stream)
    print(t("map.save", lang, command=f"salesbook map {source} --write mapping.yml"), file=stream)


def _cmd_map(args: argparse.Namespace) -> int:
    from salesbook.data.propose import propose
    from salesbook.i18n import t
    try:
        proposal = propose(_absolute(args.file, Path.cwd()), args.lang)
    except (DataError, ParameterError) as exc:
        return _fail("map", exc, False)
    text = proposal.to_yaml(args.lang)
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
        print(f"{args.write}")
        weak = proposal.weak()
        if weak:
            print(t("map.low_confidence", args.lang, columns=", ".join(weak), source=args.file), file=sys.stderr)
        return EXIT_OK
    print(text)
    print(t("map.save", args.lang, command=f"salesbook map {args.file} --write mapping.yml"))
    return EXIT_OK


def _cmd_sample(args: argparse.Namespace) -> int:
    from salesbook.data.sample import SampleSpec, write_sample
    spec = (SampleSpec.growing() if args.growing else SampleSpec.handovers() if args.handovers
            else SampleSpec.no_story() if args.no_story else SampleSpec())
    out = Path(args.out) if args.out else paths.SAMPLE_DIR
    s = write_sample(out, spec)
    print(f"{len(s.lines):,} lines, {s.lines.client_id.nunique():,} clients written to {out}")
    return 0


def _cmd_present(args: argparse.Namespace) -> int:
    from salesbook.run.present import serve
    try:
        cfg, pick = _options(args)
        return serve(args.notebooks or cfg.get("notebooks"), port=args.port, ip=args.ip, open_browser=args.open,
                     source=str(pick("source", "sample")), mapping=str(pick("mapping", "") or ""),
                     as_of=str(pick("as_of", "") or ""), lang=pick("lang", "en"),
                     currency=pick("currency", None), parameters=cfg.get("parameters"),
                     preheat=not args.no_preheat)
    except (DataError, ParameterError, EnvironmentProblem) as exc:
        return _fail("present", exc, False)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="salesbook", description="B2B sales diagnostics workbooks.")
    p.add_argument("--version", action="version", version=f"salesbook {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run workbooks and write HTML reports")
    r.add_argument("notebooks", nargs="*", help="notebooks to run (00, 00_overview, ...); default all")
    r.add_argument("--config", help="YAML run config (source, mapping, as_of, lang, notebooks, parameters, output)")
    r.add_argument("--source", help="sales file or 'sample' (default)")
    r.add_argument("--mapping", help="mapping YAML, preset (1c), or auto: the proposal of salesbook map when every "
                   "required column is found with high confidence (written to the run's folder)")
    r.add_argument("--as-of", dest="as_of",
                   help="analysis date yyyy-mm-dd, or last-full-month (default: last date in the data)")
    r.add_argument("--lang", choices=["en", "ru"])
    r.add_argument("--currency", help="ISO 4217 code of the amounts, shown as the language writes it "
                   "(default: the mapping's currency, else RUB)")
    r.add_argument("--output", help="reports folder (default: reports/)")
    r.add_argument("--run-name", dest="run_name", help="name of the run's folder (default: date and time)")
    r.add_argument("--pipeline", help="pipeline file for the forecast (CSV/XLSX); default none (the sample's own with the sample)")
    r.add_argument("--plan", help="plan file: month, plan")
    r.add_argument("--jobs", type=int, help="notebooks run at the same time, each in its own kernel "
                   "holding the cube (default 2)")
    r.add_argument("--wait", type=float, help="seconds to wait for another run writing to the same output "
                   "folder (default: stop at once, exit 2)")
    r.add_argument("--no-cache", dest="no_cache", action="store_true",
                   help="build the cube for this run only (neither read nor keep the cache)")
    r.add_argument("--single-file", dest="single_file", action="store_true", default=None,
                   help="also write <run>.html: the summary and every workbook in one self-contained page, for mail")
    r.add_argument("--pdf", action="store_true", default=None, help="also write summary.pdf and each workbook's PDF (A4) "
                   "with headless Chromium (Debian's chromium package)")
    r.add_argument("--per-manager", dest="per_manager", action="store_true", default=None,
                   help="also write managers/<manager>/: each manager's one-page summary and Excel, only his clients")
    r.add_argument("--debug", action="store_true", help="print the traceback of a failure")
    r.add_argument("-q", "--quiet", action="store_true", help="print only the report path (for schedulers)")
    r.set_defaults(func=_cmd_run)

    v = sub.add_parser("validate", help="check a sales file and print the validation report")
    v.add_argument("file")
    v.add_argument("--mapping", help="mapping YAML, preset (1c) or auto (the proposal of salesbook map)")
    v.add_argument("--as-of", dest="as_of")
    v.add_argument("--lang", choices=["en", "ru"], default="en")
    v.add_argument("--drop-bad", action="store_true", help="drop and count unreadable values instead of failing")
    v.set_defaults(func=_cmd_validate)

    mp = sub.add_parser("map", help="propose a mapping for a file's columns, as commented YAML")
    mp.add_argument("file", help="the sales file (CSV, text, .xlsx, .xls, .ods, Parquet) or an engine source")
    mp.add_argument("--write", help="save the proposal to this YAML file (then: --mapping FILE)")
    mp.add_argument("--lang", choices=["en", "ru"], default="en")
    mp.set_defaults(func=_cmd_map)

    pr = sub.add_parser("present", help="workshop: the workbooks as Voilà dashboards (sliders, no code), offline")
    pr.add_argument("notebooks", nargs="*", help="notebooks to present (default: 00_overview 05_whatif)")
    pr.add_argument("--config", help="YAML run config: its source, mapping, as_of, lang, notebooks and parameters")
    pr.add_argument("--source", help="sales file or 'sample' (default)")
    pr.add_argument("--mapping", help="mapping YAML or preset (1c)")
    pr.add_argument("--as-of", dest="as_of", help="analysis date yyyy-mm-dd, or last-full-month")
    pr.add_argument("--lang", choices=["en", "ru"])
    pr.add_argument("--currency", help="ISO 4217 code of the amounts (default RUB)")
    pr.add_argument("--port", type=int, default=8866, help="port of the Voilà server (default 8866)")
    pr.add_argument("--ip", default="127.0.0.1", help="address to listen on (default: this machine only)")
    pr.add_argument("--open", action="store_true", help="open the page in the default browser")
    pr.add_argument("--no-preheat", dest="no_preheat", action="store_true",
                    help="start a workbook's kernel on the click instead of ahead (less memory, 10 s a page)")
    pr.set_defaults(func=_cmd_present)

    s = sub.add_parser("sample", help="write the deterministic sample data set")
    s.add_argument("--out", help="folder (default: data/sample)")
    s.add_argument("--growing", action="store_true", help="the growing company instead of the stagnating one")
    s.add_argument("--handovers", action="store_true",
                   help="the committed company with hand-overs after the 2nd deal (data/sample/README.md)")
    s.add_argument("--no-story", action="store_true",
                   help="a company with no planted effect: every comparison must find nothing (data/sample/README.md)")
    s.set_defaults(func=_cmd_sample)
    return p


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> int:
    """The command line: its environment (``environ``, default the process's) is read here, once, into
    :func:`salesbook.paths.setup` (folders and switches); nothing below reads an environment variable."""
    paths.setup(os.environ if environ is None else environ)
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
