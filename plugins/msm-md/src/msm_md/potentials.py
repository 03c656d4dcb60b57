"""Pair potentials in reduced units: energies, forces, tail corrections, OpenMM forces.

Two potentials, both cut off at ``r_c``:

* Lennard-Jones ``u(r) = 4 ε [(σ/r)^12 − (σ/r)^6]`` (σ = ε = 1);
* Morse ``u(r) = D [e^{−2a(r−r0)} − 2 e^{−a(r−r0)}]`` (depth ``D`` at ``r0``).

Three truncations:

* ``"lrc"`` — truncated at ``r_c`` (not shifted) plus the analytic long-range
  (tail) corrections for a uniform fluid, g(r) = 1 beyond ``r_c``:
  ``U_tail/N = 2πρ ∫_rc^∞ r² u(r) dr`` and
  ``P_tail = −(2π/3) ρ² ∫_rc^∞ r³ u'(r) dr``;
  for Lennard-Jones ``U_tail/N = (8/3)πρ[(1/3) r_c^−9 − r_c^−3]`` and
  ``P_tail = (16/3)πρ²[(2/3) r_c^−9 − r_c^−3]`` (Allen & Tildesley,
  *Computer Simulation of Liquids*, 2nd ed., §2.8). This is the convention of
  NIST's LJ reference data and of Johnson et al.'s equation of state;
* ``"truncated"`` — truncated at ``r_c``, no corrections;
* ``"shifted"`` — ``u(r) − u(r_c)`` inside ``r_c`` (energy continuous; forces unchanged).

The same expressions drive OpenMM (through :meth:`PairPotential.openmm_force`)
and msm-md's own NumPy evaluation of energies and virials
(:mod:`msm_md.pairs`), so the two agree to round-off (a test checks it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["PairPotential", "TRUNCATIONS"]

TRUNCATIONS = ("lrc", "truncated", "shifted")


@dataclass(frozen=True)
class PairPotential:
    """A cut-off pair potential.

    Parameters
    ----------
    kind
        ``"lj"`` or ``"morse"``.
    cutoff
        ``r_c`` in σ.
    truncation
        ``"lrc"``, ``"truncated"`` or ``"shifted"`` (see the module notes).
    depth, alpha, r0
        Morse ``D`` (ε), ``a`` (1/σ) and ``r0`` (σ); unused for ``"lj"``.
    """

    kind: str = "lj"
    cutoff: float = 2.5
    truncation: str = "lrc"
    depth: float = 1.0
    alpha: float = 6.0
    r0: float = 2.0 ** (1.0 / 6.0)

    # -- the potential -------------------------------------------------------
    def bare(self, r: np.ndarray | float) -> np.ndarray:
        """``u(r)`` without truncation or shift."""
        r = np.asarray(r, dtype=np.float64)
        if self.kind == "lj":
            ir6 = r**-6
            return 4.0 * (ir6 * ir6 - ir6)
        e = np.exp(-self.alpha * (r - self.r0))
        return self.depth * (e * e - 2.0 * e)

    def bare_derivative(self, r: np.ndarray | float) -> np.ndarray:
        """``u'(r)`` without truncation."""
        r = np.asarray(r, dtype=np.float64)
        if self.kind == "lj":
            ir6 = r**-6
            return -24.0 * (2.0 * ir6 * ir6 - ir6) / r
        e = np.exp(-self.alpha * (r - self.r0))
        return 2.0 * self.alpha * self.depth * (e - e * e)

    @property
    def shift(self) -> float:
        """The constant subtracted inside the cut-off (``u(r_c)`` when shifted, else 0)."""
        return float(self.bare(self.cutoff)) if self.truncation == "shifted" else 0.0

    def energy_and_force_over_r(self, r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pair energies and ``−u'(r)/r`` for squared distances ``r2`` (all < r_c²).

        ``−u'(r)/r`` times the separation vector ``r_j − r_i`` is the force on
        ``j`` from ``i``; times ``(r_j − r_i)_α (r_j − r_i)_β`` it is the pair's
        virial ``W_αβ``.
        """
        if self.kind == "lj":
            ir2 = 1.0 / r2
            ir6 = ir2 * ir2 * ir2
            energy = 4.0 * (ir6 * ir6 - ir6) - self.shift
            return energy, 24.0 * (2.0 * ir6 * ir6 - ir6) * ir2
        r = np.sqrt(r2)
        e = np.exp(-self.alpha * (r - self.r0))
        energy = self.depth * (e * e - 2.0 * e) - self.shift
        return energy, 2.0 * self.alpha * self.depth * (e * e - e) / r

    # -- tail corrections ------------------------------------------------------
    def tail_energy_per_particle(self, density: float) -> float:
        """``U_tail/N`` at number density ``density`` (0 unless ``truncation == "lrc"``)."""
        if self.truncation != "lrc":
            return 0.0
        rc = self.cutoff
        if self.kind == "lj":
            return 8.0 / 3.0 * math.pi * density * (rc**-9 / 3.0 - rc**-3)
        return 2.0 * math.pi * density * _integrate(lambda r: r * r * self.bare(r), rc)

    def tail_pressure(self, density: float) -> float:
        """``P_tail`` at number density ``density`` (0 unless ``truncation == "lrc"``)."""
        if self.truncation != "lrc":
            return 0.0
        rc = self.cutoff
        if self.kind == "lj":
            return 16.0 / 3.0 * math.pi * density**2 * (2.0 / 3.0 * rc**-9 - rc**-3)
        return -2.0 / 3.0 * math.pi * density**2 * _integrate(lambda r: r**3 * self.bare_derivative(r), rc)

    # -- OpenMM ----------------------------------------------------------------
    def openmm_force(self, n_fluid: int, n_wall: int, wall_epsilon: float, long_range: bool) -> Any:
        """The OpenMM force of this potential for ``n_fluid`` fluid then ``n_wall`` wall particles.

        Plain Lennard-Jones without a shift uses OpenMM's optimised
        ``NonbondedForce`` (zero charges, ``CutoffPeriodic``, dispersion
        correction = the LJ tail correction); Morse or shifted potentials use a
        ``CustomNonbondedForce`` with OpenMM's numerical long-range correction.
        Fluid–wall pairs are scaled by ``wall_epsilon``.
        """
        import openmm

        n = n_fluid + n_wall
        if self.kind == "lj" and self.truncation != "shifted":
            force = openmm.NonbondedForce()
            force.setNonbondedMethod(openmm.NonbondedForce.CutoffPeriodic)
            force.setCutoffDistance(self.cutoff)
            force.setUseSwitchingFunction(False)
            force.setUseDispersionCorrection(long_range)
            force.setReactionFieldDielectric(1.0)
            # Lorentz-Berthelot: eps_ij = sqrt(eps_i eps_j), so the wall gets eps_w^2.
            for i in range(n):
                force.addParticle(0.0, 1.0, 1.0 if i < n_fluid else wall_epsilon**2)
            return force
        if self.kind == "lj":
            expr = "scale*(4*(r^-12 - r^-6) - ushift)"
        else:
            expr = "scale*(depth*(exp(-2*alpha*(r - r0)) - 2*exp(-alpha*(r - r0))) - ushift)"
        force = openmm.CustomNonbondedForce(expr + "; scale = w1*w2")
        force.addGlobalParameter("ushift", self.shift)
        if self.kind == "morse":
            force.addGlobalParameter("depth", self.depth)
            force.addGlobalParameter("alpha", self.alpha)
            force.addGlobalParameter("r0", self.r0)
        force.addPerParticleParameter("w")
        force.setNonbondedMethod(openmm.CustomNonbondedForce.CutoffPeriodic)
        force.setCutoffDistance(self.cutoff)
        force.setUseSwitchingFunction(False)
        force.setUseLongRangeCorrection(long_range)
        for i in range(n):
            force.addParticle([1.0 if i < n_fluid else wall_epsilon])
        if n_wall:
            fluid, wall = range(n_fluid), range(n_fluid, n)
            force.addInteractionGroup(fluid, fluid)
            force.addInteractionGroup(fluid, wall)
        return force

    def describe(self) -> str:
        """One line for logs."""
        what = "Lennard-Jones" if self.kind == "lj" else (
            f"Morse (D={self.depth:g}, a={self.alpha:g}, r0={self.r0:g})")
        return f"{what}, cut off at {self.cutoff:g} sigma, {self.truncation}"


def _integrate(func: Any, lower: float) -> float:
    from scipy.integrate import quad

    value, _ = quad(func, lower, np.inf, limit=200)
    return float(value)
