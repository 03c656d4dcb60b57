"""Checks of what a user hands to :meth:`msmcore.Coupling.add`.

Bad input to ``add`` — a class that is not a component, settings that make a
component exhaust memory or raise an unexpected exception, a placement that is
not a list of ranks — must end in a :class:`~msmcore.errors.ConfigurationError`
naming the component, the setting and what to do, never in a raw traceback.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from msmcore.errors import ConfigurationError, MSMError
from msmcore.ports import Port

__all__ = ["MAX_PORT_VALUES", "check_placement", "check_port_sizes", "check_time_units", "guarded"]

T = TypeVar("T")

#: Most values one port may hold: PETSc's default 32-bit indices address no more.
MAX_PORT_VALUES = 2**31 - 1


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + " ..."


def _large_numbers(value: Any, depth: int = 0) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Real):
        return bool(abs(float(value)) >= 1e6) if not isinstance(value, int) else abs(value) >= 10**6
    if depth < 3 and isinstance(value, (list, tuple)):
        return any(_large_numbers(v, depth + 1) for v in value[:16])
    if depth < 3 and isinstance(value, Mapping):
        return any(_large_numbers(v, depth + 1) for v in list(value.values())[:16])
    return False


def _size_settings(settings: Mapping[str, Any]) -> str:
    """The settings most likely to set a size: those holding large numbers (else all of them)."""
    named = [k for k, v in settings.items() if _large_numbers(v)] or list(settings)
    return ", ".join(f"setting '{k}' = {_short(settings[k])}" for k in named) or "none given"


def guarded(name: str, key: str, doing: str, settings: Mapping[str, Any], fn: Callable[[], T]) -> T:
    """Call ``fn``; a non-msmcore exception becomes a :class:`ConfigurationError` naming the component.

    Parameters
    ----------
    name, key
        Instance name and key (or class name) of the component.
    doing
        What ``fn`` does, e.g. ``"being built"``, for the message.
    settings
        The settings given, named in the message of a :class:`MemoryError`.
    fn
        Builds the component or declares its ports.
    """
    try:
        return fn()
    except MSMError:
        raise
    except MemoryError as exc:
        raise ConfigurationError(
            f"component '{name}' ({key}) ran out of memory while {doing} ({type(exc).__name__}: {exc}); "
            f"its settings ask for more than this machine holds — check the size settings: "
            f"{_size_settings(settings)}"
        ) from None
    except RecursionError as exc:
        raise ConfigurationError(f"component '{name}' ({key}) failed while {doing}: RecursionError: {exc}; "
                                 "check its settings for deeply nested values") from None
    except Exception as exc:  # noqa: BLE001 - any failure is reported with the component's name
        raise ConfigurationError(
            f"component '{name}' ({key}) failed while {doing}: {type(exc).__name__}: {exc} "
            f"(settings: {_size_settings(settings) if settings else 'none'}); check the settings "
            "(`msm show KEY` lists them), or run with --debug for the traceback"
        ) from exc


def check_port_sizes(name: str, key: str, ports: Mapping[str, Port], settings: Mapping[str, Any]) -> None:
    """Refuse a port larger than PETSc can address (checked before any array exists)."""
    limit = MAX_PORT_VALUES
    petsc = sys.modules.get("petsc4py.PETSc")
    if petsc is not None and getattr(getattr(petsc, "IntType", None), "__name__", "") == "int64":
        limit = 2**63 - 1
    for port in ports.values():
        if port.spec.size > limit:
            raise ConfigurationError(
                f"component '{name}' ({key}): port '{port.name}' would hold {port.spec.size:,} values "
                f"(shape {port.spec.shape} x {port.spec.components}), more than the {limit:,} one PETSc "
                f"vector can index; reduce the size settings: {_size_settings(settings)}"
            )


def check_placement(name: str, ranks: Any, nprocs: Any) -> None:
    """``ranks`` is ``None``, a rank or a list of ranks; ``nprocs`` is ``None`` or a count >= 1."""
    def is_int(v: Any) -> bool:
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    if nprocs is not None and (not is_int(nprocs) or nprocs < 1):
        raise ConfigurationError(f"component '{name}': nprocs must be a whole number >= 1, got {_short(nprocs)}")
    if ranks is None or is_int(ranks):
        return
    if isinstance(ranks, (str, bytes, Mapping)) or not hasattr(ranks, "__iter__"):
        raise ConfigurationError(f"component '{name}': ranks must be a rank or a list of ranks "
                                 f"(e.g. [0, 1]), got {_short(ranks)}")
    bad = [r for r in ranks if not is_int(r)]
    if bad:
        raise ConfigurationError(f"component '{name}': ranks must be whole numbers, got {_short(bad[0])} "
                                 f"in {_short(ranks)}")


def check_time_units(units: Any) -> str:
    """The coupling's time units: a non-empty string such as ``"s"``, ``"fs"`` or ``"year"``."""
    if not isinstance(units, str) or not units.strip():
        raise ConfigurationError(f"Coupling(time_units=...) must be a units string such as 's', got {units!r}")
    return units.strip()
