"""Cell-cycle models: PhysiCell's "live" birth-rate model and a phased model.

Times are in minutes. Each model advances, in place, the phase index and the
time spent in the current phase of the live cells it is given, by one
phenotype step ``dt``, and says which of them divide (division happens at the
exit of the last phase, as PhysiCell's ``division_at_phase_exit``).

* :class:`LiveCycle` - one phase; a cell divides in a step with probability
  ``p = exp(b m dt) - 1`` (``m`` is the cell's cycle modifier; needs ``b m dt <
  ln 2``). Each cell then leaves 1 + Bernoulli(p) cells per step, so the mean
  population grows by ``1 + p = exp(b m dt)`` per step: exactly ``N0 exp(b t)`` at
  the step times, the mean of the continuous-time Yule (pure-birth) process.
  PhysiCell uses ``p = b dt``, the first-order approximation of the same.
  PhysiCell's default birth rate is ``0.0432/60`` 1/min (PhysiCell
  ``create_live_model``: "MCF10A have ~0.04 1/hr net birth rate").
* :class:`PhasedCycle` - phases with durations ``T_k``; transitions either
  *deterministic* (a cell leaves phase k once its phase clock, advanced by
  ``m dt`` per step, reaches ``T_k``; the remainder carries over, so the mean
  cycle time is ``sum T_k / m`` exactly) or *exponential* (left with probability
  ``1 - exp(-m dt / T_k)`` per step: a geometric number of steps with mean
  ``dt / (1 - exp(-m dt / T_k))``, which tends to ``T_k / m`` as dt -> 0).
  PhysiCell's "flow cytometry separated" model has G0/G1, S, G2, M with mean
  durations 1/0.00335, 1/0.00208, 1/0.00417 and 1/0.0167 min (4.98, 8, 4, 1 h).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["CycleModel", "LiveCycle", "PhasedCycle", "FLOW_CYTOMETRY_SEPARATED"]

# PhysiCell's flow_cytometry_separated_cycle_model (PhysiCell_standard_models.cpp): mean phase durations, min.
FLOW_CYTOMETRY_SEPARATED: dict[str, float] = {
    "G0/G1": 1.0 / 0.00335, "S": 1.0 / 0.00208, "G2": 1.0 / 0.00417, "M": 1.0 / 0.0167}


class CycleModel:
    """Interface of a cycle model (see the module docstring)."""

    phase_names: tuple[str, ...] = ()

    def advance(self, phase: np.ndarray, age: np.ndarray, dt: float, modifier: np.ndarray,
                u: np.ndarray) -> np.ndarray:
        """Advance phases and phase clocks in place by ``dt``; return the mask of cells that divide.

        Parameters
        ----------
        phase, age
            Phase index and time in the phase (or phase clock) of each cell; changed in place.
        dt
            Phenotype step (min).
        modifier
            Non-negative cycle-rate multiplier per cell (1 = unchanged, 0 = arrested).
        u
            One uniform number on [0, 1) per cell (used by stochastic transitions).
        """
        raise NotImplementedError

    def expected_cycle_time(self, dt: float) -> float:
        """Mean time from birth to division of the discrete-time model with modifier 1."""
        raise NotImplementedError


class LiveCycle(CycleModel):
    """One phase with division at birth rate ``birth_rate`` (1/min)."""

    phase_names = ("live",)

    def __init__(self, birth_rate: float) -> None:
        self.birth_rate = float(birth_rate)

    def division_probability(self, dt: float, modifier: np.ndarray | float = 1.0) -> np.ndarray:
        """``exp(b m dt) - 1`` (capped at 1): probability that a cell divides in one step."""
        return np.minimum(np.expm1(self.birth_rate * np.asarray(modifier, dtype=float) * dt), 1.0)

    def advance(self, phase: np.ndarray, age: np.ndarray, dt: float, modifier: np.ndarray,
                u: np.ndarray) -> np.ndarray:
        age += dt
        return u < self.division_probability(dt, modifier)

    def expected_cycle_time(self, dt: float) -> float:
        p = float(self.division_probability(dt))
        return dt / p


class PhasedCycle(CycleModel):
    """Phases with durations (min), deterministic or exponential transitions."""

    def __init__(self, durations: Sequence[float], names: Sequence[str] | None = None,
                 transitions: str = "deterministic") -> None:
        self.durations = np.asarray(durations, dtype=float)
        if self.durations.ndim != 1 or len(self.durations) == 0 or np.any(self.durations <= 0):
            raise ValueError(f"phase durations must be a non-empty list of positive times, got {durations!r}")
        if names is None:
            names = tuple(f"phase{k}" for k in range(len(self.durations)))
        if len(names) != len(self.durations):
            raise ValueError(f"{len(names)} phase names for {len(self.durations)} durations")
        if transitions not in ("deterministic", "exponential"):
            raise ValueError(f"transitions must be 'deterministic' or 'exponential', got {transitions!r}")
        self.phase_names = tuple(names)
        self.transitions = transitions

    def advance(self, phase: np.ndarray, age: np.ndarray, dt: float, modifier: np.ndarray,
                u: np.ndarray) -> np.ndarray:
        T = self.durations[phase]
        if self.transitions == "deterministic":
            age += modifier * dt
            # round-off guard: a clock within 1e-9 dt of the duration has reached it
            leave = age >= T - 1e-9 * dt
            age[leave] = np.maximum(age[leave] - T[leave], 0.0)
        else:
            age += dt
            leave = u < -np.expm1(-modifier * dt / T)
            age[leave] = 0.0
        last = len(self.durations) - 1
        divide = leave & (phase == last)
        phase[leave] += 1
        phase[divide] = 0
        return divide

    def expected_cycle_time(self, dt: float) -> float:
        if self.transitions == "deterministic":
            return float(self.durations.sum())
        return float(np.sum(dt / -np.expm1(-dt / self.durations)))
