"""LJFluid.set_velocities: the velocities given are the velocities (pending constraint shifts dropped)."""

from __future__ import annotations

import numpy as np
import pytest
from msm_md import LJFluid

import msmcore as msm


def test_set_velocities_replaces_them_and_drops_a_pending_constraint_shift() -> None:
    # Constraint slabs every step leave a velocity shift pending in the integrator; the
    # velocities set must be read back exactly, not with that shift added on top.
    c = LJFluid(periodic="xyz", cells=(3, 3, 3), density=0.8, temperature=1.0, n_bins=6, bin_axis="y",
                constraint_bins=(0, 3), constraint_components="x", constraint_velocity=(0.5, 0.0, 0.0),
                integrator="verlet", seed=2)
    c.initialize()
    c.advance(0.05)
    v = np.random.default_rng(0).normal(size=(c.n_fluid, 3))
    c.set_velocities(v)
    np.testing.assert_array_equal(c.velocities(), v)
    with pytest.raises(msm.CouplingError, match=r"expected \(108, 3\)"):
        c.set_velocities(v[:-1])
    c.finalize()
    with pytest.raises(msm.CouplingError, match="before initialize"):
        c.set_velocities(v)


def test_a_uniform_velocity_set_is_kept_by_newtonian_dynamics() -> None:
    # Pair forces conserve momentum (Newton's third law): a uniform drift added to every
    # particle of a periodic box stays, to round-off (OpenMM CPU single-precision forces:
    # 1e-5 over 100 steps is generous), under Verlet without a thermostat.
    c = LJFluid(periodic="xyz", cells=(3, 3, 3), density=0.8, temperature=1.0, integrator="verlet", seed=4)
    c.initialize()
    v = c.velocities()
    v -= v.mean(axis=0)
    v[:, 0] += 0.3
    c.set_velocities(v)
    c.advance(0.5)
    np.testing.assert_allclose(c.velocities().mean(axis=0), [0.3, 0.0, 0.0], atol=1e-5)
    c.finalize()
