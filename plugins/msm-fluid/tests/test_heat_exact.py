"""fluid.heat reproduces preCICE's partitioned heat conduction solution exactly.

Reference: preCICE tutorial "partitioned-heat-conduction"
(https://precice.org/tutorials-partitioned-heat-conduction.html):
u = 1 + x^2 + alpha y^2 + beta t, alpha = 3, beta = 1.2, on [0, 2] x [0, 1],
f = beta - 2 - 2 alpha, kappa = 1, split at x = 1 into a Dirichlet (left) and a
Neumann (right) domain; preCICE asserts a coupled error below 1e-8.

Why exact: u is linear in t, so implicit Euler's difference quotient is du/dt;
u is quadratic in x and y, so the 5-point stencil, the half-cell balance of an
edge node and the one-sided 3-point gradient are exact too. The discrete
solution therefore equals u at the nodes up to round-off and the KSP tolerance
(rtol 1e-12 on fields of size ~10: errors ~1e-12 observed). Field tolerances
are 1e-10 and flux tolerances 1e-9 (a flux divides by h and dt).
"""

from __future__ import annotations

import numpy as np
import pytest
from msm_fluid import Heat
from msm_fluid.conduction import EDGES

ALPHA, BETA = 3.0, 1.2
TUTORIAL = dict(
    constants={"alpha": ALPHA, "beta": BETA},
    boundary="1 + x**2 + alpha*y**2 + beta*t",
    source="beta - 2 - 2*alpha",
    dt=0.1,
)


def exact(x, y, t, gamma: float = 0.0):
    """The tutorial's u, plus an optional harmonic cross term gamma x y (exact as well)."""
    return 1.0 + x**2 + ALPHA * y**2 + gamma * x * y + BETA * t


def exact_flux(edge: str, x, y, kappa: float, gamma: float = 0.0):
    """-kappa du/da with a = x for left/right edges, y for bottom/top."""
    if EDGES[edge].axis == 0:
        return -kappa * (2.0 * x + gamma * y)
    return -kappa * (2.0 * ALPHA * y + gamma * x)


def node_grid(c: Heat):
    coords = c.port("temperature_out").spec.coords
    return np.meshgrid(coords["x"], coords["y"], indexing="ij")


def edge_coords(c: Heat):
    """x and y of the interface nodes (corners included)."""
    pts = c.interface_points
    return pts[:, 0], pts[:, 1]


def test_all_dirichlet_reproduces_the_manufactured_solution() -> None:
    # (1) No interface: every edge is held at u; the interior must be u at every step.
    c = Heat(name="whole", size=(2.0, 1.0), nodes=(21, 11), **TUTORIAL)
    c.initialize()
    u = c.port_array("temperature_out")
    X, Y = node_grid(c)
    np.testing.assert_allclose(u, exact(X, Y, 0.0), rtol=0, atol=1e-14)  # initial = boundary at t=0
    for k in range(1, 11):
        c.advance(0.1 * k)
        np.testing.assert_allclose(u, exact(X, Y, c.t), rtol=0, atol=1e-10)
    assert c.t == pytest.approx(1.0)
    assert c.port_array("temperature_out") is u


def test_sub_cycling_and_uneven_steps_stay_exact() -> None:
    # advance() over several dt (and a last step that is shrunk, which rebuilds
    # the operator): implicit Euler is exact for u linear in t at any step.
    c = Heat(name="whole", size=(2.0, 1.0), nodes=(9, 7), **{**TUTORIAL, "dt": 0.04})
    c.initialize()
    X, Y = node_grid(c)
    for t in (0.2, 0.31, 0.5):
        c.advance(t)
        np.testing.assert_allclose(c.port_array("temperature_out"), exact(X, Y, t), rtol=0, atol=1e-10)


