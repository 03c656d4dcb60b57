"""Validation of template.decay against the exact solution u0 exp(-k t)."""

import numpy as np

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
