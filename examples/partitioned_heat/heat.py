"""preCICE's partitioned heat conduction, coupled implicitly by msmcore.

u = 1 + x² + α y² + β t (α = 3, β = 1.2) solves du/dt = ∇²u + f, f = β − 2 − 2α, on
[0, 2] × [0, 1]. The domain is split at x = 1: the left side (``fluid.heat``, Dirichlet
role) takes the interface temperature and gives the heat flux; the right side (Neumann
role) takes that flux and gives the interface temperature. Implicit Euler with
second-order differences represents u exactly, so the coupled error is set by the
coupling tolerance alone: preCICE's tutorial asserts < 1e-8.

Run:  .venv/bin/python examples/partitioned_heat/heat.py [--plot heat.png] [--right-ny 17]
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

import msmcore as msm

logger = logging.getLogger("examples.partitioned_heat")

ALPHA, BETA = 3.0, 1.2
EXACT = "1 + x**2 + alpha*y**2 + beta*t"
CONSTANTS = {"alpha": ALPHA, "beta": BETA}
WINDOW, T_END = 0.1, 1.0


def exact(x: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
    """The manufactured solution on a grid of x (axis 0) and y (axis 1)."""
    return 1 + x[:, None] ** 2 + ALPHA * y[None, :] ** 2 + BETA * t


def accelerations() -> dict[str, msm.Acceleration]:
    """The accelerations compared in docs/benchmarks.md."""
    return {"constant 0.5": msm.ConstantRelaxation(0.5), "Aitken": msm.Aitken(0.5),
            "IQN-ILS": msm.IQNILS(0.1, reuse=8)}


def build(nx: int = 11, ny: int = 11, right_nx: int | None = None, right_ny: int | None = None,
          mapping: str | None = None, left_ranks: list[int] | None = None,
          right_ranks: list[int] | None = None, comm: Any = None) -> msm.Coupling:
    """The two subdomains and their connections (a mapping when the interface meshes differ).

    Under MPI each side runs on the given ranks of ``comm`` (default: all of them).
    """
    common = dict(size=(1.0, 1.0), kappa=1.0, dt=WINDOW, boundary=EXACT, source="beta - 2 - 2*alpha",
                  constants=CONSTANTS)
    c = msm.Coupling(comm=comm)
    c.add("left", "fluid.heat", ranks=left_ranks, origin=(0.0, 0.0), nodes=(nx, ny), interface_edge="right",
          interface_role="dirichlet", **common)
    c.add("right", "fluid.heat", ranks=right_ranks, origin=(1.0, 0.0), nodes=(right_nx or nx, right_ny or ny),
          interface_edge="left", interface_role="neumann", **common)
    options = {"mapping": mapping} if mapping else {}
    c.connect("left.flux_out", "right.flux_in", **options)
    c.connect("right.temperature_iface_out", "left.temperature_in", **options)
    return c


def run(acceleration: msm.Acceleration, **grid: Any) -> msm.Result:
    """Serial implicit coupling, left first: the interface temperature is iterated on."""
    scheme = msm.Implicit(WINDOW, order=["left", "right"], acceleration=acceleration,
                          rel_tol=1e-12, abs_tol=1e-14, max_iterations=100)
    return build(**grid).run(until=T_END, scheme=scheme, quiet=True)


def window_errors(result: msm.Result) -> np.ndarray:
    """Relative L2 error of the whole field (both sides) against u at each window's end."""
    errors = []
    left, right = result["left"]["temperature_out"], result["right"]["temperature_out"]
    for i, t in enumerate(result["left"]["time"].values[1:], start=1):
        num = den = 0.0
        for field in (left, right):
            ref = exact(field["x"].values, field["y"].values, float(t))
            num += float(np.sum((field[i].values - ref) ** 2))
            den += float(np.sum(ref**2))
        errors.append(np.sqrt(num / den))
    return np.array(errors)


def plot(results: dict[str, msm.Result], path: str) -> None:
    """Error per window for each acceleration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    for name, res in results.items():
        errs = window_errors(res)
        ax.semilogy(np.arange(1, len(errs) + 1) * WINDOW, errs, "o-", ms=4,
                    label=f"{name} ({sum(res.info['iterations'])} iterations)")
    ax.axhline(1e-8, color="k", ls="--", lw=0.8, label="preCICE's bound 1e-8")
    ax.set_xlabel("window end t")
    ax.set_ylabel("relative L2 error")
    ax.set_title("Partitioned heat conduction, serial implicit coupling")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", help="save the error per window to this PNG")
    parser.add_argument("--right-ny", type=int, help="nodes along the interface on the right side "
                        "(non-matching interface meshes, coupled through a mapping)")
    parser.add_argument("--mapping", default="linear", help="mapping for non-matching meshes")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("msm_fluid").setLevel(logging.WARNING)
    grid = {"right_ny": args.right_ny, "mapping": args.mapping} if args.right_ny else {}
    results = {name: run(acc, **grid) for name, acc in accelerations().items()}
    for name, res in results.items():
        errs = window_errors(res)
        logger.info("%-13s iterations per window %s (total %d), max relative L2 error %.2e",
                    name, res.info["iterations"], sum(res.info["iterations"]), errs.max())
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
