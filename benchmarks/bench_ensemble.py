"""A micro ensemble over ranks: the all-micro HMM reactor (examples/hmm_surrogate) on 1 rank vs 2.

Under ``mpiexec -n 2``: the macro slab on rank 0; the enzyme ensemble (one micro
simulation per cell, 64 cells x 40 macro steps = 2560 micro runs) placed on rank 0 alone
(the baseline, measured in the same job) or spread over ranks 0 and 1 (32 cells each).
Wall times are medians of repeated runs (``MPI.Wtime`` between barriers); the results of
the two placements are checked equal. The ideal speed-up is 2; on a shared 2-core
machine other jobs take cores away from either rank.

Run:  mpiexec -n 2 .venv/bin/python benchmarks/bench_ensemble.py [--repeat 3] [--cells 64]
Prints one JSON line on rank 0.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np
from mpi4py import MPI

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "examples" / "hmm_surrogate"))
import hmm  # noqa: E402
from common import machine  # noqa: E402

COMM = MPI.COMM_WORLD


def timed(ranks: list[int], cells: int, repeat: int, until: float) -> tuple[float, np.ndarray]:
    c, scheme = hmm.build(cells, None, ranks=ranks)
    c.run(until=hmm.DT, scheme=scheme, quiet=True)  # warm-up
    samples, res = [], None
    for _ in range(repeat):
        COMM.Barrier()
        t0 = MPI.Wtime()
        res = c.run(until=until, scheme=scheme, quiet=True)
        COMM.Barrier()
        samples.append(MPI.Wtime() - t0)
    return float(COMM.bcast(statistics.median(samples), root=0)), res["micro"]["rate_out"].values


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cells", type=int, default=64)
    ap.add_argument("--until", type=float, default=hmm.T_END)
    args = ap.parse_args()
    if COMM.Get_size() != 2:
        raise SystemExit("run under mpiexec -n 2")
    t1, r1 = timed([0], args.cells, args.repeat, args.until)
    t2, r2 = timed([0, 1], args.cells, args.repeat, args.until)
    equal = bool(np.array_equal(r1, r2))
    if COMM.Get_rank() == 0:
        runs = args.cells * int(args.until / hmm.DT)
        print(json.dumps({"machine": machine(), "cells": args.cells, "micro_runs": runs,
                          "one_rank_s": t1, "two_ranks_s": t2, "speedup": t1 / t2, "results_equal": equal}))


if __name__ == "__main__":
    main()
