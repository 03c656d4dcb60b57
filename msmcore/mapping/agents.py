"""Mappings between agents (moving points with a volume) and rectilinear grids.

* **deposit** (agents -> grid): agent ``i`` of radius ``R_i`` (from its volume:
  a disc in 2D, ``V = pi R^2``; a ball in 3D, ``V = 4/3 pi R^3``; a segment
  ``V = 2R`` in 1D) spreads its value over the grid cells its disc/ball overlaps,
  with weights ``w_ji = |B_i ∩ C_j| / |B_i ∩ grid|``: the overlap fractions,
  which sum to 1 over the cells for every agent, so the total is conserved to
  round-off. Cells wholly inside or outside the ball are exact; a cell cut by
  its surface is sub-sampled at ``samples**dim`` points, and (for a ball wholly
  inside the grid) the cut cells are scaled together to the exact ball volume
  left over by the wholly inside ones. An agent smaller than
  a sample spacing that hits no sample goes wholly into the cell of its centre;
  the part of a ball outside the grid is deposited into the part inside; an
  agent that touches no cell is refused.
* **interpolate** (grid -> agents): the field's multilinear (bilinear,
  trilinear) interpolation at each agent's position, clamped at the grid's
  edge (:func:`msmcore.mapping.linear.grid_weights`).

Cells are those of the grid's cell centres (the port's ``coords``, one 1D array
per axis): their faces lie half-way between neighbouring centres, the outer ones
half a spacing beyond the first and last centre. Agents move, so the coupling
rebuilds these matrices whenever the positions (or volumes) change.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from msmcore.errors import CouplingError
from msmcore.mapping.linear import grid_weights

__all__ = ["QUANTITIES", "cell_edges", "cell_volumes", "deposit_matrix", "interpolation_matrix", "radii_of"]

#: What a deposited per-agent value is (see :func:`deposit_matrix`).
QUANTITIES = ("total", "density", "intensive")


def cell_edges(axes: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Face coordinates of the cells around the given (ascending) centres, per axis."""
    edges = []
    for d, ax in enumerate(axes):
        c = np.asarray(ax, dtype=np.float64).reshape(-1)
        if c.size < 2 or np.any(np.diff(c) <= 0):
            raise CouplingError(f"grid axis {d}: a deposit needs at least 2 ascending cell centres, got {c.size}")
        mid = 0.5 * (c[1:] + c[:-1])
        edges.append(np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]]))
    return edges


def cell_volumes(axes: Sequence[np.ndarray]) -> np.ndarray:
    """Volume (area, length) of every grid cell, flat in C order."""
    widths = [np.diff(e) for e in cell_edges(axes)]
    return np.prod(np.stack([g.reshape(-1) for g in np.meshgrid(*widths, indexing="ij")]), axis=0)


def radii_of(volumes: np.ndarray, dim: int) -> np.ndarray:
    """Radius of a segment/disc/ball of the given lengths/areas/volumes."""
    v = np.asarray(volumes, dtype=np.float64).reshape(-1)
    if dim == 1:
        return v / 2.0
    if dim == 2:
        return np.sqrt(v / math.pi)
    return np.cbrt(3.0 * v / (4.0 * math.pi))


def _ball_volume(radii: np.ndarray, dim: int) -> np.ndarray:
    return {1: 2.0 * radii, 2: math.pi * radii**2, 3: 4.0 / 3.0 * math.pi * radii**3}[dim]


