"""fluid.navier_stokes against exact solutions: Poiseuille flow, Taylor-Green vortices.

References (textbook exact solutions of the incompressible Navier-Stokes
equations, e.g. F. M. White, Viscous Fluid Flow, 3rd ed., sections 3-3 and
3-4; G. I. Taylor & A. E. Green, Proc. R. Soc. A 158, 499 (1937)):

* Plane Poiseuille flow in a channel of height H: u = 4 U y (H - y) / H^2,
  v = 0, p = G (L - x) with G = 8 mu U / H^2. Its stream function is a cubic
  in y, for which the 5-point Laplacian, Jensen's wall formula and the
  Simpson-integrated inflow are exact: the discrete solution equals it to
  the Newton tolerance (1e-9 relative asserted).
* Taylor-Green vortex on [0, pi]^2 with free-slip walls (psi = omega = 0 on
  the walls): psi = sin x sin y e^{-2 nu t}, omega = 2 psi, p = (rho/4)
  (cos 2x + cos 2y) e^{-4 nu t}. The central convection term vanishes
  exactly for this mode on the grid, so the discrete vorticity amplitude is
  2 g^n with g = 1 / (1 + nu lam dt) (backward Euler) or
  (1 - nu lam dt / 2) / (1 + nu lam dt / 2) (Crank-Nicolson),
  lam = 2 (2 - 2 cos h) / h^2: asserted to 1e-7 relative. The observed
  orders (1 and 2 in time, 2 in space against the continuous solution) are
  asserted from three step sizes / grids.
* Forced steady Taylor-Green cell: f = (0, -4 rho nu cos x sin y) keeps
  psi = sin x sin y steady, with p = (rho/4)(cos 2x + cos 2y)
  + 2 mu cos x cos y (derived from the momentum equation): the body-force
  port and the pressure-Poisson post-solve, second order in space.
"""

from __future__ import annotations

import numpy as np
import pytest
from msm_fluid import NavierStokes

PI = np.pi


def xy(c: NavierStokes) -> tuple[np.ndarray, np.ndarray]:
    coords = c.port("velocity_out").spec.coords
    return np.meshgrid(coords["x"], coords["y"], indexing="ij")


