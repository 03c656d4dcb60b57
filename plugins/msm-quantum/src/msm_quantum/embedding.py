"""Electrostatic embedding: MM point (or Gaussian) charges in a QM Hamiltonian, and their forces.

All quantities in atomic units (bohr, hartree, e). An MM charge ``q_k`` at
``C_k`` is either a point charge or a normalised Gaussian
``q_k (zeta_k / pi)^(3/2) exp(-zeta_k |r - C_k|^2)``, ``zeta_k = 1 / radius_k^2``
(the charge model of ``pyscf.qmmm``). The embedded energy is

    E = E_SCF[h + h_MM] + sum_A sum_k Z_A q_k f_k(|R_A - C_k|),
    h_MM[mu, nu] = -sum_k q_k (mu nu | k),   f_k(r) = erf(sqrt(zeta_k) r) / r   (1/r for a point),

where ``(mu nu | k)`` is the Coulomb integral of the AO pair with the unit
charge distribution of site ``k`` (libcint ``int1e_grids`` for a point,
``int3c2e`` with a normalised s function for a Gaussian). This module computes the MM
one-electron operator, the nuclear–MM energy, the potential of the QM region
at the MM sites (``dE/dq_k``) and the analytic gradients with respect to QM
nuclei and MM sites. Because ``(mu nu | k)`` is unchanged by moving all three
centres together, one derivative integral, ``<d mu nu | k>``
(``int1e_grids_ip`` / ``int3c2e_ip1``), gives both: the QM-atom term sums over the AOs of each
atom, the MM-site term over all AOs with the opposite sign.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from pyscf import df, gto
from scipy.special import erf

__all__ = ["POINT_EXPONENT", "MMCharges", "mm_hcore", "nuclear_mm_energy", "potential_at_sites",
           "mm_gradients"]

#: Exponent recorded for a point charge (PySCF's convention for a point in ``zetas``; the point's
#: integrals use ``int1e_grids``, its nuclear term 1/r).
POINT_EXPONENT = 1e16

#: Bytes of three-centre derivative integrals held at once.
_BLOCK_BYTES = 64e6


class MMCharges:
    """MM sites seen by the QM region: positions (bohr), charges (e), Gaussian exponents.

    Parameters
    ----------
    coords
        ``(n, 3)`` positions in bohr.
    charges
        ``(n,)`` charges in e (already scaled by any switching function).
    radii
        ``(n,)`` Gaussian radii in bohr; 0 marks a point charge.
    """

    def __init__(self, coords: np.ndarray, charges: np.ndarray, radii: np.ndarray) -> None:
        self.coords = np.ascontiguousarray(coords, dtype=np.float64).reshape(-1, 3)
        self.charges = np.asarray(charges, dtype=np.float64).reshape(-1)
        radii = np.broadcast_to(np.asarray(radii, dtype=np.float64), self.charges.shape)
        self.point = radii <= 0.0
        with np.errstate(divide="ignore"):
            self.zetas = np.where(self.point, POINT_EXPONENT, 1.0 / np.where(self.point, 1.0, radii) ** 2)

    def __len__(self) -> int:
        return int(self.charges.size)

    def blocks(self, nao: int, comp: int) -> Iterator[np.ndarray]:
        """Indices of the sites, point and Gaussian ones apart, in blocks whose integrals fit the budget."""
        size = max(1, int(_BLOCK_BYTES / (8.0 * comp * nao * nao)))
        for kind in (self.point, ~self.point):
            index = np.flatnonzero(kind)
            for i0 in range(0, index.size, size):
                yield index[i0:i0 + size]

    def kernel(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``f(r)`` and ``f'(r)`` for every site (rows) at distances ``r`` ``(n, m)``."""
        a = np.where(self.point, 1.0, np.sqrt(self.zetas))[:, None]  # 1.0: placeholder, unused for points
        e = erf(a * r)
        gauss = e / r, (2.0 / np.sqrt(np.pi)) * a * np.exp(-(a * r) ** 2) / r - e / r**2
        point = 1.0 / r, -1.0 / r**2
        f = np.where(self.point[:, None], point[0], gauss[0])
        df_ = np.where(self.point[:, None], point[1], gauss[1])
        return f, df_


