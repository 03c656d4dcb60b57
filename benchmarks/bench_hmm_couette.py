"""MD-based HMM channel flow (examples/hmm_couette): surrogate vs all-micro, and the MD cell's cost per step.

Two parts, medians of ``--repeat`` runs each:

- the ShearCell's wall time per MD step for boxes of 216, 432 and 864 particles (1 tau
  sheared at gdot = 0.5 after the equilibration), and the stress-noise figure of merit
  ``V / (time per step)`` (the variance of a time-averaged stress falls as 1/(V t));
- the coupled channel (``--faces`` faces, ``--until`` tau, all-micro = the baseline in the
  same run, then ``ml.gp`` in front of the same ensemble): wall time of ``Coupling.run``
  (initialize, i.e. the MD equilibration, included; no warm-up run, MD dominates), micro
  runs, centreline speed against the Newtonian one for eta(0) = 3.24.

Run:  .venv/bin/python benchmarks/bench_hmm_couette.py [--repeat 2] [--faces 4] [--until 40]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "examples" / "hmm_couette"))
import couette  # noqa: E402
from common import machine  # noqa: E402
from shear import ETA_STAR, Channel, ShearCell  # noqa: E402

SIZES = {216: ((3, 6, 3), 12), 432: ((3, 12, 3), 24), 864: ((3, 24, 3), 48)}


def step_cost(n_atoms: int, repeat: int) -> dict:
    """Median wall time per MD step of one ShearCell evaluation (1 tau at gdot = 0.5)."""
    cells, bins = SIZES[n_atoms]
    cell = ShearCell(cells=cells, n_bins=bins, equilibrate=200)
    cell.initialize()
    start = cell.save_state()
    samples = []
    for _ in range(repeat):
        cell.restore_state(start)
        t0 = time.perf_counter()
        cell.run_replicas(0.5, 1.0, 1)
        samples.append((time.perf_counter() - t0) / round(1.0 / cell.dt))
    volume = couette.averaged_volume(cell)
    cell.finalize()
    per_step = statistics.median(samples)
    return {"atoms": n_atoms, "ms_per_step": 1e3 * per_step, "averaged_volume": volume,
            "volume_per_ms": volume / (1e3 * per_step)}


def channel(faces: int, until: float, surrogate: dict | None, repeat: int) -> dict:
    """Median wall time and the last run's numbers of one coupled channel run."""
    samples, res = [], None
    for _ in range(repeat):
        res, t = couette.run(faces, surrogate, until=until)
        samples.append(t)
    u = res["macro"]["velocity_out"].values[-1]
    newton = Channel(n=faces, G=0.15).newtonian(ETA_STAR)
    return {"wall_s": statistics.median(samples), "samples_s": samples, "micro_runs": couette.micro_runs(res),
            "centreline_u": float(u[-1]), "vs_newtonian": float(u[-1] / newton[-1] - 1.0), "u": u.tolist()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--faces", type=int, default=4)
    ap.add_argument("--until", type=float, default=40.0)
    args = ap.parse_args()
    costs = [step_cost(n, max(args.repeat, 3)) for n in SIZES]
    full = channel(args.faces, args.until, None, args.repeat)
    gated = channel(args.faces, args.until, couette.surrogate_spec(), args.repeat)
    gated["speedup"] = full["wall_s"] / gated["wall_s"]
    gated["max_du_vs_all_micro"] = float(np.max(np.abs(np.subtract(gated["u"], full["u"]))))
    print(json.dumps({"machine": machine(), "repeat": args.repeat, "faces": args.faces, "until": args.until,
                      "md_step_cost": costs, "all_micro": full, "surrogate": gated}, indent=1))


if __name__ == "__main__":
    main()
