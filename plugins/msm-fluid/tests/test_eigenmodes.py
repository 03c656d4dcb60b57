"""Exactness of fluid.diffusion on discrete eigenmodes of its Laplacian.

A discrete eigenvector v of the assembled Laplacian L (L v = lam v) stays an
eigenvector under both time steppers: forward Euler multiplies it by
(1 + dt D lam) per step and backward Euler by 1 / (1 - dt D lam). These are
exact solutions of the discrete schemes, so the only error is round-off (and,
for the implicit scheme, the KSP tolerance ksp_rtol = 1e-12 per solve, which
amplified over a few tens of steps stays far below the 1e-10 asserted).

* Neumann (mirrored ghost cells), cell-centred: v_i = cos(k pi (i + 1/2) / N),
  lam = -(4 / h^2) sin^2(k pi / (2 N)).
* Dirichlet (boundary cells held at 0): v_i = sin(k pi i / (N - 1)),
  lam = -(4 / h^2) sin^2(k pi / (2 (N - 1))).

In 2D/3D the product of per-axis modes is an eigenvector with the sum of the
per-axis eigenvalues.
"""

from __future__ import annotations

import numpy as np
import pytest
from msm_fluid import Diffusion

RTOL = 1e-10


def mode(shape: tuple[int, ...], ks: tuple[int, ...], spacing: tuple[float, ...],
         boundary: str) -> tuple[np.ndarray, float]:
    """The product eigenmode and its eigenvalue."""
    v = np.ones(shape)
    lam = 0.0
    for a, (n, k, h) in enumerate(zip(shape, ks, spacing, strict=True)):
        i = np.arange(n)
        if boundary == "neumann":
            f = np.cos(k * np.pi * (i + 0.5) / n)
            lam -= 4.0 / h**2 * np.sin(k * np.pi / (2 * n)) ** 2
        else:
            f = np.sin(k * np.pi * i / (n - 1))
            lam -= 4.0 / h**2 * np.sin(k * np.pi / (2 * (n - 1))) ** 2
        v = v * f.reshape([-1 if b == a else 1 for b in range(len(shape))])
    return v, lam


def run_mode(shape: tuple[int, ...], ks: tuple[int, ...], spacing: tuple[float, ...],
             boundary: str, method: str, dt_factor: float, max_steps: int) -> tuple[np.ndarray, np.ndarray]:
    D = 0.7
    limit = min(spacing) ** 2 / (2 * len(shape) * D)
    dt = dt_factor * limit
    v, lam = mode(shape, ks, spacing, boundary)
    factor = 1 + dt * D * lam if method == "explicit" else 1 / (1 - dt * D * lam)
    # As many steps as keep the amplitude above 1e-2, so the check stays meaningful.
    steps = min(max_steps, int(np.log(1e-2) / np.log(abs(factor))))
    assert steps >= 3
    c = Diffusion(shape=shape, spacing=spacing, D=D, dt=dt, method=method, boundary=boundary)
    c.initialize()
    u = c.port_array("state_out")
    u[...] = v
    for _ in range(steps):
        c.step(dt)
    return u, factor**steps * v


CASES = [
    # shape, modes, spacing
    ((32,), (3,), (0.1,)),
    ((16, 12), (2, 5), (0.1, 0.2)),
    ((6, 5, 4), (1, 2, 1), (0.5, 0.4, 0.3)),  # the 3D case
]


@pytest.mark.parametrize("boundary", ["neumann", "dirichlet"])
@pytest.mark.parametrize("method,dt_factor", [("explicit", 0.9), ("implicit", 8.0)])
@pytest.mark.parametrize("shape,ks,spacing", CASES)
def test_eigenmode_amplitude_is_exact(shape, ks, spacing, boundary, method, dt_factor) -> None:
    # Exact solution: amplitude (1 + dt D lam)^n (explicit), (1 - dt D lam)^-n
    # (implicit); tolerance 1e-10 relative to the mode's size (round-off and
    # the 1e-12 KSP tolerance, see the module docstring).
    u, exact = run_mode(shape, ks, spacing, boundary, method, dt_factor, max_steps=20)
    scale = np.abs(exact).max()
    assert scale > 1e-3  # the mode has not decayed to nothing: the check means something
    assert not np.allclose(exact, mode(shape, ks, spacing, boundary)[0])  # but it has decayed
    np.testing.assert_allclose(u, exact, rtol=0.0, atol=RTOL * scale)


def test_implicit_neumann_converges_first_order_in_time_to_continuous_decay() -> None:
    # Exact solution of the PDE on [0, 1] with zero flux: cos(pi x) e^{-D pi^2 t},
    # sampled at the cell centres x_i = (i + 1/2) h. Backward Euler's global
    # error is O(dt), so it halves with dt (observed order 1 +- 0.1); with
    # N = 128 cells the O(h^2) spatial error (~1e-4 relative) is far below
    # the time error (~5e-2 ... 6e-3) at these step sizes.
    n, D, t_end = 128, 1.0, 0.1
    x = (np.arange(n) + 0.5) / n
    exact = np.cos(np.pi * x) * np.exp(-D * np.pi**2 * t_end)
    errors = []
    for dt in (0.01, 0.005, 0.0025, 0.00125):
        c = Diffusion(shape=(n,), spacing=1.0 / n, D=D, dt=dt, method="implicit")
        c.initialize()
        c.port_array("state_out")[...] = np.cos(np.pi * x)
        c.advance(t_end)
        errors.append(np.abs(c.port_array("state_out") - exact).max() / np.abs(exact).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 1.0) < 0.1), (errors, orders)
    assert errors[0] < 0.1


@pytest.mark.parametrize("shape", [(12,), (7, 6)])
def test_dirichlet_implicit_long_run_reaches_the_boundary_value(shape) -> None:
    # Exact steady state with every boundary cell held at 1.5: u = 1.5
    # everywhere. dt = 10 h^2/D damps the slowest mode by >= 1.8x per step,
    # so after 100 steps only round-off and the KSP tolerance remain (1e-10).
    c = Diffusion(shape=shape, D=1.0, dt=10.0, method="implicit", boundary="dirichlet",
                  boundary_value=1.5, initial=-2.0)
    c.initialize()
    u = c.port_array("state_out")
    assert np.all(u[0] == 1.5) and np.all(u[-1] == 1.5)
    assert u[(1,) * len(shape)] == -2.0
    for _ in range(100):
        c.step(10.0)
    np.testing.assert_allclose(u, 1.5, rtol=1e-10, atol=0.0)


@pytest.mark.parametrize("method,dt", [("explicit", 0.2), ("implicit", 3.0)])
def test_dirichlet_boundary_cells_are_held_even_with_a_source(method, dt) -> None:
    # Held means equal to boundary_value exactly, whatever the interior and
    # the source do; the interior must have changed (the check is not vacuous).
    c = Diffusion(shape=(8, 9), D=1.0, dt=dt, method=method, boundary="dirichlet",
                  boundary_value=0.25, initial=3.0)
    c.initialize()
    c.port_array("source_in")[...] = 5.0
    u = c.port_array("state_out")
    before = u.copy()
    for _ in range(5):
        c.step(dt)
    face = np.zeros(u.shape, dtype=bool)
    face[0, :] = face[-1, :] = face[:, 0] = face[:, -1] = True
    assert np.all(u[face] == 0.25)
    assert not np.allclose(u[~face], before[~face])
