"""Vertex-centred heat conduction operators: the stencil, interface edges and their fluxes.

Notation (per edge): ``a`` is the axis normal to the edge (0 = x for the left
and right edges, 1 = y for bottom and top), ``s`` the edge's side (``-1`` for
left/bottom, ``+1`` for right/top, i.e. the sign of the outward normal along
``+a``), ``b`` the index of the edge's nodes along ``a`` (``0`` or ``n_a - 1``)
and ``h`` the node spacing along ``a``; ``u_b``, ``u_{b-s}``, ``u_{b-2s}`` are
the edge row and the next two rows inward.

**Flux convention.** ``flux = q . e_a = -kappa du/da``: the heat flux along
the *positive* coordinate axis normal to the edge, the same number for the
domains on both sides of an interface.

**Half control volume.** An edge node owns the half cell of width ``h/2``
inside the domain. Its energy balance, per unit edge length, is::

    h/2 (du_b/dt - f_b - kappa D_tt u_b) = -s q_b - kappa (u_b - u_{b-s}) / h

(``D_tt`` is the central second difference along the edge; the last term is
the conductive flux through the inner face of the half cell, positive
inwards). Every term is exact for a ``u`` quadratic in space and linear in
time, which the vertex-centred grid, second-order differences and implicit
Euler all reproduce exactly. Hence:

* a Neumann edge (flux given) uses the balance as its PDE row - equivalent to
  a ghost node ``u_{b+s} = u_{b-s} - 2 s h q / kappa`` in the 5-point stencil;
* a Dirichlet interface (temperature given) reports the flux that closes the
  balance (:func:`balance_flux`), which makes the pair conservative: handing
  that flux to a Neumann edge of the same grid reproduces the same row.

Corner nodes of an edge belong to the outer (Dirichlet) boundary; their flux
comes from the second-order one-sided difference ``(3 u_b - 4 u_{b-s} +
u_{b-2s}) / (2h)`` (:func:`one_sided_flux`), also exact for quadratics.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from petsc4py import PETSc

from msm_fluid.grid import AXIS_NAMES, CellGrid

__all__ = ["EDGES", "Edge", "assemble_conduction", "balance_flux", "one_sided_flux"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Edge:
    """One edge of a 2D node grid.

    Attributes
    ----------
    name
        ``"left"``, ``"right"``, ``"bottom"`` or ``"top"``.
    axis
        Normal axis ``a`` (0 = x, 1 = y).
    side
        ``-1`` for the low side (left, bottom), ``+1`` for the high side.
    """

    name: str
    axis: int
    side: int

    @property
    def tangent_axis(self) -> int:
        """The axis along the edge."""
        return 1 - self.axis

    @property
    def tangent_name(self) -> str:
        """Coordinate name along the edge (``"y"`` for left/right, ``"x"`` for bottom/top)."""
        return AXIS_NAMES[self.tangent_axis]

    def index(self, shape: tuple[int, ...]) -> int:
        """Index ``b`` of the edge's nodes along the normal axis."""
        return 0 if self.side < 0 else shape[self.axis] - 1

    def row(self, u: np.ndarray, inward: int = 0) -> np.ndarray:
        """View of the node row ``inward`` rows inside the edge (0 = the edge itself)."""
        k = self.index(u.shape) - self.side * inward
        return u[k, :] if self.axis == 0 else u[:, k]

    def mask(self, shape: tuple[int, ...], corners: bool = True) -> np.ndarray:
        """Boolean mask of the edge's nodes, with or without its two corner nodes."""
        mask = np.zeros(shape, dtype=bool)
        line = self.row(mask)
        line[...] = True
        if not corners:
            line[0] = line[-1] = False
        return mask


#: The four edges by name.
EDGES: dict[str, Edge] = {
    "left": Edge("left", 0, -1),
    "right": Edge("right", 0, +1),
    "bottom": Edge("bottom", 1, -1),
    "top": Edge("top", 1, +1),
}


