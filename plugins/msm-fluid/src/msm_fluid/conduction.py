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

**Distributed grids.** :class:`EdgePart` is one rank's share of an edge: the
edge nodes it owns, views of them in owned-box arrays, and the fluxes, whose
stencil (two rows inward, one neighbour each way along the edge) it fetches
across rank boundaries with one PETSc scatter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from petsc4py import PETSc

from msm_fluid.grid import AXIS_NAMES, CellGrid

__all__ = [
    "EDGES",
    "Edge",
    "EdgePart",
    "assemble_conduction",
    "balance_flux",
    "balance_flux_rows",
    "one_sided_flux",
    "one_sided_flux_rows",
]

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


class EdgePart:
    """This rank's share of an edge of a (possibly distributed) 2D node grid.

    Parameters
    ----------
    edge
        The edge, or ``None`` (then the part is empty on every rank).
    grid
        The grid; its :attr:`~msm_fluid.grid.CellGrid.owned` box decides the share.

    Attributes
    ----------
    start, stop : int
        The owned edge nodes are ``start .. stop - 1`` along the edge (``0, 0``
        on a rank that does not touch the edge).
    inner : slice
        The owned nodes that are not corners, as positions ``0 .. size - 1``.
    """

    def __init__(self, edge: Edge | None, grid: CellGrid) -> None:
        self.edge = edge
        self.grid = grid
        self.start = self.stop = 0
        self.inner = slice(0, 0)
        self._k = -1  # index of the edge row in the owned box along the normal axis; -1: not here
        self._lo = 0  # position of node `start` in the strip
        self._strip = np.zeros((3, 0))
        self._vstrip: PETSc.Vec | None = None
        self._scatter: PETSc.Scatter | None = None
        if edge is None:
            return
        b = edge.index(grid.shape)
        oa, ea = grid.owned[edge.axis]
        if oa <= b < ea:
            self.start, self.stop = grid.owned[edge.tangent_axis]
            n_t = grid.shape[edge.tangent_axis]
            self._k = b - oa
            j0 = max(self.start, 1) - self.start
            self.inner = slice(j0, max(j0, min(self.stop, n_t - 1) - self.start))

    @property
    def size(self) -> int:
        """Number of edge nodes this rank owns."""
        return self.stop - self.start

    def indices(self) -> np.ndarray:
        """Positions along the edge of the owned edge nodes (int64)."""
        return np.arange(self.start, self.stop, dtype=np.int64)

    def row(self, array: np.ndarray) -> np.ndarray:
        """View of the owned edge nodes in an owned-box array (empty off the edge)."""
        if self._k < 0:
            return array.reshape(-1)[:0]
        assert self.edge is not None
        return array[self._k, :] if self.edge.axis == 0 else array[:, self._k]

    def connect(self, vec: PETSc.Vec) -> None:
        """Build the scatter from the field ``vec`` to the strip (collective over the grid).

        The strip is the edge row and the next two rows inward at the owned
        edge nodes plus one node of margin each way along the edge.
        """
        edge, grid = self.edge, self.grid
        natural = np.empty((3, 0), dtype=np.int64)
        if edge is not None and self._k >= 0:
            b, ny = edge.index(grid.shape), grid.shape[1]
            x0, x1 = max(self.start - 1, 0), min(self.stop + 1, grid.shape[edge.tangent_axis])
            normal = (b - edge.side * np.arange(3, dtype=np.int64))[:, None]
            along = np.arange(x0, x1, dtype=np.int64)[None, :]
            natural = normal * ny + along if edge.axis == 0 else along * ny + normal
            self._lo = self.start - x0
        self.destroy()
        self._strip = np.zeros(natural.shape, dtype=np.dtype(PETSc.ScalarType))
        self._vstrip = PETSc.Vec().createWithArray(self._strip.reshape(-1), comm=PETSc.COMM_SELF)
        index = PETSc.IS().createGeneral(grid.petsc_indices(natural.reshape(-1)), comm=PETSc.COMM_SELF)
        self._scatter = PETSc.Scatter().create(vec, index, self._vstrip, None)
        index.destroy()

    @property
    def connected(self) -> bool:
        """Whether :meth:`connect` has been called (and not undone by :meth:`destroy`)."""
        return self._scatter is not None

    def flux(self, vec: PETSc.Vec, kappa: float, spacing: tuple[float, float],
             u_old: np.ndarray | None = None, f: np.ndarray | None = None, dt: float = 0.0) -> np.ndarray:
        """Flux ``-kappa du/da`` at the owned edge nodes of the field ``vec`` (collective).

        Without ``u_old``: :func:`one_sided_flux` everywhere. With ``u_old``,
        ``f`` (owned edge values before the step, source at the new time) and
        ``dt``: :func:`balance_flux` - the half-cell balance at inner nodes,
        one-sided at the corners, with the same arithmetic as on one rank.
        """
        assert self.edge is not None and self._scatter is not None
        vec.stateIncrease()  # the array may have been written through NumPy
        self._scatter.scatter(vec, self._vstrip, addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        e, lo, strip, inner = self.edge, self._lo, self._strip, self.inner
        h, ht = spacing[e.axis], spacing[e.tangent_axis]
        own = slice(lo, lo + self.size)
        flux = one_sided_flux_rows(e.side, strip[0, own], strip[1, own], strip[2, own], kappa, h)
        if u_old is not None and inner.stop > inner.start:
            assert f is not None
            ub = strip[0, lo + inner.start - 1: lo + inner.stop + 1]
            ui = strip[1, lo + inner.start: lo + inner.stop]
            flux[inner] = balance_flux_rows(e.side, ub, ui, u_old[inner], f[inner], dt, kappa, h, ht)
        return flux

    def destroy(self) -> None:
        """Release the scatter and the strip's vector."""
        for obj in (self._scatter, self._vstrip):
            if obj is not None:
                obj.destroy()
        self._scatter = self._vstrip = None


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
    linear in time. (Whole-field form; :func:`balance_flux_rows` is the same
    formula on rows, as a distributed grid uses it.)

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
    flux[1:-1] = balance_flux_rows(edge.side, ub, ui[1:-1], u_old_edge[1:-1], f_edge[1:-1],
                                   dt, kappa, h, ht)
    return flux


def balance_flux_rows(
    side: int,
    ub: np.ndarray,
    ui: np.ndarray,
    u_old: np.ndarray,
    f: np.ndarray,
    dt: float,
    kappa: float,
    h: float,
    ht: float,
) -> np.ndarray:
    """The half-cell balance flux of :func:`balance_flux` at ``m`` consecutive inner edge nodes.

    Parameters
    ----------
    side
        The edge's side ``s`` (-1 or +1).
    ub
        The edge row at the ``m`` nodes plus one neighbour on each side along
        the edge (``m + 2`` values; the neighbours feed ``D_tt``).
    ui, u_old, f
        At the ``m`` nodes: the next row inward, the edge values before the
        step, the source at the new time.
    dt, kappa
        Step and diffusivity.
    h, ht
        Node spacing normal to and along the edge.
    """
    dtt = (ub[2:] - 2.0 * ub[1:-1] + ub[:-2]) / ht**2
    rate = (ub[1:-1] - u_old) / dt
    return side * (-kappa * (ub[1:-1] - ui) / h - 0.5 * h * (rate - f - kappa * dtt))


def one_sided_flux(edge: Edge, u: np.ndarray, kappa: float, spacing: tuple[float, float]) -> np.ndarray:
    """Flux ``-kappa du/da`` on an edge by the second-order one-sided difference.

    ``du/da ~ s (3 u_b - 4 u_{b-s} + u_{b-2s}) / (2h)``, exact for quadratics
    in ``a``; needs 3 nodes along ``a``.
    """
    return one_sided_flux_rows(edge.side, edge.row(u, 0), edge.row(u, 1), edge.row(u, 2),
                               kappa, spacing[edge.axis])


def one_sided_flux_rows(side: int, u0: np.ndarray, u1: np.ndarray, u2: np.ndarray,
                        kappa: float, h: float) -> np.ndarray:
    """:func:`one_sided_flux` from the edge row ``u0`` and the next two rows inward ``u1``, ``u2``."""
    return -kappa * side * (3.0 * u0 - 4.0 * u1 + u2) / (2.0 * h)
