"""Structured grids on a PETSc DMDA: cell-centred (:class:`CellGrid`) and vertex-centred (:class:`NodeGrid`).

The grid maps NumPy's C-ordered axes onto the DMDA: NumPy axis 0 ("x") is the
DMDA's *slowest* axis, the last NumPy axis its fastest. With that mapping the
owned part of a DMDA global vector, read as a C-ordered NumPy array, is indexed
``u[i0, i1, i2]`` exactly like the grid the user describes with ``shape``,
so a component can hand that array out without copying or transposing.

Everything here is built on the communicator it is given; with more than one
rank the DMDA splits the box and :attr:`CellGrid.owned` and
:attr:`CellGrid.ghosted` describe this rank's part. PETSc numbers the global
vector rank by rank, each rank's box in C order; :meth:`CellGrid.natural_indices`
gives the flat C-order index in the *whole* grid of every owned cell, and
:meth:`CellGrid.petsc_indices` turns such indices into PETSc's numbering
(for scatters that read cells owned by other ranks). Building a grid is
collective over its communicator.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from petsc4py import PETSc

__all__ = ["AXIS_NAMES", "CellGrid", "NodeGrid", "petsc_comm"]

logger = logging.getLogger(__name__)

#: Coordinate names of NumPy axes 0, 1, 2.
AXIS_NAMES: tuple[str, ...] = ("x", "y", "z")


def petsc_comm(comm: Any) -> PETSc.Comm:
    """Return the PETSc communicator for ``comm``.

    Parameters
    ----------
    comm
        ``None`` (serial: ``PETSc.COMM_SELF``), a ``PETSc.Comm``, or an mpi4py
        communicator.

    Returns
    -------
    petsc4py.PETSc.Comm
        The communicator to build PETSc objects on. ``COMM_WORLD`` is never
        chosen implicitly.
    """
    if comm is None:
        return PETSc.COMM_SELF
    if isinstance(comm, PETSc.Comm):
        return comm
    return PETSc.Comm(comm)


class CellGrid:
    """A box of cells on a DMDA, with cell-centre coordinates.

    Parameters
    ----------
    shape
        Cells per axis (1 to 3 axes), in NumPy axis order.
    spacing
        Cell width per axis.
    comm
        Communicator (see :func:`petsc_comm`).
    stencil_width
        Ghost layer width the operators need (1 for the 5/7-point Laplacian).
    box_stencil
        Whether operators couple diagonal neighbours (needed by stencils whose
        centre is not the row's own cell).

    Attributes
    ----------
    dm : petsc4py.PETSc.DMDA
        The distributed array.
    owned : tuple of (int, int)
        Half-open global index ranges this rank owns, per NumPy axis.
    ghosted : tuple of (int, int)
        Ranges of this rank's ghosted local box, per NumPy axis.
    """

    def __init__(
        self,
        shape: Sequence[int],
        spacing: Sequence[float],
        comm: Any = None,
        *,
        stencil_width: int = 1,
        box_stencil: bool = False,
    ) -> None:
        self.shape: tuple[int, ...] = tuple(int(n) for n in shape)
        self.spacing: tuple[float, ...] = tuple(float(h) for h in spacing)
        if len(self.spacing) != len(self.shape):
            raise ValueError(f"spacing {self.spacing} does not match shape {self.shape}")
        self.comm = petsc_comm(comm)
        self._ao: PETSc.AO | None = None
        stype = PETSc.DMDA.StencilType.BOX if box_stencil else PETSc.DMDA.StencilType.STAR
        procs, ranges = self._partition(stencil_width, stype)
        self.dm = PETSc.DMDA().create(
            dim=self.dim,
            dof=1,
            sizes=self.shape[::-1],  # DMDA's x is the fastest (last NumPy) axis
            proc_sizes=procs,
            ownership_ranges=ranges,
            stencil_width=stencil_width,
            stencil_type=stype,
            boundary_type=(PETSc.DM.BoundaryType.NONE,) * self.dim,
            comm=self.comm,
        )
        self.owned: tuple[tuple[int, int], ...] = tuple(
            (int(s), int(e)) for s, e in self.dm.getRanges()[::-1]
        )
        self.ghosted: tuple[tuple[int, int], ...] = tuple(
            (int(s), int(e)) for s, e in self.dm.getGhostRanges()[::-1]
        )
        logger.debug("grid %s spacing %s on %d rank(s), owned %s",
                     self.shape, self.spacing, self.comm.getSize(), self.owned)

    def _partition(self, stencil_width: int, stype: Any) -> tuple[tuple[int, ...], tuple[list[int], ...]]:
        """PETSc's split of the box over the ranks, checked before the real DMDA is set up.

        PETSc checks a rank's box against the stencil width on that rank only,
        and the other ranks then wait forever in ``DMSetUp``; so the split is
        taken from a probe DMDA of stencil width 0 (whose checks depend on
        global sizes only, the same on every rank) and validated here, on every
        rank alike.
        """
        probe = PETSc.DMDA().create(
            dim=self.dim, dof=1, sizes=self.shape[::-1], stencil_width=0, stencil_type=stype,
            boundary_type=(PETSc.DM.BoundaryType.NONE,) * self.dim, setup=False, comm=self.comm,
        )
        try:
            probe.setUp()
            procs = tuple(int(p) for p in probe.getProcSizes())
            ranges = tuple([int(n) for n in r] for r in probe.getOwnershipRanges())
        except PETSc.Error as exc:
            raise ValueError(
                f"cannot split a grid of shape {self.shape} over {self.comm.getSize()} rank(s) "
                f"(PETSc error {exc.ierr}); use fewer ranks or a larger grid"
            ) from None
        finally:
            probe.destroy()
        need = max(stencil_width, 1)  # and no rank without cells
        for dmda_axis, sizes in enumerate(ranges):
            if min(sizes) < need:
                axis = self.dim - 1 - dmda_axis
                raise ValueError(
                    f"cannot split a grid of shape {self.shape} over {self.comm.getSize()} rank(s): "
                    f"PETSc gives some rank {min(sizes)} cell(s) along axis {axis} "
                    f"({AXIS_NAMES[axis]}) but needs at least {need} (the stencil width); "
                    "use fewer ranks or a larger grid"
                )
        return procs, ranges

    # -- geometry -----------------------------------------------------------
    @property
    def dim(self) -> int:
        """Number of axes."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of cells in the whole grid."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def local_shape(self) -> tuple[int, ...]:
        """Shape of this rank's owned box (the whole grid in serial)."""
        return tuple(e - s for s, e in self.owned)

    @property
    def local_size(self) -> int:
        """Number of cells this rank owns."""
        return int(np.prod(self.local_shape, dtype=np.int64))

    def coordinates(self) -> dict[str, np.ndarray]:
        """Cell-centre coordinates of the whole grid, ``(i + 1/2) h``, by axis name."""
        return {
            AXIS_NAMES[a]: (np.arange(n, dtype=np.float64) + 0.5) * self.spacing[a]
            for a, n in enumerate(self.shape)
        }

    # -- indices ------------------------------------------------------------
    def owned_indices(self) -> tuple[np.ndarray, ...]:
        """Global NumPy indices of the owned cells, one flat array per axis, C order."""
        axes = [np.arange(s, e, dtype=np.int64) for s, e in self.owned]
        return tuple(g.ravel() for g in np.meshgrid(*axes, indexing="ij"))

    def natural_indices(self) -> np.ndarray:
        """Flat C-order indices, in the whole grid, of the owned cells (in owned-box C order).

        This is where each entry of an owned-box array (``reshape(-1)``) sits in
        the global array of shape :attr:`shape`.
        """
        if self.local_size == 0:
            return np.empty(0, dtype=np.int64)
        return np.ravel_multi_index(self.owned_indices(), self.shape).astype(np.int64)

    def petsc_indices(self, natural: np.ndarray) -> np.ndarray:
        """PETSc global-vector indices of cells given by flat C-order (natural) indices.

        Collective: every rank of :attr:`comm` must call it (with its own,
        possibly empty, indices) the first time, which builds the DMDA's
        application ordering.
        """
        if self._ao is None:
            self._ao = self.dm.getAO()
        natural = np.ascontiguousarray(natural, dtype=PETSc.IntType)
        return np.asarray(self._ao.app2petsc(natural.copy()), dtype=PETSc.IntType)

    def local_index(self, index: Sequence[np.ndarray]) -> np.ndarray:
        """Ghosted-local flat indices of cells given by global NumPy indices.

        These are the indices ``Mat.setValuesLocal`` expects on a matrix from
        :meth:`create_matrix`.
        """
        flat = np.zeros(np.shape(index[0]), dtype=np.int64)
        for a, (s, e) in enumerate(self.ghosted):
            flat = flat * (e - s) + (np.asarray(index[a]) - s)
        return flat.astype(PETSc.IntType)

    def owned_to_local(self, flat: np.ndarray) -> np.ndarray:
        """Ghosted-local flat indices of cells given by flat indices into the owned box."""
        owned = np.unravel_index(np.asarray(flat, dtype=np.int64), self.local_shape)
        return self.local_index(tuple(i + s for i, (s, _) in zip(owned, self.owned, strict=True)))

    def boundary_mask(self) -> np.ndarray:
        """Boolean mask over the owned box: True for cells on a face of the grid."""
        mask = np.zeros(self.local_shape, dtype=bool)
        for a, n in enumerate(self.shape):
            s, e = self.owned[a]
            index: list[slice | int] = [slice(None)] * self.dim
            for face in (0, n - 1):
                if s <= face < e:
                    index[a] = face - s
                    mask[tuple(index)] = True
        return mask

    # -- PETSc objects ----------------------------------------------------------
    def create_matrix(self) -> PETSc.Mat:
        """An AIJ matrix preallocated for the grid's stencil, with the DMDA's local numbering."""
        self.dm.setMatType(PETSc.Mat.Type.AIJ)
        return self.dm.createMat()

    def create_vec(self, array: np.ndarray) -> PETSc.Vec:
        """A global vector of the grid over ``array``'s memory (no copy).

        Parameters
        ----------
        array
            C-contiguous array of dtype ``PETSc.ScalarType`` and shape
            :attr:`local_shape`; the caller keeps it alive as long as the vector.
        """
        if array.shape != self.local_shape or not array.flags.c_contiguous:
            raise ValueError(f"array must be C-contiguous of shape {self.local_shape}")
        if array.dtype != np.dtype(PETSc.ScalarType):
            raise ValueError(f"array must have dtype {np.dtype(PETSc.ScalarType)}")
        vec = PETSc.Vec().createWithArray(
            array.reshape(-1), size=(self.local_size, self.size), comm=self.comm
        )
        return vec

    def destroy(self) -> None:
        """Release the DMDA."""
        self._ao = None  # owned by the DMDA
        self.dm.destroy()


class NodeGrid(CellGrid):
    """A box of grid *nodes* (vertex-centred) on a DMDA: nodes lie on the boundary.

    Node ``i`` of axis ``a`` sits at ``origin[a] + i * extent[a] / (n[a] - 1)``,
    so the first and last nodes are the box's faces. Indexing, vectors and
    matrices are those of :class:`CellGrid`; only the coordinates differ.

    Parameters
    ----------
    shape
        Nodes per axis (at least 2 each), in NumPy axis order.
    extent
        Length of the box per axis.
    origin
        Coordinates of node ``(0, 0, ...)``.
    comm, stencil_width, box_stencil
        As for :class:`CellGrid`.
    """

    def __init__(
        self,
        shape: Sequence[int],
        extent: Sequence[float],
        origin: Sequence[float],
        comm: Any = None,
        *,
        stencil_width: int = 1,
        box_stencil: bool = False,
    ) -> None:
        shape = tuple(int(n) for n in shape)
        if len(extent) != len(shape) or len(origin) != len(shape) or min(shape) < 2:
            raise ValueError(f"need >= 2 nodes and an extent and origin per axis, got "
                             f"shape {shape}, extent {tuple(extent)}, origin {tuple(origin)}")
        self.extent: tuple[float, ...] = tuple(float(e) for e in extent)
        self.origin: tuple[float, ...] = tuple(float(o) for o in origin)
        spacing = tuple(e / (n - 1) for e, n in zip(self.extent, shape, strict=True))
        super().__init__(shape, spacing, comm, stencil_width=stencil_width, box_stencil=box_stencil)

    def coordinates(self) -> dict[str, np.ndarray]:
        """Node coordinates of the whole grid by axis name (exact end points)."""
        return {
            AXIS_NAMES[a]: np.linspace(o, o + e, n)
            for a, (o, e, n) in enumerate(zip(self.origin, self.extent, self.shape, strict=True))
        }
