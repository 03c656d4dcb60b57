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

DT, T_END, HORIZON = 10.0, 80.0, 6.0
#: MD stress noise: sigma_tau^2 = 2 k_B T eta / (V t) for a time average over t of the mean
#: shear stress of a volume V (the Green-Kubo integral read backwards; Evans & Morriss,
#: Statistical Mechanics of Nonequilibrium Liquids, 2nd ed. 2008, sec. 4.3 / 6.3). For the
#: default cell (432 particles, 18 of 24 slabs averaged, V = 384 sigma^3) averaged over
#: HORIZON - spinup = 5 tau it is 0.049 per replica.
def stress_noise(volume: float, t_avg: float, temperature: float = 0.722, eta: float = ETA_STAR) -> float:
    """Standard deviation of a time-averaged shear stress (see the comment above)."""
    return float(np.sqrt(2.0 * temperature * eta / (volume * t_avg)))


def averaged_volume(cell: ShearCell) -> float:
    """Volume of the slabs a :class:`ShearCell` averages (all but the constraint slabs and margins)."""
    used = cell.n_bins - 2 - 4 * cell.margin
    return float(np.prod(cell.md.geometry.length)) * used / cell.n_bins


def fit_sqrt_law(rate: np.ndarray, eta: np.ndarray, err: np.ndarray) -> tuple[float, float, float, float]:
    """Weighted least squares ``eta = eta0 - A sqrt(gdot)``: ``(eta0, A, se(eta0), se(A))``.

    The gdot^(1/2) form is the mode-coupling prediction for simple liquids (Kawasaki &
    Gunton, Phys. Rev. A 8, 2048 (1973)); Ferrario et al. (1991) find the LJ triple point's
    curve analytic (quadratic) at the lowest rates instead, where it is flatter, so the
    intercept of this fit is if anything above the true eta(0).
    """
    design = np.column_stack([np.ones_like(rate), -np.sqrt(rate)]) / err[:, None]
    coef, *_ = np.linalg.lstsq(design, eta / err, rcond=None)
    cov = np.linalg.inv(design.T @ design)
    return float(coef[0]), float(coef[1]), float(np.sqrt(cov[0, 0])), float(np.sqrt(cov[1, 1]))


def build(faces: int = 4, surrogate: dict | None = None, horizon: float = HORIZON, G: float = 0.15,
          dt: float = DT, eta_ref: float = ETA_STAR, **micro) -> tuple[msm.Coupling, msm.Scheme]:
    """The coupling (channel macro, ShearCell closure per face) and its macro–micro scheme."""
    c = msm.Coupling()
    c.add("macro", Channel, n=faces, dt=dt, G=G, eta_ref=eta_ref)
    c.add("micro", ShearCell, per_point="macro.shear_rate_out", ensemble={"mode": "closure", "horizon": horizon},
          surrogate=surrogate, **micro)
    c.connect("macro.shear_rate_out", "micro.shear_rate_in")
    c.connect("micro.shear_stress_out", "macro.shear_stress_in")
    return c, msm.MacroMicro(macro="macro", micro="micro", horizon=dt)