def _integrals(mol: gto.Mole, mm: MMCharges, index: np.ndarray, deriv: int = 0) -> np.ndarray:
    """``(k | mu nu)`` as ``(n, nao, nao)``, or ``<d mu nu | k>`` as ``(3, n, nao, nao)`` (bra AO differentiated).

    Point charges use the one-electron integrals of ``1/|r - C|`` on the sites (``int1e_grids``, 3x
    faster than a three-centre integral with a sharp Gaussian); Gaussian sites the three-centre
    Coulomb integrals with a normalised s function (``int3c2e``), as ``pyscf.qmmm`` does.
    """
    if mm.point[index[0]]:
        return mol.intor("int1e_grids_ip" if deriv else "int1e_grids", grids=mm.coords[index])
    fake = gto.fakemol_for_charges(mm.coords[index], mm.zetas[index])
    if deriv:
        return np.moveaxis(df.incore.aux_e2(mol, fake, intor="int3c2e_ip1", aosym="s1", comp=3), 3, 1)
    return np.moveaxis(df.incore.aux_e2(mol, fake, intor="int3c2e", aosym="s1"), 2, 0)


def mm_hcore(mol: gto.Mole, mm: MMCharges) -> np.ndarray:
    """The MM charges' one-electron operator ``-sum_k q_k (mu nu | k)``, ``(nao, nao)``."""
    h = np.zeros((mol.nao, mol.nao))
    for index in mm.blocks(mol.nao, 1):
        h -= np.einsum("kpq,k->pq", _integrals(mol, mm, index), mm.charges[index])
    return h


def _distances(mol: gto.Mole, mm: MMCharges) -> tuple[np.ndarray, np.ndarray]:
    """``R_A - C_k`` as ``(n_mm, n_qm, 3)`` and its norm ``(n_mm, n_qm)``."""
    d = mol.atom_coords()[None, :, :] - mm.coords[:, None, :]
    return d, np.linalg.norm(d, axis=2)


def nuclear_mm_energy(mol: gto.Mole, mm: MMCharges) -> float:
    """Coulomb energy of the QM nuclei with the MM charges."""
    if not len(mm):
        return 0.0
    _, r = _distances(mol, mm)
    f, _ = mm.kernel(r)
    return float(np.einsum("k,ka,a->", mm.charges, f, mol.atom_charges().astype(float)))


def potential_at_sites(mol: gto.Mole, dm: np.ndarray, mm: MMCharges) -> np.ndarray:
    """Potential of the QM electrons and nuclei at each site, ``dE/dq_k`` (``(n,)``, hartree/e).

    ``dm`` is the total (alpha + beta) AO density matrix. For a Gaussian site
    it is the potential averaged over the site's charge distribution.
    """
    if not len(mm):
        return np.zeros(0)
    phi = np.empty(len(mm))
    for index in mm.blocks(mol.nao, 1):
        phi[index] = -np.einsum("kpq,pq->k", _integrals(mol, mm, index), dm)
    _, r = _distances(mol, mm)
    f, _ = mm.kernel(r)
    return phi + f @ mol.atom_charges().astype(float)


def mm_gradients(mol: gto.Mole, dm: np.ndarray, mm: MMCharges) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of the embedding terms: ``(n_qm, 3)`` on QM nuclei and ``(n_mm, 3)`` on MM sites.

    These are the terms the MM charges add to a vacuum SCF gradient (evaluated
    with the embedded density): the derivative of ``h_MM`` contracted with the
    total density ``dm``, and the derivative of the nuclear–MM energy. They are
    gradients (``dE/dx``), not forces.
    """
    natm = mol.natm
    g_qm = np.zeros((natm, 3))
    g_mm = np.zeros((len(mm), 3))
    if not len(mm):
        return g_qm, g_mm
    atom_of_ao = np.repeat(np.arange(natm), [p1 - p0 for _, _, p0, p1 in mol.aoslice_by_atom()])
    for index in mm.blocks(mol.nao, 3):
        ip1 = _integrals(mol, mm, index, deriv=1)  # <d/dx mu nu | k>, (3, n, nao, nao)
        w = np.einsum("xkpq,pq->xpk", ip1, dm)  # per AO mu (bra), per site
        q = mm.charges[index]
        # d h_MM / d R_A: moving atom A moves its AOs (d mu/dR = -nabla mu): +2 q <nabla mu nu|k> D.
        per_ao = np.einsum("xpk,k->px", w, q)
        np.add.at(g_qm, atom_of_ao, 2.0 * per_ao)
        # d h_MM / d C_k: by translational invariance, minus the sum over all AOs.
        g_mm[index] = -2.0 * q[:, None] * w.sum(axis=1).T
    d, r = _distances(mol, mm)
    _, dfr = mm.kernel(r)
    # E_nuc = sum Z_A q_k f(r_Ak): dE/dR_A = sum_k Z_A q_k f'(r) (R_A - C_k) / r; dE/dC_k the opposite.
    coef = mm.charges[:, None] * mol.atom_charges()[None, :] * dfr / r  # (n_mm, n_qm)
    pair = coef[:, :, None] * d
    g_qm += pair.sum(axis=0)
    g_mm -= pair.sum(axis=1)
    return g_qm, g_mm
