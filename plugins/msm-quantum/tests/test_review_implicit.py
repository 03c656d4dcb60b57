"""Review: quantum.scf under the Implicit scheme with a checkpoint, resumed, against an uninterrupted run."""

from __future__ import annotations

import numpy as np
import pytest

import msmcore as msm

BOHR_NM = 0.0529177210903  # CODATA 2018


class MovingMD(msm.Component):
    """Moves the QM and MM atoms (nm) by a fixed step per window and takes back the forces (kJ/mol/nm)."""

    dt = msm.Setting(float, default=1.0)
    state_attributes = ()

    def declare_ports(self):
        xyz = {"components": 3}
        return [msm.Port.output("qm_positions_out", 3, units="nm", **xyz),
                msm.Port.output("mm_positions_out", 3, units="nm", **xyz),
                msm.Port.output("mm_charges_out", 3, units="e"),
                msm.Port.input("forces_in", 3, units="kJ/mol/nm", required=False, **xyz),
                msm.Port.input("mm_forces_in", 3, units="kJ/mol/nm", required=False, **xyz)]

    def initialize(self):
        self.t = 0.0
        self.port_array("qm_positions_out")[...] = np.array(
            [[0.0, 0.0, 0.0], [1.809, 0.0, 0.0], [-0.453, 1.751, 0.0]]) * BOHR_NM
        self.port_array("mm_positions_out")[...] = np.array(
            [[4.2, 1.3, 0.4], [-3.1, 2.2, 1.1], [1.5, -3.9, 0.6]]) * BOHR_NM
        self.port_array("mm_charges_out")[...] = [-0.834, 0.417, 0.417]

    def step(self, dt):
        self.port_array("qm_positions_out")[1, 0] += 0.002 * dt  # nm
        self.port_array("mm_positions_out")[...] += 0.01 * dt


def _build(water):
    qm = water(embedding="electrostatic", mm_count=3)
    c = msm.Coupling()
    c.add("md", MovingMD)
    c.add("qm", qm)
    for src, dst in (("md.qm_positions_out", "qm.positions_in"), ("md.mm_positions_out", "qm.mm_positions_in"),
                     ("md.mm_charges_out", "qm.mm_charges_in"), ("qm.forces_out", "md.forces_in"),
                     ("qm.mm_forces_out", "md.mm_forces_in")):
        c.connect(src, dst)
    return c, qm


@pytest.mark.slow
def test_implicit_checkpoint_resume_matches_a_fresh_scf(water, tmp_path):
    # Reference 1: an uninterrupted Implicit run (resume must repeat it bit for bit: the density-matrix
    # guess is state). Reference 2, independent: a fresh-guess PySCF SCF (pyscf.qmmm.mm_charge) at the
    # final geometry: the carried guess must converge to the same state, |dE| < 1e-8 Eh.
    from pyscf import gto, qmmm, scf

    scheme = msm.Implicit(window=1.0, acceleration=msm.NoAcceleration(), max_iterations=2)
    c, qm = _build(water)
    full = c.run(until=2.0, scheme=scheme, quiet=True, checkpoint=msm.Checkpoints(every=1.0, keep=5, path=tmp_path))
    snapshots = sorted(tmp_path.iterdir())
    assert len(snapshots) >= 1
    c2, qm2 = _build(water)
    resumed = c2.run(until=2.0, scheme=scheme, quiet=True, resume=snapshots[0])
    assert np.array_equal(qm2.port_array("forces_out"), qm.port_array("forces_out"))
    assert np.array_equal(resumed["qm"]["energy_out"].values[-1], full["qm"]["energy_out"].values[-1])
    assert qm.port_array("positions_in")[1, 0] > 1.809 + 0.05  # the MD moved the QM atoms (bohr)
    mol = gto.M(atom=[(s, tuple(x)) for s, x in zip(qm.symbols, qm.port_array("positions_in"), strict=True)],
                unit="Bohr", basis="sto-3g", verbose=0)
    mf = qmmm.mm_charge(scf.RHF(mol), qm.port_array("mm_positions_in"), qm.port_array("mm_charges_in"), unit="Bohr")
    mf.conv_tol = 1e-11
    assert qm.port_array("energy_out")[0] == pytest.approx(mf.kernel(), abs=1e-8)
