"""Typed component settings with defaults and validation.

A component declares its settings as class attributes::

    class Decay(msm.Component):
        k = msm.Setting(float, default=1.0, minimum=0.0, units="1/s", doc="rate constant")
        method = msm.Setting(str, default="euler", choices=("euler", "exact"))

and reads them as ``self.k``. Values are converted and checked when the
component is built; a bad value raises :class:`~msmcore.errors.ConfigurationError`
naming the component, the setting and what is allowed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, overload

from msmcore.errors import ConfigurationError

__all__ = ["REQUIRED", "Converter", "Setting", "to_integer", "to_number", "to_positive"]

T = TypeVar("T")


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: Marker for a setting without a default value.
REQUIRED: Any = _Required()


class Setting(Generic[T]):
    """A typed, validated setting of a component.

    Parameters
    ----------
    type
        ``float``, ``int``, ``bool``, ``str``, ``tuple`` (any sequence, kept as
        a tuple) or any callable converting a raw value.
    default
        Value used when the user gives none; :data:`REQUIRED` when the user
        must give one.
    doc
        One line shown in error messages and documentation.
    units
        Units of a physical quantity, for documentation.
    choices
        Allowed values, if restricted.
    minimum, maximum
        Inclusive bounds for numbers.
    """

    # The value type T is what ``type`` returns: ``Setting(float, default=1.0)`` is a
    # ``Setting[float]`` and reads as a float on an instance; a default of None (not
    # given) makes it optional: ``Setting(str, default=None)`` is a ``Setting[str | None]``.
    @overload
    def __init__(
        self: Setting[T | None],
        type: Callable[[Any], T],
        default: None,
        *,
        doc: str = "",
        units: str | None = None,
        choices: Sequence[Any] | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        type: Callable[[Any], T],
        default: Any = REQUIRED,
        *,
        doc: str = "",
        units: str | None = None,
        choices: Sequence[Any] | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> None: ...
    def __init__(
        self,
        type: Callable[[Any], Any],
        default: Any = REQUIRED,
        *,
        doc: str = "",
        units: str | None = None,
        choices: Sequence[Any] | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> None:
        self.type = type
        self.default = default
        self.doc = doc
        self.units = units
        self.choices = tuple(choices) if choices is not None else None
        self.minimum = minimum
        self.maximum = maximum
        self.name = ""
        self._check_declaration()

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def _declaration(self) -> str:
        tname = getattr(self.type, "__name__", repr(self.type))
        parts = [tname] + ([] if self.required else [f"default={self.default!r}"])
        parts += [f"{k}={v!r}" for k, v in (("choices", self.choices), ("minimum", self.minimum),
                                            ("maximum", self.maximum)) if v is not None]
        return f"Setting({', '.join(parts)})"

    def _check_declaration(self) -> None:
        """Refuse a declaration that contradicts itself (checked when the class is defined).

        The bounds must be numbers with ``minimum <= maximum``; the default,
        unless :data:`REQUIRED` or ``None`` (not given), must satisfy the
        setting's own type (for the built-in types), choices and bounds. A
        default of a built-in type is kept converted (``Setting(float,
        default=1)`` holds ``1.0``).
        """
        what = self._declaration()
        if not callable(self.type):
            raise ConfigurationError(f"{what}: the type must be a type or a converter function, "
                                     f"got {self.type!r}")
        for bound in ("minimum", "maximum"):
            value = getattr(self, bound)
            if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)
                                      or math.isnan(value)):
                raise ConfigurationError(f"{what}: {bound} must be a number, got {value!r}")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ConfigurationError(f"{what}: minimum {self.minimum!r} is above maximum {self.maximum!r}")
        if self.choices is not None and not self.choices:
            raise ConfigurationError(f"{what}: choices is empty; give the allowed values or no choices")
        if self.required or self.default is None:
            return
        try:
            if self.type in _BUILTIN_TYPES:
                self.default = self.convert(self.default, "")
            else:
                self._check_value(self.default, self.default, "")
        except ConfigurationError as exc:
            raise ConfigurationError(
                f"{what}: the default {self.default!r} is not a valid value ({exc}); give a default "
                "that satisfies the setting's own type, choices and bounds, or default=REQUIRED"
            ) from None

    @overload
    def __get__(self, instance: None, owner: type) -> Setting[T]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> T: ...
    def __get__(self, instance: object | None, owner: type) -> Any:
        if instance is None:
            return self
        return instance.__dict__["_settings"][self.name]

    def __set__(self, instance: object, value: Any) -> None:
        raise AttributeError(f"setting '{self.name}' is read-only once the component is built")

    @property
    def required(self) -> bool:
        """Whether the user must give a value."""
        return self.default is REQUIRED

    def convert(self, value: Any, where: str) -> Any:
        """Convert and check ``value``; ``where`` names the component in errors."""
        what = self._what(where)
        try:
            if self.type is bool:
                converted: Any = _to_bool(value)
            elif self.type is int:
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise ValueError("not an integer")
                converted = int(value)
            elif self.type is float:
                if isinstance(value, bool):
                    raise ValueError("a bool is not a number")
                converted = float(value)
            elif self.type is tuple:
                if isinstance(value, (str, bytes)):
                    raise ValueError("a string is not a sequence")
                converted = tuple(value)
            elif self.type is str:
                if not isinstance(value, str):
                    raise ValueError("not a string")
                converted = value
            else:
                converted = self.type(value)
        except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
            tname = getattr(self.type, "__name__", str(self.type))
            reason = str(exc) if isinstance(exc, (TypeError, ValueError)) else f"{type(exc).__name__}: {exc}"
            raise ConfigurationError(f"{what} must be {tname}, got {_short(value)} ({reason})") from None
        self._check_value(converted, value, where)
        return converted

    def _what(self, where: str) -> str:
        return f"setting '{self.name}' of {where}" if self.name else "the value"

    def _check_value(self, converted: Any, value: Any, where: str) -> None:
        what = self._what(where)
        if isinstance(converted, float) and not math.isfinite(converted):
            raise ConfigurationError(f"{what} must be finite, got {_short(value)}")
        if self.choices is not None:
            try:
                allowed = bool(converted in self.choices)
            except (TypeError, ValueError):  # an array-like value compared with a choice
                allowed = False
            if not allowed:
                raise ConfigurationError(f"{what} must be one of {list(self.choices)}, got {_short(value)}")
        for bound, below in ((self.minimum, True), (self.maximum, False)):
            if bound is None:
                continue
            try:
                outside = bool(converted < bound) if below else bool(converted > bound)
            except (TypeError, ValueError):
                raise ConfigurationError(f"{what} must be a number {'>=' if below else '<='} {bound}, "
                                         f"got {_short(value)}") from None
            if outside:
                raise ConfigurationError(f"{what} must be {'>=' if below else '<='} {bound}, got {_short(value)}")

    def describe(self) -> str:
        """One line: name, type, default, units and doc."""
        tname = getattr(self.type, "__name__", str(self.type))
        parts = [f"{self.name}: {tname}"]
        parts.append("required" if self.required else f"default {self.default!r}")
        if self.units:
            parts.append(f"[{self.units}]")
        if self.doc:
            parts.append(f"- {self.doc}")
        return " ".join(parts)


_BUILTIN_TYPES = (bool, int, float, str, tuple)


def _short(value: Any, limit: int = 200) -> str:
    """``repr(value)``, cut to ``limit`` characters for error messages."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a value whose repr fails is still named
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 5] + " ...)"


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("0", "false", "no", "off"):
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError("not a boolean")


