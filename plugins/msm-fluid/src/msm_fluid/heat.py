"""The ``fluid.heat`` component: du/dt = kappa lap(u) + f on a vertex-centred 2D grid.

It is the solver of preCICE's partitioned heat conduction tutorial: one
``Heat`` per subdomain, one taking the interface temperature (Dirichlet) and
returning the heat flux, the other taking the flux (Neumann) and returning the
temperature. The discretisation (nodes on the boundary, second-order central
differences, implicit Euler, half control volumes on the interface) is exact
for solutions quadratic in space and linear in time, such as the tutorial's
``u = 1 + x^2 + alpha y^2 + beta t``; see :mod:`msm_fluid.conduction`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
from petsc4py import PETSc

import msmcore as msm
from msm_fluid._convert import ORIGIN_PAIR, SIZE_PAIR, count_pair, positive_float
from msm_fluid._expr import bind_function, constants_mapping, space_time_function
from msm_fluid.conduction import EDGES, Edge, EdgePart, assemble_conduction
from msm_fluid.grid import NodeGrid
from msmcore.settings import Converter

__all__ = ["Heat"]

logger = logging.getLogger(__name__)

_ROLES = ("dirichlet", "neumann")
#: Interface ports by role: (input, output).
_IFACE_PORTS = {"dirichlet": ("temperature_in", "flux_out"), "neumann": ("flux_in", "temperature_iface_out")}


def _edge(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return None
    if isinstance(value, str) and value.strip().lower() in EDGES:
        return value.strip().lower()
    raise ValueError(f"{value!r} is not one of {list(EDGES)} or None")


def _role(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return None
    if isinstance(value, str) and value.strip().lower() in _ROLES:
        return value.strip().lower()
    raise ValueError(f"{value!r} is not one of {list(_ROLES)} or None")


_node_counts = count_pair(3, "nodes", "two boundary nodes and one inside")
_edge_name = Converter("one of 'left', 'right', 'bottom', 'top' or None", _edge)
_role_name = Converter("'dirichlet', 'neumann' or None", _role)


class Heat(msm.Component):
    """Heat equation du/dt = kappa lap(u) + f(x, y, t) on a rectangle, vertex-centred (PETSc DMDA).

    ``nodes = (nx, ny)`` grid nodes span ``[x0, x0 + width] x [y0, y0 + height]``
    including the boundary. Each :meth:`step` is one implicit-Euler step with
    second-order central differences, solved with a KSP (CG + GAMG multigrid,
    ``rtol = 1e-12`` by default; the matrix is symmetric positive definite).
    Every edge is held at the ``boundary`` function (Dirichlet), except an
    optional ``interface_edge`` coupled to another domain:

    * ``interface_role="dirichlet"``: the edge is held at the received
      ``temperature_in`` and ``flux_out`` reports the heat flux through it;
    * ``interface_role="neumann"``: the edge takes the received ``flux_in``
      (half control volume) and ``temperature_iface_out`` reports its values.

    Flux convention: ``flux = q . e_a = -kappa du/da``, the heat flux along the
    *positive* coordinate axis ``a`` normal to the edge (``x`` for left/right
    edges, ``y`` for bottom/top), so both sides of an interface report the
    same number. The two corner nodes of the interface edge belong to the
    outer Dirichlet boundary: their temperature is always the ``boundary``
    function (a received corner temperature or flux is ignored).

    Ports
    -----
    temperature_out (output)
        The whole field, shape ``(nx, ny)``, coordinates ``x``, ``y`` (nodes).
        Its array is the state (the memory of :attr:`state_vec`).
    temperature_in (input, dirichlet role)
        Interface temperature, one value per edge node (corners included).
    flux_out (output, dirichlet role)
        Interface flux, from the half-cell energy balance after each step
        (conservative and exact for quadratic solutions); right after
        :meth:`initialize`, the one-sided second-order gradient of the
        initial field.
    flux_in (input, neumann role)
        Interface flux, one value per edge node (corners ignored).
    temperature_iface_out (output, neumann role)
        The field's values on the interface edge (corners included).

    Interface ports have shape ``(n_edge,)`` (``ny`` for a left/right edge,
    ``nx`` for bottom/top) and one coordinate along the edge: ``{"y": ys}``
    for a left/right edge, ``{"x": xs}`` for bottom/top - the same values
    as the field's coordinate of that name. :attr:`interface_points` gives
    the ``(n_edge, 2)`` node coordinates.

    Notes
    -----
    Within one :meth:`advance` the interface input is held at its received
    value for every sub-step, and the ``boundary``/``source`` functions are
    evaluated at the end of each step. KSP options can be overridden with the
    PETSc options prefix ``<name>_``.

    The DMDA is built on :attr:`comm` (``PETSc.COMM_SELF`` when ``None``) and
    split over its ranks. ``temperature_out``'s array is this rank's owned box
    (:meth:`port_indices`: flat C-order indices into ``(nx, ny)``); an
    interface port's array holds the edge nodes this rank owns, in order
    (:meth:`port_indices`: their positions ``0 .. n_edge - 1`` along the
    edge), and is empty on a rank that does not touch the edge. The flux of
    the Dirichlet role reads edge neighbours and inner rows owned by other
    ranks through one PETSc scatter; results equal a serial run's to the KSP
    tolerance. Collective over :attr:`comm`: the first :meth:`port_array`/
    :meth:`port_indices` (it builds the DMDA), :meth:`initialize`,
    :meth:`step`/:meth:`advance` and :meth:`finalize`; :meth:`receive`,
    :meth:`save_state` and :meth:`restore_state` are local. An error in a
    collective call (a non-finite input or function value on one rank) is
    raised on every rank.

    Lifetime: :meth:`finalize` destroys every PETSc object the component made
    (DMDA, Vecs, Mats, KSP, the interface scatter); the port arrays stay
    readable. A later :meth:`initialize` builds them again on the communicator
    :attr:`comm` holds then and starts afresh; port arrays are then new arrays.

    State (:meth:`save_state`): the field, both interface arrays and ``t``.
    Nothing else carries over from one step to the next: the operator depends
    on the step length only (rebuilt when it changes) and the KSP starts each
    solve from the field.
    """

    origin = msm.Setting(ORIGIN_PAIR, default=(0.0, 0.0), units="m",
                         doc="coordinates (x0, y0) of the lower-left corner")
    size = msm.Setting(SIZE_PAIR, units="m", doc="width and height of the rectangle")
    nodes = msm.Setting(_node_counts, doc="grid nodes (nx, ny), boundary nodes included")
    kappa = msm.Setting(positive_float, default=1.0, units="m^2/s", doc="diffusivity")
    dt = msm.Setting(positive_float, units="s", doc="time step")
    boundary = msm.Setting(space_time_function, default=0.0,
                           doc="Dirichlet data g(x, y, t) on the non-interface edges")
    source = msm.Setting(space_time_function, default=0.0, doc="source f(x, y, t)")
    initial = msm.Setting(space_time_function, default=None,
                          doc="initial field u0(x, y, t_start); default: the boundary function")
    constants = msm.Setting(constants_mapping, default={}, doc="names usable in expressions")
    interface_edge = msm.Setting(_edge_name, default=None, doc="edge coupled to another domain")
    interface_role = msm.Setting(_role_name, default=None,
                                 doc="'dirichlet': takes temperature, gives flux; 'neumann': the reverse")
    units = msm.Setting(str, default="1", doc="units of the temperature")
    flux_units = msm.Setting(str, default="1", doc="units of the heat flux (kappa * units / length)")
    ksp_type = msm.Setting(str, default="cg", doc="PETSc KSP type")
    pc_type = msm.Setting(str, default="gamg", doc="PETSc PC type (algebraic multigrid)")
    ksp_rtol = msm.Setting(positive_float, default=1e-12, doc="relative tolerance of the KSP")

    def __init__(self, name: str | None = None, **settings: Any) -> None:
        super().__init__(name, **settings)
        if (self.interface_edge is None) != (self.interface_role is None):
            raise msm.ConfigurationError(
                f"component '{self.name}': 'interface_edge' and 'interface_role' go together; got "
                f"interface_edge={self.interface_edge!r}, interface_role={self.interface_role!r}. Give "
                "both (e.g. interface_edge='right', interface_role='dirichlet') or neither"
            )
        self.edge: Edge | None = EDGES[self.interface_edge] if self.interface_edge else None
        self.role: str | None = self.interface_role
        funcs = {}
        for key in ("boundary", "source", "initial"):
            value = getattr(self, key)
            if value is None:
                continue
            try:
                funcs[key] = bind_function(value, self.constants, f"setting '{key}' of component '{self.name}'")
            except ValueError as exc:
                raise msm.ConfigurationError(str(exc)) from None
        self._g = funcs["boundary"]
        self._f = funcs["source"]
        self._u0 = funcs.get("initial", self._g)
        self.spacing: tuple[float, float] = tuple(
            w / (n - 1) for w, n in zip(self.size, self.nodes, strict=True))
        self._coords = {
            "x": np.linspace(self.origin[0], self.origin[0] + self.size[0], self.nodes[0]),
            "y": np.linspace(self.origin[1], self.origin[1] + self.size[1], self.nodes[1]),
        }
        self._grid: NodeGrid | None = None
        self._grid_comm: Any = None
        self._natural = np.empty(0, dtype=np.int64)  # port_indices() of temperature_out
        self._u: np.ndarray | None = None
        self._rhs: np.ndarray | None = None
        self._held: np.ndarray | None = None
        self._lift: np.ndarray | None = None
        self._w: np.ndarray | None = None
        self._X: np.ndarray | None = None
        self._Y: np.ndarray | None = None
        self._held_mask: np.ndarray | None = None
        self._held_idx = np.empty(0, dtype=np.int64)
        self._iface_in: np.ndarray | None = None
        self._iface_out: np.ndarray | None = None
        self._part: EdgePart | None = None  # this rank's share of the interface edge
        self._mpi: Any = None          # mpi4py communicator when distributed, for error agreement
        self._vx: PETSc.Vec | None = None
        self._vrhs: PETSc.Vec | None = None
        self._vheld: PETSc.Vec | None = None
        self._vlift: PETSc.Vec | None = None
        self._K: PETSc.Mat | None = None
        self._A: PETSc.Mat | None = None
        self._A_dt: float | None = None
        self._ksp: PETSc.KSP | None = None

    # -- description ------------------------------------------------------------
    @property
    def n_edge(self) -> int:
        """Number of nodes on the interface edge (0 without an interface)."""
        return 0 if self.edge is None else self.nodes[self.edge.tangent_axis]

    @property
    def interface_points(self) -> np.ndarray:
        """``(n_edge, 2)`` coordinates of the interface edge's nodes, corners included."""
        if self.edge is None:
            return np.empty((0, 2))
        e = self.edge
        fixed = self._coords[("x", "y")[e.axis]][e.index(self.nodes)]
        along = self._coords[e.tangent_name]
        pts = np.empty((along.size, 2))
        pts[:, e.axis] = fixed
        pts[:, e.tangent_axis] = along
        return pts

    def declare_ports(self) -> list[msm.Port]:
        """``temperature_out`` and, with an interface, its input and output (see the class)."""
        length = type(self).size.units  # coordinates are in the units of 'origin' and 'size'
        ports = [msm.Port.output("temperature_out", self.nodes, units=self.units, coords=dict(self._coords),
                                 coord_units=length, doc="temperature field (the state)")]
        if self.edge is None:
            return ports
        along = {self.edge.tangent_name: self._coords[self.edge.tangent_name]}
        n = self.n_edge
        where = f"on the {self.edge.name} edge"
        if self.role == "dirichlet":
            ports += [
                msm.Port.input("temperature_in", n, units=self.units, coords=along, coord_units=length,
                               doc=f"interface temperature {where} (Dirichlet data)"),
                msm.Port.output("flux_out", n, units=self.flux_units, coords=along, coord_units=length,
                                doc=f"heat flux -kappa du/d{('x', 'y')[self.edge.axis]} {where}"),
            ]
        else:
            ports += [
                msm.Port.input("flux_in", n, units=self.flux_units, coords=along, coord_units=length,
                               doc=f"heat flux -kappa du/d{('x', 'y')[self.edge.axis]} {where} (Neumann data)"),
                msm.Port.output("temperature_iface_out", n, units=self.units, coords=along, coord_units=length,
                                doc=f"temperature {where}"),
            ]
        return ports

    def port_indices(self, name: str) -> np.ndarray:
        """Where this rank's entries of ``port_array(name)`` sit in the whole port array.

        ``temperature_out``: flat C-order indices into ``(nx, ny)`` of the
        owned box; interface ports: positions along the edge of the edge
        nodes this rank owns (empty on ranks not touching the edge).
        """
        self.port(name)  # a clear error for an unknown port
        if self._u is None:
            self._ensure_grid()
        if name == "temperature_out":
            return self._natural.copy()
        assert self._part is not None
        return self._part.indices()

    def port_array(self, name: str) -> np.ndarray:
        """The array behind port ``name``; ``temperature_out``'s is the state vector's memory.

        The same array from one :meth:`initialize` to the next (after
        :meth:`finalize`, the last run's arrays).
        """
        self.port(name)  # a clear error for an unknown port
        if self._u is None:
            self._ensure_grid()
        if name == "temperature_out":
            assert self._u is not None
            return self._u
        array = self._iface_in if name == _IFACE_PORTS[self.role][0] else self._iface_out  # type: ignore[index]
        assert array is not None
        return array

    @property
    def grid(self) -> NodeGrid:
        """The node grid (its DMDA is ``grid.dm``), built on first use on :attr:`comm`.

        Raises
        ------
        msmcore.CouplingError
            After :meth:`finalize` (its PETSc objects are gone until :meth:`initialize`).
        """
        return self._live_grid("grid")

    @property
    def state_vec(self) -> PETSc.Vec:
        """The PETSc vector of the field, over ``port_array("temperature_out")``'s memory.

        Raises
        ------
        msmcore.CouplingError
            After :meth:`finalize` (its PETSc objects are gone until :meth:`initialize`).
        """
        self._live_grid("state_vec")
        assert self._vx is not None
        return self._vx

    def _live_grid(self, what: str) -> NodeGrid:
        if self._grid is None and self._u is not None:
            raise msm.CouplingError(
                f"component '{self.name}' (fluid.heat): {what} was asked for after finalize(), which "
                "destroyed the PETSc objects; call initialize() first (the port arrays stay readable)"
            )
        return self._ensure_grid()

    def _ensure_grid(self) -> NodeGrid:
        """The grid on :attr:`comm`, with fresh arrays and Vecs over them (collective when built)."""
        if self._grid is not None:
            return self._grid
        try:
            grid = NodeGrid(self.nodes, self.size, self.origin, self.comm)
        except ValueError as exc:
            raise msm.ConfigurationError(f"component '{self.name}': {exc}") from None
        dtype = np.dtype(PETSc.ScalarType)
        self._u, self._rhs, self._held, self._lift = (np.zeros(grid.local_shape, dtype=dtype) for _ in range(4))
        self._vx, self._vrhs, self._vheld, self._vlift = (
            grid.create_vec(a) for a in (self._u, self._rhs, self._held, self._lift))
        (o0, e0), (o1, e1) = grid.owned
        self._X, self._Y = np.meshgrid(self._coords["x"][o0:e0], self._coords["y"][o1:e1], indexing="ij")
        self._part = EdgePart(self.edge, grid)
        self._iface_in = np.zeros(self._part.size, dtype=dtype)
        self._iface_out = np.zeros(self._part.size, dtype=dtype)
        self._mpi = grid.comm.tompi4py() if grid.comm.getSize() > 1 else None
        self._natural = grid.natural_indices()
        self._grid, self._grid_comm = grid, self.comm
        return grid

    # -- lifecycle ------------------------------------------------------------------
    def initialize(self) -> None:
        """Build grid and operator, set ``u = initial(x, y, t)`` and fill the interface ports.

        After this, ``temperature_out`` is the initial field; the interface
        input holds the initial field's interface values (dirichlet role:
        temperature) or its one-sided gradient flux (neumann role), so a run
        that never receives data holds those; the interface output holds the
        same kind of value for the other quantity.

        Collective over :attr:`comm`. After :meth:`finalize`, or when
        :attr:`comm` is another communicator than the grid's, the grid, its
        Vecs, the interface scatter and the port arrays are built anew on
        :attr:`comm` (a fresh start, as the first time).
        """
        if self._grid is not None and self.comm is not self._grid_comm:
            logger.debug("component '%s': new communicator, rebuilding the grid", self.name)
            self._destroy()
        grid = self._ensure_grid()
        self._destroy_operators()
        u = self._u
        assert u is not None and self._iface_in is not None and self._iface_out is not None
        error, u0 = None, None
        try:
            u0 = self._evaluate(self._u0, "initial" if self.initial is not None else "boundary", self.t)
        except msm.MSMError as exc:
            error = exc
        self._agree(error)
        u[...] = u0
        self._K, w = assemble_conduction(grid, self.kappa, self.edge if self.role == "neumann" else None)
        self._w = w
        part = self._part
        assert part is not None and self._vx is not None
        held = grid.boundary_mask()
        if self.role == "neumann":
            part.row(held)[part.inner] = False
        self._held_mask = held
        self._held_idx = np.flatnonzero(held)
        if self.edge is not None:
            if not part.connected:
                part.connect(self._vx)
            temperature = part.row(u).copy()
            flux = part.flux(self._vx, self.kappa, self.spacing)
            if self.role == "dirichlet":
                self._iface_in[...], self._iface_out[...] = temperature, flux
            else:
                self._iface_in[...], self._iface_out[...] = flux, temperature
        self._setup(self.dt)
        logger.info("component '%s': heat on %s nodes of %s at %s, kappa=%g, dt=%g, interface %s (%s)",
                    self.name, self.nodes, self.size, self.origin, self.kappa, self.dt,
                    self.interface_edge, self.interface_role)

    def receive(self, port: str) -> None:
        """Interface inputs are stored in their arrays and used from the next step on."""
        self.port(port)  # raises the "no such port" error

    def step(self, dt: float) -> None:
        """One implicit-Euler step from ``self.t`` to ``self.t + dt``."""
        if self._K is None:
            raise msm.CouplingError(f"component '{self.name}': step() called before initialize() "
                                    "(or after finalize()); call initialize() first")
        if self._A_dt is None or abs(dt - self._A_dt) > 1e-12 * self._A_dt:
            logger.debug("component '%s': reassembling the implicit operator for dt=%g", self.name, dt)
            self._setup(dt)
        t1 = self.t + dt
        u, rhs, held, w = self._u, self._rhs, self._held, self._w
        assert u is not None and rhs is not None and held is not None and w is not None
        assert self._held_mask is not None and self._iface_in is not None
        edge, mask, part = self.edge, self._held_mask, self._part
        assert part is not None
        inner = part.inner

        # Evaluate and check everything first, so that all ranks agree on an error.
        error = g = f = None
        try:
            g = self._evaluate(self._g, "boundary", t1)
            if self.role == "dirichlet":
                self._checked_input(self._iface_in)
            f = self._evaluate(self._f, "source", t1)
            if self.role == "neumann":
                self._checked_input(self._iface_in)
        except msm.MSMError as exc:
            error = exc
        self._agree(error)
        assert g is not None and f is not None

        # Held values at t1: the boundary function, or the received interface temperature.
        held[...] = 0.0
        held[mask] = g[mask]
        if self.role == "dirichlet":
            part.row(held)[inner] = self._iface_in[inner]
        u_old_edge = part.row(u).copy() if self.role == "dirichlet" else None

        # W (u + dt f) + dt (Neumann flux) + dt K u_held, with held rows = held values.
        np.multiply(w, u + dt * f, out=rhs)
        if self.role == "neumann":
            assert edge is not None
            q = self._iface_in
            # half-cell balance: W-weighted flux term -s q / h on the edge's inner nodes
            part.row(rhs)[inner] -= dt * edge.side * q[inner] / self.spacing[edge.axis]
        assert self._vheld is not None and self._vrhs is not None and self._vx is not None
        assert self._lift is not None
        self._vheld.stateIncrease()
        self._K.mult(self._vheld, self._vlift)
        rhs += dt * self._lift
        rhs[mask] = held[mask]
        u[mask] = held[mask]  # also the initial guess
        self._vrhs.stateIncrease()
        self._vx.stateIncrease()
        self._solve()
        u[mask] = held[mask]  # exactly, not to the KSP tolerance
        self._vx.stateIncrease()

        if edge is not None:
            assert self._iface_out is not None
            if self.role == "dirichlet":
                assert u_old_edge is not None
                self._iface_out[...] = part.flux(self._vx, self.kappa, self.spacing,
                                                 u_old_edge, part.row(f), dt)
            else:
                self._iface_out[...] = part.row(u)

    # -- helpers ------------------------------------------------------------------------
    def _evaluate(self, func: Any, setting: str, t: float) -> np.ndarray:
        assert self._X is not None and self._Y is not None
        try:
            values = func(self._X, self._Y, t)
        except Exception as exc:
            raise msm.ConfigurationError(
                f"setting '{setting}' of component '{self.name}' failed at t={t:g}: {exc}"
            ) from exc
        if not np.all(np.isfinite(values)):
            bad = np.argwhere(~np.isfinite(values))[0]
            raise msm.ConfigurationError(
                f"setting '{setting}' of component '{self.name}' is not finite at t={t:g}, "
                f"x={self._X[tuple(bad)]:g}, y={self._Y[tuple(bad)]:g}"
            )
        return values

    def _agree(self, error: Exception | None) -> None:
        """Raise ``error`` here, and an error on every other rank of :attr:`comm` too (collective).

        Serial: raise ``error`` if given. Distributed: one small allreduce when
        all is well; a rank without an error of its own raises the first
        rank's message, so no rank is left waiting in a later collective call.
        """
        if self._mpi is None:
            if error is not None:
                raise error
            return
        from mpi4py import MPI

        flag = np.array([0 if error is None else 1], dtype=np.int32)
        self._mpi.Allreduce(MPI.IN_PLACE, flag, op=MPI.MAX)
        if not flag[0]:
            return
        reports = self._mpi.allgather(None if error is None else (isinstance(error, msm.ConfigurationError),
                                                                   str(error)))
        if error is not None:
            raise error
        rank, (config, text) = next((r, m) for r, m in enumerate(reports) if m is not None)
        kind = msm.ConfigurationError if config else msm.CouplingError
        raise kind(f"{text} (reported by rank {rank} of the component's communicator)")

    def _checked_input(self, values: np.ndarray) -> np.ndarray:
        assert self._part is not None
        if not np.all(np.isfinite(values[self._part.inner])):
            port = _IFACE_PORTS[self.role][0]  # type: ignore[index]
            raise msm.CouplingError(
                f"component '{self.name}': port '{port}' holds non-finite values at t={self.t:g}"
            )
        return values

    def _setup(self, dt: float) -> None:
        """Assemble A = W - dt K with held rows and columns eliminated, and set up the KSP."""
        K, grid = self._K, self._grid
        assert K is not None and grid is not None and self._w is not None
        A = K.duplicate(copy=True)
        A.scale(-dt)
        wv = grid.create_vec(np.ascontiguousarray(self._w, dtype=np.dtype(PETSc.ScalarType)))
        A.setDiagonal(wv, addv=PETSc.InsertMode.ADD_VALUES)
        wv.destroy()
        A.zeroRowsColumnsLocal(grid.owned_to_local(self._held_idx), diag=1.0)
        if self._ksp is None:
            ksp = PETSc.KSP().create(comm=grid.comm)
            ksp.setOptionsPrefix(re.sub(r"\W", "_", self.name) + "_")
            ksp.setType(self.ksp_type)
            ksp.getPC().setType(self.pc_type)
            ksp.setTolerances(rtol=self.ksp_rtol, atol=0.0)
            ksp.setInitialGuessNonzero(True)
            self._ksp = ksp
        self._ksp.setOperators(A)
        self._ksp.setFromOptions()
        self._ksp.setUp()
        if self._A is not None:
            self._A.destroy()
        self._A, self._A_dt = A, dt

    def _solve(self) -> None:
        ksp = self._ksp
        assert ksp is not None
        ksp.solve(self._vrhs, self._vx)
        reason = ksp.getConvergedReason()
        if reason < 0:
            names = {v: k for k, v in vars(PETSc.KSP.ConvergedReason).items() if isinstance(v, int)}
            raise msm.ConvergenceError(
                f"component '{self.name}': the implicit solve at t={self.t:g} did not converge "
                f"({names.get(reason, reason)} after {ksp.getIterationNumber()} iterations); "
                "try other 'ksp_type'/'pc_type' settings or a looser 'ksp_rtol'"
            )

    # -- state ------------------------------------------------------------------------
    def save_state(self) -> dict[str, Any]:
        """Snapshot: copies of the field, both interface arrays and ``t`` (the whole state, see the class)."""
        if self._u is None:
            self._ensure_grid()
        assert self._u is not None and self._iface_in is not None and self._iface_out is not None
        return {"u": self._u.copy(), "in": self._iface_in.copy(), "out": self._iface_out.copy(), "t": self.t}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Refill the arrays in place from :meth:`save_state` (the Vec keeps its memory).

        The interface *input* is restored too: write new input data after
        calling this.
        """
        if self._u is None:
            self._ensure_grid()
        assert self._u is not None and self._iface_in is not None and self._iface_out is not None
        self._u[...] = state["u"]
        self._iface_in[...] = state["in"]
        self._iface_out[...] = state["out"]
        self.t = state["t"]
        if self._vx is not None:
            self._vx.stateIncrease()

    def finalize(self) -> None:
        """Destroy every PETSc object of the component; the port arrays stay readable.

        :meth:`initialize` may be called again afterwards (a new run).
        """
        self._destroy()

    def _destroy_operators(self) -> None:
        for obj in (self._ksp, self._A, self._K):
            if obj is not None:
                obj.destroy()
        self._ksp = self._A = self._K = None
        self._A_dt = None

    def _destroy(self) -> None:
        self._destroy_operators()
        if self._part is not None:
            self._part.destroy()
        for obj in (self._vx, self._vrhs, self._vheld, self._vlift):
            if obj is not None:
                obj.destroy()
        self._vx = self._vrhs = self._vheld = self._vlift = None
        if self._grid is not None:
            self._grid.destroy()
        self._grid = self._grid_comm = self._mpi = None
