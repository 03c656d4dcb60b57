"""kinetics.network's PETSc TS distributed over MPI.COMM_WORLD against the serial run.

One TS on the component's communicator over each rank's block of cells (see
msm_kinetics.integrator). Run under ``mpiexec -n N`` (any N >= 1; with 3 ranks
and 2 cells one rank holds none); every test also passes on one rank.
"""

from __future__ import annotations

import numpy as np
import pytest
from msm_kinetics.network import Network

MPI = pytest.importorskip("mpi4py.MPI")

WORLD = MPI.COMM_WORLD
# Robertson's stiff kinetics (Hairer & Wanner II, sec. IV.1) plus a general rate law
MODEL = """
R1: y1 -> y2; k1*y1
R2: 2 y2 -> y2 + y3; k2*y2^2
R3: y2 + y3 -> y1 + y3; k3*y2*y3
M: y3 -> P; Vmax*y3/(Km + y3)
k1 = 0.04; k2 = 3e7; k3 = 1e4; Vmax = 0.2; Km = 0.3
y1 = 1
"""
SHAPE = (7,)


def run(comm, method: str, variant: str | None = None, shape=SHAPE, windows=(0.5, 1.0, 3.0)) -> list[np.ndarray]:
    """Global states after each window, every cell from a different start."""
    net = Network(name="micro", model=MODEL, method=method, variant=variant, rtol=1e-8, atol=1e-14, shape=shape)
    net.comm = comm
    net.initialize()
    ncells = int(np.prod(shape))
    rng = np.random.default_rng(2)  # the same on every rank
    start = np.column_stack([rng.uniform(0.5, 1, ncells), rng.uniform(0, 1e-5, ncells),
                             rng.uniform(0, 0.5, ncells), np.zeros(ncells)])
    lo, hi = net.cell_range
    net.port_array("state_in").reshape(-1, 4)[...] = start[lo:hi]
    net.receive("state_in")
    out = []
    for t in windows:
        net.advance(t)
        parts = (comm or MPI.COMM_SELF).allgather(net.state.reshape(-1, 4).copy())
        out.append(np.concatenate(parts))
    net.finalize()
    return out


@pytest.mark.parametrize(("method", "windows"), [("rosw", (0.5, 1.0, 3.0)), ("rk", (0.02, 0.05))])
def test_linearly_implicit_and_explicit_ts_repeat_the_serial_run_bit_for_bit(method: str, windows) -> None:
    # ROSW and RK make no iteration decisions: with the max-norm error control
    # (an exact reduction) the distributed TS takes the serial run's steps and
    # every cell's arithmetic is the serial one. (RK, explicit, only over the
    # short non-stiff start of this stiff problem.)
    serial = run(None, method, windows=windows)
    dist = run(WORLD, method, windows=windows)
    for s, d in zip(serial, dist, strict=True):
        np.testing.assert_array_equal(d, s)
    assert len(np.unique(dist[-1][:, 0])) == SHAPE[0]


@pytest.mark.parametrize(("method", "variant", "windows"), [("bdf", "5", (0.5, 1.0)), ("arkimex", "4", (0.1,))])
def test_newton_based_ts_matches_the_serial_run_to_round_off(method: str, variant: str | None, windows) -> None:
    # BDF and ARKIMEX test Newton convergence with 2-norms, whose sums may round
    # differently over ranks; the runs still agree far inside the tolerance
    # (rtol 1e-8): 1e-10 relative (in practice they are identical).
    serial = run(None, method, variant, windows=windows)
    dist = run(WORLD, method, variant, windows=windows)
    for s, d in zip(serial, dist, strict=True):
        np.testing.assert_allclose(d, s, rtol=1e-10, atol=1e-20)


def test_fewer_cells_than_ranks() -> None:
    # 2 cells: with 3 ranks one rank holds no cell and still takes part in the
    # collective TS (empty Vec and Mat blocks).
    serial = run(None, "rosw", shape=(2,), windows=(1.0,))
    dist = run(WORLD, "rosw", shape=(2,), windows=(1.0,))
    np.testing.assert_array_equal(dist[0], serial[0])


def test_distributed_jacobian_is_block_diagonal_on_the_local_rows() -> None:
    # Each rank assembles only its cells' diagonal blocks, in the rows of its
    # state_out indices.
    net = Network(model=MODEL, method="bdf", shape=SHAPE)
    net.comm = WORLD
    net.initialize()
    J = net.jacobian()
    lo, hi = net.cell_range
    assert J.getOwnershipRange() == (lo * 4, hi * 4)
    assert J.getBlockSize() == 4 and J.getSize() == (SHAPE[0] * 4, SHAPE[0] * 4)
    indptr, indices, _ = J.getValuesCSR()
    for k in range(hi - lo):
        for s in range(4):
            cols = indices[indptr[4 * k + s]:indptr[4 * k + s + 1]]
            assert np.all(cols // 4 == lo + k)
    np.testing.assert_array_equal(net.port_indices("state_out"), np.arange(lo * 4, hi * 4))
    J.destroy()
    net.finalize()
