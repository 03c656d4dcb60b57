"""Validation of kinetics.network against exact solutions and MUSCLE3's micro model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from msm_kinetics.network import Network

import msmcore as msm

EPS = np.finfo(np.float64).eps

# MUSCLE3 reaction-diffusion example (docs/source/examples/python/reaction_diffusion.py),
# as in MUSCLE3's documentation ("Tutorial with Python"): micro model U += k*U*dt with
# k = -4.05e4, dt = 2.469136e-8, 100 steps per macro step of 2.469136e-6.
MUSCLE3_MODEL = "J: U -> ; k*U; k = 4.05e4"
K_MICRO = -4.05e4
DT_MICRO = 2.469136e-8
MACRO_DT = 2.469136e-6
N_MICRO = 100


def muscle3_initial_state(n_cells: int = 100) -> np.ndarray:
    """MUSCLE3's initial field: 1e-20 everywhere, 2.0 at cells 25, 50, 75."""
    u = np.full(n_cells, 1e-20)
    u[[25, 50, 75]] = 2.0
    return u


def muscle3_micro(u0: np.ndarray) -> np.ndarray:
    """Run the MUSCLE3 micro model verbatim: a plain loop of U += k * U * dt."""
    u = u0.copy()
    for _ in range(N_MICRO):
        u += K_MICRO * u * DT_MICRO
    return u


def make(model: str, dt: float, shape: tuple[int, ...] = (1,), **kw: object) -> Network:
    net = Network(name="micro", model=model, dt=dt, shape=shape, **kw)
    net.initialize()
    return net


def send(net: Network, values: np.ndarray) -> None:
    """Deliver ``values`` on state_in as a coupling would."""
    net.port_array("state_in")[...] = values
    net.receive("state_in")


# -- 1. MUSCLE3 micro model ------------------------------------------------------------
def test_muscle3_micro_model_matches_plain_loop_bit_for_bit() -> None:
    # Exact reference: MUSCLE3's own loop U += k*U*dt. The Euler step computes
    # U + dt*(-(4.05e4*U)), which rounds identically (negation and commuted
    # products are exact), so the required 1e-15 relative holds with equality.
    rng = np.random.default_rng(1)
    u0 = muscle3_initial_state() + rng.uniform(0.0, 1.0, 100)
    net = make(MUSCLE3_MODEL, DT_MICRO, (100,))
    send(net, u0)
    for _ in range(N_MICRO):
        net.step(DT_MICRO)
    expected = muscle3_micro(u0)
    np.testing.assert_array_equal(net.state, expected)
    np.testing.assert_allclose(net.state, expected, rtol=1e-15, atol=0.0)


def test_muscle3_micro_windows_at_accumulated_macro_times() -> None:
    # Exact reference: the plain loop again, for each macro window [j*M, (j+1)*M]
    # as a coupling drives it (t carries round-off from j*M). advance() takes
    # 100 steps of exactly dt, so every window matches the loop to 1e-15
    # relative (in fact bit for bit).
    net = make(MUSCLE3_MODEL, DT_MICRO, (100,))
    u = muscle3_initial_state()
    for j in range(50):
        net.t = j * MACRO_DT
        send(net, u)
        net.advance((j + 1) * MACRO_DT)
        assert net.t == (j + 1) * MACRO_DT
        expected = muscle3_micro(u)
        np.testing.assert_allclose(net.state, expected, rtol=1e-15, atol=0.0)
        u = expected * 1.01  # a different state each window, as after a diffusion step


# -- 2. first-order decay ------------------------------------------------------------------
def test_first_order_decay_is_the_discrete_exact_solution() -> None:
    # Exact discrete solution of explicit Euler for dU/dt = -k U: U_n = U0 (1 - k dt)^n.
    # Each of the n = 200 steps rounds twice (relative <= 2 eps), so the
    # accumulated relative error is below 200*2*eps ~ 9e-14 < 1e-13.
    k, dt, n = 3.0, 1e-3, 200
    net = make(f"J: U -> ; k*U; k = {k}; U = 1.7", dt, (5,))
    for _ in range(n):
        net.step(dt)
    np.testing.assert_allclose(net.state, 1.7 * (1.0 - k * dt) ** n, rtol=1e-13, atol=0.0)


def test_first_order_decay_converges_at_first_order() -> None:
    # Exact solution U0 exp(-k t). Euler's global error is C dt + O(dt^2) with
    # C = U0 k^2 t exp(-k t)/2, so halving dt halves the error: ratios within
    # 0.1 of 2 (the O(dt^2) term moves them by ~k dt).
    k, t_end = 2.0, 1.0

    def error(dt: float) -> float:
        net = make(f"J: U -> ; k*U; k = {k}; U = 1.0", dt)
        net.advance(t_end)
        return abs(float(net.state[0]) - math.exp(-k * t_end))

    errors = [error(dt) for dt in (1e-2, 5e-3, 2.5e-3)]
    ratios = [errors[0] / errors[1], errors[1] / errors[2]]
    assert all(abs(r - 2.0) < 0.1 for r in ratios), ratios
    assert errors[0] < 1.1 * 0.5 * k**2 * t_end * math.exp(-k * t_end) * 1e-2


