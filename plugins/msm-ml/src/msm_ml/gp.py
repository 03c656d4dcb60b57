"""``ml.gp``: a scikit-learn Gaussian process regressor as a surrogate model.

Kernel ``C * Matern(nu=2.5, ARD length scales)`` on inputs scaled to [0, 1] (training min/max),
outputs standardised (``normalize_y``), a small nugget ``alpha`` on the diagonal (the
micro model is deterministic), hyperparameters by maximum marginal likelihood with
``restarts`` seeded restarts at the first fit; later fits start from the previous
hyperparameters (warm start, no restarts) and re-optimise them only once the training
set has grown by ``reoptimize_growth`` (otherwise the posterior alone is updated)
(Rasmussen & Williams 2006, ch. 2, 4.2 and 5: the Matérn 5/2 kernel, less over-confident
than the RBF kernel on closures with a sharp feature, e.g. a rate law's knee). Several
outputs share the kernel; the standard deviation is given per output.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern

import msmcore as msm
from msm_ml.scaling import Scaling

__all__ = ["GaussianProcess"]


class GaussianProcess:
    """Gaussian process surrogate (fit / predict with std / save_state / restore_state).

    Parameters
    ----------
    seed
        Seeds the optimizer's restarts.
    restarts
        Extra optimizer starts from random hyperparameters.
    alpha
        Nugget added to the kernel's diagonal (normalised output units squared).
    noise
        If set: the standard deviation of the training outputs' noise, in output units (a
        noisy micro model, e.g. molecular dynamics); replaces ``alpha`` by
        ``(noise / std(Y))**2`` at every fit, so the nugget follows the data's scale (with
        several outputs, the largest ratio). The posterior then smooths at that noise level
        instead of interpolating it (Rasmussen & Williams 2006, sec. 2.2).
    length_scale_bounds
        Bounds of the RBF length scales in normalised input units.
    nu
        Smoothness of the Matérn kernel (2.5: twice differentiable; ``inf`` is the RBF kernel).
    reoptimize_growth
        Hyperparameters are re-optimised when the training set has grown by this factor
        since they last were (and at the first fit); in between, a fit only updates the
        posterior with the current hyperparameters (one Cholesky factorisation).
    """

    def __init__(self, *, seed: int = 0, restarts: int = 2, alpha: float = 1e-8,
                 length_scale_bounds: tuple[float, float] = (1e-3, 1e3), nu: float = 2.5,
                 reoptimize_growth: float = 2.0, noise: float | None = None) -> None:
        self.seed, self.restarts, self.alpha = int(seed), int(restarts), float(alpha)
        if noise is not None and not noise > 0.0:
            raise msm.ConfigurationError(f"surrogate ml.gp: model option noise={noise!r} must be a positive "
                                         "standard deviation (output units) or None")
        self.noise = None if noise is None else float(noise)
        self.reoptimize_growth, self.nu = float(reoptimize_growth), float(nu)
        self.optimized_at = 0  # training-set size when the hyperparameters were last optimised
        self.length_scale_bounds = tuple(float(b) for b in length_scale_bounds)
        self.gp: GaussianProcessRegressor | None = None
        self.x_scaling: Scaling | None = None
        self.X = self.Y = np.zeros((0, 0))

    def _kernel(self, d: int) -> Any:
        return ConstantKernel(1.0, (1e-4, 1e4)) * Matern(np.full(d, 0.3), self.length_scale_bounds, nu=self.nu)

    def _regressor(self, kernel: Any, optimize: bool, restarts: int = 0) -> GaussianProcessRegressor:
        return GaussianProcessRegressor(kernel=kernel, alpha=self.nugget(), normalize_y=True,
                                        n_restarts_optimizer=restarts,
                                        optimizer="fmin_l_bfgs_b" if optimize else None,
                                        random_state=self.seed)

    def nugget(self) -> float:
        """The diagonal nugget for the current training outputs (``alpha``, or from ``noise``)."""
        if self.noise is None or self.Y.size == 0:
            return self.alpha
        std = np.std(self.Y.reshape(len(self.Y), -1), axis=0)
        std = np.where(std > 0.0, std, 1.0)  # as normalize_y treats a constant output
        return float(np.max((self.noise / std) ** 2))

    def fit(self, X: np.ndarray, Y: np.ndarray) -> None:
        """Fit hyperparameters and the posterior on ``(X, Y)``."""
        self.X, self.Y = np.array(X, dtype=float), np.array(Y, dtype=float)
        self.x_scaling = Scaling.fit(self.X)
        warm = self.gp is not None and self.gp.kernel_.n_dims == self._kernel(self.X.shape[1]).n_dims
        kernel = self.gp.kernel_ if warm and self.gp is not None else self._kernel(self.X.shape[1])
        optimize = not warm or len(self.X) >= self.reoptimize_growth * self.optimized_at
        if optimize:
            self.optimized_at = len(self.X)
        self.gp = self._regressor(kernel, optimize=optimize, restarts=0 if warm else self.restarts)
        with warnings.catch_warnings():  # a bound reached (e.g. a nearly linear closure) is not an error here
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.gp.fit(self.x_scaling.forward(self.X), self.Y)

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation, ``(n, d_out)`` each."""
        if self.gp is None or self.x_scaling is None:
            raise RuntimeError("GaussianProcess.predict() before fit()")
        mean, std = self.gp.predict(self.x_scaling.forward(X), return_std=True)
        n = np.asarray(X).shape[0]
        return np.asarray(mean).reshape(n, -1), np.asarray(std).reshape(n, -1)

    def save_state(self) -> dict[str, Any]:
        """Training data and the fitted kernel's log-hyperparameters (enough to rebuild the posterior)."""
        if self.gp is None:
            return {"fitted": False}
        return {"fitted": True, "X": self.X.copy(), "Y": self.Y.copy(), "optimized_at": self.optimized_at,
                "theta": np.asarray(self.gp.kernel_.theta, dtype=float).copy()}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Rebuild the posterior with the saved hyperparameters (no optimisation: the same numbers)."""
        if not state.get("fitted"):
            self.gp = None
            return
        self.X, self.Y = np.array(state["X"]), np.array(state["Y"])
        self.optimized_at = int(state["optimized_at"])
        self.x_scaling = Scaling.fit(self.X)
        kernel = self._kernel(self.X.shape[1]).clone_with_theta(np.asarray(state["theta"]))
        self.gp = self._regressor(kernel, optimize=False)
        self.gp.fit(self.x_scaling.forward(self.X), self.Y)
