"""Stream function–vorticity discretisation of 2D incompressible Navier–Stokes on grid nodes.

Unknowns at every node: the stream function ``psi`` (``u = dpsi/dy``,
``v = -dpsi/dx``, so ``div u = 0`` holds exactly) and the vorticity
``omega = dv/dx - du/dy``. They satisfy

.. math::

    -\\nabla^2 \\psi = \\omega, \\qquad
    \\partial_t \\omega + u \\cdot \\nabla \\omega
        = \\nu \\nabla^2 \\omega + \\frac{1}{\\rho} (\\nabla \\times f)_z ,

with ``nu = mu / rho`` and ``f`` a body-force density (N/m^3); a force
without curl is balanced by the pressure alone (in a closed box exactly so).
Second-order central differences everywhere, for convection too (no
upwinding, so Ghia et al.'s Re = 1000 cavity is reproduced without numerical
viscosity). Wall vorticity by Jensen's second-order formula, from the Taylor
expansion of ``psi`` normal to the wall (``s``: distance into the fluid,
``h``: the normal spacing, ``psi_s``: the wall's tangential velocity with the
sign of the wall's orientation)::

    omega_w = -(8 psi_1 - psi_2 - 7 psi_w - 6 h psi_s) / (2 h^2)

Rows are scaled like PETSc's ``ex19`` (multiplied by ``hx hy``; the vorticity
rows divided by ``nu``), and every stream-function row is divided by ``L^2``
(``L`` the larger side, :func:`psi_row_scale`): then every row has the units
of a vorticity (1/s), so the residual of a run at ``(rho, U, L, mu)`` is
``U / L`` times that of the same Reynolds number in a unit box, and Newton's
iterates, line search and tolerance are the same in scaled units. The functions here work on the *extended* owned box
``E`` of shape ``(lnx + 4, lny + 4, 2)``: the owned nodes plus two layers of
neighbours (ghosts from the DMDA, zeros outside the domain), so the same code
evaluates each rank's rows under MPI. Boundary rows are described in
:mod:`msm_fluid.navier_stokes_bc`; a corner node takes the rows of its
bottom/top edge, plus the tangential speed of a left/right *wall* (its ``v``, and
Jensen's ``3 psi_s / h`` in the vorticity), so that the corners of a lid on any
wall are the rotated ones of a top lid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from msm_fluid.navier_stokes_bc import Boundaries

__all__ = ["Layout", "Physics", "curl", "interior_operator", "psi_row_scale", "residual", "velocity"]

_C = slice(2, -2)
_P = slice(3, -1)
_M = slice(1, -3)


@dataclass(frozen=True)
class Layout:
    """Geometry of one rank's part of the grid."""

    nodes: tuple[int, int]
    spacing: tuple[float, float]
    owned: tuple[tuple[int, int], tuple[int, int]]  # half-open global node ranges per axis
    boundaries: Boundaries

    def on(self, edge: str) -> bool:
        """Whether this rank owns nodes of ``edge``."""
        (i0, i1), (j0, j1) = self.owned
        nx, ny = self.nodes
        return {"left": i0 == 0, "right": i1 == nx, "bottom": j0 == 0, "top": j1 == ny}[edge]


@dataclass
class Physics:
    """What the rows read besides the unknowns (all in SI units).

    ``wall`` holds the tangential wall speed per edge (left, right, bottom,
    top); ``psi_in``/``omega_in``/``u_in`` the inflow stream function,
    vorticity and velocity at the left-edge nodes *this rank owns*; ``psi_top``
    the stream function of the top wall (the inflow rate, 0 in a closed box);
    ``curl`` the force's curl at the owned nodes. ``dt`` is ``None`` for a
    steady solve; otherwise the step is the theta method with the previous
    vorticity ``omega_old`` and ``n_old`` = the operator at the old state.
    """

    nu: float
    rho: float
    wall: np.ndarray
    curl: np.ndarray
    psi_top: float = 0.0
    psi_in: np.ndarray = field(default_factory=lambda: np.zeros(0))
    omega_in: np.ndarray = field(default_factory=lambda: np.zeros(0))
    u_in: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dt: float | None = None
    theta: float = 1.0
    omega_old: np.ndarray | None = None
    n_old: np.ndarray | None = None


