"""Ports: the named inputs and outputs through which components exchange data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

__all__ = ["Direction", "FieldSpec", "Port"]


class Direction(str, Enum):
    """Which way data flows through a port."""

    IN = "in"
    OUT = "out"


@dataclass(frozen=True)
class FieldSpec:
    """What a port carries: points, values per point, units, dtype, mesh coordinates.

    Parameters
    ----------
    shape
        Shape of the point set (a structured grid ``(nx, ny)``, or ``(n,)`` for
        ``n`` scattered points or a scalar set).
    components
        Values per point (1 for a scalar field, 3 for a 3D vector).
    units
        Units string, e.g. ``"mol/m^3"``; ``"1"`` for dimensionless.
    dtype
        NumPy dtype of the values.
    coords
        Optional mesh coordinates by axis name, each of length ``shape[axis]``
        (structured grids) or ``(n, dim)`` point coordinates under ``"points"``.
    value_names
        Names of the values per point (e.g. species), one per component; they
        label the component axis in results.
    value_dim
        Name of the component axis in results (e.g. ``"species"``); default
        ``"<port>_component"``.
    coord_units
        Units of the mesh coordinates (e.g. ``"m"``), recorded in results.
    """

    shape: tuple[int, ...]
    components: int = 1
    units: str = "1"
    dtype: np.dtype[Any] = field(default_factory=lambda: np.dtype(np.float64))
    coords: Mapping[str, np.ndarray] | None = None
    value_names: tuple[str, ...] | None = None
    value_dim: str | None = None
    coord_units: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        object.__setattr__(self, "dtype", np.dtype(self.dtype))
        if self.value_names is not None:
            object.__setattr__(self, "value_names", tuple(str(v) for v in self.value_names))

    @property
    def points(self) -> int:
        """Number of points."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def size(self) -> int:
        """Number of values (points times components)."""
        return self.points * self.components

    @property
    def array_shape(self) -> tuple[int, ...]:
        """Shape of the NumPy array holding the values."""
        return self.shape if self.components == 1 else (*self.shape, self.components)


@dataclass(frozen=True)
class Port:
    """A named input or output of a component.

    Build ports with :meth:`input` and :meth:`output`::

        Port.output("state_out", shape=(100,), units="mol/m^3")
    """

    name: str
    direction: Direction
    spec: FieldSpec
    doc: str = ""
    required: bool = True

    @classmethod
    def input(cls, name: str, shape: tuple[int, ...] | int, *, doc: str = "",
              required: bool = True, **spec: Any) -> Port:
        """An input port; ``required=False`` lets it stay unconnected."""
        return cls(name, Direction.IN, FieldSpec(_shape(shape), **spec), doc, required)

    @classmethod
    def output(cls, name: str, shape: tuple[int, ...] | int, *, doc: str = "", **spec: Any) -> Port:
        """An output port (outputs may always stay unconnected)."""
        return cls(name, Direction.OUT, FieldSpec(_shape(shape), **spec), doc, False)


def _shape(shape: tuple[int, ...] | int) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
