"""Fields: a component's port array seen as a PETSc ``Vec``, without copying."""

from __future__ import annotations

from typing import Any

import numpy as np
from petsc4py import PETSc

from msmcore.errors import CouplingError
from msmcore.ports import FieldSpec

__all__ = ["Field"]


class Field:
    """A PETSc ``Vec`` over a component's own port array, with its description.

    Parameters
    ----------
    array
        The component's array (``Component.port_array``); it must be
        C-contiguous so the ``Vec`` can share its memory.
    spec
        The port's field description.
    where
        ``"component.port"``, for error messages.
    comm
        Communicator of the ``Vec`` (mpi4py or PETSc): ``None`` for a sequential
        field holding the whole port array; else the coupling's parent
        communicator, each rank holding the values at ``indices``.
    indices
        Natural (C-order) indices into the global port array of this rank's
        values, for a field on a parent communicator.
    """

    def __init__(self, array: np.ndarray, spec: FieldSpec, where: str, comm: Any = None,
                 indices: np.ndarray | None = None) -> None:
        parallel = comm is not None
        if not parallel and array.shape != spec.array_shape:
            raise CouplingError(
                f"{where}: the component's array has shape {array.shape}, but the port declares "
                f"{spec.array_shape}"
            )
        if parallel:
            indices = np.arange(spec.size) if indices is None else np.asarray(indices, dtype=np.int64)
            if indices.size != array.size or (indices.size and (indices.min() < 0 or indices.max() >= spec.size)):
                raise CouplingError(
                    f"{where}: this rank's array holds {array.size} values but port_indices() gives "
                    f"{indices.size} indices (global size {spec.size}); they must match, within 0..size-1"
                )
        if not array.flags.c_contiguous or array.dtype != np.dtype(PETSc.ScalarType):
            raise CouplingError(
                f"{where}: port arrays must be C-contiguous {np.dtype(PETSc.ScalarType)} "
                f"to be shared with PETSc without copying (got {array.dtype}, "
                f"contiguous={array.flags.c_contiguous})"
            )
        self.array = array
        self.spec = spec
        self.where = where
        self.indices = indices if parallel else None
        flat = array.reshape(-1)
        if parallel:
            self.vec = PETSc.Vec().createWithArray(flat, size=(flat.size, spec.size), comm=PETSc.Comm(comm))
        else:
            self.vec = PETSc.Vec().createWithArray(flat, comm=PETSc.COMM_SELF)
        self.vec.setName(where)

    @property
    def flat(self) -> np.ndarray:
        """The values as a flat view of the component's array."""
        return self.array.reshape(-1)

    def destroy(self) -> None:
        """Release the PETSc ``Vec`` (the component keeps its array)."""
        self.vec.destroy()