def _lap(f: np.ndarray, hx: float, hy: float) -> np.ndarray:
    """hx hy times the 5-point Laplacian at the owned nodes."""
    c = f[_C, _C]
    return (f[_P, _C] - 2.0 * c + f[_M, _C]) * (hy / hx) + (f[_C, _P] - 2.0 * c + f[_C, _M]) * (hx / hy)


def _central_velocity(psi: np.ndarray, hx: float, hy: float) -> tuple[np.ndarray, np.ndarray]:
    return (psi[_C, _P] - psi[_C, _M]) / (2.0 * hy), -(psi[_P, _C] - psi[_M, _C]) / (2.0 * hx)


def curl(force: np.ndarray, layout: Layout) -> np.ndarray:
    """``dfy/dx - dfx/dy`` at the owned nodes (central differences) from the extended force."""
    hx, hy = layout.spacing
    return ((force[_P, _C, 1] - force[_M, _C, 1]) / (2.0 * hx)
            - (force[_C, _P, 0] - force[_C, _M, 0]) / (2.0 * hy))


def interior_operator(E: np.ndarray, layout: Layout, phys: Physics) -> np.ndarray:
    """``hx hy (u.grad omega - nu lap omega - curl f / rho)`` at the owned nodes."""
    hx, hy = layout.spacing
    psi, om = E[..., 0], E[..., 1]
    u, v = _central_velocity(psi, hx, hy)
    conv = u * (om[_P, _C] - om[_M, _C]) * (0.5 * hy) + v * (om[_C, _P] - om[_C, _M]) * (0.5 * hx)
    return conv - phys.nu * _lap(om, hx, hy) - phys.curl * (hx * hy / phys.rho)


def _jensen(wall: np.ndarray, one: np.ndarray, two: np.ndarray, h: float, psi_s: float) -> np.ndarray:
    return -(8.0 * one - two - 7.0 * wall - 6.0 * h * psi_s) / (2.0 * h * h)


def _psi_value(edge: str, layout: Layout, phys: Physics) -> float:
    return phys.psi_top if edge == "top" else 0.0


def psi_row_scale(layout: Layout) -> float:
    """``1 / L^2`` (``L``: the larger side): the factor of every stream-function row."""
    (nx, ny), (hx, hy) = layout.nodes, layout.spacing
    return 1.0 / max((nx - 1) * hx, (ny - 1) * hy) ** 2


