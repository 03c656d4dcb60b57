"""Start-up Couette flow of a Lennard-Jones liquid: hybrid MD (md.lj) – continuum (fluid.diffusion).

Set-up in the style of O'Connell & Thompson (1995) and Nie, Chen, E & Robbins,
J. Fluid Mech. 500, 55 (2004): a channel of LJ liquid (T* = 1.1, rho* = 0.81) between a
fixed lower wall at y = 0 and an upper wall at y = h that starts moving at t = 0 with
speed U along x. MD (md.lj: lattice wall at y = 0, periodic in x and z, open top held by
Nie et al.'s boundary force, Langevin thermostat on z only) covers the lower part; a 1D
continuum of u(y) (fluid.diffusion, du/dt = nu d2u/dy2, nu = eta/rho) covers the upper
part. In the overlap:

* continuum -> MD: the continuum velocity, linearly interpolated to the centres of the MD
  constraint slabs, is imposed on their x component (``continuum.state_out ->
  md.velocity_in``, ``mapping="linear"``, ``target_component=0``; Nie et al.'s constraint);
* MD -> continuum: the continuum's lower Dirichlet value is MD's window-averaged
  x-velocity in the slab nearest its lower held cell (``md.velocity_out ->
  continuum.boundary_low_in``, ``mapping="nearest"``, ``source_component=0``); the upper
  held value stays ``boundary_value`` = U (``boundary_high_in`` is not connected).

Both components are the plain plugin components; the continuum's ``origin`` puts its
cells on the MD slab centres (so both mappings are exact at the points they read).

Run:  .venv/bin/python examples/couette_hybrid/couette.py [--reduced] [--plot couette.png]
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from dataclasses import dataclass

import numpy as np

import msmcore as msm

logger = logging.getLogger("examples.couette_hybrid")

#: State point of Nie, Chen, E & Robbins (2004), and its shear viscosity.
TEMPERATURE = 1.1        # epsilon/kB
DENSITY = 0.81           # sigma^-3 (= mass density, m = 1)
#: Shear viscosity eta* = 2.14 epsilon tau sigma^-3 at (T*, rho*) = (1.1, 0.81): the value
#: Nie et al. (2004) use for this state point (Meier, Laesecke & Kabelac, J. Chem. Phys.
#: 121, 3671 (2004) give eta* ~ 2.0-2.2 in this neighbourhood).
ETA = 2.14
NU = ETA / DENSITY       # kinematic viscosity, sigma^2/tau


def exact(y: np.ndarray, t: float | np.ndarray, U: float, h: float, nu: float = NU,
          terms: int = 400) -> np.ndarray:
    """Start-up Couette flow: u(0, t) = 0, u(h, t) = U for t > 0, u(y, 0) = 0.

    u = U y/h + sum_n (2U/(n pi)) (-1)^n sin(n pi y/h) exp(-n^2 pi^2 nu t/h^2)
    (equivalently U y/h - (2U/pi) sum_n (1/n) sin(n pi (1 - y/h)) exp(...)).
    """
    y = np.asarray(y, dtype=float)[..., None]
    n = np.arange(1, terms + 1)
    t = np.asarray(t, dtype=float)[..., None, None] if np.ndim(t) else t
    series = (2 * U / (n * math.pi)) * (-1.0) ** n * np.sin(n * math.pi * y / h) \
        * np.exp(-(n * math.pi) ** 2 * nu * t / h**2)
    return U * y[..., 0] / h + series.sum(axis=-1)


@dataclass
class Setup:
    """Geometry of one run (lengths in sigma, times in tau)."""

    cells: tuple[int, int, int]
    n_bins: int
    boundary_bin: int
    constraint_bins: tuple[int, ...]
    n_cont: int
    U: float
    until: float
    window: float
    equilibrate: int

    @property
    def lattice(self) -> float:
        return (4 / DENSITY) ** (1 / 3)

    @property
    def slab(self) -> float:
        return self.cells[1] * self.lattice / self.n_bins

    @property
    def y_md(self) -> np.ndarray:
        return (np.arange(self.n_bins) + 0.5) * self.slab

    @property
    def y_cont(self) -> np.ndarray:
        return (self.boundary_bin + 0.5 + np.arange(self.n_cont)) * self.slab

    @property
    def h(self) -> float:
        """Upper wall: the continuum's upper held cell centre."""
        return float(self.y_cont[-1])


