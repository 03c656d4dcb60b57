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


def test_moving_side_walls_distributed_equal_serial_corners_included() -> None:
    # the corner rows of a moving left/right wall (added in the review) on whichever rank owns them
    settings = dict(nodes=(15, 13), viscosity=0.02, wall_velocity={"left": 1.0, "right": -0.5, "top": 0.3},
                    snes_rtol=1e-10)
    c = NavierStokes(name="side", **settings)
    c.comm = MPI.COMM_WORLD
    c.initialize()
    c.advance(1.0)
    ref = NavierStokes(name="side_ref", **settings)
    ref.comm = MPI.COMM_SELF
    ref.initialize()
    ref.advance(1.0)
    for port in ("velocity_out", "vorticity_out", "pressure_out"):
        idx = c.port_indices(port)
        parts = c.comm.allgather((idx, c.port_array(port).reshape(-1).copy()))
        full = np.empty(ref.port_array(port).size)
        for i, v in parts:
            full[i] = v
        np.testing.assert_allclose(full, ref.port_array(port).reshape(-1), rtol=0, atol=1e-6, err_msg=port)
    corner = ref.port_array("velocity_out")
    assert corner[0, 0, 1] == 1.0 and corner[-1, -1, 1] == -0.5 and corner[-1, -1, 0] == 0.3
    c.finalize()
    ref.finalize()
