"""Affine normalisation of a model's inputs and outputs, fitted on the training set."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Scaling"]


@dataclass
class Scaling:
    """``z = (x - shift) / scale`` per column; a constant column keeps scale 1."""

    shift: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray, *, standardize: bool = False) -> Scaling:
        """Min/max to [0, 1] (inputs), or mean/std (``standardize``, outputs)."""
        X = np.asarray(X, dtype=float)
        if standardize:
            shift, scale = X.mean(axis=0), X.std(axis=0)
        else:
            shift, scale = X.min(axis=0), np.ptp(X, axis=0)
        return cls(shift, np.where(scale > 0, scale, 1.0))

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Normalised values."""
        return (np.asarray(X, dtype=float) - self.shift) / self.scale

    def backward(self, Z: np.ndarray) -> np.ndarray:
        """Values in the original units."""
        return np.asarray(Z) * self.scale + self.shift
