"""PDFs of a run's pages (A4) with headless Chromium: Debian's ``chromium`` package, as the tests use.

Chromium prints the page as a reader's browser would, with the pages' print CSS
(``pages.PAGE_CSS``: A4, no toolbars, headers repeated). Charts are drawn for a
window as wide as the paper's printable width, so that none is clipped.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable

from salesbook import paths
from salesbook.errors import EnvironmentProblem

__all__ = ["find_chromium", "print_pdfs", "pdf_of", "PRINT_WINDOW"]

#: the window Chromium lays pages out in before printing: A4's printable width (186 mm at 96 dpi, 703 px)
PRINT_WINDOW = (700, 1000)
#: Chromium flags for running headless on a machine without network (the PDFs, the tests, the benchmarks)
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]
FLAGS = ["--headless", *BROWSER_ARGS, "--no-pdf-header-footer", "--hide-scrollbars",
         "--run-all-compositor-stages-before-draw"]


def find_chromium() -> str:
    """The Chromium program (``SALESBOOK_CHROMIUM``, else ``chromium`` or ``chromium-browser`` on PATH)."""
    for name in (paths.current().chromium, "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    raise EnvironmentProblem("--pdf needs headless Chromium and none is installed: install Debian's chromium "
                             "package (`make browser`, or apt-get install chromium), or set SALESBOOK_CHROMIUM "
                             "to its path")


def _print(chromium: str, page: Path, target: Path, timeout: float) -> Path:
    with tempfile.TemporaryDirectory(prefix="salesbook-chromium-") as profile:
        cmd = [chromium, *FLAGS, f"--user-data-dir={profile}", f"--window-size={PRINT_WINDOW[0]},{PRINT_WINDOW[1]}",
               "--virtual-time-budget=20000", f"--print-to-pdf={target}", page.resolve().as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if not target.exists() or target.stat().st_size == 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise EnvironmentProblem(f"Chromium did not print {page.name} (exit {done.returncode}): {last}")
    return target


def pdf_of(page: Path) -> Path:
    """Where a page is printed: ``page.pdf`` beside it; the summary (``index.html``) as ``summary.pdf``."""
    # pathlib interns a new name: a str, never the enum member itself ("can't intern RunFile")
    return page.with_name(str(paths.RunFile.SUMMARY_PDF) if page.name == paths.RunFile.INDEX else page.stem + ".pdf")


def print_pdfs(pages: Iterable[Path], jobs: int = 2, timeout: float = 180) -> list[Path]:
    """``page.html`` -> ``page.pdf`` beside it, for every page; ``index.html`` is printed as ``summary.pdf``."""
    chromium = find_chromium()
    pages = list(pages)
    targets = [pdf_of(p) for p in pages]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda pt: _print(chromium, pt[0], pt[1], timeout), zip(pages, targets)))
