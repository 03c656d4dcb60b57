"""fluid.advection_diffusion against exact solutions, with observed orders of convergence.

References (exact solutions of dT/dt + u . grad T = kappa lap T):

* A Gaussian in a uniform flow in free space is the heat kernel moving with
  the flow (the free-space Green's function; e.g. Carslaw & Jaeger, *Conduction
  of Heat in Solids*, 2nd ed., 1959, §10.2, in the frame moving with u):
  ``T = s0^2 / s^2 exp(-|x - x0 - u t|^2 / (2 s^2))``, ``s^2 = s0^2 + 2 kappa t``.
  The domain is large enough that T is below 1e-6 at the walls (the error
  from the finite box is far below the discretisation errors measured).
* Steady conduction with per-side conditions (Dirichlet/Dirichlet, flux/Dirichlet)
  is linear in x, which the cell-centred finite volumes with half-cell
  Dirichlet faces reproduce exactly (to the solver tolerance).
* Steady 1D advection-diffusion between T(0) = 0 and T(L) = 1 with uniform u:
  ``T = (exp(Pe x / L) - 1) / (exp(Pe) - 1)``, ``Pe = u L / kappa``
  (e.g. Patankar, *Numerical Heat Transfer and Fluid Flow*, 1980, eq. 5.8).

Expected orders: explicit TVD (van Leer) + SSP-RK2 is second order for a
smooth field; implicit upwind is first order (its numerical diffusion |u| h / 2
and the backward-Euler step both are O(h) at dt ~ h); central in space is
second order at steady state.
"""

from __future__ import annotations

import numpy as np
import pytest
from msm_fluid import AdvectionDiffusion

ALL = ("left", "right", "bottom", "top")


def gaussian(n: int, method: str, scheme: str, *, s0: float, kappa: float, x0: tuple[float, float],
             width: float, T: float = 0.25, u: tuple[float, float] = (1.0, 0.5), grid: str = "cells") -> float:
    """L1 error (integral of |T - exact|) after time T on an n x n grid."""
    def exact(x: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
        s2 = s0**2 + 2 * kappa * t
        return s0**2 / s2 * np.exp(-((x - x0[0] - u[0] * t) ** 2 + (y - x0[1] - u[1] * t) ** 2) / (2 * s2))

    h = width / n
    dt = T / np.ceil(T / (0.5 * h))
    size = (n, n) if grid == "cells" else (n + 1, n + 1)  # nodes: the same spacing
    c = AdvectionDiffusion("g", size=(width, width), **{grid: size}, kappa=kappa, dt=dt, method=method,
                           scheme=scheme, initial=lambda x, y, t: exact(x, y, 0.0), velocity=u, open=ALL,
                           pc_type="ilu", **{s: ("dirichlet", 0.0) for s in ALL})
    c.initialize()
    c.advance(T)
    X, Y = np.meshgrid(*c.ports["state_out"].spec.coords.values(), indexing="ij")
    error = float(np.abs(c.port_array("state_out") - exact(X, Y, T)).sum() * h * h)  # ~ the L1 norm
    c.finalize()
    return error


@pytest.mark.slow
@pytest.mark.parametrize("grid", ["cells", "nodes"])
def test_gaussian_tvd_explicit_is_second_order(grid: str) -> None:
    errors = [gaussian(n, "explicit", "tvd", s0=0.04, kappa=0.005, x0=(0.3, 0.3), width=1.0, grid=grid)
              for n in (32, 64, 128)]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # measured (cells): L1 errors 1.63e-3, 3.72e-4, 8.73e-5, orders 2.13, 2.09
    assert errors[-1] < 1.5e-4
    assert np.all(orders > 1.8) and np.all(orders < 2.4), orders


def test_gaussian_upwind_implicit_is_first_order() -> None:
    errors = [gaussian(n, "implicit", "upwind", s0=0.08, kappa=0.01, x0=(0.35, 0.4), width=1.2)
              for n in (24, 48, 96)]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # measured: orders 0.70, 0.81, approaching 1 from below as the O(h^2) terms fade
    assert orders[1] > orders[0] - 0.02
    assert 0.75 < orders[1] < 1.2, orders


def steady(scheme: str = "upwind", grid: str = "cells", **sides: object) -> np.ndarray:
    c = AdvectionDiffusion("s", size=(2.0, 1.0), kappa=0.5, dt=1e4, scheme=scheme, ksp_rtol=1e-14,
                           **{grid: (16, 4)}, **sides)  # type: ignore[arg-type]
    c.initialize()
    c.advance(5e4)
    T = c.port_array("state_out").copy()
    c.finalize()
    return T


def points(grid: str) -> np.ndarray:
    return (np.arange(16) + 0.5) * 2.0 / 16 if grid == "cells" else np.linspace(0.0, 2.0, 16)


@pytest.mark.parametrize("grid", ["cells", "nodes"])
def test_dirichlet_both_sides_insulated_top_bottom_gives_the_linear_profile(grid: str) -> None:
    T = steady(grid=grid, left=("dirichlet", 1.0), right="dirichlet 0", top="insulated", bottom=("neumann", 0.0))
    x = points(grid)
    np.testing.assert_allclose(T, np.repeat((1 - x / 2)[:, None], 4, axis=1), rtol=0, atol=1e-10)


@pytest.mark.parametrize("grid", ["cells", "nodes"])
def test_neumann_flux_side_gives_the_slope_q_over_kappa(grid: str) -> None:
    # Outward flux q = -kappa dT/dn on the left (n = -x): q = kappa dT/dx, so dT/dx = q / kappa = -2;
    # with T = 0 at x = 2 the exact profile is T = 2 (2 - x).
    T = steady(grid=grid, left=("neumann", -1.0), right=("dirichlet", 0.0))
    x = points(grid)
    np.testing.assert_allclose(T, np.repeat((2 * (2 - x))[:, None], 4, axis=1), rtol=0, atol=1e-10)


@pytest.mark.parametrize(("scheme", "order"), [("central", 2.0), ("upwind", 1.0)])
def test_steady_advection_diffusion_profile(scheme: str, order: float) -> None:
    pe, L, kappa = 10.0, 1.0, 0.05
    errors = []
    for n in (20, 40, 80):
        c = AdvectionDiffusion("p", size=(L, 0.1), cells=(n, 2), kappa=kappa, dt=10.0, scheme=scheme,
                               velocity=(pe * kappa / L, 0.0), open=("left", "right"), ksp_rtol=1e-14,
                               left=("dirichlet", 0.0), right=("dirichlet", 1.0))
        c.initialize()
        c.advance(200.0)
        x = c.ports["state_out"].spec.coords["x"]
        exact = np.expm1(pe * x / L) / np.expm1(pe)
        errors.append(np.abs(c.port_array("state_out")[:, 0] - exact).max())
        c.finalize()
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert abs(orders[-1] - order) < 0.2, (errors, orders)
