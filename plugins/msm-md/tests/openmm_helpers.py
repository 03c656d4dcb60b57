"""Shared builders of md.openmm's tests: small water clusters and boxes written as PDB files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "src" / "msm_md" / "data"
BOX_64 = DATA / "tip3p_64.pdb"
BOX_216 = DATA / "tip3p_216.pdb"
COULOMB = 138.935458  # kJ mol^-1 nm e^-2, OpenMM's ONE_4PI_EPS0


def water_cluster(path: Path, n_waters: int) -> Path:
    """The first ``n_waters`` waters of the 64-water box, without a periodic box, as a PDB file."""
    from openmm import app

    pdb = app.PDBFile(str(BOX_64))
    modeller = app.Modeller(pdb.topology, pdb.positions)
    modeller.delete(list(modeller.topology.residues())[n_waters:])
    modeller.topology.setPeriodicBoxVectors(None)
    with open(path, "w") as fh:
        app.PDBFile.writeFile(modeller.topology, modeller.positions, fh)
    return path


def reference_context(system, positions, platform: str = "Reference"):
    """An OpenMM context of ``system`` at ``positions`` with a throw-away integrator."""
    import openmm

    ctx = openmm.Context(system, openmm.VerletIntegrator(1e-4), openmm.Platform.getPlatformByName(platform))
    ctx.setPositions(positions)
    return ctx


def energy(ctx, groups: int = 0x7FFFFFFF) -> float:
    """Potential energy (kJ/mol) of the force groups in ``groups``."""
    return float(ctx.getState(getEnergy=True, groups=groups).getPotentialEnergy()._value)


def forces(ctx, groups: int = 0x7FFFFFFF) -> np.ndarray:
    """Forces (kJ/mol/nm) of the force groups in ``groups``."""
    return np.asarray(ctx.getState(getForces=True, groups=groups).getForces(asNumpy=True)._value)
