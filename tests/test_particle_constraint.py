"""Grid-to-particle constraint (msmcore.mapping.particles): the slab means move to the imposed velocity."""

from __future__ import annotations

import numpy as np

from msmcore.mapping.particles import relax_slab_velocities, slab_means, slab_values_at_particles


def _particles(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    index = rng.integers(-1, 5, 400)  # slabs 0..4 and some particles outside (-1)
    v = rng.normal(size=(400, 3))
    m = rng.uniform(0.5, 2.0, 400)
    return index, v, m


def test_xi_one_sets_the_mean_exactly_and_keeps_fluctuations() -> None:
    index, v, m = _particles()
    slabs = np.array([1, 3])
    target = np.array([[1.0, 0.0, 0.0], [-0.5, 0.2, 0.1]])
    before = v.copy()
    old, _ = slab_means(index, before, m, slabs)
    returned = relax_slab_velocities(v, index, m, slabs, target)
    assert np.allclose(returned, old)
    new, counts = slab_means(index, v, m, slabs)
    assert np.all(counts > 0) and np.allclose(new, target, atol=1e-12)
    for k, s in enumerate(slabs):  # the same shift for every particle of a slab
        sel = index == s
        assert np.allclose(v[sel] - before[sel], target[k] - old[k])
    untouched = ~np.isin(index, slabs)
    assert np.array_equal(v[untouched], before[untouched])


def test_partial_relaxation_and_chosen_components() -> None:
    index, v, m = _particles(1)
    slabs = np.array([0])
    target = np.array([[2.0, 2.0, 2.0]])
    old, _ = slab_means(index, v, m, slabs)
    relax_slab_velocities(v, index, m, slabs, target, xi=0.25, components=(0,))
    new, _ = slab_means(index, v, m, slabs)
    assert np.isclose(new[0, 0], old[0, 0] + 0.25 * (2.0 - old[0, 0]))
    assert np.allclose(new[0, 1:], old[0, 1:])


def test_empty_slabs_are_skipped_and_values_gather_to_particles() -> None:
    index = np.array([0, 0, -1, 2])
    v = np.ones((4, 3))
    means = relax_slab_velocities(v, index, 1.0, np.array([1, 2]), np.array([[5.0, 5, 5], [0.0, 0, 0]]))
    assert np.allclose(means, [[0, 0, 0], [1, 1, 1]])
    assert np.allclose(v[:3], 1.0) and np.allclose(v[3], 0.0)
    per_particle = slab_values_at_particles(index, np.array([10.0, 20.0, 30.0]), outside=-1.0)
    assert per_particle.tolist() == [10.0, 10.0, -1.0, 30.0]
