"""Initial configurations: face-centred cubic lattices for the fluid and the walls."""

from __future__ import annotations

import numpy as np

__all__ = ["fcc_sites", "fcc_constant", "spread_sites"]

#: The four sites of the conventional FCC cell, in units of the lattice constant.
_BASIS = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]])


def fcc_constant(density: float) -> float:
    """Lattice constant ``a = (4/ρ)^(1/3)`` of an FCC lattice of number density ``ρ``."""
    return float((4.0 / density) ** (1.0 / 3.0))


def fcc_sites(cells: tuple[int, int, int], a: float, start: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """Sites of an FCC lattice: ``4 · prod(cells)`` points, shape ``(n, 3)``.

    Site ``(i, j, k) + b`` (``b`` a basis vector) sits at ``a · (i + j + k + b + 1/4)``
    per axis, so the lattice planes normal to each axis are at ``a/4, 3a/4, …``:
    the lattice fills ``[0, cells·a)`` and continues seamlessly across periodic
    boundaries. ``start`` offsets the cell indices (negative values extend the
    lattice below zero, e.g. for wall atoms).
    """
    ranges = [np.arange(s, s + c) for s, c in zip(start, cells, strict=True)]
    grid = np.stack(np.meshgrid(*ranges, indexing="ij"), axis=-1).reshape(-1, 1, 3)
    return ((grid + _BASIS[None, :, :]).reshape(-1, 3) + 0.25) * a


def spread_sites(sites: np.ndarray, n: int) -> np.ndarray:
    """``n`` of ``sites``, evenly spread through the list (for ``n`` not a lattice number)."""
    if n > len(sites):
        raise ValueError(f"cannot take {n} of {len(sites)} lattice sites")
    index = np.round(np.linspace(0, len(sites) - 1, n)).astype(np.int64)
    return sites[index]
