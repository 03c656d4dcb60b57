"""MD-based HMM: pressure-driven channel flow of the LJ liquid whose shear stress per face comes from md.lj.

Run:  .venv/bin/python examples/hmm_couette/couette.py [--faces 4] [--until 80] [--horizon 8]
                                                       [--tolerance 0.05] [--plot couette.png]

Runs the coupling twice — every face's stress from an md.lj shear run every window
(all-micro), and with a Gaussian-process surrogate (white-noise nugget) in front of the
micro ensemble — and prints both steady profiles against the Newtonian one for the LJ
triple-point viscosity, the micro runs and the wall times. ``--sweep`` also runs the
closure alone over shear rates (the flow curve tau(gdot) and where tau/gdot leaves eta).
The models are in ``shear.py``.
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
from shear import ETA_ERR, ETA_STAR, Channel, ShearCell  # noqa: E402

DT, T_END, HORIZON = 10.0, 80.0, 8.0
#: MD stress noise: sigma_tau^2 = 2 k_B T eta / (V t) for a time average over t of the mean
#: shear stress of a volume V (the Green-Kubo integral read backwards; Evans & Morriss,
#: Statistical Mechanics of Nonequilibrium Liquids, 2nd ed. 2008, sec. 4.3 / 6.3). For the
#: default cell (216 particles, 10 of 12 slabs sheared, V = 213 sigma^3) averaged over
#: HORIZON - spinup = 6 tau it is 0.06: the surrogate's nugget and tolerance are set from it.
def stress_noise(volume: float, t_avg: float, temperature: float = 0.722, eta: float = ETA_STAR) -> float:
    """Standard deviation of a time-averaged shear stress (see the comment above)."""
    return float(np.sqrt(2.0 * temperature * eta / (volume * t_avg)))


def build(faces: int = 4, surrogate: dict | None = None, horizon: float = HORIZON, G: float = 0.15,
          **micro) -> tuple[msm.Coupling, msm.Scheme]:
    """The coupling (channel macro, ShearCell closure per face) and its macro–micro scheme."""
    c = msm.Coupling()
    c.add("macro", Channel, n=faces, dt=DT, G=G)
    c.add("micro", ShearCell, per_point="macro.shear_rate_out", ensemble={"mode": "closure", "horizon": horizon},
          surrogate=surrogate, **micro)
    c.connect("macro.shear_rate_out", "micro.shear_rate_in")
    c.connect("micro.shear_stress_out", "macro.shear_stress_in")
    return c, msm.MacroMicro(macro="macro", micro="micro", horizon=DT)


def surrogate_spec(tolerance: float = 0.05, audit: float = 0.1, alpha: float = 1e-2) -> dict:
    """``surrogate={...}``: ml.gp with a nugget ``alpha`` (normalised units^2) for the MD noise.

    Without the nugget the GP interpolates the noise (its std collapses at every training
    point and the next noisy sample makes it wiggle); with it the GP smooths at the noise
    level, and ``tolerance`` (epsilon/sigma^3) must lie above the std it can reach there.
    """
    return {"model": "ml.gp", "model_options": {"alpha": alpha}, "tolerance": tolerance, "audit": audit,
            "seed": 0, "initial": 4}


def run(faces: int = 4, surrogate: dict | None = None, until: float = T_END, **kw) -> tuple[msm.Result, float]:
    """Run once; returns the result and its wall time."""
    c, scheme = build(faces, surrogate, **kw)
    t0 = time.perf_counter()
    res = c.run(until=until, scheme=scheme, quiet=True)
    return res, time.perf_counter() - t0


def micro_runs(res: msm.Result) -> int:
    """Micro evaluations over the run (from the ensemble's per-window report)."""
    return int(res["micro"]["ensemble_report"].sel(report="micro_runs").values.sum())


def flow_curve(rates: np.ndarray, horizon: float = HORIZON, **micro) -> np.ndarray:
    """The closure alone: (measured rate, mean shear stress, temperature) per rate (one box, reset each time)."""
    cell = ShearCell(**micro)
    cell.initialize()
    start = cell.save_state()
    out = []
    for r in rates:
        cell.restore_state(start)
        cell.port_array("shear_rate_in")[0] = r
        cell.receive("shear_rate_in")
        cell.advance(horizon)
        out.append((cell.measured_rate, float(cell.port_array("shear_stress_out")[0]), cell.measured_temperature))
    cell.finalize()
    return np.array(out).T


def plot(full: msm.Result, gated: msm.Result, curve: tuple | None, noise: float, path: Path) -> None:
    """Steady profiles against Newtonian, and the flow curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2 if curve is not None else 1, figsize=(9 if curve is not None else 4.5, 3.4))
    a = np.atleast_1d(axes)[0]
    macro = Channel(n=full["macro"]["velocity_out"].shape[1] - 1, G=0.15)
    y = macro.nodes()
    yy = np.linspace(0.0, 0.5 * macro.height, 100)
    a.plot(yy, macro.G * yy * (macro.height - yy) / (2.0 * ETA_STAR), "k-", lw=1, label=f"Newtonian, eta = {ETA_STAR}")
    a.plot(y, full["macro"]["velocity_out"].values[-1], "C0o-", label="all-micro (md.lj)")
    a.plot(y, gated["macro"]["velocity_out"].values[-1], "C1s--", label="surrogate (ml.gp)")
    a.set_xlabel("y (sigma), wall to centreline")
    a.set_ylabel("u (sigma/tau)")
    a.legend(fontsize=7)
    if curve is not None:
        b = np.atleast_1d(axes)[1]
        rate, stress = curve[0], curve[1]
        b.errorbar(rate, stress / rate, yerr=noise / rate, fmt="C0o", label="md.lj: tau / gdot")
        b.axhspan(ETA_STAR - ETA_ERR, ETA_STAR + ETA_ERR, color="k", alpha=0.2, label="eta(0), Ferrario 1991")
        b.set_xscale("log")
        b.set_xlabel("shear rate (1/tau)")
        b.set_ylabel("viscosity (epsilon tau / sigma^3)")
        b.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faces", type=int, default=4)
    ap.add_argument("--until", type=float, default=T_END)
    ap.add_argument("--horizon", type=float, default=HORIZON)
    ap.add_argument("--tolerance", type=float, default=0.05)
    ap.add_argument("--sweep", action="store_true", help="also run the flow curve")
    ap.add_argument("--plot", type=Path)
    args = ap.parse_args()
    cell = ShearCell()
    volume = float(np.prod(cell.md.geometry.length)) * (cell.n_bins - 2) / cell.n_bins
    noise = stress_noise(volume, args.horizon - cell.spinup)
    print(f"MD stress noise estimate (1 sigma): {noise:.3f} epsilon/sigma^3")
    curve = None
    if args.sweep:
        rates = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0])
        curve = flow_curve(rates, args.horizon)
        for r, (m, s, temp) in zip(rates, curve.T, strict=True):
            dev = (s / m - ETA_STAR) / (noise / m)
            print(f"gdot {r:4.2f}: measured {m:.3f}, tau {s:.3f}, tau/gdot {s / m:.3f} ({dev:+.1f} sigma from eta), "
                  f"T {temp:.3f}")
    full, t_full = run(args.faces, until=args.until, horizon=args.horizon)
    gated, t_gated = run(args.faces, surrogate_spec(args.tolerance), until=args.until, horizon=args.horizon)
    macro = Channel(n=args.faces, G=0.15)
    newton = macro.newtonian(ETA_STAR)
    for name, res, t in (("all-micro", full, t_full), ("surrogate", gated, t_gated)):
        u = res["macro"]["velocity_out"].values[-1]
        print(f"{name}: {micro_runs(res)} micro runs, {t:.0f} s; centreline u {u[-1]:.3f} "
              f"(Newtonian {newton[-1]:.3f}, {u[-1] / newton[-1] - 1:+.1%}); wall rate "
              f"{res['macro']['shear_rate_out'].values[-1][0]:.3f}")
    du = np.abs(gated["macro"]["velocity_out"].values[-1] - full["macro"]["velocity_out"].values[-1]).max()
    print(f"surrogate vs all-micro: largest |du| {du:.3f} sigma/tau")
    if args.plot:
        plot(full, gated, curve, noise, args.plot)
        print(f"plot written to {args.plot}")


if __name__ == "__main__":
    main()
