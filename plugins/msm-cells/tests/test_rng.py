"""The counter-based random numbers: uniform, independent of order, distinct streams."""

from __future__ import annotations

import numpy as np
from msm_cells import rng
from scipy import stats


def test_uniform_passes_ks_and_is_order_free():
    ids = np.arange(200_000, dtype=np.int64)
    u = rng.uniform(7, ids, 3, rng.STREAM_DIVIDE)
    # Kolmogorov-Smirnov against U(0,1): p-value above 1e-4 (fails by chance once in 10^4 runs; fixed seed)
    assert stats.kstest(u, "uniform").pvalue > 1e-4
    perm = np.random.default_rng(0).permutation(len(ids))
    np.testing.assert_array_equal(rng.uniform(7, ids[perm], 3, rng.STREAM_DIVIDE), u[perm])
    other = rng.uniform(7, ids, 3, rng.STREAM_APOPTOSIS)
    later = rng.uniform(7, ids, 4, rng.STREAM_DIVIDE)
    seeded = rng.uniform(8, ids, 3, rng.STREAM_DIVIDE)
    # correlations between streams, steps and seeds: |rho| < 5/sqrt(n) (5 standard errors)
    for w in (other, later, seeded):
        assert abs(np.corrcoef(u, w)[0, 1]) < 5 / np.sqrt(len(ids))


def test_unit_vectors_are_isotropic():
    ids = np.arange(100_000, dtype=np.int64)
    for dim in (2, 3):
        e = rng.unit_vectors(1, ids, 0, dim)
        np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, rtol=1e-12)
        # isotropy: mean 0 and second moment I/dim, within 5 standard errors (sd of e_k^2 <= 1/sqrt(n)... )
        assert np.abs(e.mean(axis=0)).max() < 5 / np.sqrt(len(ids))
        np.testing.assert_allclose((e**2).mean(axis=0), 1.0 / dim, atol=5 / np.sqrt(len(ids)))
