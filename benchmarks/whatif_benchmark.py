"""A what-if slider change: the recomputation behind the waterfall, on the sample (best of 200)."""

import os
import time

import salesbook as sb
from salesbook import whatif as wi
from salesbook.whatif_views import waterfall

cube = sb.get_cube("sample")
t0 = time.perf_counter()
cal = wi.calibrate(cube)
print(f"calibration (once per notebook): {(time.perf_counter() - t0) * 1000:.0f} ms; {os.cpu_count()} cores")
best = float("inf")
for i in range(200):
    t0 = time.perf_counter()
    waterfall(wi.simulate(cal, wi.Levers(reactivate=i / 400, frequency=0.05)), "en")
    best = min(best, time.perf_counter() - t0)
print(f"slider change (simulate + waterfall figure): {best * 1000:.1f} ms")
