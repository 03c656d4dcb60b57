"""Bad settings and bad inputs fail early with errors that say what and where."""

from __future__ import annotations

import numpy as np
import pytest
from msm_quantum import QuantumSCF

import msmcore as msm

H2 = [["H", 0, 0, 0], ["H", 0, 0, 0.74]]


@pytest.mark.parametrize(("settings", "match"), [
    ({"method": "ccsd"}, r"setting 'method' .* must be one of \['rhf', 'uhf', 'rks', 'uks'\]"),
    ({"basis": "no-such-basis"}, r"setting 'basis' .*PySCF has no basis 'no-such-basis' for H"),
    ({"atoms": [["Qq", 0, 0, 0]]}, r"setting 'atoms' .*unknown element 'Qq'"),
    ({"atoms": [["H", 0, 0]]}, r"atom 0 is \['H', 0, 0\]; each atom is \[symbol, x, y, z\]"),
    ({"xc": "pbe"}, r"setting 'xc' .*xc='pbe' is a DFT functional, but method='rhf' is Hartree-Fock"),
    ({"method": "rks"}, r"setting 'xc' .*method='rks' \(Kohn-Sham DFT\) needs a functional"),
    ({"method": "rks", "xc": "nonsense-xc"}, r"setting 'xc' .*libxc does not know the functional 'nonsense-xc'"),
    ({"spin": 1}, r"setting 'spin' .*spin=1 \(2S\) is impossible with 2 electrons"),
    ({"method": "rhf", "charge": 1, "spin": 1}, r"setting 'method' .*closed-shell but spin=1; use uhf"),
    ({"charge": 2}, r"setting 'charge' .*leaves 0 electrons"),
    ({"embedding": "electrostatic"}, r"setting 'mm_count' .*needs mm_count >= 1"),
    ({"mm_count": 4}, r"setting 'mm_count' .*needs embedding='electrostatic'"),
    ({"embedding": "electrostatic", "mm_count": 3, "mm_radius": [1.0, 1.0]},
     r"setting 'mm_radius' .*2 radii given for mm_count=3"),
    ({"embedding": "electrostatic", "mm_count": 3, "cutoff": 8.0},
     r"setting 'switch_width' .*needs 0 < switch_width <= cutoff"),
    ({"embedding": "electrostatic", "mm_count": 3, "cutoff": 8.0, "switch_width": 9.0},
     r"setting 'switch_width' .*needs 0 < switch_width <= cutoff"),
    ({"embedding": "electrostatic", "mm_count": 3, "mm_radius": -1.0}, r"setting 'mm_radius' .*negative radius"),
])
def test_bad_settings(settings, match):
    settings = {"atoms": H2, **settings}
    with pytest.raises(msm.ConfigurationError, match=match):
        QuantumSCF("qm", **settings)


def test_atoms_or_xyz(tmp_path):
    with pytest.raises(msm.ConfigurationError, match="give the QM atoms either as atoms="):
        QuantumSCF("qm")
    good = tmp_path / "h2.xyz"
    good.write_text("2\nhydrogen, angstrom\nH 0 0 0\nH 0 0 0.74\n")
    with pytest.raises(msm.ConfigurationError, match=r"\(not both\)"):
        QuantumSCF("qm", atoms=H2, xyz=str(good))
    qm = QuantumSCF("qm", xyz=str(good))
    assert qm.symbols == ("H", "H")
    assert qm.ports["positions_in"].spec.array_shape == (2, 3)
    bad = tmp_path / "bad.xyz"
    bad.write_text("3\ncomment\nH 0 0 0\nH 0 0 0.74\n")
    with pytest.raises(msm.ConfigurationError, match=r"setting 'xyz' .*expected 3 lines 'symbol x y z'"):
        QuantumSCF("qm", xyz=str(bad))
    with pytest.raises(msm.ConfigurationError, match="cannot read xyz file"):
        QuantumSCF("qm", xyz=str(tmp_path / "missing.xyz"))


def test_angstrom_input_is_converted_to_bohr():
    qm = QuantumSCF("qm", atoms=H2)  # units default: angstrom
    assert qm._coords0[1, 2] == pytest.approx(0.74 / 0.529177210903, rel=1e-12)


def test_non_convergence_is_a_convergence_error(water):
    qm = water(basis="6-31g", max_cycles=2, conv_tol=1e-12)
    with pytest.raises(msm.ConvergenceError) as info:
        qm.initialize()
    text = str(info.value)
    assert "component 'qm' (quantum.scf)" in text and "t=0" in text
    assert "within 2 cycles (max_cycles=2)" in text and "last energy change" in text
    assert info.value.component == "qm"


def test_bad_inputs_are_coupling_errors(water, mm_sites):
    positions, charges = mm_sites
    qm = water(embedding="electrostatic", mm_count=3)
    qm.initialize()
    qm.port_array("mm_charges_in")[...] = charges
    qm.port_array("mm_positions_in")[...] = positions
    qm.port_array("mm_positions_in")[1, 2] = np.nan
    with pytest.raises(msm.CouplingError, match=r"input 'mm_positions_in' holds NaN or infinity \(first at flat "
                                                r"index 5\)"):
        qm.advance(1.0)
    qm.port_array("mm_positions_in")[...] = positions
    qm.port_array("mm_positions_in")[2] = qm.port_array("positions_in")[1]
    with pytest.raises(msm.CouplingError, match="MM point charge 2 sits on QM atom 1"):
        qm.advance(1.0)


def test_extra_ranks_idle():
    class Comm:
        def __init__(self, rank):
            self.rank = rank

        def Get_size(self):
            return 2

        def Get_rank(self):
            return self.rank

    idle = QuantumSCF("qm", atoms=H2, threads=1)
    idle.comm = Comm(1)
    idle.initialize()
    idle.advance(1.0)
    assert idle.port_array("energy_out").size == 0 and idle.t == 1.0 and idle._mf is None
    busy = QuantumSCF("qm", atoms=H2, threads=1)
    busy.comm = Comm(0)
    busy.initialize()
    assert busy.port_array("energy_out")[0] < -1.0


def test_non_convergence_in_a_coupling_stays_a_convergence_error(water):
    c = msm.Coupling()
    c.add("qm", water(basis="6-31g", max_cycles=2, conv_tol=1e-12))
    with pytest.raises(msm.ConvergenceError, match=r"component 'qm' \(quantum.scf\).*did not converge at t=0"):
        c.run(until=1.0, scheme=msm.Serial(window=1.0), quiet=True)