class Converter(Generic[T]):
    """A named conversion function, usable as the type of a :class:`Setting`.

    The name says what a valid value is; :class:`Setting` puts it in its error
    message ("setting 'shape' of component 'macro' must be a tuple of 1 to 3
    positive integers, got ..."), followed by the ``ValueError`` the function
    raised saying what exactly is wrong.

    Parameters
    ----------
    name
        What a valid value is, e.g. ``"a pair of floats > 0"``.
    func
        Converts a raw value or raises :class:`ValueError`/:class:`TypeError`.
    """

    def __init__(self, name: str, func: Callable[[Any], T]) -> None:
        self.__name__ = name
        self._func = func

    def __call__(self, value: Any) -> T:
        return self._func(value)

    def __repr__(self) -> str:
        return f"Converter({self.__name__!r})"


def _label(value: Any, what: str) -> str:
    return f"{what} {value!r}" if what else repr(value)


def to_integer(value: Any, what: str = "") -> int:
    """``value`` as an int (integral floats and numeric strings accepted), else ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, float, str)) or (
            isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"{_label(value, what)} is not an integer")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{_label(value, what)} is not an integer") from None


def to_number(value: Any, what: str = "") -> float:
    """``value`` as a finite float (numeric strings accepted), else ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
        raise ValueError(f"{_label(value, what)} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{_label(value, what)} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{_label(value, what)} is not finite")
    return number


def to_positive(value: Any, what: str = "") -> float:
    """``value`` as a finite float > 0, else ``ValueError``."""
    number = to_number(value, what)
    if number <= 0.0:
        raise ValueError(f"{_label(value, what)} is not > 0")
    return number
