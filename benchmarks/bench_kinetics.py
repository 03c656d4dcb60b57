"""Robertson's stiff kinetics to t = 40: msmcore's kinetics.network (PETSc TS) against SciPy.

The problem (Robertson 1966; Hairer & Wanner, "Solving ODEs II", sec. IV.1):
y1' = -0.04 y1 + 1e4 y2 y3, y2' = 0.04 y1 - 1e4 y2 y3 - 3e7 y2^2, y3' = 3e7 y2^2,
y(0) = (1, 0, 0). Reference at t = 40: the IVP test set (Mazzia & Magherini,
"Test Set for IVP Solvers", Robertson problem), y = (0.7158270687193,
9.185534764529e-6, 0.2841637457401).

Equal accuracy: for each side the tolerance is swept (rtol = 10^(-k/2), atol =
1e-6 rtol, the same rule for both, atol below y2's scale) and, per accuracy
target (max over species of |y - ref| / |ref|), the loosest tolerance that
meets it (and so do all tighter ones) is timed; the achieved errors are
reported next to the times.

- msmcore: ``Network(model=<Antimony>, method="rosw")`` (TSROSW, variant
  RODASPR) and ``method="bdf"`` (TSBDF, order 5), analytic Jacobian assembled by
  the plugin; the timed part is ``advance(40)`` after ``initialize()``
  (construction - Antimony, SBML, compilation, TS set-up - is reported apart).
- SciPy: ``solve_ivp(method="BDF")`` with hand-written NumPy right-hand side and
  analytic Jacobian.

Also reported: Robertson in 10,000 cells (different initial states) through one
TS - the spatial use, where every evaluation is vectorised over the cells.

Medians of repeated runs, all in this one process. Prints one JSON line.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402

REFERENCE = np.array([0.7158270687193, 9.185534764529e-6, 0.2841637457401])
T_END = 40.0
K1, K2, K3 = 0.04, 3e7, 1e4
ROBERTSON = """
R1: y1 -> y2; k1*y1
R2: 2 y2 -> y2 + y3; k2*y2^2
R3: y2 + y3 -> y1 + y3; k3*y2*y3
k1 = 0.04; k2 = 3e7; k3 = 1e4
y1 = 1; y2 = 0; y3 = 0
"""
TARGETS = (1e-6, 1e-8)
RTOLS = tuple(10.0 ** (-k / 2) for k in range(10, 22))  # 1e-5 ... 3e-11
REPEAT = 9


def error(y: np.ndarray) -> float:
    return float(np.max(np.abs(y - REFERENCE) / REFERENCE))


def msmcore_run(method: str, variant: str | None, rtol: float) -> Callable[[], tuple[np.ndarray, int]]:
    from msm_kinetics.network import Network

    def run() -> tuple[np.ndarray, int]:
        net = Network(name="robertson", model=ROBERTSON, method=method, variant=variant,
                      rtol=rtol, atol=1e-6 * rtol)
        net.initialize()
        t0 = time.perf_counter()
        net.advance(T_END)
        elapsed = time.perf_counter() - t0
        steps = net._integrator.stats["steps"]  # noqa: SLF001 - reported only
        net.finalize()
        run.elapsed = elapsed  # type: ignore[attr-defined]
        return net.state[0].copy(), steps

    return run


def scipy_run(rtol: float) -> Callable[[], tuple[np.ndarray, int]]:
    from scipy.integrate import solve_ivp

    def f(t: float, y: np.ndarray) -> np.ndarray:
        r1, r2, r3 = K1 * y[0], K2 * y[1] * y[1], K3 * y[1] * y[2]
        return np.array([-r1 + r3, r1 - r2 - r3, r2])

    def jac(t: float, y: np.ndarray) -> np.ndarray:
        return np.array([[-K1, K3 * y[2], K3 * y[1]],
                         [K1, -2 * K2 * y[1] - K3 * y[2], -K3 * y[1]],
                         [0.0, 2 * K2 * y[1], 0.0]])

    def run() -> tuple[np.ndarray, int]:
        t0 = time.perf_counter()
        sol = solve_ivp(f, (0.0, T_END), [1.0, 0.0, 0.0], method="BDF", jac=jac, rtol=rtol, atol=1e-6 * rtol)
        run.elapsed = time.perf_counter() - t0  # type: ignore[attr-defined]
        assert sol.success, sol.message
        return sol.y[:, -1].copy(), int(sol.t.size - 1)

    return run


def timed(run: Callable[[], tuple[np.ndarray, int]]) -> tuple[float, float, int]:
    """(median seconds, error, steps) over REPEAT runs after one warm-up."""
    y, steps = run()
    samples = []
    for _ in range(REPEAT):
        run()
        samples.append(run.elapsed)  # type: ignore[attr-defined]
    return statistics.median(samples), error(y), steps


def sweep(name: str, make: Callable[[float], Callable[[], tuple[np.ndarray, int]]]) -> dict:
    """Per target, the loosest swept rtol meeting it (with all tighter ones), timed."""
    errors = {}
    for rtol in RTOLS:
        y, _ = make(rtol)()
        errors[rtol] = error(y)
    out = {}
    for target in TARGETS:
        # the loosest rtol that meets the target together with every tighter one (so a
        # lucky cancellation at one loose tolerance does not count)
        ok = [r for r in RTOLS if all(errors[q] <= target for q in RTOLS if q <= r)]
        if not ok:
            out[f"{target:.0e}"] = None
            continue
        rtol = max(ok)
        median, err, steps = timed(make(rtol))
        out[f"{target:.0e}"] = {"rtol": rtol, "atol": 1e-6 * rtol, "error": err, "median_s": median,
                                "steps": steps}
    return {"name": name, "by_target": out, "sweep_errors": {f"{r:.1e}": e for r, e in errors.items()}}


def setup_seconds() -> float:
    from msm_kinetics.network import Network

    samples = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        net = Network(name="robertson", model=ROBERTSON, method="rosw", rtol=1e-6, atol=1e-12)
        net.initialize()
        samples.append(time.perf_counter() - t0)
        net.finalize()
    return statistics.median(samples)


def field_seconds(ncells: int = 10_000, repeat: int = 3) -> dict:
    """Robertson in ``ncells`` cells (different initial y1) through one TS, rtol 1e-6: median time."""
    from msm_kinetics.network import Network

    samples, steps = [], 0
    for _ in range(repeat):
        net = Network(name="robertson", model=ROBERTSON, method="rosw", rtol=1e-6, atol=1e-12, shape=(ncells,))
        net.initialize()
        net.state[:, 0] = np.linspace(0.9, 1.0, ncells)
        t0 = time.perf_counter()
        net.advance(T_END)
        samples.append(time.perf_counter() - t0)
        steps = net._integrator.stats["steps"]  # noqa: SLF001 - reported only
        net.finalize()
    median = statistics.median(samples)
    return {"cells": ncells, "median_s": median, "steps": steps, "us_per_cell_step": 1e6 * median / (ncells * steps)}


def main() -> None:
    import scipy

    sides = {
        "msmcore_rosw": sweep("msmcore kinetics.network method=rosw (TSROSW RODASPR)",
                              lambda r: msmcore_run("rosw", None, r)),
        "msmcore_bdf5": sweep("msmcore kinetics.network method=bdf variant=5 (TSBDF order 5)",
                              lambda r: msmcore_run("bdf", "5", r)),
        "scipy_bdf": sweep(f"SciPy {scipy.__version__} solve_ivp BDF, analytic Jacobian", scipy_run),
    }
    ratios = {}
    for target in TARGETS:
        key = f"{target:.0e}"
        peer = sides["scipy_bdf"]["by_target"][key]
        for side in ("msmcore_rosw", "msmcore_bdf5"):
            ours = sides[side]["by_target"][key]
            if ours and peer:
                ratios[f"scipy_over_{side}_at_{key}"] = peer["median_s"] / ours["median_s"]
    print(json.dumps({"benchmark": "kinetics_robertson", "machine": machine(), "t_end": T_END,
                      "reference": "Mazzia & Magherini, Test Set for IVP Solvers, Robertson, t=40",
                      "repeat": REPEAT, "msmcore_setup_s": setup_seconds(), "msmcore_field": field_seconds(),
                      "sides": sides,
                      "ratios": ratios}))


if __name__ == "__main__":
    main()
