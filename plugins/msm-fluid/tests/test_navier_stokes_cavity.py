"""fluid.navier_stokes: the lid-driven cavity against Ghia, Ghia & Shin (1982), and its order.

Reference: U. Ghia, K. N. Ghia, C. T. Shin, "High-Re solutions for
incompressible flow using the Navier-Stokes equations and a multigrid
method", J. Comput. Phys. 48, 387-411 (1982), Table I (u on the vertical
centreline x = 0.5) and Table II (v on the horizontal centreline y = 0.5),
unit square, lid speed 1 (top wall moving along +x), Re = U L / nu; their
grid is 129 x 129. The values are copied below.

Tolerances. The scheme is second order (central differences, Jensen's wall
vorticity); the observed order is asserted below (Re = 100, three grids).
Each tolerance is our own discretisation error (Richardson estimate,
second order) plus Ghia's: their tables are ~1-2 % of the extremum off
converged solutions (Botella & Peyret, Comput. Fluids 27, 421 (1998);
Erturk et al., Int. J. Numer. Meth. Fluids 48, 747 (2005)).
Re = 100 on 65 x 65 nodes: Richardson |f65 - f33| / 3 <= 0.0023 (u) and
0.0033 (v) on the centrelines; Ghia's own deviation from the grid-converged
values (Richardson of our 65/129 runs, examples/cavity) is up to 0.0033 (u)
and 0.0092 (v: Ghia's |v| is ~4 % low near x = 0.8-0.86, -0.24533 against
-0.2535 at x = 0.8047). Tolerances: 0.006 (u), 0.012 (v). Measured: 0.0026
(u), 0.0061 (v).
Re = 1000 on 65 x 65 nodes: the primary-vortex |psi| on 65, 97 and 129
nodes is 0.1078, 0.1138, 0.1160 (observed order 1.9; Richardson from 65/129
gives 0.1180 against Botella & Peyret's 0.11894 and Ghia's 0.117929), so the
65-node error at the u extremum is 4/3 |f129 - f65| ~ 0.041, plus 2 % of
|v|min = 0.53 (0.011): tolerance 0.06. Measured: 0.048 (u), 0.043 (v). The
129-node comparison is in ``examples/cavity``.
"""

from __future__ import annotations

import numpy as np
import pytest
from example_loader import load_example
from msm_fluid import NavierStokes
from scipy.interpolate import CubicSpline

# Ghia et al. (1982), Tables I and II: u on x = 0.5 at the y of GHIA_Y, v on y = 0.5 at the x of GHIA_X.
ghia = load_example("cavity", "ghia")
GHIA_Y, GHIA_U, GHIA_X, GHIA_V = ghia.Y, ghia.U, ghia.X, ghia.V

def cavity(n: int, re: float) -> NavierStokes:
    """The unit cavity with n x n nodes, lid speed 1 and nu = 1 / Re, solved (steady)."""
    c = NavierStokes(name="cavity", nodes=(n, n), viscosity=1.0 / re, wall_velocity={"top": 1.0})
    c.initialize()
    c.advance(1.0)
    return c


def centrelines(c: NavierStokes) -> tuple[np.ndarray, np.ndarray]:
    """u(0.5, y) at GHIA_Y and v(x, 0.5) at GHIA_X (cubic splines through the nodes)."""
    n = c.nodes[0]
    m = (n - 1) // 2
    vel = c.port_array("velocity_out")
    s = np.linspace(0.0, 1.0, n)
    return CubicSpline(s, vel[m, :, 0])(GHIA_Y), CubicSpline(s, vel[:, m, 1])(GHIA_X)


@pytest.fixture(scope="module")
def re100() -> dict[int, NavierStokes]:
    runs = {n: cavity(n, 100.0) for n in (17, 33, 65)}
    yield runs
    for c in runs.values():
        c.finalize()


def test_re100_matches_ghia_on_65_nodes(re100) -> None:
    u, v = centrelines(re100[65])
    assert np.max(np.abs(u - GHIA_U[100])) < 0.006
    assert np.max(np.abs(v - GHIA_V[100])) < 0.012
    # the wall values are exact
    assert u[0] == pytest.approx(1.0, abs=1e-12) and u[-1] == pytest.approx(0.0, abs=1e-12)


def test_re100_observed_order_is_two(re100) -> None:
    # u at the cavity centre (a node of all three grids) and the primary-vortex
    # stream function at the centre: differences between successive grids fall
    # by 2^p with p the observed order; a second-order scheme gives p ~ 2.
    def centre(c: NavierStokes, port: str, comp: int | None = None) -> float:
        m = (c.nodes[0] - 1) // 2
        a = c.port_array(port)
        return float(a[m, m] if comp is None else a[m, m, comp])

    for port, comp in (("velocity_out", 0), ("streamfunction_out", None)):
        f = [centre(re100[n], port, comp) for n in (17, 33, 65)]
        p = np.log2(abs(f[0] - f[1]) / abs(f[1] - f[2]))
        assert 1.7 < p < 2.4, (port, f, p)


def test_re100_pressure_is_finite_with_zero_mean(re100) -> None:
    p = re100[33].port_array("pressure_out")
    assert np.all(np.isfinite(p))
    assert abs(p.mean()) < 1e-10  # closed box: zero mean over the nodes
    # the lid drives a low pressure at the upstream (left) top corner, a high one downstream
    assert p[-2, -2] > 0.0 > p[1, -2]


@pytest.mark.slow
def test_re1000_by_continuation_matches_ghia_on_65_nodes() -> None:
    c = cavity(65, 1000.0)
    u, v = centrelines(c)
    assert np.max(np.abs(u - GHIA_U[1000])) < 0.06
    assert np.max(np.abs(v - GHIA_V[1000])) < 0.06
    # the extrema sit where Ghia's do: u_min near y = 0.17, v_min near x = 0.91
    assert np.argmin(u) == 11 and np.argmin(v) == 5
    c.finalize()
