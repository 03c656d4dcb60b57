"""Pair lists, energies and virials in NumPy (a k-d tree; periodic in chosen axes).

OpenMM integrates the motion; msm-md evaluates energies and the virial (for
pressures and bin stresses) itself from the positions, with the same
potential (:class:`~msm_md.potentials.PairPotential`), because OpenMM reports
neither a virial nor per-particle energies. One call costs a k-d tree build and
query, O(N log N).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from msm_md.potentials import PairPotential

__all__ = ["PairTerms", "neighbour_pairs", "pair_terms"]

#: Order of the six independent components of a symmetric tensor (Voigt).
VOIGT = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


def neighbour_pairs(positions: np.ndarray, box: np.ndarray, periodic: np.ndarray,
                    cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs closer than ``cutoff``, with minimum-image separations.

    Parameters
    ----------
    positions
        ``(n, 3)`` coordinates (any values; wrapped here on periodic axes).
    box
        Box lengths; only the periodic axes' entries are used.
    periodic
        Three booleans.
    cutoff
        Pair cut-off, ``< box/2`` on periodic axes.

    Returns
    -------
    i, j, d
        Indices ``i < j`` and separations ``d = r_j − r_i`` (minimum image), ``(m, 3)``.
    """
    p = np.array(positions, dtype=np.float64, copy=True)
    size = np.empty(3)
    for a in range(3):
        if periodic[a]:
            p[:, a] = np.mod(p[:, a], box[a])
            p[p[:, a] >= box[a], a] = 0.0  # np.mod can round up to exactly box[a]
            size[a] = box[a]
        else:
            # A non-periodic axis: a "box" longer than the spread plus the cut-off
            # has no wrapped pairs within reach.
            p[:, a] -= p[:, a].min()
            size[a] = p[:, a].max() + 2.0 * cutoff + 1.0
    tree = cKDTree(p, boxsize=size)
    pairs = tree.query_pairs(cutoff, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    d = p[j] - p[i]
    for a in range(3):
        if periodic[a]:
            d[:, a] -= box[a] * np.round(d[:, a] / box[a])
    return i, j, d


@dataclass
class PairTerms:
    """Energies and virials of one configuration.

    Attributes
    ----------
    energy
        Total pair energy (fluid–fluid plus fluid–wall; wall–wall excluded).
    virial
        Total pair virial ``Σ d_α d_β (−u'/r)``, six Voigt components.
    particle_energy
        Per fluid particle, half of each of its pair energies (a wall's half
        goes to the fluid particle, so they sum to ``energy``).
    particle_virial
        ``(n_fluid, 6)``: half of each pair virial to each fluid partner (the
        wall's half is dropped — wall atoms lie outside the fluid bins).
    """

    energy: float
    virial: np.ndarray
    particle_energy: np.ndarray
    particle_virial: np.ndarray


def pair_terms(positions: np.ndarray, n_fluid: int, box: np.ndarray, periodic: np.ndarray,
               potential: PairPotential, wall_scale: float = 1.0) -> PairTerms:
    """Pair energy and virial of fluid particles ``0..n_fluid-1`` and wall atoms after them.

    Wall–wall pairs are left out (fixed wall atoms); fluid–wall pairs are
    scaled by ``wall_scale``.
    """
    i, j, d = neighbour_pairs(positions, box, periodic, potential.cutoff)
    wall_i, wall_j = i >= n_fluid, j >= n_fluid
    keep = ~(wall_i & wall_j)
    if not keep.all():
        i, j, d, wall_i, wall_j = i[keep], j[keep], d[keep], wall_i[keep], wall_j[keep]
    r2 = np.einsum("ij,ij->i", d, d)
    energy, f_over_r = potential.energy_and_force_over_r(r2)
    if wall_scale != 1.0:
        scale = np.where(wall_i | wall_j, wall_scale, 1.0)
        energy = energy * scale
        f_over_r = f_over_r * scale
    w = np.empty((len(r2), 6))
    for k, (a, b) in enumerate(VOIGT):
        w[:, k] = d[:, a] * d[:, b] * f_over_r
    fluid_i, fluid_j = ~wall_i, ~wall_j
    # Energy: halves to fluid partners, a wall's half to its fluid partner.
    e_i = np.where(fluid_j, 0.5 * energy, energy)
    e_j = np.where(fluid_i, 0.5 * energy, energy)
    particle_energy = (np.bincount(i[fluid_i], weights=e_i[fluid_i], minlength=n_fluid)
                       + np.bincount(j[fluid_j], weights=e_j[fluid_j], minlength=n_fluid))[:n_fluid]
    particle_virial = np.empty((n_fluid, 6))
    for k in range(6):
        particle_virial[:, k] = (np.bincount(i[fluid_i], weights=0.5 * w[fluid_i, k], minlength=n_fluid)
                                 + np.bincount(j[fluid_j], weights=0.5 * w[fluid_j, k], minlength=n_fluid))[:n_fluid]
    return PairTerms(float(energy.sum()), w.sum(axis=0), particle_energy, particle_virial)
