"""fluid.advection_diffusion: conservation in a closed box and boundedness at high Péclet number.

The flow is a swirl from a compactly supported stream function psi (zero
within 0.1 of the walls). Cell velocities are central differences of psi at
the cell centres, u = (psi(y+h) - psi(y-h)) / 2h, v = -(psi(x+h) - psi(x-h)) / 2h;
averaged to the faces they are exactly divergence-free in the discrete sense
(the face fluxes of every cell cancel; see msm_fluid.advection), so:

* conservation: walls everywhere and insulated sides, so the total of T can
  change only by round-off (explicit) or the KSP tolerance (implicit);
* boundedness: a 0/1 square advected at kappa = 1e-9 (cell Péclet number ~ 1e7).
  Discrete maximum principle: explicit TVD within its step bound, and implicit
  upwind (an M-matrix with zero row sums in a divergence-free flow) make no new
  extrema; the central scheme, unbounded above cell Péclet 2, overshoots (the
  check can fail).
"""

from __future__ import annotations

import numpy as np
import pytest
from msm_fluid import AdvectionDiffusion

N = 40
H = 1.0 / N


def psi(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r2 = ((x - 0.5) ** 2 + (y - 0.5) ** 2) / 0.4**2
    return 0.08 * np.where(r2 < 1.0, (1.0 - r2) ** 4, 0.0)


def ux(x: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
    return (psi(x, y + H) - psi(x, y - H)) / (2 * H)


def uy(x: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
    return -(psi(x + H, y) - psi(x - H, y)) / (2 * H)


def square(x: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
    return np.where((abs(x - 0.45) < 0.12) & (abs(y - 0.6) < 0.12), 1.0, 0.0)


def blob(x: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
    return 1.0 + np.exp(-((x - 0.4) ** 2 + (y - 0.55) ** 2) / 0.02)


def box(method: str, scheme: str, kappa: float, initial: object, **extra: object) -> AdvectionDiffusion:
    if "nodes" not in extra:
        extra.setdefault("cells", (N, N))
    c = AdvectionDiffusion("box", size=(1.0, 1.0), kappa=kappa, dt=0.05, method=method,
                           scheme=scheme, velocity=(ux, uy), initial=initial, **extra)  # type: ignore[arg-type]
    c.initialize()
    return c


def test_the_swirl_is_divergence_free_on_the_faces() -> None:
    c = box("explicit", "tvd", 0.0, 0.0)
    Ux, Uy = c._faces()
    div = (Ux[1:] - Ux[:-1]) / H + (Uy[:, 1:] - Uy[:, :-1]) / H
    assert np.abs(Ux).max() > 0.3  # a real flow (max face speed 0.37)
    np.testing.assert_allclose(div, 0.0, atol=1e-12)
    c.finalize()


@pytest.mark.parametrize(("method", "scheme", "tol"), [("explicit", "tvd", 1e-13), ("implicit", "upwind", 1e-11),
                                                       ("implicit", "central", 1e-11)])
@pytest.mark.parametrize("grid", ["cells", "nodes"])
def test_total_is_conserved_in_a_closed_box(method: str, scheme: str, tol: float, grid: str) -> None:
    c = box(method, scheme, 1e-3, blob,
            **{grid: (N, N) if grid == "cells" else (N + 1, N + 1)})
    T = c.port_array("state_out")
    # the amount: control volumes are h^2 (h^2/2 on a side, h^2/4 in a corner of a node grid)
    weight = np.outer(c.sides.widths(c.grid, 0), c.sides.widths(c.grid, 1))
    total0 = (T * weight).sum()
    c.advance(1.0)
    assert np.abs(T - blob(*np.meshgrid(*c.ports["state_out"].spec.coords.values(), indexing="ij"), 0)).max() > 0.05
    total = (T * weight).sum()
    assert abs(total - total0) <= tol * total0, (total - total0) / total0
    c.finalize()


@pytest.mark.parametrize(("method", "scheme"), [("explicit", "tvd"), ("implicit", "upwind")])
def test_no_new_extrema_at_high_peclet(method: str, scheme: str) -> None:
    c = box(method, scheme, 1e-9, square)
    T = c.port_array("state_out")
    for _ in range(10):
        c.advance(c.t + 0.1)
        assert T.min() >= -1e-12 and T.max() <= 1.0 + 1e-12, (T.min(), T.max())
    assert 0.05 < T.max() < 1.0 + 1e-12 and T.sum() * H * H > 0.05  # it moved and smeared, not vanished
    c.finalize()


def test_central_scheme_overshoots_at_high_peclet() -> None:
    c = box("implicit", "central", 1e-9, square)
    c.advance(0.5)
    T = c.port_array("state_out")
    assert T.max() > 1.02 or T.min() < -0.02  # the unbounded scheme's new extrema
    c.finalize()
