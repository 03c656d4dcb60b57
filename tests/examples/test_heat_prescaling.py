"""IQN-ILS pre-scaling on preCICE's partitioned heat conduction, with the right side in other units.

Problem from the preCICE partitioned heat conduction tutorial (preCICE tutorials,
"Partitioned heat conduction"): u = 1 + x² + 3y² + 1.2t on [0, 2] × [0, 1], split at
x = 1, window 0.1 to T = 1. Implicit Euler with second-order differences represents u
exactly, so the coupled error is set by the coupling tolerance (the tutorial asserts
< 1e-8).

Here the right subdomain computes in micro-kelvin (its temperature ``uK``, its flux
``uK/m``, its boundary and source data times 1e6: the same linear problem), the left
in kelvin. The connections convert (msmcore.units folds the factor into the
transfer), so in the parallel variant the iterated data hold the left's interface
temperature (~5 K) next to the right's flux (~2e6 uK/m). IQN-ILS without
pre-scaling solves its least-squares problem in those units, where the temperature
block is invisible next to the flux; preCICE's pre-scaling (Mehl, Uekermann et al.
2016, Comput. Math. Appl. 71: residual-sum, the default) weights each block
so both count alike, and the run needs (nearly) as many iterations as in one unit.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import msmcore as msm
from msmcore.units import conversion_factor

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "partitioned_heat"
spec = importlib.util.spec_from_file_location("heat_example_prescaling", EXAMPLE / "heat.py")
heat = importlib.util.module_from_spec(spec)
spec.loader.exec_module(heat)

MICRO = 1e6  # uK per K


def build(right_scale: float) -> msm.Coupling:
    """heat.build's coupling, with the right side's data in units ``right_scale`` times smaller."""
    common: dict[str, Any] = dict(size=(1.0, 1.0), kappa=1.0, dt=heat.WINDOW, nodes=(11, 11))
    right_units = "K" if right_scale == 1.0 else "uK"
    assert right_scale in (1.0, MICRO)
    c = msm.Coupling()
    c.add("left", "fluid.heat", origin=(0.0, 0.0), interface_edge="right", interface_role="dirichlet",
          boundary=heat.EXACT, source="beta - 2 - 2*alpha", constants=heat.CONSTANTS, units="K",
          flux_units="K/m", **common)
    c.add("right", "fluid.heat", origin=(1.0, 0.0), interface_edge="left", interface_role="neumann",
          boundary=f"s*({heat.EXACT})", source="s*(beta - 2 - 2*alpha)",
          constants={**heat.CONSTANTS, "s": right_scale}, units=right_units, flux_units=f"{right_units}/m",
          **common)
    c.connect("left.flux_out", "right.flux_in")
    c.connect("right.temperature_iface_out", "left.temperature_in")
    return c


def run(right_scale: float, acceleration: msm.Acceleration) -> msm.Result:
    scheme = msm.Implicit(heat.WINDOW, variant="parallel", acceleration=acceleration, rel_tol=1e-12,
                          abs_tol=1e-14, max_iterations=100, on_divergence="warn")
    return build(right_scale).run(until=heat.T_END, scheme=scheme, quiet=True)


def max_error(res: msm.Result, right_scale: float) -> float:
    """Largest relative L2 error of the whole field (both sides, in K) over the windows."""
    left, right = res["left"]["temperature_out"], res["right"]["temperature_out"]
    worst = 0.0
    for i, t in enumerate(res["left"]["time"].values[1:], start=1):
        num = den = 0.0
        for field, scale in ((left, 1.0), (right, right_scale)):
            ref = heat.exact(field["x"].values, field["y"].values, float(t))
            num += float(np.sum((field[i].values / scale - ref) ** 2))
            den += float(np.sum(ref**2))
        worst = max(worst, float(np.sqrt(num / den)))
    return worst


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, float], msm.Result]:
    return {(pre, scale): run(scale, msm.IQNILS(0.1, reuse=8, preconditioner=pre))
            for pre in ("residual-sum", "value", "none") for scale in (1.0, MICRO)}


def iterations(runs: dict[tuple[str, float], msm.Result], pre: str, scale: float) -> int:
    return sum(runs[pre, scale].info["iterations"])


def test_the_iterated_data_differ_by_a_million(runs):
    res = runs["residual-sum", MICRO]
    assert res.info["coupled"] == ["left.flux_out -> right.flux_in",
                                   "right.temperature_iface_out -> left.temperature_in"]
    # The connections convert K/m -> uK/m and uK -> K (msmcore.units).
    assert conversion_factor("K/m", "uK/m") == pytest.approx(MICRO, rel=1e-15)
    assert conversion_factor("uK", "K") == pytest.approx(1 / MICRO, rel=1e-15)
    # Exact interface values at t = 1: flux -du/dx = -2x = -2 K/m, so right.flux_in
    # holds -2e6 uK/m; the temperature 1 + 1 + 3y² + 1.2 is 3.2 .. 6.2 K.
    flux = res["left"]["flux_out"].values[-1]
    temperature = res["right"]["temperature_iface_out"].values[-1] / MICRO
    np.testing.assert_allclose(flux * MICRO, -2e6, rtol=1e-8)
    y = res["right"]["y"].values
    np.testing.assert_allclose(temperature, 3.2 + 3 * y**2, rtol=1e-8)


@pytest.mark.parametrize("pre", ["residual-sum", "value", "none"])
@pytest.mark.parametrize("scale", [1.0, MICRO])
def test_parallel_iqn_ils_is_exact_in_either_units(runs, pre, scale):
    res = runs[pre, scale]
    assert max(res.info["iterations"]) < 100  # every window converged (on_divergence="warn" would go on)
    assert max_error(res, scale) < 1e-8  # preCICE's tutorial bound


def test_value_prescaling_makes_the_iterations_independent_of_the_units(runs):
    # Weights 1 / |H(x)_i| scale with each field's units, so the weighted least-squares
    # problem is the same in K and in uK up to round-off (measured: the same iterations in
    # every window); round-off near rel_tol = 1e-12 may cost an iteration somewhere.
    assert iterations(runs, "value", MICRO) <= iterations(runs, "value", 1.0) + 2, (
        runs["value", 1.0].info["iterations"], runs["value", MICRO].info["iterations"])


def test_default_residual_sum_prescaling_recovers_most_of_what_units_cost(runs):
    # Residual-sum (preCICE's default) balances the fields by their shares of the
    # residual summed over the window: not exactly unit-invariant (once the flux has
    # converged, the temperature's share nears 1 and its weight falls back), but well
    # within half again the iterations in one unit ...
    same, other = iterations(runs, "residual-sum", 1.0), iterations(runs, "residual-sum", MICRO)
    assert other <= 1.5 * same, (runs["residual-sum", 1.0].info["iterations"],
                                 runs["residual-sum", MICRO].info["iterations"])
    # ... where without pre-scaling the same run needs more than half again (the
    # temperature block is lost next to the flux in the least-squares problem). In one
    # unit the two fields are of one size and pre-scaling changes little.
    assert iterations(runs, "none", MICRO) > 1.5 * iterations(runs, "none", 1.0)
    assert iterations(runs, "none", MICRO) > other
    assert abs(iterations(runs, "none", 1.0) - same) <= 5


def test_unused_columns_are_logged(caplog):
    acc = msm.IQNILS(0.1, reuse=8, preconditioner="none")
    with caplog.at_level(logging.INFO, logger="msmcore.acceleration"):
        run(MICRO, acc)
    # Without weights the QR filter leaves out the columns that only the temperature
    # block tells apart, and says so once per window, with counts that add up.
    assert acc.dropped["filtered"] > 0
    counts = [int(m.group(1)) for r in caplog.records
              if (m := re.search(r"columns not used: (\d+) left out of a solve by the QR filter", r.getMessage()))]
    assert len(counts) >= 1 and sum(counts) == acc.dropped["filtered"]