# -- 3. second-order dimerisation -------------------------------------------------------
def test_dimerisation_converges_to_exact_and_conserves_mass() -> None:
    # 2A -> B with rate k*A^2: dA/dt = -2 k A^2, exact A(t) = A0/(1 + 2 k A0 t).
    # Euler is first order: error ratios within 0.15 of 2 as dt halves.
    # B + A/2 is conserved by every step up to rounding of the update
    # (a few eps relative per step): bound 8 eps * A0 * steps.
    k, a0, t_end = 1.5, 2.0, 1.0
    model = f"D: 2 A -> B; k*A^2; k = {k}; A = {a0}"
    exact = a0 / (1.0 + 2.0 * k * a0 * t_end)
    errors = []
    for dt in (4e-3, 2e-3, 1e-3):
        net = make(model, dt, (3,))
        net.advance(t_end)
        a, b = net.concentration("A"), net.concentration("B")
        errors.append(float(np.max(np.abs(a - exact))))
        steps = round(t_end / dt)
        np.testing.assert_allclose(b + a / 2.0, a0 / 2.0, rtol=0.0, atol=8 * EPS * a0 * steps)
    ratios = [errors[0] / errors[1], errors[1] / errors[2]]
    assert all(abs(r - 2.0) < 0.15 for r in ratios), ratios


# -- 4. reversible A <-> B ------------------------------------------------------------------
def test_reversible_network_conserves_per_cell_and_reaches_equilibrium() -> None:
    # A + B is conserved exactly by the ODE; each Euler step changes it only by
    # rounding (the two increments are exact negatives), so |A+B - total| stays
    # below 4 eps * total * steps in every cell. Euler's fixed point is the ODE's
    # equilibrium kf A = kb B, and the deviation decays as (1-(kf+kb)dt)^n =
    # 0.97^2000 ~ 1e-26, so B/A = kf/kb to round-off (1e-12 relative).
    kf, kb, dt, t_end = 2.0, 1.0, 0.01, 20.0
    model = f"F: A -> B; kf*A\nR: B -> A; kb*B\nkf = {kf}; kb = {kb}"
    net = make(model, dt, (4, 5))
    rng = np.random.default_rng(7)
    start = rng.uniform(0.1, 3.0, (4, 5, 2))
    send(net, start)
    total = start.sum(axis=-1)
    steps = 0
    for _ in range(round(t_end / dt)):
        net.step(dt)
        steps += 1
        if steps % 500 == 0:
            drift = np.abs(net.state.sum(axis=-1) - total)
            assert np.all(drift <= 4 * EPS * total * steps), drift.max()
    a, b = net.concentration("A"), net.concentration("B")
    np.testing.assert_allclose(b / a, kf / kb, rtol=1e-12)
    np.testing.assert_allclose(a, total * kb / (kf + kb), rtol=1e-12)


# -- 5. rates and ports ------------------------------------------------------------------------
def test_rates_out_and_multi_species_port_shapes() -> None:
    # rates_out must hold the rates of the current state: the same products,
    # in the same order, as the rate laws (exact equality), and ports have
    # shape (*cells, nspecies) / (*cells, nreactions).
    model = """
    bind: A + B -> C; k1*A*B
    decay: C -> ; k2*C
    source: -> A; k0
    k1 = 0.5; k2 = 0.25; k0 = 0.1
    A = 1.0; B = 2.0
    """
    net = make(model, 0.01, (4, 3), units="mol/m^3")
    assert net.species_names == ("A", "B", "C")
    ports = net.ports
    assert ports["state_out"].spec.array_shape == (4, 3, 3)
    assert ports["state_in"].spec.array_shape == (4, 3, 3)
    assert ports["rates_out"].spec.array_shape == (4, 3, 3)
    assert ports["state_out"].spec.units == "mol/m^3"
    assert ports["rates_out"].spec.units == "mol/m^3/s"
    assert not ports["state_in"].required
    rng = np.random.default_rng(3)
    send(net, rng.uniform(0.5, 1.5, (4, 3, 3)))
    net.advance(net.t + 0.01)
    a, b, c = (net.concentration(s) for s in "ABC")
    rates = net.port_array("rates_out")
    np.testing.assert_array_equal(rates[..., 0], 0.5 * a * b)
    np.testing.assert_array_equal(rates[..., 1], 0.25 * c)
    np.testing.assert_array_equal(rates[..., 2], np.full((4, 3), 0.1))


