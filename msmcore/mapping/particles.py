"""Particle ↔ grid mappings: coarse-graining particles onto slabs, and constraining them to a grid.

Reusable by any component that moves particles or agents (molecular dynamics,
dissipative particle dynamics, moving cells; NumPy only, vectorised), in 1, 2 or 3
dimensions (the number of velocity columns). Particles move every step, so these are
functions applied each sample rather than a PETSc ``Mat`` built once like the mesh
mappings of this package (for agent ports see :mod:`msmcore.mapping.agents`).

Particle to grid
----------------
Particle-to-grid coarse-graining: window averages of particle data on slabs.

A :class:`SlabGrid` cuts a box into ``n`` slabs of equal width along one axis; a
:class:`SlabAverager` accumulates samples of particle positions, velocities
(``d`` = 1, 2 or 3 components) and (optionally) per-particle virials over a
window and turns the sums into fields on the slabs.

Averaging (what :meth:`SlabAverager.result` returns), with sums over the
window's samples ``s`` and the particles ``i`` in slab ``b`` at that sample:

* ``counts[b] = Σ_s N_b(s)`` — particle-samples (the statistical weight);
* ``density[b] = counts[b] / (S · V_b)`` — number density, ``S`` samples,
  ``V_b`` the slab volume;
* ``velocity[b] = Σ_s Σ_i m_i v_i / Σ_s Σ_i m_i`` — the mass-weighted window
  mean (momentum over mass accumulated over the window, not a mean of
  per-sample slab means, so sparsely filled samples are not over-weighted);
* ``K[b]_αβ = Σ m v_α v_β − (Σ m v_α)(Σ m v_β)/Σ m`` — the kinetic tensor of the
  velocities relative to the window mean ``velocity[b]`` (the streaming
  velocity), so a mean flow does not show up as temperature or pressure;
* ``temperature[b] = tr K / (d k_B counts[b])`` — ``d`` translational degrees of
  freedom per particle-sample (the one mean subtracted per slab is neglected: a relative
  bias ``1/counts``);
* ``stress[b]`` — the pressure tensor (positive in compression; the Cauchy
  stress is its negative) in Voigt order xx, yy, zz, yz, xz, xy (2D: xx, yy, xy;
  1D: xx):
  ``(K_αβ / S + W_αβ / S_w) / V_b`` with ``W`` the per-particle virials
  (half of each pair's ``d_α d_β (−u'/r)`` to each partner, assigned to the
  partner's slab: the "virial per atom" of Thompson, Plimpton & Mattson,
  J. Chem. Phys. 131, 154107 (2009)) summed over ``S_w`` virial samples
  (virials may be sampled less often than velocities);
* ``pressure[b] = tr(stress[b]) / d``.

A slab without particle-samples reports zero velocity, temperature and
stress; ``counts`` tells a consumer to ignore it.

Grid to particles
-----------------
Grid-to-particle coupling: impose continuum velocities on the particles of slabs.

Nie, Chen, E & Robbins, J. Fluid Mech. 500, 55–64 (2004) impose the continuum
velocity ``u_J`` on the particles of a constraint cell ``J`` by adding to each
particle's equation of motion the same acceleration,

    ẍ_i = F_i/m − (1/N_J) Σ_{j∈J} F_j/m − (ξ/Δt) [(1/N_J) Σ_{j∈J} ẋ_j − u_J],

which removes the cell's mean force and relaxes its mean velocity to ``u_J``.
Because the added acceleration is the same for every particle in ``J``,
integrating it over one time step (operator splitting: an unconstrained step,
then the constraint) shifts every velocity in ``J`` by the same vector; the
mean-force term cancels the step's change of the mean and the relaxation term
moves what is left a fraction ξ towards ``u_J``. That is
:func:`relax_slab_velocities`:

    v_i ← v_i + ξ (u_J − v̄_J)   for every particle i in J,

with ``v̄_J`` the mass-weighted mean velocity of J after the step. With
ξ = 1 (exact relaxation) the mean of every constraint cell equals the
continuum velocity after each step; the fluctuations ``v_i − v̄_J`` (and so
the temperature) are untouched. Cells without particles are skipped.

(A component whose integrator owns the velocities can compute the shifts with this
function after each step and apply them at the start of the next one.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SlabAverager", "SlabAverages", "SlabGrid", "relax_slab_velocities", "slab_means",
           "slab_values_at_particles"]


class SlabGrid:
    """``n`` slabs of equal width covering ``[lo, hi)`` along ``axis``.

    Parameters
    ----------
    axis
        0, 1 or 2 (x, y, z).
    lo, hi
        Extent along the axis.
    n
        Number of slabs.
    cross_section
        Area of a slab normal to the axis (for volumes and densities).
    periodic
        Whether the axis is periodic with period ``hi − lo`` (positions are
        then wrapped into ``[lo, hi)`` before binning).
    """

    def __init__(self, axis: int, lo: float, hi: float, n: int, cross_section: float,
                 periodic: bool = False) -> None:
        if not hi > lo or n < 1:
            raise ValueError(f"a slab grid needs hi > lo and n >= 1, got [{lo}, {hi}) and n={n}")
        self.axis, self.lo, self.hi, self.n = int(axis), float(lo), float(hi), int(n)
        self.cross_section = float(cross_section)
        self.periodic = bool(periodic)
        self.width = (self.hi - self.lo) / self.n

    @property
    def edges(self) -> np.ndarray:
        """Slab boundaries, ``n + 1`` values."""
        return self.lo + self.width * np.arange(self.n + 1)

    @property
    def centres(self) -> np.ndarray:
        """Slab centres, ``n`` values."""
        return self.lo + self.width * (np.arange(self.n) + 0.5)

    @property
    def volume(self) -> float:
        """Volume of one slab."""
        return self.width * self.cross_section

    def coordinate(self, positions: np.ndarray) -> np.ndarray:
        """The positions' coordinate along the axis (wrapped into ``[lo, hi)`` if periodic)."""
        q = np.asarray(positions, dtype=np.float64)[:, self.axis]
        if self.periodic:
            q = self.lo + np.mod(q - self.lo, self.hi - self.lo)
        return q

    def index(self, positions: np.ndarray) -> np.ndarray:
        """Slab of each position, ``-1`` outside ``[lo, hi)``."""
        q = self.coordinate(positions)
        b = np.floor((q - self.lo) / self.width).astype(np.int64)
        if self.periodic:
            return np.clip(b, 0, self.n - 1)  # round-off at hi
        b[(b < 0) | (b >= self.n)] = -1
        return b


