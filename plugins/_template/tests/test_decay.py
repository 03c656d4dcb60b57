"""Validation of template.decay against the exact solution u0 exp(-k t)."""

import numpy as np
import pytest
from msm_template.decay import Decay


def run(dt: float, t_end: float = 1.0) -> float:
    c = Decay(k=2.0, size=3, u0=1.5, dt=dt)
    c.initialize()
    c.advance(t_end)
    assert c.t == t_end
    return float(np.max(np.abs(c.port_array("u_out") - c.exact(t_end))))


def test_decay_converges_first_order_to_exact_solution() -> None:
    # Forward Euler's global error is O(dt): it halves with dt; the bound
    # k^2 t exp(-k t)/2 * u0 * dt comes from the leading error term.
    errors = [run(dt) for dt in (1e-2, 5e-3, 2.5e-3)]
    assert errors[0] < 0.5 * 4.0 * np.exp(-2.0) * 1.5 * 1e-2 * 1.1
    ratios = [errors[i] / errors[i + 1] for i in range(2)]
    assert all(abs(r - 2.0) < 0.1 for r in ratios), ratios


def test_state_is_declared_and_a_restored_window_repeats_bit_for_bit() -> None:
    # state_attributes = (): u_out and t are the whole state, so save/restore of the
    # default pair must make the next window repeat exactly.
    assert Decay.declares_state()
    c = Decay(k=2.0, size=3, u0=1.5, dt=0.01)
    c.initialize()
    c.advance(0.1)
    snapshot = c.save_state()
    c.advance(0.3)
    reference = c.port_array("u_out").copy()
    c.advance(0.5)
    c.restore_state(snapshot)
    assert c.t == 0.1
    c.advance(0.3)
    np.testing.assert_array_equal(c.port_array("u_out"), reference)


def test_receive_takes_only_the_delivered_values() -> None:
    c = Decay(size=3, u0=1.0, dt=0.01)
    c.initialize()
    c.advance(0.1)
    kept = c.port_array("u_out")[2]
    c.port_array("u_in")[...] = [5.0, 6.0, -1.0]
    c.delivered = lambda port: np.array([True, True, False])  # what the coupling reports: cell 2 not fed
    c.receive("u_in")
    np.testing.assert_array_equal(c.port_array("u_out"), [5.0, 6.0, kept])


def test_initialize_after_finalize_starts_afresh() -> None:
    c = Decay(k=2.0, size=2, u0=1.5, dt=0.01)
    results = []
    for _ in range(3):
        c.t = 0.0  # as a coupling sets it before initialize()
        c.initialize()
        c.advance(0.2)
        results.append(c.port_array("u_out").copy())
        c.finalize()
    assert np.array_equal(results[0], results[1]) and np.array_equal(results[0], results[2])
    assert results[0][0] == pytest.approx(1.5 * np.exp(-0.4), rel=0.03)  # forward Euler, dt = 0.01
