"""Cost of profiling: the same run with ``profile=True`` and ``profile=False``, alternating.

``profile=False`` still times every event but only sums them (the totals and
``Result.timings`` need that), so the difference is what keeping the events costs.
What timing itself costs is estimated from the number of events and the measured
cost of :meth:`msmcore.profile.EventLog.record` plus two clock reads. Runs alternate
on/off (in pairs whose order flips each time), so a machine's load changes hit both
modes alike; medians of the paired differences. ``--quick``: the reaction–diffusion
example only, few repeats (to check the script).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "reaction_diffusion"))
sys.path.insert(0, str(ROOT / "examples" / "partitioned_heat"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import heat  # noqa: E402
import rd  # noqa: E402
from common import machine  # noqa: E402

import msmcore as msm  # noqa: E402
from msmcore.profile import EventLog  # noqa: E402


def paired(run: Callable[[bool], msm.Result], pairs: int) -> dict[str, float]:
    """Median wall times with profiling on and off, and the median paired difference."""
    run(True)
    run(False)
    walls: dict[bool, list[float]] = {True: [], False: []}
    diffs = []
    events = 0
    for i in range(pairs):
        wall = {}
        for on in ((True, False) if i % 2 else (False, True)):
            t0 = time.perf_counter()
            res = run(on)
            wall[on] = time.perf_counter() - t0
            walls[on].append(wall[on])
            if on:
                events = len(res.profile)
        diffs.append(wall[True] - wall[False])
    off = statistics.median(walls[False])
    per_event = record_cost()
    return {"on_s": statistics.median(walls[True]), "off_s": off, "paired_diff_s": statistics.median(diffs),
            "paired_diff_pct": 100 * statistics.median(diffs) / off, "events": events,
            "record_s": per_event, "estimated_pct": 100 * events * per_event / off}


def record_cost(n: int = 200_000) -> float:
    """Seconds per event: two clock reads and one ``EventLog.record`` (minimum of 5 runs)."""
    clock = time.perf_counter
    best = float("inf")
    for _ in range(5):
        record = EventLog(["a"], max_events=n, capacity=n).record
        t0 = clock()
        for _ in range(n):
            record(0, 1, clock(), clock(), 0.0)
        best = min(best, (clock() - t0) / n)
    return best


def main() -> None:
    quick = "--quick" in sys.argv
    c, scheme = rd.build()
    out: dict[str, object] = {"machine": machine()}
    out["reaction_diffusion"] = paired(lambda on: c.run(until=rd.T_END, scheme=scheme, quiet=True, profile=on),
                                       10 if quick else 100)
    if not quick:
        coupling = heat.build(nx=256, ny=256)
        implicit = msm.Implicit(heat.WINDOW, order=["left", "right"], acceleration=msm.IQNILS(0.1, reuse=8),
                                rel_tol=1e-12, abs_tol=1e-14, max_iterations=100)
        out["heat_256"] = paired(lambda on: coupling.run(until=heat.T_END, scheme=implicit, quiet=True,
                                                         profile=on),
                                  int(sys.argv[sys.argv.index("--heat-pairs") + 1]) if "--heat-pairs" in sys.argv
                                  else 5)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
