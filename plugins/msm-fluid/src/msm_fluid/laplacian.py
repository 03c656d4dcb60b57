"""Assembly of the cell-centred Laplacian on a :class:`~msm_fluid.grid.CellGrid`.

One matrix ``L`` per boundary rule, assembled once (vectorised, one
``setValuesLocalRCV`` call) with the DMDA's ghosted-local numbering, so the
same code assembles each rank's rows when the grid is distributed:

``"neumann"``
    Zero flux through mirrored ghost cells, ``u[-1] = u[0]``: a neighbour
    outside the grid contributes ``u[0]/h^2``, so the boundary row of a 1D
    grid is ``(u[1] - u[0]) / h^2``. ``L`` is symmetric and its columns sum
    to zero (the total is conserved).
``"dirichlet"``
    Rows of boundary cells (cells on a face of the box) are zero, so those
    cells do not change; interior rows are the standard ``2 dim + 1``-point
    stencil, which reads the boundary cells' values.
``"copy-increment"``
    MUSCLE3's reaction-diffusion rule: the row of a boundary cell is the row
    of its inward neighbour (``dU[0] = dU[1]``, ``dU[-1] = dU[-2]``, per
    axis). Equivalently, row ``i`` is the interior stencil centred on ``i``
    with every index clamped into ``[1, n - 2]``. Needs a box stencil of
    width 2 (see :func:`stencil_needs`).
"""

from __future__ import annotations

import logging

import numpy as np
from petsc4py import PETSc

from msm_fluid.grid import CellGrid

__all__ = ["BOUNDARY_RULES", "assemble_laplacian", "stencil_needs"]

logger = logging.getLogger(__name__)

#: Boundary rules :func:`assemble_laplacian` knows.
BOUNDARY_RULES: tuple[str, ...] = ("neumann", "dirichlet", "copy-increment")


def stencil_needs(boundary: str) -> tuple[int, bool]:
    """Ghost width and whether a box stencil is needed for ``boundary``'s operator.

    Returns
    -------
    width : int
        DMDA stencil width.
    box : bool
        Whether rows couple diagonal neighbours.
    """
    if boundary == "copy-increment":
        return 2, True
    return 1, False


def assemble_laplacian(grid: CellGrid, boundary: str) -> PETSc.Mat:
    """Assemble the discrete Laplacian ``L`` (units 1/length^2) for ``boundary``.

    Parameters
    ----------
    grid
        The grid; for ``"copy-increment"`` it must have been built with
        :func:`stencil_needs`' width and stencil type, and every axis must have
        at least 3 cells.
    boundary
        One of :data:`BOUNDARY_RULES`.

    Returns
    -------
    petsc4py.PETSc.Mat
        The assembled AIJ matrix over the grid's global vectors.
    """
    if boundary not in BOUNDARY_RULES:
        raise ValueError(f"unknown boundary rule {boundary!r}; known: {BOUNDARY_RULES}")
    dim = grid.dim
    shape = np.asarray(grid.shape, dtype=np.int64)
    inv_h2 = 1.0 / np.asarray(grid.spacing, dtype=np.float64) ** 2
    rows = np.stack(grid.owned_indices())  # (dim, nrows) global NumPy indices
    nrows = rows.shape[1]

    if boundary == "copy-increment":
        if np.any(shape < 3):
            raise ValueError(f"copy-increment needs >= 3 cells per axis, shape is {grid.shape}")
        centre = np.clip(rows, 1, (shape - 2)[:, None])
    else:
        centre = rows.copy()

    # Entry 0 is the diagonal of the stencil's centre; entries 2a+1, 2a+2 are
    # the -/+ neighbours along axis a.
    k = 2 * dim + 1
    cols = np.empty((k, dim, nrows), dtype=np.int64)
    vals = np.empty((k, nrows), dtype=np.float64)
    cols[0] = centre
    vals[0] = -2.0 * inv_h2.sum()
    for a in range(dim):
        for j, step in enumerate((-1, 1)):
            neighbour = centre.copy()
            neighbour[a] += step
            outside = (neighbour[a] < 0) | (neighbour[a] >= shape[a])
            # Neumann: the mirrored ghost cell holds the centre's own value.
            neighbour[a] = np.where(outside, centre[a], neighbour[a])
            cols[2 * a + 1 + j] = neighbour
            vals[2 * a + 1 + j] = inv_h2[a]

    if boundary == "dirichlet":
        on_face = np.any((rows == 0) | (rows == (shape - 1)[:, None]), axis=0)
        vals[:, on_face] = 0.0
        cols[:, :, on_face] = rows[:, on_face]  # keep an explicit (zero) diagonal

    local_rows = grid.local_index(tuple(rows))
    local_cols = np.stack([grid.local_index(tuple(cols[e])) for e in range(k)], axis=1)
    mat = grid.create_matrix()
    # Repeated columns in a row (mirrored ghosts, padding) must add up.
    mat.setValuesLocalRCV(
        local_rows.reshape(-1, 1),
        np.ascontiguousarray(local_cols, dtype=PETSc.IntType),
        np.ascontiguousarray(vals.T, dtype=PETSc.ScalarType),
        addv=PETSc.InsertMode.ADD_VALUES,
    )
    mat.assemble()
    logger.debug("assembled %s Laplacian on %s: %d rows", boundary, grid.shape, nrows)
    return mat
