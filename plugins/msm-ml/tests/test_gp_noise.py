"""ml.gp with a stated output noise: the nugget follows it, and the posterior smooths instead of interpolating."""

from __future__ import annotations

import numpy as np
import pytest

import msmcore as msm

pytest.importorskip("sklearn")
from msm_ml.gp import GaussianProcess  # noqa: E402


def _noisy_line(n: int = 40, sigma: float = 0.1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = np.linspace(0.0, 1.0, n)[:, None]
    truth = 2.0 * x[:, 0] + 1.0
    return x, truth, truth + rng.normal(0.0, sigma, n)


def test_the_nugget_is_the_noise_over_the_outputs_std_squared():
    x, _, y = _noisy_line()
    gp = GaussianProcess(noise=0.1, restarts=0)
    gp.fit(x, y[:, None])
    assert gp.nugget() == pytest.approx((0.1 / np.std(y)) ** 2, rel=1e-12)
    assert gp.gp.alpha == pytest.approx(gp.nugget(), rel=1e-12)


def test_with_the_noise_stated_the_posterior_mean_smooths_the_noise_out():
    # GP regression with Gaussian noise of variance sigma^2 (Rasmussen & Williams 2006,
    # eqs. 2.22-2.24): the posterior mean of 40 samples of a straight line is far closer to
    # the line than the samples (error ~ sigma * sqrt(p/n) for p ~ 2 effective parameters:
    # ~0.02; bound 0.05; a fit that followed the samples would err by ~sigma = 0.1).
    x, truth, y = _noisy_line()
    smooth = GaussianProcess(noise=0.1, restarts=0)
    smooth.fit(x, y[:, None])
    mean, std = smooth.predict(x)
    assert np.sqrt(np.mean((mean[:, 0] - truth) ** 2)) < 0.05
    assert np.all(std[:, 0] < 0.1)  # below one sample's noise: n samples inform each point
    with pytest.raises(msm.ConfigurationError, match="noise=-1"):
        GaussianProcess(noise=-1.0)
