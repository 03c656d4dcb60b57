"""Acceleration of the fixed-point iterations of implicit coupling.

In each coupling window an implicit scheme iterates ``x_{k+1} = A(x_k, H(x_k))``,
where ``x`` is the coupled data (the concatenated values of the connections the
scheme iterates on) and ``H`` one pass of the solvers. The accelerations:

* :class:`ConstantRelaxation` — ``x + ω (H(x) - x)``;
* :class:`Aitken` — ω adapted every iteration (Irons & Tuck 1969; Küttler & Wall 2008);
* :class:`IQNILS` — interface quasi-Newton with an inverse Jacobian from least
  squares (Degroote et al. 2009), reusing columns from earlier windows, with a
  QR filter against ill-conditioning (Haelterman et al. 2016), as preCICE does.

Each is told :meth:`Acceleration.start_window` before a window's first iteration
and :meth:`Acceleration.end_window` once it converged.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod

import numpy as np

from msmcore.errors import ConfigurationError

__all__ = ["Acceleration", "Aitken", "ConstantRelaxation", "IQNILS", "NoAcceleration"]

logger = logging.getLogger(__name__)


class Acceleration(ABC):
    """Turns the current iterate ``x`` and the solvers' answer ``x_tilde`` into the next iterate."""

    def start_window(self) -> None:
        """A new window begins (its first iteration follows)."""

    def end_window(self) -> None:
        """The current window converged."""

    @abstractmethod
    def next(self, x: np.ndarray, x_tilde: np.ndarray) -> np.ndarray:
        """Return the next iterate from ``x`` and ``x_tilde = H(x)``."""


class NoAcceleration(Acceleration):
    """Plain fixed-point iteration: ``x_{k+1} = H(x_k)``."""

    def next(self, x: np.ndarray, x_tilde: np.ndarray) -> np.ndarray:
        return x_tilde.copy()

    def __repr__(self) -> str:
        return "NoAcceleration()"


class ConstantRelaxation(Acceleration):
    """``x_{k+1} = x_k + ω (H(x_k) - x_k)`` with a fixed ``ω`` in (0, 1]."""

    def __init__(self, omega: float = 0.5) -> None:
        if not 0.0 < omega <= 1.0:
            raise ConfigurationError(f"constant relaxation needs 0 < omega <= 1, got {omega}")
        self.omega = float(omega)

    def next(self, x: np.ndarray, x_tilde: np.ndarray) -> np.ndarray:
        return x + self.omega * (x_tilde - x)

    def __repr__(self) -> str:
        return f"ConstantRelaxation(omega={self.omega})"


class Aitken(Acceleration):
    """Aitken's dynamic under-relaxation.

    ``ω_k = -ω_{k-1} r_{k-1}·(r_k - r_{k-1}) / |r_k - r_{k-1}|²`` with residual
    ``r = H(x) - x``; each window starts from ``initial`` (preCICE's choice).
    """

    def __init__(self, initial: float = 0.5) -> None:
        if not 0.0 < initial <= 1.0:
            raise ConfigurationError(f"Aitken needs 0 < initial <= 1, got {initial}")
        self.initial = float(initial)
        self.omega = self.initial
        self._previous: np.ndarray | None = None

    def start_window(self) -> None:
        self.omega = self.initial
        self._previous = None

    def next(self, x: np.ndarray, x_tilde: np.ndarray) -> np.ndarray:
        r = x_tilde - x
        if self._previous is not None:
            dr = r - self._previous
            denom = float(dr @ dr)
            if denom > 0.0:
                self.omega = -self.omega * float(self._previous @ dr) / denom
        self._previous = r
        return x + self.omega * r

    def __repr__(self) -> str:
        return f"Aitken(initial={self.initial})"


