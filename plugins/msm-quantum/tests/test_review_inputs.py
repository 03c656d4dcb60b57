"""Review: molecules, basis sets and inputs beyond the first tests (ECP bases, Pauli limits, coincident atoms)."""

from __future__ import annotations

import numpy as np
import pytest
from msm_quantum import QuantumSCF

import msmcore as msm

HI = [["H", 0.0, 0.0, 0.0], ["I", 0.0, 0.0, 1.609]]  # HI, r = 1.609 Å (NIST CCCBDB experimental r_e)


@pytest.mark.slow  # ~7 s on 2 busy cores (iodine's ECP integrals)
def test_def2_basis_on_iodine_uses_its_effective_core_potential():
    # def2-SVP for I (Z = 53) is a valence basis built for the def2 ECP that replaces 28 core electrons
    # (Weigend & Ahlrichs, PCCP 7, 3297 (2005); Peterson et al., JCP 119, 11113 (2003)). Without the ECP
    # the SCF is all-electron in a basis with no core functions: E = -1996.9 Eh, a silently wrong value.
    # Reference: PySCF 2.14 called directly with ecp='def2-svp' (an independent computation); RHF
    # energy to 1e-8 Eh, forces to 1e-6 Eh/bohr (ECP gradient included).
    from pyscf import gto, scf

    qm = QuantumSCF("hi", atoms=HI, basis="def2-svp", threads=1)
    qm.initialize()
    mol = gto.M(atom=[tuple(a) for a in HI], basis="def2-svp", ecp="def2-svp", verbose=0)
    assert mol.nelectron == 26  # 1 + 53 - 28
    mf = scf.RHF(mol)
    mf.conv_tol = 1e-10
    energy = mf.kernel()
    assert energy == pytest.approx(-297.23, abs=0.01)  # all-electron-in-valence-basis would be -1996.9
    assert qm.port_array("energy_out")[0] == pytest.approx(energy, abs=1e-8)
    assert np.abs(qm.port_array("forces_out") + mf.nuc_grad_method().kernel()).max() < 1e-6
    # Effective core: the ECP atom's partial charge and the charges' sum stay physical (neutral molecule).
    assert qm.port_array("charges_out").sum() == pytest.approx(0.0, abs=1e-8)


@pytest.mark.parametrize(("atoms", "settings", "what"), [
    # STO-3G H2 has 2 spatial orbitals: at most 4 electrons (Pauli), so charge -4 (6 electrons) is impossible.
    ([["H", 0, 0, 0], ["H", 0, 0, 0.74]], {"charge": -4}, "6 electrons"),
    # STO-3G He has 1 orbital: a triplet (2 alpha electrons) cannot be formed.
    ([["He", 0, 0, 0]], {"spin": 2, "method": "uhf"}, "2 alpha electrons"),
])
def test_more_electrons_than_the_basis_holds_is_a_configuration_error(atoms, settings, what):
    with pytest.raises(msm.ConfigurationError, match=rf"{what} do not fit the \d spatial orbitals of basis .sto-3g."):
        QuantumSCF("qm", atoms=atoms, basis="sto-3g", **settings)


def test_coincident_qm_atoms_are_refused():
    # Two nuclei at one point: infinite nuclear repulsion and a singular overlap matrix (PySCF raised a
    # bare LinAlgError). In the settings -> ConfigurationError; arriving through positions_in -> CouplingError.
    with pytest.raises(msm.ConfigurationError, match=r"atoms 0 and 1 .*coincide"):
        QuantumSCF("qm", atoms=[["H", 0, 0, 0], ["H", 0, 0, 0]])
    qm = QuantumSCF("qm", atoms=[["H", 0, 0, 0], ["H", 0, 0, 0.74]], threads=1)
    qm.initialize()
    qm.port_array("positions_in")[1] = qm.port_array("positions_in")[0]
    with pytest.raises(msm.CouplingError, match=r"'positions_in'.*atoms 0 and 1 .*coincide"):
        qm.advance(1.0)


def _xyz(tmp_path, text):
    path = tmp_path / "mol.xyz"
    path.write_text(text)
    return str(path)


def test_xyz_atom_lines_beyond_the_count_are_an_error(tmp_path):
    # XYZ format (e.g. Open Babel's description): line 1 the atom count N, line 2 a comment, then N atom
    # lines; a further block is a next frame, starting with its own count. A third atom line after a
    # count of 2 is a wrong count, not something to drop silently (a truncated HCl would then run as H).
    path = _xyz(tmp_path, "2\nwater, miscounted\nO 0 0 0\nH 0.757 0.586 0\nH -0.757 0.586 0\n")
    with pytest.raises(msm.ConfigurationError, match=r"line 5 .*count"):
        QuantumSCF("qm", xyz=path)


