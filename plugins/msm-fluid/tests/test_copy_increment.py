"""fluid.diffusion with boundary='copy-increment' against MUSCLE3's macro model.

Reference: the macro (diffusion) model of MUSCLE3's reaction-diffusion example
(docs/source/examples/python/reaction_diffusion.py; msmcore's
examples/reaction_diffusion/numpy_reference.py, function laplacian_update),
written out below as plain NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest
from msm_fluid import Diffusion

# The numbers of MUSCLE3's reaction-diffusion example (MUSCLE3 documentation, "Tutorial with
# Python", docs/source/examples/python/reaction_diffusion.py).
N, DX, D, DT = 100, 0.01, 0.0405, 2.469136e-6


def muscle3_step(U: np.ndarray) -> np.ndarray:
    """One macro step of MUSCLE3's example, operation for operation."""
    dU = np.zeros_like(U)
    dU[1:-1] = D * ((U[:-2] + U[2:] - 2 * U[1:-1]) / DX**2) * DT
    dU[0] = dU[1]
    dU[-1] = dU[-2]
    return U + dU


def muscle3_component() -> Diffusion:
    c = Diffusion(name="macro", shape=(N,), spacing=DX, D=D, dt=DT, boundary="copy-increment",
                  initial=1e-20, initial_points={"25": 2.0, 50: 2.0, (75,): 2.0})
    c.initialize()
    return c


def test_copy_increment_matches_muscle3_numpy_loop_for_50_steps() -> None:
    # Same arithmetic up to the order of the stencil sum (PETSc's MatMult adds
    # h^-2 u[i-1] - 2 h^-2 u[i] + h^-2 u[i+1]), so the two differ by round-off
    # only: 1e-12 relative per cell leaves ~4 decades for 50 steps of it.
    c = muscle3_component()
    U = np.full(N, 1e-20)
    U[[25, 50, 75]] = 2.0
    u = c.port_array("state_out")
    np.testing.assert_array_equal(u, U)
    for _ in range(50):
        c.step(DT)
        U = muscle3_step(U)
        np.testing.assert_allclose(u, U, rtol=1e-12, atol=0.0)
    assert u[25] < 2.0 and u[24] > 1e-3  # it did diffuse


def test_copy_increment_through_advance_takes_exactly_50_steps() -> None:
    # advance() to T = 1.234568e-4 must take 50 steps of DT (to round-off in
    # the step length), so the result is the 50-step NumPy loop to 1e-12.
    c = muscle3_component()
    U = np.full(N, 1e-20)
    U[[25, 50, 75]] = 2.0
    for _ in range(50):
        U = muscle3_step(U)
    c.advance(1.234568e-4)
    assert c.t == 1.234568e-4
    np.testing.assert_allclose(c.port_array("state_out"), U, rtol=1e-12, atol=0.0)


def test_copy_increment_2d_copies_increments_per_axis() -> None:
    # In 2D the rule applies per axis: dU[0, :] = dU[1, :], ..., then
    # dU[:, 0] = dU[:, 1], ... (corners copy the diagonal neighbour), so the
    # increment of every boundary cell equals an interior increment exactly
    # up to round-off (1e-13 of the increment's scale).
    rng = np.random.default_rng(3)
    c = Diffusion(shape=(6, 5), spacing=(0.5, 0.25), D=1.0, dt=0.01, boundary="copy-increment")
    c.initialize()
    u = c.port_array("state_out")
    u[...] = rng.random((6, 5))
    U = u.copy()
    c.step(0.01)
    lap = np.zeros_like(U)
    lap[1:-1, 1:-1] = ((U[:-2, 1:-1] + U[2:, 1:-1] - 2 * U[1:-1, 1:-1]) / 0.25
                       + (U[1:-1, :-2] + U[1:-1, 2:] - 2 * U[1:-1, 1:-1]) / 0.0625)
    dU = 0.01 * lap
    dU[0, :], dU[-1, :] = dU[1, :], dU[-2, :]
    dU[:, 0], dU[:, -1] = dU[:, 1], dU[:, -2]
    np.testing.assert_allclose(u - U, dU, rtol=0.0, atol=1e-13 * np.abs(dU).max())


@pytest.mark.parametrize("shape", [(2,), (10, 2)])
def test_copy_increment_needs_three_cells_per_axis(shape: tuple[int, ...]) -> None:
    # The inward neighbour of a boundary cell must itself be an interior cell.
    import msmcore as msm

    with pytest.raises(msm.ConfigurationError, match=r"needs >= 3 cells on every axis"):
        Diffusion(shape=shape, D=1.0, dt=0.01, boundary="copy-increment")
