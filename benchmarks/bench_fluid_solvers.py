"""msm-fluid implicit solves: the old default preconditioner (Jacobi) against the new one (GAMG).

Measured in one run on one machine, alternating old and new (medians of ``--repeat``):

* partitioned heat (``examples/partitioned_heat``), 256 x 256 nodes per side, IQN-ILS,
  10 windows - wall time of the coupled run; the old default is put back through the
  PETSc options ``-left_pc_type jacobi -right_pc_type jacobi`` (options stay overridable);
* ``fluid.diffusion`` implicit, 256 x 256 cells, Dirichlet, 20 steps of dt = 1e-2 (D = 1,
  h = 1/256: dt D / h^2 = 655) - time of ``advance``;
* ``fluid.advection_diffusion`` implicit upwind on the differentially heated cavity's
  operator (128 x 128 nodes, the Ra = 1e5 flow scale) for two step sizes: GAMG against
  block Jacobi / ILU(0) (its default) - time of 10 steps with the velocity changing every
  step (operator and preconditioner rebuilt each step, as in a coupled run).

Run: ``python benchmarks/bench_fluid_solvers.py [--repeat 3] [--quick]``; prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from petsc4py import PETSc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "partitioned_heat"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import heat  # noqa: E402
from common import machine  # noqa: E402
from msm_fluid import AdvectionDiffusion, Diffusion  # noqa: E402

import msmcore as msm  # noqa: E402


def with_options(options: dict[str, str], fn: Any) -> Any:
    opts = PETSc.Options()
    for k, v in options.items():
        opts[k] = v
    try:
        return fn()
    finally:
        for k in options:
            del opts[k]


def heat_run(nodes: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    res = heat.run(msm.IQNILS(0.1, reuse=8), nx=nodes, ny=nodes)
    wall = time.perf_counter() - t0
    assert heat.window_errors(res).max() < 1e-8
    return {"wall_s": wall, "iterations": sum(res.info["iterations"])}


def diffusion_run(n: int) -> dict[str, Any]:
    c = Diffusion(name="d", shape=(n, n), spacing=1.0 / n, D=1.0, dt=1e-2, method="implicit", boundary="dirichlet",
                  boundary_value=1.0, initial=0.0)
    c.initialize()
    t0 = time.perf_counter()
    c.advance(0.2)
    wall = time.perf_counter() - t0
    its = c._ksp.getIterationNumber()
    c.finalize()
    return {"wall_s": wall, "last_iterations": its}


def advection_run(n: int, dt: float, pc: str) -> dict[str, Any]:
    # cavity flow scale at Ra = 1e5 (kappa = 1, L = 1): |u| ~ 70; a smooth recirculating field
    def ux(x: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
        return 70 * np.sin(np.pi * x) ** 2 * np.sin(2 * np.pi * y) * (1 + 0.1 * t)

    def uy(x: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
        return -70 * np.sin(2 * np.pi * x) * np.sin(np.pi * y) ** 2 * (1 + 0.1 * t)

    c = AdvectionDiffusion("a", size=(1.0, 1.0), nodes=(n, n), kappa=1.0, dt=dt, pc_type=pc, velocity=(ux, uy),
                           left=("dirichlet", 0.5), right=("dirichlet", -0.5))
    c.initialize()
    t0 = time.perf_counter()
    c.advance(10 * dt)
    wall = time.perf_counter() - t0
    its = c._ksp.getIterationNumber()
    c.finalize()
    return {"wall_s": wall, "last_iterations": its}


def compare(old: Any, new: Any, repeat: int) -> dict[str, Any]:
    """Alternate old and new ``repeat`` times; medians and the speed-up old/new."""
    runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
    for _ in range(repeat):
        runs["old"].append(old())
        runs["new"].append(new())
    out: dict[str, Any] = {}
    for key, rs in runs.items():
        out[key] = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
    out["speedup"] = out["old"]["wall_s"] / out["new"]["wall_s"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    args = parser.parse_args()
    nh, nd, na = (64, 64, 48) if args.quick else (256, 256, 128)
    jacobi = {"left_pc_type": "jacobi", "right_pc_type": "jacobi"}
    out: dict[str, Any] = {"machine": machine(), "petsc": ".".join(map(str, PETSc.Sys.getVersion()))}
    out["partitioned_heat"] = {"nodes": nh, **compare(lambda: with_options(jacobi, lambda: heat_run(nh)),
                                                      lambda: heat_run(nh), args.repeat)}
    print(json.dumps(out["partitioned_heat"]), file=sys.stderr, flush=True)
    out["diffusion_implicit"] = {"cells": nd, **compare(lambda: with_options({"d_pc_type": "jacobi"},
                                                                            lambda: diffusion_run(nd)),
                                                         lambda: diffusion_run(nd), args.repeat)}
    print(json.dumps(out["diffusion_implicit"]), file=sys.stderr, flush=True)
    for dt in (1e-4, 1e-2):
        key = f"advection_diffusion_dt{dt:g}"
        out[key] = {"nodes": na, "old": "gamg", "new": "bjacobi (the default)",
                    **compare(lambda dt=dt: advection_run(na, dt, "gamg"),
                              lambda dt=dt: advection_run(na, dt, "bjacobi"), args.repeat)}
        print(json.dumps(out[key]), file=sys.stderr, flush=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
