"""Coupling overhead of implicit coupling: partitioned heat with 256 x 256 nodes per side.

Overhead = wall time of the run − time inside the two solvers (``initialize`` and
``advance``): it holds the exchanges, save/restore of both states every iteration, the
IQN-ILS updates, convergence checks and sampling. Median of repeated runs. Also
prints the iterations per window for each acceleration on the tutorial's grid.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "partitioned_heat"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import heat  # noqa: E402
from common import machine  # noqa: E402

import msmcore as msm  # noqa: E402


def overhead(nodes: int, repeat: int) -> dict[str, float]:
    """Median share of the run spent outside the solvers."""
    shares, walls, solver = [], [], []
    for _ in range(repeat):
        res = heat.run(msm.IQNILS(0.1, reuse=8), nx=nodes, ny=nodes)
        inside = sum(t["initialize_s"] + t["compute_s"] for t in res.timings.values())
        walls.append(res.wall_s)
        solver.append(inside)
        shares.append((res.wall_s - inside) / res.wall_s)
        iterations = sum(res.info["iterations"])
        assert heat.window_errors(res).max() < 1e-8
    return {"nodes": nodes, "wall_s": statistics.median(walls), "solver_s": statistics.median(solver),
            "overhead_share": statistics.median(shares), "iterations": iterations}


def iterations() -> dict[str, list[int]]:
    """Iterations per window for each acceleration, tutorial grid (11 x 11 per side)."""
    return {name: heat.run(acc).info["iterations"] for name, acc in heat.accelerations().items()}


def main() -> None:
    print(json.dumps({"machine": machine(), "overhead_256": overhead(256, repeat=3),
                      "iterations_11": iterations()}))


if __name__ == "__main__":
    main()
