"""A what-if slider change on the sample: the recomputation in the kernel, and the round trip in a browser.

    python benchmarks/whatif_benchmark.py            # kernel side: simulate + the sliders' HTML waterfall
    python benchmarks/whatif_benchmark.py --browser  # also: Voilà in headless Chromium, key press -> new sentence

The browser figure is what a workshop sees: a slider moved one step, the
message to the kernel, the recomputation, and the new sentence back on screen.
"""

import argparse
import os
import signal
import statistics
import tempfile
import time
from pathlib import Path

import salesbook as sb
from salesbook.analysis import whatif as wi
from salesbook.views.whatif_views import waterfall_html


def kernel_side(rounds: int = 200) -> None:
    cube = sb.get_cube("sample").build()  # the tables read or built before the clock starts
    t0 = time.perf_counter()
    cal = wi.calibrate(cube)
    print(f"calibration (once per notebook): {(time.perf_counter() - t0) * 1000:.0f} ms; {os.cpu_count()} cores")
    times = []
    for i in range(rounds):
        t0 = time.perf_counter()
        waterfall_html(wi.simulate(cal, wi.Levers(reactivate=i / 400, frequency=0.05)), "en")
        times.append(time.perf_counter() - t0)
    print(f"slider change in the kernel (simulate + the waterfall the sliders redraw), {rounds} changes: "
          f"median {statistics.median(times) * 1000:.1f} ms, worst {max(times) * 1000:.1f} ms")


def browser_side(steps: int = 20) -> None:
    import shutil

    from playwright.sync_api import sync_playwright

    from salesbook.run import present
    port = present.free_port()
    log = Path(tempfile.mkdtemp()) / "voila.log"
    proc = present.start(port, log)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=present.BROWSER_ARGS)
            page = browser.new_page()
            t0 = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/voila/render/05_whatif.ipynb", timeout=180_000)
            page.wait_for_selector(".sb-verdict", timeout=180_000)
            print(f"what-if page ready in the browser: {time.perf_counter() - t0:.1f} s (Voilà runs the whole workbook)")
            handle = page.locator(".widget-slider .noUi-handle").first
            handle.focus()
            times = []
            for _ in range(steps):
                before = page.locator(".sb-verdict").inner_text()
                t0 = time.perf_counter()
                handle.press("ArrowRight")
                page.wait_for_function("(old) => document.querySelector('.sb-verdict').innerText !== old",
                                       arg=before, timeout=20_000)  # set with the waterfall, in one refresh
                times.append(time.perf_counter() - t0)
            browser.close()
        print(f"slider step in the browser (key press -> new sentence on screen), {steps} steps: "
              f"median {statistics.median(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)


if __name__ == "__main__":
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--browser", action="store_true", help="also measure the round trip in Voilà and Chromium")
    opts = args.parse_args()
    kernel_side()
    if opts.browser:
        browser_side()
