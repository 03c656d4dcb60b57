"""The ``fluid.advection_diffusion`` component: dT/dt + div(u T) = kappa lap(T) + s in 2D."""

from __future__ import annotations

import logging
import math
import re
from typing import Any

import numpy as np
from petsc4py import PETSc

import msmcore as msm
from msm_fluid._convert import ORIGIN_PAIR, SIZE_PAIR, count_pair, pair
from msm_fluid._expr import bind_function, constants_mapping, space_time_function
from msm_fluid.advection import SCHEMES, SIDES, Padded, Sides, assemble_operator, face_velocities, rate, stable_step
from msm_fluid.grid import CellGrid, NodeGrid
from msmcore.settings import Converter, to_number

__all__ = ["AdvectionDiffusion"]

logger = logging.getLogger(__name__)

_KINDS = ("dirichlet", "neumann")


def _side(value: Any) -> tuple[str, float]:
    """``"insulated"``, ``"neumann"`` (q = 0), ``("dirichlet", 1.0)``, ``"dirichlet 1.0"``, ``{"neumann": 2}``."""
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.items()))
    if isinstance(value, str):
        parts = value.replace(":", " ").replace("=", " ").split()
        value = (parts[0], parts[1] if len(parts) > 1 else 0.0) if parts else ("", 0.0)
        if len(parts) > 2:
            raise ValueError(f"{value!r}: give a kind and at most one number")
    if isinstance(value, (bytes, bool)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"{value!r} is not (kind, value)")
    kind = str(value[0]).strip().lower()
    if kind == "insulated":
        kind = "neumann"
    if kind not in _KINDS:
        raise ValueError(f"kind {value[0]!r} is not one of {list(_KINDS)} (or 'insulated')")
    return kind, to_number(value[1], "value")


