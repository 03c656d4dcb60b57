"""The ``fluid.navier_stokes`` component: 2D incompressible Navier–Stokes on grid nodes (PETSc DMDA)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
from petsc4py import PETSc

import msmcore as msm
from msm_fluid._convert import ORIGIN_PAIR, SIZE_PAIR, count_pair, positive_float
from msm_fluid._expr import bind_function, constants_mapping, space_time_function
from msm_fluid.navier_stokes_bc import EDGE_NAMES, Boundaries, parse_boundaries
from msm_fluid.navier_stokes_discrete import Physics
from msm_fluid.navier_stokes_pressure import PressureSolver
from msm_fluid.navier_stokes_solver import OptionsError, StreamVorticitySolver
from msmcore.settings import Converter, to_number

__all__ = ["NavierStokes"]

logger = logging.getLogger(__name__)

_FIELD_PORTS = ("velocity_out", "pressure_out", "vorticity_out", "streamfunction_out", "force_in")
_SCHEMES = {"backward-euler": 1.0, "crank-nicolson": 0.5}


def _walls(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a mapping edge -> tangential speed, got {value!r}")
    out = {}
    for edge, speed in value.items():
        if edge not in EDGE_NAMES:
            raise ValueError(f"unknown edge {edge!r}; edges are {list(EDGE_NAMES)}")
        out[str(edge)] = to_number(speed, f"speed of edge {edge!r}")
    return out


def _options(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a mapping option -> value, got {value!r}")
    return {str(k).lstrip("-"): "" if v is None else str(v) for k, v in value.items()}


_node_counts = count_pair(5, "nodes", "the wall formulas reach 2 nodes in")
_boundary = Converter("a mapping edge -> 'wall', 'slip', 'inflow' (left) or 'outflow' (right)", parse_boundaries)
_wall_speeds = Converter("a mapping edge -> tangential wall speed", _walls)
_petsc_options = Converter("a mapping of PETSc option names to values", _options)


class NavierStokes(msm.Component):
    """2D incompressible Navier–Stokes, steady (Newton) or implicit in time, on a DMDA.

    Formulation: stream function ``psi`` and vorticity ``omega`` at the grid
    nodes (2 dof per node on a PETSc DMDA), second-order central differences
    for every term, Jensen's second-order wall vorticity; the pressure comes
    from a pressure-Poisson post-solve; see
    :mod:`msm_fluid.navier_stokes_discrete` and
    :mod:`msm_fluid.navier_stokes_pressure`. A body force enters through its
    curl (its curl-free part is balanced by the pressure).
    ``mode="steady"``: every :meth:`advance` solves the steady equations with
    the current inputs by Newton's method (analytic Jacobian, GMRES +
    ILU/ASM), starting from the last solution; the first solve of a run with
    a Reynolds number ``rho U L / mu`` above ``continuation_start``
    (``U``: the largest wall/inflow speed, ``L``: the larger side) goes there
    by continuation in the viscosity. ``mode="transient"``: steps of ``dt``,
    backward Euler or Crank–Nicolson, one Newton solve per step.

    Ports
    -----
    velocity_out, pressure_out, vorticity_out, streamfunction_out (outputs)
        Shape ``(nx, ny)`` (velocity: 2 components ``u``, ``v``), coordinates
        ``x``, ``y`` of the nodes (m); units m/s, Pa, 1/s, m^2/s. The
        pressure is 0 on an outflow edge, otherwise of zero mean over the nodes.
    force_in (optional input)
        Body-force density ``(fx, fy)`` in N/m^3 at the nodes.
    wall_velocity_in (optional input)
        Shape ``(4,)``: tangential speed (m/s) of the left, right, bottom and
        top edges (along +y for left/right, +x for bottom/top); replaces
        ``wall_velocity`` once received. Only walls may move.

    Notes
    -----
    The DMDA is built on :attr:`comm` and split over its ranks; every field
    port is this rank's owned box (:meth:`port_indices`), and results equal a
    serial run's to the solver tolerance. Collective over :attr:`comm`: the
    first :meth:`port_array`/:meth:`port_indices`, :meth:`initialize`,
    :meth:`advance`/:meth:`step` and :meth:`finalize`. PETSc options with the
    prefix ``<name>_`` (pressure: ``<name>_pressure_``) override the
    defaults, as do entries of ``petsc_options``.

    State (:meth:`save_state`): the solution (``psi``, ``omega``: the
    transient state and the steady Newton guess), whether a steady solution
    has been reached (no continuation then), the wall speeds in use, the
    input and output arrays and ``t``. :meth:`finalize` destroys every PETSc
    object; :meth:`initialize` rebuilds them and starts afresh.
    """

    nodes = msm.Setting(_node_counts, doc="grid nodes (nx, ny), boundary nodes included")
    size = msm.Setting(SIZE_PAIR, default=(1.0, 1.0), units="m", doc="width and height of the box")
    origin = msm.Setting(ORIGIN_PAIR, default=(0.0, 0.0), units="m", doc="lower-left corner (x0, y0)")
    density = msm.Setting(positive_float, default=1.0, units="kg/m^3", doc="density rho")
    viscosity = msm.Setting(positive_float, units="Pa s", doc="dynamic viscosity mu (Re = rho U L / mu)")
    mode = msm.Setting(str, default="steady", choices=("steady", "transient"), doc="steady or time-dependent")
    dt = msm.Setting(positive_float, default=None, units="s", doc="time step (transient)")
    time_scheme = msm.Setting(str, default="backward-euler", choices=tuple(_SCHEMES), doc="transient scheme")
    boundary = msm.Setting(_boundary, default={}, doc="edge -> kind; edges not named are walls")
    wall_velocity = msm.Setting(_wall_speeds, default={}, units="m/s", doc="edge -> tangential wall speed")
    inflow = msm.Setting(space_time_function, default=0.0, units="m/s",
                         doc="normal velocity u(x, y, t) of an inflow (left) edge")
    initial_streamfunction = msm.Setting(space_time_function, default=0.0, units="m^2/s",
                                         doc="initial psi(x, y, t)")
    initial_vorticity = msm.Setting(space_time_function, default=0.0, units="1/s", doc="initial omega(x, y, t)")
    constants = msm.Setting(constants_mapping, default={}, doc="names usable in expressions")
    continuation_start = msm.Setting(positive_float, default=100.0, doc="Reynolds number of the first solve")
    continuation_factor = msm.Setting(positive_float, default=2.5, minimum=1.01,
                                      doc="ratio of successive Reynolds numbers")
    snes_rtol = msm.Setting(positive_float, default=1e-8,
                            doc="Newton tolerance, relative to the residual of the fluid at rest")
    jacobian = msm.Setting(str, default="analytic", choices=("analytic", "fd"),
                           doc="Newton's Jacobian: assembled, or finite differences with the DMDA colouring")
    pressure_rtol = msm.Setting(positive_float, default=1e-10, doc="relative tolerance of the pressure solve")
    petsc_options = msm.Setting(_petsc_options, default={}, doc="PETSc options for the Newton solver")

    def __init__(self, name: str | None = None, **settings: Any) -> None:
        super().__init__(name, **settings)
        bc = self.boundary
        self.bc: Boundaries = bc if isinstance(bc, Boundaries) else parse_boundaries(bc)
        for edge, speed in self.wall_velocity.items():
            if speed != 0.0 and not self.bc.is_wall(edge):
                raise msm.ConfigurationError(
                    f"component '{self.name}': setting 'wall_velocity' gives edge {edge!r} the speed {speed:g}, "
                    f"but that edge is {self.bc.kinds[edge]!r}; only a 'wall' moves")
        if self.mode == "transient" and self.dt is None:
            raise msm.ConfigurationError(f"component '{self.name}': mode='transient' needs the setting 'dt'")
        funcs = {}
        for key in ("inflow", "initial_streamfunction", "initial_vorticity"):
            try:
                funcs[key] = bind_function(getattr(self, key), self.constants,
                                           f"setting '{key}' of component '{self.name}'")
            except ValueError as exc:
                raise msm.ConfigurationError(str(exc)) from None
        self._funcs = funcs
        nx, ny = self.nodes
        self.spacing: tuple[float, float] = (self.size[0] / (nx - 1), self.size[1] / (ny - 1))
        self._coords = {"x": np.linspace(self.origin[0], self.origin[0] + self.size[0], nx),
                        "y": np.linspace(self.origin[1], self.origin[1] + self.size[1], ny)}
        self._solver: StreamVorticitySolver | None = None
        self._pressure: PressureSolver | None = None
        self._solver_comm: Any = None
        self._out: dict[str, np.ndarray] = {}
        self._wall = self._setting_walls()
        self._solved = False
        self.newton_iterations = 0  # of the last advance (diagnostics)

    def _setting_walls(self) -> np.ndarray:
        return np.array([self.wall_velocity.get(e, 0.0) for e in EDGE_NAMES], dtype=float)

    # -- ports ----------------------------------------------------------------
    def declare_ports(self) -> list[msm.Port]:
        """The field ports (node coordinates) and ``wall_velocity_in``."""
        nodes, c = self.nodes, self._coords
        field: dict[str, Any] = dict(coords=c, coord_units="m")
        edge_pts = np.array([[c["x"][0], c["y"].mean()], [c["x"][-1], c["y"].mean()],
                             [c["x"].mean(), c["y"][0]], [c["x"].mean(), c["y"][-1]]])
        return [
            msm.Port.output("velocity_out", nodes, units="m/s", components=2, value_names=("u", "v"),
                            value_dim="component", doc="velocity (u, v) at the nodes", **field),
            msm.Port.output("pressure_out", nodes, units="Pa", doc="pressure at the nodes", **field),
            msm.Port.output("vorticity_out", nodes, units="1/s", doc="vorticity dv/dx - du/dy", **field),
            msm.Port.output("streamfunction_out", nodes, units="m^2/s", doc="stream function", **field),
            msm.Port.input("force_in", nodes, units="N/m^3", components=2, value_names=("fx", "fy"),
                           value_dim="component", required=False, doc="body-force density", **field),
            msm.Port.input("wall_velocity_in", 4, units="m/s", coords={"points": edge_pts}, coord_units="m",
                           required=False, doc="tangential speed of the left, right, bottom, top edges"),
        ]

    def port_array(self, name: str) -> np.ndarray:
        """The array behind port ``name``: this rank's owned box for the field ports."""
        if name not in _FIELD_PORTS:
            return super().port_array(name)
        if self._solver is None and not self._out:
            self._ensure_solver()
        return self._out[name]

    def port_indices(self, name: str) -> np.ndarray:
        """Flat C-order indices into the whole port array of this rank's entries."""
        if name not in _FIELD_PORTS:
            return super().port_indices(name)
        if self._solver is None and not self._out:
            self._ensure_solver()
        (i0, i1), (j0, j1) = self._owned
        ii, jj = np.meshgrid(np.arange(i0, i1), np.arange(j0, j1), indexing="ij")
        natural = (ii * self.nodes[1] + jj).ravel().astype(np.int64)
        if self.port(name).spec.components == 2:
            return (2 * natural[:, None] + np.arange(2)).ravel()
        return natural

    def _ensure_solver(self) -> StreamVorticitySolver:
        if self._solver is not None:
            return self._solver
        prefix = re.sub(r"\W", "_", self.name) + "_"
        try:
            solver = StreamVorticitySolver(self.nodes, self.spacing, self.bc, self.comm, prefix,
                                           self.petsc_options, self.snes_rtol, 1e-50, self.jacobian)
        except OptionsError as exc:
            raise msm.ConfigurationError(f"component '{self.name}': {exc}; check the setting 'petsc_options' "
                                         f"{self.petsc_options}") from None
        except (PETSc.Error, ValueError) as exc:
            why = f"PETSc error {exc.ierr}" if isinstance(exc, PETSc.Error) else str(exc)
            raise msm.ConfigurationError(
                f"component '{self.name}': cannot build the grid {self.nodes} on "
                f"{1 if self.comm is None else self.comm.Get_size()} rank(s) ({why}); "
                "use fewer ranks or more nodes") from None
        self._pressure = PressureSolver(solver.da, solver.layout, prefix + "pressure_", self.pressure_rtol)
        self._owned = solver.layout.owned
        lnx, lny = solver.local_shape
        self._out = {"velocity_out": np.zeros((lnx, lny, 2)), "pressure_out": np.zeros((lnx, lny)),
                     "vorticity_out": np.zeros((lnx, lny)), "streamfunction_out": np.zeros((lnx, lny)),
                     "force_in": solver.force}
        self._solver, self._solver_comm = solver, self.comm
        return solver

    # -- lifecycle ------------------------------------------------------------
    def initialize(self) -> None:
        """Build the solver on :attr:`comm` and set the initial fields: a fresh start (collective)."""
        if self._solver is not None and self.comm is not self._solver_comm:
            self._destroy()
        if self._solver is None:
            self._out = {}
        solver = self._ensure_solver()
        self._wall = self._setting_walls()
        self._solved = False
        self.newton_iterations = 0
        super().port_array("wall_velocity_in")[...] = 0.0
        solver.force[...] = 0.0
        X, Y = self._owned_xy()
        sol = solver.solution
        sol[..., 0] = self._funcs["initial_streamfunction"](X, Y, self.t)
        sol[..., 1] = self._funcs["initial_vorticity"](X, Y, self.t)
        self._update_outputs()
        logger.info("component '%s': %s Navier-Stokes on %s nodes, boundaries %s", self.name, self.mode,
                    self.nodes, dict(self.bc.kinds))

    def _owned_xy(self) -> tuple[np.ndarray, np.ndarray]:
        (i0, i1), (j0, j1) = self._owned
        return np.meshgrid(self._coords["x"][i0:i1], self._coords["y"][j0:j1], indexing="ij")

    def receive(self, port: str) -> None:
        """``wall_velocity_in``: the new wall speeds (a non-zero speed of a non-wall edge is an error)."""
        if port == "wall_velocity_in":
            values = np.asarray(super().port_array(port), dtype=float).reshape(-1)
            if values.size == 4:
                self._check_walls(values, "port 'wall_velocity_in'")
                mask = self.delivered(port)
                keep = np.zeros(4, bool) if mask is None else ~np.asarray(mask, bool).reshape(-1)
                self._wall = np.where(keep, self._wall, values)
        elif port not in self.ports:
            super().port(port)

    def _check_walls(self, values: np.ndarray, where: str) -> None:
        for edge, speed in zip(EDGE_NAMES, values, strict=True):
            if not np.isfinite(speed):
                raise msm.CouplingError(f"component '{self.name}': {where} gives edge {edge!r} the speed {speed}")
            if speed != 0.0 and not self.bc.is_wall(edge):
                raise msm.CouplingError(
                    f"component '{self.name}': {where} gives edge {edge!r} the speed {speed:g}, but that "
                    f"edge is {self.bc.kinds[edge]!r}; only a 'wall' moves (send 0 there)")

    def time_step(self) -> float | None:
        """``dt`` when transient; ``None`` when steady (any window: one steady solve per advance)."""
        return self.dt if self.mode == "transient" else None

    def _sync_walls(self) -> None:
        comm = self._ensure_solver().comm
        if comm.getSize() > 1:
            self._wall = comm.tompi4py().bcast(self._wall if comm.getRank() == 0 else None, root=0)

    def _physics(self, t: float, factor: float = 1.0) -> Physics:
        """The data the rows read at time ``t``, with the viscosity times ``factor``."""
        solver = self._ensure_solver()
        (j0, j1) = self._owned[1]
        y = self._coords["y"]
        self._check_force(solver)
        phys = Physics(nu=factor * self.viscosity / self.density, rho=self.density, wall=self._wall.copy(),
                       curl=solver.force_curl())
        if self.bc.inflow:
            f = self._funcs["inflow"]
            x0, h = self._coords["x"][0], self.spacing[1]
            u = f(np.full(y.shape, x0), y, t)
            mid = f(np.full(y.size - 1, x0), 0.5 * (y[1:] + y[:-1]), t)
            psi = np.concatenate(([0.0], np.cumsum(h / 6.0 * (u[:-1] + 4.0 * mid + u[1:]))))  # Simpson
            dudy = (f(np.full(y.shape, x0), y + h / 2, t) - f(np.full(y.shape, x0), y - h / 2, t)) / h
            if not (np.all(np.isfinite(u)) and np.all(np.isfinite(dudy))):
                raise msm.ConfigurationError(f"component '{self.name}': setting 'inflow' is not finite at t={t:g}")
            phys.psi_top, phys.psi_in, phys.omega_in, phys.u_in = float(psi[-1]), psi[j0:j1], -dudy[j0:j1], u[j0:j1]
        return phys

    def _check_force(self, solver: StreamVorticitySolver) -> None:
        """A non-finite ``force_in`` on any rank is a :class:`~msmcore.CouplingError` (collective)."""
        bad = np.argwhere(~np.isfinite(solver.force))
        (i0, _), (j0, _) = self._owned
        where = f"node {(int(bad[0][0]) + i0, int(bad[0][1]) + j0)}" if bad.size else ""
        if solver.comm.getSize() > 1:
            where = next((w for w in solver.comm.tompi4py().allgather(where) if w), "")
        if where:
            raise msm.CouplingError(f"component '{self.name}': port 'force_in' is not finite at {where} "
                                    f"(and {max(len(bad) - 1, 0)} more values on this rank)")

    def _reynolds(self, phys: Physics) -> float:
        speed = max(float(np.max(np.abs(phys.wall))), float(np.max(np.abs(phys.u_in), initial=0.0)))
        if self.bc.inflow:
            speed = max(speed, abs(phys.psi_top) / self.size[1])
        comm = self._ensure_solver().comm
        if comm.getSize() > 1:
            from mpi4py import MPI
            speed = comm.tompi4py().allreduce(speed, op=MPI.MAX)
        return self.density * speed * max(self.size) / self.viscosity

    def advance(self, t_end: float) -> None:
        """Steady: solve at ``t_end`` with the current inputs; transient: steps of ``dt`` (collective)."""
        if self.mode == "transient":
            self.newton_iterations = 0
            super().advance(t_end)
            return
        solver = self._ensure_solver()
        self._sync_walls()
        phys = self._physics(t_end)
        self._set_tolerance(phys)
        re_number = self._reynolds(phys)
        if not self._solved and re_number > self.continuation_start:
            factors = []
            r = self.continuation_start
            while r < re_number:
                factors.append(re_number / r)
                r *= self.continuation_factor
            factors.append(1.0)
            reason, its, reached = self._solve(
                lambda: solver.continuation(lambda f: self._physics(t_end, f), factors),
                f"continuation to Re={re_number:.4g}", t_end)
            what = f"continuation to Re={re_number:.4g} (reached viscosity x {reached:.4g})"
        else:
            what = f"steady solve (Re={re_number:.4g})"
            reason, its = self._solve(lambda: solver.solve(phys), what, t_end)
        self.newton_iterations = its
        self._check(reason, what, t_end)
        self._solved = True
        self.t = t_end
        self._update_outputs(phys)

    def step(self, dt: float) -> None:
        """One implicit step of length ``dt`` (transient mode; collective)."""
        if self.mode != "transient":
            raise msm.CouplingError(f"component '{self.name}': step() is for mode='transient'; use advance()")
        solver = self._ensure_solver()
        self._sync_walls()
        theta = _SCHEMES[self.time_scheme]
        phys = self._physics(self.t + dt)
        phys.dt, phys.theta = dt, theta
        phys.omega_old = solver.solution[..., 1].copy()
        phys.n_old = solver.operator(self._physics(self.t)) if theta < 1.0 else np.zeros(solver.local_shape)
        self._set_tolerance(phys)
        what = f"time step {self.t:g} -> {self.t + dt:g}"
        reason, its = self._solve(lambda: solver.solve(phys), what, self.t + dt)
        self.newton_iterations += its
        self._check(reason, what, self.t + dt)
        self._solved = True
        self._update_outputs(phys, self._inflow_rate(self.t + dt, dt))

    def _inflow_rate(self, t: float, dt: float) -> np.ndarray | None:
        """``du/dt`` of the inflow at the owned left-edge nodes at ``t`` (central, over ``dt``)."""
        if not (self.bc.inflow and self._owned[0][0] == 0):
            return None
        (j0, j1) = self._owned[1]
        y = self._coords["y"][j0:j1]
        x0 = np.full(y.shape, self._coords["x"][0])
        f = self._funcs["inflow"]
        return (np.asarray(f(x0, y, t + 0.5 * dt), float) - np.asarray(f(x0, y, t - 0.5 * dt), float)) / dt

    def _set_tolerance(self, phys: Physics) -> None:
        """Absolute Newton tolerance: ``snes_rtol`` times the residual of the fluid at rest."""
        solver = self._ensure_solver()
        saved = solver.solution.copy()
        solver.solution[...] = 0.0
        solver.phys = phys
        solver.x.stateIncrease()
        r = solver.x.duplicate()
        solver.snes.computeFunction(solver.x, r)
        scale = r.norm()
        r.destroy()
        solver.solution[...] = saved
        solver.x.stateIncrease()
        solver.snes.setTolerances(rtol=self.snes_rtol, atol=max(self.snes_rtol * scale, 1e-300))

    def _solve(self, run: Any, what: str, t: float) -> Any:
        """``run()`` (a Newton solve); a PETSc error there and unused ``petsc_options`` are reported."""
        solver = self._ensure_solver()
        try:
            out = run()
        except PETSc.Error as exc:
            raise msm.ConvergenceError(
                f"component '{self.name}': PETSc error {exc.ierr} in the {what} at t={t:g}; check the "
                f"setting 'petsc_options' {self.petsc_options}") from None
        unused = solver.unused_options()
        if unused:
            raise msm.ConfigurationError(
                f"component '{self.name}': setting 'petsc_options' names options PETSc has not used: "
                f"{unused} (misspelt, or not for this solver)")
        return out

    def _check(self, reason: int, what: str, t: float) -> None:
        if reason > 0:
            return
        names = {v: k for k, v in vars(PETSc.SNES.ConvergedReason).items() if isinstance(v, int)}
        raise msm.ConvergenceError(
            f"component '{self.name}': the {what} at t={t:g} did not converge "
            f"({names.get(reason, reason)}); try a smaller 'continuation_factor' or 'continuation_start', "
            "more nodes, mode='transient', or other solver options in 'petsc_options'")

    def _update_outputs(self, phys: Physics | None = None, inflow_rate: np.ndarray | None = None) -> None:
        """Velocity, vorticity, stream function and pressure from the solution (collective).

        ``inflow_rate``: ``du/dt`` at the inflow nodes (transient steps), part of the
        pressure's Neumann data there; ``None``: 0 (steady, or the initial state).
        """
        solver = self._ensure_solver()
        phys = phys or self._physics(self.t)
        E = solver.extended_solution()
        vel = self._out["velocity_out"]
        solver.velocity(vel, phys, E)
        self._out["streamfunction_out"][...] = solver.solution[..., 0]
        self._out["vorticity_out"][...] = solver.solution[..., 1]
        assert self._pressure is not None
        V = solver.extended_of(vel)
        reason = self._pressure.solve(E, V, solver.extended_force(), self.density, self.viscosity,
                                      self._out["pressure_out"], inflow_rate)
        if reason < 0:
            raise msm.ConvergenceError(f"component '{self.name}': the pressure solve at t={self.t:g} "
                                       f"did not converge (KSP reason {reason}); try a smaller 'pressure_rtol'")

    # -- state ----------------------------------------------------------------
    def save_state(self) -> dict[str, Any]:
        """Copies of the solution, the arrays, the wall speeds, the steady flag and ``t``."""
        solver = self._ensure_solver()
        return {"solution": solver.solution.copy(), "t": self.t, "solved": self._solved,
                "wall": self._wall.copy(),
                "arrays": {k: v.copy() for k, v in self._out.items()},
                "other": {k: v.copy() for k, v in self._arrays.items()}}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Refill everything from :meth:`save_state` in place."""
        solver = self._ensure_solver()
        solver.solution[...] = state["solution"]
        solver.x.stateIncrease()
        for k, v in state["arrays"].items():
            self._out[k][...] = v
        for k, v in state["other"].items():
            self.restore_port(k, v)
        self._wall, self._solved, self.t = state["wall"].copy(), state["solved"], state["t"]

    def finalize(self) -> None:
        """Destroy every PETSc object; the port arrays stay readable."""
        self._destroy()

    def _destroy(self) -> None:
        if self._pressure is not None:
            self._pressure.destroy()
        if self._solver is not None:
            self._solver.destroy()
        self._solver = self._pressure = self._solver_comm = None
