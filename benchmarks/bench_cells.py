"""Cost of a cells.agents step per cell at 10^3, 10^4 and 10^5 cells (msm_cells engine).

A 3D tissue of N cells on a cubic lattice at PhysiCell's equilibrium spacing
(the pair term's zero, ~1.9 r: 6 interacting neighbours per cell, 3 pairs), default
PhysiCell mechanics (repulsion 10, adhesion 0.4 um/min, adhesion reach 1.25 r)
and the flow-cytometry-separated cycle with exponential phases plus apoptosis.
Times: median over ``--repeat`` runs of one mechanics step (neighbour search +
pair sum + Adams-Bashforth) and of one phenotype step (cycle, death, volume,
divisions). Prints one JSON line; ``--sizes 1000,10000`` to choose sizes.
The coupled spheroid's split (cells / diffusion / networks / coupling) comes from
``examples/tumour_spheroid`` (``--profile``).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402
from msm_cells.cycle import FLOW_CYTOMETRY_SEPARATED, PhasedCycle  # noqa: E402
from msm_cells.mechanics import equilibrium_distance  # noqa: E402
from msm_cells.population import PhenotypeParams, Population, radius_of  # noqa: E402


def tissue(n: int, params: PhenotypeParams) -> Population:
    r = float(radius_of(params.target_volume))
    spacing = equilibrium_distance(2 * r, params.repulsion, params.adhesion, params.relative_adhesion_distance)
    side = int(np.ceil(n ** (1 / 3)))
    grid = np.stack(np.meshgrid(*[np.arange(side)] * 3, indexing="ij"), -1).reshape(-1, 3)[:n]
    jitter = np.random.default_rng(0).normal(scale=0.05 * r, size=grid.shape)
    return Population(grid * spacing + jitter, params, seed=1)


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median and minimum over ``repeat`` calls (after one warm-up); the minimum is the least disturbed
    by other jobs on a shared machine."""
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), min(samples)


def main() -> None:
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 5
    sizes = ([int(s) for s in sys.argv[sys.argv.index("--sizes") + 1].split(",")]
             if "--sizes" in sys.argv else [1000, 10_000, 100_000])
    cyc = PhasedCycle(list(FLOW_CYTOMETRY_SEPARATED.values()), list(FLOW_CYTOMETRY_SEPARATED), "exponential")
    params = PhenotypeParams(cycle=cyc, apoptosis_rate=0.00319 / 60.0)
    rows = []
    for n in sizes:
        pop = tissue(n, params)
        mech, mech_min = timed(lambda p=pop: p.mechanics_step(0.1), repeat)
        pheno, pheno_min = timed(lambda p=pop: (setattr(p, "time", p.time + 6.0), p.phenotype_step(6.0)), repeat)
        rows.append({"cells": pop.count, "pairs": pop.last_pairs, "mechanics_s": mech, "phenotype_s": pheno,
                     "mechanics_us_per_cell": 1e6 * mech / pop.count,
                     "mechanics_min_us_per_cell": 1e6 * mech_min / pop.count,
                     "phenotype_us_per_cell": 1e6 * pheno / pop.count,
                     "phenotype_min_us_per_cell": 1e6 * pheno_min / pop.count})
    print(json.dumps({"machine": machine(), "repeat": repeat, "rows": rows}))


if __name__ == "__main__":
    main()