def test_tutorial_left_domain_dirichlet_gives_flux_minus_two() -> None:
    # (2) Left domain [0,1]^2, Dirichlet interface on its right edge fed with the
    # exact interface temperature u(1, y, t_{n+1}) before each step: the flux
    # -kappa du/dx = -2x = -2 at x = 1, exactly, at every node (corners included).
    c = Heat(name="left", size=(1.0, 1.0), nodes=(11, 11), interface_edge="right",
             interface_role="dirichlet", **TUTORIAL)
    c.initialize()
    X, Y = node_grid(c)
    ex, ey = edge_coords(c)
    np.testing.assert_array_equal(ex, 1.0)
    temperature_in, flux_out = c.port_array("temperature_in"), c.port_array("flux_out")
    # Right after initialize: the initial interface temperature, and the one-sided flux.
    np.testing.assert_allclose(temperature_in, exact(1.0, ey, 0.0), rtol=0, atol=1e-14)
    np.testing.assert_allclose(flux_out, -2.0, rtol=0, atol=1e-9)
    for k in range(1, 11):
        t1 = 0.1 * k
        temperature_in[...] = exact(1.0, ey, t1)
        c.receive("temperature_in")
        c.advance(t1)
        np.testing.assert_allclose(flux_out, -2.0, rtol=0, atol=1e-9)
        np.testing.assert_allclose(c.port_array("temperature_out"), exact(X, Y, t1), rtol=0, atol=1e-10)


def test_tutorial_right_domain_neumann_is_exact() -> None:
    # (3) Right domain [1,2]x[0,1], Neumann interface on its left edge fed with
    # the exact flux -2: field and interface temperature equal u.
    c = Heat(name="right", origin=(1.0, 0.0), size=(1.0, 1.0), nodes=(11, 11),
             interface_edge="left", interface_role="neumann", **TUTORIAL)
    c.initialize()
    X, Y = node_grid(c)
    ex, ey = edge_coords(c)
    np.testing.assert_array_equal(ex, 1.0)
    flux_in, temperature = c.port_array("flux_in"), c.port_array("temperature_iface_out")
    np.testing.assert_allclose(flux_in, -2.0, rtol=0, atol=1e-9)  # initial gradient flux
    np.testing.assert_allclose(temperature, exact(1.0, ey, 0.0), rtol=0, atol=1e-14)
    flux_in[...] = -2.0
    for k in range(1, 11):
        c.advance(0.1 * k)
        np.testing.assert_allclose(c.port_array("temperature_out"), exact(X, Y, c.t), rtol=0, atol=1e-9)
        np.testing.assert_allclose(temperature, exact(1.0, ey, c.t), rtol=0, atol=1e-9)


def test_wrong_neumann_flux_gives_a_wrong_temperature() -> None:
    # The flux is really used: -1.9 instead of -2 changes the interface temperature.
    c = Heat(name="right", origin=(1.0, 0.0), size=(1.0, 1.0), nodes=(11, 11),
             interface_edge="left", interface_role="neumann", **TUTORIAL)
    c.initialize()
    c.port_array("flux_in")[...] = -1.9
    c.advance(0.1)
    ey = edge_coords(c)[1]
    assert np.max(np.abs(c.port_array("temperature_iface_out") - exact(1.0, ey, 0.1))) > 1e-3


# Every edge and role on a non-square grid with an offset origin, kappa != 1 and
# a cross term gamma x y so that the flux varies along the edge (a reversed or
# shifted edge would show). f = beta - kappa (2 + 2 alpha); lap(x y) = 0.
GAMMA, KAPPA = 0.7, 0.5
GENERAL = dict(
    origin=(0.5, -0.25), size=(1.0, 0.75), nodes=(9, 6), kappa=KAPPA, dt=0.05,
    constants={"alpha": ALPHA, "beta": BETA, "gamma": GAMMA, "kappa": KAPPA},
    boundary="1 + x**2 + alpha*y**2 + gamma*x*y + beta*t",
    source="beta - kappa*(2 + 2*alpha)",
)


