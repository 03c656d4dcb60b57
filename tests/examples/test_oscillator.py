"""preCICE's partitioned oscillator (examples/oscillator) against exact and monolithic solutions.

Exact solution (ARCHITECTURE.md, preCICE oscillator tutorial): u1 = (cos 2πt + cos 6πt)/2,
u2 = (cos 2πt − cos 6πt)/2. Newmark's average acceleration method is second order, so
implicit coupling that converges in every window reproduces the monolithic Newmark
solution of the two-mass system up to the coupling tolerance, and errors fall as Δt².
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "oscillator" / "oscillator.py"
spec = importlib.util.spec_from_file_location("oscillator_example", EXAMPLE)
osc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(osc)


def monolithic_newmark(dt: float, n: int) -> np.ndarray:
    """Newmark average acceleration on M a + K u = 0 for the two-mass system, (n+1, 2)."""
    K = np.array([[osc.K1 + osc.K12, -osc.K12], [-osc.K12, osc.K3 + osc.K12]])
    u, v = np.array([1.0, 0.0]), np.zeros(2)
    a = -K @ u
    A = np.eye(2) + dt * dt / 4 * K
    out = [u.copy()]
    for _ in range(n):
        u = np.linalg.solve(A, u + dt * v + dt * dt / 4 * a)
        a_new = -K @ u
        v = v + dt / 2 * (a + a_new)
        a = a_new
        out.append(u.copy())
    return np.array(out)


def test_implicit_coupling_equals_monolithic_newmark():
    res = osc.run(0.01)
    ours = np.column_stack([res["left"]["u_out"][:, 0], res["right"]["u_out"][:, 0]])
    ref = monolithic_newmark(0.01, 100)
    # Coupling converged to rel/abs 1e-12 per window; over 100 windows that stays below 1e-9.
    np.testing.assert_allclose(ours, ref, atol=1e-9)
    assert max(res.info["iterations"]) <= 6


def test_errors_and_observed_orders():
    table = osc.convergence_table()
    end = {name: [(w, e) for w, e, _ in rows] for name, rows in table.items()}
    peak = {name: [(w, m) for w, _, m in rows] for name, rows in table.items()}
    # Window 0.01, implicit: error at t = 1 measured 7.71e-4, over [0, 1] 2.60e-2.
    assert end["implicit, one step per window"][0][1] == pytest.approx(7.714e-4, rel=0.01)
    assert peak["implicit, one step per window"][0][1] == pytest.approx(2.598e-2, rel=0.01)
    for name in ("implicit, one step per window", "implicit, 4 sub-steps, force interpolated in time"):
        # Newmark is second order: the largest error over [0, 1] falls as Δt² ...
        assert all(1.9 < p < 2.1 for p in osc.observed_orders(peak[name])), name
        # ... while at t = 1, where both modes are at an extremum (sin 2πt = sin 6πt = 0),
        # the first-order term of the phase error vanishes and the error falls as Δt⁴.
        assert all(3.8 < p < 4.2 for p in osc.observed_orders(end[name])), name
    for name in ("implicit, 4 sub-steps, force held at window end", "explicit serial, one step per window"):
        # Holding the coupling data constant over a window (or lagging it) is first order.
        assert all(0.8 < p < 1.4 for p in osc.observed_orders(peak[name])), name


def test_exact_solution_satisfies_the_equations():
    # u'' = -K u for the exact solution, checked with a central difference (h = 1e-4: O(h²) ~ 1e-5).
    t, h = 0.3, 1e-4
    u = np.array(osc.exact(t))
    upp = (np.array(osc.exact(t + h)) - 2 * u + np.array(osc.exact(t - h))) / h**2
    K = np.array([[osc.K1 + osc.K12, -osc.K12], [-osc.K12, osc.K3 + osc.K12]])
    np.testing.assert_allclose(upp, -K @ u, atol=1e-3)
    assert math.isclose(osc.exact(0.0)[0], 1.0)


def test_masses_declare_their_whole_state():
    # Implicit coupling repeats every window from a snapshot: u, v, a and whether the
    # initial acceleration was set are the state besides the port arrays.
    for cls in (osc.LeftMass, osc.RightMass):
        assert cls.declares_state()
    assert set(osc.NewmarkMass.state_attributes) == {"state", "accelerated"}


def test_a_restored_window_repeats_bit_for_bit():
    m = osc.LeftMass(m=osc.M1, k=osc.K1, u0=1.0, dt=0.01)
    m.initialize()
    m.port_array("force_in")[0] = 3.0
    m.receive("force_in")
    m.advance(0.05)
    snapshot = m.save_state()
    m.port_array("force_in")[0] = 2.0
    m.receive("force_in")
    m.advance(0.1)
    reference = m.state.copy(), m.port_array("u_out").copy()
    m.port_array("force_in")[0] = -7.0  # another iterate of the window
    m.receive("force_in")
    m.advance(0.2)
    m.restore_state(snapshot)
    assert m.t == 0.05
    m.port_array("force_in")[0] = 2.0
    m.receive("force_in")
    m.advance(0.1)
    np.testing.assert_array_equal(m.state, reference[0])
    np.testing.assert_array_equal(m.port_array("u_out"), reference[1])


def test_the_initial_acceleration_comes_from_the_initial_force_only():
    # a0 = (f(0) - k u0) / m from the coupling's initial exchange; data received later
    # (an implicit iteration's guess for the end of the first window) must not change it.
    m = osc.RightMass(m=osc.M2, k=osc.K3 + osc.K12, k12=osc.K12, u0=0.0, dt=0.01)
    m.initialize()
    m.port_array("u_other")[0] = 1.0  # u1(0)
    m.receive("u_other")
    assert m.state[2] == osc.K12 * 1.0  # (k12 u1(0) - k u2(0)) / m with u2(0) = 0
    m.port_array("u_other")[0] = 0.99
    m.receive("u_other")
    assert m.state[2] == osc.K12 * 1.0
    m.initialize()  # a new run starts afresh
    m.port_array("u_other")[0] = 0.5
    m.receive("u_other")
    assert m.state[2] == osc.K12 * 0.5
