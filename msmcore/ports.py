"""Ports: the named inputs and outputs through which components exchange data."""

from __future__ import annotations

import copy
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any

import numpy as np

from msmcore.errors import ConfigurationError

__all__ = ["Direction", "FieldSpec", "Port", "agent_spec"]


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
        object.__setattr__(self, "shape", _check_shape(self.shape))
        if isinstance(self.components, bool) or not isinstance(self.components, (int, np.integer)) \
                or self.components < 1:
            raise ConfigurationError(f"components (values per point) must be an integer >= 1, "
                                     f"got {self.components!r}")
        object.__setattr__(self, "components", int(self.components))
        if not isinstance(self.units, str):
            raise ConfigurationError(f"units must be a string such as 'mol/m^3' or '1', got {self.units!r}")
        try:
            object.__setattr__(self, "dtype", np.dtype(self.dtype))
        except TypeError as exc:
            raise ConfigurationError(f"dtype {self.dtype!r} is not a NumPy dtype ({exc})") from None
        if self.value_names is not None:
            if isinstance(self.value_names, str) or not isinstance(self.value_names, Iterable):
                raise ConfigurationError(f"value_names must be a list of names, one per component, "
                                         f"got {self.value_names!r}")
            names = tuple(str(v) for v in self.value_names)
            if len(names) != self.components:
                raise ConfigurationError(f"value_names {list(names)} has {len(names)} name(s) but the field has "
                                         f"{self.components} value(s) per point; give one name per value")
            if len(set(names)) != len(names):
                raise ConfigurationError(f"value_names {list(names)} repeats a name; each value needs its own")
            object.__setattr__(self, "value_names", names)
        for attr in ("value_dim", "coord_units"):
            value = getattr(self, attr)
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigurationError(f"{attr} must be a non-empty string, got {value!r}")
        if self.coords is not None:
            object.__setattr__(self, "coords", _check_coords(self.coords, self.shape))

    @property
    def points(self) -> int:
        """Number of points."""
        return math.prod(self.shape)  # Python ints: no silent int64 overflow

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
    #: Name of the agent set whose agents are the port's points (a dynamic port), or ``None``.
    #: The set is the component's own (:meth:`~msmcore.Component.declare_agent_sets`), or, for
    #: a component that follows another's agents, the set connected into it.
    agents: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _PORT_NAME.match(self.name):
            raise ConfigurationError(f"invalid port name {self.name!r}: use letters, digits and '_' "
                                     "(starting with a letter or '_'), e.g. 'state_out'")
        if not isinstance(self.direction, Direction):
            raise ConfigurationError(f"port '{self.name}': direction must be Direction.IN or Direction.OUT, "
                                     f"got {self.direction!r}; build ports with Port.input() or Port.output()")
        if not isinstance(self.spec, FieldSpec):
            raise ConfigurationError(f"port '{self.name}': spec must be a FieldSpec, got {type(self.spec).__name__}")
        if not isinstance(self.doc, str):
            raise ConfigurationError(f"port '{self.name}': doc must be a string, got {self.doc!r}")
        if not isinstance(self.required, (bool, np.bool_)):
            raise ConfigurationError(f"port '{self.name}': required must be True or False, got {self.required!r}")
        if self.agents is not None and (not isinstance(self.agents, str) or not self.agents.isidentifier()):
            raise ConfigurationError(f"port '{self.name}': agents= must name an agent set (e.g. 'cells'), "
                                     f"got {self.agents!r}")
        if self.agents is not None and self.spec.coords is not None:
            raise ConfigurationError(f"port '{self.name}': an agent port has no fixed coords; its agents' positions "
                                     "come from a positions port of the set (see Coupling.connect(positions=...))")

    @classmethod
    def input(cls, name: str, shape: tuple[int, ...] | int | None = None, *, doc: str = "",
              required: bool = True, agents: str | None = None, **spec: Any) -> Port:
        """An input port; ``required=False`` lets it stay unconnected.

        ``agents="cells"`` instead of a shape makes a dynamic port: one point
        per agent of that agent set, as many as it holds now.

        Raises
        ------
        ConfigurationError
            A malformed name, shape (not positive integers), coordinates
            that do not fit the shape, or another bad field description.
        """
        return cls(name, Direction.IN, _spec(name, _agent_shape(name, shape, agents), spec), doc, required, agents)

    @classmethod
    def output(cls, name: str, shape: tuple[int, ...] | int | None = None, *, doc: str = "",
               agents: str | None = None, **spec: Any) -> Port:
        """An output port (outputs may always stay unconnected); ``agents=`` and errors as for :meth:`input`."""
        return cls(name, Direction.OUT, _spec(name, _agent_shape(name, shape, agents), spec), doc, False, agents)