def test_poiseuille_channel_is_exact() -> None:
    rho, mu, U, H, L = 2.0, 0.1, 1.0, 1.0, 2.0
    c = NavierStokes(name="channel", nodes=(17, 9), size=(L, H), density=rho, viscosity=mu,
                     boundary={"left": "inflow", "right": "outflow"}, inflow="4*U*y*(1 - y)",
                     constants={"U": U}, snes_rtol=1e-12, pressure_rtol=1e-13)
    c.initialize()
    c.advance(1.0)
    X, Y = xy(c)
    vel = c.port_array("velocity_out")
    # u = psi_y by central differences: exact up to h^2/6 psi_yyy = -8 h^2/6 off the walls and the inflow
    h = H / 8
    u_h = 4 * U * Y * (H - Y) / H**2
    u_h[1:, 1:-1] -= 8 * U * h**2 / (6 * H**2)
    np.testing.assert_allclose(vel[..., 0], u_h, rtol=0, atol=1e-9)
    np.testing.assert_allclose(vel[..., 1], 0.0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(c.port_array("streamfunction_out"), 2 * Y**2 - 4 * Y**3 / 3, rtol=0, atol=1e-9)
    np.testing.assert_allclose(c.port_array("vorticity_out"), -(4 - 8 * Y), rtol=0, atol=1e-8)
    G = 8 * mu * U / H**2
    np.testing.assert_allclose(c.port_array("pressure_out"), G * (L - X), rtol=0, atol=1e-8)
    c.finalize()


def taylor_green(n: int, dt: float, scheme: str, nu: float = 0.5, steps: int = 4) -> tuple[float, NavierStokes]:
    c = NavierStokes(name="tg", nodes=(n, n), size=(PI, PI), viscosity=nu, mode="transient", dt=dt,
                     time_scheme=scheme, boundary={e: "slip" for e in ("left", "right", "bottom", "top")},
                     initial_streamfunction="sin(x)*sin(y)", initial_vorticity="2*sin(x)*sin(y)",
                     snes_rtol=1e-11)
    c.initialize()
    c.advance(steps * dt)
    m = (n - 1) // 2  # the centre node, sin = 1
    return float(c.port_array("vorticity_out")[m, m]), c


@pytest.mark.parametrize("scheme", ["backward-euler", "crank-nicolson"])
def test_taylor_green_decay_equals_the_discrete_amplification(scheme: str) -> None:
    nu, dt, n, steps = 0.5, 0.1, 17, 4
    amp, c = taylor_green(n, dt, scheme, nu, steps)
    h = PI / (n - 1)
    lam = 2 * (2 - 2 * np.cos(h)) / h**2
    a = nu * lam * dt
    g = 1 / (1 + a) if scheme == "backward-euler" else (1 - a / 2) / (1 + a / 2)
    X, Y = xy(c)
    np.testing.assert_allclose(c.port_array("vorticity_out"), 2 * g**steps * np.sin(X) * np.sin(Y),
                               rtol=0, atol=2e-7)
    np.testing.assert_allclose(c.port_array("streamfunction_out"), 2 * g**steps / lam * np.sin(X) * np.sin(Y),
                               rtol=0, atol=2e-7)
    # velocity of the exact mode: u = psi_y, central differences give the factor sin(h)/h
    vel = c.port_array("velocity_out")
    np.testing.assert_allclose(vel[1:-1, 1:-1, 0], (2 * g**steps / lam * np.sin(h) / h
                                                     * np.sin(X) * np.cos(Y))[1:-1, 1:-1], rtol=0, atol=2e-7)
    assert c.t == pytest.approx(steps * dt)
    c.finalize()


@pytest.mark.parametrize(("scheme", "order"), [("backward-euler", 1.0), ("crank-nicolson", 2.0)])
def test_taylor_green_observed_order_in_time(scheme: str, order: float) -> None:
    # the same end time T = 0.8 with dt = 0.2, 0.1, 0.05: differences shrink by 2^p
    amps = [taylor_green(9, dt, scheme, steps=round(0.8 / dt))[0] for dt in (0.2, 0.1, 0.05)]
    p = np.log2(abs(amps[0] - amps[1]) / abs(amps[1] - amps[2]))
    assert abs(p - order) < 0.15, (amps, p)


@pytest.mark.slow
def test_taylor_green_observed_order_in_space() -> None:
    # Crank-Nicolson with a small step (time error ~1e-6) on 9, 17, 33 nodes:
    # the error against e^{-2 nu t} falls by 2^p, p ~ 2.
    nu, dt, steps = 0.5, 0.02, 5
    exact = 2 * np.exp(-2 * nu * dt * steps)
    err = [abs(taylor_green(n, dt, "crank-nicolson", nu, steps)[0] - exact) for n in (9, 17, 33)]
    p = np.log2(np.array(err[:-1]) / np.array(err[1:]))
    assert np.all(np.abs(p - 2.0) < 0.1), (err, p)


def forced_cell(n: int) -> tuple[NavierStokes, np.ndarray, np.ndarray]:
    rho, mu = 1.5, 0.2
    c = NavierStokes(name="cell", nodes=(n, n), size=(PI, PI), density=rho, viscosity=mu,
                     boundary={e: "slip" for e in ("left", "right", "bottom", "top")}, snes_rtol=1e-11)
    c.initialize()
    X, Y = xy(c)
    f = c.port_array("force_in")
    f[..., 0] = 0.0
    f[..., 1] = -4 * rho * (mu / rho) * np.cos(X) * np.sin(Y)
    c.receive("force_in")
    c.advance(1.0)
    p = (rho / 4) * (np.cos(2 * X) + np.cos(2 * Y)) + 2 * mu * np.cos(X) * np.cos(Y)
    return c, p - p.mean(), np.sin(X) * np.sin(Y)


def test_forced_taylor_green_cell_velocity_and_pressure_converge_at_second_order() -> None:
    errs = []
    for n in (17, 33):
        c, p_exact, psi_exact = forced_cell(n)
        h = PI / (n - 1)
        lam = 2 * (2 - 2 * np.cos(h)) / h**2
        # discrete steady state: nu lam A = 4 nu sin(h)/h (the central curl of cos x)
        amp = 4 * np.sin(h) / h / lam
        np.testing.assert_allclose(c.port_array("vorticity_out"), amp * psi_exact, rtol=0, atol=1e-8)
        errs.append((np.abs(c.port_array("streamfunction_out") - psi_exact).max(),
                     np.abs(c.port_array("pressure_out") - p_exact).max()))
        c.finalize()
    # psi: the amplitude error is O(h^4) here (ratio ~16); the pressure is second order
    assert errs[0][0] / errs[1][0] > 3.3, errs
    assert 3.3 < errs[0][1] / errs[1][1] < 4.8, errs  # second order: ratio ~4 for h -> h/2
    assert errs[1][1] < 5e-3  # pressure of magnitude ~1