@pytest.mark.parametrize("edge", list(EDGES))
def test_dirichlet_interface_flux_is_exact_on_every_edge(edge: str) -> None:
    c = Heat(name="d", interface_edge=edge, interface_role="dirichlet", **GENERAL)
    c.initialize()
    X, Y = node_grid(c)
    ex, ey = edge_coords(c)
    flux = exact_flux(edge, ex, ey, KAPPA, GAMMA)
    assert np.ptp(flux) > 0.1  # the flux varies along the edge
    np.testing.assert_allclose(c.port_array("flux_out"), flux, rtol=0, atol=1e-9)
    for k in range(1, 5):
        t1 = 0.05 * k
        c.port_array("temperature_in")[...] = exact(ex, ey, t1, GAMMA)
        c.advance(t1)
        np.testing.assert_allclose(c.port_array("flux_out"), flux, rtol=0, atol=1e-9)
        np.testing.assert_allclose(c.port_array("temperature_out"), exact(X, Y, t1, GAMMA), rtol=0, atol=1e-10)


@pytest.mark.parametrize("edge", list(EDGES))
def test_neumann_interface_is_exact_on_every_edge(edge: str) -> None:
    c = Heat(name="n", interface_edge=edge, interface_role="neumann", **GENERAL)
    c.initialize()
    X, Y = node_grid(c)
    ex, ey = edge_coords(c)
    flux = exact_flux(edge, ex, ey, KAPPA, GAMMA)
    c.port_array("flux_in")[...] = flux
    c.port_array("flux_in")[[0, -1]] = 1e3  # corners belong to the Dirichlet boundary: ignored
    for k in range(1, 5):
        c.advance(0.05 * k)
        np.testing.assert_allclose(c.port_array("temperature_out"), exact(X, Y, c.t, GAMMA), rtol=0, atol=1e-10)
        np.testing.assert_allclose(c.port_array("temperature_iface_out"), exact(ex, ey, c.t, GAMMA),
                                   rtol=0, atol=1e-10)


def test_coupled_dirichlet_neumann_iteration_reaches_the_tutorial_tolerance() -> None:
    # The whole tutorial, coupled by hand the way an implicit scheme would:
    # per window of 0.1, restore both sides, left takes the guessed interface
    # temperature and gives its flux, right takes the flux and gives its
    # temperature; Aitken-relaxed fixed point until |T_right - T_guess| < 1e-12.
    # The fixed point is the monolithic discrete solution = u, so both fields
    # must match u to well below preCICE's 1e-8 at T = 1.
    left = Heat(name="left", size=(1.0, 1.0), nodes=(11, 11), interface_edge="right",
                interface_role="dirichlet", **TUTORIAL)
    right = Heat(name="right", origin=(1.0, 0.0), size=(1.0, 1.0), nodes=(11, 11),
                 interface_edge="left", interface_role="neumann", **TUTORIAL)
    left.initialize()
    right.initialize()
    np.testing.assert_array_equal(left.interface_points, right.interface_points)  # matching grids
    t_in, q_out = left.port_array("temperature_in"), left.port_array("flux_out")
    q_in, t_out = right.port_array("flux_in"), right.port_array("temperature_iface_out")
    iterations = []
    for k in range(1, 11):
        t1 = 0.1 * k
        saved = left.save_state(), right.save_state()
        guess, omega, r_old = t_out.copy(), 0.5, None
        for it in range(1, 51):  # noqa: B007 - the count where the loop broke is used after it
            left.restore_state(saved[0])
            t_in[...] = guess
            left.advance(t1)
            right.restore_state(saved[1])
            q_in[...] = q_out
            right.advance(t1)
            r = t_out - guess
            if np.max(np.abs(r)) < 1e-12:
                break
            if r_old is not None:
                d = r - r_old
                omega = -omega * float(np.dot(r_old, d)) / float(np.dot(d, d))
            guess, r_old = guess + omega * r, r
        iterations.append(it)
    assert max(iterations) < 10, iterations
    for c in (left, right):
        X, Y = node_grid(c)
        err = np.max(np.abs(c.port_array("temperature_out") - exact(X, Y, 1.0)))
        assert err < 1e-8, (c.name, err)
    np.testing.assert_allclose(q_out, -2.0, rtol=0, atol=1e-8)
