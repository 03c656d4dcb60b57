"""MUSCLE3 0.11 peer baseline: the reaction–diffusion macro–micro problem.

This is MUSCLE3's own example (``docs/source/examples/python/reaction_diffusion.py``):
a macro model ``diffusion`` with ports ``state_out`` (O_I) and ``state_in`` (S), and
a micro model ``reaction`` with ports ``initial_state`` (F_INIT) and ``final_state``
(O_F), run with :func:`libmuscle.runner.run_simulation`, which starts the manager and
each component in its own process (``multiprocessing``, fork) and connects them over
TCP on localhost.

It is set up with the numbers of msmcore's reference problem (``ARCHITECTURE.md``,
"Reference problems") and differs from MUSCLE3's example in three deliberate ways:

* **Integer step counts.** The example loops ``while t_cur + dt <= t_max`` (macro)
  and ``while t_cur + dt < t0 + t_max`` (micro) on accumulated floats. For these
  numbers that gives 49 macro steps (not 50) and 99 or 100 micro steps depending on
  the macro time (see :func:`float_loop_step_counts`). Here both loops run integer
  counts ``round(t_max / dt)`` (50 and 100), given as the settings ``macro.n_steps``
  and ``micro.n_steps``, as ``numpy_reference`` does.
* **100 cells.** The example sets ``x_max = 1.01`` and so has 101 cells; here the
  grid is the setting ``n_cells = 100``.
* **No plot; file output.** The macro writes its final state to the ``.npy`` file
  named by the setting ``macro.out_file``, and its own loop time to
  ``macro.timing_file``.

Usage::

    python rd_muscle3.py --out final.npy --json

prints one JSON line with ``coupled_run_s`` (wall time of ``run_simulation`` only: no
interpreter start-up, no imports), ``macro_loop_s`` (the macro's coupling loop, first
send to last diffusion step, measured inside the macro process), and ``max_rel_diff``
against ``examples/reaction_diffusion/numpy_reference.py``.

Note on timing: ``run_simulation`` checks its component processes every 0.5 s
(``sleep(0.5)`` in ``libmuscle.runner.run_instances``), so ``coupled_run_s`` cannot be
below about 0.5 s however fast the coupled model is; ``macro_loop_s`` is the cost of
the coupling itself.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from libmuscle import Grid, Instance, Message
from libmuscle.runner import run_simulation
from ymmsl.v0_2 import (
    Component,
    Conduit,
    Configuration,
    Model,
    Operator,
    Ports,
    Settings,
)

_logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = REPO_ROOT / "examples" / "reaction_diffusion"

# The reference problem (ARCHITECTURE.md, "Reference problems").
N_CELLS = 100
DX = 0.01
D = 0.0405
K = -4.05e4
MACRO_DT = 2.469136e-6
T_END = 1.234568e-4
MICRO_DT = 2.469136e-8
MICRO_HORIZON = 2.469136e-6

#: Spike cells of the initial state, as in MUSCLE3's example.
SPIKE_CELLS = (25, 50, 75)


def reaction() -> None:
    """Micro model: explicit Euler for ``dU/dt = k U`` over ``n_steps`` steps.

    Receives the macro state on ``initial_state`` (F_INIT) and returns the reacted state
    on ``final_state`` (O_F), once per reuse of the instance.
    """
    instance = Instance(
        {Operator.F_INIT: ["initial_state"], Operator.O_F: ["final_state"]}
    )

    while instance.reuse_instance():
        # F_INIT
        dt = instance.get_setting("dt", "float")
        n_steps = instance.get_setting("n_steps", "int")
        k = instance.get_setting("k", "float")

        msg = instance.receive("initial_state")
        U = msg.data.array.copy()

        for _ in range(n_steps):
            # S
            U += k * U * dt

        # O_F
        t_end = msg.timestamp + n_steps * dt
        instance.send("final_state", Message(t_end, None, Grid(U, ["x"])))


def laplacian(Z: np.ndarray, dx: float) -> np.ndarray:
    """Return the second difference of ``Z`` on interior points (as MUSCLE3's example).

    Parameters
    ----------
    Z : numpy.ndarray
        Samples along a line.
    dx : float
        Sample spacing.

    Returns
    -------
    numpy.ndarray
        ``(Z[:-2] + Z[2:] - 2 Z[1:-1]) / dx**2``, of length ``len(Z) - 2``.
    """
    result: np.ndarray = (Z[:-2] + Z[2:] - 2.0 * Z[1:-1]) / dx**2
    return result


def diffusion() -> None:
    """Macro model: explicit diffusion on a 1D grid for ``n_steps`` steps.

    Sends the state on ``state_out`` (O_I) each step, receives the reacted state on
    ``state_in`` (S), and diffuses that. Writes the final state to ``out_file`` (.npy)
    and its loop wall time to ``timing_file`` (JSON) when those settings are non-empty.
    """
    instance = Instance({Operator.O_I: ["state_out"], Operator.S: ["state_in"]})

    while instance.reuse_instance():
        # F_INIT
        dt = instance.get_setting("dt", "float")
        n_steps = instance.get_setting("n_steps", "int")
        n_cells = instance.get_setting("n_cells", "int")
        dx = instance.get_setting("dx", "float")
        d = instance.get_setting("d", "float")
        out_file = instance.get_setting("out_file", "str", default="")
        timing_file = instance.get_setting("timing_file", "str", default="")

        U = np.zeros(n_cells) + 1e-20
        U[list(SPIKE_CELLS)] = 2.0

        loop_start = time.perf_counter()
        for step in range(n_steps):
            # O_I
            t_cur = step * dt
            t_next: float | None = (step + 1) * dt if step + 1 < n_steps else None
            cur_state_msg = Message(t_cur, t_next, Grid(U, ["x"]))
            instance.send("state_out", cur_state_msg)

            # S
            msg = instance.receive("state_in", default=cur_state_msg)
            np.copyto(U, msg.data.array)

            dU = np.zeros_like(U)
            dU[1:-1] = d * laplacian(U, dx) * dt
            dU[0] = dU[1]
            dU[-1] = dU[-2]
            U += dU
        loop_s = time.perf_counter() - loop_start

        # O_F (no ports): write results
        if out_file:
            np.save(out_file, U)
        if timing_file:
            Path(timing_file).write_text(
                json.dumps({"macro_loop_s": loop_s, "n_steps": n_steps})
            )
        _logger.info("macro: %d steps in %.6f s", n_steps, loop_s)


def float_loop_step_counts(
    macro_dt: float = MACRO_DT,
    t_end: float = T_END,
    micro_dt: float = MICRO_DT,
    micro_horizon: float = MICRO_HORIZON,
) -> tuple[int, list[int]]:
    """Return the step counts MUSCLE3's example float while-loops would take.

    Replays the loop conditions of the example verbatim, with the same floating-point
    operations: macro ``while t_cur + dt <= t_max: ... t_cur += dt`` from 0, and, for
    each macro message timestamp ``t0``, micro
    ``while t_cur + dt < t0 + t_max: t_cur += dt`` from ``t0``.

    Returns
    -------
    tuple[int, list[int]]
        The number of macro steps and the micro step count of each macro step.
    """
    n_macro = 0
    t_cur = 0.0
    micro_counts: list[int] = []
    while t_cur + macro_dt <= t_end:
        t_micro = t_cur
        n_micro = 0
        while t_micro + micro_dt < t_cur + micro_horizon:
            t_micro += micro_dt
            n_micro += 1
        micro_counts.append(n_micro)
        n_macro += 1
        t_cur += macro_dt
    return n_macro, micro_counts


def build_configuration(out_file: Path, timing_file: Path) -> Configuration:
    """Build the yMMSL v0.2 configuration of the coupled model.

    Parameters
    ----------
    out_file : pathlib.Path
        Where the macro model saves its final state (.npy); should be absolute,
        since the components run in the run directory.
    timing_file : pathlib.Path
        Where the macro model writes its loop time (JSON).

    Returns
    -------
    ymmsl.v0_2.Configuration
        Model ``reaction_diffusion`` with components ``macro`` (implementation
        ``diffusion``) and ``micro`` (implementation ``reaction``) and their settings.
    """
    components = [
        Component(
            "macro", Ports(o_i=["state_out"], s=["state_in"]), "diffusion", "diffusion"
        ),
        Component(
            "micro",
            Ports(f_init=["initial_state"], o_f=["final_state"]),
            "reaction",
            "reaction",
        ),
    ]
    conduits = [
        Conduit("macro.state_out", "micro.initial_state"),
        Conduit("micro.final_state", "macro.state_in"),
    ]
    model = Model("reaction_diffusion", components=components, conduits=conduits)
    settings = Settings(
        {
            "macro.dt": MACRO_DT,
            "macro.n_steps": round(T_END / MACRO_DT),
            "macro.out_file": str(out_file),
            "macro.timing_file": str(timing_file),
            "micro.dt": MICRO_DT,
            "micro.n_steps": round(MICRO_HORIZON / MICRO_DT),
            "n_cells": N_CELLS,
            "dx": DX,
            "k": K,
            "d": D,
        }
    )
    return Configuration(
        "MUSCLE3 reaction-diffusion baseline", models=[model], settings=settings
    )


def max_rel_diff(result: np.ndarray, reference: np.ndarray) -> float:
    """Return ``max_i |result_i - reference_i| / |reference_i|``.

    The reference state is strictly positive (it starts at >= 1e-20 and every step
    multiplies by positive factors or averages), so no denominator is zero; the smallest
    positive double guards the division anyway.
    """
    denom = np.maximum(np.abs(reference), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(result - reference) / denom))


def run(out_file: Path, run_dir: Path) -> dict[str, Any]:
    """Run the coupled simulation and compare with the numpy reference.

    Parameters
    ----------
    out_file : pathlib.Path
        Where the final macro state is saved (.npy).
    run_dir : pathlib.Path
        Working directory for MUSCLE3's logs (``muscle3_manager.log``,
        ``muscle3.<instance>.log``, ``performance.sqlite``).

    Returns
    -------
    dict
        The measurements, as printed by ``--json``.
    """
    sys.path.insert(0, str(REFERENCE_DIR))
    from numpy_reference import reaction_diffusion_reference

    out_file = out_file.resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    timing_file = run_dir / "macro_timing.json"
    configuration = build_configuration(out_file, timing_file)
    implementations = {"diffusion": diffusion, "reaction": reaction}

    cwd = Path.cwd()
    os.chdir(run_dir)  # run_simulation writes its logs to the current directory
    try:
        start = time.perf_counter()
        run_simulation(configuration, implementations)
        coupled_run_s = time.perf_counter() - start
    finally:
        os.chdir(cwd)

    result = np.load(out_file)
    _, history = reaction_diffusion_reference(
        n_cells=N_CELLS,
        dx=DX,
        D=D,
        k=K,
        macro_dt=MACRO_DT,
        t_end=T_END,
        micro_dt=MICRO_DT,
        micro_horizon=MICRO_HORIZON,
    )
    macro_timing = json.loads(timing_file.read_text())
    n_float_macro, float_micro = float_loop_step_counts()
    return {
        "coupled_run_s": coupled_run_s,
        "macro_loop_s": macro_timing["macro_loop_s"],
        "max_rel_diff": max_rel_diff(result, history[-1]),
        "n_macro_steps": macro_timing["n_steps"],
        "n_micro_steps": round(MICRO_HORIZON / MICRO_DT),
        "float_loop_macro_steps": n_float_macro,
        "float_loop_micro_steps": sorted(set(float_micro)),
        "n_cells": N_CELLS,
        "muscle3_version": _muscle3_version(),
        "out": str(out_file),
    }


def _muscle3_version() -> str:
    from importlib.metadata import version

    return version("muscle3")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("final.npy"),
        help="where to save the final macro state (.npy)",
    )
    parser.add_argument(
        "--run-dir",
        type=Path,
        default=None,
        help="directory for MUSCLE3's logs (default: a temporary one, "
        "removed afterwards)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the measurements as one JSON line"
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=1e-12,
        help="exit 1 if max_rel_diff exceeds this (default 1e-12)",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING)
    if args.run_dir is None:
        with tempfile.TemporaryDirectory(prefix="muscle3_rd_") as tmp:
            report = run(args.out, Path(tmp))
    else:
        report = run(args.out, args.run_dir)

    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")
    return 0 if report["max_rel_diff"] <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
