"""Finite-volume advection-diffusion fluxes on a 2D cell-centred grid (serial or distributed).

The scalar ``T`` obeys ``dT/dt + div(u T) = kappa lap(T) + s``. Each cell's rate
is minus the net face flux divided by its width, so the scheme is
*conservative*: what leaves a cell through a face enters its neighbour, and
the total changes only through the boundary.

**Face velocities.** ``velocity_in`` lives at cell centres; the normal
velocity of an inner face is the mean of its two cells. A boundary face is a
wall (normal velocity 0) unless its side is *open*; then it takes the
boundary cell's normal velocity. Centred velocities of a cell-centred stream
function, averaged to faces this way, are exactly divergence-free in the
discrete sense (the face fluxes of every cell add up to zero).

**Face values of T** (the advective flux is ``U T_face``):

``"upwind"``
    ``T_face`` = the upwind cell. First order; with implicit Euler the matrix
    is an M-matrix for every ``dt`` and Péclet number, so a divergence-free
    flow creates no new extrema (discrete maximum principle).
``"central"``
    The mean of the two cells. Second order; bounded only while the cell
    Péclet number ``|U| h / kappa`` stays below 2.
``"tvd"``
    The upwind cell plus a van Leer-limited slope,
    ``T_U + phi(r) (T_D - T_U) / 2`` with ``r = (T_U - T_UU) / (T_D - T_U)``
    and ``phi(r) = (r + |r|) / (1 + |r|)`` (van Leer 1974). Second order
    where the field is smooth, first order at extrema, total-variation
    diminishing (explicit only: the limiter is non-linear). Next to a boundary
    face (no far-upwind cell) the face value is the upwind cell.

**Boundaries**, per side: ``dirichlet`` holds the face value ``T_b`` (the
diffusive flux ``-kappa (T_cell - T_b) / (h/2)``; an inflow through an open
side carries ``T_b``); ``neumann`` prescribes the outward diffusive flux
``q = -kappa dT/dn`` (0: insulated; an inflow carries the cell value).

**Grids.** On a cell grid the points are cell centres and the sides are
faces of the boundary cells, as above. On a *node* grid (vertex-centred, as
``fluid.heat`` and ``fluid.navier_stokes``) the points include the boundary:
each node owns the control volume between the mid-points to its neighbours
(half a cell on a side, a quarter in a corner); the boundary faces of those
half cells lie on the sides. Nodes on a ``dirichlet`` side are held at
``T_b`` (a corner shared with a ``neumann`` side too); ``neumann`` sides
prescribe the flux through the half cell's outer face.

**Layout.** The functions work on one rank's owned box: ``pad`` (see
:class:`Padded`) gives ghosted arrays with a fixed margin, filled by the DMDA
from neighbouring ranks and left as NaN outside the domain (never read).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from petsc4py import PETSc

from msm_fluid.grid import CellGrid

__all__ = ["SCHEMES", "SIDES", "Padded", "Sides", "assemble_operator", "face_velocities", "rate"]

logger = logging.getLogger(__name__)

#: Face-value schemes.
SCHEMES: tuple[str, ...] = ("upwind", "central", "tvd")
#: Sides in order: (axis, high?) -> name.
SIDES: dict[str, tuple[int, int]] = {"left": (0, 0), "right": (0, 1), "bottom": (1, 0), "top": (1, 1)}


@dataclass(frozen=True)
class Sides:
    """Boundary conditions of the four sides.

    Attributes
    ----------
    kind
        ``"dirichlet"`` or ``"neumann"`` per side name.
    value
        ``T_b`` (dirichlet) or the outward diffusive flux ``q`` (neumann) per side.
    open
        Sides the flow crosses (the others are walls).
    nodes
        Vertex-centred grid (values on the boundary; see the module notes).
    """

    kind: dict[str, str]
    value: dict[str, float]
    open: frozenset[str]
    nodes: bool = False

    def of(self, axis: int, high: int) -> str:
        """Name of the side on ``axis`` (0 = x, 1 = y), low (0) or high (1)."""
        return ("left", "right", "bottom", "top")[2 * axis + high]

    def widths(self, grid: CellGrid, axis: int) -> np.ndarray:
        """Control-volume widths along ``axis`` of the owned points: ``h``, or ``h/2`` at boundary nodes."""
        start, stop = grid.owned[axis]
        w = np.full(stop - start, grid.spacing[axis])
        if self.nodes:
            idx = np.arange(start, stop)
            w[(idx == 0) | (idx == grid.shape[axis] - 1)] *= 0.5
        return w

    def held(self, grid: CellGrid) -> tuple[np.ndarray, np.ndarray]:
        """Mask over the owned box of the points held at a Dirichlet value, and those values.

        Only a node grid holds points (its nodes on Dirichlet sides; where a
        Dirichlet and a Neumann side meet, the corner is held); a cell grid
        puts the Dirichlet value on the boundary face instead.
        """
        mask = np.zeros(grid.local_shape, dtype=bool)
        values = np.zeros(grid.local_shape)
        if not self.nodes:
            return mask, values
        for name, (axis, high) in SIDES.items():
            if self.kind[name] != "dirichlet":
                continue
            start, stop = grid.owned[axis]
            face = grid.shape[axis] - 1 if high else 0
            if start <= face < stop:
                sl: list[slice | int] = [slice(None), slice(None)]
                sl[axis] = face - start
                mask[tuple(sl)] = True
                values[tuple(sl)] = self.value[name]
        return mask, values


class Padded:
    """One rank's box with a margin of ``width`` cells: ghost values from the DMDA.

    Parameters
    ----------
    grid
        The grid (its DMDA stencil width must be at least ``width``).
    width
        Margin.
    """

    def __init__(self, grid: CellGrid, width: int) -> None:
        self.grid, self.w = grid, width
        self._local = grid.dm.createLocalVec()
        (o0, _), (o1, _) = grid.owned
        (g0, e0), (g1, e1) = grid.ghosted
        lx, ly = grid.local_shape
        # Where the ghosted box sits in the padded array.
        self._dst = (slice(width - (o0 - g0), width + lx + (e0 - o0 - lx)),
                     slice(width - (o1 - g1), width + ly + (e1 - o1 - ly)))
        self._shape = (lx + 2 * width, ly + 2 * width)
        self._gshape = (e0 - g0, e1 - g1)

    def fill(self, vec: PETSc.Vec) -> np.ndarray:
        """The padded array of the global vector ``vec`` (collective)."""
        self.grid.dm.globalToLocal(vec, self._local, addv=PETSc.InsertMode.INSERT_VALUES)
        out = np.full(self._shape, np.nan)
        out[self._dst] = self._local.getArray(readonly=True).reshape(self._gshape)
        return out

    def destroy(self) -> None:
        """Release the local vector."""
        self._local.destroy()


def face_velocities(grid: CellGrid, sides: Sides, ux: np.ndarray, uy: np.ndarray, w: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Normal velocities of the owned cells' faces from padded cell velocities.

    Returns
    -------
    Ux : (lx + 1, ly) array
        On x-faces; ``Ux[k]`` is the face between owned cells ``k - 1`` and ``k``.
    Uy : (lx, ly + 1) array
        On y-faces, likewise along y.
    """
    lx, ly = grid.local_shape
    inner = (slice(w, w + lx), slice(w, w + ly))
    Ux = 0.5 * (ux[w - 1:w + lx, inner[1]] + ux[w:w + lx + 1, inner[1]])
    Uy = 0.5 * (uy[inner[0], w - 1:w + ly] + uy[inner[0], w:w + ly + 1])
    for axis, U, cell in ((0, Ux, ux), (1, Uy, uy)):
        start, stop = grid.owned[axis]
        n = grid.shape[axis]
        for high, (face, here) in enumerate(((0, start == 0), (stop - start, stop == n))):
            if not here:
                continue
            sl: list[slice | int] = [slice(None), slice(None)]
            sl[axis] = face
            if sides.of(axis, high) in sides.open:
                src: list[slice | int] = [inner[0], inner[1]]
                src[axis] = w + face - high  # the boundary cell itself
                U[tuple(sl)] = cell[tuple(src)]
            else:
                U[tuple(sl)] = 0.0
    return Ux, Uy