def _open(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    items = [value] if isinstance(value, str) else list(value)
    bad = [v for v in items if not isinstance(v, str) or v.strip().lower() not in SIDES]
    if bad:
        raise ValueError(f"{bad} is not a side; sides are {list(SIDES)}")
    return frozenset(v.strip().lower() for v in items)


_cell_counts = count_pair(2, "cells")
_node_counts = count_pair(3, "nodes", "two boundary nodes and one inside")
_side_bc = Converter("(kind, value) with kind 'dirichlet' (value T_b) or 'neumann' (outward diffusive "
                     "flux q; 'insulated' is q = 0), or a string like 'dirichlet 1.0'", _side)
_open_sides = Converter("a list of side names ('left', 'right', 'bottom', 'top')", _open)
_vector = Converter("a pair of finite floats", lambda v: pair(v, "x, y", to_number))
_velocity = Converter("a pair (ux, uy), each a number, an expression in x, y, t or a callable",
                      lambda v: pair(v, "ux, uy", space_time_function))


class AdvectionDiffusion(msm.Component):
    """Advection-diffusion dT/dt + div(u T) = kappa lap(T) + s of a scalar on a rectangle (PETSc DMDA).

    Give ``cells = (nx, ny)``: cells of width ``size / cells`` cover
    ``[x0, x0 + width] x [y0, y0 + height]`` and values live at the cell
    centres ``x0 + (i + 1/2) hx`` (as ``fluid.diffusion``); or ``nodes = (nx, ny)``:
    vertex-centred, node ``i`` at ``x0 + i width / (nx - 1)``, boundary nodes
    included (the grid of ``fluid.heat`` and ``fluid.navier_stokes``, so their
    ports connect value to value). Finite volumes (see
    :mod:`msm_fluid.advection`): conservative for every scheme and velocity.

    * ``method="implicit"`` (default): backward Euler with ``scheme="upwind"``
      (default; first order, an M-matrix for every ``dt`` and Péclet number:
      no new extrema in a divergence-free flow) or ``"central"`` (second order
      in space, bounded while the cell Péclet number is below 2). Solved with
      a KSP (GMRES + block Jacobi with ILU(0) blocks by default - on these
      non-symmetric, advection-dominated operators GAMG was slower or failed,
      see docs/benchmarks.md - ``rtol =
      1e-12``; options prefix ``<name>_``); the operator is rebuilt when the
      velocity changes.
    * ``method="explicit"``: SSP Runge-Kutta 2 (Heun) with ``scheme="tvd"``
      (default; van Leer limiter, second order where smooth, total variation
      diminishing), ``"upwind"`` or ``"central"``. Each step is split into the
      fewest equal sub-steps within the positivity bound
      (:func:`msm_fluid.advection.stable_step`), so any ``dt`` is safe.

    Ports
    -----
    state_out (output)
        ``T`` at the cell centres, shape ``(nx, ny)`` (the state).
    velocity_in (optional input)
        Cell-centre velocity, shape ``(nx, ny, 2)`` (``u``, ``v``). Until it is
        received, the ``velocity`` setting gives the flow. Checked finite.
    source_in (optional input)
        Source ``s`` in ``units/s``.
    buoyancy_out (output)
        Boussinesq buoyancy force density ``-density expansion (T - reference) gravity``,
        shape ``(nx, ny, 2)``, in ``N/m^3`` (``fluid.navier_stokes``' ``force_in``;
        with the default gravity, ``(0, 9.81 rho beta (T - T_ref))``).

    Boundary conditions per side (``left``, ``right``, ``bottom``, ``top``):
    ``("dirichlet", T_b)`` or ``("neumann", q)`` with ``q = -kappa dT/dn`` the
    outward diffusive flux (``"insulated"``: ``q = 0``). Sides are walls
    (no normal flow) unless listed in ``open``.

    Notes
    -----
    The DMDA is built on :attr:`comm` and split over its ranks; each port
    array is the owned box (``(lx, ly)`` or ``(lx, ly, 2)``) and
    :meth:`port_indices` says where it sits. Collective: the first
    :meth:`port_array`, :meth:`initialize`, :meth:`step` and :meth:`finalize`.

    State: ``T``, the input arrays, ``buoyancy_out``, ``t`` and whether
    ``velocity_in`` was received (:attr:`state_attributes`); the operator and
    KSP are caches rebuilt from the velocity. :meth:`finalize` destroys every
    PETSc object; :meth:`initialize` starts afresh.
    """

    state_attributes = ("velocity_received",)

    origin = msm.Setting(ORIGIN_PAIR, default=(0.0, 0.0), units="m", doc="lower-left corner (x0, y0)")
    size = msm.Setting(SIZE_PAIR, units="m", doc="width and height")
    cells = msm.Setting(_cell_counts, default=None, doc="cells (nx, ny): a cell-centred grid")
    nodes = msm.Setting(_node_counts, default=None, doc="nodes (nx, ny), boundary included: a vertex-centred grid")
    kappa = msm.Setting(float, minimum=0.0, units="m^2/s", doc="diffusivity (0: pure advection)")
    dt = msm.Setting(float, minimum=0.0, units="s", doc="time step")
    method = msm.Setting(str, default="implicit", choices=("implicit", "explicit"),
                         doc="backward Euler (KSP) or SSP Runge-Kutta 2")
    scheme = msm.Setting(str, default="auto", choices=("auto", *SCHEMES),
                         doc="face values: auto = upwind (implicit) or tvd (explicit)")
    left = msm.Setting(_side_bc, default=("neumann", 0.0), doc="boundary condition of the side x = x0")
    right = msm.Setting(_side_bc, default=("neumann", 0.0), doc="boundary condition of the side x = x0 + width")
    bottom = msm.Setting(_side_bc, default=("neumann", 0.0), doc="boundary condition of the side y = y0")
    top = msm.Setting(_side_bc, default=("neumann", 0.0), doc="boundary condition of the side y = y0 + height")
    open = msm.Setting(_open_sides, default=frozenset(), doc="sides the flow crosses (others are walls)")
    initial = msm.Setting(space_time_function, default=0.0, doc="initial field T0(x, y, t_start)")
    velocity = msm.Setting(_velocity, default=(0.0, 0.0), units="m/s",
                           doc="flow (ux, uy)(x, y, t) used until velocity_in is received")
    constants = msm.Setting(constants_mapping, default={}, doc="names usable in expressions")
    gravity = msm.Setting(_vector, default=(0.0, -9.81), units="m/s^2", doc="gravity vector for buoyancy_out")
    expansion = msm.Setting(float, default=0.0, doc="expansion coefficient beta (per unit of T) for buoyancy_out")
    density = msm.Setting(float, default=1.0, units="kg/m^3", doc="reference density rho for buoyancy_out")
    reference = msm.Setting(float, default=0.0, doc="reference value T_ref for buoyancy_out")
    units = msm.Setting(str, default="1", doc="units of T")
    ksp_type = msm.Setting(str, default="gmres", doc="PETSc KSP type (implicit)")
    pc_type = msm.Setting(str, default="bjacobi", doc="PETSc PC type (implicit): block Jacobi, ILU(0) blocks")
    ksp_rtol = msm.Setting(float, default=1e-12, minimum=0.0, doc="relative tolerance of the KSP")

    def __init__(self, name: str | None = None, **settings: Any) -> None:
        super().__init__(name, **settings)
        where = f"component '{self.name}'"
        if not self.dt > 0:
            raise msm.ConfigurationError(f"{where}: setting 'dt' must be > 0, got {self.dt}")
        self.scheme_used = self.scheme if self.scheme != "auto" else (
            "upwind" if self.method == "implicit" else "tvd")
        if self.method == "implicit" and self.scheme_used == "tvd":
            raise msm.ConfigurationError(
                f"{where}: scheme='tvd' is non-linear and only runs with method='explicit'; for a bounded "
                "implicit scheme use scheme='upwind' (an M-matrix at every Péclet number)")
        if (self.cells is None) == (self.nodes is None):
            raise msm.ConfigurationError(
                f"{where}: give exactly one of 'cells' (cell-centred grid) and 'nodes' (vertex-centred, "
                f"boundary included); got cells={self.cells}, nodes={self.nodes}")
        self.node_grid = self.nodes is not None
        points = self.nodes if self.nodes is not None else self.cells
        assert points is not None  # exactly one of the two is given (checked above)
        self.points: tuple[int, int] = points
        self.sides = Sides(
            kind={s: getattr(self, s)[0] for s in SIDES},
            value={s: getattr(self, s)[1] for s in SIDES},
            open=self.open, nodes=self.node_grid)
        try:
            self._T0 = bind_function(self.initial, self.constants, f"setting 'initial' of {where}")
            self._vel = tuple(bind_function(v, self.constants, f"setting 'velocity' of {where}")
                              for v in self.velocity)
        except ValueError as exc:
            raise msm.ConfigurationError(str(exc)) from None
        gaps = tuple(n - 1 if self.node_grid else n for n in self.points)
        self.spacing: tuple[float, float] = (self.size[0] / gaps[0], self.size[1] / gaps[1])
        offset = 0.0 if self.node_grid else 0.5
        self._coords = {a: self.origin[k] + (np.arange(n) + offset) * self.spacing[k]
                        for k, (a, n) in enumerate(zip("xy", self.points, strict=True))}
        self.velocity_received = False
        self._grid: CellGrid | None = None
        self._grid_comm: Any = None
        self._pad: Padded | None = None
        self._vecs: dict[str, PETSc.Vec] = {}
        self._A: PETSc.Mat | None = None
        self._b: np.ndarray | None = None
        self._A_key: tuple[float, np.ndarray] | None = None
        self._ksp: PETSc.KSP | None = None
        self._mpi: Any = None
        self._X = self._Y = np.empty((0, 0))

    # -- ports -------------------------------------------------------------------
    def declare_ports(self) -> list[msm.Port]:
        """``state_out``, ``velocity_in``, ``source_in``, ``buoyancy_out`` (cell-centre coordinates)."""
        length = type(self).size.units
        shape = self.points
        common: dict[str, Any] = dict(coords=dict(self._coords), coord_units=length)
        return [
            msm.Port.output("state_out", shape, units=self.units, doc="the scalar field (the state)", **common),
            msm.Port.input("velocity_in", shape, components=2, units="m/s", required=False,
                           value_names=("u", "v"), value_dim="component", doc="cell-centre velocity",
                           **common),
            msm.Port.input("source_in", shape, units=f"{self.units}/s", required=False, doc="source s",
                           **common),
            msm.Port.output("buoyancy_out", shape, components=2, units="N/m^3", value_names=("fx", "fy"),
                            value_dim="component", doc="-density expansion (T - reference) gravity", **common),
        ]

    def port_array(self, name: str) -> np.ndarray:
        """The owned-box array of port ``name`` (``state_out``'s is the state Vec's memory)."""
        self.port(name)
        if self._grid is None and "state_out" not in self._arrays:
            self._ensure_grid()
        return self._arrays[name]

    def port_indices(self, name: str) -> np.ndarray:
        """Flat C-order indices into the whole port array of this rank's values."""
        self.port(name)
        if self._grid is None and "state_out" not in self._arrays:
            self._ensure_grid()
        natural = self._natural
        if self.port(name).spec.components == 2:
            return (natural[:, None] * 2 + np.arange(2)).reshape(-1)
        return natural.copy()

    @property
    def grid(self) -> CellGrid:
        """The cell grid (built on first use on :attr:`comm`)."""
        if self._grid is None and "state_out" in self._arrays:
            raise msm.CouplingError(f"component '{self.name}' (fluid.advection_diffusion): grid was asked "
                                    "for after finalize(); call initialize() first")
        return self._ensure_grid()

    def _ensure_grid(self) -> CellGrid:
        if self._grid is not None:
            return self._grid
        width = 2 if self.scheme_used == "tvd" else 1
        try:
            if self.node_grid:
                grid: CellGrid = NodeGrid(self.points, self.size, self.origin, self.comm, stencil_width=width)
            else:
                grid = CellGrid(self.points, self.spacing, self.comm, stencil_width=width)
        except ValueError as exc:
            raise msm.ConfigurationError(f"component '{self.name}': {exc}") from None
        dtype = np.dtype(PETSc.ScalarType)
        ls = grid.local_shape
        self._arrays = {
            "state_out": np.zeros(ls, dtype=dtype),
            "velocity_in": np.zeros((*ls, 2), dtype=dtype),
            "source_in": np.zeros(ls, dtype=dtype),
            "buoyancy_out": np.zeros((*ls, 2), dtype=dtype),
        }
        self._ux, self._uy, self._work = (np.zeros(ls, dtype=dtype) for _ in range(3))
        self._vecs = {"T": grid.create_vec(self._arrays["state_out"]), "ux": grid.create_vec(self._ux),
                      "uy": grid.create_vec(self._uy), "work": grid.create_vec(self._work)}
        self._rhs = np.zeros(ls, dtype=dtype)
        self._vecs["rhs"] = grid.create_vec(self._rhs)
        self._pad = Padded(grid, width)
        self._held, self._held_values = self.sides.held(grid)
        self._natural = grid.natural_indices()
        (o0, e0), (o1, e1) = grid.owned
        self._X, self._Y = np.meshgrid(self._coords["x"][o0:e0], self._coords["y"][o1:e1], indexing="ij")
        self._mpi = grid.comm.tompi4py() if grid.comm.getSize() > 1 else None
        self._grid, self._grid_comm = grid, self.comm
        return grid

    # -- lifecycle -------------------------------------------------------------------
    def initialize(self) -> None:
        """Build the grid, set ``T = initial(x, y, t)``, the velocity from the setting, and the buoyancy."""
        if self._grid is not None and self.comm is not self._grid_comm:
            self._destroy()
        if self._grid is None:
            self._arrays = {}
        self._ensure_grid()
        self._destroy_solver()
        self.velocity_received = False
        for key in ("velocity_in", "source_in"):
            self._arrays[key][...] = 0.0
        T = self._arrays["state_out"]
        T[...] = self._evaluate(self._T0, "initial", self.t)
        T[self._held] = self._held_values[self._held]
        self._set_velocity(self.t)
        self._buoyancy()
        logger.info("component '%s': %s %s advection-diffusion on %s %s of %s, kappa=%g, dt=%g",
                    self.name, self.method, self.scheme_used, self.points, "nodes" if self.node_grid else "cells",
                    self.size, self.kappa, self.dt)

    def receive(self, port: str) -> None:
        """``velocity_in`` replaces the ``velocity`` setting from now on; inputs are read at each step."""
        self.port(port)
        if port == "velocity_in":
            self.velocity_received = True

    def step(self, dt: float) -> None:
        """One step from ``t`` to ``t + dt`` (implicit Euler, or explicit SSP-RK2 sub-steps)."""
        if self._grid is None:
            raise msm.CouplingError(f"component '{self.name}': step() before initialize() (or after "
                                    "finalize()); call initialize() first")
        self._set_velocity(self.t)
        Ux, Uy = self._faces()
        if self.method == "implicit":
            self._implicit(dt, Ux, Uy)
        else:
            self._explicit(dt, Ux, Uy)
        self._buoyancy()

    # -- numerics ----------------------------------------------------------------------
    def _set_velocity(self, t: float) -> None:
        """Velocity of this step: ``velocity_in`` if received (checked finite), else the setting."""
        vel = self._arrays["velocity_in"]
        error: msm.MSMError | None = None
        if self.velocity_received:
            bad = ~np.isfinite(vel)
            if bad.any():
                cell = np.argwhere(bad)[0]
                where = tuple(int(i) + s for i, (s, _) in zip(cell[:2], self._grid.owned, strict=True))  # type: ignore[union-attr]
                error = msm.CouplingError(
                    f"component '{self.name}': port 'velocity_in' holds a non-finite value "
                    f"({vel[tuple(cell)]}) at cell {where}, component {int(cell[2])}, t={t:g}")
            else:
                self._ux[...], self._uy[...] = vel[..., 0], vel[..., 1]
        else:
            try:
                self._ux[...] = self._evaluate(self._vel[0], "velocity", t)
                self._uy[...] = self._evaluate(self._vel[1], "velocity", t)
            except msm.MSMError as exc:
                error = exc
        self._agree(error)

    def _faces(self) -> tuple[np.ndarray, np.ndarray]:
        pad, grid = self._pad, self._grid
        assert pad is not None and grid is not None
        for key in ("ux", "uy"):
            self._vecs[key].stateIncrease()
        return face_velocities(grid, self.sides, pad.fill(self._vecs["ux"]), pad.fill(self._vecs["uy"]), pad.w)

    def _rate(self, T_vec: PETSc.Vec, Ux: np.ndarray, Uy: np.ndarray) -> np.ndarray:
        pad, grid = self._pad, self._grid
        assert pad is not None and grid is not None
        T_vec.stateIncrease()
        r = rate(grid, self.sides, pad.fill(T_vec), Ux, Uy, self.kappa, self.scheme_used, pad.w)
        return r + self._arrays["source_in"]

    def _explicit(self, dt: float, Ux: np.ndarray, Uy: np.ndarray) -> None:
        grid = self._grid
        assert grid is not None
        limit = stable_step(grid, Ux, Uy, self.kappa, self.scheme_used)
        if self._mpi is not None:
            from mpi4py import MPI

            limit = self._mpi.allreduce(limit, op=MPI.MIN)
        n = max(1, math.ceil(dt / limit * (1.0 - 1e-12))) if math.isfinite(limit) else 1
        h = dt / n
        T, work, vT, vw = self._arrays["state_out"], self._work, self._vecs["T"], self._vecs["work"]
        for _ in range(n):  # Heun / SSP-RK2: T1 = T + h L(T); T = (T + T1 + h L(T1)) / 2
            work[...] = T + h * self._rate(vT, Ux, Uy)
            T[...] = 0.5 * (T + work + h * self._rate(vw, Ux, Uy))
        vT.stateIncrease()

    def _implicit(self, dt: float, Ux: np.ndarray, Uy: np.ndarray) -> None:
        grid = self._grid
        assert grid is not None
        key_u = np.concatenate([Ux.ravel(), Uy.ravel()])
        same = self._A_key is not None and self._A_key[0] == dt and np.array_equal(self._A_key[1], key_u)
        if self._mpi is not None:
            from mpi4py import MPI

            same = bool(self._mpi.allreduce(same, op=MPI.LAND))
        if not same:
            self._A, self._b = assemble_operator(grid, self.sides, Ux, Uy, self.kappa, self.scheme_used, dt,
                                                 self._A)
            self._A_key = (dt, key_u)
            if self._ksp is None:
                ksp = PETSc.KSP().create(comm=grid.comm)
                ksp.setOptionsPrefix(re.sub(r"\W", "_", self.name) + "_")
                ksp.setType(self.ksp_type)
                ksp.getPC().setType(self.pc_type)
                ksp.setTolerances(rtol=self.ksp_rtol, atol=0.0)
                ksp.setInitialGuessNonzero(True)
                ksp.setFromOptions()
                self._ksp = ksp
            self._ksp.setOperators(self._A)
            self._ksp.setUp()
        assert self._ksp is not None and self._b is not None
        T = self._arrays["state_out"]
        self._rhs[...] = T + dt * (self._b + self._arrays["source_in"])
        self._rhs[self._held] = self._held_values[self._held]
        self._vecs["rhs"].stateIncrease()
        self._vecs["T"].stateIncrease()
        self._ksp.solve(self._vecs["rhs"], self._vecs["T"])
        reason = self._ksp.getConvergedReason()
        if reason < 0:
            raise msm.ConvergenceError(
                f"component '{self.name}': the implicit solve at t={self.t:g} did not converge (reason "
                f"{reason} after {self._ksp.getIterationNumber()} iterations); try other 'ksp_type'/"
                "'pc_type' settings, a looser 'ksp_rtol' or a smaller 'dt'")

    def _buoyancy(self) -> None:
        T, f = self._arrays["state_out"], self._arrays["buoyancy_out"]
        for k in range(2):
            f[..., k] = -self.density * self.expansion * (T - self.reference) * self.gravity[k]

    def _evaluate(self, func: Any, setting: str, t: float) -> np.ndarray:
        try:
            values = func(self._X, self._Y, t)
        except Exception as exc:
            raise msm.ConfigurationError(f"setting '{setting}' of component '{self.name}' failed at "
                                         f"t={t:g}: {exc}") from exc
        if not np.all(np.isfinite(values)):
            raise msm.ConfigurationError(f"setting '{setting}' of component '{self.name}' is not finite "
                                         f"at t={t:g}")
        return values

    def _agree(self, error: Exception | None) -> None:
        """Raise ``error`` here and a matching error on the other ranks (collective)."""
        if self._mpi is None:
            if error is not None:
                raise error
            return
        reports = self._mpi.allgather(None if error is None else str(error))
        if error is not None:
            raise error
        first = next((r for r in reports if r is not None), None)
        if first is not None:
            raise msm.CouplingError(f"{first} (reported by another rank of the component)")

    # -- lifetime ----------------------------------------------------------------------
    def finalize(self) -> None:
        """Destroy every PETSc object; the port arrays stay readable."""
        self._destroy()

    def _destroy_solver(self) -> None:
        for obj in (self._ksp, self._A):
            if obj is not None:
                obj.destroy()
        self._ksp = self._A = None
        self._A_key = self._b = None

    def _destroy(self) -> None:
        self._destroy_solver()
        for vec in self._vecs.values():
            vec.destroy()
        self._vecs = {}
        if self._pad is not None:
            self._pad.destroy()
        self._pad = None
        if self._grid is not None:
            self._grid.destroy()
        self._grid = self._grid_comm = self._mpi = None