@dataclass
class SlabAverages:
    """Window averages on the slabs of a :class:`SlabGrid` (see the module notes)."""

    counts: np.ndarray
    density: np.ndarray
    velocity: np.ndarray
    temperature: np.ndarray
    stress: np.ndarray
    pressure: np.ndarray
    samples: int
    virial_samples: int


class SlabAverager:
    """Accumulates particle samples on a :class:`SlabGrid` and averages them.

    Parameters
    ----------
    grid
        The slabs.
    kB
        Boltzmann's constant in the caller's units (1 in reduced units).
    dim
        Velocity components per particle (1, 2 or 3).
    """

    def __init__(self, grid: SlabGrid, kB: float = 1.0, dim: int = 3) -> None:
        if dim not in (1, 2, 3):
            raise ValueError(f"a slab averager needs dim 1, 2 or 3, got {dim!r}")
        self.grid, self.kB, self.dim = grid, float(kB), int(dim)
        n, pairs = grid.n, len(_voigt(dim))
        self._count = np.zeros(n)
        self._mass = np.zeros(n)
        self._momentum = np.zeros((n, dim))
        self._kinetic = np.zeros((n, pairs))
        self._virial = np.zeros((n, pairs))
        self.samples = 0
        self.virial_samples = 0

    def reset(self) -> None:
        """Start a new window."""
        for array in (self._count, self._mass, self._momentum, self._kinetic, self._virial):
            array[...] = 0.0
        self.samples = self.virial_samples = 0

    def add(self, positions: np.ndarray, velocities: np.ndarray, masses: np.ndarray | float = 1.0,
            index: np.ndarray | None = None) -> np.ndarray:
        """Add one sample of particle velocities; returns the slab index of each particle.

        ``index`` (from :meth:`SlabGrid.index`) may be passed when already known.
        """
        b = self.grid.index(positions) if index is None else index
        inside = b >= 0
        bi = b[inside]
        v = np.asarray(velocities, dtype=np.float64)
        if v.ndim != 2 or v.shape[1] != self.dim:
            raise ValueError(f"velocities of shape {v.shape} given to a {self.dim}D slab averager; "
                             f"give (n, {self.dim})")
        v = v[inside]
        m = np.broadcast_to(np.asarray(masses, dtype=np.float64), b.shape)[inside]
        n = self.grid.n
        self._count += np.bincount(bi, minlength=n)
        self._mass += np.bincount(bi, weights=m, minlength=n)
        mv = m[:, None] * v
        for a in range(self.dim):
            self._momentum[:, a] += np.bincount(bi, weights=mv[:, a], minlength=n)
        for k, (a, c) in enumerate(_voigt(self.dim)):
            self._kinetic[:, k] += np.bincount(bi, weights=mv[:, a] * v[:, c], minlength=n)
        self.samples += 1
        return b

    def add_virial(self, index: np.ndarray, particle_virial: np.ndarray) -> None:
        """Add one sample of per-particle virials ``(n_particles, pairs)`` (Voigt order) with their slab ``index``."""
        inside = index >= 0
        bi = index[inside]
        w = particle_virial[inside]
        for k in range(len(_voigt(self.dim))):
            self._virial[:, k] += np.bincount(bi, weights=w[:, k], minlength=self.grid.n)
        self.virial_samples += 1

    def result(self) -> SlabAverages:
        """The window averages (see the module notes)."""
        n, vol = self.grid.n, self.grid.volume
        samples = max(self.samples, 1)
        occupied = self._mass > 0
        mass = np.where(occupied, self._mass, 1.0)
        velocity = np.where(occupied[:, None], self._momentum / mass[:, None], 0.0)
        d = self.dim
        kinetic = np.empty((n, len(_voigt(d))))
        for k, (a, c) in enumerate(_voigt(d)):
            kinetic[:, k] = self._kinetic[:, k] - self._momentum[:, a] * self._momentum[:, c] / mass
        kinetic[~occupied] = 0.0
        counts = self._count.copy()
        temperature = np.where(occupied, kinetic[:, :d].sum(axis=1) / (d * self.kB * np.maximum(counts, 1.0)), 0.0)
        stress = kinetic / (samples * vol)
        if self.virial_samples:
            stress = stress + self._virial / (self.virial_samples * vol)
        stress[~occupied] = 0.0
        return SlabAverages(
            counts=counts,
            density=counts / (samples * vol),
            velocity=velocity,
            temperature=temperature,
            stress=stress,
            pressure=stress[:, :d].mean(axis=1),
            samples=self.samples,
            virial_samples=self.virial_samples,
        )

    def state(self) -> dict[str, np.ndarray | int]:
        """The running sums (for save/restore)."""
        return {"count": self._count.copy(), "mass": self._mass.copy(), "momentum": self._momentum.copy(),
                "kinetic": self._kinetic.copy(), "virial": self._virial.copy(),
                "samples": self.samples, "virial_samples": self.virial_samples}

    def set_state(self, state: dict[str, np.ndarray | int]) -> None:
        """Restore the running sums of :meth:`state`."""
        self._count[...] = state["count"]
        self._mass[...] = state["mass"]
        self._momentum[...] = state["momentum"]
        self._kinetic[...] = state["kinetic"]
        self._virial[...] = state["virial"]
        self.samples = int(state["samples"])
        self.virial_samples = int(state["virial_samples"])


