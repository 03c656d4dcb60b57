"""Converters for ``md.lj``'s structured settings (each raises ValueError saying what is wrong)."""

from __future__ import annotations

from typing import Any

from msmcore.settings import Converter, to_integer, to_number, to_positive

__all__ = ["axes_string", "float3", "index_tuple", "int3", "positive_float"]


def _number(value: Any) -> float:
    return to_number(value)


def _integer(value: Any) -> int:
    return to_integer(value)


def _sequence(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    try:
        return list(value)
    except TypeError:
        return [value]


def _positive(value: Any) -> float:
    return to_positive(value)


def _int3(value: Any) -> tuple[int, int, int]:
    items = _sequence(value)
    if len(items) == 1:
        items = items * 3
    if len(items) != 3:
        raise ValueError(f"{value!r} does not have 3 entries")
    out = tuple(_integer(v) for v in items)
    if any(v < 1 for v in out):
        raise ValueError(f"{value!r} has an entry < 1")
    return out  # type: ignore[return-value]


def _float3(value: Any) -> tuple[float, float, float]:
    items = _sequence(value)
    if len(items) != 3:
        raise ValueError(f"{value!r} does not have 3 entries")
    return tuple(_number(v) for v in items)  # type: ignore[return-value]


def _index_tuple(value: Any) -> tuple[int, ...]:
    items = _sequence(value)
    out = tuple(_integer(v) for v in items)
    if len(set(out)) != len(out):
        raise ValueError(f"{value!r} lists an index twice")
    return tuple(sorted(out))


def _axes(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string of axis letters")
    text = value.strip().lower()
    if not text or any(c not in "xyz" for c in text) or len(set(text)) != len(text):
        raise ValueError(f"{value!r} is not a non-empty string of distinct letters from 'xyz'")
    return "".join(c for c in "xyz" if c in text)


positive_float = Converter("a finite number > 0", _positive)
int3 = Converter("3 positive integers (or one for all axes)", _int3)
float3 = Converter("3 numbers (x, y, z)", _float3)
index_tuple = Converter("a sequence of distinct integer indices", _index_tuple)
axes_string = Converter("distinct axis letters from 'xyz', e.g. 'xz'", _axes)
