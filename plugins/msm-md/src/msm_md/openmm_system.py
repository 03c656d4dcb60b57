"""Building an OpenMM ``System`` for ``md.openmm``: a structure file plus force-field XML files,
or a serialized ``System``.

The structure (PDB or PDBx/mmCIF) gives the topology, the positions and the
periodic box (its ``CRYST1`` record / cell). The force field is either a list
of OpenMM force-field XML files - those that ship with OpenMM (``amber14-all.xml``,
``amber14/tip3p.xml``, ``tip3p.xml``, ``charmm36.xml`` ...) or paths of one's own -
passed to :class:`openmm.app.ForceField`, or a ``System`` serialized with
:meth:`openmm.XmlSerializer.serialize` (it then must have as many particles as
the structure has atoms).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

import msmcore as msm

__all__ = ["LoadedSystem", "NONBONDED_METHODS", "CONSTRAINTS", "load_system"]

logger = logging.getLogger(__name__)

#: Settings value -> ``openmm.app`` nonbonded method name.
NONBONDED_METHODS = {"pme": "PME", "ewald": "Ewald", "cutoff-periodic": "CutoffPeriodic",
                     "cutoff-nonperiodic": "CutoffNonPeriodic", "no-cutoff": "NoCutoff"}
#: Settings value -> ``openmm.app`` constraints (None: no constraints but rigid water if asked).
CONSTRAINTS = {"none": None, "h-bonds": "HBonds", "all-bonds": "AllBonds", "h-angles": "HAngles"}


@dataclass
class LoadedSystem:
    """An OpenMM system with its topology and starting coordinates (nm)."""

    system: Any
    topology: Any
    positions: np.ndarray
    box: np.ndarray | None  # (3, 3) box vectors in nm, or None when not periodic

    @property
    def n_atoms(self) -> int:
        """Number of particles."""
        return int(self.system.getNumParticles())


def _read_structure(path: str, where: str) -> tuple[Any, np.ndarray, np.ndarray | None]:
    from openmm import app, unit

    if not os.path.isfile(path):
        raise msm.ConfigurationError(f"{where}: structure file {path!r} does not exist "
                                     f"(relative paths are taken from {os.getcwd()!r})")
    lower = path.lower()
    try:
        if lower.endswith((".cif", ".mmcif", ".pdbx")):
            structure = app.PDBxFile(path)
        elif lower.endswith((".pdb", ".ent")):
            structure = app.PDBFile(path)
        else:
            raise msm.ConfigurationError(f"{where}: structure file {path!r} is neither PDB (.pdb, .ent) nor "
                                         "PDBx/mmCIF (.cif, .mmcif, .pdbx)")
    except msm.ConfigurationError:
        raise
    except Exception as exc:
        raise msm.ConfigurationError(f"{where}: cannot read structure file {path!r}: {exc}") from None
    positions = np.asarray(structure.getPositions(asNumpy=True).value_in_unit(unit.nanometer), dtype=np.float64)
    vectors = structure.topology.getPeriodicBoxVectors()
    box = None if vectors is None else np.asarray(
        [[v[i].value_in_unit(unit.nanometer) for i in range(3)] for v in vectors], dtype=np.float64)
    return structure.topology, positions, box


def _force_field(files: tuple[str, ...], where: str) -> Any:
    from openmm import app

    for name in files:
        try:
            app.ForceField(name)
        except Exception as exc:
            shipped = os.path.join(os.path.dirname(app.__file__), "data")
            raise msm.ConfigurationError(
                f"{where}: force-field file {name!r} cannot be loaded ({type(exc).__name__}: {exc}); give a "
                f"path to an OpenMM force-field XML file, or the name of one that ships with OpenMM "
                f"(in {shipped}, e.g. 'amber14-all.xml', 'amber14/tip3p.xml', 'tip3p.xml')") from None
    return app.ForceField(*files)


def load_system(structure: str, forcefield: tuple[str, ...], system_xml: str, *, nonbonded: str,
                cutoff: float, constraints: str, rigid_water: bool, ewald_tolerance: float,
                dispersion_correction: bool, hydrogen_mass: float, where: str) -> LoadedSystem:
    """Read the structure and build (or deserialize) its ``System``.

    Parameters
    ----------
    structure
        PDB or PDBx/mmCIF file: topology, positions, periodic box.
    forcefield
        Force-field XML files for :class:`openmm.app.ForceField` (empty when ``system_xml`` is given).
    system_xml
        A serialized ``System`` ("" when ``forcefield`` is given).
    nonbonded, cutoff, constraints, rigid_water, ewald_tolerance, dispersion_correction, hydrogen_mass
        Options of :meth:`openmm.app.ForceField.createSystem` (keys of :data:`NONBONDED_METHODS`,
        :data:`CONSTRAINTS`; ``cutoff`` in nm; ``hydrogen_mass`` in Da, 0: unchanged).
    where
        Names the component in error messages.

    Raises
    ------
    msmcore.ConfigurationError
        A missing or unreadable file, an unknown force-field file, atoms the force field has no
        template for, a serialized system whose size does not match the structure, or a periodic
        method without a periodic box.
    """
    import openmm
    from openmm import app, unit

    topology, positions, box = _read_structure(structure, where)
    if bool(forcefield) == bool(system_xml):
        raise msm.ConfigurationError(f"{where}: give either 'forcefield' (force-field XML files) or "
                                     "'system_xml' (a serialized System), not both or neither")
    periodic_method = nonbonded not in ("no-cutoff", "cutoff-nonperiodic")
    if system_xml:
        if not os.path.isfile(system_xml):
            raise msm.ConfigurationError(f"{where}: system_xml file {system_xml!r} does not exist")
        try:
            with open(system_xml, encoding="utf-8") as fh:
                system = openmm.XmlSerializer.deserialize(fh.read())
        except Exception as exc:
            raise msm.ConfigurationError(f"{where}: cannot deserialize {system_xml!r}: {exc}") from None
        if not isinstance(system, openmm.System):
            raise msm.ConfigurationError(f"{where}: {system_xml!r} holds a {type(system).__name__}, not a System")
        if system.getNumParticles() != len(positions):
            raise msm.ConfigurationError(
                f"{where}: the serialized system {system_xml!r} has {system.getNumParticles()} particles but "
                f"the structure {structure!r} has {len(positions)} atoms")
        if system.usesPeriodicBoundaryConditions():
            vectors = system.getDefaultPeriodicBoxVectors()
            box = np.asarray([[v[i].value_in_unit(unit.nanometer) for i in range(3)] for v in vectors])
    else:
        ff = _force_field(tuple(forcefield), where)
        if periodic_method and box is None:
            raise msm.ConfigurationError(
                f"{where}: nonbonded={nonbonded!r} needs a periodic box, but {structure!r} has none (no CRYST1 "
                "record / cell); add one (openmm.app.Modeller.addSolvent writes it) or use 'no-cutoff'")
        constraint = CONSTRAINTS[constraints]
        kwargs: dict[str, Any] = {
            "nonbondedMethod": getattr(app, NONBONDED_METHODS[nonbonded]),
            "constraints": None if constraint is None else getattr(app, constraint),
            "rigidWater": bool(rigid_water),
            "removeCMMotion": True,
        }
        if nonbonded != "no-cutoff":
            kwargs["nonbondedCutoff"] = cutoff * unit.nanometer
        if nonbonded in ("pme", "ewald"):
            kwargs["ewaldErrorTolerance"] = ewald_tolerance
        if hydrogen_mass > 0:
            kwargs["hydrogenMass"] = hydrogen_mass * unit.dalton
        try:
            system = ff.createSystem(topology, **kwargs)
        except Exception as exc:
            raise msm.ConfigurationError(f"{where}: the force field cannot parameterize {structure!r}: "
                                         f"{exc}") from None
        if periodic_method and box is not None:
            half = 0.5 * float(np.min(np.linalg.norm(box, axis=1)))
            if cutoff > half:
                raise msm.ConfigurationError(
                    f"{where}: cutoff={cutoff:g} nm exceeds half the smallest box length ({half:.4g} nm); use a "
                    "smaller cutoff or a larger box")
        for force in system.getForces():
            if isinstance(force, openmm.NonbondedForce):
                force.setUseDispersionCorrection(bool(dispersion_correction))
    logger.info("%s: %d atoms, %d residues, box %s nm", where, len(positions), topology.getNumResidues(),
                None if box is None else np.round(np.diag(box), 4).tolist())
    return LoadedSystem(system, topology, positions, box)
