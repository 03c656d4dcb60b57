"""The QM region of ``md.openmm``: which atoms, and the surgery on the OpenMM ``System``.

A QM region is a set of whole molecules, chosen by residue or atom indices.
The embedding (a quantum-chemistry component) computes the QM region's own
energy and its electrostatic interaction with the MM atoms, so
:func:`carve_qm_region` removes from the OpenMM system

* the QM atoms' charges in every ``NonbondedForce`` (set to 0; their
  Lennard-Jones parameters stay, so QM-MM van der Waals stays classical),
* every exception (1-2, 1-3, 1-4 pair) within the QM region, set to zero
  charge product and zero epsilon, and a zero exception added for every other
  QM-QM pair, so no QM-QM Lennard-Jones remains,
* every bonded term (``HarmonicBondForce``, ``HarmonicAngleForce``,
  ``PeriodicTorsionForce``, ``RBTorsionForce``, ``CMAPTorsionForce``, custom bond
  / angle / torsion / compound-bond forces) among QM atoms only, by zeroing its
  force constant or removing it, and
* every constraint between two QM atoms (so a QM water is flexible).

A term that couples QM and MM atoms (a bond across the boundary) means the
selection splits a molecule, which :func:`molecules` detects first: such a
selection is refused. Forces other than those listed that involve QM atoms
(a ``CustomNonbondedForce``, GB solvation ...) are refused too, rather than
silently double counted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

import msmcore as msm

__all__ = ["QMSurgery", "carve_qm_region", "molecules", "select_qm_atoms"]

logger = logging.getLogger(__name__)


def molecules(system: Any) -> list[list[int]]:
    """Atoms grouped into molecules: connected by constraints, bonds or nonbonded exceptions."""
    import openmm

    n = system.getNumParticles()
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    for k in range(system.getNumConstraints()):
        i, j, _ = system.getConstraintParameters(k)
        join(i, j)
    for force in system.getForces():
        if isinstance(force, openmm.HarmonicBondForce):
            for k in range(force.getNumBonds()):
                i, j = force.getBondParameters(k)[:2]
                join(i, j)
        elif isinstance(force, openmm.NonbondedForce):
            for k in range(force.getNumExceptions()):
                i, j = force.getExceptionParameters(k)[:2]
                join(i, j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def select_qm_atoms(topology: Any, system: Any, residues: Iterable[int], atoms: Iterable[int],
                    where: str) -> np.ndarray:
    """The QM atoms (sorted indices): the atoms of ``residues`` plus ``atoms``.

    Raises
    ------
    msmcore.ConfigurationError
        An index out of range, or a selection that contains part of a molecule only.
    """
    n = system.getNumParticles()
    residue_list = list(topology.residues())
    chosen: set[int] = set()
    for r in residues:
        if not 0 <= r < len(residue_list):
            raise msm.ConfigurationError(f"{where}: setting 'qm_residues': residue {r} does not exist; the "
                                         f"structure has residues 0..{len(residue_list) - 1}")
        chosen.update(a.index for a in residue_list[r].atoms())
    for a in atoms:
        if not 0 <= a < n:
            raise msm.ConfigurationError(f"{where}: setting 'qm_atoms': atom {a} does not exist; the system has "
                                         f"atoms 0..{n - 1}")
        chosen.add(a)
    if not chosen:
        return np.zeros(0, dtype=np.int64)
    atom_list = list(topology.atoms())
    for mol in molecules(system):
        inside = [i for i in mol if i in chosen]
        if inside and len(inside) != len(mol):
            outside = [i for i in mol if i not in chosen]
            first = atom_list[mol[0]].residue
            raise msm.ConfigurationError(
                f"{where}: the QM selection splits a molecule (residue {first.index} {first.name}, atoms "
                f"{mol[0]}..{mol[-1]}): atoms {inside[:8]} are QM but {outside[:8]} are not; a QM region is made "
                "of whole molecules - add the rest of it (qm_residues / qm_atoms) or leave it out")
    return np.array(sorted(chosen), dtype=np.int64)


@dataclass
class QMSurgery:
    """What :func:`carve_qm_region` changed (counts, for the log and the tests)."""

    charges_zeroed: int = 0
    exceptions_zeroed: int = 0
    exceptions_added: int = 0
    bonded_removed: int = 0
    constraints_removed: int = 0


_IGNORED = ("CMMotionRemover", "MonteCarloBarostat", "MonteCarloAnisotropicBarostat",
            "MonteCarloMembraneBarostat", "MonteCarloFlexibleBarostat", "AndersenThermostat")


def _qm_only(atoms: Iterable[int], qm: set[int], force: Any, where: str) -> bool:
    """Whether a term lies inside the QM region; raise when it crosses the boundary."""
    inside = [a in qm for a in atoms]
    if all(inside):
        return True
    if any(inside):
        raise msm.ConfigurationError(
            f"{where}: {type(force).__name__} has a term between QM and MM atoms {list(atoms)}; the QM region "
            "must be whole molecules (no bonds across the boundary)")
    return False


def _bonded(force: Any, qm: set[int], where: str) -> int:
    """Zero the bonded terms of ``force`` inside the QM region; returns how many."""
    import openmm

    removed = 0
    if isinstance(force, openmm.HarmonicBondForce):
        for k in range(force.getNumBonds()):
            i, j, r0, _ = force.getBondParameters(k)
            if _qm_only((i, j), qm, force, where):
                force.setBondParameters(k, i, j, r0, 0.0)
                removed += 1
    elif isinstance(force, openmm.HarmonicAngleForce):
        for k in range(force.getNumAngles()):
            i, j, m, theta, _ = force.getAngleParameters(k)
            if _qm_only((i, j, m), qm, force, where):
                force.setAngleParameters(k, i, j, m, theta, 0.0)
                removed += 1
    elif isinstance(force, openmm.PeriodicTorsionForce):
        for k in range(force.getNumTorsions()):
            i, j, m, n, per, phase, _ = force.getTorsionParameters(k)
            if _qm_only((i, j, m, n), qm, force, where):
                force.setTorsionParameters(k, i, j, m, n, per, phase, 0.0)
                removed += 1
    elif isinstance(force, openmm.RBTorsionForce):
        for k in range(force.getNumTorsions()):
            i, j, m, n = force.getTorsionParameters(k)[:4]
            if _qm_only((i, j, m, n), qm, force, where):
                force.setTorsionParameters(k, i, j, m, n, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
                removed += 1
    elif isinstance(force, openmm.CMAPTorsionForce):
        for k in range(force.getNumTorsions()):
            if _qm_only(force.getTorsionParameters(k)[1:], qm, force, where):
                raise msm.ConfigurationError(f"{where}: CMAP torsions inside the QM region are not supported; put "
                                             "protein backbone residues with CMAP terms outside the QM region")
    elif isinstance(force, (openmm.CustomBondForce, openmm.CustomAngleForce, openmm.CustomTorsionForce,
                            openmm.CustomCompoundBondForce)):
        getter, count = {
            openmm.CustomBondForce: ("getBondParameters", "getNumBonds"),
            openmm.CustomAngleForce: ("getAngleParameters", "getNumAngles"),
            openmm.CustomTorsionForce: ("getTorsionParameters", "getNumTorsions"),
            openmm.CustomCompoundBondForce: ("getBondParameters", "getNumBonds"),
        }[type(force)]
        for k in range(getattr(force, count)()):
            params = getattr(force, getter)(k)
            atoms = params[0] if isinstance(force, openmm.CustomCompoundBondForce) else params[:-1]
            if _qm_only(tuple(atoms), qm, force, where):
                raise msm.ConfigurationError(
                    f"{where}: {type(force).__name__} term {k} lies inside the QM region; custom bonded forces "
                    "cannot be switched off there (no generic zero parameter) - remove it from the system")
    else:
        return -1
    return removed


def carve_qm_region(system: Any, qm_atoms: np.ndarray, where: str) -> QMSurgery:
    """Remove the QM region's internal terms and its Coulomb coupling to the MM atoms, in place.

    Raises
    ------
    msmcore.ConfigurationError
        A force that involves QM atoms and cannot be carved (see the module notes).
    """
    import openmm

    qm = {int(i) for i in qm_atoms}
    out = QMSurgery()
    if not qm:
        return out
    for k in reversed(range(system.getNumConstraints())):
        i, j, _ = system.getConstraintParameters(k)
        if _qm_only((i, j), qm, "constraint", where):
            system.removeConstraint(k)
            out.constraints_removed += 1
    for force in system.getForces():
        if isinstance(force, openmm.NonbondedForce):
            for i in sorted(qm):
                _, sigma, epsilon = force.getParticleParameters(i)
                force.setParticleParameters(i, 0.0, sigma, epsilon)
                out.charges_zeroed += 1
            paired: set[tuple[int, int]] = set()
            for k in range(force.getNumExceptions()):
                i, j, _, sigma, _ = force.getExceptionParameters(k)
                if _qm_only((i, j), qm, force, where):
                    force.setExceptionParameters(k, i, j, 0.0, sigma, 0.0)
                    paired.add((min(i, j), max(i, j)))
                    out.exceptions_zeroed += 1
            ordered = sorted(qm)
            for a, i in enumerate(ordered):
                for j in ordered[a + 1:]:
                    if (i, j) not in paired:
                        force.addException(i, j, 0.0, 1.0, 0.0)
                        out.exceptions_added += 1
            if force.getNumParticleParameterOffsets() or force.getNumExceptionParameterOffsets():
                raise msm.ConfigurationError(f"{where}: NonbondedForce parameter offsets are not supported with "
                                             "a QM region")
            continue
        removed = _bonded(force, qm, where)
        if removed >= 0:
            out.bonded_removed += removed
            continue
        name = type(force).__name__
        if name in _IGNORED or name == "CustomExternalForce":
            continue
        raise msm.ConfigurationError(
            f"{where}: the system has a {name}, which md.openmm cannot remove from the QM region; a QM/MM system "
            "may hold NonbondedForce, harmonic bond/angle, periodic or RB torsion forces (and barostats, "
            "CMMotionRemover)")
    logger.info("%s: QM region of %d atoms carved out: %s", where, len(qm), out)
    return out
