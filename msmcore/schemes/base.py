"""What every coupling scheme provides, and the windows it steps through."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from msmcore.errors import ConfigurationError

if TYPE_CHECKING:
    from msmcore.coupling import Coupling
    from msmcore.runner import Runner

__all__ = ["Scheme", "window_ends"]


class Scheme(ABC):
    """How time advances in a coupling.

    A scheme checks in :meth:`validate` that it can run a coupling's graph
    (before the first step), and in :meth:`run` drives a
    :class:`~msmcore.runner.Runner` through its verbs ``deliver``, ``advance``
    and ``sync``.
    """

    @abstractmethod
    def validate(self, coupling: Coupling) -> None:
        """Raise :class:`~msmcore.errors.CouplingError` if this scheme cannot run ``coupling``."""

    @abstractmethod
    def run(self, runner: Runner) -> None:
        """Advance every component from ``runner.start`` to ``runner.until``."""


def window_ends(start: float, until: float, window: float) -> list[float]:
    """End times of the coupling windows from ``start`` to ``until``.

    When the span is an integer multiple of ``window`` up to round-off, the
    ends are ``start + i * window`` (computed, not accumulated) with the last one
    exactly ``until``; otherwise the last window is shorter.
    """
    if not window > 0:
        raise ConfigurationError(f"the coupling window must be positive, got {window}")
    ratio = (until - start) / window
    n = round(ratio)
    if n >= 1 and abs(ratio - n) <= 1e-9 * max(1.0, ratio):
        ends = [start + i * window for i in range(1, n)]
    else:
        n = math.ceil(ratio)
        ends = [start + i * window for i in range(1, n)]
    return [*ends, until]
