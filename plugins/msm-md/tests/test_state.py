"""save_state / restore_state: a restored window repeats bit for bit; inputs persist."""

from __future__ import annotations

import numpy as np

from msm_md import LJFluid

CHANNEL = dict(periodic="xz", cells=(3, 5, 3), density=0.8, temperature=1.0, n_bins=10, seed=9,
               thermostat_axes="z", constraint_bins=(7,), upper_boundary="open", boundary_pressure=2.0)


def _outputs(c: LJFluid) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in c.outputs.items()}


def test_restored_window_repeats_bit_for_bit() -> None:
    c = LJFluid(**CHANNEL)
    c.initialize()
    c.advance(0.25)
    c.port_array("velocity_in")[...] = [[0.7, 0.0, 0.0]]
    c.receive("velocity_in")
    state = c.save_state()
    c.advance(0.5)
    first, x_first, t_first = _outputs(c), c.positions(), c.t
    # something else in between: other inputs, more steps
    c.port_array("velocity_in")[...] = [[-3.0, 0.0, 0.0]]
    c.port_array("force_in")[...] = 0.3
    c.receive("force_in")
    c.advance(0.6)
    c.restore_state(state)
    assert c.t == 0.25 and c.steps == 50
    assert np.array_equal(c.port_array("velocity_in"), [[0.7, 0.0, 0.0]])
    assert np.all(c.port_array("force_in") == 0.0)
    c.advance(0.5)
    assert c.t == t_first
    assert np.array_equal(c.positions(), x_first)
    for name, value in first.items():
        assert np.array_equal(c.port_array(name), value), name


def test_a_second_restore_repeats_too() -> None:
    c = LJFluid(seed=3, density=0.8, cells=(4, 4, 4), n_bins=4)
    c.initialize()
    state = c.save_state()
    c.advance(0.2)
    a = c.positions()
    for _ in range(2):
        c.restore_state(state)
        assert c.t == 0.0
        c.advance(0.2)
        assert np.array_equal(c.positions(), a)