class IQNILS(Acceleration):
    """Interface quasi-Newton, inverse Jacobian by least squares (IQN-ILS).

    With residuals ``r_k = H(x_k) - x_k``, the columns ``V = [r_k - r_i]`` and
    ``W = [H(x_k) - H(x_i)]`` (newest first, kept for ``reuse`` earlier
    windows too), the update is ``x_{k+1} = H(x_k) + W α`` with
    ``α = argmin |V α + r_k|``. The first iteration with no columns relaxes with
    ``initial``. Before each solve a QR filter (QR2) drops columns whose new
    orthogonal part is smaller than ``filter_limit`` times their norm.

    Parameters
    ----------
    initial
        Relaxation of the very first iteration.
    reuse
        Number of earlier windows whose columns are kept.
    filter_limit
        QR2 filter threshold ε.
    max_columns
        Upper bound on the number of columns kept.
    """

    def __init__(self, initial: float = 0.1, reuse: int = 8, filter_limit: float = 1e-2,
                 max_columns: int = 100) -> None:
        if not 0.0 < initial <= 1.0:
            raise ConfigurationError(f"IQN-ILS needs 0 < initial <= 1, got {initial}")
        self.initial = float(initial)
        self.reuse = int(reuse)
        self.filter_limit = float(filter_limit)
        self.max_columns = int(max_columns)
        self._old: list[tuple[np.ndarray, np.ndarray]] = []   # columns of earlier windows
        self._window: list[tuple[np.ndarray, np.ndarray]] = []  # columns of this window
        self._windows_kept: list[int] = []                      # column counts per earlier window
        self._last: tuple[np.ndarray, np.ndarray] | None = None  # (r, x_tilde) of the last iteration

    def start_window(self) -> None:
        self._window = []
        self._last = None

    def end_window(self) -> None:
        if self.reuse > 0 and self._window:
            self._old = self._window + self._old
            self._windows_kept.insert(0, len(self._window))
            while len(self._windows_kept) > self.reuse:
                drop = self._windows_kept.pop()
                self._old = self._old[:-drop]
        self._window = []

    def next(self, x: np.ndarray, x_tilde: np.ndarray) -> np.ndarray:
        r = x_tilde - x
        if self._last is not None:
            r_prev, xt_prev = self._last
            self._window.insert(0, (r - r_prev, x_tilde - xt_prev))
        self._last = (r, x_tilde.copy())
        columns = (self._window + self._old)[: self.max_columns]
        columns = [c for c in columns if c[0].shape == r.shape]
        if not columns:
            return x + self.initial * r
        V = np.column_stack([c[0] for c in columns])
        W = np.column_stack([c[1] for c in columns])
        V, W, Q, R = self._filtered_qr(V, W)
        if V.shape[1] == 0:
            return x + self.initial * r
        alpha = np.linalg.solve(R, -(Q.T @ r))
        return x_tilde + W @ alpha

    def _filtered_qr(self, V: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, ...]:
        """QR2 filter: drop, newest first kept, columns that add too little new direction."""
        keep: list[int] = []
        q_cols: list[np.ndarray] = []
        for j in range(V.shape[1]):
            v = V[:, j].copy()
            norm = np.linalg.norm(v)
            if norm == 0.0:
                continue
            for q in q_cols:  # modified Gram-Schmidt, twice for stability
                v -= (q @ v) * q
            for q in q_cols:
                v -= (q @ v) * q
            if np.linalg.norm(v) < self.filter_limit * norm:
                logger.debug("IQN-ILS: QR filter dropped column %d", j)
                continue
            keep.append(j)
            q_cols.append(v / np.linalg.norm(v))
        V, W = V[:, keep], W[:, keep]
        if not keep:
            return V, W, np.zeros((V.shape[0], 0)), np.zeros((0, 0))
        Q, R = np.linalg.qr(V)
        return V, W, Q, R

    def __repr__(self) -> str:
        return f"IQNILS(initial={self.initial}, reuse={self.reuse}, filter_limit={self.filter_limit})"
