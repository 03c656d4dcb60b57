"""Conservation and sources under zero-flux (Neumann) boundaries.

With mirrored ghost cells the Laplacian's columns sum to zero, so the total
sum(u) is invariant under both schemes, and a uniform source s raises the mean
by exactly s t: explicit, each step adds dt s to every cell; implicit,
sum(u_new) = sum(u + dt s) because the columns of I - dt D L sum to one.
"""

from __future__ import annotations

import numpy as np
import pytest
from msm_fluid import Diffusion

# Tolerances (relative to sum|u|): explicit arithmetic is round-off only,
# ~N * steps * eps at worst; the implicit total is exact up to the solver's
# residual, sum(r) <= sqrt(N) ||r||, i.e. ksp_rtol = 1e-12 per step.
TOL = {"explicit": 1e-13, "implicit": 1e-10}


def component(method: str, shape: tuple[int, ...] = (10, 8)) -> tuple[Diffusion, float]:
    dt = 0.1 if method == "explicit" else 2.0  # explicit limit: 0.25^2 / (4 * 0.1) = 0.156
    c = Diffusion(shape=shape, spacing=0.25, D=0.1, dt=dt, method=method)
    c.initialize()
    rng = np.random.default_rng(7)
    c.port_array("state_out")[...] = rng.random(shape) * 4.0 + 1.0
    return c, dt


@pytest.mark.parametrize("method", ["explicit", "implicit"])
def test_neumann_conserves_the_total(method: str) -> None:
    # Exact: sum(u) constant; see TOL for the tolerance's reason.
    c, dt = component(method)
    u = c.port_array("state_out")
    before, start = u.sum(), u.copy()
    for _ in range(30):
        c.step(dt)
    assert abs(u.sum() - before) <= TOL[method] * np.abs(u).sum()
    assert np.abs(u - start).max() > 0.1  # it did diffuse


@pytest.mark.parametrize("method", ["explicit", "implicit"])
def test_uniform_source_raises_the_mean_by_s_t(method: str) -> None:
    # Exact: mean(u)(t) = mean(u)(0) + s t, whatever the diffusion does.
    c, dt = component(method)
    s = 0.7
    c.port_array("source_in")[...] = s
    c.receive("source_in")
    u = c.port_array("state_out")
    mean0 = u.mean()
    c.advance(25 * dt)
    assert c.t == pytest.approx(25 * dt, rel=1e-15)
    assert abs(u.mean() - (mean0 + s * c.t)) <= TOL[method] * np.abs(u).mean()


def test_source_is_read_at_every_step() -> None:
    # Changing source_in between steps changes the next step's increment:
    # a constant field stays constant under diffusion, so the field is exactly
    # initial + dt * (s1 + s2) (round-off only, 1e-14 relative).
    c = Diffusion(shape=(5,), D=0.1, dt=0.5, initial=2.0)
    c.initialize()
    s = c.port_array("source_in")
    s[...] = 1.0
    c.step(0.5)
    s[...] = -3.0
    c.step(0.5)
    np.testing.assert_allclose(c.port_array("state_out"), 2.0 + 0.5 * (1.0 - 3.0), rtol=1e-14)
