"""Acceleration of the fixed-point iterations of implicit coupling.

In each coupling window an implicit scheme iterates ``x_{k+1} = A(x_k, H(x_k))``,
where ``x`` is the coupled data (the concatenated values of the connections the
scheme iterates on, one *block* per connection) and ``H`` one pass of the
solvers. The accelerations:

* :class:`ConstantRelaxation` — ``x + ω (H(x) - x)``;
* :class:`Aitken` — ω adapted every iteration (Irons & Tuck 1969; Küttler & Wall 2008);
* :class:`IQNILS` — interface quasi-Newton with an inverse Jacobian from least
  squares (Degroote et al. 2009), reusing columns from earlier windows, with a
  QR filter against ill-conditioning (Haelterman et al. 2016), and each block
  pre-scaled by a :class:`Preconditioner` so that fields of very different
  magnitudes (a flux of 1e6 next to a temperature of 1) count alike in the
  least-squares problem, as preCICE does (Mehl, Uekermann et al. 2016,
  "Parallel coupling numerics for partitioned fluid-structure interaction
  simulations", Comput. Math. Appl. 71; preCICE's acceleration
  configuration: preconditioner types ``constant``, ``value``, ``residual``,
  ``residual-sum``).

The scheme calls :meth:`Acceleration.setup` once per run with the block layout,
:meth:`Acceleration.start_window` before a window's first iteration and
:meth:`Acceleration.end_window` once it converged.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from scipy.linalg import solve_triangular
from scipy.linalg.lapack import dtrtrs as trtrs

from msmcore.gram import BlockGram
from msmcore.preconditioner import (
    CarriedState,
    ConstantPreconditioner,
    NoPreconditioner,
    Preconditioner,
    ResidualPreconditioner,
    ResidualSumPreconditioner,
    ValuePreconditioner,
    block_layout,
    check_real,
    check_whole,
    make_preconditioner,
)

__all__ = [
    "IQNILS",
    "Acceleration",
    "Aitken",
    "ConstantPreconditioner",
    "ConstantRelaxation",
    "NoAcceleration",
    "NoPreconditioner",
    "Preconditioner",
    "ResidualPreconditioner",
    "ResidualSumPreconditioner",
    "ValuePreconditioner",
    "make_preconditioner",
]

logger = logging.getLogger(__name__)


# -- accelerations --------------------------------------------------------------------
class Acceleration(CarriedState, ABC):
    """Turns the current iterate ``x`` and the solvers' answer ``x_tilde`` into the next iterate.

    The scheme calls :meth:`setup` at the start of every run (an acceleration
    object may serve several runs: each starts afresh), then per window
    :meth:`start_window`, :meth:`next` once per iteration that did not
    converge, and :meth:`end_window`.
    """

    #: Offsets of the blocks in the coupled data (``len(names) + 1``), set by :meth:`setup`.
    bounds: np.ndarray = np.zeros(1, dtype=np.int64)
    #: The blocks' names, set by :meth:`setup`.
    names: Sequence[str] = ()
    #: Windows ended since :meth:`setup`.
    windows: int = 0
    #: The attributes that change during a run: what a checkpoint keeps.
    _run_state: ClassVar[tuple[str, ...]] = ("bounds", "names", "windows")

    def setup(self, sizes: Sequence[int], names: Sequence[str] | None = None) -> None:
        """A run begins: learn the block layout of the coupled data and forget every earlier run.

        Parameters
        ----------
        sizes
            Number of values in each block (one per coupled connection), in
            the order of the concatenated vector.
        names
            The blocks' names (the target ``"component.port"``), for messages
            and for per-field settings.
        """
        self.bounds, self.names = block_layout(sizes, names)
        self.windows = 0

    def start_window(self, sizes: Sequence[int] | None = None) -> None:
        """A new window begins (its first iteration follows).

        Parameters
        ----------
        sizes
            The block sizes, when they changed since the last window (dynamic
            ports); ``None`` keeps the layout.
        """
        if sizes is not None and list(np.diff(self.bounds)) != [int(s) for s in sizes]:
            self._relayout(sizes)

    def _relayout(self, sizes: Sequence[int]) -> None:
        """The block sizes changed (same blocks, in the same order)."""
        self.bounds, self.names = block_layout(sizes, self.names if len(self.names) == len(sizes) else None)

    def end_window(self) -> None:
        """The current window ended."""
        self.windows += 1

    @abstractmethod
    def next(self, x: np.ndarray, x_tilde: np.ndarray) -> np.ndarray:
        """Return the next iterate from ``x`` and ``x_tilde = H(x)``."""


class NoAcceleration(Acceleration):
    """Plain fixed-point iteration: ``x_{k+1} = H(x_k)``."""

    def next(self, x: np.ndarray, x_tilde: np.ndarray) -> np.ndarray:
        """``x_tilde`` itself (a copy)."""
        return x_tilde.copy()

    def __repr__(self) -> str:
        return "NoAcceleration()"


class ConstantRelaxation(Acceleration):
    """``x_{k+1} = x_k + ω (H(x_k) - x_k)`` with a fixed ``ω`` in (0, 1].

    Parameters
    ----------
    omega
        The relaxation factor, 0 < omega <= 1.
    """

    def __init__(self, omega: float = 0.5) -> None:
        self.omega = check_real(omega, "ConstantRelaxation(omega", 0.0, 1.0)

    def next(self, x: np.ndarray, x_tilde: np.ndarray) -> np.ndarray:
        """``x + ω (x_tilde - x)``."""
        return x + self.omega * (x_tilde - x)

    def __repr__(self) -> str:
        return f"ConstantRelaxation(omega={self.omega})"


class Aitken(Acceleration):
    """Aitken's dynamic under-relaxation.

    ``ω_k = -ω_{k-1} r_{k-1}·(r_k - r_{k-1}) / |r_k - r_{k-1}|²`` with residual
    ``r = H(x) - x``; each window starts from ``initial`` (preCICE's choice).

    Parameters
    ----------
    initial
        The relaxation factor of each window's first iteration, 0 < initial <= 1.
    """

    def __init__(self, initial: float = 0.5) -> None:
        self.initial = check_real(initial, "Aitken(initial", 0.0, 1.0)
        self.omega = self.initial
        self._previous: np.ndarray | None = None

    _run_state = (*Acceleration._run_state, "omega", "_previous")

    def setup(self, sizes: Sequence[int], names: Sequence[str] | None = None) -> None:
        super().setup(sizes, names)
        self.omega = self.initial
        self._previous = None

    def start_window(self, sizes: Sequence[int] | None = None) -> None:
        super().start_window(sizes)
        self.omega = self.initial
        self._previous = None

    def next(self, x: np.ndarray, x_tilde: np.ndarray) -> np.ndarray:
        """``x + ω r`` with ω from the last two residuals."""
        r = x_tilde - x
        if self._previous is not None and self._previous.shape == r.shape:
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

    With residuals ``r_k = H(x_k) - x_k``, the columns ``V = [r_k - r_{k-1}]``
    and ``W = [H(x_k) - H(x_{k-1})]`` (newest first, kept for ``reuse``
    earlier windows too), the update is ``x_{k+1} = H(x_k) + W α`` with
    ``α = argmin |P (V α + r_k)|``, where ``P`` weights each coupled field
    (:class:`Preconditioner`, preCICE's pre-scaling). The first iteration
    with no columns relaxes with ``initial``. Before each solve a QR filter
    (QR2) leaves out columns whose new orthogonal part is smaller than
    ``filter_limit`` times their norm, in the weighted norm (they stay
    stored, since the next solve's weights may differ; preCICE deletes
    them); all-zero columns, and columns of an earlier layout of the coupled
    data, are removed. Every column not used is counted in :attr:`dropped`
    and logged: a summary per window at INFO, a layout change at WARNING.

    Of the preconditioners, ``"value"`` and ``"residual"`` make the weighted
    least-squares problem exactly invariant to each field's units (their
    weights scale with the field); ``"residual-sum"`` (preCICE's default)
    balances the fields by their shares of the residual, summed over the
    window, which is robust but only roughly unit-invariant: once one field
    has converged, the other's share nears 1 and its weight with it.
    ``"residual"`` is fragile: a converged field's weight grows without bound.

    Parameters
    ----------
    initial
        Relaxation of the very first iteration, 0 < initial <= 1.
    reuse
        Number of earlier windows whose columns are kept (>= 0); windows that
        made no column (converged at once) do not count.
    filter_limit
        QR2 filter threshold ε, 0 < ε < 1.
    max_columns
        Upper bound on the number of columns kept (>= 1); the oldest go first.
    preconditioner
        ``"residual-sum"`` (default, as preCICE's), ``"residual"``,
        ``"value"``, ``"constant"`` (with ``scaling``), ``"none"``, or a
        :class:`Preconditioner`.
    scaling
        For ``preconditioner="constant"``: the typical magnitude of each
        coupled field, ``{"component.port": factor}``.
    freeze_after
        Stop updating the preconditioner's weights after this many windows.
    """

    def __init__(self, initial: float = 0.1, reuse: int = 8, filter_limit: float = 1e-2,
                 max_columns: int = 100, preconditioner: str | Preconditioner | None = "residual-sum",
                 scaling: Mapping[str, float] | Sequence[float] | None = None,
                 freeze_after: int | None = None) -> None:
        self.initial = check_real(initial, "IQNILS(initial", 0.0, 1.0)
        self.reuse = check_whole(reuse, "IQNILS(reuse", 0)
        self.filter_limit = check_real(filter_limit, "IQNILS(filter_limit", 0.0, 1.0, high_open=True)
        self.max_columns = check_whole(max_columns, "IQNILS(max_columns", 1)
        self.preconditioner = make_preconditioner(preconditioner, scaling, freeze_after)
        # Columns, newest first: (V column, W column, index of the window that made it).
        self._columns: list[tuple[np.ndarray, np.ndarray, int]] = []
        self._gram = BlockGram()  # the columns' products per block, kept between iterations
        self._last: tuple[np.ndarray, np.ndarray] | None = None  # (r, x_tilde) of the last iteration
        # Columns not used this run, by cause: "filtered" counts (column, solve) pairs the QR
        # filter left out; "zero", "layout" and "max_columns" (the oldest beyond it) count
        # columns removed for good.
        self.dropped = {"filtered": 0, "zero": 0, "layout": 0, "max_columns": 0}
        self._window_dropped = dict(self.dropped)

    _run_state = (*Acceleration._run_state, "_columns", "_last", "dropped", "_window_dropped")

    def checkpoint_state(self) -> dict[str, Any]:
        """The columns V and W (with the windows that made them), the last residual, counters, preconditioner."""
        gram = self._gram.of(self._columns)
        return {**super().checkpoint_state(), "preconditioner": self.preconditioner.checkpoint_state(),
                "gram": np.zeros((0, 0, 0)) if gram is None else gram}

    def restore_checkpoint_state(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`checkpoint_state`: the same columns, weights and counters."""
        super().restore_checkpoint_state(state)
        self._columns = [(np.asarray(v), np.asarray(w), int(k)) for v, w, k in self._columns]
        self.preconditioner.restore_checkpoint_state(state["preconditioner"])
        # The products as the run had them (computed once each, in their iteration's layout), so
        # the resumed solves repeat the uninterrupted run's bit for bit.
        self._gram.prime(self._columns, self.preconditioner.bounds, state.get("gram", np.zeros((0, 0, 0))))

    # -- the run's bookkeeping ---------------------------------------------------------
    def setup(self, sizes: Sequence[int], names: Sequence[str] | None = None) -> None:
        super().setup(sizes, names)
        self.preconditioner.setup(sizes, self.names)
        self._columns = []
        self._gram.clear()
        self._last = None
        self.dropped = dict.fromkeys(self.dropped, 0)
        self._window_dropped = dict(self.dropped)

    def _relayout(self, sizes: Sequence[int]) -> None:
        super()._relayout(sizes)
        self.preconditioner.setup(sizes, self.names)
        self._drop_misshaped(int(self.bounds[-1]))

    def start_window(self, sizes: Sequence[int] | None = None) -> None:
        super().start_window(sizes)
        self.preconditioner.start_window()
        self._last = None
        self._window_dropped = dict.fromkeys(self.dropped, 0)

    def end_window(self) -> None:
        """Age the columns: keep those of the last ``reuse`` windows that made any."""
        super().end_window()
        self.preconditioner.end_window()
        # The columns of the last ``reuse`` windows that made any (as preCICE counts: a
        # window that converged at its first iteration adds none and does not count).
        made = sorted({c[2] for c in self._columns}, reverse=True)[: self.reuse]
        self._columns = [c for c in self._columns if c[2] in made]
        if any(self._window_dropped.values()):
            logger.info("IQN-ILS window %d: columns not used: %d left out of a solve by the QR filter (limit %g), "
                        "%d all-zero or non-finite removed, %d of another layout removed, %d oldest beyond "
                        "max_columns=%d removed; %d stored", self.windows - 1, self._window_dropped["filtered"],
                        self.filter_limit, self._window_dropped["zero"], self._window_dropped["layout"],
                        self._window_dropped["max_columns"], self.max_columns, len(self._columns))

    def _drop(self, cause: str, count: int) -> None:
        self.dropped[cause] += count
        self._window_dropped[cause] += count

    def _trim(self) -> None:
        """Remove the oldest columns beyond ``max_columns``."""
        if len(self._columns) > self.max_columns:
            self._drop("max_columns", len(self._columns) - self.max_columns)
            del self._columns[self.max_columns:]

    def _drop_misshaped(self, size: int) -> None:
        bad = sum(1 for c in self._columns if c[0].shape != (size,))
        if bad:
            self._columns = [c for c in self._columns if c[0].shape == (size,)]
            self._drop("layout", bad)
            logger.warning("IQN-ILS: %d column(s) of an earlier layout dropped: the coupled data now hold %d "
                           "values", bad, size)

    # -- one iteration ------------------------------------------------------------------
    def next(self, x: np.ndarray, x_tilde: np.ndarray) -> np.ndarray:
        """``x_tilde + W α`` with ``α = argmin |P (V α + r)|``; relaxation by ``initial`` without columns."""
        r = x_tilde - x
        if self.preconditioner.bounds[-1] != r.shape[0] and not self.names:
            self.preconditioner.setup([r.shape[0]])  # used without setup(): one block
        self._drop_misshaped(r.shape[0])
        if self._last is not None and self._last[0].shape == r.shape:
            r_prev, xt_prev = self._last
            self._columns.insert(0, (r - r_prev, x_tilde - xt_prev, self.windows))
        self._last = (r, x_tilde.copy())
        self.preconditioner.update(x, x_tilde, r)
        self._trim()
        if not self._columns:
            return x + self.initial * r
        # Rows of V are its columns (newest first). The weighted Gram matrix comes from products
        # kept per block since the last iteration (only the new column's are computed: O(n k),
        # msmcore.gram); the filter and the solve are k x k work.
        pre = self.preconditioner
        V = np.array([c[0] for c in self._columns])
        keep, zero, R = self._filtered_cholesky(self._gram.weighted(self._columns, V, pre.bounds, pre.weights))
        f = pre.factors()
        Vk, Wt = V[keep] * f[None, :], np.array([self._columns[j][1] for j in keep])
        if zero:  # useless in any later solve too
            self._columns = [c for j, c in enumerate(self._columns) if j not in set(zero)]
        if not keep:
            return x + self.initial * r
        # alpha = argmin |Vk^T alpha - b|, b = -P r: the semi-normal equations R^T R alpha = Vk b,
        # corrected once with the residual of the first solution (Bjorck, Numerical Methods for
        # Least Squares Problems, 1996, sect. 6.6.5): as accurate as a QR solve at two more
        # matrix-vector products, where the plain normal equations would lose cond(V)^2 digits.
        b = -f * r
        alpha = self._seminormal(R, Vk @ b)
        alpha += self._seminormal(R, Vk @ (b - alpha @ Vk))
        return x_tilde + alpha @ Wt

    @staticmethod
    def _seminormal(R: np.ndarray, rhs: np.ndarray) -> np.ndarray:
        """``(R^T R)^-1 rhs`` by two triangular solves."""
        return solve_triangular(R, solve_triangular(R, rhs, trans="T", check_finite=False), check_finite=False)

    def _filtered_cholesky(self, G: np.ndarray) -> tuple[list[int], list[int], np.ndarray]:
        """QR2 filter, newest column first, on the Gram matrix ``G = (P V)^T (P V)``.

        Returns the kept and the all-zero columns' indices, and ``R``, the
        triangular factor of the kept columns (``V_kept = Q R``), the Cholesky
        factor of their part of ``G``: ``R[m, m]`` is the norm of the part of
        the m-th kept column orthogonal to the columns kept before it, the
        quantity the QR2 filter (Haelterman et al. 2016) compares with
        ``filter_limit`` times the column's norm. A column below it is left
        out of this solve and stays stored: the weights of the next solve may
        differ. An all-zero (or non-finite) column is reported for removal.
        (Working on ``G`` squares the condition number; the filter bounds it,
        and an approximate ``alpha`` changes the iterations' speed, never the
        fixed point they converge to.)
        """
        k = G.shape[0]
        diag = np.diagonal(G)
        keep: list[int] = []
        zero: list[int] = []
        R = np.zeros((k, k), order="F")
        limit2 = self.filter_limit ** 2
        filtered = 0
        for j in range(k):
            norm2 = float(diag[j])
            if not (norm2 > 0.0 and math.isfinite(norm2)):
                zero.append(j)
                continue
            m = len(keep)
            # R^T c = G[keep, j]: c holds column j's coordinates along the kept columns' orthonormal
            # basis, so |c|^2 is the square of its part in their span (LAPACK trtrs, no Python loop).
            c = trtrs(R[:m, :m], G[keep, j], lower=0, trans=1)[0] if m else np.zeros(0)
            rest2 = norm2 - float(c @ c)
            if not (rest2 >= limit2 * norm2):  # also for a non-finite rest
                filtered += 1
                continue
            keep.append(j)
            R[:m, m] = c
            R[m, m] = math.sqrt(rest2)
        if zero:
            self._drop("zero", len(zero))
            logger.debug("IQN-ILS: %d all-zero or non-finite column(s) removed", len(zero))
        if filtered:
            self._drop("filtered", filtered)
            logger.debug("IQN-ILS: the QR filter left out %d column(s) of %d in this solve", filtered, k)
        m = len(keep)
        return keep, zero, R[:m, :m].copy()

    def __repr__(self) -> str:
        return (f"IQNILS(initial={self.initial}, reuse={self.reuse}, filter_limit={self.filter_limit}, "
                f"preconditioner={self.preconditioner.kind!r})")
