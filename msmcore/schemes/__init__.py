"""Coupling schemes: how time advances across components."""

from msmcore.schemes.base import Scheme, window_ends
from msmcore.schemes.explicit import Parallel, Serial
from msmcore.schemes.macro_micro import MacroMicro

__all__ = ["MacroMicro", "Parallel", "Scheme", "Serial", "window_ends"]