_VOIGT = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


def _voigt(dim: int) -> tuple[tuple[int, int], ...]:
    """Voigt pairs of a symmetric ``dim x dim`` tensor: diagonal first, then off-diagonal."""
    return {1: ((0, 0),), 2: ((0, 0), (1, 1), (0, 1)), 3: _VOIGT}[dim]


def slab_means(index: np.ndarray, velocities: np.ndarray, masses: np.ndarray | float,
               slabs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mass-weighted mean velocity and particle count of the given slabs.

    Parameters
    ----------
    index
        Slab of each particle (``-1`` outside every slab).
    velocities
        ``(n, d)``, ``d`` = 1, 2 or 3.
    masses
        Per particle, or one mass for all.
    slabs
        The slab indices wanted, ``(k,)``.

    Returns
    -------
    means, counts
        ``(k, d)`` mean velocities (zero for an empty slab) and ``(k,)`` counts.
    """
    slabs = np.asarray(slabs, dtype=np.int64)
    n_slabs = int(max(index.max(initial=-1), slabs.max(initial=-1))) + 1
    inside = index >= 0
    b = index[inside]
    v = np.asarray(velocities, dtype=np.float64)[inside]
    m = np.broadcast_to(np.asarray(masses, dtype=np.float64), index.shape)[inside]
    mass = np.bincount(b, weights=m, minlength=n_slabs)[slabs]
    counts = np.bincount(b, minlength=n_slabs)[slabs]
    momentum = np.stack([np.bincount(b, weights=m * v[:, a], minlength=n_slabs)[slabs]
                         for a in range(v.shape[1])], axis=1).reshape(len(slabs), v.shape[1])
    means = np.where(mass[:, None] > 0, momentum / np.where(mass > 0, mass, 1.0)[:, None], 0.0)
    return means, counts


def relax_slab_velocities(velocities: np.ndarray, index: np.ndarray, masses: np.ndarray | float,
                          slabs: np.ndarray, target: np.ndarray, xi: float = 1.0,
                          components: tuple[int, ...] | None = None) -> np.ndarray:
    """Shift the velocities of the particles in ``slabs`` towards the ``target`` means, in place.

    Parameters
    ----------
    velocities
        ``(n, d)``, modified in place.
    index
        Slab of each particle (``-1`` outside every slab).
    masses
        Per particle, or one for all.
    slabs
        ``(k,)`` slab indices of the constraint region.
    target
        ``(k, d)`` imposed mean velocities.
    xi
        Relaxation fraction per application, ``0 < ξ ≤ 1`` (1: exact).
    components
        Velocity components constrained (others are left alone); default all.

    Returns
    -------
    numpy.ndarray
        ``(k, d)`` the slab means before the shift (zero for empty slabs).
    """
    slabs = np.asarray(slabs, dtype=np.int64)
    means, counts = slab_means(index, velocities, masses, slabs)
    shift = xi * (np.asarray(target, dtype=np.float64) - means)
    shift[counts == 0] = 0.0
    mask = np.zeros(velocities.shape[1], dtype=bool)
    mask[list(range(velocities.shape[1]) if components is None else components)] = True
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
