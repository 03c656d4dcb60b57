"""Natural convection in the differentially heated cavity: accuracy, iterations per window, overhead.

For Ra = 1e3, 1e4, 1e5 (Pr = 0.71): the coupled steady state (``examples/natural_convection``)
on two grids (default 33 x 33 and 65 x 65 nodes), Richardson-extrapolated (order 2), against
de Vahl Davis (1983): Nu on the hot wall, u_max on x = 1/2, v_max on y = 1/2. On the coarse
grid, the same problem coupled with IQN-ILS and with Aitken: iterations per window. For
every run, the coupling overhead from ``result.profile_totals()``: the framework's own time
(exchanges, save/restore every iteration, the acceleration, convergence checks, sampling)
against the time inside the two solvers.

Run: ``python benchmarks/bench_natural_convection.py [--ra 1e3 1e4 1e5] [--nodes 33 65]``; prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "natural_convection"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import cavity  # noqa: E402
from common import machine  # noqa: E402


def overhead(result: Any) -> dict[str, float]:
    totals = result.profile_totals()
    solver = float(totals.loc[["flow", "heat"], "compute"].sum())
    framework = float(totals["total"].sum() - solver)
    return {"solver_s": solver, "framework_s": framework, "overhead_share": framework / solver}


def one(ra: float, n: int, acceleration: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    res = cavity.run(ra, n, acceleration=acceleration)
    wall = time.perf_counter() - t0
    return {"nodes": n, "acceleration": acceleration, "wall_s": wall, **cavity.benchmark_numbers(res),
            "steadiness": cavity.steadiness(res), "iterations": res.info["iterations"], **overhead(res)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ra", type=float, nargs="+", default=[1e3, 1e4, 1e5])
    parser.add_argument("--nodes", type=int, nargs=2, default=[33, 65])
    args = parser.parse_args()
    out: dict[str, Any] = {"machine": machine(), "cases": []}
    for ra in args.ra:
        runs = [one(ra, args.nodes[0], "IQN-ILS"), one(ra, args.nodes[0], "Aitken"), one(ra, args.nodes[1], "IQN-ILS")]
        coarse, fine = runs[0], runs[2]
        ref = dict(zip(("Nu", "u_max", "v_max"), cavity.REFERENCE[ra], strict=True))
        ext = {k: cavity.richardson(coarse[k], fine[k]) for k in ref}
        out["cases"].append({"ra": ra, "runs": runs, "richardson": ext, "reference": ref,
                             "relative_error": {k: ext[k] / ref[k] - 1 for k in ref}})
        print(json.dumps(out["cases"][-1]), file=sys.stderr, flush=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
