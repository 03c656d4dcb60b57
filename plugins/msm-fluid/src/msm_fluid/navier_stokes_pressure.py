"""Pressure of a stream function–vorticity solution: the pressure-Poisson equation on the nodes.

Taking the divergence of the momentum equation (``div u = 0``) gives

.. math::

    \\nabla^2 p = 2 \\rho (u_x v_y - u_y v_x) + \\nabla \\cdot f ,

with the Neumann data of the momentum equation itself on every edge,
``dp/dn = n . G``, ``G = -rho du/dt - rho (u.grad) u + mu (-omega_y, omega_x) + f``
(``mu lap u = mu (-omega_y, omega_x)`` in 2D; ``du/dt . n`` vanishes on
walls, and a time-dependent inflow's is given by the caller). An outflow edge holds
``p = 0``; with none, ``p`` is fixed by a zero mean over the nodes.
Derivatives are central inside and second-order one-sided on the edges,
where continuity replaces the normal derivative of the normal velocity.
The Laplacian uses mirrored ghost nodes and each row is weighted by its
control volume (1/2 on edges, 1/4 in corners), so the matrix is symmetric
(CG + GAMG, the constant null space removed when there is no outflow).
"""

from __future__ import annotations

import logging

import numpy as np
from petsc4py import PETSc

from msm_fluid.navier_stokes_discrete import Layout

__all__ = ["PressureSolver", "derivative"]

logger = logging.getLogger(__name__)

_C = slice(2, -2)


def derivative(f: np.ndarray, axis: int, layout: Layout) -> np.ndarray:
    """d f / d(axis) at the owned nodes from an extended box ``f`` (2 layers of neighbours)."""
    h = layout.spacing[axis]
    p, m = slice(3, -1), slice(1, -3)
    if axis == 0:
        d = (f[p, _C] - f[m, _C]) / (2.0 * h)
        if layout.on("left"):
            d[0] = (-3.0 * f[2, _C] + 4.0 * f[3, _C] - f[4, _C]) / (2.0 * h)
        if layout.on("right"):
            d[-1] = (3.0 * f[-3, _C] - 4.0 * f[-4, _C] + f[-5, _C]) / (2.0 * h)
    else:
        d = (f[_C, p] - f[_C, m]) / (2.0 * h)
        if layout.on("bottom"):
            d[:, 0] = (-3.0 * f[_C, 2] + 4.0 * f[_C, 3] - f[_C, 4]) / (2.0 * h)
        if layout.on("top"):
            d[:, -1] = (3.0 * f[_C, -3] - 4.0 * f[_C, -4] + f[_C, -5]) / (2.0 * h)
    return d


