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
        PETSc communicator of the ``Vec`` (``COMM_SELF`` in-process).
    """

    def __init__(self, array: np.ndarray, spec: FieldSpec, where: str, comm: Any = None) -> None:
        if array.shape != spec.array_shape:
            raise CouplingError(
                f"{where}: the component's array has shape {array.shape}, but the port declares "
                f"{spec.array_shape}"
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
        flat = array.reshape(-1)
        self.vec = PETSc.Vec().createWithArray(flat, comm=comm or PETSc.COMM_SELF)
        self.vec.setName(where)

    @property
    def flat(self) -> np.ndarray:
        """The values as a flat view of the component's array."""
        return self.array.reshape(-1)

    def destroy(self) -> None:
        """Release the PETSc ``Vec`` (the component keeps its array)."""
        self.vec.destroy()
