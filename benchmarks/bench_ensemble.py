"""A micro ensemble over ranks: the all-micro HMM reactor (examples/hmm_surrogate) on 1 rank vs 2.

Under ``mpiexec -n 2``: the macro slab on rank 0; the enzyme ensemble (one micro
simulation per cell, 64 cells x 20 macro steps = 1280 micro runs with ``--until 500``)
placed on rank 0 alone (the baseline, measured in the same job) or spread over ranks 0
and 1 (32 cells each). Wall times are medians of repeated runs (``MPI.Wtime`` between
barriers); the results of the two placements are checked equal.

The machine's ceiling for the same micro work, measured in the same job with no
coupling at all: the very closure evaluations of the run (the same inputs, one serial
``Ensemble.evaluate`` per rank) done by rank 0 alone while rank 1 sleeps, and split
over both ranks at once (each rank its block of every window, as the ensemble splits
them). ``ceiling = alone / both`` is what two ranks can give for this work on this
machine (2 on two free cores); ``efficiency = speedup / ceiling`` is the share of it the
coupled ensemble reaches. ``alone_busy_peer_s`` is rank 0 alone while rank 1 busy-waits
in an MPI barrier, as rank 1 does through the 1-rank baseline.

Per-rank CPU seconds (``time.thread_time``) of the 2-rank run split the work into the
micro model's ``advance``, the rest of the ensemble's ``evaluate`` (worker reset, port
copies) and everything else (macro, transfers, MPI waits, results). The load average
and the share of the CPUs that other processes used while the job ran (busy time in
``/proc/stat`` less this job's own CPU time) are reported: on a shared machine all wall times are inflated.

Run:  mpiexec -n 2 .venv/bin/python benchmarks/bench_ensemble.py [--repeat 3] [--cells 64] [--until 500]
Prints one JSON line on rank 0.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from mpi4py import MPI

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "examples" / "hmm_surrogate"))
import hmm  # noqa: E402
from common import machine  # noqa: E402
from reactor import EnzymeCell  # noqa: E402

from msmcore.ensemble import Ensemble, block_range  # noqa: E402

COMM = MPI.COMM_WORLD
RANK = COMM.Get_rank()


def cpu_ticks() -> tuple[int, int, int]:
    """``(busy, steal, total)`` jiffies of all CPUs so far (Linux ``/proc/stat``; zeros elsewhere)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return 0, 0, 0
    user, nice, system, idle, iowait, irq, softirq, steal = v
    return user + nice + system + irq + softirq, steal, sum(v)


def quiet_wait() -> None:
    """Wait for every rank without busy-polling (a sleeping ``Ibarrier``), so an idle rank leaves its core free."""
    req = COMM.Ibarrier()
    while not req.Test():
        time.sleep(0.001)


class Splits:
    """Per-rank CPU seconds in the micro's ``advance`` and in ``Ensemble.evaluate`` (wrapped while on)."""

    def __init__(self) -> None:
        self.advance = self.evaluate = 0.0
        self.on = False
        for cls, meth, key in ((EnzymeCell, "advance", "advance"), (Ensemble, "evaluate", "evaluate")):
            setattr(cls, meth, self._wrap(getattr(cls, meth), key))

    def _wrap(self, fn: Callable, key: str) -> Callable:
        def timed(obj, *args):  # type: ignore[no-untyped-def]
            if not self.on:
                return fn(obj, *args)
            c0 = time.thread_time()
            try:
                return fn(obj, *args)
            finally:
                setattr(self, key, getattr(self, key) + time.thread_time() - c0)
        return timed


SPLITS = Splits()


def coupled(ranks: list[int], cells: int, repeat: int, until: float) -> tuple[float, np.ndarray, dict]:
    """Median wall time of the all-micro run with the ensemble on ``ranks``, its rates and the CPU split."""
    c, scheme = hmm.build(cells, None, ranks=ranks)
    c.run(until=hmm.DT, scheme=scheme, quiet=True)  # warm-up
    samples, res, cpu = [], None, []
    for _ in range(repeat):
        COMM.Barrier()
        SPLITS.advance = SPLITS.evaluate = 0.0
        SPLITS.on = True
        c0, t0 = time.thread_time(), MPI.Wtime()
        res = c.run(until=until, scheme=scheme, quiet=True)
        c1 = time.thread_time()
        SPLITS.on = False
        COMM.Barrier()
        samples.append(MPI.Wtime() - t0)
        cpu.append((c1 - c0, SPLITS.advance, SPLITS.evaluate - SPLITS.advance))
    total, adv, ens = (statistics.median(x[i] for x in cpu) for i in range(3))
    split = {"cpu_s": total, "micro_advance_s": adv, "ensemble_rest_s": ens, "other_s": total - adv - ens}
    return float(COMM.bcast(statistics.median(samples), root=0)), res["micro"]["rate_out"].values, split


