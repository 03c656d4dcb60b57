"""Mechanics of msm_cells: pair potentials, neighbour search, Adams-Bashforth, equilibrium distance."""

from __future__ import annotations

import numpy as np
import pytest
from msm_cells.cycle import LiveCycle
from msm_cells.mechanics import ab2_update, equilibrium_distance, velocities
from msm_cells.population import PhenotypeParams, Population, radius_of


def _brute_force(x, r, c_r, c_a, s_rel):
    """O(N^2) reference of the PhysiCell pair sum (Ghaffarizadeh et al. 2018, Methods, "Cell mechanics")."""
    v = np.zeros_like(x)
    for i in range(len(x)):
        for j in range(len(x)):
            if i == j:
                continue
            e = x[i] - x[j]
            d = np.linalg.norm(e)
            R, S = r[i] + r[j], s_rel * (r[i] + r[j])
            rep = np.sqrt(c_r[i] * c_r[j]) * (1 - d / R) ** 2 if d < R else 0.0
            adh = np.sqrt(c_a[i] * c_a[j]) * (1 - d / S) ** 2 if d < S else 0.0
            v[i] += (rep - adh) * e / d
    return v


@pytest.mark.parametrize("dim", [2, 3])
def test_pair_sum_matches_brute_force(dim):
    # The cKDTree neighbour search must find every interacting pair: compare with the O(N^2) double loop
    # on a random cluster with varied radii and strengths (agreement to round-off, 1e-12 relative).
    g = np.random.default_rng(3)
    n = 60
    x = g.uniform(0, 60, size=(n, dim))
    r = g.uniform(5, 10, size=n)
    c_r, c_a = g.uniform(5, 15, n), g.uniform(0.1, 1.0, n)
    v, pairs = velocities(x, r, c_r, c_a, 1.25)
    ref = _brute_force(x, r, c_r, c_a, 1.25)
    assert pairs > 10
    np.testing.assert_allclose(v, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    # Newton's third law: the pair terms are antisymmetric, so the velocities sum to zero
    assert np.abs(v.sum(axis=0)).max() < 1e-12 * np.abs(v).max()


def test_ab2_is_second_order():
    # x' = -x from x(0)=1 to t=1 with velocities v = -x: AB2 (Euler start) has global error O(dt^2),
    # so halving dt divides the error by 4 (ratio within 10%; Hairer, Norsett & Wanner, Solving ODEs I, III.1).
    def err(dt):
        x = np.ones((1, 2))
        vp = np.zeros_like(x)
        has = np.zeros(1, bool)
        for _ in range(int(round(1 / dt))):
            ab2_update(x, -x.copy(), vp, has, dt)
        return abs(x[0, 0] - np.exp(-1.0))
    ratio = err(0.01) / err(0.005)
    assert ratio == pytest.approx(4.0, rel=0.1)


@pytest.mark.parametrize("start", [0.6, 1.05])  # overlapping (repulsion wins), and apart within reach (adhesion)
def test_two_cells_relax_to_equilibrium_distance(start):
    # Two equal cells of radius r: the pair term vanishes where c_r (1 - d/R)^2 = c_a (1 - d/S)^2, R = 2r,
    # S = 1.25 R (derivation in equilibrium_distance): d* = (sqrt c_r - sqrt c_a)/(sqrt c_r / R - sqrt c_a / S).
    # With PhysiCell's defaults c_r = 10, c_a = 0.4 um/min this is d* = 1.9048 r. Tolerance 1e-6 relative.
    params = PhenotypeParams(cycle=LiveCycle(0.0))
    r = float(radius_of(params.target_volume))
    R = 2 * r
    sr, sa = np.sqrt(10.0), np.sqrt(0.4)
    d_star = (sr - sa) / (sr / R - sa / (1.25 * R))  # derived here independently of the library
    assert equilibrium_distance(R, 10.0, 0.4, 1.25) == pytest.approx(d_star, rel=1e-14)
    pop = Population(np.array([[0.0, 0.0, 0.0], [start * R, 0.0, 0.0]]), params, seed=1)
    for _ in range(3000):  # 600 min; the slowest mode near d* relaxes at ~0.095/min
        pop.mechanics_step(0.2)
    d = np.linalg.norm(pop.positions[1] - pop.positions[0])
    assert d == pytest.approx(d_star, rel=1e-6)
    # the midpoint does not move (equal and opposite velocities)
    np.testing.assert_allclose(pop.positions.mean(axis=0), [0.5 * start * R, 0, 0], atol=1e-9)


def test_cells_out_of_reach_do_not_move():
    params = PhenotypeParams(cycle=LiveCycle(0.0))
    r = float(radius_of(params.target_volume))
    x = np.array([[0.0, 0.0], [2.5 * r * 1.0001, 0.0]])
    pop = Population(x, params, seed=1)
    pop.mechanics_step(0.1)
    np.testing.assert_array_equal(pop.positions, x)