def assemble_conduction(
    grid: CellGrid, kappa: float, neumann: Edge | None
) -> tuple[PETSc.Mat, np.ndarray]:
    """Assemble the weighted conduction operator ``K`` and the weights ``W``.

    Row ``r`` of ``W du/dt = K u + (sources)`` is the energy balance of node
    ``r``'s control volume divided by the full cell area: weight 1 for an
    interior node, 1/2 for a node of the Neumann edge (half cell). ``K`` is
    symmetric: interior rows are ``kappa`` times the 5-point Laplacian; a
    Neumann-edge row is ``kappa [ (u_{b-s} - u_b)/h_a^2 + (D_tt u)_b / 2 ]``
    (the flux term goes to the right-hand side). Rows of the other boundary
    nodes (held by Dirichlet data) are zero with an explicit zero diagonal;
    their columns stay, so ``K @ u_held`` is the lift of the held values.

    Parameters
    ----------
    grid
        A 2D node grid (serial or distributed; rows are set in local numbering).
    kappa
        Diffusivity.
    neumann
        The Neumann edge, if any.

    Returns
    -------
    K : petsc4py.PETSc.Mat
        Assembled AIJ matrix.
    weights : numpy.ndarray
        ``W`` over the owned box (1 or 1/2; 1 on held nodes).
    """
    shape = np.asarray(grid.shape, dtype=np.int64)
    inv_h2 = 1.0 / np.asarray(grid.spacing, dtype=np.float64) ** 2
    rows = np.stack(grid.owned_indices())  # (2, nrows) global indices
    nrows = rows.shape[1]
    on_face = np.any((rows == 0) | (rows == (shape - 1)[:, None]), axis=0)
    is_neumann = np.zeros(nrows, dtype=bool)
    if neumann is not None:
        b = neumann.index(grid.shape)
        t = rows[neumann.tangent_axis]
        is_neumann = (rows[neumann.axis] == b) & (t > 0) & (t < shape[neumann.tangent_axis] - 1)
    held = on_face & ~is_neumann

    cols = np.empty((5, 2, nrows), dtype=np.int64)
    vals = np.empty((5, nrows), dtype=np.float64)
    cols[0] = rows
    vals[0] = -2.0 * kappa * inv_h2.sum()
    for a in range(2):
        for j, step in enumerate((-1, 1)):
            nb = rows.copy()
            nb[a] += step
            outside = (nb[a] < 0) | (nb[a] >= shape[a])
            # Only Neumann-edge rows have an outside neighbour that counts: the
            # ghost node mirrors the inward one (its flux part goes to the rhs).
            nb[a] = np.where(outside, rows[a] - step, nb[a])
            cols[2 * a + 1 + j] = nb
            vals[2 * a + 1 + j] = kappa * inv_h2[a]
    weights = np.ones(nrows, dtype=np.float64)
    weights[is_neumann] = 0.5
    vals *= weights
    vals[:, held] = 0.0
    cols[:, :, held] = rows[:, held]  # explicit zero diagonal

    local_rows = grid.local_index(tuple(rows))
    local_cols = np.stack([grid.local_index(tuple(cols[e])) for e in range(5)], axis=1)
    mat = grid.create_matrix()
    mat.setValuesLocalRCV(
        local_rows.reshape(-1, 1),
        np.ascontiguousarray(local_cols, dtype=PETSc.IntType),
        np.ascontiguousarray(vals.T, dtype=PETSc.ScalarType),
        addv=PETSc.InsertMode.ADD_VALUES,  # mirrored ghosts add onto the inward neighbour
    )
    mat.assemble()
    logger.debug("assembled conduction operator on %s nodes, Neumann edge %s",
                 grid.shape, neumann.name if neumann else None)
    return mat, weights.reshape(grid.local_shape)


def balance_flux(
    edge: Edge,
    u_new: np.ndarray,
    u_old_edge: np.ndarray,
    f_edge: np.ndarray,
    dt: float,
    kappa: float,
    spacing: tuple[float, float],
) -> np.ndarray:
    """Flux ``-kappa du/da`` on an edge held by Dirichlet data, from the half-cell balance.

    ``flux = s [ -kappa (u_b - u_{b-s}) / h - h/2 ((u_b - u_b_old)/dt - f_b - kappa D_tt u_b) ]``
    at the edge's inner nodes (see the module documentation); the two corner
    nodes take :func:`one_sided_flux`. Exact for ``u`` quadratic in space and
    linear in time.

    Parameters
    ----------
    edge
        The edge.
    u_new
        The whole field after the step, shape ``(nx, ny)``.
    u_old_edge
        The edge's values before the step.
    f_edge
        The source on the edge at the new time.
    dt
        The step.
    kappa, spacing
        Diffusivity and node spacing ``(hx, hy)``.
    """
    h, ht = spacing[edge.axis], spacing[edge.tangent_axis]
    ub, ui = edge.row(u_new, 0), edge.row(u_new, 1)
    flux = one_sided_flux(edge, u_new, kappa, spacing)
    dtt = (ub[2:] - 2.0 * ub[1:-1] + ub[:-2]) / ht**2
    rate = (ub[1:-1] - u_old_edge[1:-1]) / dt
    flux[1:-1] = edge.side * (
        -kappa * (ub[1:-1] - ui[1:-1]) / h - 0.5 * h * (rate - f_edge[1:-1] - kappa * dtt)
    )
    return flux


def one_sided_flux(edge: Edge, u: np.ndarray, kappa: float, spacing: tuple[float, float]) -> np.ndarray:
    """Flux ``-kappa du/da`` on an edge by the second-order one-sided difference.

    ``du/da ~ s (3 u_b - 4 u_{b-s} + u_{b-2s}) / (2h)``, exact for quadratics
    in ``a``; needs 3 nodes along ``a``.
    """
    h = spacing[edge.axis]
    u0, u1, u2 = edge.row(u, 0), edge.row(u, 1), edge.row(u, 2)
    return -kappa * edge.side * (3.0 * u0 - 4.0 * u1 + u2) / (2.0 * h)
