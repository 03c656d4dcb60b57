"""Grid-to-particle coupling: impose continuum velocities on the particles of slabs.

Reusable by any particle plugin (NumPy only, vectorised).

Nie, Chen, E & Robbins, J. Fluid Mech. 500, 55–64 (2004) impose the continuum
velocity ``u_J`` on the particles of a constraint cell ``J`` by adding to each
particle's equation of motion the same acceleration,

    ẍ_i = F_i/m − (1/N_J) Σ_{j∈J} F_j/m − (ξ/Δt) [(1/N_J) Σ_{j∈J} ẋ_j − u_J],

which removes the cell's mean force and relaxes its mean velocity to ``u_J``.
Because the added acceleration is the same for every particle in ``J``,
integrating it over one MD step (operator splitting: an unconstrained step,
then the constraint) shifts every velocity in ``J`` by the same vector; the
mean-force term cancels the step's change of the mean and the relaxation term
moves what is left a fraction ξ towards ``u_J``. That is
:func:`relax_slab_velocities`:

    v_i ← v_i + ξ (u_J − v̄_J)   for every particle i in J,

with ``v̄_J`` the mass-weighted mean velocity of J after the step. With
ξ = 1 (the default of ``md.lj``) the mean of every constraint cell equals the
continuum velocity after each step; the fluctuations ``v_i − v̄_J`` (and so
the temperature) are untouched. Cells without particles are skipped.

(``md.lj`` computes the shifts with this function from OpenMM's velocities
after each step and lets its integrator add them at the start of the next
step, which avoids ``Context.setVelocities``; see :mod:`msm_md.lj`.)
"""

from __future__ import annotations

import numpy as np

__all__ = ["relax_slab_velocities", "slab_means", "slab_values_at_particles"]


def slab_means(index: np.ndarray, velocities: np.ndarray, masses: np.ndarray | float,
               slabs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mass-weighted mean velocity and particle count of the given slabs.

    Parameters
    ----------
    index
        Slab of each particle (``-1`` outside every slab).
    velocities
        ``(n, 3)``.
    masses
        Per particle, or one mass for all.
    slabs
        The slab indices wanted, ``(k,)``.

    Returns
    -------
    means, counts
        ``(k, 3)`` mean velocities (zero for an empty slab) and ``(k,)`` counts.
    """
    slabs = np.asarray(slabs, dtype=np.int64)
    n_slabs = int(max(index.max(initial=-1), slabs.max(initial=-1))) + 1
    inside = index >= 0
    b = index[inside]
    v = np.asarray(velocities, dtype=np.float64)[inside]
    m = np.broadcast_to(np.asarray(masses, dtype=np.float64), index.shape)[inside]
    mass = np.bincount(b, weights=m, minlength=n_slabs)[slabs]
    counts = np.bincount(b, minlength=n_slabs)[slabs]
    momentum = np.stack([np.bincount(b, weights=m * v[:, a], minlength=n_slabs)[slabs] for a in range(3)], axis=1)
    means = np.where(mass[:, None] > 0, momentum / np.where(mass > 0, mass, 1.0)[:, None], 0.0)
    return means, counts


def relax_slab_velocities(velocities: np.ndarray, index: np.ndarray, masses: np.ndarray | float,
                          slabs: np.ndarray, target: np.ndarray, xi: float = 1.0,
                          components: tuple[int, ...] = (0, 1, 2)) -> np.ndarray:
    """Shift the velocities of the particles in ``slabs`` towards the ``target`` means, in place.

    Parameters
    ----------
    velocities
        ``(n, 3)``, modified in place.
    index
        Slab of each particle (``-1`` outside every slab).
    masses
        Per particle, or one for all.
    slabs
        ``(k,)`` slab indices of the constraint region.
    target
        ``(k, 3)`` imposed mean velocities.
    xi
        Relaxation fraction per application, ``0 < ξ ≤ 1`` (1: exact).
    components
        Velocity components constrained (others are left alone).

    Returns
    -------
    numpy.ndarray
        ``(k, 3)`` the slab means before the shift (zero for empty slabs).
    """
    slabs = np.asarray(slabs, dtype=np.int64)
    means, counts = slab_means(index, velocities, masses, slabs)
    shift = xi * (np.asarray(target, dtype=np.float64) - means)
    shift[counts == 0] = 0.0
    mask = np.zeros(3, dtype=bool)
    mask[list(components)] = True
    shift[:, ~mask] = 0.0
    # Per particle: its slab's shift, or nothing outside the constraint region.
    lookup = np.full(int(max(index.max(initial=-1), slabs.max(initial=-1))) + 2, -1, dtype=np.int64)
    lookup[slabs] = np.arange(len(slabs))
    row = lookup[index]  # index -1 reads the last entry, which is -1
    hit = row >= 0
    velocities[hit] += shift[row[hit]]
    return means


def slab_values_at_particles(index: np.ndarray, values: np.ndarray, outside: float = 0.0) -> np.ndarray:
    """Per-particle values of a slab field: ``values[index]``, ``outside`` where ``index < 0``.

    ``values`` is ``(n_slabs,)`` or ``(n_slabs, c)``; the result has one row per particle.
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.full((len(index),) + values.shape[1:], outside, dtype=np.float64)
    hit = index >= 0
    out[hit] = values[index[hit]]
    return out
