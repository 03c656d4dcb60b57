"""Mappings between agents (moving points with a volume) and rectilinear grids.

* **deposit** (agents -> grid): agent ``i`` of radius ``R_i`` (from its volume:
  a disc in 2D, ``V = pi R^2``; a ball in 3D, ``V = 4/3 pi R^3``; a segment
  ``V = 2R`` in 1D) spreads its value over the grid cells its disc/ball overlaps,
  with weights ``w_ji = |B_i ∩ C_j| / |B_i ∩ grid|``: the overlap fractions,
  which sum to 1 over the cells for every agent, so the total is conserved to
  round-off. Cells wholly inside or outside the ball are exact; in a cell cut by
  its surface the overlap is integrated exactly along the last axis (the chord)
  and by the midpoint rule at ``samples`` points along each other axis (exact in
  1D), and (for a ball wholly inside the grid) the cut cells are scaled together
  to the exact ball volume left over by the wholly inside ones. An agent that
  overlaps no sample chord (a point) goes wholly into the cell of its centre;
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
        Midpoint-rule points per axis (all but the last) in a cell cut by an agent's surface.
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
    ncell = math.prod(shape)
    if n == 0:
        return sp.csr_matrix((ncell, 0))
    lo = np.stack([np.clip(np.searchsorted(e, pos[:, d] - r, side="right") - 1, 0, e.size - 2)
                   for d, e in enumerate(edges)], axis=1)
    hi = np.stack([np.clip(np.searchsorted(e, pos[:, d] + r, side="left") - 1, 0, e.size - 2)
                   for d, e in enumerate(edges)], axis=1)
    off = np.zeros(n, dtype=bool)
    whole = np.ones(n, dtype=bool)
    for d, e in enumerate(edges):
        off |= (pos[:, d] + r < e[0]) | (pos[:, d] - r > e[-1])
        whole &= (e[0] <= pos[:, d] - r) & (pos[:, d] + r <= e[-1])
    if off.any():
        k = int(np.argmax(off))
        raise CouplingError(f"deposit: agent(s) {_names(ids, np.flatnonzero(off))} at {pos[k].tolist()} (radius "
                            f"{r[k]:.6g}) touch no cell of the grid "
                            f"{[(float(e[0]), float(e[-1])) for e in edges]}; their values would be lost")
    parts = [_overlaps(edges, pos, r, lo, members, extent, int(samples))
             for extent, members in _by_extent(hi - lo + 1)]
    agent, cell, overlap, inside, cut = (np.concatenate(p) for p in zip(*parts, strict=True))
    # a ball wholly inside the grid: its cut cells share what the exact ball leaves (inside cells stay exact)
    inside_sum = np.bincount(agent, weights=overlap * inside, minlength=n)
    cut_sum = np.bincount(agent, weights=overlap * cut, minlength=n)
    rest = np.maximum(_ball_volume(r, dim) - inside_sum, 0.0)
    scale = np.where(whole & (cut_sum > 0), rest / np.where(cut_sum > 0, cut_sum, 1.0), 1.0)
    overlap = np.where(cut, overlap * scale[agent], overlap)
    total = np.bincount(agent, weights=overlap, minlength=n)
    keep = overlap > 0
    rows, cols, vals = cell[keep], agent[keep], overlap[keep] / total[agent[keep]]
    tiny = np.flatnonzero(total <= 0)  # no overlap found (a point): all into the cell of its centre
    if tiny.size:
        centre = tuple(np.clip(np.searchsorted(e, pos[tiny, d], side="right") - 1, 0, e.size - 2)
                       for d, e in enumerate(edges))
        rows = np.concatenate([rows, np.ravel_multi_index(centre, shape)])
        cols = np.concatenate([cols, tiny])
        vals = np.concatenate([vals, np.ones(tiny.size)])
    w = sp.csr_matrix((vals, (rows, cols)), shape=(ncell, n))
    if quantity == "total":
        return w
    inv = sp.diags(1.0 / cell_volumes(axes))
    if quantity == "density":
        return sp.csr_matrix(inv @ w)
    return sp.csr_matrix(inv @ w @ sp.diags(_ball_volume(r, dim)))


def _by_extent(extent: np.ndarray) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """Agents grouped by the extent (cells per axis) of their bounding boxes."""
    kinds, which = np.unique(extent, axis=0, return_inverse=True)
    which = np.asarray(which).reshape(-1)
    return [(tuple(int(k) for k in kind), np.flatnonzero(which == g)) for g, kind in enumerate(kinds)]


#: Sub-sample points evaluated at once (bounds the memory of a deposit).
_CHUNK = 1 << 20


def _overlaps(edges: list[np.ndarray], pos: np.ndarray, r: np.ndarray, lo: np.ndarray, members: np.ndarray,
              extent: tuple[int, ...], s: int) -> tuple[np.ndarray, ...]:
    """Overlap volumes of the balls ``members`` (boxes of ``extent`` cells from ``lo``) with those cells.

    Returns flat ``(agent, cell, overlap, wholly inside, cut)`` per (agent, box cell).
    """
    dim = len(edges)
    shape = tuple(e.size - 1 for e in edges)
    offsets = np.stack([g.reshape(-1) for g in np.meshgrid(*[np.arange(k) for k in extent], indexing="ij")], axis=1)
    idx = lo[members][:, None, :] + offsets[None, :, :]  # (m, P, dim): every box lies within the grid
    lo_c = np.stack([edges[d][idx[..., d]] for d in range(dim)], axis=-1)
    hi_c = np.stack([edges[d][idx[..., d] + 1] for d in range(dim)], axis=-1)
    x = pos[members][:, None, :]
    R2 = (r[members] ** 2)[:, None]
    near = np.clip(x, lo_c, hi_c) - x  # the point of each cell nearest to the centre
    far = np.maximum(np.abs(lo_c - x), np.abs(hi_c - x))
    vol = np.prod(hi_c - lo_c, axis=-1)
    inside = np.sum(far**2, axis=-1) <= R2
    cut = (np.sum(near**2, axis=-1) < R2) & ~inside
    frac = inside.astype(np.float64)
    a, p = np.nonzero(cut)
    if a.size:  # exact chords along the last axis, midpoint rule at s points along each other axis
        unit = (np.arange(s) + 0.5) / s
        grids = np.meshgrid(*([unit] * (dim - 1)), indexing="ij") if dim > 1 else []
        samples = np.stack([g.reshape(-1) for g in grids], axis=1) if dim > 1 else np.zeros((1, 0))
        step = max(_CHUNK // samples.shape[0], 1)
        for k in range(0, a.size, step):
            aa, pp = a[k:k + step], p[k:k + step]
            lo_k, hi_k, x_k = lo_c[aa, pp], hi_c[aa, pp], x[aa, 0]
            pts = lo_k[:, None, :-1] + samples[None, :, :] * (hi_k - lo_k)[:, None, :-1]
            half = np.sqrt(np.maximum(R2[aa] - np.sum((pts - x_k[:, None, :-1]) ** 2, axis=-1), 0.0))
            top = np.minimum(x_k[:, None, -1] + half, hi_k[:, None, -1])
            bottom = np.maximum(x_k[:, None, -1] - half, lo_k[:, None, -1])
            frac[aa, pp] = np.mean(np.maximum(top - bottom, 0.0), axis=1) / (hi_k[:, -1] - lo_k[:, -1])
    cell = np.ravel_multi_index(tuple(idx[..., d] for d in range(dim)), shape)
    agent = np.broadcast_to(members[:, None], cell.shape)
    return agent.reshape(-1), cell.reshape(-1), (frac * vol).reshape(-1), inside.reshape(-1), cut.reshape(-1)


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