def ceiling(inputs: np.ndarray, repeat: int) -> dict:
    """The same closure evaluations outside any coupling: rank 0 alone (peer asleep / busy) vs both ranks at once."""
    windows, cells = inputs.shape
    worker = Ensemble("ceiling", EnzymeCell, {}, points=((cells,), None, None), mode="closure", horizon=hmm.HORIZON)
    worker.initialize()  # serial: comm None
    start, stop = block_range(cells, COMM.Get_size(), RANK)
    worker.evaluate(inputs[0, :4, None])  # warm-up

    def evaluate(block: slice) -> float:
        t0 = time.perf_counter()
        for w in range(windows):
            worker.evaluate(inputs[w, block, None])
        return time.perf_counter() - t0

    alone, busy, both = [], [], []
    for _ in range(repeat):
        quiet_wait()
        alone.append(evaluate(slice(None)) if RANK == 0 else 0.0)
        quiet_wait()
        busy.append(evaluate(slice(None)) if RANK == 0 else 0.0)
        COMM.Barrier()  # rank 1 busy-waits here while rank 0 works
        quiet_wait()
        both.append(max(COMM.allgather(evaluate(slice(start, stop)))))
    out = {"alone_s": statistics.median(alone), "alone_busy_peer_s": statistics.median(busy),
           "both_s": statistics.median(both)}
    out = COMM.bcast(out, root=0)
    out["ceiling"] = out["alone_s"] / out["both_s"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cells", type=int, default=64)
    ap.add_argument("--until", type=float, default=hmm.T_END)
    args = ap.parse_args()
    if COMM.Get_size() != 2:
        raise SystemExit("run under mpiexec -n 2")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    ticks0, own0 = cpu_ticks(), time.process_time()
    t1, r1, split1 = coupled([0], args.cells, args.repeat, args.until)
    t2, r2, split2 = coupled([0, 1], args.cells, args.repeat, args.until)
    equal = bool(np.array_equal(r1, r2))
    # the inputs every window's evaluations had: the substrate at the window's start (samples 0 .. n-1)
    windows = int(round(args.until / hmm.DT))
    c, scheme = hmm.build(args.cells, None, ranks=[0])
    res = c.run(until=args.until, scheme=scheme, quiet=True)  # collective; the macro's samples are on rank 0
    inputs = COMM.bcast(res["macro"]["substrate_out"].values[:windows] if RANK == 0 else None, root=0)
    limit = ceiling(np.ascontiguousarray(inputs, dtype=float), args.repeat)
    ticks1, own = cpu_ticks(), COMM.allreduce(time.process_time() - own0)
    splits = COMM.gather(split2, root=0)
    if RANK == 0:
        busy, steal, total = (b - a for a, b in zip(ticks0, ticks1, strict=True))
        others = max(busy / os.sysconf("SC_CLK_TCK") - own, 0.0) * os.sysconf("SC_CLK_TCK")
        speedup = t1 / t2
        print(json.dumps({
            "machine": machine(), "load_average_1min_at_start": load,
            "others_cpu_share_during_job": others / total if total else None,
            "cpu_steal_share_during_job": steal / total if total else None,
            "cells": args.cells, "micro_runs": args.cells * windows,
            "one_rank_s": t1, "two_ranks_s": t2, "speedup": speedup, "results_equal": equal,
            "ceiling": limit["ceiling"], "efficiency_vs_ceiling": speedup / limit["ceiling"],
            "ceiling_runs": limit, "one_rank_cpu_rank0": split1,
            "two_ranks_cpu": {f"rank{i}": s for i, s in enumerate(splits)},
        }))


if __name__ == "__main__":
    main()
