"""The MPI stack under mpiexec: mpi4py and petsc4py share one OpenMPI and one world."""

from __future__ import annotations

import numpy as np
from mpi4py import MPI
from petsc4py import PETSc


def test_petsc_and_mpi4py_see_the_same_world():
    comm = MPI.COMM_WORLD
    pcomm = PETSc.COMM_WORLD.tompi4py()
    assert pcomm.Get_size() == comm.Get_size()
    assert MPI.Comm.Compare(comm, pcomm) in (MPI.IDENT, MPI.CONGRUENT)


def test_distributed_vec_sum_is_exact():
    # Each rank owns a slice of 0..N-1; the global sum is N(N-1)/2 exactly.
    n = 1000
    v = PETSc.Vec().createMPI(n, comm=PETSc.COMM_WORLD)
    lo, hi = v.getOwnershipRange()
    v.setArray(np.arange(lo, hi, dtype=PETSc.ScalarType))
    assert v.sum() == n * (n - 1) / 2
    v.destroy()
