"""fluid.diffusion's sink_in and decay distributed over MPI.COMM_WORLD equal the same run on one rank.

Reference: the identical component on ``COMM_SELF`` on every rank. Explicit: round-off (1e-12
relative); implicit: solved to rtol 1e-13, agreeing to 1e-10 relative.
"""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI
from msm_fluid import Diffusion
from port_gather import gather_port

WORLD = MPI.COMM_WORLD


def scatter_into(comp, port: str, whole: np.ndarray) -> None:
    """Write this rank's part of the global array ``whole`` into the port array."""
    comp.port_array(port).reshape(-1)[...] = whole.reshape(-1)[comp.port_indices(port)]


@pytest.mark.parametrize("method, dt, rtol", [("explicit", 2e-3, 1e-12), ("implicit", 0.05, 1e-10)])
def test_sink_and_decay_distributed_equal_serial(method: str, dt: float, rtol: float) -> None:
    shape = (9, 7)
    rng = np.random.default_rng(11)
    lam = np.where(rng.random(shape) < 0.3, 50.0, 0.0)  # patches taking up strongly (dt * lambda up to 2.5)
    out = {}
    for name, comm in (("serial", MPI.COMM_SELF), ("distributed", WORLD)):
        d = Diffusion(name=name, shape=shape, spacing=0.1, D=1.0, dt=dt, method=method, decay=0.7,
                      boundary="dirichlet", boundary_value=2.0, initial=1.0, ksp_rtol=1e-13)
        d.comm = comm
        d.initialize()
        scatter_into(d, "sink_in", lam)
        d.receive("sink_in")
        d.advance(0.2)
        scatter_into(d, "sink_in", lam * 0.5)
        d.receive("sink_in")
        d.advance(0.4)
        out[name] = gather_port(d, "state_out") if comm is WORLD else d.port_array("state_out").copy()
        d.finalize()
    assert out["serial"].min() < 1.5  # the sink did act
    np.testing.assert_allclose(out["distributed"], out["serial"], rtol=rtol, atol=0)
