"""Transfers: one connection between two ports, as a PETSc object built once.

Data flows one way: the source component's output array (a :class:`Field`) is
moved into the destination's input array (another :class:`Field`). An identity
layout becomes a PETSc ``Scatter`` (a units conversion is a scaling after it, of
the values the connection wrote and no others);
a mapping between non-matching meshes is a ``Mat`` applied with one ``MatMult``
(a units conversion is folded into the matrix).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from petsc4py import PETSc

from msmcore.field import Field
from msmcore.parallel import build_mapped_mat, build_scatter, component_selection

__all__ = ["Transfer"]


class Transfer:
    """Moves data from ``source`` to ``destination``, once per :meth:`apply`.

    Parameters
    ----------
    source, destination
        Fields of the connected output and input ports (equal sizes).
    factor
        Units conversion factor applied to the values on the way.
    mat
        Mapping matrix ``(destination size, source size)`` for non-matching
        meshes, in natural indices on ``COMM_SELF``; ``None`` for identical layouts.
    comm
        The parent communicator, for fields laid out on it (collective then).
    select
        ``(source component, target component)`` picking one value per point
        of multi-component ports (``None`` entries: all components).
    target_only
        ``(target components, component)``: the mapping writes that one
        component of the target; the others are left as they are.
    """

    def __init__(self, source: Field, destination: Field, factor: float = 1.0,
                 mat: PETSc.Mat | None = None, comm: Any = None,
                 select: tuple[int | None, int | None] | None = None,
                 target_only: tuple[int, int] | None = None) -> None:
        self.source = source
        self.destination = destination
        self.factor = float(factor)
        self.mat: PETSc.Mat | None = None
        self.scatter: PETSc.Scatter | None = None
        self._owned: list[Any] = []
        self._staging: PETSc.Vec | None = None
        self._mask: np.ndarray | None = None
        #: Local positions in the destination this transfer writes; ``None``: all of them.
        self.written: np.ndarray | None = None
        parallel = source.indices is not None and destination.indices is not None
        src_idx = source.indices if source.indices is not None else np.arange(source.spec.size)
        dst_idx = destination.indices if destination.indices is not None else np.arange(destination.spec.size)
        picked = self._select(select)
        if picked is not None:
            natural = destination.indices if parallel else np.arange(destination.spec.size)
            self.written = np.flatnonzero(component_selection(np.asarray(natural), *picked)[0])
        if target_only is not None:
            # The mapping fills every value of a staging copy of the target; only one
            # component is copied on, the others keep what the target holds.
            components, component = target_only
            natural = destination.indices if parallel else np.arange(destination.spec.size)
            self._mask = np.asarray(natural) % components == component
            self.written = np.flatnonzero(self._mask)
            self._staging = destination.vec.duplicate()
        if mat is not None and parallel:
            # The factor is folded into the parallel matrix as it is laid out.
            self.mat = build_mapped_mat(mat, source.vec, src_idx, destination.vec, dst_idx, self.factor, comm)
        elif mat is not None:
            self.mat = mat.copy()
            if self.factor != 1.0:
                self.mat.scale(self.factor)
        elif parallel:
            self.scatter, self._owned = build_scatter(source.vec, src_idx, destination.vec, dst_idx, comm, picked)
        elif picked is not None:  # the same scatter, on this process alone
            self.scatter, self._owned = build_scatter(source.vec, np.arange(source.spec.size), destination.vec,
                                                      np.arange(destination.spec.size), PETSc.COMM_SELF.tompi4py(),
                                                      picked)
        else:
            n = source.vec.getLocalSize()
            index = PETSc.IS().createStride(n, 0, 1, comm=PETSc.COMM_SELF)  # identity layout
            self.scatter = PETSc.Scatter().create(source.vec, index, destination.vec, index)
            self._owned = [index]

    def _select(self, select: tuple[int | None, int | None] | None) -> tuple[int, int, int | None, int | None] | None:
        if select is None or select == (None, None):
            return None
        return (self.source.spec.components, self.destination.spec.components, *select)

    def apply(self) -> None:
        """Move the source values into the destination (mapped and scaled); the runner profiles it."""
        if self.mat is not None and self._staging is not None:
            self.mat.mult(self.source.vec, self._staging)
            flat = self.destination.flat
            flat[self._mask] = self._staging.getArray(readonly=True)[self._mask]
        elif self.mat is not None:
            self.mat.mult(self.source.vec, self.destination.vec)
        else:
            assert self.scatter is not None
            self.scatter.scatter(self.source.vec, self.destination.vec,
                                 PETSc.InsertMode.INSERT_VALUES, PETSc.ScatterMode.FORWARD)
            if self.factor != 1.0:
                if self.written is None:
                    self.destination.vec.scale(self.factor)
                else:  # only the values this connection wrote: other connections own the rest
                    self.destination.flat[self.written] *= self.factor

    def destroy(self) -> None:
        """Release the PETSc objects."""
        if self.mat is not None:
            self.mat.destroy()
        if self._staging is not None:
            self._staging.destroy()
        if self.scatter is not None:
            self.scatter.destroy()
        for obj in self._owned:
            obj.destroy()

    def __repr__(self) -> str:
        return f"Transfer({self.source.where} -> {self.destination.where}, factor={self.factor})"
