"""Natural convection in a differentially heated square cavity (de Vahl Davis 1983), partitioned.

Two msm-fluid components, coupled implicitly each window (IQN-ILS or Aitken):

* ``flow`` - ``fluid.navier_stokes`` (transient, backward Euler) takes the buoyancy
  force density ``force_in`` and gives ``velocity_out``;
* ``heat`` - ``fluid.advection_diffusion`` (implicit, central differences) takes
  ``velocity_in`` and gives the Boussinesq force ``buoyancy_out = Ra Pr T e_y``.

Non-dimensional form (length L, velocity kappa / L, time L^2 / kappa): kappa = 1,
rho = 1, mu = Pr, force = Ra Pr T e_y; T = +1/2 on the left wall (x = 0), -1/2 on the
right, top and bottom insulated, no-slip everywhere. Both components use the same
vertex-centred grid, so their ports connect value to value. The coupled problem is
marched in pseudo-time (windows of ``dt``) until the field stops changing: the steady
state does not depend on ``dt``.

Reference: G. de Vahl Davis, "Natural convection of air in a square cavity: a bench
mark numerical solution", Int. J. Numer. Meth. Fluids 3, 249-264 (1983), Table (Pr = 0.71):
average Nusselt number 1.118, 2.243, 4.519 and the velocity maxima on the mid-lines
u_max(x = 1/2) = 3.649, 16.178, 34.73, v_max(y = 1/2) = 3.697, 19.617, 68.59 for
Ra = 1e3, 1e4, 1e5.

Run:  .venv/bin/python examples/natural_convection/cavity.py [--ra 1e4] [--nodes 33 65] [--plot cavity.png]
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

import numpy as np

import msmcore as msm

logger = logging.getLogger("examples.natural_convection")

PR = 0.71
#: Exact linear solves inside Newton: with the Eisenstat-Walker tolerances (the default) the
#: line search stalls on the first buoyancy-driven step from rest on 33 x 33 nodes and finer.
NEWTON = {"snes_ksp_ew": "false", "ksp_rtol": "1e-10"}  # the defaults recover too, ~20 % slower here
#: de Vahl Davis (1983): Ra -> (Nu average on the hot wall, u_max on x = 1/2, v_max on y = 1/2).
REFERENCE = {1e3: (1.118, 3.649, 3.697), 1e4: (2.243, 16.178, 19.617), 1e5: (4.519, 34.73, 68.59)}


def build(ra: float, n: int, dt: float) -> msm.Coupling:
    """The two components on ``n x n`` nodes and their two connections."""
    c = msm.Coupling()
    c.add("flow", "fluid.navier_stokes", nodes=(n, n), size=(1.0, 1.0), density=1.0, viscosity=PR,
          mode="transient", dt=dt, petsc_options=NEWTON)
    c.add("heat", "fluid.advection_diffusion", nodes=(n, n), size=(1.0, 1.0), kappa=1.0, dt=dt,
          method="implicit", scheme="central", left=("dirichlet", 0.5), right=("dirichlet", -0.5),
          top="insulated", bottom="insulated", initial="0.5 - x",
          expansion=1.0, gravity=(0.0, -ra * PR), reference=0.0, density=1.0)
    c.connect("heat.buoyancy_out", "flow.force_in")
    c.connect("flow.velocity_out", "heat.velocity_in")
    return c


def accelerations() -> dict[str, Any]:
    """The accelerations compared in docs/benchmarks.md."""
    return {"IQN-ILS": lambda: msm.IQNILS(0.5, reuse=2), "Aitken": lambda: msm.Aitken(0.5)}


def run(ra: float, n: int, *, dt: float = 0.05, until: float | None = None, acceleration: str = "IQN-ILS",
        rel_tol: float = 1e-7) -> msm.Result:
    """March the coupled cavity to (near) steady state; the velocity is iterated on (serial variant,
    heat first).

    ``until`` defaults to 1.5 diffusion times, which brings every Ra here to steady
    state to well within the tolerances of the comparison (checked by :func:`steadiness`).
    """
    scheme = msm.Implicit(dt, order=["heat", "flow"], acceleration=accelerations()[acceleration](),
                          rel_tol=rel_tol, abs_tol=1e-10, max_iterations=60)
    return build(ra, n, dt).run(until=until or 1.5, scheme=scheme, quiet=True, sample_every=10 * dt)


def fields(result: msm.Result) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Final x, y (node coordinates), T and velocity (nx, ny, 2)."""
    T = result["heat"]["state_out"]
    vel = result["flow"]["velocity_out"].values[-1]
    return T["x"].values, T["y"].values, T.values[-1], vel


