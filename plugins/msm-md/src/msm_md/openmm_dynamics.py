"""Integrators and the per-atom external force of ``md.openmm``.

``"verlet"`` is velocity Verlet split in two OpenMM ``CustomIntegrator`` s in one
``CompoundIntegrator`` (the recipe of OpenMM's ``CustomIntegrator`` docs, cut
after the drift):

* ``kick-drift`` (index 1): ``v += dt/2 f(x_n)/m``; ``x += dt v``; positions
  constrained, velocities corrected by the constraint displacement;
* ``finish`` (index 0): ``v += dt/2 f(x_{n+1})/m``; velocities constrained.

The ``finish`` half of a step runs at the start of the *next* step, once the
external forces at ``x_{n+1}`` have arrived (a QM/MM coupling computes them
from ``x_{n+1}``): both halves use the forces of one set of positions, which
is what keeps velocity Verlet time reversible and energy conserving when part
of the force comes from outside OpenMM. After ``finish`` the velocities are
the on-step ones, so the kinetic energy at ``t_n`` is exact (no half-step
average). ``"langevin"`` is OpenMM's ``LangevinMiddleIntegrator`` (BAOAB-type,
Zhang et al. 2019), which uses the forces of one set of positions per step
as well.

The external force is one ``CustomExternalForce`` ``-(fx x + fy y + fz z)`` over
every atom that can receive a force, with per-atom parameters; its "energy"
means nothing, so it sits in its own force group (:data:`EXTERNAL_GROUP`),
left out of reported potential energies.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["EXTERNAL_GROUP", "ExternalForces", "build_integrator", "FINISH", "KICK_DRIFT"]

#: Force group of the external forces (OpenMM allows 0-31).
EXTERNAL_GROUP = 31
#: Indices in the verlet ``CompoundIntegrator``.
FINISH, KICK_DRIFT = 0, 1


def _verlet(dt: float) -> Any:
    import openmm

    finish = openmm.CustomIntegrator(dt)
    finish.addComputePerDof("v", "v + 0.5*dt*f/m")
    finish.addConstrainVelocities()
    kick = openmm.CustomIntegrator(dt)
    kick.addPerDofVariable("x1", 0.0)
    kick.addUpdateContextState()
    kick.addComputePerDof("v", "v + 0.5*dt*f/m")
    kick.addComputePerDof("x", "x + dt*v")
    kick.addComputePerDof("x1", "x")
    kick.addConstrainPositions()
    kick.addComputePerDof("v", "v + (x - x1)/dt")
    compound = openmm.CompoundIntegrator()
    compound.addIntegrator(finish)
    compound.addIntegrator(kick)
    compound.setCurrentIntegrator(KICK_DRIFT)
    return compound


def build_integrator(kind: str, dt: float, temperature: float, friction: float, seed: int,
                     tolerance: float = 1e-6) -> Any:
    """``"langevin"`` (OpenMM's LangevinMiddleIntegrator) or ``"verlet"`` (split velocity Verlet).

    ``dt`` in ps, ``temperature`` in K, ``friction`` in 1/ps.
    """
    import openmm

    if kind == "langevin":
        integrator = openmm.LangevinMiddleIntegrator(temperature, friction, dt)
        integrator.setRandomNumberSeed(seed)
    else:
        integrator = _verlet(dt)
    integrator.setConstraintTolerance(tolerance)
    return integrator


def set_step(integrator: Any, dt: float) -> None:
    """Set the step length of every integrator inside ``integrator``."""
    import openmm

    if isinstance(integrator, openmm.CompoundIntegrator):
        for k in range(integrator.getNumIntegrators()):
            integrator.getIntegrator(k).setStepSize(dt)
    else:
        integrator.setStepSize(dt)


class ExternalForces:
    """A constant force per atom (kJ/mol/nm), changed between steps.

    Parameters
    ----------
    atoms
        The atoms that can receive a force, in the order of :meth:`set`'s rows.
    """

    def __init__(self, atoms: np.ndarray) -> None:
        import openmm

        self.atoms = np.asarray(atoms, dtype=np.int64)
        self.force = openmm.CustomExternalForce("-(fx*x + fy*y + fz*z)")
        for name in ("fx", "fy", "fz"):
            self.force.addPerParticleParameter(name)
        for a in self.atoms:
            self.force.addParticle(int(a), [0.0, 0.0, 0.0])
        self.force.setForceGroup(EXTERNAL_GROUP)
        self.values = np.zeros((len(self.atoms), 3))

    def set(self, values: np.ndarray, context: Any) -> None:
        """Apply ``values`` (``(len(atoms), 3)``); only rows that changed are sent to OpenMM."""
        values = np.asarray(values, dtype=np.float64).reshape(len(self.atoms), 3)
        changed = np.flatnonzero(np.any(values != self.values, axis=1))
        if changed.size == 0:
            return
        for k in changed:
            self.force.setParticleParameters(int(k), int(self.atoms[k]), values[k].tolist())
        self.values[changed] = values[changed]
        if context is not None:
            self.force.updateParametersInContext(context)
