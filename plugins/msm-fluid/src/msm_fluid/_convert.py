"""Converters for msm-fluid's structured settings (grids, pairs, cell points).

Each converter is a callable with a readable ``__name__`` (msmcore's
:class:`~msmcore.settings.Setting` puts it in its error message: "setting
'shape' of component 'macro' must be a tuple of 1 to 3 positive integers,
got ...") and raises :class:`ValueError` saying what exactly is wrong.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

from msmcore.settings import Converter, to_integer, to_number, to_positive

__all__ = ["ORIGIN_PAIR", "SIZE_PAIR", "Converter", "cell_points", "count_pair", "pair", "positive_float",
           "shape_tuple", "spacing_value"]

#: A cell index as written by the user: a flat index, or one index per axis.
CellIndex = int | tuple[int, ...]


def _integer(value: Any, what: str) -> int:
    return to_integer(value, what)


def _positive(value: Any, what: str) -> float:
    return to_positive(value, what)


def _shape(value: Any) -> tuple[int, ...]:
    if isinstance(value, (numbers.Integral, str)) and not isinstance(value, bool):
        value = (value,)
    try:
        items = tuple(value)
    except TypeError:
        raise ValueError("not a sequence of cell counts") from None
    if not 1 <= len(items) <= 3:
        raise ValueError(f"it has {len(items)} axes")
    shape = tuple(_integer(n, f"cell count of axis {a}") for a, n in enumerate(items))
    for a, n in enumerate(shape):
        if n < 1:
            raise ValueError(f"axis {a} has {n} cells")
    return shape


def _spacing(value: Any) -> float | tuple[float, ...]:
    if isinstance(value, (numbers.Real, str)) and not isinstance(value, bool):
        return _positive(value, "spacing")
    try:
        items = tuple(value)
    except TypeError:
        raise ValueError("not a number or a sequence of numbers") from None
    if not 1 <= len(items) <= 3:
        raise ValueError(f"it has {len(items)} entries")
    return tuple(_positive(h, f"spacing of axis {a}") for a, h in enumerate(items))


def _cell_index(key: Any) -> CellIndex:
    if isinstance(key, str):
        text = key.strip().strip("()[]").strip()
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise ValueError(f"cell index {key!r} is empty")
        if len(parts) == 1 and "," not in text:
            return _integer(parts[0], "cell index")
        return tuple(_integer(p, "cell index") for p in parts)
    if isinstance(key, (tuple, list)):
        return tuple(_integer(p, "cell index") for p in key)
    return _integer(key, "cell index")


def _points(value: Any) -> dict[CellIndex, float]:
    if not isinstance(value, Mapping):
        raise ValueError("not a mapping of cell index -> value")
    points: dict[CellIndex, float] = {}
    for key, val in value.items():
        points[_cell_index(key)] = to_number(val, f"cell {key!r}: value")
    return points


#: Float strictly greater than zero.
positive_float = Converter("a finite float > 0", lambda v: _positive(v, "value"))
#: Grid shape: an int or a sequence of 1 to 3 positive ints, returned as a tuple.
shape_tuple = Converter("a tuple of 1 to 3 positive integers", _shape)
#: Spacing: one positive float for every axis, or one per axis.
spacing_value = Converter("a float > 0 or a tuple of floats > 0 (one per axis)", _spacing)
#: Cell index -> value; keys are ints (flat index), tuples, or strings "25" / "3,4".
cell_points = Converter(
    "a mapping from cell index (int, tuple, or a string like '25' or '3,4') to a float",
    _points,
)


def pair(value: Any, what: str, check: Any) -> tuple[Any, Any]:
    """``(check(value[0]), check(value[1]))`` of a two-item sequence (not a string); ``what`` names the items."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"{value!r} is not a pair ({what})")
    return (check(value[0]), check(value[1]))


def _count(value: Any, minimum: int, unit: str, why: str) -> int:
    n = to_integer(value)
    if n < minimum:
        raise ValueError(f"{n} {unit} on an axis; at least {minimum} are needed" + (f" ({why})" if why else ""))
    return n


def count_pair(minimum: int, unit: str, why: str = "") -> Converter[tuple[int, int]]:
    """``(nx, ny)``: two integers >= ``minimum`` of ``unit`` ("nodes", "cells") per axis.

    ``why`` is the minimum's reason, said in the error message.
    """
    return Converter(f"a pair of integers >= {minimum} (nx, ny)",
                     lambda v: pair(v, "nx, ny", lambda n: _count(n, minimum, unit, why)))


#: A 2D grid's origin (x0, y0).
ORIGIN_PAIR = Converter("a pair of finite floats (x0, y0)", lambda v: pair(v, "x0, y0", to_number))
#: A 2D grid's extent (width, height).
SIZE_PAIR = Converter("a pair of floats > 0 (width, height)", lambda v: pair(v, "width, height", to_positive))
