"""Centre-based cell mechanics as in PhysiCell (Ghaffarizadeh et al. 2018).

Cells are overdamped spheres (discs' centres in 2D keep spherical radii, as in
PhysiCell's 2D mode). The velocity of cell i is the sum over its neighbours j of
(PhysiCell paper, Methods "Cell mechanics"; ``Cell::add_potentials`` in its code)

    v_i += [ c_r (1 - d/R)^2  [d < R]  -  c_a (1 - d/S)^2  [d < S] ] (x_i - x_j) / d

with ``d = |x_i - x_j|``, ``R = R_i + R_j`` (sum of radii), ``S = S_i + S_j``,
``S_i = s_rel R_i`` (maximum adhesion distance, PhysiCell's
``relative_maximum_adhesion_distance``, default 1.25), ``c_r = sqrt(c_r,i c_r,j)``
and ``c_a = sqrt(c_a,i c_a,j)`` (PhysiCell >= 1.2 combines the strengths as
geometric means; default repulsion 10 um/min, adhesion 0.4 um/min).
Positions advance with the second-order Adams-Bashforth rule
``x += dt (3/2 v_n - 1/2 v_{n-1})``; a cell without a previous velocity (the
first step, or just after its division) takes a forward-Euler step.

Neighbours come from :class:`scipy.spatial.cKDTree` ``query_pairs`` (each pair
once, within the largest adhesion distance), so a step costs O(N) for a tissue
of bounded density; the pair terms are summed with ``numpy.bincount``
(deterministic order, single-threaded).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["MechanicsParams", "velocities", "ab2_update", "equilibrium_distance"]


@dataclass(frozen=True)
class MechanicsParams:
    """Default cell-cell interaction strengths (um/min) and the adhesion reach."""

    repulsion: float = 10.0
    adhesion: float = 0.4
    relative_adhesion_distance: float = 1.25


def equilibrium_distance(radius_sum: float, repulsion: float, adhesion: float,
                         relative_adhesion_distance: float) -> float:
    """Distance at which repulsion equals adhesion for one pair.

    For ``d < R``: ``c_r (1 - d/R)^2 = c_a (1 - d/S)^2`` with both brackets
    positive, so ``sqrt(c_r) (1 - d/R) = sqrt(c_a) (1 - d/S)``, giving
    ``d* = (sqrt c_r - sqrt c_a) / (sqrt c_r / R - sqrt c_a / S)`` with ``S = s_rel R``.
    """
    R = radius_sum
    S = relative_adhesion_distance * radius_sum
    a, b = np.sqrt(repulsion), np.sqrt(adhesion)
    return float((a - b) / (a / R - b / S))


def velocities(positions: np.ndarray, radii: np.ndarray, repulsion: np.ndarray,
               adhesion: np.ndarray, relative_adhesion_distance: float) -> tuple[np.ndarray, int]:
    """Velocities of all cells from the pair potentials.

    Parameters
    ----------
    positions
        ``(n, dim)`` cell centres (um).
    radii
        ``(n,)`` cell radii (um).
    repulsion, adhesion
        ``(n,)`` per-cell strengths (um/min); 0 switches a cell's term off.
    relative_adhesion_distance
        ``S_i / R_i``.

    Returns
    -------
    (numpy.ndarray, int)
        ``(n, dim)`` velocities (um/min) and the number of interacting pairs.
    """
    n, dim = positions.shape
    v = np.zeros((n, dim))
    if n < 2:
        return v, 0
    reach = relative_adhesion_distance * radii
    cutoff = 2.0 * float(max(reach.max(), radii.max()))
    pairs = cKDTree(positions).query_pairs(cutoff, output_type="ndarray")
    if len(pairs) == 0:
        return v, 0
    i, j = pairs[:, 0], pairs[:, 1]
    disp = positions[i] - positions[j]
    d = np.sqrt(np.einsum("ij,ij->i", disp, disp))
    d = np.maximum(d, 1e-5)  # PhysiCell's guard against coincident centres
    R = radii[i] + radii[j]
    S = reach[i] + reach[j]
    rep = np.where(d < R, np.sqrt(repulsion[i] * repulsion[j]) * (1.0 - d / R) ** 2, 0.0)
    adh = np.where(d < S, np.sqrt(adhesion[i] * adhesion[j]) * (1.0 - d / S) ** 2, 0.0)
    f = (rep - adh) / d
    live = f != 0.0
    if not live.all():
        i, j, f, disp = i[live], j[live], f[live], disp[live]
    for k in range(dim):
        w = f * disp[:, k]
        v[:, k] = np.bincount(i, weights=w, minlength=n) - np.bincount(j, weights=w, minlength=n)
    return v, int(len(f))


def ab2_update(positions: np.ndarray, v: np.ndarray, v_prev: np.ndarray, has_prev: np.ndarray,
               dt: float) -> None:
    """Second-order Adams-Bashforth step in place: ``x += dt (1.5 v - 0.5 v_prev)``.

    Cells with ``has_prev`` False take ``x += dt v`` (forward Euler); afterwards
    ``v_prev`` holds ``v`` and ``has_prev`` is True for every cell.
    """
    step = 1.5 * v - 0.5 * v_prev
    step[~has_prev] = v[~has_prev]
    positions += dt * step
    v_prev[...] = v
    has_prev[...] = True
