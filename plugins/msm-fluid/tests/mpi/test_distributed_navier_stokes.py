"""fluid.navier_stokes distributed over MPI.COMM_WORLD equals the serial run to the solver tolerance.

Run under ``mpiexec -n 2`` (and ``-n 3``; passes on one rank too). The
serial reference is the same component on COMM_SELF on every rank; the
distributed fields are gathered through ``port_indices``. The serial run
uses ILU(2)-GMRES, the distributed one additive Schwarz: both converge Newton
to ``snes_rtol = 1e-10`` (relative to the residual of the fluid at rest,
~1e3 here), so the fields agree to ~1e-8; asserted: 1e-6 (velocities of
order 1, the pressure of order 1).
"""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI
from msm_fluid import NavierStokes
from port_gather import gather_port

WORLD = MPI.COMM_WORLD
PORTS = ("velocity_out", "pressure_out", "vorticity_out", "streamfunction_out")


def build(comm, **settings) -> NavierStokes:
    c = NavierStokes(name="ns", **settings)
    c.comm = comm
    return c


@pytest.mark.parametrize("settings", [
    dict(nodes=(33, 29), viscosity=0.01, wall_velocity={"top": 1.0}, snes_rtol=1e-10),  # cavity, Re = 100
    dict(nodes=(25, 13), size=(2.0, 1.0), viscosity=0.02, boundary={"left": "inflow", "right": "outflow"},
         inflow="4*y*(1 - y)", snes_rtol=1e-10),  # a channel: inflow and outflow edges split over ranks
])
def test_steady_distributed_equals_serial(settings) -> None:
    c = build(WORLD, **settings)
    c.initialize()
    c.advance(1.0)
    ref = build(MPI.COMM_SELF, **settings)
    ref.initialize()
    ref.advance(1.0)
    for port in PORTS:
        np.testing.assert_allclose(gather_port(c, port), ref.port_array(port), rtol=0, atol=1e-6, err_msg=port)
    c.finalize()
    ref.finalize()


def test_transient_distributed_equals_serial_and_restarts() -> None:
    settings = dict(nodes=(21, 21), viscosity=0.01, wall_velocity={"top": 1.0}, mode="transient", dt=0.05,
                    time_scheme="crank-nicolson", snes_rtol=1e-10)
    c = build(WORLD, **settings)
    ref = build(MPI.COMM_SELF, **settings)
    for _ in range(2):  # a second run after finalize starts afresh
        c.t = ref.t = 0.0
        c.initialize()
        ref.initialize()
        wall = c.port_array("wall_velocity_in")  # held by rank 0 (empty elsewhere); reaches every rank
        wall[...] = [0.0, 0.0, 0.0, 0.5] if wall.size else []
        c.receive("wall_velocity_in")
        ref.port_array("wall_velocity_in")[...] = [0.0, 0.0, 0.0, 0.5]
        ref.receive("wall_velocity_in")
        c.advance(0.2)
        ref.advance(0.2)
        for port in PORTS:
            np.testing.assert_allclose(gather_port(c, port), ref.port_array(port), rtol=0, atol=1e-6, err_msg=port)
        c.finalize()
        ref.finalize()


@pytest.mark.skipif(WORLD.Get_size() < 3, reason="5 nodes split over 2 ranks leave each >= 2")
def test_too_many_ranks_for_the_grid_is_a_configuration_error_on_every_rank() -> None:
    import msmcore as msm

    c = build(WORLD, nodes=(5, 5), viscosity=0.1)
    with pytest.raises(msm.ConfigurationError, match="at least 2"):
        c.initialize()
