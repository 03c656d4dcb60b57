"""Coupling schemes: how time advances across components."""

from msmcore.schemes.base import Scheme, window_ends
from msmcore.schemes.explicit import Parallel, Serial
from msmcore.schemes.implicit import ConvergenceWarning, Implicit
from msmcore.schemes.macro_micro import MacroMicro

__all__ = ["ConvergenceWarning", "Implicit", "MacroMicro", "Parallel", "Scheme", "Serial", "window_ends"]