def _agent_shape(name: Any, shape: Any, agents: Any) -> Any:
    """The declared shape: a nominal ``(1,)`` for an agent port (its size is the set's count)."""
    if agents is None:
        if shape is None:
            raise ConfigurationError(f"port {name!r}: shape must be a positive integer or a tuple of them (points "
                                     "per axis), got None; or give agents='<set>' for one point per agent of a set")
        return shape
    if shape is not None:
        raise ConfigurationError(f"port {name!r}: give either shape= or agents= (an agent port has one point per "
                                 f"agent, as many as the set holds), not both")
    return (1,)


def agent_spec(spec: FieldSpec, count: int) -> FieldSpec:
    """``spec`` of an agent port at ``count`` agents (``count`` may be 0)."""
    out = copy.copy(spec)
    object.__setattr__(out, "shape", (int(count),))
    return out


_PORT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _spec(name: Any, shape: Any, spec: dict[str, Any]) -> FieldSpec:
    """``FieldSpec(shape, **spec)``; errors name the port."""
    unknown = sorted(set(spec) - {f.name for f in fields(FieldSpec)} - {"shape"})
    if unknown or "shape" in spec:
        raise ConfigurationError(f"port {name!r}: unknown field description argument(s) {unknown or ['shape']}; "
                                 f"allowed: {sorted(f.name for f in fields(FieldSpec) if f.name != 'shape')}")
    try:
        return FieldSpec(shape, **spec)
    except ConfigurationError as exc:
        raise ConfigurationError(f"port {name!r}: {exc}") from None


def _check_shape(shape: Any) -> tuple[int, ...]:
    """A shape as a tuple of positive ints; an int is a 1D shape."""
    items = (shape,) if isinstance(shape, (numbers.Integral, float, np.floating)) else shape
    try:
        items = tuple(items)
    except TypeError:
        raise ConfigurationError(f"shape must be a positive integer or a tuple of them, got {shape!r}") from None
    if not items:
        raise ConfigurationError("shape must have at least one axis, got ()")
    out = []
    for n in items:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
            raise ConfigurationError(
                f"shape {shape!r}: each axis needs a positive whole number of points, got {n!r}"
                + (" (a float: write an int)" if isinstance(n, (float, np.floating)) else "")
            )
        out.append(int(n))
    return tuple(out)


def _check_coords(coords: Any, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Mesh coordinates checked against the shape.

    Accepted: one 1D array per axis (a tensor-product grid; fewer than the
    axes label only the first ones), one array of ``shape`` per coordinate
    (curvilinear, 1 to 3 coordinates), or ``{"points": (n, dim)}`` (or a 1D
    array of ``n``) for ``n`` scattered points.
    """
    if not isinstance(coords, Mapping):
        raise ConfigurationError(f"coords must map axis names to arrays, got {type(coords).__name__}")
    points = math.prod(shape)
    checked: dict[str, np.ndarray] = {}
    for key, values in coords.items():
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"coords keys must be axis names (strings), got {key!r}")
        try:
            array = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"coords[{key!r}] must be numbers ({exc})") from None
        if not np.isfinite(array).all():
            raise ConfigurationError(f"coords[{key!r}] holds NaN or infinity")
        checked[key] = array
    if "points" in checked:
        pts = checked["points"]
        fits = (pts.ndim == 1 and pts.shape[0] == points) or (
            pts.ndim == 2 and pts.shape[0] == points and 1 <= pts.shape[1] <= 3)
        if len(checked) != 1 or not fits:
            raise ConfigurationError(
                f"coords['points'] has shape {pts.shape} (with keys {sorted(checked)}), but the port has "
                f"{points} point(s): give only coords={{'points': array of shape ({points}, dim)}}, dim 1 to 3"
            )
        return checked
    arrays = list(checked.values())
    per_axis = len(arrays) <= len(shape) and all(a.shape == (n,) for a, n in zip(arrays, shape, strict=False))
    curvilinear = 1 <= len(arrays) <= 3 and all(a.shape == shape for a in arrays)
    if not (per_axis or curvilinear):
        shapes = {k: a.shape for k, a in checked.items()}
        raise ConfigurationError(
            f"coords {shapes} do not fit the port shape {shape}: give one 1D array per axis with lengths "
            f"{shape} (e.g. {shape[0]} coordinates for axis 0), arrays of shape {shape} per coordinate "
            f"(curvilinear), or coords={{'points': array of shape ({points}, dim)}}"
        )
    return checked