def residual(E: np.ndarray, F: np.ndarray, layout: Layout, phys: Physics) -> None:
    """Write the residual at the owned nodes into ``F`` (shape ``(lnx, lny, 2)``)."""
    hx, hy = layout.spacing
    psi, om = E[..., 0], E[..., 1]
    F[..., 0] = -_lap(psi, hx, hy) - om[_C, _C] * (hx * hy)
    n_new = interior_operator(E, layout, phys)
    if phys.dt is None:
        F[..., 1] = n_new / phys.nu
    else:
        assert phys.omega_old is not None and phys.n_old is not None
        F[..., 1] = ((om[_C, _C] - phys.omega_old) * (hx * hy / phys.dt)
                     + phys.theta * n_new + (1.0 - phys.theta) * phys.n_old) / phys.nu
    kinds = layout.boundaries.kinds
    wall = phys.wall
    # left / right edges first; bottom / top overwrite the corners
    if layout.on("left"):
        kind = kinds["left"]
        row = F[0]
        if kind == "inflow":
            row[:, 0] = psi[2, _C] - phys.psi_in
            row[:, 1] = om[2, _C] - phys.omega_in
        else:
            row[:, 0] = psi[2, _C] - 0.0
            row[:, 1] = om[2, _C] - (_jensen(psi[2, _C], psi[3, _C], psi[4, _C], hx, -wall[0])
                                     if kind == "wall" else 0.0)
    if layout.on("right"):
        kind = kinds["right"]
        row = F[-1]
        if kind == "outflow":
            row[:, 0] = 3.0 * psi[-3, _C] - 4.0 * psi[-4, _C] + psi[-5, _C]
            row[:, 1] = 3.0 * om[-3, _C] - 4.0 * om[-4, _C] + om[-5, _C]
        else:
            row[:, 0] = psi[-3, _C] - 0.0
            row[:, 1] = om[-3, _C] - (_jensen(psi[-3, _C], psi[-4, _C], psi[-5, _C], hx, wall[1])
                                      if kind == "wall" else 0.0)
    for edge, w, one, two, psi_s in (("bottom", 2, 3, 4, wall[2]), ("top", -3, -4, -5, -wall[3])):
        if not layout.on(edge):
            continue
        kind = kinds[edge]
        col = F[:, 0 if edge == "bottom" else -1]
        col[:, 0] = psi[_C, w] - _psi_value(edge, layout, phys)
        col[:, 1] = om[_C, w] - (_jensen(psi[_C, w], psi[_C, one], psi[_C, two], hy, psi_s)
                                 if kind == "wall" else 0.0)
    # a corner of a vertical wall: its speed adds Jensen's 3 psi_s / h (psi is constant along both
    # edges), so a lid on any wall gives the rotated fields of the top lid, corners included
    for edge, i, psi_s in (("left", 0, -wall[0]), ("right", -1, wall[1])):
        if layout.on(edge) and kinds[edge] == "wall":
            for corner, j in (("bottom", 0), ("top", -1)):
                if layout.on(corner):
                    F[i, j, 1] -= 3.0 * psi_s / hx
    F[..., 0] *= psi_row_scale(layout)


def velocity(E: np.ndarray, out: np.ndarray, layout: Layout, phys: Physics) -> None:
    """Velocity ``(u, v)`` at the owned nodes into ``out`` (shape ``(lnx, lny, 2)``).

    Inside: central differences of ``psi``. On an edge: the wall's velocity,
    the inflow, or second-order one-sided differences (slip walls, outflow).
    """
    hx, hy = layout.spacing
    psi = E[..., 0]
    u, v = _central_velocity(psi, hx, hy)
    out[..., 0], out[..., 1] = u, v
    kinds, wall = layout.boundaries.kinds, phys.wall
    if layout.on("left"):
        kind = kinds["left"]
        out[0, :, 0] = phys.u_in if kind == "inflow" else 0.0
        out[0, :, 1] = (wall[0] if kind == "wall" else
                        0.0 if kind == "inflow" else
                        -(-3.0 * psi[2, _C] + 4.0 * psi[3, _C] - psi[4, _C]) / (2.0 * hx))
    if layout.on("right"):
        kind = kinds["right"]
        one_sided = -(3.0 * psi[-3, _C] - 4.0 * psi[-4, _C] + psi[-5, _C]) / (2.0 * hx)
        if kind != "outflow":
            out[-1, :, 0] = 0.0
        out[-1, :, 1] = wall[1] if kind == "wall" else one_sided
    if layout.on("bottom"):
        out[:, 0, 0] = (wall[2] if kinds["bottom"] == "wall" else
                        (-3.0 * psi[_C, 2] + 4.0 * psi[_C, 3] - psi[_C, 4]) / (2.0 * hy))
        out[:, 0, 1] = 0.0
    if layout.on("top"):
        out[:, -1, 0] = (wall[3] if kinds["top"] == "wall" else
                         (3.0 * psi[_C, -3] - 4.0 * psi[_C, -4] + psi[_C, -5]) / (2.0 * hy))
        out[:, -1, 1] = 0.0
    for edge, i, speed in (("left", 0, wall[0]), ("right", -1, wall[1])):  # a corner moves with both walls
        if layout.on(edge) and kinds[edge] == "wall":
            for corner, j in (("bottom", 0), ("top", -1)):
                if layout.on(corner):
                    out[i, j, 1] = speed
