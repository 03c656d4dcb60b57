"""Pre-scaling of the coupled data for quasi-Newton acceleration, as preCICE does.

The coupled data of an implicit scheme are the concatenated values of its
coupled connections, one *block* per connection. Fields of very different
magnitudes (a flux of 1e6 next to a temperature of 1) would make IQN-ILS's
least-squares problem see only the largest; a :class:`Preconditioner` weights
each block first (Mehl, Uekermann et al. 2016, "Parallel coupling numerics for
partitioned fluid-structure interaction simulations", Comput. Math. Appl. 71;
preCICE's acceleration configuration: preconditioner types ``constant``,
``value``, ``residual`` and ``residual-sum``, the default).
"""

from __future__ import annotations

import copy
import logging
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from msmcore.errors import ConfigurationError, CouplingError

__all__ = [
    "CarriedState",
    "ConstantPreconditioner",
    "NoPreconditioner",
    "Preconditioner",
    "ResidualPreconditioner",
    "ResidualSumPreconditioner",
    "ValuePreconditioner",
    "make_preconditioner",
]

logger = logging.getLogger(__name__)


# -- argument checks ------------------------------------------------------------------
def check_real(value: object, what: str, low: float, high: float, *, low_open: bool = True,
               high_open: bool = False) -> float:
    """``value`` as a finite float in the interval from ``low`` to ``high``, or a ConfigurationError.

    Parameters
    ----------
    value
        What the user gave; bools, strings, NaN and infinities are refused.
    what
        The argument as the message names it, without ``=...)``: ``"IQNILS(reuse"``.
    low, high
        The interval's ends; ``high = inf`` for no upper bound.
    low_open, high_open
        Whether the ends themselves are excluded.
    """
    lo, hi = "<" if low_open else "<=", "<" if high_open else "<="
    name = what.split("(")[-1]
    if math.isinf(high):
        need = f"a finite number {'>' if low_open else '>='} {low:g}"
    else:
        need = f"a finite number with {low:g} {lo} {name} {hi} {high:g}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigurationError(f"{what}=...) must be {need}, got {value!r}")
    v = float(value)
    inside = (low < v if low_open else low <= v) and (v < high if high_open else v <= high)
    if not math.isfinite(v) or not inside:
        raise ConfigurationError(f"{what}=...) must be {need}, got {value!r}")
    return v


def check_whole(value: object, what: str, minimum: int) -> int:
    """``value`` as an int >= ``minimum`` (bools and non-integral numbers refused), or a ConfigurationError.

    Parameters
    ----------
    value
        What the user gave.
    what
        The argument as the message names it, without ``=...)``: ``"IQNILS(reuse"``.
    minimum
        The smallest value allowed.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigurationError(f"{what}=...) must be a whole number >= {minimum}, got {value!r}")
    if int(value) < minimum:
        raise ConfigurationError(f"{what}=...) must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def block_layout(sizes: Sequence[int], names: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
    """Block bounds (``len(sizes) + 1`` offsets) and names from a layout, checked.

    Parameters
    ----------
    sizes
        Number of values in each block.
    names
        The blocks' names; ``None`` names them ``"block 0"``, ``"block 1"``, ...
    """
    sizes = [int(s) for s in sizes]
    if any(s < 0 for s in sizes):
        raise CouplingError(f"acceleration layout: block sizes must be >= 0, got {sizes}")
    labels = [str(n) for n in names] if names is not None else [f"block {i}" for i in range(len(sizes))]
    if len(labels) != len(sizes):
        raise CouplingError(f"acceleration layout: {len(sizes)} block sizes but {len(labels)} names ({labels})")
    return np.cumsum([0, *sizes]), labels


# -- preconditioners ------------------------------------------------------------------
class CarriedState:
    """The checkpoint pair of an object whose run state is the attributes named in ``_run_state``.

    Accelerations and preconditioners carry such state from window to window
    (weights, columns, counters); a checkpoint keeps deep copies of it.
    """

    #: The attributes that change during a run: what a checkpoint keeps.
    _run_state: ClassVar[tuple[str, ...]] = ()

    def checkpoint_state(self) -> dict[str, Any]:
        """Copies of the run-state attributes, for a checkpoint."""
        return {n: copy.deepcopy(getattr(self, n)) for n in self._run_state}

    def restore_checkpoint_state(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`checkpoint_state`."""
        for n in self._run_state:
            value = copy.deepcopy(state[n])
            setattr(self, n, list(value) if n == "names" else value)


