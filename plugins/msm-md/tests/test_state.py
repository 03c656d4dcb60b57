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


def test_the_class_declares_its_state_and_ports_label_coordinates_in_sigma() -> None:
    assert LJFluid.declares_state()
    c = LJFluid(**CHANNEL)
    with_coords = [p for p in c.ports.values() if p.spec.coords]
    assert {p.name for p in with_coords} >= {"density_out", "velocity_out", "force_in", "velocity_in"}
    assert all(p.spec.coord_units == "sigma" for p in with_coords)  # slab centres in reduced lengths


def test_the_langevin_noise_is_part_of_the_snapshot() -> None:
    # Positions and velocities alone do not repeat a Langevin window: the noise drawn
    # next comes from the random number generator's state, which OpenMM keeps in its
    # checkpoints (see LJFluid's notes). With the snapshot the window repeats bit for bit.
    c = LJFluid(seed=5, density=0.8, cells=(3, 3, 3), n_bins=3)
    assert c.integrator == "langevin"
    c.initialize()
    c.advance(0.1)
    state = c.save_state()
    x0, v0 = c.positions(), c.velocities()
    c.advance(0.2)
    reference = c.positions()
    c.context.setPositions(x0)  # the same positions and velocities, the generator moved on
    c.context.setVelocities(v0)
    c.t = 0.1
    c.advance(0.2)
    assert not np.array_equal(c.positions(), reference)
    c.restore_state(state)
    c.advance(0.2)
    assert np.array_equal(c.positions(), reference)


def test_runs_again_after_finalize_identically() -> None:
    # A coupling's next run calls initialize() after finalize(): a new OpenMM context
    # from the same settings (and seed) repeats the first run bit for bit.
    c = LJFluid(**CHANNEL)

    def one_run() -> tuple[np.ndarray, dict[str, np.ndarray]]:
        c.initialize()
        assert np.array_equal(c.port_array("velocity_in"), [[0.0, 0.0, 0.0]])  # the setting, not the last run
        c.port_array("velocity_in")[...] = [[0.7, 0.0, 0.0]]
        c.receive("velocity_in")
        c.advance(0.2)
        out = c.positions(), _outputs(c)
        c.finalize()
        assert c.context is None
        return out

    x_first, first = one_run()
    for run in range(1, 4):
        x, outputs = one_run()
        assert np.array_equal(x, x_first), run
        for name, value in first.items():
            assert np.array_equal(outputs[name], value), (run, name)
    assert np.array_equal(c.port_array("density_out"), first["density_out"])  # readable after finalize
