"""Electrostatic embedding: against PySCF's own QM/MM interface, and forces against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from msm_quantum.geometry import switch


def _embedded(water, positions, charges, **settings):
    qm = water(embedding="electrostatic", mm_count=len(charges), conv_tol=1e-12, **settings)
    qm.initialize()
    qm.port_array("mm_positions_in")[...] = positions
    qm.port_array("mm_charges_in")[...] = charges
    qm.advance(1.0)
    return qm


@pytest.mark.parametrize(("method", "charge", "spin", "radius"), [
    ("rhf", 0, 0, 0.0),    # point charges
    ("rhf", 0, 0, 1.2),    # Gaussian charges of radius 1.2 bohr
    ("uhf", 1, 1, 0.9),    # open-shell cation, Gaussian charges
])
def test_against_pyscf_qmmm(water, mm_sites, method, charge, spin, radius):
    from pyscf import gto, qmmm, scf

    positions, charges = mm_sites
    qm = _embedded(water, positions, charges, method=method, charge=charge, spin=spin, mm_radius=radius)
    # The independent computation: pyscf.qmmm.mm_charge (its own h_MM, nuclear-MM energy and gradient code).
    mol = gto.M(atom=[(s, tuple(x)) for s, x in zip(qm.symbols, qm.port_array("positions_in"), strict=True)],
                unit="Bohr", basis="sto-3g", charge=charge, spin=spin, verbose=0)
    base = scf.RHF(mol) if method == "rhf" else scf.UHF(mol)
    radii = None if radius == 0.0 else np.full(len(charges), radius)
    mf = qmmm.mm_charge(base, positions, charges, radii=radii, unit="Bohr")
    mf.conv_tol = 1e-12
    energy = mf.kernel()
    grad = mf.nuc_grad_method()
    g_qm = grad.kernel()
    dm = mf.make_rdm1()
    dm = dm if dm.ndim == 2 else dm[0] + dm[1]
    g_mm = grad.grad_hcore_mm(dm) + grad.grad_nuc_mm()
    # Same model, same integrals library: agreement to SCF convergence (conv_tol 1e-12 -> |g| ~ 1e-6).
    assert qm.port_array("energy_out")[0] == pytest.approx(energy, abs=1e-9)
    assert np.abs(qm.port_array("forces_out") + g_qm).max() < 1e-6
    assert np.abs(qm.port_array("mm_forces_out") + g_mm).max() < 1e-6
    # The embedding changed something: the MM charges polarise the water by more than the tolerance.
    assert np.abs(qm.port_array("mm_forces_out")).max() > 1e-3


def _energy(qm, qm_positions, mm_positions):
    qm.port_array("positions_in")[...] = qm_positions
    qm.port_array("mm_positions_in")[...] = mm_positions
    qm.advance(qm.t + 1.0)
    return qm.port_array("energy_out")[0]


def _finite_difference_check(qm, coordinates, h=1e-4, tol=1e-6):
    """Central differences of energy_out against forces_out / mm_forces_out.

    Step h = 1e-4 bohr: the truncation error h^2 E'''/6 ~ 1e-9 and the SCF noise (conv_tol 1e-12 on the
    energy) / h ~ 1e-8 are both far below the tolerance of 1e-6 hartree/bohr (forces here are ~1e-2).
    """
    x_qm = qm.port_array("positions_in").copy()
    x_mm = qm.port_array("mm_positions_in").copy()
    _energy(qm, x_qm, x_mm)
    forces = {"qm": qm.port_array("forces_out").copy(), "mm": qm.port_array("mm_forces_out").copy()}
    worst = 0.0
    for side, atom, axis in coordinates:
        e = []
        for sign in (1, -1):
            a, b = x_qm.copy(), x_mm.copy()
            (a if side == "qm" else b)[atom, axis] += sign * h
            e.append(_energy(qm, a, b))
        fd = -(e[0] - e[1]) / (2 * h)
        assert fd == pytest.approx(forces[side][atom, axis], abs=tol), (side, atom, axis)
        worst = max(worst, abs(fd - forces[side][atom, axis]))
    return worst


@pytest.mark.slow
def test_forces_are_the_gradient_of_the_embedded_energy(water, mm_sites):
    positions, charges = mm_sites
    qm = _embedded(water, positions, charges)
    every = [(side, i, k) for side in ("qm", "mm") for i in range(3) for k in range(3)]
    assert _finite_difference_check(qm, every) < 1e-6


def test_gaussian_charges_forces_finite_differences(water, mm_sites):
    positions, charges = mm_sites
    qm = _embedded(water, positions * 0.6, charges, mm_radius=[1.0, 0.8, 0.8])  # close: the smearing matters
    _finite_difference_check(qm, [("qm", 0, 0), ("qm", 1, 1), ("mm", 0, 0), ("mm", 1, 2)])


def test_switched_charges_forces_finite_differences(water, mm_sites):
    positions, charges = mm_sites
    qm = _embedded(water, positions, charges, cutoff=4.5, switch_width=1.0)
    centre = qm.port_array("positions_in").mean(axis=0)
    r = np.linalg.norm(positions - centre, axis=1)
    s, _ = switch(r, 4.5, 1.0)
    assert 0 < s[0] < 1 and 0 < s[1] < 1 and s[2] == 0  # two charges in the switching shell, one beyond
    # Inside the shell the switch's derivative adds forces on MM and, through the centroid, QM atoms.
    worst = _finite_difference_check(qm, [("qm", 0, 0), ("qm", 0, 1), ("qm", 2, 2),
                                          ("mm", 0, 0), ("mm", 0, 1), ("mm", 1, 2), ("mm", 2, 0)])
    assert worst < 1e-6
    assert np.allclose(qm.port_array("mm_forces_out")[2], 0.0)  # a switched-off charge feels nothing
    # Newton's third law for the whole QM + MM system (the energy is translation invariant).
    total = qm.port_array("forces_out").sum(axis=0) + qm.port_array("mm_forces_out").sum(axis=0)
    assert np.abs(total).max() < 1e-7


def test_switch_is_c2_and_its_derivative_exact():
    cutoff, width = 5.0, 1.5
    r = np.linspace(3.0, 5.5, 2001)
    s, ds = switch(r, cutoff, width)
    assert s[r <= cutoff - width].min() == 1.0 and s[r >= cutoff].max() == 0.0
    assert np.all(np.diff(s) <= 0)
    h = 1e-6
    fd = (switch(r + h, cutoff, width)[0] - switch(r - h, cutoff, width)[0]) / (2 * h)
    assert np.abs(fd - ds).max() < 1e-7
    # C2: first and second derivatives vanish at both ends of the shell (S = 1 - 10x^3 + 15x^4 - 6x^5).
    for edge in (cutoff - width, cutoff):
        d1 = switch(np.array([edge - 1e-4, edge + 1e-4]), cutoff, width)[1]
        assert np.abs(d1).max() < 1e-6
    assert switch(np.array([7.0]), 0.0, 0.0)[0][0] == 1.0  # no cutoff: every charge counts


@pytest.mark.slow
def test_kohn_sham_forces_finite_differences(water, mm_sites):
    # PBE/STO-3G, embedded: forces include the grid response, so they are the gradient of the energy on
    # the atom-centred grid that moves with the atoms. Tolerance 2e-6 Eh/bohr (h = 1e-4 bohr as above).
    positions, charges = mm_sites
    qm = _embedded(water, positions, charges, method="rks", xc="pbe", grid_level=1)
    _finite_difference_check(qm, [("qm", 2, 0), ("mm", 1, 0)], tol=2e-6)
