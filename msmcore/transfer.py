"""Transfers: one connection between two ports, as a PETSc object built once.

Data flows one way: the source component's output array (a :class:`Field`) is
scattered into the destination's input array (another :class:`Field`). An
identity layout becomes a PETSc ``Scatter``; a units conversion folds into it
as a scaling. Later mappings (interpolation between meshes) become a sparse
``Mat`` applied in the same place.
"""

from __future__ import annotations

import time

from petsc4py import PETSc

from msmcore.field import Field

__all__ = ["Transfer"]


class Transfer:
    """Moves data from ``source`` to ``destination``, once per :meth:`apply`.

    Parameters
    ----------
    source, destination
        Fields of the connected output and input ports (equal sizes).
    factor
        Units conversion factor applied to the values on the way.
    """

    def __init__(self, source: Field, destination: Field, factor: float = 1.0) -> None:
        self.source = source
        self.destination = destination
        self.factor = float(factor)
        n = source.vec.getLocalSize()
        self._index = PETSc.IS().createStride(n, 0, 1, comm=PETSc.COMM_SELF)  # identity layout
        self.scatter = PETSc.Scatter().create(source.vec, self._index, destination.vec, self._index)
        self.seconds = 0.0
        self.count = 0

    def apply(self) -> None:
        """Scatter the source values into the destination (and scale them)."""
        t0 = time.perf_counter()
        self.scatter.scatter(self.source.vec, self.destination.vec,
                             PETSc.InsertMode.INSERT_VALUES, PETSc.ScatterMode.FORWARD)
        if self.factor != 1.0:
            self.destination.vec.scale(self.factor)
        self.seconds += time.perf_counter() - t0
        self.count += 1

    def destroy(self) -> None:
        """Release the PETSc objects."""
        self.scatter.destroy()
        self._index.destroy()

    def __repr__(self) -> str:
        return f"Transfer({self.source.where} -> {self.destination.where}, factor={self.factor})"