class PressureSolver:
    """Matrix and KSP of the pressure-Poisson equation on a dof-1 DMDA laid out like ``like``.

    Parameters
    ----------
    like
        The solution's DMDA (its ownership ranges are copied).
    layout
        This rank's geometry.
    prefix
        PETSc options prefix (``"<component>_pressure_"``).
    rtol
        Relative tolerance of the CG solve.
    """

    def __init__(self, like: PETSc.DMDA, layout: Layout, prefix: str, rtol: float) -> None:
        self.layout = layout
        nx, ny = layout.nodes
        comm = like.getComm()
        self.da = PETSc.DMDA().create(
            dim=2, dof=1, sizes=(ny, nx), proc_sizes=like.getProcSizes(),
            ownership_ranges=like.getOwnershipRanges(), stencil_width=1,
            boundary_type=(PETSc.DM.BoundaryType.NONE,) * 2, comm=comm)
        (i0, i1), (j0, j1) = layout.owned
        self.local_shape = (i1 - i0, j1 - j0)
        self.weight = self._weights()
        self.A = self._assemble()
        self.b = self.da.createGlobalVec()
        self.p = self.da.createGlobalVec()
        self.nullspace: PETSc.NullSpace | None = None
        if not layout.boundaries.outflow:
            self.nullspace = PETSc.NullSpace().create(constant=True, comm=comm)
            self.A.setNullSpace(self.nullspace)
        self.ksp = PETSc.KSP().create(comm=comm)
        self.ksp.setOptionsPrefix(prefix)
        self.ksp.setOperators(self.A)
        self.ksp.setType("cg")
        self.ksp.getPC().setType("gamg")
        self.ksp.setTolerances(rtol=rtol, atol=1e-50)
        self.ksp.setFromOptions()

    def _weights(self) -> np.ndarray:
        (i0, i1), (j0, j1) = self.layout.owned
        nx, ny = self.layout.nodes
        wx = np.where((np.arange(i0, i1) == 0) | (np.arange(i0, i1) == nx - 1), 0.5, 1.0)
        wy = np.where((np.arange(j0, j1) == 0) | (np.arange(j0, j1) == ny - 1), 0.5, 1.0)
        return wx[:, None] * wy[None, :]

    def _assemble(self) -> PETSc.Mat:
        """-w lap with mirrored ghosts (symmetric); outflow rows/columns replaced by the identity."""
        (i0, i1), (j0, j1) = self.layout.owned
        nx, ny = self.layout.nodes
        hx, hy = self.layout.spacing
        (gi0, gi1), (gj0, gj1) = (tuple(int(v) for v in r) for r in self.da.getGhostRanges()[::-1])
        gi, gj = np.meshgrid(np.arange(i0, i1), np.arange(j0, j1), indexing="ij")
        ri, rj = gi.ravel(), gj.ravel()
        w = self.weight.ravel()

        def local(ii: np.ndarray, jj: np.ndarray) -> np.ndarray:
            return ((ii - gi0) * (gj1 - gj0) + (jj - gj0)).astype(PETSc.IntType)

        cols, vals = [local(ri, rj)], [w * (2.0 / hx**2 + 2.0 / hy**2)]
        for di, dj, h2 in ((-1, 0, hx**2), (1, 0, hx**2), (0, -1, hy**2), (0, 1, hy**2)):
            ii, jj = ri + di, rj + dj
            ii = np.where(ii < 0, 1, np.where(ii > nx - 1, nx - 2, ii))  # mirrored ghosts
            jj = np.where(jj < 0, 1, np.where(jj > ny - 1, ny - 2, jj))
            cols.append(local(ii, jj))
            vals.append(-w / h2)
        self.da.setMatType(PETSc.Mat.Type.AIJ)
        A = self.da.createMat()
        A.setValuesLocalRCV(local(ri, rj).reshape(-1, 1), np.ascontiguousarray(np.stack(cols, axis=1)),
                            np.ascontiguousarray(np.stack(vals, axis=1), dtype=PETSc.ScalarType),
                            addv=PETSc.InsertMode.ADD_VALUES)
        A.assemble()
        if self.layout.boundaries.outflow and i1 == nx:
            rows = local(np.full(j1 - j0, nx - 1), np.arange(j0, j1))
        else:
            rows = np.zeros(0, dtype=PETSc.IntType)
        A.zeroRowsColumnsLocal(rows, diag=1.0)
        return A

    def solve(self, E: np.ndarray, V: np.ndarray, EF: np.ndarray, rho: float, mu: float,
              out: np.ndarray, inflow_rate: np.ndarray | None = None) -> int:
        """Pressure at the owned nodes into ``out``; returns the KSP's converged reason (collective).

        ``E``, ``V`` and ``EF`` are the extended boxes of the solution (psi, omega),
        of the velocity and of the force; ``inflow_rate`` the ``du/dt`` of a
        (left-edge) inflow at this rank's left-edge nodes (``None``: 0).
        """
        lay = self.layout
        hx, hy = lay.spacing
        u, v, om = V[..., 0], V[..., 1], E[..., 1]
        ux, uy = derivative(u, 0, lay), derivative(u, 1, lay)
        vx, vy = derivative(v, 0, lay), derivative(v, 1, lay)
        fx, fy = EF[_C, _C, 0], EF[_C, _C, 1]
        s = 2.0 * rho * (ux * vy - uy * vx) + derivative(EF[..., 0], 0, lay) + derivative(EF[..., 1], 1, lay)
        uc, vc = u[_C, _C], v[_C, _C]
        # on an edge the normal derivative of the normal velocity is taken from continuity
        # (u_x = -v_y on left/right, v_y = -u_x on bottom/top): derivatives along the edge only
        gx = -rho * (uc * -vy + vc * uy) - mu * derivative(om, 1, lay) + fx
        gy = -rho * (uc * vx + vc * -ux) + mu * derivative(om, 0, lay) + fy
        if inflow_rate is not None and lay.on("left"):
            gx[0] -= rho * inflow_rate
        rhs = s.copy()
        if lay.on("left"):
            rhs[0] += 2.0 * gx[0] / hx
        if lay.on("right"):
            rhs[-1] -= 2.0 * gx[-1] / hx
        if lay.on("bottom"):
            rhs[:, 0] += 2.0 * gy[:, 0] / hy
        if lay.on("top"):
            rhs[:, -1] -= 2.0 * gy[:, -1] / hy
        b = self.b.getArray().reshape(self.local_shape)
        b[...] = -self.weight * rhs
        if lay.boundaries.outflow and lay.on("right"):
            b[-1] = 0.0
        if self.nullspace is not None:
            self.nullspace.remove(self.b)
        self.ksp.setInitialGuessNonzero(False)  # no hidden state: the result depends on the inputs only
        self.ksp.solve(self.b, self.p)
        p = self.p.getArray(readonly=True).reshape(self.local_shape)
        if self.nullspace is not None:
            mean = self.p.sum() / self.p.getSize()
            out[...] = p - mean
        else:
            out[...] = p
        return int(self.ksp.getConvergedReason())

    def destroy(self) -> None:
        """Destroy the PETSc objects."""
        for obj in (self.ksp, self.A, self.b, self.p, self.nullspace, self.da):
            if obj is not None:
                obj.destroy()
