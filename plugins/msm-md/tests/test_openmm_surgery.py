"""md.openmm's QM-region surgery: what is removed from the OpenMM system, and that nothing else is.

The check that needs no reference number: with NoCutoff on a small water cluster,
E(original) = E(carved) + E(QM region alone) + sum over QM-MM pairs of k q_i q_j / r_ij,
where the QM region alone is the same force field applied to the QM molecules only
(their bonds, angles and mutual nonbonded terms) and the Coulomb sum is computed here
with NumPy. Both sides in double precision (OpenMM's Reference platform), so the
tolerance is round-off: 1e-7 relative to the total energy.
"""

from __future__ import annotations

import numpy as np
import pytest
from msm_md.openmm_component import OpenMMSystem
from openmm_helpers import COULOMB, energy, reference_context, water_cluster

import msmcore as msm

openmm = pytest.importorskip("openmm")
app = pytest.importorskip("openmm.app")


def _component(path, qm_residues, rigid: bool) -> OpenMMSystem:
    return OpenMMSystem("md", structure=str(path), forcefield=["amber14/tip3p.xml"], nonbonded="no-cutoff",
                        constraints="none", rigid_water=rigid, qm_residues=qm_residues, integrator="verlet",
                        dt=0.0005, platform="Reference")


def _nonbonded(system):
    return next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))


@pytest.mark.parametrize("qm_residues", [(0,), (1, 3)])
def test_energy_of_carved_system_plus_qm_and_coulomb_is_the_original(tmp_path, qm_residues):
    path = water_cluster(tmp_path / "cluster.pdb", 6)
    pdb = app.PDBFile(str(path))
    ff = app.ForceField("amber14/tip3p.xml")
    original = ff.createSystem(pdb.topology, nonbondedMethod=app.NoCutoff, constraints=None, rigidWater=False)
    x = np.asarray(pdb.getPositions(asNumpy=True)._value)
    e_original = energy(reference_context(original, x))

    md = _component(path, qm_residues, rigid=False)
    md.initialize()
    e_carved = float(md.port_array("energy_out")[0])

    qm = md.qm_index
    keep = app.Modeller(pdb.topology, pdb.positions)
    keep.delete([r for r in keep.topology.residues() if r.index not in qm_residues])
    alone = ff.createSystem(keep.topology, nonbondedMethod=app.NoCutoff, constraints=None, rigidWater=False)
    e_alone = energy(reference_context(alone, x[qm]))

    q = np.array([_nonbonded(original).getParticleParameters(i)[0]._value for i in range(len(x))])
    mm = np.setdiff1d(np.arange(len(x)), qm)
    r = np.linalg.norm(x[qm][:, None, :] - x[mm][None, :, :], axis=2)
    e_coulomb = COULOMB * float(np.sum(q[qm][:, None] * q[mm][None, :] / r))

    total = e_carved + e_alone + e_coulomb
    assert abs(total - e_original) < 1e-7 * abs(e_original), (e_original, e_carved, e_alone, e_coulomb)
    # the split is not trivial: each piece is sizeable
    assert abs(e_coulomb) > 1.0 and abs(e_alone) > 1e-3


def test_charges_zeroed_lj_kept_and_qm_pairs_excluded(tmp_path):
    path = water_cluster(tmp_path / "cluster.pdb", 4)
    md = _component(path, (0, 2), rigid=True)
    pdb = app.PDBFile(str(path))
    original = app.ForceField("amber14/tip3p.xml").createSystem(pdb.topology, nonbondedMethod=app.NoCutoff,
                                                                 constraints=None, rigidWater=True)
    md.initialize()
    nb, nb0 = _nonbonded(md.system), _nonbonded(original)
    qm = set(md.qm_index.tolist())
    assert qm == {0, 1, 2, 6, 7, 8}
    for i in range(nb.getNumParticles()):
        q, sigma, eps = nb.getParticleParameters(i)
        q0, sigma0, eps0 = nb0.getParticleParameters(i)
        assert sigma == sigma0 and eps == eps0          # Lennard-Jones kept for every atom
        assert (q._value == 0.0) if i in qm else (q == q0)
    pairs = {}
    for k in range(nb.getNumExceptions()):
        i, j, qq, _, eps = nb.getExceptionParameters(k)
        pairs[(min(i, j), max(i, j))] = (qq._value, eps._value)
    qm_sorted = sorted(qm)
    for a, i in enumerate(qm_sorted):          # every QM-QM pair excluded (zero charge product and epsilon)
        for j in qm_sorted[a + 1:]:
            assert pairs[(i, j)] == (0.0, 0.0)
    assert not any(i in qm and j not in qm for i, j in pairs)   # no exception between QM and MM atoms
    # rigid water: the QM waters' three constraints each are gone, the MM waters' stay
    constrained = {tuple(sorted(md.system.getConstraintParameters(k)[:2])) for k in
                   range(md.system.getNumConstraints())}
    assert original.getNumConstraints() == 12 and md.system.getNumConstraints() == 6
    assert not any(i in qm or j in qm for i, j in constrained)
    assert md.surgery.constraints_removed == 6 and md.surgery.exceptions_added == 9


def test_bonded_terms_within_the_qm_region_removed(tmp_path):
    path = water_cluster(tmp_path / "cluster.pdb", 3)
    md = _component(path, (1,), rigid=False)
    md.initialize()
    qm = set(md.qm_index.tolist())
    bonds = next(f for f in md.system.getForces() if isinstance(f, openmm.HarmonicBondForce))
    angles = next(f for f in md.system.getForces() if isinstance(f, openmm.HarmonicAngleForce))
    for k in range(bonds.getNumBonds()):
        i, j, _, kb = bonds.getBondParameters(k)
        assert (kb._value == 0.0) == (i in qm)
    for k in range(angles.getNumAngles()):
        i, j, m, _, ka = angles.getAngleParameters(k)
        assert (ka._value == 0.0) == (j in qm)
    assert md.surgery.bonded_removed == 3


def test_qm_selection_splitting_a_molecule_is_refused(tmp_path):
    path = water_cluster(tmp_path / "cluster.pdb", 3)
    with pytest.raises(msm.ConfigurationError, match=r"splits a molecule \(residue 1 HOH, atoms 3\.\.5\)"):
        OpenMMSystem("md", structure=str(path), forcefield=["amber14/tip3p.xml"], nonbonded="no-cutoff",
                     qm_atoms=(3, 4))
