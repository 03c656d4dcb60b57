"""OpenMM integrators and thermostats in reduced units.

* ``"verlet"`` — velocity Verlet (a ``CustomIntegrator``: half kick, drift,
  half kick), so positions and velocities are reported at the same time
  (OpenMM's own ``VerletIntegrator`` is a leapfrog whose velocities lag half a
  step). Optional thermostats: ``"nose-hoover"`` (OpenMM's
  ``NoseHooverIntegrator``, a velocity-Verlet Nosé–Hoover chain of length 3),
  ``"andersen"`` (OpenMM's ``AndersenThermostat``: collisions at
  ``thermostat_rate`` per particle per τ), ``"rescale"`` (done by the
  component: every ``rescale_interval`` steps the velocities relative to the
  slab means are scaled to the target temperature — a profile-unbiased
  thermostat that leaves a mean flow alone).
* ``"langevin"`` — BAOAB Langevin dynamics (Leimkuhler & Matthews,
  Appl. Math. Res. Express 2013, 34–56): half kick, half drift, the exact
  Ornstein–Uhlenbeck update ``v ← e^{−γΔt} v + (1 − e^{−2γΔt})^½ (k_BT/m)^½ R``,
  half drift, half kick; its configurational averages are accurate to
  O(Δt²) with a small constant. The friction can act on some axes only
  (``thermostat_axes``; Nie et al. thermostat only the direction normal to
  the flow plane so that the thermostat does not drag the flow).

Massless particles (wall atoms) are left alone by every OpenMM integrator.
"""

from __future__ import annotations

from typing import Any

from msm_md.units import kelvin

__all__ = ["build_integrator"]


def build_integrator(kind: str, thermostat: str, dt: float, temperature: float, rate: float,
                     axes: tuple[bool, ...], n_particles: int, seed: int,
                     velocity_shift: bool = False) -> tuple[Any, list[Any]]:
    """The OpenMM integrator, and any extra forces the thermostat needs.

    Parameters
    ----------
    kind
        ``"verlet"`` or ``"langevin"``.
    thermostat
        ``"none"``, ``"langevin"``, ``"nose-hoover"``, ``"andersen"`` or
        ``"rescale"`` (the last is applied by the component, not here).
    dt, temperature, rate
        Step (τ), target temperature (ε/k_B), friction / collision frequency (1/τ).
    axes
        Which Cartesian components the Langevin friction acts on.
    n_particles
        All particles of the system (for the per-degree-of-freedom axis mask).
    seed
        OpenMM random seed (> 0), set before the Context is created.
    velocity_shift
        Add a per-particle velocity shift (the per-DOF variable ``cshift``,
        set by :func:`set_velocity_shift`) at the start of every step (the same
        shift every step until it is set again; ``md.lj`` sets it after each step). This
        applies the velocity constraint without ``Context.setVelocities``,
        after which OpenMM would recompute the forces it already has. Not
        available with Nose-Hoover.
    """
    import openmm

    forces: list[Any] = []
    if kind == "verlet" and thermostat == "nose-hoover":
        integrator = openmm.NoseHooverIntegrator(kelvin(temperature), rate, dt)
        return integrator, forces
    integrator = openmm.CustomIntegrator(dt)
    integrator.addUpdateContextState()
    if velocity_shift:
        integrator.addPerDofVariable("cshift", 0.0)
        integrator.addComputePerDof("v", "v + cshift")
    if kind == "langevin":
        integrator.addGlobalVariable("kT", temperature)
        integrator.addGlobalVariable("gamma", rate)
        integrator.addPerDofVariable("fric", 0.0)
        integrator.addComputePerDof("v", "v + 0.5*dt*f/m")
        integrator.addComputePerDof("x", "x + 0.5*dt*v")
        integrator.addComputePerDof(
            "v", "v + fric*((exp(-gamma*dt) - 1)*v + sqrt((1 - exp(-2*gamma*dt))*kT/m)*gaussian)")
        integrator.addComputePerDof("x", "x + 0.5*dt*v")
        integrator.addComputePerDof("v", "v + 0.5*dt*f/m")
        mask = openmm.Vec3(*(1.0 if a else 0.0 for a in axes))
        integrator.setPerDofVariableByName("fric", [mask] * n_particles)
    else:
        integrator.addComputePerDof("v", "v + 0.5*dt*f/m")
        integrator.addComputePerDof("x", "x + dt*v")
        integrator.addComputePerDof("v", "v + 0.5*dt*f/m")
        if thermostat == "andersen":
            andersen = openmm.AndersenThermostat(kelvin(temperature), rate)
            andersen.setRandomNumberSeed(seed)
            forces.append(andersen)
    integrator.setRandomNumberSeed(seed)
    return integrator, forces


def set_velocity_shift(integrator: Any, shift: Any) -> None:
    """Set the velocity shift ``(n_particles, 3)`` added at the start of the next steps."""
    integrator.setPerDofVariableByName("cshift", shift)


def set_step(integrator: Any, dt: float) -> None:
    """Change the step length (BAOAB's coefficients are computed from ``dt`` each step)."""
    current = integrator.getStepSize()
    current = float(getattr(current, "_value", current))  # a Quantity in ps = tau
    if current != dt:
        integrator.setStepSize(dt)
