"""Integrators of ``md.openmm``, with a per-atom external force ``fext`` inside them.

Both integrators are OpenMM ``CustomIntegrator`` s whose force is ``f + fext``: ``f`` is
OpenMM's (the carved system), ``fext`` a per-DOF integrator variable holding the external
forces (kJ/mol/nm), set in one call per window (:func:`set_external`; a
``CustomExternalForce`` with per-particle parameters would cost a Python call per atom and a
context update, ~10 ms for 650 atoms, against 0.1 ms). ``fext`` enters no energy.

``"verlet"`` is velocity Verlet (the recipe of OpenMM's ``CustomIntegrator`` docs) cut
after the drift, two integrators in one ``CompoundIntegrator``:

* ``full`` (index :data:`FULL`), every step but a run's first: the potential energy ``epot``
  of ``x_n`` (OpenMM's, from the force evaluation the kicks use); ``v += dt/2 (f+fext)/m``,
  velocities constrained - the *previous* step's second half kick, done now that the
  external forces at ``x_n`` have arrived; the on-step kinetic energy ``ke``; then this
  step's ``v += dt/2 (f+fext)/m``, ``x += dt v``, positions constrained and velocities
  corrected by the constraint displacement;
* ``kick-drift`` (index :data:`KICK_DRIFT`), a run's first step: the same without the
  leading half kick (the initial velocities are on-step already).

Both half kicks around ``x_n`` use the forces of ``x_n``, external ones included (a QM/MM
coupling computes them from ``x_n`` and sends them before the step): velocity Verlet stays
time reversible and energy conserving when part of the force comes from outside OpenMM,
and the kinetic energy at ``t_n`` is exact (no half-step average).

``"langevin"`` is OpenMM's ``LangevinMiddleIntegrator`` scheme (Zhang, Liu & Zhang, J. Phys.
Chem. Lett. 10, 2019; the ``CustomIntegrator`` form of OpenMM's documentation):
``v += dt (f+fext)/m``; ``x += dt/2 v``; ``v = a v + b sqrt(kT/m) R``; ``x += dt/2 v``;
constraints, with ``a = exp(-γ dt)``, ``b = sqrt(1 - a²)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["FULL", "KICK_DRIFT", "build_integrator", "set_external", "set_step", "step_energies"]

#: Indices in the verlet ``CompoundIntegrator``.
FULL, KICK_DRIFT = 0, 1
_KB = 0.0083144626  # kJ/(mol K)


def _verlet_step(integrator: Any, finish_previous: bool) -> Any:
    integrator.addComputeGlobal("epot", "energy")
    if finish_previous:
        integrator.addComputePerDof("v", "v + 0.5*dt*(f + fext)/m")
        integrator.addConstrainVelocities()
    integrator.addComputeSum("ke", "0.5*m*v*v")
    integrator.addUpdateContextState()
    integrator.addComputePerDof("v", "v + 0.5*dt*(f + fext)/m")
    integrator.addComputePerDof("x", "x + dt*v")
    integrator.addComputePerDof("x1", "x")
    integrator.addConstrainPositions()
    integrator.addComputePerDof("v", "v + (x - x1)/dt")
    return integrator


def _verlet(dt: float, tolerance: float) -> Any:
    import openmm

    compound = openmm.CompoundIntegrator()
    for finish in (True, False):  # FULL, KICK_DRIFT
        step = openmm.CustomIntegrator(dt)
        for name in ("ke", "epot"):
            step.addGlobalVariable(name, 0.0)
        step.addPerDofVariable("x1", 0.0)
        step.addPerDofVariable("fext", 0.0)
        step.setConstraintTolerance(tolerance)
        compound.addIntegrator(_verlet_step(step, finish))
    compound.setCurrentIntegrator(KICK_DRIFT)
    return compound


def _langevin(dt: float, temperature: float, friction: float, seed: int, tolerance: float) -> Any:
    import openmm

    integrator = openmm.CustomIntegrator(dt)
    integrator.addGlobalVariable("a", math.exp(-friction * dt))
    integrator.addGlobalVariable("b", math.sqrt(1.0 - math.exp(-2.0 * friction * dt)))
    integrator.addGlobalVariable("kT", _KB * temperature)
    integrator.addGlobalVariable("gamma", friction)
    integrator.addPerDofVariable("x1", 0.0)
    integrator.addPerDofVariable("fext", 0.0)
    integrator.addUpdateContextState()
    integrator.addComputePerDof("v", "v + dt*(f + fext)/m")
    integrator.addConstrainVelocities()
    integrator.addComputePerDof("x", "x + 0.5*dt*v")
    integrator.addComputePerDof("v", "a*v + b*sqrt(kT/m)*gaussian")
    integrator.addComputePerDof("x", "x + 0.5*dt*v")
    integrator.addComputePerDof("x1", "x")
    integrator.addConstrainPositions()
    integrator.addComputePerDof("v", "v + (x - x1)/dt")
    integrator.setRandomNumberSeed(seed)
    integrator.setConstraintTolerance(tolerance)
    return integrator


def build_integrator(kind: str, dt: float, temperature: float, friction: float, seed: int,
                     tolerance: float = 1e-6) -> Any:
    """``"langevin"`` (LangevinMiddle scheme) or ``"verlet"`` (split velocity Verlet).

    ``dt`` in ps, ``temperature`` in K, ``friction`` in 1/ps.
    """
    if kind == "langevin":
        return _langevin(dt, temperature, friction, seed, tolerance)
    return _verlet(dt, tolerance)


def _parts(integrator: Any) -> list[Any]:
    import openmm

    if isinstance(integrator, openmm.CompoundIntegrator):
        return [integrator.getIntegrator(k) for k in range(integrator.getNumIntegrators())]
    return [integrator]


def set_step(integrator: Any, dt: float) -> None:
    """Set the step length (and the Langevin coefficients that depend on it)."""
    for part in _parts(integrator):
        if part.getStepSize() == dt:
            continue
        part.setStepSize(dt)
        try:
            gamma = part.getGlobalVariableByName("gamma")
        except Exception:  # noqa: BLE001 - verlet parts have no friction
            continue
        part.setGlobalVariableByName("a", math.exp(-gamma * dt))
        part.setGlobalVariableByName("b", math.sqrt(1.0 - math.exp(-2.0 * gamma * dt)))


def set_external(integrator: Any, forces: np.ndarray) -> None:
    """Hold ``forces`` (``(n_atoms, 3)``, kJ/mol/nm) as the external force of the next steps."""
    values = np.ascontiguousarray(forces, dtype=np.float64)
    for part in _parts(integrator):
        part.setPerDofVariableByName("fext", values)


def step_energies(integrator: Any) -> tuple[float, float]:
    """(potential, kinetic) energy at the start of the verlet integrator's last step."""
    current = integrator.getIntegrator(integrator.getCurrentIntegrator())
    return float(current.getGlobalVariableByName("epot")), float(current.getGlobalVariableByName("ke"))
