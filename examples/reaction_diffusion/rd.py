"""MUSCLE3's reaction-diffusion example as an msmcore coupling, in Python.

Run:  .venv/bin/python examples/reaction_diffusion/rd.py [--plot rd.png] [--out rd.nc]

The macro model (``fluid.diffusion``, explicit, MUSCLE3's boundary rule) and the
micro model (``kinetics.network``: U -> ; k U, explicit Euler) are coupled with
the macro-micro scheme: every macro step the micro model starts from the macro
state, runs 100 steps over its horizon, and hands its final state back. The
script checks the result against the plain-numpy implementation in
``numpy_reference.py`` and prints the largest relative difference.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

import msmcore as msm

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from numpy_reference import reaction_diffusion_reference  # noqa: E402

logger = logging.getLogger("examples.reaction_diffusion")

# The numbers of MUSCLE3's example (MUSCLE3 documentation, "Tutorial with Python",
# docs/source/examples/python/reaction_diffusion.py).
N_CELLS, DX, D, K = 100, 0.01, 0.0405, 4.05e4
MACRO_DT, T_END = 2.469136e-6, 1.234568e-4
MICRO_DT, HORIZON = 2.469136e-8, 2.469136e-6


def build(macro_ranks: list[int] | None = None, micro_ranks: list[int] | None = None
          ) -> tuple[msm.Coupling, msm.Scheme]:
    """The coupling and its scheme; under MPI each model runs on the given ranks (default: all)."""
    c = msm.Coupling()
    c.add("macro", "fluid.diffusion", ranks=macro_ranks, shape=(N_CELLS,), spacing=DX, D=D, dt=MACRO_DT,
          method="explicit", boundary="copy-increment",
          initial=1e-20, initial_points={25: 2.0, 50: 2.0, 75: 2.0})
    c.add("micro", "kinetics.network", ranks=micro_ranks, shape=(N_CELLS,), model=f"J: U -> ; k*U; k = {K}",
          dt=MICRO_DT, method="euler")
    c.connect("macro.state_out", "micro.state_in")
    c.connect("micro.state_out", "macro.state_in")
    return c, msm.MacroMicro(macro="macro", micro="micro", horizon=HORIZON)


def max_relative_difference(result: msm.Result) -> float:
    """Largest |msmcore - numpy| / |numpy| over all cells and macro steps."""
    _, reference = reaction_diffusion_reference()
    ours = result["macro"]["state_out"].values
    return float(np.max(np.abs(ours - reference) / np.abs(reference)))


def plot(result: msm.Result, path: Path) -> None:
    """Save log10 U over x and t."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ds = result["macro"]
    fig, ax = plt.subplots(figsize=(7, 4))
    mesh = ax.pcolormesh(ds["x"], ds["time"] * 1e6, np.log10(ds["state_out"]), shading="nearest",
                         cmap="viridis", vmin=-21, vmax=0.5)
    fig.colorbar(mesh, ax=ax, label="log10 U")
    ax.set_xlabel("x")
    ax.set_ylabel("t [µs]")
    ax.set_title("Reaction-diffusion (MUSCLE3's example) coupled by msmcore")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", type=Path, help="save a picture of log10 U(x, t) here")
    parser.add_argument("--out", type=Path, help="write the results to this NetCDF file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    coupling, scheme = build()
    result = coupling.run(until=T_END, scheme=scheme)
    logger.info("%s", result.summary())
    diff = max_relative_difference(result)
    logger.info("max relative difference to the numpy reference: %.3e", diff)
    if args.out:
        result.to_netcdf(args.out)
    if args.plot:
        plot(result, args.plot)
    if diff > 1e-12:
        raise SystemExit(f"result differs from the numpy reference by {diff:.3e} (> 1e-12)")


if __name__ == "__main__":
    main()
