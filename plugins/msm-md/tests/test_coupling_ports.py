"""The coupling ports of md.lj: velocity constraint, open boundary, and a run inside msmcore."""

from __future__ import annotations

import importlib.metadata as md

import numpy as np
import pytest
from msm_md import LJFluid

import msmcore as msm

CHANNEL = dict(periodic="xz", cells=(3, 5, 3), density=0.8, temperature=1.0, n_bins=10, seed=2,
               thermostat_axes="z")


def test_constraint_slab_carries_the_imposed_velocity_and_drags_its_neighbours() -> None:
    # Nie et al.'s constraint with xi = 1: after every step the mean velocity of slab 7
    # equals u, so the window average there is u to round-off; momentum then diffuses
    # towards the wall (slab 0 sits against a lattice wall at rest).
    c = LJFluid(constraint_bins=(7,), constraint_velocity=(0.8, 0.0, 0.0), sample_interval=1, **CHANNEL)
    c.initialize()
    c.advance(2.0)
    v = c.port_array("velocity_out")
    assert np.allclose(v[7], [0.8, 0.0, 0.0], atol=1e-5)
    assert v[6, 0] > 0.2 and v[8, 0] > 0.2  # neighbours are dragged along
    assert abs(v[1, 0]) < v[6, 0]
    # the temperature of the constrained slab stays thermal: the fluctuations are untouched
    assert 0.5 < c.port_array("temperature_out")[7] < 1.6
    # a new imposed velocity through the port
    c.port_array("velocity_in")[...] = [[-0.5, 0.0, 0.1]]
    c.receive("velocity_in")
    c.advance(2.5)
    assert np.allclose(c.port_array("velocity_out")[7], [-0.5, 0.0, 0.1], atol=1e-5)


@pytest.mark.parametrize("settings", [
    dict(integrator="langevin"),
    dict(integrator="verlet", thermostat="nose-hoover"),  # no custom integrator: setVelocities
], ids=["shift-in-integrator", "set-velocities"])
def test_constrained_velocities_are_what_the_particles_carry(settings: dict) -> None:
    # Right after an advance, the particles' own velocities (with the shift the integrator
    # will apply at the next step) have the imposed mean in the constraint slabs.
    u = np.array([[0.3, -0.2, 0.0], [0.5, 0.0, 0.1]])
    c = LJFluid(**{**CHANNEL, "thermostat_axes": "xyz"}, constraint_bins=(4, 5), **settings)
    c.initialize()
    c.port_array("velocity_in")[...] = u
    c.receive("velocity_in")
    for k in range(3):
        c.advance(0.1 * (k + 1))
        index = c.grid.index(c.positions())
        v = c.velocities()
        for row, b in enumerate((4, 5)):
            assert np.allclose(v[index == b].mean(axis=0), u[row], atol=1e-6)
    assert np.allclose(c.port_array("velocity_out")[[4, 5]], u, atol=1e-5)


def test_open_side_force_holds_the_fluid_and_its_pressure_comes_through_the_port() -> None:
    # A liquid at positive pressure next to vacuum expands. With p0 = 3 the boundary force
    # keeps every particle below the open boundary H; with p0 = 0 (sent through
    # boundary_pressure_in) the surface moves out past H.
    c = LJFluid(upper_boundary="open", boundary_pressure=3.0, **CHANNEL)
    c.initialize()
    h = c.geometry.length[1]
    c.advance(1.5)
    assert c.positions()[:, 1].max() < h
    assert c.positions()[:, 1].min() > -0.5  # and the wall at the bottom holds
    c.port_array("boundary_pressure_in")[0] = 0.0
    c.receive("boundary_pressure_in")
    c.advance(4.0)
    assert c.positions()[:, 1].max() > h


class Imposer(msm.Component):
    """Test helper: sends a constant velocity for the constraint slabs."""

    u = msm.Setting(float, default=0.6)
    n = msm.Setting(int, default=1)
    dt = msm.Setting(float, default=0.05)
    state_attributes = ()

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.output("u_out", self.n, components=3, units="sigma/tau")]

    def initialize(self) -> None:
        self.port_array("u_out")[...] = [self.u, 0.0, 0.0]

    def step(self, dt: float) -> None:
        pass


def test_md_lj_runs_in_a_coupling() -> None:
    c = msm.Coupling()
    c.add("src", Imposer, u=0.6, n=2)
    c.add("md", LJFluid, constraint_bins=(6, 7), **CHANNEL)
    c.connect("src.u_out", "md.velocity_in")
    res = c.run(until=0.5, scheme=msm.Serial(window=0.1), quiet=True)
    ds = res["md"]
    names = set(ds.data_vars)
    assert {"velocity_out", "density_out", "stress_out", "counts_out"} <= names
    last = np.asarray(ds["velocity_out"])[-1]
    assert np.allclose(last[6:8, 0], 0.6, atol=1e-5)
    assert np.all(np.asarray(ds["counts_out"])[-1] > 0)


def _installed() -> bool:
    eps = md.entry_points(group="msmcore.plugins")
    return any(ep.name == "md" and ep.value == "msm_md.plugin" for ep in eps)


@pytest.mark.skipif(not _installed(), reason="msm-md is not installed (pip install -e plugins/msm-md)")
def test_registry_finds_md_lj_and_openmm_loads_lazily() -> None:
    import subprocess
    import sys

    registry = msm.get_registry()
    registry.reload()
    info = registry.get("md.lj")
    assert info.factory is LJFluid and info.distribution == "msm-md"
    # Building a component (settings, ports) does not import OpenMM; initialize() does.
    code = ("import sys, msmcore as msm; c = msm.get_registry().create('md.lj', name='m', cells=(4, 4, 4)); "
            "_ = c.ports; assert 'openmm' not in sys.modules, 'openmm imported early'; "
            "c.initialize(); assert 'openmm' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
