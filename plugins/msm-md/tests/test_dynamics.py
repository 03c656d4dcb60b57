"""Integrators, thermostats, body forces and determinism of md.lj (small, short runs)."""

from __future__ import annotations

import numpy as np
import pytest
from msm_md import LJFluid

SMALL = dict(density=0.8, temperature=1.0, cells=(4, 4, 4), cutoff=2.5, n_bins=4)


def test_velocity_verlet_conserves_energy() -> None:
    # NVE with an energy-shifted potential: the total energy per particle is a constant of
    # motion; velocity Verlet at dt = 0.005 keeps it to ~1e-4 with no drift over 1000 steps,
    # while the kinetic and potential parts exchange ~1e-1.
    c = LJFluid(integrator="verlet", truncation="shifted", sample_interval=10, stress_interval=10, seed=7, **SMALL)
    c.initialize()
    c.advance(0.5)  # let the lattice melt a little before measuring
    totals, kinetics = [], []
    for k in range(10):
        c.advance(0.5 + 0.5 * (k + 1))
        totals.append(c.thermo["total_energy"])
        kinetics.append(c.thermo["kinetic_energy"])
    assert np.ptp(totals) < 2e-3, totals
    assert np.ptp(kinetics) > 20 * np.ptp(totals)
    assert c.steps == 1100


def test_langevin_friction_acts_on_the_chosen_axes_only() -> None:
    # With friction and noise on z only, the total x and y momentum stays zero (pair forces
    # cancel in pairs) while the z momentum random-walks.
    c = LJFluid(thermostat_axes="z", thermostat_rate=5.0, seed=3, **SMALL)
    c.initialize()
    c.advance(1.0)
    p = c.velocities().sum(axis=0)
    assert abs(p[0]) < 1e-3 and abs(p[1]) < 1e-3
    assert abs(p[2]) > 0.05


@pytest.mark.parametrize("settings", [
    dict(integrator="langevin", thermostat_rate=5.0),
    dict(integrator="verlet", thermostat="nose-hoover", thermostat_rate=5.0),
    dict(integrator="verlet", thermostat="andersen", thermostat_rate=5.0),
    dict(integrator="verlet", thermostat="rescale", rescale_interval=5),
], ids=["langevin", "nose-hoover", "andersen", "rescale"])
def test_thermostats_hold_the_target_temperature(settings: dict) -> None:
    # Start hot (T = 2.0 from the lattice) and thermostat to 0.9: after 2 tau the mean over a
    # 2 tau window is within 0.05. N = 256: one sample's kinetic temperature fluctuates by
    # sqrt(2/3N) T = 0.046; a 2 tau window holds >= 10 independent ones, so its mean is good
    # to ~0.014 and 0.05 is ~3.5 sigma. (Plain NVE from the same start stays at 1.11.)
    c = LJFluid(**{**SMALL, "temperature": 0.9}, seed=11, **settings)
    c.initialize()
    c._ctx.setVelocities(c._ctx.getState(getVelocities=True).getVelocities(asNumpy=True) * np.sqrt(2.0 / 0.9))
    c.advance(2.0)
    c.advance(4.0)
    assert c.thermo["temperature"] == pytest.approx(0.9, abs=0.05)


def test_uniform_body_force_adds_exactly_n_f_t_of_momentum() -> None:
    # Newton's third law cancels the pair forces: the total momentum grows by N f t.
    c = LJFluid(integrator="verlet", body_force=(0.2, 0.0, -0.1), seed=1, **SMALL)
    c.initialize()
    p0 = c.velocities().sum(axis=0)
    c.advance(0.5)
    gained = c.velocities().sum(axis=0) - p0
    assert np.allclose(gained, np.array([0.2, 0.0, -0.1]) * c.n_fluid * 0.5, atol=2e-3)


def test_body_force_per_slab_acts_in_its_slab_only() -> None:
    # force_in: a force in slab 0 only. Velocity Verlet's momentum change in one step is
    # dt (F(t) + F(t + dt)) / 2: with n0 particles in slab 0 that is dt f (n0(t) + n0(t+dt)) / 2.
    c = LJFluid(integrator="verlet", seed=2, **SMALL)
    c.initialize()
    f = np.zeros((4, 3))
    f[0] = [0.5, 0.0, 0.0]
    c.port_array("force_in")[...] = f
    c.receive("force_in")
    expected, p0 = 0.0, c.velocities().sum(axis=0)
    n_before = np.sum(c.grid.index(c.positions()) == 0)
    for k in range(20):
        c.advance((k + 1) * c.dt)
        n_after = np.sum(c.grid.index(c.positions()) == 0)
        expected += c.dt * 0.5 * (n_before + n_after) * 0.5
        n_before = n_after
    gained = c.velocities().sum(axis=0) - p0
    assert gained[0] == pytest.approx(expected, abs=2e-3)
    assert expected > 1.0 and abs(gained[1]) < 1e-3 and abs(gained[2]) < 1e-3


def test_same_seed_same_run_other_seed_other_run() -> None:
    def run(seed: int) -> np.ndarray:
        c = LJFluid(seed=seed, **SMALL)
        c.initialize()
        c.advance(0.25)
        out = np.concatenate([c.port_array("velocity_out").ravel(), c.port_array("stress_out").ravel()])
        c.finalize()
        return out

    a, b, other = run(5), run(5), run(6)
    assert np.array_equal(a, b)
    assert not np.allclose(a, other)


def test_slab_averages_add_up_to_the_bulk_values() -> None:
    # In a periodic box the slabs tile the volume, so with velocities and virials sampled on
    # the same steps the slab averages must reproduce the bulk values exactly: the mean slab
    # density is N/V, and the mean slab pressure is the bulk virial pressure less the kinetic
    # pressure of each slab's window-mean (streaming) velocity, mean_b(rho_b |v_b|^2) / 3.
    # (Truncated without tail corrections: the tail taken at each slab's density differs from
    # the bulk tail by c var(rho_slab), which is not what this test is about.)
    c = LJFluid(sample_interval=5, stress_interval=5, seed=8, truncation="truncated", **{**SMALL, "n_bins": 5})
    c.initialize()
    c.advance(0.5)
    rho = c.port_array("density_out")
    v = c.port_array("velocity_out")
    assert rho.mean() == pytest.approx(c.n_fluid / c.geometry.volume, rel=1e-12)
    streaming = np.mean(rho * np.sum(v * v, axis=1)) / 3.0
    p_slabs = c.port_array("pressure_out").mean()
    assert p_slabs + streaming == pytest.approx(c.thermo["pressure"], rel=1e-9)
    assert streaming > 1e-4 and abs(c.thermo["pressure"]) > 0.2
    stress = c.port_array("stress_out")
    assert np.allclose(stress[:, :3].mean(axis=1), c.port_array("pressure_out"))