def setup(reduced: bool = False) -> Setup:
    if reduced:
        return Setup(cells=(6, 8, 6), n_bins=16, boundary_bin=9, constraint_bins=(12, 13), n_cont=11,
                     U=1.0, until=40.0, window=0.5, equilibrate=1000)
    return Setup(cells=(8, 8, 8), n_bins=16, boundary_bin=9, constraint_bins=(12, 13), n_cont=11,
                 U=1.0, until=120.0, window=0.5, equilibrate=2000)


def build(reduced: bool = False, seed: int = 1) -> tuple[msm.Coupling, Setup]:
    """The coupling and its geometry; ``reduced=True`` is the test-suite size."""
    s = setup(reduced)
    c = msm.Coupling()
    c.add("md", "md.lj", periodic="xz", cells=s.cells, density=DENSITY, temperature=TEMPERATURE,
          cutoff=2.5, lower_boundary="lattice", upper_boundary="open", boundary_pressure=2.0,
          thermostat_axes="z", thermostat_rate=1.0, n_bins=s.n_bins, constraint_bins=s.constraint_bins,
          constraint_components="x", sample_interval=2, stress_interval=10**6, equilibrate=s.equilibrate,
          melt_temperature=2.0, seed=seed, dt=0.005)
    dt_c = 0.2 * s.slab**2 / (2 * NU)
    dt_c = s.window / math.ceil(s.window / dt_c)
    c.add("continuum", "fluid.diffusion", shape=(s.n_cont,), spacing=s.slab, origin=s.boundary_bin * s.slab,
          D=NU, dt=dt_c, method="explicit", boundary="dirichlet", boundary_value=s.U, initial=0.0,
          units="sigma/tau")
    # continuum -> MD: u at the constraint slab centres, into the x component of velocity_in
    c.connect("continuum.state_out", "md.velocity_in", mapping="linear", target_component=0)
    # MD -> continuum: slab x-velocity at the lower held cell becomes its Dirichlet value
    c.connect("md.velocity_out", "continuum.boundary_low_in", mapping="nearest", source_component=0)
    return c, s


def run(reduced: bool = False, seed: int = 1, quiet: bool = True) -> tuple[msm.Result, Setup, float]:
    """Run; returns the result, the geometry and the wall time of ``Coupling.run``."""
    c, s = build(reduced, seed)
    t0 = time.perf_counter()
    res = c.run(until=s.until, scheme=msm.Serial(window=s.window, order=["md", "continuum"]), quiet=quiet)
    return res, s, time.perf_counter() - t0


def md_profile(res: msm.Result, s: Setup, t0: float, t1: float) -> dict[str, np.ndarray]:
    """MD x-velocity per slab averaged over windows ending in (t0, t1], with its exact counterpart.

    Returns arrays over slabs: ``u`` (count-weighted mean), ``exact`` (the exact solution
    averaged over the same windows, at the window mid-times), ``sigma`` (statistical error
    of ``u``, :func:`md_sigma`; NaN from the constraint band up), ``naive`` (sqrt(T/m)/sqrt(N_s)
    with N_s = particles in the slab x windows: every window independent), ``counts``.
    """
    ds = res["md"]
    times = ds["time"].values
    sel = (times > t0 + 1e-9) & (times <= t1 + 1e-9)
    v = ds["velocity_out"].values[sel, :, 0]
    n = ds["counts_out"].values[sel]
    u = (v * n).sum(axis=0) / n.sum(axis=0)
    mids = times[sel] - s.window / 2
    ex = np.mean([exact(s.y_md, t, s.U, s.h) for t in mids], axis=0)
    particles = n.mean(axis=0) / (s.window / (0.005 * 2))  # samples every 2 steps of 0.005
    naive = math.sqrt(TEMPERATURE) / np.sqrt(particles * sel.sum())
    return {"u": u, "exact": ex, "sigma": md_sigma(s, t1 - t0), "naive": naive,
            "counts": n.sum(axis=0), "y": s.y_md}


