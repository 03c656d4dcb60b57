"""Placement of components on ranks, and the pieces of M×N exchange between them.

A coupling runs on a parent communicator (``Coupling(comm=...)``; default
``MPI.COMM_WORLD``). Each component runs on a subset of its ranks and gets its own
sub-communicator, split from the parent. Its port arrays hold, on each of its ranks,
the values at :meth:`~msmcore.Component.port_indices` (natural, C-order indices into
the global port array). A field is a PETSc ``Vec`` on the *parent* communicator over
those local arrays — empty on ranks that do not run the component — so a connection
between two components is one PETSc object on the parent communicator: a ``Scatter``
whose index sets come from an application ordering (``AO``) of the natural indices, or
a ``Mat`` for a mapping. Built once, applied per exchange, the same on 1 or 1000 ranks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from mpi4py import MPI
from petsc4py import PETSc

__all__ = ["allgather_by_index", "build_mapped_mat", "build_scatter", "component_selection", "split"]


def split(parent: MPI.Comm, ranks: Sequence[int]) -> MPI.Comm | None:
    """Collective on ``parent``: the sub-communicator of ``ranks`` (``None`` on other ranks)."""
    member = parent.Get_rank() in ranks
    sub = parent.Split(0 if member else MPI.UNDEFINED, ranks.index(parent.Get_rank()) if member else 0)
    return sub if member else None


def component_selection(target_indices: np.ndarray, source_components: int, target_components: int,
                        source_component: int | None, target_component: int | None) -> tuple[np.ndarray, np.ndarray]:
    """For a target's natural indices: which ones a connection sets, and the source natural index of each.

    Returns ``(mask, source_indices)`` with ``source_indices`` for the masked entries.
    """
    point, comp = np.divmod(np.asarray(target_indices, dtype=np.int64), target_components)
    mask = np.ones(point.shape, dtype=bool) if target_component is None else comp == target_component
    src_comp = comp[mask] if source_component is None and target_component is None else (
        np.full(int(mask.sum()), source_component or 0))
    return mask, point[mask] * source_components + src_comp


def build_scatter(source: PETSc.Vec, source_indices: np.ndarray, target: PETSc.Vec,
                  target_indices: np.ndarray, comm: MPI.Comm,
                  select: tuple[int, int, int | None, int | None] | None = None
                  ) -> tuple[PETSc.Scatter, list[Any]]:
    """Collective: a Scatter moving natural index ``i`` of ``source`` to natural index ``i`` of ``target``.

    ``select`` = ``(source components, target components, source component,
    target component)`` picks one value per point on either side instead.
    Returns the scatter and the PETSc objects to destroy with it.
    """
    pcomm = PETSc.Comm(comm)
    ao = PETSc.AO().createBasic(np.asarray(source_indices, dtype=PETSc.IntType), comm=pcomm)
    lo, hi = target.getOwnershipRange()
    positions = np.arange(lo, hi, dtype=PETSc.IntType)
    natural = np.asarray(target_indices, dtype=np.int64)
    if select is not None:
        mask, natural = component_selection(natural, *select)
        positions = positions[mask]
    wanted = ao.app2petsc(np.asarray(natural, dtype=PETSc.IntType).copy())
    is_from = PETSc.IS().createGeneral(np.asarray(wanted, dtype=PETSc.IntType), comm=pcomm)
    is_to = PETSc.IS().createGeneral(positions, comm=pcomm)
    scatter = PETSc.Scatter().create(source, is_from, target, is_to)
    return scatter, [ao, is_from, is_to]


def build_mapped_mat(weights: PETSc.Mat, source: PETSc.Vec, source_indices: np.ndarray, target: PETSc.Vec,
                     target_indices: np.ndarray, factor: float, comm: MPI.Comm) -> PETSc.Mat:
    """Collective: the mapping ``weights`` (natural indices, on COMM_SELF) laid out on ``comm``.

    Rows are the target's local values, columns the source's, both in the Vecs'
    parallel layouts; the units ``factor`` is folded in.
    """
    pcomm = PETSc.Comm(comm)
    ao = PETSc.AO().createBasic(np.asarray(source_indices, dtype=PETSc.IntType), comm=pcomm)
    if weights.getType() not in (PETSc.Mat.Type.SEQAIJ, PETSc.Mat.Type.AIJ):
        weights = weights.convert(PETSc.Mat.Type.SEQAIJ, PETSc.Mat())
    indptr, cols, vals = weights.getValuesCSR()
    t_lo, t_hi = target.getOwnershipRange()
    s_lo, s_hi = source.getOwnershipRange()
    local_rows = [(t_lo + i, int(j)) for i, j in enumerate(target_indices)]
    needed = np.concatenate([cols[indptr[j]: indptr[j + 1]] for _, j in local_rows]) if local_rows else np.zeros(0)
    petsc_cols = ao.app2petsc(np.asarray(needed, dtype=PETSc.IntType).copy())
    mat = PETSc.Mat().createAIJ(((t_hi - t_lo, target.getSize()), (s_hi - s_lo, source.getSize())), comm=pcomm)
    mat.setUp()
    mat.setOption(PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, False)
    offset = 0
    for row, j in local_rows:
        n = indptr[j + 1] - indptr[j]
        mat.setValues(row, petsc_cols[offset: offset + n], factor * vals[indptr[j]: indptr[j + 1]])
        offset += n
    mat.assemblyBegin()
    mat.assemblyEnd()
    ao.destroy()
    return mat


def allgather_by_index(comm: MPI.Comm, indices: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Collective: the global array of ``size`` values from each rank's ``(indices, values)``.

    ``values`` may carry leading dimensions (e.g. samples): its last axis matches
    ``indices``.
    """
    values = np.asarray(values)
    lead = values.shape[:-1]
    parts = comm.allgather((np.asarray(indices), values))
    out = np.empty((*lead, size), dtype=values.dtype)
    for idx, vals in parts:
        out[..., idx] = vals
    return out
