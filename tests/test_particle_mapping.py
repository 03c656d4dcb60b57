"""Particle-to-grid averages (msmcore.mapping.particles) on hand-made samples with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from msmcore.mapping.particles import SlabAverager, SlabGrid


def test_slab_index_wraps_periodic_axes_and_flags_outside_ones() -> None:
    grid = SlabGrid(axis=1, lo=0.0, hi=4.0, n=4, cross_section=2.0)
    pos = np.array([[9.0, -0.1, 0.0], [0.0, 0.0, 0.0], [0.0, 3.999, 0.0], [0.0, 4.0, 0.0], [0.0, 2.5, 0.0]])
    assert grid.index(pos).tolist() == [-1, 0, 3, -1, 2]
    periodic = SlabGrid(axis=1, lo=0.0, hi=4.0, n=4, cross_section=2.0, periodic=True)
    assert periodic.index(pos).tolist() == [3, 0, 3, 0, 2]
    assert np.allclose(grid.centres, [0.5, 1.5, 2.5, 3.5]) and np.allclose(grid.edges, [0, 1, 2, 3, 4])
    assert grid.volume == pytest.approx(2.0)


def test_window_averages_match_hand_computed_values() -> None:
    # Two slabs along x, each of volume 1 x 2 x 3 = 6. Two samples.
    grid = SlabGrid(axis=0, lo=0.0, hi=2.0, n=2, cross_section=6.0)
    avg = SlabAverager(grid)
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(2):
        n0, n1 = 5, 3
        x = np.concatenate([rng.uniform(0, 1, n0), rng.uniform(1, 2, n1)])
        pos = np.stack([x, rng.uniform(0, 2, n0 + n1), rng.uniform(0, 3, n0 + n1)], axis=1)
        vel = rng.normal(size=(n0 + n1, 3)) + np.array([2.0, 0.0, 0.0])
        mass = rng.uniform(0.5, 2.0, n0 + n1)
        avg.add(pos, vel, mass)
        samples.append((vel, mass, x < 1))
    res = avg.result()
    assert res.counts.tolist() == [10, 6] and res.samples == 2
    assert np.allclose(res.density, [10 / (2 * 6), 6 / (2 * 6)])
    for b, sel in enumerate((lambda s: s[2], lambda s: ~s[2])):
        v = np.concatenate([s[0][sel(s)] for s in samples])
        m = np.concatenate([s[1][sel(s)] for s in samples])
        mean = (m[:, None] * v).sum(0) / m.sum()
        assert np.allclose(res.velocity[b], mean)
        c = v - mean
        kin = np.einsum("i,ia,ib->ab", m, c, c)
        assert res.temperature[b] == pytest.approx(np.trace(kin) / (3 * len(v)))
        voigt = [kin[0, 0], kin[1, 1], kin[2, 2], kin[1, 2], kin[0, 2], kin[0, 1]]
        # no virial samples: the stress is the kinetic part alone, per sample and volume
        assert np.allclose(res.stress[b], np.array(voigt) / (2 * 6))
        assert res.pressure[b] == pytest.approx(np.trace(kin) / 3 / (2 * 6))


def test_streaming_velocity_is_not_temperature() -> None:
    # Every particle moves with the same velocity: zero temperature and kinetic stress.
    grid = SlabGrid(axis=2, lo=0.0, hi=1.0, n=1, cross_section=1.0)
    avg = SlabAverager(grid)
    pos = np.random.default_rng(1).uniform(0, 1, (50, 3))
    avg.add(pos, np.tile([3.0, -1.0, 0.5], (50, 1)))
    res = avg.result()
    assert np.allclose(res.velocity[0], [3.0, -1.0, 0.5])
    assert res.temperature[0] == pytest.approx(0.0, abs=1e-12)
    assert np.allclose(res.stress, 0.0, atol=1e-12)


def test_virial_samples_average_separately_and_empty_slabs_report_zero() -> None:
    grid = SlabGrid(axis=0, lo=0.0, hi=3.0, n=3, cross_section=1.0)
    avg = SlabAverager(grid)
    pos = np.array([[0.5, 0, 0], [0.6, 0, 0], [2.5, 0, 0]])
    vel = np.zeros((3, 3))
    b = avg.add(pos, vel)
    avg.add(pos, vel)
    w = np.zeros((3, 6))
    w[:, 0] = [1.0, 2.0, 4.0]
    avg.add_virial(b, w)  # one virial sample for two velocity samples
    res = avg.result()
    assert res.virial_samples == 1 and res.samples == 2
    assert np.allclose(res.stress[:, 0], [3.0, 0.0, 4.0])
    assert res.counts.tolist() == [4, 0, 2]
    assert np.all(res.velocity[1] == 0) and res.temperature[1] == 0 and np.all(res.stress[1] == 0)
    state = avg.state()
    avg.reset()
    assert avg.result().counts.sum() == 0
    avg.set_state(state)
    assert np.allclose(avg.result().stress, res.stress)
