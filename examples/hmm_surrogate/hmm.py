"""HMM with a learned closure: a diffusion–reaction slab whose rate per cell comes from an enzyme network.

Run:  .venv/bin/python examples/hmm_surrogate/hmm.py [--cells 100] [--model ml.gp] [--tolerance 1e-4]
                                                      [--plot hmm.png]

Runs the coupling twice — every cell's rate from the micro network every step (all-micro),
and with a Gaussian-process surrogate in front of the micro ensemble — and prints the
relative L2 difference of the substrate fields, the micro runs and the wall times. The
models are in ``reactor.py``; ``hmm.yaml`` is the surrogate run as a file.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import msmcore as msm

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from reactor import EnzymeCell, Reactor  # noqa: E402

DT, T_END, HORIZON = 25.0, 1000.0, 0.2


def build(cells: int = 100, surrogate: dict | None = None, batch: int = 1, ranks=None
          ) -> tuple[msm.Coupling, msm.Scheme]:
    """The coupling (micro ensemble over ``ranks``, default all) and its macro–micro scheme."""
    c = msm.Coupling()
    c.add("macro", Reactor, n=cells, dt=DT, ranks=None if ranks is None else [0])
    ensemble = {"mode": "closure", "horizon": HORIZON}
    if batch > 1:
        ensemble |= {"batch": batch, "batch_setting": "cells"}
    c.add("micro", EnzymeCell, per_point="macro.substrate_out", ensemble=ensemble, surrogate=surrogate,
          ranks=ranks)
    c.connect("macro.substrate_out", "micro.substrate_in")
    c.connect("micro.rate_out", "macro.rate_in")
    return c, msm.MacroMicro(macro="macro", micro="micro", horizon=DT)


def surrogate_spec(model: str = "ml.gp", tolerance: float = 1e-4, audit: float = 0.01) -> dict:
    """``surrogate={...}``: the rate's std within ``tolerance`` mol/m^3/s (Vmax is 0.2)."""
    return {"model": model, "tolerance": tolerance, "audit": audit, "seed": 0}


def run(cells: int = 100, surrogate: dict | None = None, until: float = T_END, **kw) -> tuple[msm.Result, float]:
    """Run once; returns the result and its wall time."""
    c, scheme = build(cells, surrogate, **kw)
    t0 = time.perf_counter()
    res = c.run(until=until, scheme=scheme, quiet=True)
    return res, time.perf_counter() - t0


def relative_l2(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / ||b|| over every sample and cell."""
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def micro_runs(res: msm.Result) -> int:
    """Micro evaluations over the run (from the ensemble's per-window report)."""
    return int(res["micro"]["ensemble_report"].sel(report="micro_runs").values.sum())


def plot(full: msm.Result, gated: msm.Result, path: Path) -> None:
    """Profiles at the end, and the per-window report of the surrogate run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.4))
    x = full["macro"]["x"].values * 1e3
    for k in (1, 4, -1):
        t = float(full["macro"]["time"].values[k])
        a.plot(x, full["macro"]["substrate_out"].values[k], "k-", lw=1)
        a.plot(x, gated["macro"]["substrate_out"].values[k], "C1--", lw=1.5, label=f"t = {t:g} s")
    a.set_xlabel("x (mm)")
    a.set_ylabel("S (mol/m^3)")
    a.set_title("all-micro (black) and surrogate (dashed)", fontsize=9)
    a.legend(fontsize=7, loc="upper center")
    rep = gated["micro"]["ensemble_report"]
    t = rep["time"].values
    b.bar(t, rep.sel(report="micro_runs").values[:, 0], width=DT * 0.8, label="micro runs")
    b.set_xlabel("t (s)")
    b.set_ylabel("micro runs per window")
    b.set_title("surrogate run: per window", fontsize=9)
    b2 = b.twinx()
    b2.semilogy(t[1:], rep.sel(report="max_std").values[1:, 0], "C3.-", label="largest std")
    b2.set_ylabel("largest std of a prediction (red)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=100)
    ap.add_argument("--model", default="ml.gp")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--audit", type=float, default=0.01)
    ap.add_argument("--plot", type=Path)
    args = ap.parse_args()
    full, t_full = run(args.cells)
    gated, t_gated = run(args.cells, surrogate_spec(args.model, args.tolerance, args.audit))
    err = relative_l2(gated["macro"]["substrate_out"].values, full["macro"]["substrate_out"].values)
    print(f"all-micro: {micro_runs(full)} micro runs, {t_full:.2f} s")
    print(f"surrogate ({args.model}, tolerance {args.tolerance:g}): {micro_runs(gated)} micro runs, "
          f"{t_gated:.2f} s; macro field relative L2 difference {err:.2e}")
    print(f"fewer micro runs: {micro_runs(full) / micro_runs(gated):.1f}x, less wall time: {t_full / t_gated:.1f}x")
    if args.plot:
        plot(full, gated, args.plot)
        print(f"plot written to {args.plot}")


if __name__ == "__main__":
    main()
