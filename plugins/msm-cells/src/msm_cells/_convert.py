"""Converters of cells.agents settings (each raises ValueError; msmcore turns it into ConfigurationError)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["SUBSTRATE_KEYS", "float_list", "name_list", "optional_float", "positions_value", "substrates_value"]

#: Per-substrate keys: uptake rate (1/min), secretion (units/min per unit cell volume), value when unconnected, units.
SUBSTRATE_KEYS = ("uptake", "secretion", "default", "units")


def _number(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        raise ValueError(f"{what} must be a finite number, got {v!r}")
    return float(v)


def optional_float(v: Any) -> float | None:
    """``None`` or a finite float."""
    return None if v is None else _number(v, "the value")


def float_list(v: Any) -> tuple[float, ...]:
    """A non-empty list of positive numbers."""
    if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
        raise ValueError(f"expected a list of positive numbers, got {v!r}")
    out = tuple(_number(x, "each entry") for x in v)
    if not out or any(x <= 0 for x in out):
        raise ValueError(f"expected a non-empty list of positive numbers, got {list(out)}")
    return out


def name_list(v: Any) -> tuple[str, ...]:
    """A list of identifiers (letters, digits, '_')."""
    if isinstance(v, str) or not hasattr(v, "__iter__"):
        raise ValueError(f"expected a list of names, got {v!r}")
    out = tuple(v)
    for s in out:
        if not isinstance(s, str) or not s.isidentifier():
            raise ValueError(f"each name must be letters, digits and '_' (e.g. 'oxygen'), got {s!r}")
    return out


def positions_value(v: Any) -> tuple[tuple[float, ...], ...] | None:
    """``None`` or a list of points (each 2 or 3 numbers, all of one length)."""
    if v is None:
        return None
    try:
        pts = tuple(tuple(_number(x, "each coordinate") for x in p) for p in v)
    except TypeError:
        raise ValueError(f"expected a list of points [[x, y(, z)], ...], got {v!r}") from None
    if not pts or len({len(p) for p in pts}) != 1 or len(pts[0]) not in (2, 3):
        raise ValueError(f"expected a non-empty list of points with 2 or 3 coordinates each, got {v!r}")
    return pts


def substrates_value(v: Any) -> dict[str, dict[str, Any]]:
    """``{name: {"uptake": U, "secretion": S, "default": c, "units": "mmHg"}}`` with defaults 0, 0, 0, "1"."""
    if not isinstance(v, Mapping):
        raise ValueError(f"expected a mapping substrate name -> {{uptake, secretion, default, units}}, got {v!r}")
    out: dict[str, dict[str, Any]] = {}
    for name, spec in v.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"substrate name {name!r}: use letters, digits and '_'")
        spec = {} if spec is None else spec
        if not isinstance(spec, Mapping):
            raise ValueError(f"substrate '{name}': expected a mapping with keys {SUBSTRATE_KEYS}, got {spec!r}")
        unknown = sorted(set(spec) - set(SUBSTRATE_KEYS))
        if unknown:
            raise ValueError(f"substrate '{name}': unknown key(s) {unknown}; allowed: {list(SUBSTRATE_KEYS)}")
        entry: dict[str, Any] = {k: _number(spec.get(k, 0.0), f"substrate '{name}' {k}")
                                 for k in ("uptake", "secretion", "default")}
        if entry["uptake"] < 0 or entry["secretion"] < 0:
            raise ValueError(f"substrate '{name}': uptake and secretion must be >= 0, got {entry}")
        units = spec.get("units", "1")
        if not isinstance(units, str):
            raise ValueError(f"substrate '{name}': units must be a string, got {units!r}")
        entry["units"] = units
        out[name] = entry
    return out
