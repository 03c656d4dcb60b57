"""Radial basis function interpolation weights, solved once with a PETSc KSP.

The interpolant through values ``f`` at centres ``x_j`` is
``s(x) = sum_j lambda_j phi(|x - x_j|) + p(x)`` with ``p`` an optional linear
polynomial ``(1, x, y, ...)``; the coefficients solve the saddle-point system
``[[Phi, P], [P^T, 0]] [lambda; c] = [f; 0]``. The mapping matrix
``M = [Phi_t, P_t] A^{-1} [I; 0]`` is formed once: ``A`` is symmetric, so
``M^T = [I, 0] A^{-1} [Phi_t, P_t]^T`` is one multi-right-hand-side solve with
the LU factors of ``A`` (KSPPREONLY + PCLU on a dense ``Mat``; LAPACK's partial
pivoting copes with the zero block). Options prefix ``msm_rbf_``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from petsc4py import PETSc

from msmcore.errors import ConfigurationError

__all__ = ["BASES", "rbf_weights"]

log = logging.getLogger(__name__)

BASES = ("gaussian", "thin-plate", "wendland-c2")

# As in preCICE: a Gaussian's support radius is where it has decayed to 1e-9.
_GAUSS_CUTOFF = float(np.sqrt(-np.log(1e-9)))


def _basis(name: str, radius: float) -> Callable[[np.ndarray], np.ndarray]:
    if name == "gaussian":
        s = _GAUSS_CUTOFF / radius
        return lambda r: np.exp(-((s * r) ** 2))
    if name == "thin-plate":
        def tps(r: np.ndarray) -> np.ndarray:
            out = np.zeros_like(r)
            pos = r > 0
            out[pos] = r[pos] ** 2 * np.log(r[pos])
            return out
        return tps
    q = lambda r: np.clip(1.0 - r / radius, 0.0, None)  # noqa: E731
    return lambda r: q(r) ** 4 * (4.0 * r / radius + 1.0)


def _check_centres(centres: np.ndarray, role: str, polynomial: bool) -> float:
    """Reject coincident centres and sets too small for the polynomial; return the spacing."""
    n, dim = centres.shape
    extent = float(np.ptp(centres, axis=0).max()) if n > 1 else 0.0
    from scipy.spatial import cKDTree  # here, not at import: scipy.spatial costs every msmcore process ~0.4 s

    tree = cKDTree(centres)
    pairs = tree.query_pairs(r=1e-12 * max(extent, 1.0), output_type="ndarray")
    if len(pairs):
        i, j = (int(v) for v in pairs[0])
        raise ConfigurationError(
            f"rbf mapping: {role} points {i} and {j} coincide at {centres[i].tolist()} "
            f"({len(pairs)} coincident pair(s)); RBF interpolation needs distinct points: "
            "remove the duplicates, or use kind='nearest' or 'linear'"
        )
    if polynomial:
        p = np.column_stack([np.ones(n), centres - centres.mean(axis=0)])
        if n < dim + 1 or np.linalg.matrix_rank(p) < dim + 1:
            raise ConfigurationError(
                f"rbf mapping: a linear polynomial in {dim}D needs at least {dim + 1} {role} "
                f"points not all on one {'point' if dim == 1 else 'line' if dim == 2 else 'plane'} "
                f"(got {n}): give polynomial=False, or drop the coordinate axes along which "
                "the points do not vary"
            )
    if n < 2:
        return 1.0
    return float(np.mean(tree.query(centres, k=2)[0][:, 1]))


def rbf_weights(
    centres: np.ndarray,
    target: np.ndarray,
    *,
    basis: str,
    support_radius: float | None,
    polynomial: bool,
    role: str = "source",
) -> tuple[np.ndarray, dict[str, Any]]:
    """Dense RBF interpolation weights from ``centres`` to ``target``.

    Parameters
    ----------
    centres, target
        ``(n, dim)`` and ``(m, dim)`` point coordinates.
    basis
        ``"gaussian"``, ``"thin-plate"`` (``r**2 log r``) or ``"wendland-c2"``
        (``(1 - r/R)**4 (4 r/R + 1)``, zero beyond ``R``).
    support_radius
        ``R`` of Wendland C2 (required); for the Gaussian, the distance at which
        it decays to 1e-9 (default: 8 times the mean nearest-neighbour spacing);
        unused by thin-plate.
    polynomial
        Append a linear polynomial, so constant and linear fields are reproduced.
    role
        Name of the centre set in error messages (``"source"`` or ``"target"``).

    Returns
    -------
    weights : numpy.ndarray
        ``(m, n)`` mapping matrix.
    info : dict
        ``support_radius`` used, ``residual``, the relative Frobenius
        residual ``|A X - B| / |B|`` of the factored solve, and
        ``amplification``, the largest absolute row sum of the weights (1 for
        a mapping that cannot overshoot; large values flag ill-conditioning);
        ``uncovered``: targets outside every Wendland support.
    """
    from scipy.spatial import cKDTree
    from scipy.spatial.distance import cdist

    spacing = _check_centres(centres, role, polynomial)
    if basis == "gaussian" and support_radius is None:
        support_radius = 8.0 * spacing
    n, dim = centres.shape
    phi = _basis(basis, float(support_radius or 1.0))
    shift = centres.mean(axis=0)
    scale = max(float(np.ptp(centres, axis=0).max()), 1e-300) if n > 1 else 1.0
    q = dim + 1 if polynomial else 0
    a = np.zeros((n + q, n + q))
    a[:n, :n] = phi(cdist(centres, centres))
    b = np.empty((n + q, len(target)))
    b[:n] = phi(cdist(centres, target))
    if polynomial:  # scaled monomials: same span, better conditioned
        a[:n, n] = 1.0
        a[:n, n + 1:] = (centres - shift) / scale
        a[n:, :n] = a[:n, n:].T
        b[n] = 1.0
        b[n + 1:] = ((target - shift) / scale).T
    uncovered = 0
    if basis == "wendland-c2":  # targets with no centre inside the support
        dist = cKDTree(centres).query(target, k=1, distance_upper_bound=support_radius)[0]
        uncovered = int(np.isinf(dist).sum())
        if uncovered:
            log.warning("rbf mapping: %d point(s) to map to have no %s point within "
                        "support_radius=%g; they get %s", uncovered, role, support_radius,
                        "the polynomial fit only" if polynomial else "0")
    x = _solve(a, b)
    residual = float(np.linalg.norm(a @ x - b) / max(np.linalg.norm(b), 1e-300))
    if not np.all(np.isfinite(x)) or residual > 1e-6:
        raise ConfigurationError(
            f"rbf mapping: the {basis} interpolation system on {n} {role} points is singular or "
            f"too ill-conditioned (relative residual {residual:.1e}): use a smaller "
            "support_radius for 'gaussian', polynomial=True for 'thin-plate', or another basis"
        )
    if residual > 1e-10:
        log.warning("rbf mapping (%s, %d points): ill-conditioned, relative residual %.1e",
                    basis, n, residual)
    w = x[:n].T.copy()
    return w, {"support_radius": support_radius, "residual": residual, "uncovered": uncovered,
               "amplification": float(np.abs(w).sum(axis=1).max()) if len(w) else 0.0}


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``a x = b`` for all columns of ``b`` with one LU factorisation (PETSc KSP)."""
    comm = PETSc.COMM_SELF
    # Private column-major copies: createDense shares a Fortran-contiguous array.
    mats = [PETSc.Mat().createDense(m.shape, array=np.array(m, order="F"), comm=comm)
            for m in (a, b)]
    for m in mats:
        m.assemble()
    mats.append(mats[1].duplicate())
    ksp = PETSc.KSP().create(comm=comm)
    try:
        ksp.setOptionsPrefix("msm_rbf_")
        ksp.setOperators(mats[0])
        ksp.setType(PETSc.KSP.Type.PREONLY)
        ksp.getPC().setType(PETSc.PC.Type.LU)
        ksp.setFromOptions()
        try:
            ksp.setUp()
            ksp.matSolve(mats[1], mats[2])
        except PETSc.Error as exc:
            reason = str(exc).strip().splitlines()[-1].removeprefix("[0] ")
            raise ConfigurationError(
                f"rbf mapping: the interpolation system could not be factored (PETSc: {reason}):"
                " the points may be degenerate for this basis; try polynomial=True or another"
                " basis"
            ) from exc
        return mats[2].getDenseArray().copy()
    finally:
        ksp.destroy()
        for m in mats:
            m.destroy()