def surrogate_spec(tolerance: float = 0.05, audit: float = 0.1, noise: float = 0.05) -> dict:
    """``surrogate={...}``: ml.gp told the MD noise, ``noise`` (epsilon/sigma^3, one evaluation's std).

    Without it the GP interpolates the noise (its std collapses at every training point and
    the next noisy sample makes it wiggle); with it the nugget is ``(noise / std(Y))**2`` at
    every fit and the GP smooths at the noise level. The default is the measured scatter of
    one 5 tau evaluation (sigma_eta * gdot ~ 0.05 up to gdot = 0.5; README). ``tolerance``
    (epsilon/sigma^3) must lie above the std the GP can reach there.
    """
    return {"model": "ml.gp", "model_options": {"noise": noise}, "tolerance": tolerance, "audit": audit,
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


def flow_curve(rates: np.ndarray, horizon: float = HORIZON, replicas: int | list[int] = 1, **micro) -> np.ndarray:
    """The closure alone, ``replicas`` runs per rate (a number, or one per rate; one box, reset each time).

    Returns rows (measured rate, shear stress, temperature, tau/gdot, its standard error) per
    rate: means over the replicas of each run's values; the standard error is the replicas'
    scatter of tau/gdot over sqrt(replicas) (nan for one replica).
    """
    counts = np.broadcast_to(np.asarray(replicas, dtype=int), np.shape(rates))
    cell = ShearCell(**micro)
    cell.initialize()
    start = cell.save_state()
    out = []
    for r, k in zip(rates, counts, strict=True):
        cell.restore_state(start)
        rows = cell.run_replicas(float(r), horizon, int(k))
        eta = rows[:, 1] / rows[:, 0]
        se = float(eta.std(ddof=1) / np.sqrt(len(eta))) if len(eta) > 1 else float("nan")
        out.append((*rows.mean(axis=0), float(eta.mean()), se))
    cell.finalize()
    return np.array(out).T


def plot(full: msm.Result, gated: msm.Result, curve: np.ndarray | None, fit: tuple | None, path: Path) -> None:
    """Steady profiles against Newtonian, and the flow curve with its gdot^(1/2) fit."""
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
    if fit is not None:  # the steady profile the fitted flow curve implies (monotone below gdot = 2)
        law = lambda g: (fit[0] - fit[1] * np.sqrt(np.minimum(g, 2.0))) * np.minimum(g, 2.0)  # noqa: E731
        a.plot(y, macro.steady_profile(law), "k:", lw=1, label="steady, fitted eta(gdot)")
    a.set_xlabel("y (sigma), wall to centreline")
    a.set_ylabel("u (sigma/tau)")
    a.legend(fontsize=7)
    if curve is not None:
        b = np.atleast_1d(axes)[1]
        rate, eta, se = curve[0], curve[3], curve[4]
        b.errorbar(rate, eta, yerr=se, fmt="C0o", label="md.lj: tau / gdot (mean, s.e.)")
        if fit is not None:
            g = np.linspace(0.0, rate.max(), 100)
            b.plot(g, fit[0] - fit[1] * np.sqrt(g), "C0-", lw=1,
                   label=f"eta0 - A gdot^1/2: eta0 = {fit[0]:.2f} +- {fit[2]:.2f}")
        b.axhspan(ETA_STAR - ETA_ERR, ETA_STAR + ETA_ERR, color="k", alpha=0.2, label="eta(0), Ferrario 1991")
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
    ap.add_argument("--micro-replicas", type=int, default=1, help="MD replicas per closure evaluation")
    ap.add_argument("--sweep", action="store_true", help="also run the flow curve")
    ap.add_argument("--replicas", type=int, default=8, help="replicas per rate in the sweep")
    ap.add_argument("--plot", type=Path)
    args = ap.parse_args()
    cell = ShearCell()
    noise = stress_noise(averaged_volume(cell), args.horizon - cell.spinup)
    print(f"MD stress noise estimate (1 sigma, one replica): {noise:.3f} epsilon/sigma^3")
    curve = fit = None
    if args.sweep:
        rates = np.array([0.1, 0.2, 0.3, 0.5, 0.7, 1.0])
        t0 = time.perf_counter()
        curve = flow_curve(rates, args.horizon, args.replicas)
        for r, (m, s, temp, eta, se) in zip(rates, curve.T, strict=True):
            print(f"gdot {r:4.2f}: measured {m:.3f}, tau {s:.3f}, tau/gdot {eta:.3f} +- {se:.3f} "
                  f"({(eta - ETA_STAR) / np.hypot(se, ETA_ERR):+.1f} sigma from eta(0)), T {temp:.3f}")
        fit = fit_sqrt_law(curve[0], curve[3], curve[4])
        print(f"fit eta0 - A sqrt(gdot): eta0 = {fit[0]:.3f} +- {fit[2]:.3f} (Ferrario 1991: {ETA_STAR} +- "
              f"{ETA_ERR}; {fit[0] / ETA_STAR - 1:+.1%}), A = {fit[1]:.3f} +- {fit[3]:.3f}; "
              f"{len(rates) * args.replicas} runs, {time.perf_counter() - t0:.0f} s")
    micro = {"replicas": args.micro_replicas}
    full, t_full = run(args.faces, until=args.until, horizon=args.horizon, **micro)
    gated, t_gated = run(args.faces, surrogate_spec(args.tolerance), until=args.until, horizon=args.horizon, **micro)
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
        plot(full, gated, curve, fit, args.plot)
        print(f"plot written to {args.plot}")


if __name__ == "__main__":
    main()