def _van_leer(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``phi(r) (T_D - T_U)`` with ``r = num / den``, written without dividing by ``den``."""
    a, b = np.abs(num), np.abs(den)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (num * b + a * den) / (a + b)
    return np.where(a + b > 0, out, 0.0)


def _axis_flux(grid: CellGrid, sides: Sides, axis: int, T: np.ndarray, U: np.ndarray, kappa: float,
               scheme: str, w: int) -> np.ndarray:
    """Total flux (advective + diffusive, along +axis, per unit face area) on the owned faces of ``axis``."""
    lx, ly = grid.local_shape
    m = (lx, ly)[axis]
    h = grid.spacing[axis]
    other = slice(w, w + (ly, lx)[axis])

    def cells(offset: int) -> np.ndarray:  # T of cell (face k + offset), k = 0..m
        sl = slice(w + offset, w + offset + m + 1)
        return T[sl, other] if axis == 0 else T[other, sl]

    TL, TR = cells(-1), cells(0)
    if scheme == "central":
        face = 0.5 * (TL + TR)
    else:
        face = np.where(U >= 0, TL, TR)
        if scheme == "tvd":
            # Far-upwind and downwind differences; NaN (outside the domain) -> first order.
            TLL, TRR = cells(-2), cells(1)
            pos = _van_leer(TL - TLL, TR - TL)
            neg = _van_leer(TR - TRR, TL - TR)
            corr = 0.5 * np.where(U >= 0, pos, neg)
            face = face + np.where(np.isfinite(corr), corr, 0.0)
    with np.errstate(invalid="ignore"):
        flux = U * face - kappa * (TR - TL) / h
    start, stop = grid.owned[axis]
    n = grid.shape[axis]
    for high, (k, here) in enumerate(((0, start == 0), (m, stop == n))):
        if not here:
            continue
        side = sides.of(axis, high)
        sign = 1.0 if high else -1.0  # outward normal along +axis
        at = (k, slice(None)) if axis == 0 else (slice(None), k)
        inside = (TL if high else TR)[at]  # the boundary cell's value
        Un = U[at]
        value = sides.value[side]
        if sides.kind[side] == "dirichlet":
            # cell grid: T_b on the face; node grid: the boundary node is held (its rate is dropped)
            diff = 0.0 if sides.nodes else -kappa * sign * (value - inside) / (0.5 * h)
            inflow_value = np.full_like(inside, value)
        else:
            diff = sign * value  # outward flux q, along +axis
            inflow_value = inside
        outflow = Un * sign >= 0
        adv = Un * np.where(outflow, inside, inflow_value)
        flux[at] = adv + diff
    return flux


def rate(grid: CellGrid, sides: Sides, T: np.ndarray, Ux: np.ndarray, Uy: np.ndarray, kappa: float,
         scheme: str, w: int) -> np.ndarray:
    """``dT/dt`` without the source on the owned box: minus the net face flux per cell width.

    Parameters
    ----------
    T
        Padded field (margin ``w``; 2 for ``"tvd"``).
    Ux, Uy
        Face velocities from :func:`face_velocities`.
    """
    Fx = _axis_flux(grid, sides, 0, T, Ux, kappa, scheme, w)
    Fy = _axis_flux(grid, sides, 1, T, Uy, kappa, scheme, w)
    wx, wy = sides.widths(grid, 0)[:, None], sides.widths(grid, 1)[None, :]
    out = -(Fx[1:] - Fx[:-1]) / wx - (Fy[:, 1:] - Fy[:, :-1]) / wy
    held, _ = sides.held(grid)
    out[held] = 0.0
    return out


def stable_step(grid: CellGrid, Ux: np.ndarray, Uy: np.ndarray, kappa: float, scheme: str) -> float:
    """Largest forward-Euler step that keeps every cell a convex combination of its neighbours.

    The incremental form of the limited flux has coefficients at most
    ``c |U| / h`` per face with ``c = 2`` for the van Leer limiter (``phi <= 2``,
    ``phi(r)/r <= 2``), ``c = 1`` for upwind; the central scheme is held to the
    same bound as upwind. Diffusion adds ``2 kappa / h^2`` per axis. This rank's
    bound only (the caller takes the minimum over ranks).
    """
    c = 2.0 if scheme == "tvd" else 1.0
    hx, hy = grid.spacing
    ax = np.maximum(np.abs(Ux[1:]), np.abs(Ux[:-1])) if Ux.size else np.zeros(0)
    ay = np.maximum(np.abs(Uy[:, 1:]), np.abs(Uy[:, :-1])) if Uy.size else np.zeros(0)
    adv = (c * ax / hx + c * ay / hy).max() if ax.size else 0.0
    total = float(adv) + 2.0 * kappa * (1.0 / hx**2 + 1.0 / hy**2)
    return np.inf if total == 0.0 else 1.0 / total


def assemble_operator(grid: CellGrid, sides: Sides, Ux: np.ndarray, Uy: np.ndarray, kappa: float,
                      scheme: str, dt: float, mat: PETSc.Mat | None = None) -> tuple[PETSc.Mat, np.ndarray]:
    """Backward-Euler operator ``A = I - dt M`` and ``b`` with ``dT/dt = M T + b`` (upwind or central).

    Rows are the owned cells (local numbering, so the same code assembles a
    distributed matrix); an existing ``mat`` of the same grid is refilled.

    Returns
    -------
    A : petsc4py.PETSc.Mat
        Assembled AIJ matrix.
    b : numpy.ndarray
        The boundary part of the rate over the owned box (Dirichlet values, fluxes, inflow).
    """
    if scheme not in ("upwind", "central"):
        raise ValueError(f"the implicit operator is linear: scheme must be 'upwind' or 'central', got {scheme!r}")
    lx, ly = grid.local_shape
    (o0, _), (o1, _) = grid.owned
    gi, gj = np.meshgrid(np.arange(o0, o0 + lx), np.arange(o1, o1 + ly), indexing="ij")
    rows_l, cols_l, vals_l = [], [], []
    b = np.zeros((lx, ly))
    diag = np.ones((lx, ly))  # the identity of A

    def add(rows: tuple[np.ndarray, np.ndarray], cols: tuple[np.ndarray, np.ndarray], vals: np.ndarray) -> None:
        rows_l.append(grid.local_index(rows).ravel())
        cols_l.append(grid.local_index(cols).ravel())
        vals_l.append((-dt * vals).ravel())

    held, _ = sides.held(grid)
    for axis, U in ((0, Ux), (1, Uy)):
        h = grid.spacing[axis]
        n = grid.shape[axis]
        G = (gi, gj)[axis]
        wP = sides.widths(grid, axis)
        wP = wP[:, None] if axis == 0 else wP[None, :]  # control-volume width of each row's point
        for high in (0, 1):
            sign = 1.0 if high else -1.0
            # Face on the `high` side of each owned cell: normal velocity, outward.
            Uf = U[1:] if axis == 0 and high else U[:-1] if axis == 0 else U[:, 1:] if high else U[:, :-1]
            out = sign * Uf  # outward normal velocity
            nb = [gi, gj]
            nb[axis] = G + (1 if high else -1)
            inner = (nb[axis] >= 0) & (nb[axis] < n)
            if scheme == "upwind":
                w_own = np.where(out >= 0, 1.0, 0.0)
            else:
                w_own = np.full(out.shape, 0.5)
            w_nb = 1.0 - w_own
            # Inner faces: rate_P -= [out (w_own T_P + w_nb T_N) + kappa (T_P - T_N) / h] / w_P
            own_c = -(out * w_own + kappa / h) / wP
            nb_c = -(out * w_nb - kappa / h) / wP
            diag -= dt * np.where(inner, own_c, 0.0)
            nbi = (np.where(inner, nb[0], gi), np.where(inner, nb[1], gj))
            sel = inner & ~held
            add((gi[sel], gj[sel]), (nbi[0][sel], nbi[1][sel]), nb_c[sel])
            # Boundary faces of this side.
            side = sides.of(axis, high)
            bnd = ~inner
            if not bnd.any():
                continue
            value = sides.value[side]
            outflow = out >= 0
            if sides.kind[side] == "dirichlet":
                # diffusion: 2 kappa (T_b - T_P) / h^2; advection: out * (T_P or T_b) / h
                # (node grid: these rows are held, replaced below)
                cP = -2.0 * kappa / h**2 - np.where(outflow, out, 0.0) / h
                bb = 2.0 * kappa * value / h**2 - np.where(outflow, 0.0, out) * value / h
            else:
                cP = -out / wP  # outflow carries T_P, inflow (zero gradient) too
                bb = np.broadcast_to(-value / wP, out.shape)
            diag -= dt * np.where(bnd, cP, 0.0)
            b += np.where(bnd, bb, 0.0)

    if held.any():  # node grid: held rows are the identity (the caller puts T_b on the right-hand side)
        diag[held] = 1.0
        b[held] = 0.0
    rows_l.append(grid.local_index((gi, gj)).ravel())
    cols_l.append(grid.local_index((gi, gj)).ravel())
    vals_l.append(diag.ravel())
    rows = np.concatenate(rows_l).astype(PETSc.IntType)
    cols = np.concatenate(cols_l).astype(PETSc.IntType)
    vals = np.concatenate(vals_l).astype(PETSc.ScalarType)
    if mat is None:
        mat = grid.create_matrix()
        mat.setOption(PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, True)
    else:
        mat.zeroEntries()
    mat.setValuesLocalRCV(rows.reshape(-1, 1), cols.reshape(-1, 1), vals.reshape(-1, 1),
                          addv=PETSc.InsertMode.ADD_VALUES)
    mat.assemble()
    return mat, b
