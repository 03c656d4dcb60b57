"""fluid.navier_stokes under MPI: a NaN in force_in on one rank only is a CouplingError on every rank.

Run under ``mpiexec -n 2`` or ``-n 3`` (passes on one rank too): the check is
collective, so no rank goes on into the Newton solve (which would hang the others).
"""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI
from msm_fluid import NavierStokes

import msmcore as msm


def test_nan_force_on_one_rank_is_a_coupling_error_on_every_rank() -> None:
    c = NavierStokes(name="nanmpi", nodes=(13, 11), viscosity=0.1, wall_velocity={"top": 1.0})
    c.comm = MPI.COMM_WORLD
    c.initialize()
    if c.comm.Get_rank() == c.comm.Get_size() - 1:
        c.port_array("force_in")[0, 0, 1] = np.nan
    c.receive("force_in")
    with pytest.raises(msm.CouplingError, match="force_in.*not finite"):
        c.advance(1.0)
    c.finalize()
