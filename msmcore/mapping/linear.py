"""Linear interpolation weights: multilinear on rectilinear grids, barycentric on scattered points.

* Structured source (one 1D coordinate array per axis): 1D linear, 2D bilinear,
  3D trilinear interpolation; a target outside the grid is clamped to it
  (constant extrapolation along each axis).
* Scattered source in 1D: the points are sorted and treated as a 1D grid.
* Scattered source in 2D or 3D: barycentric interpolation on a Delaunay
  triangulation (tetrahedralisation); targets outside the convex hull take
  their nearest source value. Source points that all lie on a line (a plane in
  3D) are interpolated in that subspace, so an interface curve given in 2D
  coordinates works.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from msmcore.errors import ConfigurationError
from msmcore.mapping.nearest import nearest_weights

if TYPE_CHECKING:
    from scipy.spatial import Delaunay

__all__ = ["grid_weights", "scattered_weights"]


def grid_weights(
    axes: Sequence[np.ndarray], target: np.ndarray
) -> tuple[sp.csr_matrix, dict[str, Any]]:
    """Multilinear weights from a rectilinear grid to target points.

    Parameters
    ----------
    axes
        One 1D coordinate array per grid axis (distinct values, any order);
        grid points are numbered in C order, like ``np.meshgrid(*axes, indexing="ij")``.
    target
        ``(m, len(axes))`` target coordinates.

    Returns
    -------
    weights : scipy.sparse.csr_matrix
        ``(m, prod(len(a) for a in axes))``, at most ``2**dim`` entries a row,
        each row summing to 1.
    info : dict
        ``outside``: number of targets clamped onto the grid.
    """
    shape = tuple(len(a) for a in axes)
    m = len(target)
    lo, hi, frac = [], [], []
    outside = np.zeros(m, dtype=bool)
    for d, ax in enumerate(axes):
        ax = np.asarray(ax, dtype=np.float64)
        order = np.argsort(ax, kind="stable")
        sax = ax[order]
        if np.any(np.diff(sax) <= 0):
            raise ConfigurationError(
                f"grid axis {d} has repeated coordinates: the coordinates along each axis "
                "must be distinct"
            )
        t = target[:, d]
        outside |= (t < sax[0]) | (t > sax[-1])
        if len(sax) == 1:
            i = np.zeros(m, dtype=np.int64)
            lo.append(order[i])
            hi.append(order[i])
            frac.append(np.zeros(m))
            continue
        i = np.clip(np.searchsorted(sax, t, side="right") - 1, 0, len(sax) - 2)
        w = np.clip((t - sax[i]) / (sax[i + 1] - sax[i]), 0.0, 1.0)
        lo.append(order[i])
        hi.append(order[i + 1])
        frac.append(w)
    rows, cols, vals = [], [], []
    for corner in itertools.product((0, 1), repeat=len(axes)):
        idx = tuple(hi[d] if c else lo[d] for d, c in enumerate(corner))
        weight = np.ones(m)
        for d, c in enumerate(corner):
            weight = weight * (frac[d] if c else 1.0 - frac[d])
        rows.append(np.arange(m))
        cols.append(np.ravel_multi_index(idx, shape))
        vals.append(weight)
    w = sp.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(m, int(np.prod(shape))),
    ).tocsr()
    w.sum_duplicates()
    w.eliminate_zeros()
    return w, {"outside": int(outside.sum())}


def scattered_weights(
    source: np.ndarray, target: np.ndarray
) -> tuple[sp.csr_matrix, dict[str, Any]]:
    """Linear weights from scattered source points to target points.

    Parameters
    ----------
    source, target
        ``(n, dim)`` and ``(m, dim)`` point coordinates.

    Returns
    -------
    weights : scipy.sparse.csr_matrix
        ``(m, n)``, rows summing to 1.
    info : dict
        ``outside``: number of targets outside the source's range or hull
        (clamped in 1D, nearest value in 2D/3D); ``reduced_dim`` when the source
        points span fewer dimensions than their coordinates.
    """
    n, dim = source.shape
    centre = source.mean(axis=0)
    sing, basis = np.linalg.svd(source - centre, full_matrices=False)[1:]
    rank = int(np.sum(sing > 1e-10 * sing[0])) if n > 1 and sing[0] > 0 else 0
    if rank == 0:  # one distinct point: every target takes its value
        w, info = nearest_weights(source, target)
        return w, {**info, "outside": len(target), "reduced_dim": 0}
    if rank < dim:
        proj = basis[:rank].T
        w, info = scattered_weights((source - centre) @ proj, (target - centre) @ proj)
        return w, {**info, "reduced_dim": rank}
    if dim == 1:
        x, first = np.unique(source[:, 0], return_index=True)
        w, info = grid_weights((x,), target)
        w = sp.csr_matrix((w.data, first[w.indices], w.indptr), shape=(len(target), n))
        return w, info
    from scipy import spatial  # here, not at import (see nearest_weights)

    tri = spatial.Delaunay(source)
    _set_transforms(tri)
    simplex = tri.find_simplex(target)
    edge = np.flatnonzero(simplex < 0)
    if len(edge):  # on the hull up to round-off: allow a small barycentric tolerance
        simplex[edge] = tri.find_simplex(target[edge], bruteforce=True, tol=1e-10)
    inside = np.flatnonzero(simplex >= 0)
    outside = np.flatnonzero(simplex < 0)
    trans = tri.transform[simplex[inside]]
    bary = np.einsum("ijk,ik->ij", trans[:, :dim], target[inside] - trans[:, dim])
    bary = np.column_stack([bary, 1.0 - bary.sum(axis=1)])
    rows = [np.repeat(inside, dim + 1)]
    cols = [tri.simplices[simplex[inside]].reshape(-1)]
    vals = [bary.reshape(-1)]
    if len(outside):
        idx = spatial.cKDTree(source).query(target[outside], k=1)[1]
        rows.append(outside)
        cols.append(np.asarray(idx))
        vals.append(np.ones(len(outside)))
    w = sp.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(len(target), n)
    ).tocsr()
    w.sum_duplicates()
    w.eliminate_zeros()
    return w, {"outside": len(outside)}


def _set_transforms(tri: Delaunay) -> None:
    """Give ``tri`` its barycentric transforms, computed in one batched NumPy call.

    SciPy computes them with one LAPACK call per simplex, which can take
    seconds where BLAS threads compete for cores (MPI ranks, parallel tests);
    the batched inverse takes milliseconds. Degenerate (flat) simplices get NaN,
    as in SciPy, so no target is located in them.
    """
    if getattr(tri, "_transform", False) is not None:  # already set, or another SciPy layout
        return
    d = tri.ndim
    v = tri.points[tri.simplices]  # (nsimplex, d + 1, d)
    edges = np.swapaxes(v[:, :d, :] - v[:, d:, :], 1, 2)  # columns v_i - v_d
    size = np.abs(edges).max(axis=(1, 2)) ** d
    with np.errstate(all="ignore"):
        flat = ~(np.abs(np.linalg.det(edges)) > 1e-12 * size)
        edges[flat] = np.eye(d)
        inv = np.linalg.inv(edges)
    inv[flat] = np.nan
    tri._transform = np.ascontiguousarray(np.concatenate([inv, v[:, d:, :]], axis=1))