class Preconditioner(CarriedState):
    """Weights per block of the coupled data, applied before IQN-ILS's least-squares problem.

    A block is the data of one coupled connection. The weighted residual
    ``P r`` (each block multiplied by its weight) replaces ``r`` in the
    least-squares problem and the QR filter, so no block dominates merely by
    its units. Subclasses compute the weights in :meth:`_update`.

    Parameters
    ----------
    freeze_after
        Stop updating the weights after this many windows (preCICE's
        ``freeze-after``); ``None`` never freezes.
    """

    kind = "none"

    def __init__(self, freeze_after: int | None = None) -> None:
        self.freeze_after = (None if freeze_after is None
                             else check_whole(freeze_after, "Preconditioner(freeze_after", 0))
        self.bounds = np.zeros(1, dtype=np.int64)
        self.names: list[str] = []
        self.weights = np.ones(0)
        self._windows = 0
        self._first = True

    #: The attributes that change during a run: what a checkpoint keeps.
    _run_state: ClassVar[tuple[str, ...]] = ("bounds", "names", "weights", "_windows", "_first")

    def setup(self, sizes: Sequence[int], names: Sequence[str] | None = None) -> None:
        """Learn the block layout and start from weights 1.

        Parameters
        ----------
        sizes
            Number of values in each block, in the order of the concatenated vector.
        names
            The blocks' names (the target ``"component.port"``), for messages.
        """
        self.bounds, self.names = block_layout(sizes, names)
        self.weights = np.ones(len(self.names))
        self._windows = 0
        self._first = True

    @property
    def frozen(self) -> bool:
        """Whether the weights no longer change."""
        return self.freeze_after is not None and self._windows >= self.freeze_after

    def start_window(self) -> None:
        """A window begins: its first iteration follows."""
        self._first = True

    def end_window(self) -> None:
        """A window ended."""
        self._windows += 1

    def update(self, x: np.ndarray, x_tilde: np.ndarray, r: np.ndarray) -> None:
        """Recompute the weights from this iteration's ``x``, ``x_tilde = H(x)`` and ``r = x_tilde - x``."""
        if x.shape[0] != self.bounds[-1]:
            raise CouplingError(f"{self.kind} preconditioner: coupled data of size {x.shape[0]}, but the layout "
                                f"({', '.join(self.names) or 'no blocks'}) holds {self.bounds[-1]} values; "
                                "the scheme must call setup/start_window(sizes=...) after a layout change")
        if not self.frozen:
            self._update(x, x_tilde, r)
        self._first = False

    def _update(self, x: np.ndarray, x_tilde: np.ndarray, r: np.ndarray) -> None:
        """Set :attr:`weights`. The base class keeps them at 1."""

    def norms(self, v: np.ndarray) -> np.ndarray:
        """Euclidean norm of each block of ``v``."""
        return np.array([float(np.linalg.norm(v[a:b])) for a, b in zip(self.bounds[:-1], self.bounds[1:],
                                                                          strict=True)])

    def _set_inverse(self, scale: np.ndarray, what: str) -> None:
        """Weights ``1 / scale`` where the scale is positive; elsewhere the old weight is kept (logged)."""
        for i, s in enumerate(scale):
            if s > 0.0 and math.isfinite(s):
                self.weights[i] = 1.0 / s
            else:
                logger.debug("%s preconditioner: %s of %s is %g; its weight stays %g",
                             self.kind, what, self.names[i], s, self.weights[i])

    def factors(self) -> np.ndarray:
        """The diagonal of ``P``: each value's block weight."""
        return np.repeat(self.weights, np.diff(self.bounds))

    def apply(self, v: np.ndarray) -> np.ndarray:
        """``P v``: each block (rows, for a matrix) multiplied by its weight; a new array."""
        factors = self.factors()
        return v * (factors[:, None] if v.ndim == 2 else factors)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class NoPreconditioner(Preconditioner):
    """Every weight 1: the least-squares problem in the data's own units."""


class ConstantPreconditioner(Preconditioner):
    """Fixed weights ``1 / factor`` per block (preCICE's ``constant``: the ``scaling`` of each data).

    Parameters
    ----------
    scaling
        Typical magnitude of each block: a mapping from the target
        ``"component.port"`` to a positive number (blocks not named keep 1),
        or a sequence with one number per block in the scheme's order.
    """

    kind = "constant"

    def __init__(self, scaling: Mapping[str, float] | Sequence[float]) -> None:
        super().__init__()
        if isinstance(scaling, Mapping):
            self.scaling: dict[str, float] | list[float] = {
                str(k): check_real(v, f"ConstantPreconditioner(scaling['{k}']", 0.0, math.inf)
                for k, v in scaling.items()}
        elif isinstance(scaling, Sequence) and not isinstance(scaling, str):
            self.scaling = [check_real(v, f"ConstantPreconditioner(scaling[{i}]", 0.0, math.inf)
                            for i, v in enumerate(scaling)]
        else:
            raise ConfigurationError("ConstantPreconditioner(scaling=...) must map 'component.port' to a positive "
                                     f"number, or list one per coupled connection, got {scaling!r}")

    def setup(self, sizes: Sequence[int], names: Sequence[str] | None = None) -> None:
        super().setup(sizes, names)
        if isinstance(self.scaling, dict):
            unknown = sorted(set(self.scaling) - set(self.names))
            if unknown:
                raise ConfigurationError(f"constant preconditioner: scaling names {unknown}, which are not coupled "
                                         f"data of this scheme ({self.names})")
            factors = np.array([self.scaling.get(n, 1.0) for n in self.names])
        else:
            if len(self.scaling) != len(self.names):
                raise ConfigurationError(f"constant preconditioner: {len(self.scaling)} scaling factors for "
                                         f"{len(self.names)} coupled connections ({self.names})")
            factors = np.array(self.scaling)
        self.weights = 1.0 / factors

    def __repr__(self) -> str:
        return f"ConstantPreconditioner({self.scaling!r})"


