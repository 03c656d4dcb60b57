"""What every coupling scheme provides, and the windows it steps through."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from msmcore.errors import ConfigurationError, CouplingError
from msmcore.timeline import window_ends

if TYPE_CHECKING:
    from msmcore.coupling import Coupling
    from msmcore.runner import Runner

__all__ = ["Scheme", "check_order", "check_window", "default_window", "fixed_steps", "window_ends"]


class Scheme(ABC):
    """How time advances in a coupling.

    A scheme checks in :meth:`validate` that it can run a coupling's graph
    (before the first step), and in :meth:`run` drives a
    :class:`~msmcore.runner.Runner` through its verbs ``deliver``, ``advance``
    and ``sync``.
    """

    #: Whether the scheme saves and restores component states (repeated
    #: windows); then every component must declare its state.
    needs_state: ClassVar[bool] = False

    @abstractmethod
    def validate(self, coupling: Coupling) -> None:
        """Raise :class:`~msmcore.errors.CouplingError` if this scheme cannot run ``coupling``."""

    @abstractmethod
    def run(self, runner: Runner) -> None:
        """Advance every component from ``runner.start`` to ``runner.until``."""

    def window_length(self, coupling: Coupling) -> float:
        """The coupling window this scheme steps with (its longest window)."""
        return default_window(coupling)

    def checkpoint_state(self) -> Any:
        """What the scheme carries from one window to the next, for a checkpoint (at a window's end).

        Explicit schemes carry nothing (``{}``); an implicit one its iterate
        and its acceleration's history. The value must be storable by
        :mod:`msmcore.state_codec` (nested containers of arrays and scalars).
        """
        return {}

    def restore_checkpoint_state(self, state: Any) -> None:
        """Continue from :meth:`checkpoint_state` (called before the first window of a resumed run)."""
        if state:
            raise CouplingError(f"{type(self).__name__} keeps no state between windows, but the snapshot holds "
                                f"{sorted(state) if isinstance(state, dict) else type(state).__name__} for it; "
                                "resume with the scheme that wrote the snapshot")


def check_window(value: Any, what: str = "window", *, optional: bool = True) -> float | None:
    """A scheme's window-like argument as a positive finite float (``None`` stays ``None`` if optional)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigurationError(f"{what} must be a positive finite number (simulation time), got {value!r}")
    return float(value)


def fixed_steps(coupling: Coupling) -> dict[str, float]:
    """The fixed time step of each component that has one (``time_step()`` not ``None``).

    Raises
    ------
    CouplingError
        Naming the component, when its ``time_step()`` fails.
    """
    steps = {}
    for name, comp in coupling.components.items():
        try:
            dt = comp.time_step()
        except Exception as exc:  # noqa: BLE001 - reported with the component's name
            raise CouplingError(f"component '{name}': time_step() failed: {type(exc).__name__}: {exc}",
                                component=name) from exc
        if dt is not None:
            steps[name] = float(dt)
    return steps


def default_window(coupling: Coupling) -> float:
    """The largest fixed time step of the coupling's components (those that have one).

    Raises
    ------
    CouplingError
        No component has a fixed step; or, naming the component, when its
        ``time_step()`` fails.
    """
    steps = list(fixed_steps(coupling).values())
    if not steps:
        raise CouplingError("no coupling window given and no component has a fixed time step ('dt'); "
                            "pass window=...")
    return max(steps)


def check_order(order: Any, what: str) -> list[str] | None:
    """A scheme's ``order=`` argument as a list of component names (``None`` stays ``None``)."""
    if order is None:
        return None
    if not isinstance(order, (list, tuple)) or not all(isinstance(n, str) for n in order):
        raise ConfigurationError(f"{what} must be a list of component names, got {order!r}")
    return list(order)
