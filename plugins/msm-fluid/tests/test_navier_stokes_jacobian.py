"""fluid.navier_stokes: the analytic Jacobian is the derivative of the residual.

The residual is at most quadratic in the unknowns (products of stream-function
and vorticity differences), so the central difference (F(x + e v) - F(x - e v))
/ (2 e) equals J(x) v exactly up to round-off, for any e: asserted to 1e-9
relative at random states, for every kind of boundary row, steady and
transient (theta = 1/2). The FD-coloured Jacobian (``jacobian="fd"``) gives
the same Newton solution.
"""

from __future__ import annotations

import numpy as np
import pytest
from msm_fluid import NavierStokes

SLIP = {e: "slip" for e in ("left", "right", "bottom", "top")}
CASES = {
    "cavity": dict(nodes=(9, 7), viscosity=0.01, wall_velocity={"top": 1.0, "left": -0.3}),
    "channel": dict(nodes=(11, 7), size=(2.0, 1.0), viscosity=0.05, boundary={"left": "inflow", "right": "outflow"},
                    inflow="4*y*(1-y)", wall_velocity={"bottom": 0.2}),
    "slip-transient": dict(nodes=(8, 9), viscosity=0.1, boundary=SLIP, mode="transient", dt=0.1,
                           time_scheme="crank-nicolson"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_jacobian_times_vector_equals_the_central_difference(case: str) -> None:
    c = NavierStokes(name="jac", **CASES[case])
    c.initialize()
    solver = c._solver
    phys = c._physics(0.1)
    if c.mode == "transient":
        phys.dt, phys.theta = 0.1, 0.5
        phys.omega_old = solver.solution[..., 1].copy()
        phys.n_old = np.zeros(solver.local_shape)
    solver.phys = phys
    rng = np.random.default_rng(1)
    x = solver.x.duplicate()
    x.getArray()[:] = rng.standard_normal(x.getLocalSize())
    v = x.duplicate()
    v.getArray()[:] = rng.standard_normal(v.getLocalSize())
    J = solver._J
    solver._jacobian(solver.snes, x, J, J)
    jv = x.duplicate()
    J.mult(v, jv)
    fp, fm, xp = x.duplicate(), x.duplicate(), x.duplicate()
    eps = 1e-3
    xp.waxpy(eps, v, x)
    solver.snes.computeFunction(xp, fp)
    xp.waxpy(-eps, v, x)
    solver.snes.computeFunction(xp, fm)
    fd = (fp.getArray() - fm.getArray()) / (2 * eps)
    np.testing.assert_allclose(jv.getArray(), fd, rtol=0, atol=1e-9 * np.abs(fd).max())
    for vec in (x, v, jv, fp, fm, xp):
        vec.destroy()
    c.finalize()


def test_fd_coloured_jacobian_gives_the_same_solution() -> None:
    runs = []
    for jac in ("analytic", "fd"):
        c = NavierStokes(name="j", nodes=(17, 17), viscosity=0.01, wall_velocity={"top": 1.0}, jacobian=jac,
                         snes_rtol=1e-10)
        c.initialize()
        c.advance(1.0)
        runs.append(c.port_array("velocity_out").copy())
        c.finalize()
    np.testing.assert_allclose(runs[0], runs[1], rtol=0, atol=1e-8)
