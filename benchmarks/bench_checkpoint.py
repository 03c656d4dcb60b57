"""Checkpoints on the 256 x 256 partitioned heat run (IQN-ILS, 10 windows of 0.1).

Snapshot size and write time (the profile's ``checkpoint`` events); the run's
slowdown with a snapshot every window and every 10 windows against the same run
without checkpoints, measured in the same process. Medians of repeated runs.
The profiler's own cost on this run is in ``bench_profile.py``. Prints one JSON line.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "partitioned_heat"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import heat  # noqa: E402
from common import machine  # noqa: E402

import msmcore as msm  # noqa: E402

NODES = 256


def scheme() -> msm.Implicit:
    return msm.Implicit(heat.WINDOW, order=["left", "right"], acceleration=msm.IQNILS(0.1, reuse=8),
                        rel_tol=1e-12, abs_tol=1e-14, max_iterations=100)


def timed(repeat: int, checkpoint_every: float | None = None, *, checkpoints: bool = False
          ) -> tuple[float, msm.Result, list[int]]:
    """Median wall time of the whole run (build excluded), the last result and its snapshot file sizes."""
    walls = []
    sizes: list[int] = []
    for _ in range(repeat):
        coupling = heat.build(nx=NODES, ny=NODES)
        with tempfile.TemporaryDirectory() as folder:
            options = {}
            if checkpoints:  # a fresh folder each run; keep them all, to count and weigh them
                options["checkpoint"] = msm.Checkpoints(every=checkpoint_every, keep=1000,
                                                        path=str(Path(folder) / "run.ckpt"))
            t0 = time.perf_counter()
            result = coupling.run(until=heat.T_END, scheme=scheme(), quiet=True, **options)
            walls.append(time.perf_counter() - t0)
            sizes = [f.stat().st_size for f in Path(folder).rglob("*.h5")]
        assert heat.window_errors(result).max() < 1e-8
    return statistics.median(walls), result, sizes


def main() -> None:
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    base_s, _, _ = timed(repeat)
    out: dict[str, object] = {"machine": machine(), "nodes": NODES, "windows": round(heat.T_END / heat.WINDOW),
                              "no_checkpoint_s": base_s}
    for label, every in (("every_window", None), ("every_10_windows", 10 * heat.WINDOW)):
        wall_s, result, sizes = timed(repeat, every, checkpoints=True)
        checkpoint_s = float(result.profile_totals()["checkpoint"].sum())
        out[label] = {"wall_s": wall_s, "slowdown": wall_s / base_s - 1.0, "snapshot_bytes": max(sizes),
                      "snapshots": len(sizes), "write_s_per_snapshot": checkpoint_s / max(len(sizes), 1)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
