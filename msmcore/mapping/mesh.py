"""Mesh coordinates of a port: the points a mapping interpolates between."""

from __future__ import annotations

import numpy as np

from msmcore.errors import ConfigurationError
from msmcore.ports import FieldSpec

__all__ = ["grid_of", "points_of"]

_MISSING = (
    "a mapping needs mesh coordinates on both ports: give coords= in Port.input/Port.output "
    "(per axis, e.g. coords={'x': xs, 'y': ys} for a (len(xs), len(ys)) grid, or "
    "coords={'points': array of shape (n, dim)} for n scattered points)"
)


def grid_of(spec: FieldSpec) -> tuple[np.ndarray, ...] | None:
    """The axis coordinates of a structured rectilinear grid, or ``None``.

    Parameters
    ----------
    spec
        A port's field description.

    Returns
    -------
    tuple of numpy.ndarray or None
        One 1D coordinate array per axis of ``spec.shape`` (in axis order, the
        order the ``coords`` mapping lists them) when the coordinates are given
        per axis; ``None`` for scattered points, curvilinear coordinates or no
        coordinates.
    """
    coords = spec.coords
    if not coords or "points" in coords or len(coords) != len(spec.shape):
        return None
    axes = tuple(np.asarray(v, dtype=np.float64) for v in coords.values())
    if all(a.ndim == 1 and a.shape[0] == n for a, n in zip(axes, spec.shape, strict=True)):
        return axes
    return None


def points_of(spec: FieldSpec) -> np.ndarray:
    """The coordinates of every point of a port, in the order of its array.

    Parameters
    ----------
    spec
        A port's field description with ``coords``: per axis
        (``{"x": xs}`` or ``{"x": xs, "y": ys}``: the tensor-product grid),
        per coordinate with arrays of ``spec.shape`` (curvilinear or scattered
        points: ``{"x": X, "y": Y}``), or ``{"points": array (n, dim)}``.

    Returns
    -------
    numpy.ndarray
        ``(spec.points, dim)`` float64 coordinates; row ``k`` is the point of
        flat (C-order) index ``k`` of the port array.

    Raises
    ------
    ConfigurationError
        When ``coords`` is missing or does not match ``spec.shape``.
    """
    coords = spec.coords
    if not coords:
        raise ConfigurationError(_MISSING)
    if "points" in coords:
        if len(coords) != 1:
            raise ConfigurationError(
                f"coords has 'points' and also {sorted(k for k in coords if k != 'points')}: "
                "give either coords={'points': (n, dim) array} or one coordinate array per axis"
            )
        pts = np.asarray(coords["points"], dtype=np.float64)
        if pts.ndim == 1:
            pts = pts[:, None]
        if pts.ndim != 2 or pts.shape[0] != spec.points:
            raise ConfigurationError(
                f"coords['points'] has shape {pts.shape}, but the port has {spec.points} points "
                f"(shape {spec.shape}): give an array of shape ({spec.points}, dim)"
            )
        return pts
    axes = grid_of(spec)
    if axes is not None:
        mesh = np.meshgrid(*axes, indexing="ij")
        return np.stack([m.reshape(-1) for m in mesh], axis=1)
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in coords.items()}
    if all(a.shape == spec.shape for a in arrays.values()):
        return np.stack([a.reshape(-1) for a in arrays.values()], axis=1)
    shapes = {k: a.shape for k, a in arrays.items()}
    raise ConfigurationError(
        f"coords {shapes} do not fit the port shape {spec.shape}: give one 1D array per axis "
        f"with lengths {spec.shape}, or arrays of shape {spec.shape} per coordinate, "
        "or coords={'points': (n, dim) array}"
    )
