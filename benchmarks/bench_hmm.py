"""HMM with a learned closure (examples/hmm_surrogate): surrogate vs all-micro, and the tolerance table.

All-micro (the baseline, measured in the same run): every cell's rate from the enzyme
network every macro step (100 cells x 40 steps = 4000 micro runs, one micro simulation per
point, batch 1). Surrogate: the Gaussian process (``ml.gp``) in front of the same
ensemble. Reports medians of repeated runs (wall time of ``Coupling.run``; the first run
of each kind warms imports and caches and is not counted), the micro runs, the macro
field's relative L2 difference to all-micro, and one row per tolerance.

Run:  .venv/bin/python benchmarks/bench_hmm.py [--repeat 3] [--cells 100]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "examples" / "hmm_surrogate"))
import hmm  # noqa: E402
from common import machine  # noqa: E402


def timed(cells: int, surrogate: dict | None, repeat: int) -> tuple[float, object]:
    c, scheme = hmm.build(cells, surrogate)
    c.run(until=2 * hmm.DT, scheme=scheme, quiet=True)  # warm-up
    samples, res = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = c.run(until=hmm.T_END, scheme=scheme, quiet=True)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cells", type=int, default=100)
    ap.add_argument("--tolerances", type=float, nargs="*", default=[1e-2, 1e-3, 1e-4, 1e-5])
    args = ap.parse_args()
    t_all, full = timed(args.cells, None, args.repeat)
    ref = full["macro"]["substrate_out"].values
    rows = []
    for tol in args.tolerances:
        t, res = timed(args.cells, hmm.surrogate_spec(tolerance=tol), args.repeat)
        rep = res["micro"]["ensemble_report"]
        rows.append({"tolerance": tol, "wall_s": t, "micro_runs": hmm.micro_runs(res),
                     "rel_l2": hmm.relative_l2(res["macro"]["substrate_out"].values, ref),
                     "max_audit_error": float(rep.sel(report="audit_error").values.max()),
                     "refits": int(rep.sel(report="refits").values.sum()),
                     "fewer_runs": hmm.micro_runs(full) / hmm.micro_runs(res), "speedup": t_all / t})
    print(json.dumps({"machine": machine(), "cells": args.cells, "windows": int(hmm.T_END / hmm.DT),
                      "repeat": args.repeat, "all_micro": {"wall_s": t_all, "micro_runs": hmm.micro_runs(full)},
                      "surrogate": rows}, indent=1))


if __name__ == "__main__":
    main()