def test_xyz_blank_lines_atomic_numbers_and_a_second_frame(tmp_path):
    # Lower-case symbols, atomic numbers (as some programs write), blank lines between atom lines, extra
    # columns and a second frame (ignored: the first frame is the geometry) all read as the same water.
    text = ("3\n  comment 1 2 3\n\no 0 0 0 0.1\n\n1 0.757 0.586 0\nh -0.757 0.586 0\n"
            "3\nframe 2\nO 0 0 9\nH 0 0 9\nH 0 0 9\n")
    qm = QuantumSCF("qm", xyz=_xyz(tmp_path, text))
    assert qm.symbols == ("O", "H", "H")
    angstrom = 1 / 0.529177210903  # CODATA 2018 bohr radius, PySCF's value
    assert np.allclose(qm._coords0[1], np.array([0.757, 0.586, 0.0]) * angstrom, atol=1e-12)


@pytest.mark.parametrize("other", [{"basis": "6-31g"}, {"method": "uhf"}], ids=["other-basis", "uhf-into-rhf"])
def test_snapshot_of_another_basis_or_method_is_refused(other):
    # A snapshot's density matrix is the next SCF's guess: one of another basis (13 functions instead of
    # STO-3G's 7 for water) or of an unrestricted SCF ((2, n, n)) made PySCF fail with a bare
    # RuntimeError/ValueError inside the next advance; it is refused when restored.
    water = [["O", 0, 0, 0], ["H", 0.757, 0.586, 0], ["H", -0.757, 0.586, 0]]
    source = QuantumSCF("qm", atoms=water, threads=1, **other)
    source.initialize()
    target = QuantumSCF("qm", atoms=water, threads=1)
    target.initialize()
    with pytest.raises(msm.ConfigurationError, match=r"snapshot's density matrix has shape \(.*needs \(7, 7\)"):
        target.restore_state(source.save_state())


def test_non_positive_gradient_tolerance_is_refused():
    # PySCF converges when |orbital gradient| < conv_tol_grad: a tolerance <= 0 can never be met, and ran
    # max_cycles into a ConvergenceError reporting "last energy change 0.000e+00", which misleads.
    with pytest.raises(msm.ConfigurationError, match=r"conv_tol_grad.*>= 1e-12"):
        QuantumSCF("qm", atoms=[["H", 0, 0, 0], ["H", 0, 0, 0.74]], conv_tol_grad=-1.0)


HCL = [["H", 0.0, 0.0, 0.0], ["Cl", 0.0, 0.0, 1.274]]  # HCl, r_e = 1.2746 Å (NIST CCCBDB)


def test_meta_lowdin_charges_are_not_used_with_an_ecp():
    # PySCF 2.14's meta-Löwdin populations go wrong on ECP atoms: HCl in LANL2DZ (Cl with a 10-electron
    # ECP) gives q(H) = -0.08, HI in def2-SVP q(H) = -0.62, while all-electron HCl (def2-SVP) gives +0.18
    # and Mulliken's +0.22 / +0.07: H is the positive end (Pauling electronegativities H 2.20 < Cl 3.16;
    # the HCl dipole, H+ Cl-, NIST CCCBDB). With an ECP the default population is Mulliken's, and an
    # explicit meta_lowdin is refused rather than published.
    qm = QuantumSCF("hcl", atoms=HCL, basis="lanl2dz", threads=1)
    qm.initialize()
    assert qm.port("charges_out").doc.startswith("mulliken")
    q = qm.port_array("charges_out")
    assert 0.05 < q[0] < 0.5 and q.sum() == pytest.approx(0.0, abs=1e-8)
    with pytest.raises(msm.ConfigurationError, match=r"population='meta_lowdin'.*effective core potential.*Cl"):
        QuantumSCF("hcl", atoms=HCL, basis="lanl2dz", population="meta_lowdin")
    assert QuantumSCF("hcl", atoms=HCL, basis="def2-svp").port("charges_out").doc.startswith("meta-lowdin")


def test_dispersion_correction_without_its_package_is_a_configuration_error():
    # 'b3lyp-d3bj' is a functional PySCF knows, but its D3(BJ) term needs the optional pyscf-dispersion
    # package: without it PySCF raised a bare RuntimeError inside initialize(); refused when built.
    try:
        import pyscf.dispersion  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("pyscf-dispersion is installed: the D3 term is available")
    with pytest.raises(msm.ConfigurationError, match=r"xc='b3lyp-d3bj'.*d3bj.*pyscf-dispersion"):
        QuantumSCF("qm", atoms=[["H", 0, 0, 0], ["H", 0, 0, 0.74]], method="rks", xc="b3lyp-d3bj")