def md_sigma(s: Setup, duration: float) -> np.ndarray:
    """Statistical error of a slab's x-velocity averaged over ``duration`` (fluctuating hydrodynamics).

    The thermal x-momentum between the wall (y = 0, u = 0) and the constraint band
    (y = L, the first constraint slab centre, u imposed) relaxes in the modes
    sin(k pi y/L), each with equipartition variance 2T/(rho A L) (they add up to
    sqrt(T/m)^2/N_slab at a slab) and decay time tau_k = h^2/(k^2 pi^2 nu) -- the whole
    channel height h, not L, because the constraint band follows the continuum, which
    follows the MD boundary slab: the slowest thermal mode spans the channel. The time
    average of such an Ornstein-Uhlenbeck amplitude over D has variance
    var * g(D/tau_k), g(x) = 2/x - 2(1 - e^-x)/x^2. So

        sigma_b^2 = sum_k 2T/(rho A L) sin^2(k pi y_b/L) g(D/tau_k),

    summed to twice the slabs below L. The slowest mode (tau_1 ~ 5 tau here) makes this
    about three times the naive sqrt(T/m)/sqrt(N_slab x windows). NaN at and above L.
    """
    L = float(s.y_md[s.constraint_bins[0]])
    area = (s.cells[0] * s.lattice) * (s.cells[2] * s.lattice)
    k = np.arange(1, 2 * s.constraint_bins[0] + 1)
    tau = s.h**2 / (k**2 * math.pi**2 * NU)
    x = duration / tau
    g = 2 / x - 2 * (1 - np.exp(-x)) / x**2
    y = s.y_md[:, None]
    var = (2 * TEMPERATURE / (DENSITY * area * L) * np.sin(k * math.pi * y / L) ** 2 * g).sum(axis=1)
    sig = np.sqrt(var)
    sig[s.y_md >= L - 1e-9] = np.nan
    return sig


def timing_split(res: msm.Result, wall: float) -> dict[str, float]:
    """MD and continuum compute time, and the coupling overhead wall - sum(compute)."""
    md = res.timings["md"]["compute_s"]
    cont = res.timings["continuum"]["compute_s"]
    out = {"wall_s": wall, "md_s": md, "continuum_s": cont}
    for k in ("initialize_s",):
        for name in ("md", "continuum"):
            if k in res.timings[name]:
                out[f"{name}_{k}"] = res.timings[name][k]
    init = sum(v for k, v in out.items() if k.endswith("initialize_s"))
    out["overhead_s"] = wall - md - cont - init
    out["overhead_pct_of_md"] = 100 * out["overhead_s"] / md
    return out


def plot(res: msm.Result, s: Setup, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    yy = np.linspace(0, s.h, 200)
    cont = res["continuum"]
    ct = cont["time"].values
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    stops = [t for t in (5.0, 10.0, 20.0, 40.0, 80.0, s.until) if t <= s.until]
    prev = 0.0
    for i, t in enumerate(stops):
        t0 = max(prev, t - 5.0)
        p = md_profile(res, s, t0, t)
        col = colours[i % len(colours)]
        tm = 0.5 * (t0 + t)
        ax.plot(exact(yy, tm, s.U, s.h), yy, "-", color=col, lw=1, label=f"exact, t = {tm:g}")
        ax.errorbar(p["u"], s.y_md, xerr=p["sigma"], fmt="o", ms=3, color=col)
        k = int(np.argmin(abs(ct - tm)))
        ax.plot(cont["state_out"].values[k], s.y_cont, "s", mfc="none", color=col, ms=4)
        prev = t
    ax.axhspan(s.y_md[s.constraint_bins[0]] - s.slab / 2, s.y_md[s.constraint_bins[-1]] + s.slab / 2,
               color="0.9", zorder=0, label="constraint slabs")
    ax.axhline(s.y_md[s.boundary_bin], color="0.6", ls=":", lw=1)
    ax.set_xlabel("u_x (σ/τ)")
    ax.set_ylabel("y (σ)")
    ax.set_title("MD (●, 5τ means ± σ), continuum (□), exact (—)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reduced", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--plot", default=None)
    a = ap.parse_args()
    res, s, wall = run(a.reduced, a.seed, quiet=False)
    print(f"h = {s.h:.3f} sigma, nu = {NU:.4f}, Re = U h/nu = {s.U * s.h / NU:.2f}, "
          f"diffusion time h^2/nu = {s.h**2 / NU:.1f} tau")
    for t0, t1 in ((5.0, 20.0), (s.until / 2, s.until)):
        p = md_profile(res, s, t0, t1)
        print(f"MD profile over ({t0:g}, {t1:g}]:  y   u_MD   u_exact   sigma  naive  dev/sigma")
        for b in range(s.n_bins):
            print(f"  {p['y'][b]:6.2f} {p['u'][b]:7.3f} {p['exact'][b]:7.3f} {p['sigma'][b]:6.3f} "
                  f"{p['naive'][b]:6.3f} {(p['u'][b] - p['exact'][b]) / p['sigma'][b]:6.2f}")
    print("temperature (bulk, window means, last half):",
          float(np.mean(res["md"]["temperature_out"].values[len(res['md']['time']) // 2:, 2:12])))
    print("timings:", timing_split(res, wall))
    print("raw timings:", res.timings)
    if a.plot:
        plot(res, s, a.plot)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
