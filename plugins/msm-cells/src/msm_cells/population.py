"""The cell population: per-cell arrays, the phenotype step (cycle, death, volume) and division.

Everything is a NumPy array in one order (the order of :attr:`Population.ids`);
no Python loop runs over cells. Units: minutes, micrometres, um^3.

Phases (:attr:`Population.phase`): ``0 .. K-1`` are the cycle model's phases of a
live cell, :data:`APOPTOTIC` (-1) and :data:`NECROTIC` (-2) the dead states.

One phenotype step of length ``dt`` (PhysiCell's ``dt_phenotype``, default 6 min):

1. *Necrosis* of live cells whose oxygen ``c`` is below ``necrosis_threshold``:
   probability ``1 - exp(-r dt)`` with ``r = necrosis_rate * min(1, (c_thr - c) /
   (c_thr - c_max))``, the ramp of PhysiCell's oxygen-dependent stochastic necrosis
   (zero at and above the threshold, full rate at and below ``necrosis_max``).
2. *Apoptosis* of the remaining live cells: probability ``1 - exp(-a m_d dt)``
   (``m_d``: the death modifier of the cell).
3. *Cycle* of the remaining live cells (:mod:`msm_cells.cycle`, modifier ``m_c``).
4. *Dead cells* (those just dead included: death is placed at the start of the
   step): the time since death grows by ``dt``; an apoptotic cell is removed once it
   reaches ``apoptosis_duration`` (PhysiCell: fixed 8.6 h), a necrotic one at
   ``necrosis_duration`` (PhysiCell: 60 days after lysis).
5. *Volume*: ``dV/dt = k (V_target - V)`` integrated exactly over ``dt``:
   ``V <- V_t + (V - V_t) exp(-k dt)``; live cells relax to ``target_volume`` at
   ``growth_rate``, apoptotic cells to 0 at ``apoptotic_shrink_rate``, necrotic
   (lysed) cells to 0 at ``necrotic_shrink_rate`` (a single-compartment version of
   PhysiCell's standard volume model, whose rates are the defaults).
6. *Division* of the cells that finished their cycle: the parent keeps its id and
   the daughter gets a new one; each gets half of the parent's volume (volume is
   conserved), the cycle clock carries over, and they sit at ``x -/+ 0.2071 r u``
   (``u`` a random unit vector, ``r`` the daughter radius; PhysiCell's
   ``Cell::divide`` offset). Both restart Adams-Bashforth with a forward-Euler step.

Every random number is :func:`msm_cells.rng.uniform` of (seed, id, step, stream),
so the outcome does not depend on the storage order of the cells or on threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np

from msm_cells import rng
from msm_cells.cycle import CycleModel
from msm_cells.mechanics import ab2_update, velocities

__all__ = ["Population", "PhenotypeParams", "APOPTOTIC", "NECROTIC", "radius_of"]

APOPTOTIC = -1
NECROTIC = -2
_DAUGHTER_OFFSET = 0.20710678118654752  # PhysiCell Cell::divide: (sqrt(2) - 1) / 2


@overload
def radius_of(volume: float) -> float: ...
@overload
def radius_of(volume: np.ndarray) -> np.ndarray: ...
def radius_of(volume: np.ndarray | float) -> np.ndarray | float:
    """Radius of a sphere of the given volume, ``(3 V / (4 pi))^(1/3)``."""
    return np.cbrt(0.75 * np.asarray(volume) / np.pi)


@dataclass
class PhenotypeParams:
    """Rates and durations of the phenotype step (minutes; see the module docstring)."""

    cycle: CycleModel
    apoptosis_rate: float = 0.0
    apoptosis_duration: float = 8.6 * 60.0
    necrosis_threshold: float | None = None
    necrosis_max: float = 0.0
    necrosis_rate: float = 1.0 / (6.0 * 60.0)
    necrosis_duration: float = 60.0 * 24.0 * 60.0
    target_volume: float = 2494.0
    growth_rate: float = 0.27 / 60.0
    apoptotic_shrink_rate: float = 1.0 / 60.0
    necrotic_shrink_rate: float = 0.05 / 60.0
    repulsion: float = 10.0
    adhesion: float = 0.4
    relative_adhesion_distance: float = 1.25


@dataclass
class StepEvents:
    """What one phenotype step did: parents and daughters of divisions, removed ids, new dead."""

    parents: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    daughters: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    removed: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    cycle_times: np.ndarray = field(default_factory=lambda: np.empty(0))
    necrotic: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    apoptotic: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))


class Population:
    """Off-lattice cells: positions, volumes, phases; mechanics and phenotype steps.

    Parameters
    ----------
    positions
        ``(n, dim)`` initial centres (um), ``dim`` 2 or 3.
    params
        The phenotype and mechanics parameters.
    seed
        Seed of the counter-based random numbers.
    ids
        Initial ids (default ``0 .. n-1``); new ids come from :meth:`new_ids` unless
        the caller passes its own to :meth:`phenotype_step`.
    volumes
        Initial volumes (default ``params.target_volume``).
    """

    def __init__(self, positions: np.ndarray, params: PhenotypeParams, seed: int,
                 ids: np.ndarray | None = None, volumes: np.ndarray | None = None) -> None:
        x = np.array(positions, dtype=float, ndmin=2)
        n, dim = x.shape
        if dim not in (2, 3):
            raise ValueError(f"positions must be (n, 2) or (n, 3), got shape {x.shape}")
        self.dim = dim
        self.params = params
        self.seed = int(seed)
        self.ids = np.arange(n, dtype=np.int64) if ids is None else np.array(ids, dtype=np.int64)
        self.next_id = int(self.ids.max()) + 1 if n else 0
        self.positions = x
        self.v_prev = np.zeros_like(x)
        self.has_prev = np.zeros(n, dtype=bool)
        self.volume = (np.full(n, params.target_volume) if volumes is None
                       else np.array(volumes, dtype=float))
        self.phase = np.zeros(n, dtype=np.int64)
        self.age = np.zeros(n)  # time (or phase clock) in the current phase; time since death if dead
        self.birth_time = np.zeros(n)
        self.step_count = 0  # phenotype steps taken (the counter of the random numbers)
        self.time = 0.0
        self.mech_count = 0  # mechanics steps taken
        self.last_pairs = 0

    # -- bookkeeping --------------------------------------------------------------
    @property
    def count(self) -> int:
        """Number of cells."""
        return len(self.ids)

    @property
    def radius(self) -> np.ndarray:
        """Radii of the cells (um), from their volumes."""
        return radius_of(self.volume)

    @property
    def live(self) -> np.ndarray:
        """Mask of live (cycling) cells."""
        return self.phase >= 0

    def new_ids(self, k: int) -> np.ndarray:
        """``k`` fresh ids (never reused)."""
        out = np.arange(self.next_id, self.next_id + k, dtype=np.int64)
        self.next_id += k
        return out

    _ARRAYS = ("ids", "positions", "v_prev", "has_prev", "volume", "phase", "age", "birth_time")

    def state(self) -> dict[str, object]:
        """Copies of everything a later step reads (for checkpoints)."""
        out: dict[str, object] = {k: getattr(self, k).copy() for k in self._ARRAYS}
        out.update(next_id=self.next_id, step_count=self.step_count, mech_count=self.mech_count,
                   time=self.time, seed=self.seed)
        return out

    def set_state(self, state: dict[str, object]) -> None:
        """Restore :meth:`state`'s output exactly."""
        for k in self._ARRAYS:
            setattr(self, k, np.array(state[k], copy=True))
        self.next_id = int(state["next_id"])  # type: ignore[call-overload]
        self.step_count = int(state["step_count"])  # type: ignore[call-overload]
        self.mech_count = int(state["mech_count"])  # type: ignore[call-overload]
        self.time = float(state["time"])  # type: ignore[arg-type]
        self.seed = int(state["seed"])  # type: ignore[call-overload]

    def keep(self, mask: np.ndarray) -> None:
        """Drop the cells where ``mask`` is False (order of the rest kept)."""
        for k in self._ARRAYS:
            setattr(self, k, getattr(self, k)[mask])

    # -- mechanics ----------------------------------------------------------------
    def velocities(self) -> np.ndarray:
        """Current velocities from the pair potentials (dead cells do not adhere)."""
        p = self.params
        rep = np.full(self.count, p.repulsion)
        adh = np.where(self.live, p.adhesion, 0.0)
        v, self.last_pairs = velocities(self.positions, self.radius, rep, adh, p.relative_adhesion_distance)
        return v

    def mechanics_step(self, dt: float) -> None:
        """One Adams-Bashforth step of length ``dt`` (min) of every cell's position."""
        v = self.velocities()
        ab2_update(self.positions, v, self.v_prev, self.has_prev, dt)
        self.time += dt

    def run(self, duration: float, dt_mechanics: float, dt_phenotype: float, mechanics: bool = True,
            **inputs: Any) -> list[StepEvents]:
        """Advance by ``duration``: mechanics steps, and a phenotype step after every
        ``dt_phenotype / dt_mechanics``-th of them (counted from ``time`` 0).

        With ``mechanics=False`` the positions stay put and only the clock advances
        (for tests of the cycle alone). ``inputs`` go to :meth:`phenotype_step` (arrays
        that must still match the population after divisions are the caller's affair:
        pass ``None`` for unlimited oxygen and unit modifiers).
        """
        ratio = dt_phenotype / dt_mechanics
        every = int(round(ratio))
        if every < 1 or abs(ratio - every) > 1e-9 * ratio:
            raise ValueError(f"dt_phenotype={dt_phenotype} is not a whole multiple of dt_mechanics={dt_mechanics}")
        steps = int(round(duration / dt_mechanics))
        events = []
        for _ in range(steps):
            if mechanics:
                self.mechanics_step(dt_mechanics)
            else:
                self.time += dt_mechanics
            self.mech_count += 1
            if self.mech_count % every == 0:
                events.append(self.phenotype_step(dt_phenotype, **inputs))
        return events

    # -- phenotype ----------------------------------------------------------------
    def _draw(self, stream: int, mask: np.ndarray) -> np.ndarray:
        return rng.uniform(self.seed, self.ids[mask], self.step_count, stream)

    def phenotype_step(self, dt: float, oxygen: np.ndarray | None = None,
                       cycle_modifier: np.ndarray | None = None, death_modifier: np.ndarray | None = None,
                       id_source: Callable[[np.ndarray], np.ndarray] | None = None) -> StepEvents:
        """One phenotype step (module docstring): death, cycle, removal, volume, division.

        Parameters
        ----------
        dt
            Step length (min).
        oxygen
            Local oxygen of each cell (needed when ``necrosis_threshold`` is set).
        cycle_modifier, death_modifier
            Per-cell multipliers of the cycle rate and of the apoptosis rate (default 1;
            negative values count as 0).
        id_source
            Called with the ids of the dividing cells, returns one new id per parent
            (e.g. ``msm.AgentSet.divide``); default :meth:`new_ids`.

        The step ends at :attr:`time` (mechanics advance the clock; see :meth:`run`).

        Returns
        -------
        StepEvents
            Divisions (parents, daughters, cycle times), removed ids and cells newly dead.
        """
        p = self.params
        n = self.count
        ev = StepEvents()
        mc = np.ones(n) if cycle_modifier is None else np.maximum(np.asarray(cycle_modifier, float), 0.0)
        md = np.ones(n) if death_modifier is None else np.maximum(np.asarray(death_modifier, float), 0.0)
        live = self.live
        # 1. necrosis below the oxygen threshold
        if p.necrosis_threshold is not None:
            if oxygen is None:
                raise ValueError("necrosis_threshold is set but no oxygen values were given")
            c = np.asarray(oxygen, dtype=float)
            span = max(p.necrosis_threshold - p.necrosis_max, 1e-300)
            ramp = np.clip((p.necrosis_threshold - c) / span, 0.0, 1.0)
            cand = live & (c < p.necrosis_threshold)
            hit = np.zeros(n, dtype=bool)
            hit[cand] = self._draw(rng.STREAM_NECROSIS, cand) < -np.expm1(-p.necrosis_rate * ramp[cand] * dt)
            self.phase[hit] = NECROTIC
            self.age[hit] = 0.0
            ev.necrotic = self.ids[hit]
            live = live & ~hit
        # 2. apoptosis
        if p.apoptosis_rate > 0.0:
            hit = np.zeros(n, dtype=bool)
            hit[live] = self._draw(rng.STREAM_APOPTOSIS, live) < -np.expm1(-p.apoptosis_rate * md[live] * dt)
            self.phase[hit] = APOPTOTIC
            self.age[hit] = 0.0
            ev.apoptotic = self.ids[hit]
            live = live & ~hit
        # 3. cycle of the live cells
        idx = np.flatnonzero(live)
        ph, ag = self.phase[idx], self.age[idx]
        divide_sub = p.cycle.advance(ph, ag, dt, mc[idx], self._draw(rng.STREAM_DIVIDE, live))
        self.phase[idx], self.age[idx] = ph, ag
        parents = idx[divide_sub]
        parents = parents[np.argsort(self.ids[parents], kind="stable")]  # daughters' ids follow the parents' ids
        # 4. dead cells age and are removed
        self.age[~self.live] += dt  # a cell dies at the start of the step: the new dead age by dt too
        gone = ((self.phase == APOPTOTIC) & (self.age >= p.apoptosis_duration - 1e-9 * dt)) | (
            (self.phase == NECROTIC) & (self.age >= p.necrosis_duration - 1e-9 * dt))
        # 5. volume relaxation, exact over dt
        target = np.where(self.live, p.target_volume, 0.0)
        rate = np.where(self.live, p.growth_rate,
                        np.where(self.phase == APOPTOTIC, p.apoptotic_shrink_rate, p.necrotic_shrink_rate))
        self.volume = target + (self.volume - target) * np.exp(-rate * dt)
        # 6. division (before removal, so the indices hold)
        ev.parents = self.ids[parents].copy()
        ev.cycle_times = self.time - self.birth_time[parents]
        if len(parents):
            daughter_ids = (self.new_ids(len(parents)) if id_source is None
                            else np.asarray(id_source(ev.parents), dtype=np.int64))
            ev.daughters = self.divide(parents, daughter_ids, self.time)
        ev.removed = self.ids[np.flatnonzero(np.concatenate([gone, np.zeros(len(ev.daughters), bool)]))]
        if len(ev.removed):
            self.keep(~np.isin(self.ids, ev.removed))
        self.step_count += 1
        return ev

    def divide(self, parents: np.ndarray, daughter_ids: np.ndarray, when: float) -> np.ndarray:
        """Split the cells at indices ``parents``; daughters (ids ``daughter_ids``) are appended.

        Returns the daughter ids.
        """
        if len(daughter_ids) != len(parents):
            raise ValueError(f"{len(daughter_ids)} daughter ids for {len(parents)} dividing cells")
        half = 0.5 * self.volume[parents]
        self.volume[parents] = half
        u = rng.unit_vectors(self.seed, self.ids[parents], self.step_count, self.dim)
        offset = (_DAUGHTER_OFFSET * radius_of(half))[:, None] * u
        xp = self.positions[parents]
        self.positions[parents] = xp - offset
        self.has_prev[parents] = False
        self.v_prev[parents] = 0.0
        self.birth_time[parents] = when
        self.ids = np.concatenate([self.ids, daughter_ids])
        self.positions = np.concatenate([self.positions, xp + offset])
        self.v_prev = np.concatenate([self.v_prev, np.zeros_like(xp)])
        self.has_prev = np.concatenate([self.has_prev, np.zeros(len(parents), bool)])
        self.volume = np.concatenate([self.volume, half])
        self.phase = np.concatenate([self.phase, self.phase[parents]])
        self.age = np.concatenate([self.age, self.age[parents]])
        self.birth_time = np.concatenate([self.birth_time, np.full(len(parents), when)])
        self.next_id = max(self.next_id, int(daughter_ids.max()) + 1)
        return daughter_ids
