"""msm-md's NumPy energies and virials against OpenMM's energies (independent code paths).

The pressure test differentiates OpenMM's energy with respect to volume
(positions and box scaled together): for a pair potential
``P_conf = −dU/dV = (1/3V) Σ r·f``, which is what msm-md computes from its
pair list. Energy-shifted potentials keep ``U`` continuous at the cut-off, so
pairs crossing it under the scaling do not spoil the finite difference.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from msm_md import LJFluid, PairPotential
from msm_md.pairs import pair_terms


def _openmm_energy(c: LJFluid, positions: np.ndarray, box: np.ndarray) -> float:
    import openmm

    ctx = c.context
    ctx.setPeriodicBoxVectors(*(openmm.Vec3(*(box[a] if b == a else 0.0 for b in range(3))) for a in range(3)))
    ctx.setPositions(positions)
    return float(ctx.getState(getEnergy=True, groups={0}).getPotentialEnergy()._value)


def _all_positions(c: LJFluid) -> np.ndarray:
    state = c.context.getState(getPositions=True)
    return np.asarray(state.getPositions(asNumpy=True)._value, dtype=np.float64)


@pytest.mark.parametrize("settings", [
    dict(potential="lj", truncation="lrc", cutoff=2.5),
    dict(potential="lj", truncation="truncated", cutoff=3.0),
    dict(potential="lj", truncation="shifted", cutoff=2.5),
    dict(potential="morse", truncation="lrc", cutoff=2.8, morse_alpha=3.0),
], ids=["lj-lrc", "lj-truncated", "lj-shifted", "morse-lrc"])
def test_numpy_energy_equals_openmm_energy(settings: dict) -> None:
    c = LJFluid(density=0.75, temperature=1.2, cells=(4, 4, 4), seed=5, **settings)
    c.initialize()
    c.advance(0.25)  # 50 steps: off the lattice
    x = _all_positions(c)
    g = c.geometry
    ours = pair_terms(x, c.n_fluid, g.box, g.periodic, c.pair_potential).energy
    ours += c.n_fluid * c.pair_potential.tail_energy_per_particle(c.n_fluid / g.volume)
    theirs = _openmm_energy(c, x, g.box)
    # OpenMM's CPU platform sums in single precision: agree to ~1e-6 relative.
    assert ours == pytest.approx(theirs, rel=2e-6, abs=1e-4)


@pytest.mark.parametrize("potential", ["lj", "morse"])
def test_virial_pressure_equals_volume_derivative_of_openmm_energy(potential: str) -> None:
    c = LJFluid(potential=potential, truncation="shifted", density=0.8, temperature=1.0, cells=(4, 4, 4),
                cutoff=2.5, seed=2, morse_alpha=4.0)
    c.initialize()
    c.advance(0.25)
    x = _all_positions(c)
    g = c.geometry
    terms = pair_terms(x, c.n_fluid, g.box, g.periodic, c.pair_potential)
    volume = float(np.prod(g.box))
    p_virial = terms.virial[:3].sum() / (3.0 * volume)
    eps = 1e-3
    energies = []
    for sign in (+1, -1):
        s = (1.0 + sign * eps) ** (1.0 / 3.0)
        energies.append(_openmm_energy(c, x * s, g.box * s))
    p_fd = -(energies[0] - energies[1]) / (2 * eps * volume)
    # Single-precision energies (~1e-4 absolute on ~-1500) over dV = 2e-3 V, plus the O(eps^2)
    # central-difference error: agreement to ~1e-4 is seen; 2e-3 leaves room.
    assert p_virial == pytest.approx(p_fd, abs=2e-3)
    assert abs(p_virial) > 0.3  # the check is not vacuous


def test_channel_energy_with_lattice_walls_matches_openmm() -> None:
    c = LJFluid(periodic="xz", truncation="shifted", cells=(3, 4, 3), density=0.8, temperature=1.0,
                wall_epsilon=0.6, seed=4)
    c.initialize()
    c.advance(0.1)
    x = _all_positions(c)
    g = c.geometry
    assert len(x) > c.n_fluid  # there are wall atoms
    ours = pair_terms(x, c.n_fluid, g.box, g.periodic, c.pair_potential, wall_scale=0.6).energy
    assert ours == pytest.approx(_openmm_energy(c, x, g.box), rel=2e-6, abs=1e-4)


def test_lj_tail_corrections_match_their_integrals() -> None:
    lj = PairPotential("lj", cutoff=3.0, truncation="lrc")
    rho = 0.82
    # Allen & Tildesley's closed forms against direct quadrature of the definitions
    from scipy.integrate import quad

    u = 2 * math.pi * rho * quad(lambda r: r * r * float(lj.bare(r)), 3.0, np.inf)[0]
    p = -2 / 3 * math.pi * rho**2 * quad(lambda r: r**3 * float(lj.bare_derivative(r)), 3.0, np.inf)[0]
    assert lj.tail_energy_per_particle(rho) == pytest.approx(u, rel=1e-10)
    assert lj.tail_pressure(rho) == pytest.approx(p, rel=1e-10)
    assert lj.tail_energy_per_particle(rho) == pytest.approx(-0.254314, abs=1e-6)
    assert PairPotential("lj", 3.0, "truncated").tail_pressure(rho) == 0.0


def test_smooth_93_walls_energy_matches_openmm_and_holds_the_fluid() -> None:
    from msm_md.external import WALL_GROUP, wall_93_energy

    c = LJFluid(periodic="yz", cells=(5, 3, 3), density=0.8, lower_boundary="lj93", upper_boundary="lj93",
                wall_epsilon=1.5, n_bins=5, seed=6)
    c.initialize()
    c.advance(0.5)
    x = c.positions()
    g = c.geometry
    assert c.grid.axis == 0  # slabs along the bounded axis
    assert x[:, 0].min() > -0.25 * g.a and x[:, 0].max() < g.length[0] + 0.25 * g.a
    theirs = c.context.getState(getEnergy=True, groups={WALL_GROUP}).getPotentialEnergy()._value
    ours = wall_93_energy(x[:, 0], g.wall_planes(), 1.5, c.cutoff)
    assert ours == pytest.approx(theirs, rel=1e-5, abs=1e-4)
    assert abs(ours) > 1.0


def test_open_lower_side_holds_the_fluid() -> None:
    c = LJFluid(periodic="xz", cells=(3, 5, 3), density=0.8, lower_boundary="open", upper_boundary="lj93",
                boundary_pressure=3.0, seed=1)
    c.initialize()
    c.advance(1.5)
    y = c.positions()[:, 1]
    assert y.min() > 0.0 and y.max() < c.geometry.length[1] + 0.25 * c.geometry.a
