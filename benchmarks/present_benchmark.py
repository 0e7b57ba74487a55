"""The workshop's cost of preheated kernels: page time after the click, server start, memory.

    python benchmarks/present_benchmark.py

``salesbook present`` is started twice on the sample, with Voilà's preheated kernels (the default) and
with ``--no-preheat``. For each: the seconds until the start page answers, then (after
``SETTLE`` seconds) the resident memory of the server and its kernels, and the time from a click on each
workbook of the start page until its content is on screen (headless Chromium).
"""

import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import psutil

from salesbook.run import present

#: seconds given to the preheated kernels after the start page answers (a consultant opens the start page,
#: then talks; measured: the two workbooks of the sample take about 10 s on 2 cores)
SETTLE = 30


def _memory(pid: int) -> float:
    proc = psutil.Process(pid)
    procs = [proc] + proc.children(recursive=True)
    return sum(p.memory_info().rss for p in procs if p.is_running()) / 1e6


def measure(preheat: bool, chromium: str) -> dict:
    from playwright.sync_api import sync_playwright
    port = present.free_port()
    log = Path(tempfile.mkdtemp()) / "voila.log"
    t0 = time.perf_counter()
    proc = present.start(port, log, *([] if preheat else ["--no-preheat"]), timeout=180)
    up = time.perf_counter() - t0
    time.sleep(SETTLE)  # the preheated kernels run their workbooks in the background
    memory = _memory(proc.pid)
    url = f"http://127.0.0.1:{port}/"
    pages = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=present.BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        for title, selector in (("Overview", "table.sb-table"), ("What if", ".sb-verdict")):
            page.goto(url)
            t1 = time.perf_counter()
            page.get_by_text(title).click()
            page.wait_for_selector(selector, timeout=180_000)
            pages[title] = time.perf_counter() - t1
        browser.close()
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
    return {"up": up, "memory": memory, "pages": pages}


def main() -> None:
    chromium = shutil.which("chromium")
    if not chromium:
        sys.exit("Debian's chromium is needed (make browser)")
    print(f"{os.cpu_count()} cores; the sample; workbooks 00_overview and 05_whatif")
    for preheat in (True, False):
        r = measure(preheat, chromium)
        pages = ", ".join(f"{k} {v:.2f} s" for k, v in r["pages"].items())
        print(f"preheat={preheat}: start page after {r['up']:.1f} s, memory before the first click {r['memory']:.0f} MB; click -> content: {pages}")


if __name__ == "__main__":
    main()