def deposit_matrix(axes: Sequence[np.ndarray], positions: np.ndarray, radii: np.ndarray, *,
                   quantity: str = "total", samples: int = 8, ids: np.ndarray | None = None) -> sp.csr_matrix:
    """The matrix ``(n_cells, n_agents)`` depositing per-agent values onto the grid.

    Parameters
    ----------
    axes
        Cell centres per axis (ascending).
    positions
        ``(n_agents, dim)`` agent centres.
    radii
        ``(n_agents,)`` agent radii (see :func:`radii_of`).
    quantity
        ``"total"``: ``grid_j = sum_i q_i w_ji`` (an amount per agent becomes an
        amount per cell; ``sum_j grid_j = sum_i q_i``). ``"density"``: the same
        divided by the cell volume ``V_j`` (``sum_j grid_j V_j = sum_i q_i``).
        ``"intensive"``: ``q_i`` is per unit agent volume (a rate, a
        concentration): ``grid_j = sum_i q_i w_ji V_i / V_j``, the
        volume-fraction-weighted field (``sum_j grid_j V_j = sum_i q_i V_i``).
    samples
        Sub-samples per axis of a cell cut by an agent's surface.
    ids
        Agent ids, for messages.

    Raises
    ------
    CouplingError
        Positions of the wrong dimension, non-finite or negative radii, or an
        agent whose ball touches no grid cell.
    """
    dim = len(axes)
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, dim) if np.size(positions) else np.zeros((0, dim))
    r = np.asarray(radii, dtype=np.float64).reshape(-1)
    n = pos.shape[0]
    if r.size != n or not np.all(np.isfinite(pos)) or not np.all(np.isfinite(r)) or np.any(r < 0):
        raise CouplingError(f"deposit: {n} agent positions and {r.size} radii; positions must be finite and radii "
                            f">= 0 (non-finite or negative at agent(s) "
                            f"{_names(ids, np.flatnonzero(~np.isfinite(r) | (r < 0)) if r.size == n else [])})")
    if quantity not in QUANTITIES:
        raise CouplingError(f"deposit: quantity={quantity!r}; use one of {list(QUANTITIES)}")
    edges = cell_edges(axes)
    shape = tuple(e.size - 1 for e in edges)
    s = int(samples)
    unit = (np.arange(s) + 0.5) / s  # sample offsets inside a cell, per axis
    rows_all, cols_all, vals_all = [], [], []
    missing = []
    for i in range(n):
        x, R = pos[i], r[i]
        lo = [int(np.clip(np.searchsorted(e, x[d] - R, side="right") - 1, 0, e.size - 2)) for d, e in enumerate(edges)]
        hi = [int(np.clip(np.searchsorted(e, x[d] + R, side="left") - 1, 0, e.size - 2)) for d, e in enumerate(edges)]
        if any(x[d] + R < e[0] or x[d] - R > e[-1] for d, e in enumerate(edges)):
            missing.append(i)
            continue
        ranges = [np.arange(a, b + 1) for a, b in zip(lo, hi, strict=True)]
        mesh = np.meshgrid(*ranges, indexing="ij")
        idx = [m.reshape(-1) for m in mesh]
        lo_c = np.stack([edges[d][idx[d]] for d in range(dim)], axis=1)
        hi_c = np.stack([edges[d][idx[d] + 1] for d in range(dim)], axis=1)
        near = np.clip(x, lo_c, hi_c) - x  # nearest point of each cell to the centre
        far = np.maximum(np.abs(lo_c - x), np.abs(hi_c - x))
        vol = np.prod(hi_c - lo_c, axis=1)
        inside = np.sum(far**2, axis=1) <= R * R
        touch = np.sum(near**2, axis=1) < R * R
        frac = np.where(inside, 1.0, 0.0)
        cut = np.flatnonzero(touch & ~inside)
        if cut.size:
            offs = np.stack([g.reshape(-1) for g in np.meshgrid(*([unit] * dim), indexing="ij")], axis=1)
            pts = lo_c[cut, None, :] + offs[None, :, :] * (hi_c - lo_c)[cut, None, :]
            frac[cut] = np.mean(np.sum((pts - x) ** 2, axis=2) <= R * R, axis=1)
        overlap = frac * vol
        whole = all(e[0] <= x[d] - R and x[d] + R <= e[-1] for d, e in enumerate(edges))
        if whole and cut.size:  # the cut cells share what the exact ball leaves: wholly inside cells stay exact
            rest = max(float(_ball_volume(np.array([R]), dim)[0]) - float(overlap[inside].sum()), 0.0)
            sampled = float(overlap[cut].sum())
            if sampled > 0:
                overlap[cut] *= rest / sampled
        total = overlap.sum()
        flat = np.ravel_multi_index(tuple(idx), shape)
        if total <= 0:  # smaller than a sample spacing: all into the cell of the centre
            centre = tuple(int(np.clip(np.searchsorted(e, x[d], side="right") - 1, 0, e.size - 2))
                           for d, e in enumerate(edges))
            rows_all.append(np.array([np.ravel_multi_index(centre, shape)]))
            cols_all.append(np.array([i]))
            vals_all.append(np.array([1.0]))
            continue
        keep = overlap > 0
        rows_all.append(flat[keep])
        cols_all.append(np.full(int(keep.sum()), i))
        vals_all.append(overlap[keep] / total)
    if missing:
        raise CouplingError(f"deposit: agent(s) {_names(ids, missing)} at {pos[missing[0]].tolist()} (radius "
                            f"{r[missing[0]]:.6g}) touch no cell of the grid "
                            f"{[(float(e[0]), float(e[-1])) for e in edges]}; their values would be lost")
    ncell = math.prod(shape)
    if rows_all:
        w = sp.csr_matrix((np.concatenate(vals_all), (np.concatenate(rows_all), np.concatenate(cols_all))),
                          shape=(ncell, n))
    else:
        w = sp.csr_matrix((ncell, n))
    if quantity == "total":
        return w
    inv = sp.diags(1.0 / cell_volumes(axes))
    if quantity == "density":
        return sp.csr_matrix(inv @ w)
    return sp.csr_matrix(inv @ w @ sp.diags(_ball_volume(r, dim)))


def interpolation_matrix(axes: Sequence[np.ndarray], positions: np.ndarray) -> sp.csr_matrix:
    """The matrix ``(n_agents, n_cells)`` of the multilinear interpolation at the agents (clamped outside)."""
    dim = len(axes)
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, dim) if np.size(positions) else np.zeros((0, dim))
    if not np.all(np.isfinite(pos)):
        raise CouplingError("interpolate: agent positions hold NaN or infinity")
    n_cells = math.prod(len(a) for a in axes)
    if pos.shape[0] == 0:
        return sp.csr_matrix((0, n_cells))
    return sp.csr_matrix(grid_weights([np.asarray(a, dtype=np.float64) for a in axes], pos)[0])


def _names(ids: np.ndarray | None, rows: Sequence[int] | np.ndarray) -> str:
    rows = list(itertools.islice(rows, 10))
    if ids is None:
        return f"rows {rows}"
    return f"ids {[int(ids[k]) for k in rows]}"