def nusselt(x: np.ndarray, y: np.ndarray, T: np.ndarray) -> float:
    """Average Nusselt number on the hot wall, -int_0^1 dT/dx(0, y) dy (Delta T = 1, L = 1).

    Second-order one-sided difference at the wall and the trapezoidal rule (both O(h^2)).
    """
    h = x[1] - x[0]
    dTdx = (-3.0 * T[0] + 4.0 * T[1] - T[2]) / (2.0 * h)
    return float(-np.trapezoid(dTdx, y))


def peak(coord: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """Maximum of a sampled profile and its position, from the parabola through the 3 nodes around it."""
    k = int(np.clip(np.argmax(values), 1, values.size - 2))
    f0, f1, f2 = values[k - 1: k + 2]
    h = coord[1] - coord[0]
    denom = f0 - 2 * f1 + f2
    s = 0.0 if denom == 0 else 0.5 * (f0 - f2) / denom
    return float(f1 - 0.25 * (f0 - f2) * s), float(coord[k] + s * h)


def benchmark_numbers(result: msm.Result) -> dict[str, float]:
    """Nu on the hot wall, u_max on x = 1/2 and v_max on y = 1/2 (with their positions)."""
    x, y, T, vel = fields(result)
    mid = x.size // 2  # odd node counts: the mid-line is a node line
    u_max, y_at = peak(y, vel[mid, :, 0])
    v_max, x_at = peak(x, vel[:, mid, 1])
    return {"Nu": nusselt(x, y, T), "u_max": u_max, "y_u_max": y_at, "v_max": v_max, "x_v_max": x_at}


def richardson(coarse: float, fine: float, order: float = 2.0) -> float:
    """Extrapolate two values on grids h and h/2 of a method of the given order."""
    return fine + (fine - coarse) / (2.0**order - 1.0)


def steadiness(result: msm.Result) -> float:
    """Largest change of T between the last two samples, relative to the wall difference 1."""
    T = result["heat"]["state_out"].values
    return float(np.abs(T[-1] - T[-2]).max())


def plot(result: msm.Result, ra: float, path: str) -> None:
    """Isotherms and streamlines of the final state."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y, T, vel = fields(result)
    psi = result["flow"]["streamfunction_out"].values[-1]
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 4.0))
    axes[0].contour(x, y, T.T, levels=np.linspace(-0.45, 0.45, 10), colors="k", linewidths=0.8)
    axes[0].set_title(f"isotherms, Ra = {ra:.0e}")
    axes[1].contour(x, y, psi.T, levels=12, colors="k", linewidths=0.8)
    axes[1].streamplot(x, y, vel[..., 0].T, vel[..., 1].T, density=0.8, color="0.6", linewidth=0.6)
    axes[1].set_title("stream function and streamlines")
    for ax in axes:
        ax.set_aspect("equal")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ra", type=float, nargs="+", default=[1e3, 1e4, 1e5])
    parser.add_argument("--nodes", type=int, nargs=2, default=[33, 65], help="coarse and fine grids")
    parser.add_argument("--dt", type=float, default=0.05)
    parser.add_argument("--acceleration", default="IQN-ILS", choices=list(accelerations()))
    parser.add_argument("--plot", help="save isotherms and streamlines of the finest grid (one per Ra: {ra})")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("msm_fluid").setLevel(logging.WARNING)
    logging.getLogger("msmcore.acceleration").setLevel(logging.WARNING)  # IQN-ILS's per-window column counts
    for ra in args.ra:
        nums = []
        for n in args.nodes:
            t0 = time.perf_counter()
            res = run(ra, n, dt=args.dt, acceleration=args.acceleration)
            nums.append(benchmark_numbers(res))
            logger.info("Ra=%g %dx%d: %s, %d iterations in %d windows, steady to %.1e, %.1f s", ra, n, n,
                        {k: round(v, 4) for k, v in nums[-1].items()}, sum(res.info["iterations"]),
                        len(res.info["iterations"]), steadiness(res), time.perf_counter() - t0)
        ref = REFERENCE.get(ra)
        for i, key in enumerate(("Nu", "u_max", "v_max")):
            ext = richardson(nums[0][key], nums[1][key])
            err = f", {100 * (ext / ref[i] - 1):+.2f} % from de Vahl Davis {ref[i]}" if ref else ""
            logger.info("Ra=%g %s: %.4f (%d) %.4f (%d) -> Richardson %.4f%s", ra, key, nums[0][key], args.nodes[0],
                        nums[1][key], args.nodes[1], ext, err)
        if args.plot:
            plot(res, ra, args.plot.format(ra=f"{ra:g}"))


if __name__ == "__main__":
    main()
