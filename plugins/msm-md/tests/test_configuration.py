"""Settings of md.lj: clear ConfigurationErrors, derived geometry and ports (no OpenMM needed)."""

from __future__ import annotations

import numpy as np
import pytest
from msm_md import LJFluid

import msmcore as msm


@pytest.mark.parametrize("settings, words", [
    (dict(periodic="x"), ["one bounded axis"]),
    (dict(periodic="xyz", upper_boundary="open"), ["non-periodic axis"]),
    (dict(periodic="xz", lower_boundary="open", upper_boundary="open"), ["both sides", "open"]),
    (dict(periodic="xz", n_particles=100), ["n_particles", "cells"]),
    (dict(integrator="langevin", thermostat="nose-hoover"), ["its own thermostat", "verlet"]),
    (dict(integrator="verlet", thermostat="langevin"), ["BAOAB"]),
    (dict(integrator="verlet", thermostat="andersen", thermostat_axes="z"), ["thermostat_axes"]),
    (dict(periodic="xz", truncation="lrc"), ["long-range corrections", "truncated"]),
    (dict(cells=(2, 4, 4), cutoff=2.5), ["cutoff", "half the periodic box", "along x"]),
    (dict(constraint_bins=(3, 10), n_bins=10), ["[10] do not exist", "0..9"]),
    (dict(periodic="xz", upper_boundary="open", open_width=50.0), ["open_width"]),
    (dict(cells=(4, 0, 4)), ["cells", "entry < 1"]),
    (dict(density=-0.8), ["density", "> 0"]),
    (dict(periodic="xyy"), ["periodic", "distinct"]),
    (dict(constraint_xi=1.5), ["constraint_xi", "<= 1.0"]),
    (dict(thermostat="berendsen"), ["thermostat", "must be one of"]),
])
def test_bad_settings_say_what_and_where(settings: dict, words: list[str]) -> None:
    with pytest.raises(msm.ConfigurationError) as info:
        LJFluid(name="md", **settings)
    message = str(info.value)
    assert "'md'" in message
    for word in words:
        assert word in message, message


def test_bulk_box_and_ports() -> None:
    c = LJFluid(name="md", density=0.8, cells=(5, 5, 5), n_bins=5)
    a = (4 / 0.8) ** (1 / 3)
    assert np.allclose(c.geometry.length, 5 * a)
    assert c.pair_potential.truncation == "lrc" and c.grid.axis == 2  # auto: z in a bulk box
    ports = c.ports
    assert sorted(ports) == ["counts_out", "density_out", "force_in", "pressure_out", "stress_out",
                             "temperature_out", "velocity_out"]
    assert ports["velocity_out"].spec.components == 3 and ports["stress_out"].spec.components == 6
    assert np.allclose(ports["density_out"].spec.coords["z"], (np.arange(5) + 0.5) * a)
    assert ports["velocity_out"].spec.units == "sigma/tau"


def test_n_particles_fill_a_cube_without_overlaps() -> None:
    from scipy.spatial.distance import pdist

    c = LJFluid(name="md", n_particles=300, density=0.7)
    side = (300 / 0.7) ** (1 / 3)
    assert np.allclose(c.geometry.length, side)
    x = c.geometry.fluid_positions()
    assert x.shape == (300, 3) and x.min() >= 0 and x.max() < side
    assert pdist(x).min() > 0.9  # spread FCC sites of the smallest lattice with >= 300 sites


def test_channel_geometry_walls_and_coupling_ports() -> None:
    c = LJFluid(name="md", periodic="xz", cells=(4, 6, 4), density=0.81, n_bins=12, upper_boundary="open",
                constraint_bins=(8, 9), cutoff=2.5)
    g = c.geometry
    a = g.a
    assert c.grid.axis == 1 and c.pair_potential.truncation == "truncated"
    assert g.wall_layers == int(np.ceil(2.5 / (a / 2)))
    walls = g.wall_positions()
    # one lattice wall below: wall_layers planes a/2 apart, 2 atoms per plane per cell face
    planes = np.unique(np.round(walls[:, 1], 9))
    assert np.allclose(planes, -a / 4 - a / 2 * np.arange(g.wall_layers)[::-1])
    assert len(walls) == g.wall_layers * 2 * 4 * 4
    assert g.open_layer() == pytest.approx((6 * a - 1.0, 6 * a))
    assert g.box[1] > g.length[1] + 2.5  # a vacuum gap: no interaction through the open side
    ports = c.ports
    assert ports["velocity_in"].spec.shape == (2,) and ports["velocity_in"].spec.components == 3
    assert np.allclose(ports["velocity_in"].spec.coords["y"], c.grid.centres[[8, 9]])
    assert "boundary_pressure_in" in ports


def test_md_lj_runs_on_one_rank_only() -> None:
    class TwoRanks:
        def Get_size(self) -> int:
            return 2

        def Get_rank(self) -> int:
            return 0

    c = LJFluid(name="md")
    c.comm = TwoRanks()
    with pytest.raises(msm.ConfigurationError, match="nprocs=1"):
        c.initialize()
