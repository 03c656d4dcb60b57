"""The differentially heated cavity (examples/natural_convection) against de Vahl Davis (1983).

Reference: G. de Vahl Davis, Int. J. Numer. Meth. Fluids 3, 249-264 (1983), Pr = 0.71:
average Nusselt number on the hot wall 1.118 / 2.243 and velocity maxima on the mid-lines
u_max(x = 1/2) = 3.649 / 16.178, v_max(y = 1/2) = 3.697 / 19.617 for Ra = 1e3 / 1e4
(the same numbers are quoted e.g. by Cardinal's verification page). Tolerance: 1 %.

Reduced grids: 17 x 17 and 33 x 33 nodes, Richardson-extrapolated with order 2. Both
components are second order in space (central differences for advection, diffusion and
the stream function-vorticity equations, second-order wall vorticity; the Nusselt number
from a second-order one-sided wall gradient and the trapezoidal rule; the maxima from a
parabola through the nodes), so the error of each quantity is C h^2 + O(h^3) and
(4 f(h/2) - f(h)) / 3 removes the leading term - de Vahl Davis reached his benchmark by
mesh refinement and the same extrapolation. The pseudo-time stepping leaves no error at
steady state (checked: the field changes by < 1e-4 over the last half time unit).
Ra = 1e5 needs finer grids (33/65 nodes): benchmarks/bench_natural_convection.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from example_loader import EXAMPLES, load_example

cavity = load_example("natural_convection", "cavity")


@pytest.mark.slow
def test_conduction_limit_gives_nusselt_one_and_both_accelerations_agree() -> None:
    # Ra = 10: the flow is ~1e-2 and the temperature stays linear, T = 1/2 - x, whose Nusselt
    # number is exactly 1 (the scheme and the one-sided gradient are exact for linear T);
    # the convective correction is O(Ra^2) ~ 1e-6 (de Vahl Davis' 1.118 at Ra = 1e3 scales down).
    results = {acc: cavity.run(10.0, 9, dt=0.1, until=0.4, acceleration=acc) for acc in ("IQN-ILS", "Aitken")}
    for res in results.values():
        nums = cavity.benchmark_numbers(res)
        assert abs(nums["Nu"] - 1.0) < 1e-4, nums
        assert 1e-3 < nums["u_max"] < 0.1  # it does flow, and slowly
        assert max(res.info["iterations"]) > 1
    a, b = (cavity.fields(r)[2] for r in results.values())
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-7)


@pytest.mark.slow
@pytest.mark.parametrize("ra", [1e3, 1e4])
def test_richardson_extrapolation_matches_de_vahl_davis(ra: float) -> None:
    nums = []
    for n in (17, 33):
        res = cavity.run(ra, n, dt=0.05, until=1.0)
        assert cavity.steadiness(res) < 1e-4
        nums.append(cavity.benchmark_numbers(res))
    for key, ref in zip(("Nu", "u_max", "v_max"), cavity.REFERENCE[ra], strict=True):
        coarse, fine = nums[0][key], nums[1][key]
        extrapolated = cavity.richardson(coarse, fine)
        assert abs(extrapolated / ref - 1) < 0.01, (key, coarse, fine, extrapolated, ref)
        assert abs(fine - ref) < abs(coarse - ref)  # refinement goes towards the benchmark


def test_yaml_is_the_same_coupling_as_the_script() -> None:
    # The YAML (Ra = 1e4, 33 x 33) builds the components of build(1e4, 33, 0.05) with the same settings.
    from msmcore.config import load_config

    config = load_config(EXAMPLES / "natural_convection" / "cavity.yaml")
    script = cavity.build(1e4, 33, 0.05)
    for name in ("flow", "heat"):
        ours, theirs = (({k: repr(v) for k, v in c.components[name].settings.items()})  # Expression: by text
                        for c in (config.coupling, script))
        assert ours == theirs, name
    assert config.scheme.window == 0.05 and config.run_options["until"] == 1.0


@pytest.mark.slow
def test_default_newton_options_recover_the_buoyancy_driven_start(monkeypatch, caplog) -> None:
    # The first buoyancy-driven step from rest on 33 x 33 nodes: Newton with the default
    # Eisenstat-Walker inner tolerances fails its line search there; the solver repeats that
    # solve with exact inner solves, so the defaults reach the same state as the example's
    # explicit options (to the Newton tolerance, snes_rtol 1e-8 of the residual at rest).
    exact = cavity.run(1e4, 33, dt=0.05, until=0.1)
    monkeypatch.setattr(cavity, "NEWTON", {})
    with caplog.at_level("INFO", logger="msm_fluid"):
        default = cavity.run(1e4, 33, dt=0.05, until=0.1)
    assert any("Eisenstat-Walker inner tolerances failed" in r.getMessage() for r in caplog.records)
    for a, b in zip(cavity.fields(exact), cavity.fields(default), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6 * float(np.abs(a).max()))
