"""Macro–micro coupling (MUSCLE3's pattern): a micro model run to completion per macro step."""

from __future__ import annotations

from typing import TYPE_CHECKING

from msmcore.errors import ConfigurationError, CouplingError
from msmcore.schemes.base import Scheme, check_window

if TYPE_CHECKING:
    from msmcore.coupling import Coupling
    from msmcore.runner import Runner

__all__ = ["MacroMicro"]


class MacroMicro(Scheme):
    """At each macro step, start the micro model from the macro state and run it over its horizon.

    Each macro step from ``t`` to ``t + window``: the macro's outputs are
    delivered to the micro, whose clock is reset to ``t``; the micro advances to
    ``t + horizon`` with its own step; its outputs are delivered back to the macro,
    which then advances to ``t + window``.

    Parameters
    ----------
    macro, micro
        Instance names of the two components.
    horizon
        How long the micro model runs each macro step (its time scale).
    window
        Macro step; default the macro component's ``time_step()``.
    """

    def __init__(self, macro: str, micro: str, horizon: float, window: float | None = None) -> None:
        for role, name in (("macro", macro), ("micro", micro)):
            if not isinstance(name, str):
                raise ConfigurationError(f"MacroMicro({role}=...) must be a component name, got {name!r}")
        self.macro, self.micro = macro, micro
        self.horizon = float(check_window(horizon, "MacroMicro(horizon=...)", optional=False) or 0.0)
        self.window = check_window(window, "MacroMicro(window=...)")

    def validate(self, coupling: Coupling) -> None:
        for role, name in (("macro", self.macro), ("micro", self.micro)):
            if name not in coupling.components:
                raise CouplingError(f"MacroMicro {role}='{name}' is not a component of the coupling "
                                    f"({', '.join(coupling.components)})")
        if self.macro == self.micro:
            raise CouplingError("MacroMicro needs two different components for macro and micro")
        others = set(coupling.components) - {self.macro, self.micro}
        if others:
            raise CouplingError(f"MacroMicro couples exactly two components; also found: {', '.join(sorted(others))}")
        down = [c for c in coupling.connections if (c.source, c.target) == (self.macro, self.micro)]
        up = [c for c in coupling.connections if (c.source, c.target) == (self.micro, self.macro)]
        if not down or not up:
            raise CouplingError(
                f"MacroMicro needs connections both ways: '{self.macro}' -> '{self.micro}' "
                f"({len(down)} found) and '{self.micro}' -> '{self.macro}' ({len(up)} found)"
            )

    def run(self, runner: Runner) -> None:
        window = self.window_length(runner.coupling)
        t = runner.t_reached
        for t_end in runner.windows(window):
            runner.deliver(self.micro)
            runner.components[self.micro].t = t
            runner.advance(self.micro, t + self.horizon)
            runner.deliver(self.macro)
            runner.advance(self.macro, t_end)
            runner.sync(t_end)
            t = t_end

    def window_length(self, coupling: Coupling) -> float:
        if self.window is not None:
            return self.window
        dt = coupling.components[self.macro].time_step()
        if dt is None:
            raise CouplingError(f"MacroMicro: the macro component '{self.macro}' has no fixed time step; "
                                "pass window=...")
        return float(dt)

    def __repr__(self) -> str:
        return f"MacroMicro(macro={self.macro!r}, micro={self.micro!r}, horizon={self.horizon}, window={self.window})"