def test_species_setting_orders_the_ports() -> None:
    # The explicit order (B, A) must be the component order of the ports; the
    # initial values follow their names (exact).
    net = make("J: A -> B; k*A; k = 1; A = 3; B = 4", 0.1, (2,), species=("B", "A"))
    np.testing.assert_array_equal(net.state, [[4.0, 3.0], [4.0, 3.0]])
    with pytest.raises(msm.ConfigurationError, match="missing A"):
        Network(model="J: A -> B; k*A; k = 1", dt=0.1, species=("B",))
    with pytest.raises(msm.ConfigurationError, match="not in the model: C"):
        Network(model="J: A -> B; k*A; k = 1", dt=0.1, species=("B", "A", "C"))


def test_single_species_port_is_the_state_with_zero_copy() -> None:
    # state_out is the state itself: the same array object every call, updated
    # in place (the exact decay factor (1 - k dt) checks the update went there).
    net = make("J: U -> ; k*U; k = 2; U = 1", 0.1, (6,))
    out = net.port_array("state_out")
    assert out.shape == (6,)
    net.step(0.1)
    assert net.port_array("state_out") is out
    assert net.state is out
    np.testing.assert_array_equal(out, np.full(6, 1.0 + 0.1 * -(2.0 * 1.0)))


def test_save_and_restore_state_refill_in_place() -> None:
    # Restoring a snapshot must give back the saved arrays exactly, in the same
    # array objects, and replaying the window must reproduce it bit for bit.
    net = make("F: A -> B; kf*A; R: B -> A; kb*B; kf = 2; kb = 1; A = 1", 0.01, (3,))
    out, rates = net.port_array("state_out"), net.port_array("rates_out")
    net.advance(0.1)
    snap = net.save_state()
    net.advance(0.3)
    after = out.copy()
    net.restore_state(snap)
    assert net.t == 0.1
    assert net.port_array("state_out") is out and net.port_array("rates_out") is rates
    np.testing.assert_array_equal(out, snap["state"])
    np.testing.assert_array_equal(rates, snap["rates"])
    net.advance(0.3)
    np.testing.assert_array_equal(out, after)


def test_settings_are_validated() -> None:
    # Each bad setting must raise ConfigurationError naming it.
    with pytest.raises(msm.ConfigurationError, match="'dt'.*> 0"):
        Network(model=MUSCLE3_MODEL, dt=0.0)
    with pytest.raises(msm.ConfigurationError, match="'shape'"):
        Network(model=MUSCLE3_MODEL, dt=1.0, shape=(10, 0))
    with pytest.raises(msm.ConfigurationError, match="'method'"):
        Network(model=MUSCLE3_MODEL, dt=1.0, method="rk4")
    with pytest.raises(msm.ConfigurationError, match="'model'"):
        Network(dt=1.0)
    assert Network(model=MUSCLE3_MODEL, dt=1.0, shape=7).shape == (7,)


# -- 7. NaN / inf detection --------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_non_finite_state_after_advance_names_component_time_and_species() -> None:
    # k*A^2 with A = 1e200 overflows to inf in cell 0 only: A -> -inf, B -> +inf,
    # while the spectator species S stays finite and must not be named.
    net = make("J: A -> B; k*A^2; k = 1; A = 1e200\nL: S -> ; ks*S; ks = 1; S = 1", 0.5, (3,))
    net.concentration("A")[1:] = 1.0  # only cell 0 overflows
    net.compute_rates()
    with pytest.raises(msm.CouplingError) as info:
        net.advance(0.5)
    msg = str(info.value)
    assert "'micro'" in msg and "t=0.0 to t=0.5" in msg
    assert "species A, B in 1 of 3 cell(s), first at cell 0;" in msg
    assert "reduce dt" in msg


def test_non_finite_received_state_names_the_port() -> None:
    # A NaN arriving on state_in is reported at once, naming the port and species.
    net = make("J: A -> B; k*A; k = 1", 0.1, (2, 2))
    bad = np.ones((2, 2, 2))
    bad[1, 0, 1] = np.nan
    with pytest.raises(msm.CouplingError, match=r"received on port 'state_in'.*species B.*cell \(1, 0\)"):
        send(net, bad)


def test_use_before_initialize_and_unknown_port_are_errors() -> None:
    # Misuse of the protocol must fail loudly rather than read garbage.
    net = Network(name="micro", model=MUSCLE3_MODEL, dt=1.0)
    with pytest.raises(msm.CouplingError, match="before initialize"):
        net.step(1.0)
    net.initialize()
    with pytest.raises(msm.CouplingError, match="no port 'nope'"):
        net.receive("nope")