class ValuePreconditioner(Preconditioner):
    """Weights ``1 / |H(x)_i|`` from the first iteration of each window (preCICE's ``value``)."""

    kind = "value"

    def _update(self, x: np.ndarray, x_tilde: np.ndarray, r: np.ndarray) -> None:
        if self._first:
            self._set_inverse(self.norms(x_tilde), "|H(x)|")


class ResidualPreconditioner(Preconditioner):
    """Weights ``1 / |r_i|`` from the current residual, every iteration (preCICE's ``residual``)."""

    kind = "residual"

    def _update(self, x: np.ndarray, x_tilde: np.ndarray, r: np.ndarray) -> None:
        self._set_inverse(self.norms(r), "|r|")


class ResidualSumPreconditioner(Preconditioner):
    """Weights ``1 / Σ_k |r_i^k| / |r^k|`` summed over the window's iterations (preCICE's ``residual-sum``).

    Each iteration adds every block's share of the whole residual; the sums
    restart with each window. A block whose residual is 1e6 times another's
    gets a weight 1e6 times smaller, so both count alike.

    Parameters
    ----------
    freeze_after
        Stop updating the weights after this many windows; ``None`` never.
    update_on_threshold
        Change the weights only when one of them would change by more than a
        factor 10 (preCICE's ``update-on-threshold``, which spares it a new QR
        decomposition; here the QR is computed afresh every iteration anyway).
    """

    kind = "residual-sum"

    def __init__(self, freeze_after: int | None = None, update_on_threshold: bool = False) -> None:
        super().__init__(freeze_after)
        if not isinstance(update_on_threshold, bool):
            raise ConfigurationError("ResidualSumPreconditioner(update_on_threshold=...) must be True or False, "
                                     f"got {update_on_threshold!r}")
        self.update_on_threshold = update_on_threshold
        self._sums = np.zeros(0)

    _run_state = (*Preconditioner._run_state, "_sums")

    def setup(self, sizes: Sequence[int], names: Sequence[str] | None = None) -> None:
        super().setup(sizes, names)
        self._sums = np.zeros(len(self.names))

    def _update(self, x: np.ndarray, x_tilde: np.ndarray, r: np.ndarray) -> None:
        if self._first:
            self._sums[:] = 0.0
        norms = self.norms(r)
        total = float(np.sqrt(np.sum(norms**2)))
        if total == 0.0:
            logger.debug("residual-sum preconditioner: the whole residual is zero; weights unchanged")
            return
        self._sums += norms / total
        if self.update_on_threshold:
            usable = self._sums > 0.0
            change = self.weights[usable] * self._sums[usable]  # old weight / new weight
            if change.size and np.all((change > 0.1) & (change < 10.0)):
                return  # no weight changes by an order of magnitude: keep them (and the QR)
        self._set_inverse(self._sums, "the residual sum")


_PRECONDITIONERS: dict[str, type[Preconditioner]] = {
    "none": NoPreconditioner,
    "value": ValuePreconditioner,
    "residual": ResidualPreconditioner,
    "residual-sum": ResidualSumPreconditioner,
}


def make_preconditioner(kind: str | Preconditioner | None, scaling: Mapping[str, float] | Sequence[float] | None = None,
                        freeze_after: int | None = None) -> Preconditioner:
    """A :class:`Preconditioner` from its preCICE name, or the given instance.

    Parameters
    ----------
    kind
        ``"residual-sum"``, ``"residual"``, ``"value"``, ``"constant"`` (needs
        ``scaling``), ``"none"`` (or ``None``), or a :class:`Preconditioner`.
    scaling
        The constant preconditioner's factors (see :class:`ConstantPreconditioner`).
    freeze_after
        Windows after which the weights stay fixed; ``None`` never.
    """
    if isinstance(kind, Preconditioner):
        if scaling is not None or freeze_after is not None:
            raise ConfigurationError("give scaling/freeze_after to the Preconditioner object itself, not beside it")
        return kind
    if kind is None:
        kind = "none"
    if not isinstance(kind, str) or (kind not in _PRECONDITIONERS and kind != "constant"):
        raise ConfigurationError(f"IQNILS(preconditioner=...) must be one of "
                                 f"{sorted([*_PRECONDITIONERS, 'constant'])} or a Preconditioner, got {kind!r}")
    if kind == "constant":
        if scaling is None:
            raise ConfigurationError("IQNILS(preconditioner='constant') needs scaling=..., e.g. "
                                     "{'right.flux_in': 1e6} (the typical magnitude of each coupled field)")
        pre: Preconditioner = ConstantPreconditioner(scaling)
        if freeze_after is not None:
            check_whole(freeze_after, "IQNILS(freeze_after", 0)  # constant weights never change anyway
        return pre
    if scaling is not None:
        raise ConfigurationError(f"IQNILS(scaling=...) is for preconditioner='constant', not {kind!r}")
    return _PRECONDITIONERS[kind](freeze_after)
