"""kinetics.network with PETSc TS: stiff and general kinetics against published and exact solutions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from msm_kinetics.network import Network

import msmcore as msm

pytest.importorskip("petsc4py")

EPS = np.finfo(np.float64).eps

# Robertson's stiff chemical kinetics (Robertson 1966; Hairer & Wanner, "Solving
# Ordinary Differential Equations II", sec. IV.1): A -> B (0.04), 2B -> B + C (3e7),
# B + C -> A + C (1e4), y(0) = (1, 0, 0).
ROBERTSON = """
R1: y1 -> y2; k1*y1
R2: 2 y2 -> y2 + y3; k2*y2^2
R3: y2 + y3 -> y1 + y3; k3*y2*y3
k1 = 0.04; k2 = 3e7; k3 = 1e4
y1 = 1; y2 = 0; y3 = 0
"""
# Reference solution at t = 40 from the IVP test set (Mazzia & Magherini, "Test Set
# for IVP Solvers", release 2.4, Robertson problem, computed with RADAU5 at tight
# tolerances). test_robertson_reference_digits re-derives them with SciPy's Radau.
ROBERTSON_T40 = np.array([0.7158270687193, 9.185534764529e-6, 0.2841637457401])

MM = "J: S -> P; Vmax*S/(Km + S); Vmax = 1.5; Km = 0.4; S = 2"


def mm_exact(t: float, s0: float = 2.0, vmax: float = 1.5, km: float = 0.4) -> float:
    """Michaelis-Menten substrate S(t) = Km W(S0/Km exp((S0 - Vmax t)/Km)) (Schnell & Mendoza 1997)."""
    from scipy.special import lambertw

    return float(km * lambertw(s0 / km * math.exp((s0 - vmax * t) / km)).real)


# -- Robertson ------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "variant", "rtol"), [("rosw", None, 1e-7), ("bdf", "5", 1e-8)])
def test_robertson_at_t40_matches_the_ivp_test_set(method: str, variant: str | None, rtol: float) -> None:
    # Acceptance: all three species within 1e-6 relative of the published values.
    # The tolerances were chosen so the achieved global error (ROSW RODASPR ~0.1 rtol,
    # TSBDF order 5 ~10 rtol on this problem) stays an order of magnitude inside
    # that; atol = 1e-6 rtol sits far below y2 ~ 1e-5.
    net = Network(name="robertson", model=ROBERTSON, method=method, variant=variant, rtol=rtol,
                  atol=1e-6 * rtol)
    net.initialize()
    net.advance(40.0)
    assert net.t == 40.0
    np.testing.assert_allclose(net.state[0], ROBERTSON_T40, rtol=1e-6, atol=0.0)
    # the rates port holds the three reaction rates at the final state
    y1, y2, y3 = net.state[0]
    np.testing.assert_allclose(net.rates[0], [0.04 * y1, 3e7 * y2 * y2, 1e4 * y2 * y3], rtol=1e-15)


def test_robertson_reference_digits() -> None:
    # Independent check of the published digits: SciPy's Radau (order 5) with
    # rtol = 1e-12, atol = 1e-20 agrees with them to 1e-10 relative (its own
    # error is ~1e-12; the published y3 carries 13 digits).
    integrate = pytest.importorskip("scipy.integrate")

    def f(t: float, y: np.ndarray) -> list[float]:
        return [-0.04 * y[0] + 1e4 * y[1] * y[2], 0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2,
                3e7 * y[1] ** 2]

    def jac(t: float, y: np.ndarray) -> list[list[float]]:
        return [[-0.04, 1e4 * y[2], 1e4 * y[1]], [0.04, -1e4 * y[2] - 6e7 * y[1], -1e4 * y[1]],
                [0.0, 6e7 * y[1], 0.0]]

    sol = integrate.solve_ivp(f, (0.0, 40.0), [1.0, 0.0, 0.0], method="Radau", jac=jac, rtol=1e-12,
                              atol=1e-20)
    assert sol.success
    np.testing.assert_allclose(sol.y[:, -1], ROBERTSON_T40, rtol=1e-10, atol=0.0)


# -- exact solutions -------------------------------------------------------------------------
# (method, variant, rtol, bound on the relative global error): the achieved error of
# an adaptive method is a method-dependent multiple of rtol; measured on these
# problems ROSW/RK/ARKIMEX4 stay within ~10 rtol, PETSc's TSBDF within ~200 rtol.
CASES = [("rosw", None, 1e-9, 1e-8), ("bdf", "5", 1e-9, 2e-7), ("bdf", None, 1e-7, 2e-4),
         ("arkimex", "4", 1e-9, 1e-7), ("rk", None, 1e-9, 1e-8)]


@pytest.mark.parametrize(("method", "variant", "rtol", "bound"), CASES)
def test_first_order_decay_against_exp(method: str, variant: str | None, rtol: float, bound: float) -> None:
    # Exact solution A0 exp(-k t) at the ends of four windows (the TS restarts
    # each window from the step it ended the last one with).
    net = Network(model="J: A -> ; k*A; k = 2; A = 1", method=method, variant=variant, rtol=rtol,
                  atol=1e-14, shape=(2,))
    net.initialize()
    for t in (0.5, 1.0, 2.0, 3.0):
        net.advance(t)
        np.testing.assert_allclose(net.state, math.exp(-2.0 * t), rtol=bound, atol=0.0)


@pytest.mark.parametrize(("method", "variant", "rtol", "bound"), CASES)
def test_michaelis_menten_against_lambert_w(method: str, variant: str | None, rtol: float, bound: float) -> None:
    # General (non-mass-action) rate law Vmax*S/(Km + S): S(t) exact through the
    # Lambert W function, same bounds as the decay. S + P is a linear invariant:
    # ROSW and RK preserve it to round-off (their stages are combinations of f,
    # whose components sum to zero exactly); BDF and ARKIMEX to round-off
    # amplified by their variable-step coefficients and Newton iterations -
    # measured 2e-11 - well inside the tolerance.
    net = Network(model=MM, method=method, variant=variant, rtol=rtol, atol=1e-14)
    net.initialize()
    conservation = 64 * EPS if method in ("rosw", "rk") else 1e-9
    for t in (0.5, 1.0, 2.0, 3.0):
        net.advance(t)
        np.testing.assert_allclose(net.state[0, 0], mm_exact(t), rtol=bound, atol=0.0)
        np.testing.assert_allclose(net.state[0].sum(), 2.0, rtol=conservation, atol=0.0)


def test_closed_network_conserves_mass_to_round_off_with_rosw() -> None:
    # A <-> B, 2A -> C, C -> 2A: A + B + 2C is conserved by the ODE; the
    # Rosenbrock stages are linear combinations of f and of solves with the
    # block Jacobian, both of which conserve it, so the drift over a stiff run
    # (kd = 1e6) in 50 windows stays at round-off: below 1e3 eps relative.
    model = """
    F: A -> B; kf*A
    R: B -> A; kb*B
    D: 2 A -> C; kd*A^2
    U: C -> 2 A; ku*C
    kf = 2; kb = 1; kd = 1e6; ku = 3
    """
    net = Network(model=model, method="rosw", rtol=1e-6, atol=1e-12, shape=(4,))
    net.initialize()
    rng = np.random.default_rng(5)
    net.port_array("state_in")[...] = rng.uniform(0.1, 2.0, (4, 3))
    net.receive("state_in")
    total = net.state @ np.array([1.0, 1.0, 2.0])
    for k in range(1, 51):
        net.advance(0.1 * k)
    np.testing.assert_allclose(net.state @ np.array([1.0, 1.0, 2.0]), total, rtol=1e3 * EPS, atol=0.0)


# -- spatial: one TS for all cells ---------------------------------------------------------------
def test_cells_through_one_ts_equal_single_cell_runs() -> None:
    # Cells are independent, so N cells through one TS (steps chosen for the
    # worst cell: max-norm error control) and N one-cell runs (each its own
    # steps) both approximate the same N solutions to within their tolerance:
    # with rtol 1e-9 both are within ~1e-9 of the truth, so they agree to 1e-8
    # (measured: 1e-10).
    n = 6
    rng = np.random.default_rng(3)
    starts = np.column_stack([rng.uniform(0.5, 1.0, n), rng.uniform(0.0, 1e-5, n), rng.uniform(0.0, 0.5, n)])
    field = Network(model=ROBERTSON, method="rosw", rtol=1e-9, atol=1e-15, shape=(2, 3))
    field.initialize()
    field.port_array("state_in")[...] = starts.reshape(2, 3, 3)
    field.receive("state_in")
    field.advance(2.0)
    for cell in range(n):
        single = Network(model=ROBERTSON, method="rosw", rtol=1e-9, atol=1e-15)
        single.initialize()
        single.port_array("state_in")[...] = starts[cell]
        single.receive("state_in")
        single.advance(2.0)
        np.testing.assert_allclose(field.state.reshape(n, 3)[cell], single.state[0], rtol=1e-8, atol=1e-16)
    # the cells did differ
    assert len(np.unique(field.state[..., 0])) == n


def test_block_diagonal_jacobian_against_finite_differences() -> None:
    # The assembled Jacobian is AIJ with block size = species, non-zero only in
    # the cells' diagonal blocks, and equals central differences of the
    # right-hand side (h = 1e-7 x: truncation and rounding both below 1e-6 relative).
    n, ns = 5, 3
    net = Network(model=ROBERTSON, method="bdf", shape=(n,))
    net.initialize()
    rng = np.random.default_rng(11)
    net.state[...] = np.column_stack([rng.uniform(0.5, 1, n), rng.uniform(1e-6, 1e-5, n), rng.uniform(0, 0.5, n)])
    J = net.jacobian()
    assert J.getBlockSize() == ns and J.getSize() == (n * ns, n * ns)
    indptr, indices, _ = J.getValuesCSR()
    for row in range(n * ns):
        cols = indices[indptr[row]:indptr[row + 1]]
        assert np.all(cols // ns == row // ns), (row, cols)  # only the row's own cell block
    dense = J.convert("dense").getDenseArray()
    base = net.state.copy()
    fd = np.zeros((n * ns, n * ns))
    for cell in range(n):
        for q in range(ns):
            h = 1e-7 * max(base[cell, q], 1e-6)
            net.state[...] = base
            net.state[cell, q] += h
            up = net.rhs().copy()
            net.state[cell, q] -= 2 * h
            down = net.rhs()
            fd[:, cell * ns + q] = ((up - down) / (2 * h)).reshape(-1)
    np.testing.assert_allclose(dense, fd, rtol=1e-6, atol=1e-6 * np.abs(dense).max())


# -- the component's lifecycle -------------------------------------------------------------------
def test_ts_is_reused_and_save_restore_replays_bit_for_bit() -> None:
    # One TS object serves every advance; restoring a snapshot (state, time,
    # next step) and replaying gives the same bits, as each window restarts the
    # integrator from that snapshot alone.
    net = Network(model=ROBERTSON, method="rosw", rtol=1e-6, atol=1e-12, shape=(3,))
    net.initialize()
    ts = net._integrator.ts
    out = net.port_array("state_out")
    net.advance(1.0)
    snap = net.save_state()
    net.advance(2.0)
    net.advance(3.0)
    after = out.copy()
    net.restore_state(snap)
    assert net.t == 1.0
    net.advance(2.0)
    net.advance(3.0)
    assert net._integrator.ts is ts and net.port_array("state_out") is out
    np.testing.assert_array_equal(out, after)


def test_muscle3_model_with_an_implicit_method() -> None:
    # The sketch's micro model dU/dt = -4.05e4 U with ROSW: exact solution
    # U0 exp(-k t) over MUSCLE3's micro window (100 Euler steps of 2.469136e-8 s),
    # ROSW with rtol 1e-8 within 1e-7 relative; no dt needed.
    net = Network(model="J: U -> ; k*U; k = 4.05e4", shape=(100,), method="rosw", rtol=1e-8, atol=1e-30)
    net.initialize()
    u0 = np.full(100, 1e-20)
    u0[[25, 50, 75]] = 2.0
    net.port_array("state_in")[...] = u0
    net.receive("state_in")
    net.advance(2.469136e-6)
    np.testing.assert_allclose(net.state, u0 * math.exp(-4.05e4 * 2.469136e-6), rtol=1e-7)


def test_settings_of_the_ts_methods_are_validated() -> None:
    # Bad combinations fail when the component is built (or its TS set up), naming the setting.
    with pytest.raises(msm.ConfigurationError, match="'dt'.*required with method='euler'"):
        Network(model=MM)
    with pytest.raises(msm.ConfigurationError, match="'variant'.*not to method='euler'"):
        Network(model=MM, dt=0.1, variant="5")
    with pytest.raises(msm.ConfigurationError, match="'variant'.*BDF order.*1 to 6"):
        Network(model=MM, method="bdf", variant=9)
    with pytest.raises(msm.ConfigurationError, match="'rtol' and 'atol'.*both be 0"):
        Network(model=MM, method="rosw", rtol=0.0, atol=0.0)
    net = Network(model=MM, method="rosw", variant="nonsense")
    with pytest.raises(msm.ConfigurationError, match="PETSc rejects.*'nonsense'"):
        net.initialize()
    # no dt: no fixed step (the TS adapts its own), which the core's contract says with None
    assert Network(model=MM, method="bdf").time_step() is None
    assert Network(model=MM, method="bdf", dt=0.25).time_step() == 0.25


def test_a_ts_that_cannot_finish_raises_convergence_error() -> None:
    # Robertson with an explicit RK and 50 steps allowed cannot reach t = 40:
    # ConvergenceError names the component, the time reached and the remedies.
    net = Network(name="micro", model=ROBERTSON, method="rk", max_steps=50)
    net.initialize()
    with pytest.raises(msm.ConvergenceError, match=r"'micro'.*stopped at t=.*before t=40.0.*max_steps"):
        net.advance(40.0)
