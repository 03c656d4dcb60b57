"""quantum.scf in a coupling: declared units convert at connect time, sizes are checked, schemes run it."""

from __future__ import annotations

import numpy as np
import pytest

import msmcore as msm

BOHR_NM = 0.0529177210903  # CODATA 2018
EH_KJMOL = 2625.4996394799  # E_h N_A / 1000, CODATA 2018


class FakeMD(msm.Component):
    """Fixed QM and MM positions in OpenMM's units (nm, e); records what comes back (kJ/mol, kJ/mol/nm)."""

    n_qm = msm.Setting(int, default=3)
    n_mm = msm.Setting(int, default=3)
    dt = msm.Setting(float, default=1.0)
    state_attributes = ()

    def declare_ports(self):
        xyz = {"components": 3}
        return [msm.Port.output("qm_positions_out", self.n_qm, units="nm", **xyz),
                msm.Port.output("mm_positions_out", self.n_mm, units="nm", **xyz),
                msm.Port.output("mm_charges_out", self.n_mm, units="e"),
                msm.Port.input("energy_in", 1, units="kJ/mol", required=False),
                msm.Port.input("forces_in", self.n_qm, units="kJ/mol/nm", required=False, **xyz),
                msm.Port.input("mm_forces_in", self.n_mm, units="kJ/mol/nm", required=False, **xyz)]

    def step(self, dt):
        pass


def _md(water_atoms, mm_positions, mm_charges):
    class MD(FakeMD):
        def initialize(self):
            self.port_array("qm_positions_out")[...] = np.array([a[1:] for a in water_atoms]) * BOHR_NM
            self.port_array("mm_positions_out")[...] = mm_positions * BOHR_NM
            self.port_array("mm_charges_out")[...] = mm_charges

    return MD


def _couple(water, mm_sites, scheme):
    positions, charges = mm_sites
    qm = water(embedding="electrostatic", mm_count=3, conv_tol=1e-11)
    atoms = [[s, *x] for s, x in zip(qm.symbols, qm._coords0, strict=True)]
    c = msm.Coupling()
    md = c.add("md", _md(atoms, positions, charges))
    c.add("qm", qm)
    for src, dst in (("md.qm_positions_out", "qm.positions_in"), ("md.mm_positions_out", "qm.mm_positions_in"),
                     ("md.mm_charges_out", "qm.mm_charges_in"), ("qm.energy_out", "md.energy_in"),
                     ("qm.forces_out", "md.forces_in"), ("qm.mm_forces_out", "md.mm_forces_in")):
        c.connect(src, dst)
    c.run(until=2.0, scheme=scheme, quiet=True)
    return md, qm


@pytest.mark.parametrize("scheme", [msm.Serial(window=1.0, order=["qm", "md"]),
                                    msm.Implicit(window=1.0, acceleration=msm.NoAcceleration(), max_iterations=5)],
                         ids=["serial", "implicit"])
def test_md_side_units(water, mm_sites, scheme):
    md, qm = _couple(water, mm_sites, scheme)
    # The QM side saw bohr (nm / 0.0529...) and the MD side gets kJ/mol and kJ/mol/nm.
    assert np.allclose(qm.port_array("positions_in"), qm._coords0, atol=1e-12)
    assert np.allclose(qm.port_array("mm_positions_in"), mm_sites[0], atol=1e-12)
    hartree = qm.port_array("energy_out")[0]
    assert md.port_array("energy_in")[0] == pytest.approx(hartree * EH_KJMOL, rel=1e-12)
    assert np.allclose(md.port_array("forces_in"), qm.port_array("forces_out") * EH_KJMOL / BOHR_NM, rtol=1e-12)
    assert np.allclose(md.port_array("mm_forces_in"), qm.port_array("mm_forces_out") * EH_KJMOL / BOHR_NM,
                       rtol=1e-12)
    assert np.abs(md.port_array("mm_forces_in")).max() > 1.0  # kJ/mol/nm: a real force arrived


def test_wrong_port_sizes_are_refused_at_connect(water):
    c = msm.Coupling()
    c.add("md", FakeMD, n_qm=4, n_mm=5)
    c.add("qm", water(embedding="electrostatic", mm_count=3))
    # A QM region of 3 atoms (from `atoms`) and mm_count=3 charges: 4 QM and 5 MM positions do not fit.
    with pytest.raises(msm.CouplingError, match=r"md\.qm_positions_out -> qm\.positions_in: sizes differ .*"
                                                r"carries \(4,\) points x 3 values, qm\.positions_in expects "
                                                r"\(3,\) x 3"):
        c.connect("md.qm_positions_out", "qm.positions_in")
    with pytest.raises(msm.CouplingError, match=r"carries \(5,\) points x 3 values, qm\.mm_positions_in expects "
                                                r"\(3,\) x 3"):
        c.connect("md.mm_positions_out", "qm.mm_positions_in")


def test_energy_in_hartree_is_refused_by_a_molar_port(water):
    class Molar(msm.Component):
        state_attributes = ()
        dt = msm.Setting(float, default=1.0)

        def declare_ports(self):
            return [msm.Port.input("e_in", 1, units="Eh")]

    c = msm.Coupling()
    c.add("qm", water())
    c.add("sink", Molar)
    with pytest.raises(msm.MSMError, match="different dimensions"):
        c.connect("qm.energy_out", "sink.e_in")


@pytest.mark.slow
def test_checkpoint_resume_continues_bit_for_bit(water, mm_sites, tmp_path):
    # The density-matrix guess is state: a run resumed from the snapshot after window 1 must give the
    # outputs of a run that never stopped (same guesses -> same SCF iterations -> same numbers).
    positions, charges = mm_sites

    def build():
        qm = water(embedding="electrostatic", mm_count=3)
        atoms = [[s, *x] for s, x in zip(qm.symbols, qm._coords0, strict=True)]
        c = msm.Coupling()
        c.add("md", _md(atoms, positions, charges))
        c.add("qm", qm)
        for src, dst in (("md.qm_positions_out", "qm.positions_in"), ("md.mm_positions_out", "qm.mm_positions_in"),
                         ("md.mm_charges_out", "qm.mm_charges_in"), ("qm.forces_out", "md.forces_in")):
            c.connect(src, dst)
        return c, qm

    scheme = msm.Serial(window=1.0, order=["qm", "md"])
    c, qm = build()
    full = c.run(until=3.0, scheme=scheme, quiet=True,
                 checkpoint=msm.Checkpoints(every=1.0, keep=5, path=tmp_path / "ck"))
    snapshots = sorted((tmp_path / "ck").iterdir())
    assert len(snapshots) >= 2
    c2, qm2 = build()
    resumed = c2.run(until=3.0, scheme=scheme, quiet=True, resume=snapshots[0])
    assert np.array_equal(qm2.port_array("forces_out"), qm.port_array("forces_out"))
    assert np.array_equal(resumed["qm"]["energy_out"].values[-1], full["qm"]["energy_out"].values[-1])
