"""fluid.advection_diffusion distributed over MPI.COMM_WORLD equals the same run on one rank.

Run under ``mpiexec -n 2`` and ``-n 3`` (passes on one rank too). Reference: the
same component on COMM_SELF on every rank; the distributed field is gathered
through ``port_indices``. Explicit TVD reads two ghost layers of T and one of
the velocity across rank boundaries; equal to round-off (1e-13). Implicit
upwind with GMRES + block Jacobi (ILU blocks, which depend on the split):
equal to the KSP tolerance (1e-9 absolute at rtol 1e-12).
The flow comes in through ``velocity_in`` (owned-box arrays) and varies in
both directions, with an open side, a flux side and Dirichlet sides.
"""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI
from msm_fluid import AdvectionDiffusion

WORLD = MPI.COMM_WORLD
SETTINGS = dict(size=(1.0, 0.8), kappa=2e-3, dt=0.02, initial="exp(-((x-0.4)**2+(y-0.4)**2)/0.02)",
                left=("dirichlet", 0.5), right="insulated", bottom=("neumann", 0.3), top=("dirichlet", 0.0),
                open=["left", "right"])


def velocity(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.stack([0.6 + 0.3 * np.sin(3 * y), 0.2 * np.cos(2 * x)], axis=-1)


def run(comm: MPI.Comm | None, method: str, grid: str) -> np.ndarray:
    c = AdvectionDiffusion("ad", method=method, **{grid: (13, 11)}, **SETTINGS)
    c.comm = comm
    c.initialize()
    coords = c.ports["state_out"].spec.coords
    X, Y = np.meshgrid(coords["x"], coords["y"], indexing="ij")
    full = velocity(X, Y).reshape(-1)
    c.port_array("velocity_in").reshape(-1)[...] = full[c.port_indices("velocity_in")]
    c.receive("velocity_in")
    c.advance(0.4)
    local, idx = c.port_array("state_out").reshape(-1).copy(), c.port_indices("state_out")
    c.finalize()
    if comm is None:
        return local
    out = np.zeros(13 * 11)
    for i, v in zip(comm.allgather(idx), comm.allgather(local), strict=True):
        out[i] = v
    return out


@pytest.mark.parametrize(("method", "tol"), [("explicit", 1e-13), ("implicit", 1e-9)])
@pytest.mark.parametrize("grid", ["cells", "nodes"])
def test_distributed_equals_serial(method: str, tol: float, grid: str) -> None:
    serial = run(None, method, grid)
    dist = run(WORLD, method, grid)
    assert np.abs(serial).max() > 0.1
    np.testing.assert_allclose(dist, serial, rtol=0, atol=tol)
