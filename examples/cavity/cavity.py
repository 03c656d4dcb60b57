"""Lid-driven cavity with fluid.navier_stokes at Re = 100 and 1000 against Ghia et al. (1982).

Run from this folder:  python cavity.py            (129 x 129 nodes, Ghia's grid; ~50 s)
                       python cavity.py --nodes 65  (quicker)
Prints the comparison with Ghia's centreline tables and writes cavity.png
(streamlines and centreline profiles).
"""

from __future__ import annotations

import argparse
import time

import ghia
import numpy as np
from scipy.interpolate import CubicSpline

import msmcore as msm


def solve(re: float, nodes: int):
    """One steady solve through a coupling; returns the result dataset and the wall time."""
    c = msm.Coupling()
    c.add("cavity", "fluid.navier_stokes", nodes=(nodes, nodes), size=(1.0, 1.0),
          density=1.0, viscosity=1.0 / re, wall_velocity={"top": 1.0})
    t0 = time.perf_counter()
    res = c.run(until=1.0, scheme=msm.Serial(window=1.0), quiet=True)
    return res["cavity"].isel(time=-1), time.perf_counter() - t0


def centrelines(ds):
    s = ds["x"].values
    vel = ds["velocity_out"].values  # (nx, ny, 2)
    m = (len(s) - 1) // 2
    return CubicSpline(s, vel[m, :, 0])(ghia.Y), CubicSpline(s, vel[:, m, 1])(ghia.X)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=129)
    ap.add_argument("--plot", default="cavity.png")
    args = ap.parse_args()
    runs = {}
    print(f"{'Re':>5} {'nodes':>5} {'time s':>7} {'max|du|':>8} {'max|dv|':>8} {'psi_min':>9} "
          f"{'Ghia':>9} {'Botella':>9}")
    for re in (100, 1000):
        ds, wall = solve(re, args.nodes)
        u, v = centrelines(ds)
        psi = float(ds["streamfunction_out"].min())
        runs[re] = (ds, u, v)
        print(f"{re:5d} {args.nodes:5d} {wall:7.1f} {np.abs(u - ghia.U[re]).max():8.4f} "
              f"{np.abs(v - ghia.V[re]).max():8.4f} {psi:9.5f} {ghia.PSI_GHIA[re]:9.5f} "
              f"{ghia.PSI_BOTELLA.get(re, float('nan')):9.5f}")
    plot(runs, args.plot)


def plot(runs, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    for ax, re in zip(axes[:2], (100, 1000), strict=True):
        ds = runs[re][0]
        x, y = ds["x"].values, ds["y"].values
        vel = ds["velocity_out"].values
        psi = ds["streamfunction_out"].values
        levels = np.concatenate([np.linspace(psi.min(), 0, 12)[:-1], [-1e-6, 0, 1e-6, 1e-5, 1e-4, 5e-4, 1e-3]])
        ax.contour(x, y, psi.T, levels=np.unique(levels), colors="k", linewidths=0.6)
        ax.streamplot(x, y, vel[..., 0].T, vel[..., 1].T, density=1.1, linewidth=0.5, color="tab:blue", arrowsize=0.6)
        ax.set_aspect("equal")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title(f"Re = {re}: streamlines")
    ax = axes[2]
    s = np.linspace(0, 1, 200)
    for re, colour in ((100, "tab:blue"), (1000, "tab:red")):
        ds = runs[re][0]
        n = ds.sizes["x"]
        m = (n - 1) // 2
        vel = ds["velocity_out"].values
        grid = ds["x"].values
        ax.plot(CubicSpline(grid, vel[m, :, 0])(s), s, color=colour, label=f"u(0.5, y), Re={re}")
        ax.plot(s, CubicSpline(grid, vel[:, m, 1])(s), color=colour, ls="--", label=f"v(x, 0.5), Re={re}")
        ax.plot(ghia.U[re], ghia.Y, "o", mfc="none", color=colour, ms=4)
        ax.plot(ghia.X, ghia.V[re], "s", mfc="none", color=colour, ms=4)
    ax.set_title("centrelines (markers: Ghia et al. 1982)")
    ax.legend(fontsize=7)
    ax.set_xlabel("u  or  x")
    ax.set_ylabel("y  or  v")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


if __name__ == "__main__":
    main()
