"""preCICE's partitioned oscillator (examples/oscillator) against exact and discrete closed forms.

Problem and exact solution from the preCICE oscillator tutorial (preCICE tutorials,
"Oscillator", two masses m1 = m2 = 1, k1 = k3 = 4π², k12 = 16π², u(0) = (1, 0),
v(0) = 0): u1 = (cos 2πt + cos 6πt)/2, u2 = (cos 2πt − cos 6πt)/2, the two normal
modes ω1 = 2π (shape (1, 1)) and ω2 = 6π (shape (1, −1)) with amplitude 1/2 each.

Newmark's average acceleration method (β = 1/4, γ = 1/2) is the trapezoidal rule on
(u, v); on a mode u'' = −ω²u it is the Cayley transform of a rotation, so it keeps
the amplitude and turns by θ = 2 arctan(ωΔt/2) per step (Hughes, "The Finite Element
Method", 1987, ch. 9; Newmark 1959). The monolithic discrete solution is therefore
known in closed form, u_n = Σ_modes ½ s cos(n θ_ω), independent of any code; implicit
coupling that converges in every window must reproduce it up to the coupling
tolerance. Its error against the exact solution is a pure phase error
δ_ω(t) = t (ω − θ_ω/Δt) <= t ω³ Δt²/12 (from arctan z >= z − z³/3), so
|u_i − u_i,exact| <= ½ (δ_2π + δ_6π) <= t Δt² ((2π)³ + (6π)³)/24.
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


OMEGAS = (2 * math.pi, 6 * math.pi)   # the normal modes' frequencies
SHAPES = ((1.0, 1.0), (1.0, -1.0))     # their shapes; u(0) = (1, 0) is half of each


def newmark_closed_form(dt: float, t: np.ndarray) -> np.ndarray:
    """Newmark average acceleration's own solution of the two-mass system at times ``t``, (len(t), 2).

    Each mode turns by θ = 2 arctan(ω dt / 2) per step at constant amplitude (see the module's notes).
    """
    n = np.rint(np.asarray(t) / dt)
    out = np.zeros((n.size, 2))
    for omega, shape in zip(OMEGAS, SHAPES, strict=True):
        theta = 2 * np.arctan(omega * dt / 2)
        out += 0.5 * np.cos(n * theta)[:, None] * np.array(shape)
    return out


def phase_error_bound(dt: float, t: float) -> float:
    """Rigorous bound on |u_i - u_i,exact| of the discrete solution at time t: t dt² Σ ω³ / 24."""
    return t * dt**2 * sum(w**3 for w in OMEGAS) / 24


def coupled(res) -> np.ndarray:
    return np.column_stack([res["left"]["u_out"][:, 0], res["right"]["u_out"][:, 0]])


def test_monolithic_newmark_equals_its_closed_form():
    # The step-by-step integrator (an independent check of the closed form): round-off only.
    t = np.arange(101) * 0.01
    np.testing.assert_allclose(monolithic_newmark(0.01, 100), newmark_closed_form(0.01, t), atol=1e-12)


@pytest.mark.parametrize("window", [0.01, 0.005])
def test_implicit_coupling_equals_the_discrete_closed_form(window):
    res = osc.run(window)
    t = res["left"]["time"].values
    ours = coupled(res)
    # Coupling converged to rel/abs 1e-12 per window; over <= 200 windows the
    # accumulated coupling error stays below 1e-9.
    np.testing.assert_allclose(ours, newmark_closed_form(window, t), atol=1e-9)
    assert max(res.info["iterations"]) <= 6
    # The error against the exact solution is the scheme's phase error: below its bound
    # at every sample, and equal to the closed form's error (1e-9: coupling tolerance).
    err = osc.errors(res)
    exact_err = np.abs(newmark_closed_form(window, t) - np.column_stack(osc.exact(t)))
    np.testing.assert_allclose(err, exact_err, atol=1e-9)
    assert np.all(err.max(axis=1) <= np.array([phase_error_bound(window, ti) for ti in t]) + 1e-9)
    # At t = 1 both modes complete whole periods (cos 2π = cos 6π = 1): the error is
    # 1 - cos δ ≈ δ²/2 per mode, of fourth order, far below the phase bound.
    assert osc.error_at_end(res) <= phase_error_bound(window, 1.0) ** 2 + 1e-9


def test_errors_and_observed_orders():
    table = osc.convergence_table()
    end = {name: [(w, e) for w, e, _ in rows] for name, rows in table.items()}
    peak = {name: [(w, m) for w, _, m in rows] for name, rows in table.items()}
    # One step per window: the errors are those of the discrete closed form at the
    # same samples (t = k Δt for k = 0..1/Δt), to the coupling tolerance.
    for window, e_end, e_max in table["implicit, one step per window"]:
        t = np.arange(round(1 / window) + 1) * window
        ref = np.abs(newmark_closed_form(window, t) - np.column_stack(osc.exact(t)))
        assert abs(e_end - ref[-1].max()) <= 1e-9, window
        assert abs(e_max - ref.max()) <= 1e-9, window
        assert e_max <= phase_error_bound(window, 1.0) + 1e-9
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
