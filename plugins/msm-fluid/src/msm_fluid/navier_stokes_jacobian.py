"""Analytic Jacobian of the stream function–vorticity residual (:mod:`msm_fluid.navier_stokes_discrete`).

Every row is assembled at once, vectorised: a fixed number ``K`` of
(column, value) pairs per row, padded with zeros on the row's own diagonal
and added (``ADD_VALUES``) into a matrix from the DMDA, with the DMDA's
ghosted-local numbering (``((i - gi0) * gny + (j - gj0)) * 2 + dof``), so
each rank assembles its own rows. The residual is at most quadratic in the
unknowns, so a central difference of it reproduces ``J v`` to round-off —
the test of this module.
"""

from __future__ import annotations

import numpy as np
from petsc4py import PETSc

from msm_fluid.navier_stokes_discrete import Layout, Physics, psi_row_scale

__all__ = ["JacobianAssembler"]

_K = 9  # entries per row: the vorticity row's centre, 4 vorticity and 4 stream-function neighbours


class JacobianAssembler:
    """Assembles the Jacobian of one rank's rows into a DMDA matrix.

    Parameters
    ----------
    layout
        This rank's geometry.
    ghosted
        Ghosted node ranges per NumPy axis (from the DMDA).
    """

    def __init__(self, layout: Layout, ghosted: tuple[tuple[int, int], tuple[int, int]]) -> None:
        self.layout = layout
        (i0, i1), (j0, j1) = layout.owned
        (self._gi0, _), (self._gj0, gj1) = ghosted
        self._gny = gj1 - self._gj0
        self._I, self._J = np.meshgrid(np.arange(i0, i1), np.arange(j0, j1), indexing="ij")

    def _loc(self, di: int | np.ndarray, dj: int | np.ndarray, dof: int,
             ii: np.ndarray | None = None, jj: np.ndarray | None = None) -> np.ndarray:
        ii = self._I if ii is None else ii
        jj = self._J if jj is None else jj
        return (((ii + di - self._gi0) * self._gny + (jj + dj - self._gj0)) * 2 + dof).astype(PETSc.IntType)

    def assemble(self, E: np.ndarray, phys: Physics, J: PETSc.Mat) -> None:
        """Assemble the Jacobian at the extended solution ``E`` into ``J`` (collective)."""
        lay = self.layout
        hx, hy = lay.spacing
        lnx, lny = self._I.shape
        cols = np.empty((lnx, lny, 2, _K), dtype=PETSc.IntType)
        vals = np.zeros((lnx, lny, 2, _K))
        diag = (self._loc(0, 0, 0), self._loc(0, 0, 1))
        for d in (0, 1):
            cols[:, :, d, :] = diag[d][..., None]
        # interior stream-function row: -lap(psi) - omega hx hy
        ax, ay = hy / hx, hx / hy
        psi_row = [((0, 0, 0), 2 * (ax + ay)), ((1, 0, 0), -ax), ((-1, 0, 0), -ax), ((0, 1, 0), -ay),
                   ((0, -1, 0), -ay), ((0, 0, 1), -hx * hy)]
        for k, ((di, dj, dof), v) in enumerate(psi_row):
            cols[:, :, 0, k] = self._loc(di, dj, dof)
            vals[:, :, 0, k] = v
        # interior vorticity row: a (u.grad omega - nu lap omega) (+ hx hy / (dt nu) omega)
        c = slice(2, -2)
        psi, om = E[..., 0], E[..., 1]
        u = (psi[c, 3:-1] - psi[c, 1:-3]) / (2 * hy)
        v = -(psi[3:-1, c] - psi[1:-3, c]) / (2 * hx)
        dom_x = om[3:-1, c] - om[1:-3, c]
        dom_y = om[c, 3:-1] - om[c, 1:-3]
        nu = phys.nu
        a = (1.0 if phys.dt is None else phys.theta) / nu
        centre = a * nu * 2 * (ax + ay) + (0.0 if phys.dt is None else hx * hy / (phys.dt * nu))
        om_row = [((0, 0, 1), centre),
                  ((1, 0, 1), a * (u * hy / 2 - nu * ax)), ((-1, 0, 1), a * (-u * hy / 2 - nu * ax)),
                  ((0, 1, 1), a * (v * hx / 2 - nu * ay)), ((0, -1, 1), a * (-v * hx / 2 - nu * ay)),
                  ((0, 1, 0), a * dom_x / 4), ((0, -1, 0), -a * dom_x / 4),
                  ((1, 0, 0), -a * dom_y / 4), ((-1, 0, 0), a * dom_y / 4)]
        for k, ((di, dj, dof), val) in enumerate(om_row):
            cols[:, :, 1, k] = self._loc(di, dj, dof)
            vals[:, :, 1, k] = val
        self._boundary_rows(cols, vals)
        vals[:, :, 0, :] *= psi_row_scale(lay)
        J.zeroEntries()
        rows = np.stack(diag, axis=-1)
        J.setValuesLocalRCV(rows.reshape(-1, 1), np.ascontiguousarray(cols.reshape(-1, _K)),
                            np.ascontiguousarray(vals.reshape(-1, _K), dtype=PETSc.ScalarType),
                            addv=PETSc.InsertMode.ADD_VALUES)
        J.assemble()

    def _set(self, cols: np.ndarray, vals: np.ndarray, where: tuple, dof: int,
             entries: list[tuple[tuple[int, int, int], float]]) -> None:
        """Replace the rows ``cols[where + (dof,)]`` by ``entries`` ((di, dj, dof), value)."""
        ii, jj = self._I[where], self._J[where]
        own = self._loc(0, 0, dof, ii, jj)
        cols[where + (dof,)] = own[..., None]
        vals[where + (dof,)] = 0.0
        for k, ((di, dj, d), v) in enumerate(entries):
            cols[where + (dof, k)] = self._loc(di, dj, d, ii, jj)
            vals[where + (dof, k)] = v

    def _boundary_rows(self, cols: np.ndarray, vals: np.ndarray) -> None:
        lay = self.layout
        hx, hy = lay.spacing
        kinds = lay.boundaries.kinds
        one = [((0, 0, 0), 1.0)]

        def jensen(step: tuple[int, int], h: float) -> list[tuple[tuple[int, int, int], float]]:
            (si, sj) = step  # one node into the fluid
            return [((0, 0, 1), 1.0), ((0, 0, 0), -7.0 / (2 * h * h)), ((si, sj, 0), 8.0 / (2 * h * h)),
                    ((2 * si, 2 * sj, 0), -1.0 / (2 * h * h))]

        for edge, where, step, h in (("left", (0, slice(None)), (1, 0), hx),
                                     ("right", (-1, slice(None)), (-1, 0), hx),
                                     ("bottom", (slice(None), 0), (0, 1), hy),
                                     ("top", (slice(None), -1), (0, -1), hy)):
            if not lay.on(edge):
                continue
            kind = kinds[edge]
            if kind == "outflow":
                si, sj = step
                self._set(cols, vals, where, 0, [((0, 0, 0), 3.0), ((si, sj, 0), -4.0), ((2 * si, 2 * sj, 0), 1.0)])
                self._set(cols, vals, where, 1, [((0, 0, 1), 3.0), ((si, sj, 1), -4.0), ((2 * si, 2 * sj, 1), 1.0)])
                continue
            self._set(cols, vals, where, 0, one)
            self._set(cols, vals, where, 1, jensen(step, h) if kind == "wall" else [((0, 0, 1), 1.0)])
