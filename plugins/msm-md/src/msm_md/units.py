"""Reduced Lennard-Jones units and how they map onto OpenMM's units.

msm-md works in reduced units: lengths in σ, energies in ε, masses in m (the
particle mass), so that time is in τ = σ (m/ε)^½, temperature in ε/k_B,
pressure and stress in ε/σ³, force in ε/σ, velocity in σ/τ and number density
in σ⁻³. (With the Morse potential ε is the well depth ``D`` and σ stays the
length unit.)

OpenMM has fixed units (nm, ps, kJ/mol, amu = g/mol, K). msm-md builds its
OpenMM systems with **σ = 1 nm, ε = 1 kJ/mol and m = 1 amu**; then

* length:   1 σ  ↔ 1 nm
* energy:   1 ε  ↔ 1 kJ/mol
* mass:     1 m  ↔ 1 g/mol
* time:     1 τ = 1 nm · (1 g/mol / 1 kJ/mol)^½ = 1e-9 m · 1e-3 s/m = 1 ps exactly
* velocity: 1 σ/τ ↔ 1 nm/ps;   force: 1 ε/σ ↔ 1 kJ/mol/nm
* temperature: T* = k_B T/ε, so OpenMM's Kelvin value is T* / R with
  R = 0.0083144626… kJ/(mol K) (:func:`kelvin`)
* pressure: 1 ε/σ³ ↔ 1 kJ/mol/nm³ = 16.6054 bar (msm-md computes pressures
  itself from the virial, so OpenMM's barostat units never enter)

Every number a component reads or writes (settings, ports) is reduced, so the
OpenMM values pass through unchanged except temperatures. To turn reduced
numbers into a real substance, multiply by its scales: for argon
(σ = 0.3405 nm, ε/k_B = 119.8 K, m = 39.948 u) τ = 2.16 ps, ε/σ³ = 41.9 MPa,
σ/τ = 157.9 m/s (:func:`argon_scales`).

The port unit strings are labels in these units (``"sigma/tau"``,
``"epsilon/sigma^3"`` …): msmcore connects ports whose unit strings are
equal without parsing them, and refuses to connect them to SI units (it
cannot parse ``sigma``), so reduced and SI data cannot be mixed by accident.
"""

from __future__ import annotations

import math

__all__ = [
    "KB_KJ_PER_MOL_K",
    "KJ_PER_MOL_NM3_IN_BAR",
    "LENGTH",
    "TIME",
    "ENERGY",
    "TEMPERATURE",
    "VELOCITY",
    "FORCE",
    "PRESSURE",
    "NUMBER_DENSITY",
    "argon_scales",
    "kelvin",
    "reduced_temperature",
]

#: Molar gas constant R = N_A k_B in kJ/(mol K) (CODATA 2018, the value OpenMM uses).
KB_KJ_PER_MOL_K = 0.00831446261815324

#: 1 kJ/mol/nm³ in bar (1000 J / 6.02214076e23 / 1e-27 m³ = 1.66054e6 Pa).
KJ_PER_MOL_NM3_IN_BAR = 1000.0 / 6.02214076e23 / 1e-27 / 1e5

# Unit labels of the ports (reduced units).
LENGTH = "sigma"
TIME = "tau"
ENERGY = "epsilon"
TEMPERATURE = "epsilon/kB"
VELOCITY = "sigma/tau"
FORCE = "epsilon/sigma"
PRESSURE = "epsilon/sigma^3"
NUMBER_DENSITY = "1/sigma^3"


def kelvin(t_reduced: float) -> float:
    """OpenMM's temperature in K for a reduced temperature (ε = 1 kJ/mol)."""
    return t_reduced / KB_KJ_PER_MOL_K


def reduced_temperature(t_kelvin: float) -> float:
    """The reduced temperature of an OpenMM temperature in K (ε = 1 kJ/mol)."""
    return t_kelvin * KB_KJ_PER_MOL_K


def argon_scales() -> dict[str, float]:
    """SI values of the reduced units for argon (σ = 0.3405 nm, ε/k_B = 119.8 K, m = 39.948 u).

    Returns
    -------
    dict
        ``length`` (m), ``energy`` (J), ``mass`` (kg), ``time`` (s),
        ``temperature`` (K), ``pressure`` (Pa), ``velocity`` (m/s).
    """
    sigma = 0.3405e-9
    epsilon = 119.8 * 1.380649e-23
    mass = 39.948 * 1.66053906660e-27
    tau = sigma * math.sqrt(mass / epsilon)
    return {
        "length": sigma,
        "energy": epsilon,
        "mass": mass,
        "time": tau,
        "temperature": 119.8,
        "pressure": epsilon / sigma**3,
        "velocity": sigma / tau,
    }
