"""Review: open-shell, charged and hybrid-DFT SCFs against PySCF called directly; no per-cycle chkfile."""

from __future__ import annotations

import numpy as np
import pytest
from msm_quantum import QuantumSCF

OH = [["O", 0.0, 0.0, 0.0], ["H", 0.0, 0.0, 0.97]]  # OH radical, r = 0.97 Å (NIST CCCBDB r_e 0.9697 Å)
#: H2O+ (2B1: a non-degenerate open shell; the OH radical's 2Pi hole can turn on a DFT grid, so its UKS
#: energy is only defined to ~1e-6 Eh on a coarse grid).
WATER_CATION = [["O", 0.0, 0.0, 0.0], ["H", 0.757, 0.586, 0.0], ["H", -0.757, 0.586, 0.0]]


def _direct(atoms, method, basis, charge=0, spin=0, xc=None, level=3):
    """Energy and gradient of an SCF run with PySCF 2.14 directly (the independent computation)."""
    from pyscf import dft, gto, scf

    mol = gto.M(atom=[tuple(a) for a in atoms], basis=basis, charge=charge, spin=spin, verbose=0)
    mf = {"rhf": scf.RHF, "uhf": scf.UHF, "rks": dft.RKS, "uks": dft.UKS}[method](mol)
    if xc:
        mf.xc, mf.grids.level = xc, level
    mf.conv_tol = 1e-10
    energy = mf.kernel()
    grad = mf.nuc_grad_method()
    if xc:
        grad.grid_response = True
    return energy, grad.kernel(), mf


@pytest.mark.parametrize(("atoms", "method", "xc", "charge", "spin"), [
    (OH, "uhf", None, 0, 1),               # OH radical, doublet
    pytest.param(WATER_CATION, "uks", "b3lyp", 1, 1,  # hybrid DFT, open-shell cation (~3-5 s: grid)
                 marks=pytest.mark.slow),
    (OH, "rhf", None, -1, 0),              # OH- anion
    (OH, "uhf", None, 1, 2),               # OH+ cation, triplet ground state (3Sigma-, like isoelectronic NH)
], ids=["OH-uhf", "H2O+-uks-b3lyp", "OH--rhf", "OH+-uhf-triplet"])
def test_open_shell_and_ions_match_direct_pyscf(atoms, method, xc, charge, spin):
    # Same molecule, basis, functional and grid through quantum.scf and through PySCF's own API:
    # |dE| < 1e-8 Eh, |dF| < 1e-6 Eh/bohr (conv_tol 1e-10), <S^2> of the UHF doublet near 0.75.
    settings = {"xc": xc, "grid_level": 1} if xc else {}
    qm = QuantumSCF("qm", atoms=atoms, method=method, basis="sto-3g", charge=charge, spin=spin, threads=1,
                    **settings)
    qm.initialize()
    energy, gradient, mf = _direct(atoms, method, "sto-3g", charge, spin, xc, level=1)
    assert qm.port_array("energy_out")[0] == pytest.approx(energy, abs=1e-8)
    assert np.abs(qm.port_array("forces_out") + gradient).max() < 1e-6
    assert qm.port_array("charges_out").sum() == pytest.approx(charge, abs=1e-8)
    if spin == 1:
        assert mf.spin_square()[0] == pytest.approx(0.75, abs=0.01)


def test_no_pyscf_checkpoint_file_is_written():
    # PySCF writes an HDF5 chkfile in $TMPDIR every SCF cycle unless mf.chkfile is None: a cost larger
    # than a small molecule's SCF cycle (the water/STO-3G advance took ~2x as long with it) and a stray
    # file per component. The density matrix is held as the component's state instead.
    qm = QuantumSCF("oh", atoms=OH, method="uhf", spin=1, threads=1)
    qm.initialize()
    assert qm._mf.chkfile is None
