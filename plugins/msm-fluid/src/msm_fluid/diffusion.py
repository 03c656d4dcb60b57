"""The ``fluid.diffusion`` component: du/dt = D lap(u) + s - (lambda + mu) u on a structured grid."""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
from petsc4py import PETSc

import msmcore as msm
from msm_fluid._convert import CellIndex, cell_points, positive_float, shape_tuple, spacing_value
from msm_fluid.grid import AXIS_NAMES, CellGrid
from msm_fluid.laplacian import BOUNDARY_RULES, assemble_laplacian, stencil_needs
from msmcore.units import parse_unit

__all__ = ["Diffusion"]

logger = logging.getLogger(__name__)

_STATE_PORTS = ("state_out", "state_in", "source_in", "sink_in")
_BOUNDARY_PORTS = ("boundary_low_in", "boundary_high_in")


def _LOR() -> Any:
    from mpi4py import MPI

    return MPI.LOR


def _origin_value(value: Any) -> float | tuple[float, ...]:
    """A float, or a tuple of floats (one per axis)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return tuple(float(v) for v in value)
    raise ValueError(f"expected a float or a list of floats (one per axis), got {value!r}")


class Diffusion(msm.Component):
    """Diffusion du/dt = D lap(u) + s on a 1D/2D/3D cell-centred grid (PETSc DMDA).

    The Laplacian is assembled once as a PETSc matrix. ``method="explicit"``
    takes forward-Euler steps ``u += dt (D L u + s)`` (one MatMult and two
    AXPYs); ``method="implicit"`` takes backward-Euler steps
    ``(I - dt D L) u_new = u + dt s`` with a KSP that is set up once and
    reused. Boundary rules are described in :mod:`msm_fluid.laplacian`.

    Ports
    -----
    state_out (output)
        The field, in ``units``; coordinates are the cell centres
        ``origin + (i + 1/2) h`` named ``x``, ``y``, ``z``. Its array *is* the state
        and the memory of :attr:`state_vec` (no copy).
    state_in (optional input)
        Same description; :meth:`receive` copies it into the state.
    source_in (optional input)
        Source ``s`` in ``units/s``, read at every step (zero when unconnected).
    sink_in (optional input)
        Linear uptake rate ``lambda(x) >= 0`` in ``1/s`` per cell (e.g. cells'
        consumption deposited onto the grid), read at every step (zero when
        unconnected). With the ``decay`` setting ``mu`` the loss ``(lambda + mu) u``
        is treated implicitly, as BioFVM's per-cell sink (Ghaffarizadeh, Friedman &
        Macklin, Bioinformatics 32, 1256 (2016)): ``method="implicit"`` solves
        ``(I - dt D L + dt diag(lambda + mu)) u_new = u + dt s``; ``"explicit"`` takes
        the diffusion step and then divides by ``1 + dt (lambda + mu)``. Either is
        stable for any uptake rate (held Dirichlet cells take no sink).
    boundary_low_in, boundary_high_in (optional inputs, ``boundary="dirichlet"``)
        One value per axis (shape ``(ndim,)``): entry ``a`` is the held value of
        the low (high) face of axis ``a``. Once received, it replaces
        ``boundary_value`` on those faces; a side whose port is never received
        keeps ``boundary_value``. Coordinates: the held cell centre on axis
        ``a``, the domain centre on the others (1D: ``{"x": [x]}``).

    Notes
    -----
    The DMDA is built on :attr:`comm` (``PETSc.COMM_SELF`` when ``None``) and
    split over its ranks: each port array is this rank's owned box of the grid
    (C order over the box), and :meth:`port_indices` says where its entries
    sit in the whole grid. Results equal a serial run's to round-off
    (explicit) or the KSP tolerance (implicit); every boundary rule works
    distributed (the operators are PETSc matrices that read neighbours across
    rank boundaries). Collective over :attr:`comm`: the first
    :meth:`port_array`/:meth:`port_indices` (it builds the DMDA),
    :meth:`initialize`, :meth:`step`/:meth:`advance` and :meth:`finalize`;
    :meth:`receive`, :meth:`save_state` and :meth:`restore_state` are local.
    ``initial_points`` are global cell indices.

    Lifetime: :meth:`finalize` destroys every PETSc object the component made
    (DMDA, Vecs, Mats, KSP); the port arrays stay readable. A later
    :meth:`initialize` builds them again on the communicator :attr:`comm` holds
    then (a new run of a coupling may give a new one) and starts afresh, as
    the first time; port arrays are then new arrays (ask for them again).

    State (:meth:`save_state`): the field, both input arrays, the boundary
    port arrays, the held face values, which boundary ports were received and
    whether their data still has to be taken, and ``t``; everything else
    (operators, the Dirichlet lift) is rebuilt from those when needed. KSP options can be overridden
    from the PETSc options database with the prefix ``<name>_`` (e.g.
    ``-macro_ksp_type gmres``).
    """

    shape = msm.Setting(shape_tuple, doc="cells per axis (1 to 3 axes)")
    spacing = msm.Setting(spacing_value, default=1.0, units="m", doc="cell width, one for all axes or one per axis")
    origin = msm.Setting(_origin_value, default=0.0, units="m",
                         doc="low corner of the grid (cell centres at origin + (i + 1/2) spacing); "
                             "one for all axes or one per axis")
    D = msm.Setting(positive_float, units="m^2/s", doc="diffusion coefficient")
    dt = msm.Setting(positive_float, units="s", doc="time step")
    method = msm.Setting(str, default="explicit", choices=("explicit", "implicit"),
                         doc="forward Euler or backward Euler (KSP)")
    boundary = msm.Setting(str, default="neumann", choices=BOUNDARY_RULES,
                           doc="zero flux, fixed boundary cells, or MUSCLE3's copied increment")
    boundary_value = msm.Setting(float, default=0.0, doc="value of the boundary cells (dirichlet)")
    decay = msm.Setting(float, default=0.0, minimum=0.0, units="1/s", doc="first-order decay rate everywhere")
    initial = msm.Setting(float, default=0.0, doc="initial value in every cell")
    initial_points = msm.Setting(cell_points, default={}, doc="cell index -> initial value overrides")
    units = msm.Setting(str, default="1", doc="units of the field")
    length_units = msm.Setting(str, default="m", doc="units of spacing, origin and the port coordinates "
                               "(D is in length_units^2/time_units), e.g. 'um'")
    time_units = msm.Setting(str, default="s", doc="units of dt, and the per-time units of D, decay, "
                             "source_in and sink_in, e.g. 'min'")
    ksp_type = msm.Setting(str, default="cg", doc="PETSc KSP type of the implicit solve")
    pc_type = msm.Setting(str, default="gamg", doc="PETSc PC type of the implicit solve (algebraic multigrid)")
    ksp_rtol = msm.Setting(positive_float, default=1e-12, doc="relative tolerance of the implicit solve")

    def __init__(self, name: str | None = None, **settings: Any) -> None:
        super().__init__(name, **settings)
        self._spacing: tuple[float, ...] = self._check_spacing()
        self._origin: tuple[float, ...] = self._check_origin()
        self._points: dict[tuple[int, ...], float] = self._check_points()
        self._check_method_and_stability()
        self._check_units("length_units", "m")
        self._check_units("time_units", "s")
        self._grid: CellGrid | None = None
        self._grid_comm: Any = None
        self._natural = np.empty(0, dtype=np.int64)  # port_indices() of the state ports
        self._u: np.ndarray | None = None
        self._u_in: np.ndarray | None = None
        self._s: np.ndarray | None = None
        self._lam: np.ndarray | None = None  # sink_in: uptake rate per cell
        self._sink_dirty = False  # sink_in received since the implicit operator was assembled
        self._work: np.ndarray | None = None
        self._x: PETSc.Vec | None = None
        self._sv: PETSc.Vec | None = None
        self._w: PETSc.Vec | None = None
        self._L: PETSc.Mat | None = None
        self._A: PETSc.Mat | None = None
        self._A_dt: float | None = None
        self._lift: PETSc.Vec | None = None
        self._ksp: PETSc.KSP | None = None
        self._bidx = np.empty(0, dtype=np.int64)
        self._bface = np.empty(0, dtype=np.int64)  # face of each held cell: 2*axis (+1 for high)
        self._bvals = np.empty(0)  # held value of each held cell
        self._faces = np.full(2 * len(self.shape), float(self.boundary_value))
        self._received: set[str] = set()  # boundary ports received (every rank)
        self._faces_dirty = False  # boundary port data not yet taken (broadcast at the next step)
        self._lift_dirty = False

    # -- validation -----------------------------------------------------------
    def _where(self, setting: str) -> str:
        return f"setting '{setting}' of component '{self.name}'"

    def _check_spacing(self) -> tuple[float, ...]:
        dim = len(self.shape)
        spacing = self.spacing
        if isinstance(spacing, float):
            return (spacing,) * dim
        if len(spacing) != dim:
            raise msm.ConfigurationError(
                f"{self._where('spacing')} has {len(spacing)} entries {spacing} but 'shape' "
                f"{self.shape} has {dim} axes; give one float for all axes or {dim} floats"
            )
        return tuple(spacing)

    def _check_origin(self) -> tuple[float, ...]:
        dim = len(self.shape)
        origin = self.origin
        if isinstance(origin, float):
            return (origin,) * dim
        if len(origin) != dim:
            raise msm.ConfigurationError(
                f"{self._where('origin')} has {len(origin)} entries {origin} but 'shape' "
                f"{self.shape} has {dim} axes; give one float for all axes or {dim} floats"
            )
        return tuple(origin)

    def _check_points(self) -> dict[tuple[int, ...], float]:
        points: dict[tuple[int, ...], float] = {}
        shape = self.shape
        total = int(np.prod(shape))
        for key, value in self.initial_points.items():
            index: CellIndex = key
            if isinstance(index, int):
                if not 0 <= index < total:
                    raise msm.ConfigurationError(
                        f"{self._where('initial_points')}: flat cell index {key} is outside the "
                        f"grid of shape {shape}; flat indices run from 0 to {total - 1}"
                    )
                cell = tuple(int(i) for i in np.unravel_index(index, shape))
            else:
                if len(index) != len(shape) or any(not 0 <= i < n for i, n in zip(index, shape, strict=True)):
                    raise msm.ConfigurationError(
                        f"{self._where('initial_points')}: cell {key} is outside the grid of shape "
                        f"{shape}; give {len(shape)} indices with 0 <= index < cells on that axis, "
                        "or one flat (C-order) index"
                    )
                cell = tuple(index)
            if self.boundary == "dirichlet" and any(i in (0, n - 1) for i, n in zip(cell, shape, strict=True)):
                raise msm.ConfigurationError(
                    f"{self._where('initial_points')}: cell {key} is a boundary cell, which "
                    f"boundary='dirichlet' holds at boundary_value={self.boundary_value}; "
                    "set boundary_value instead or use an interior cell"
                )
            points[cell] = value
        return points

    def _check_units(self, setting: str, like: str) -> None:
        """``length_units``/``time_units`` must be a length/time (so ports convert correctly)."""
        text = getattr(self, setting)
        try:
            ok = parse_unit(text).dims == parse_unit(like).dims
        except (ValueError, msm.MSMError):
            ok = False
        if not ok:
            raise msm.ConfigurationError(f"{self.name}: {setting}={text!r} is not a unit of "
                                         f"{'length' if like == 'm' else 'time'} (e.g. '{like}')")

    def _check_method_and_stability(self) -> None:
        if self.boundary == "copy-increment":
            if self.method != "explicit":
                raise msm.ConfigurationError(
                    f"component '{self.name}': boundary='copy-increment' (MUSCLE3's rule "
                    "dU[0] = dU[1]) defines an explicit increment only; use method='explicit', "
                    "or boundary='neumann' or 'dirichlet' with method='implicit'"
                )
            if min(self.shape) < 3:
                raise msm.ConfigurationError(
                    f"component '{self.name}': boundary='copy-increment' copies the increment of "
                    f"the inward neighbour and needs >= 3 cells on every axis; 'shape' is {self.shape}"
                )
        if self.method == "explicit":
            limit = self.stability_limit()
            if self.dt > limit * (1.0 + 1e-12):
                raise msm.ConfigurationError(
                    f"{self._where('dt')}: dt={self.dt:g} exceeds the explicit stability limit "
                    f"h_min^2/(2*dim*D) = {min(self._spacing):g}^2/(2*{len(self.shape)}*{self.D:g}) "
                    f"= {limit:.6g}; use dt <= {limit:.6g} or method='implicit'"
                )

    def stability_limit(self) -> float:
        """The explicit step limit checked when the component is built.

        Returns
        -------
        float
            ``h_min^2 / (2 dim D)``: forward Euler is stable for ``dt`` up to this.
        """
        return min(self._spacing) ** 2 / (2 * len(self.shape) * self.D)

    # -- ports ----------------------------------------------------------------
    def declare_ports(self) -> list[msm.Port]:
        """``state_out``, ``state_in``, ``source_in`` (cell-centre coordinates), and with
        ``boundary="dirichlet"`` ``boundary_low_in``/``boundary_high_in``."""
        h, o = self._spacing, self._origin
        coords = {AXIS_NAMES[a]: o[a] + (np.arange(n) + 0.5) * h[a] for a, n in enumerate(self.shape)}
        length, per_time = self.length_units, f"1/{self.time_units}"  # spacing/origin's, dt's units
        ports = [
            msm.Port.output("state_out", self.shape, units=self.units, coords=coords, coord_units=length,
                            doc="the field (the state itself)"),
            msm.Port.input("state_in", self.shape, units=self.units, coords=coords, coord_units=length,
                           required=False, doc="replaces the state when received"),
            msm.Port.input("source_in", self.shape, units=f"{self.units}/{self.time_units}", coords=coords,
                           coord_units=length, required=False, doc="source term s, added at every step"),
            msm.Port.input("sink_in", self.shape, units=per_time, coords=coords, coord_units=length, required=False,
                           doc="uptake rate lambda >= 0, loss lambda*u treated implicitly"),
        ]
        if self.boundary == "dirichlet":
            dim = len(self.shape)
            for side, port in enumerate(_BOUNDARY_PORTS):
                pts = np.array([[o[b] + n * h[b] / 2 for b, n in enumerate(self.shape)] for _ in range(dim)])
                for a, n in enumerate(self.shape):
                    pts[a, a] = o[a] + ((n - 0.5) if side else 0.5) * h[a]
                bcoords = {"x": pts[:, 0]} if dim == 1 else {"points": pts}
                ports.append(msm.Port.input(
                    port, dim, units=self.units, coords=bcoords, coord_units=length, required=False,
                    doc=f"held value of the {('low', 'high')[side]} face of each axis (replaces boundary_value)"))
        return ports

    def port_array(self, name: str) -> np.ndarray:
        """The array behind port ``name``; ``state_out``'s is the state vector's memory.

        The same array from one :meth:`initialize` to the next (after
        :meth:`finalize`, the last run's arrays).
        """
        if name not in _STATE_PORTS:
            return super().port_array(name)
        if self._u is None:
            self._ensure_grid()
        array = {"state_out": self._u, "state_in": self._u_in, "source_in": self._s, "sink_in": self._lam}[name]
        assert array is not None
        return array

    def port_indices(self, name: str) -> np.ndarray:
        """Flat C-order indices, in the whole grid, of this rank's entries of ``port_array(name)``.

        All three ports are the owned box of the grid, so they share the same
        indices (every cell once over the ranks of :attr:`comm`).
        """
        if name not in _STATE_PORTS:
            return super().port_indices(name)  # boundary ports: rank 0 holds them
        if self._u is None:
            self._ensure_grid()
        return self._natural.copy()

    @property
    def grid(self) -> CellGrid:
        """The grid (its DMDA is ``grid.dm``), built on first use on :attr:`comm`.

        Raises
        ------
        msmcore.CouplingError
            After :meth:`finalize` (its PETSc objects are gone until :meth:`initialize`).
        """
        return self._live_grid("grid")

    @property
    def state_vec(self) -> PETSc.Vec:
        """The PETSc global vector of the state, over ``port_array("state_out")``'s memory.

        Raises
        ------
        msmcore.CouplingError
            After :meth:`finalize` (its PETSc objects are gone until :meth:`initialize`).
        """
        self._live_grid("state_vec")
        assert self._x is not None
        return self._x

    def _live_grid(self, what: str) -> CellGrid:
        if self._grid is None and self._u is not None:
            raise msm.CouplingError(
                f"component '{self.name}' (fluid.diffusion): {what} was asked for after finalize(), which "
                "destroyed the PETSc objects; call initialize() first (the port arrays stay readable)"
            )
        return self._ensure_grid()

    def _ensure_grid(self) -> CellGrid:
        """The grid on :attr:`comm`, with fresh state arrays and Vecs over them (collective when built)."""
        if self._grid is not None:
            return self._grid
        width, box = stencil_needs(self.boundary)
        try:
            grid = CellGrid(self.shape, self._spacing, self.comm, stencil_width=width, box_stencil=box)
        except ValueError as exc:
            raise msm.ConfigurationError(
                f"component '{self.name}' (boundary={self.boundary!r}): {exc}"
            ) from None
        dtype = np.dtype(PETSc.ScalarType)
        self._u = np.zeros(grid.local_shape, dtype=dtype)
        self._u_in = np.zeros(grid.local_shape, dtype=dtype)
        self._s = np.zeros(grid.local_shape, dtype=dtype)
        self._lam = np.zeros(grid.local_shape, dtype=dtype)
        self._work = np.zeros(grid.local_shape, dtype=dtype)
        self._x = grid.create_vec(self._u)
        self._sv = grid.create_vec(self._s)
        self._w = grid.create_vec(self._work)
        self._natural = grid.natural_indices()
        self._grid, self._grid_comm = grid, self.comm
        return grid

    # -- lifecycle ------------------------------------------------------------
    def initialize(self) -> None:
        """Build the grid and operators and set the initial condition: a fresh start.

        Collective over :attr:`comm`. After :meth:`finalize`, or when
        :attr:`comm` is another communicator than the grid's, the grid, its
        Vecs and the port arrays are built anew on :attr:`comm`; the boundary
        ports count as not received and hold zeros.
        """
        if self._grid is not None and self.comm is not self._grid_comm:
            logger.debug("component '%s': new communicator, rebuilding the grid", self.name)
            self._destroy()
        grid = self._ensure_grid()
        self._destroy_operators()
        self._received = set()
        self._faces_dirty = self._lift_dirty = False
        self._faces = np.full(2 * len(self.shape), float(self.boundary_value))
        for port in _BOUNDARY_PORTS:
            if port in self.ports:
                super().port_array(port)[...] = 0.0
        u = self._u
        assert u is not None
        u[...] = self.initial
        for cell, value in self._points.items():
            if all(s <= i < e for i, (s, e) in zip(cell, grid.owned, strict=True)):  # a global index this rank owns
                u[tuple(i - s for i, (s, _) in zip(cell, grid.owned, strict=True))] = value
        self._bidx = np.flatnonzero(grid.boundary_mask()) if self.boundary == "dirichlet" else self._bidx[:0]
        self._bface = self._faces_of(grid, self._bidx)
        self._take_faces(local=False)
        self._faces_dirty = False
        self._hold_boundary()
        self._L = assemble_laplacian(grid, self.boundary)
        if self.method == "implicit":
            self._setup_implicit(self.dt)
        logger.info("component '%s': %s diffusion on %s cells, boundary %s, D=%g, dt=%g",
                    self.name, self.method, self.shape, self.boundary, self.D, self.dt)

    def receive(self, port: str) -> None:
        """Take ``state_in`` as the new state; ``source_in`` is read at each step.

        Only the values the coupling delivered are taken (:meth:`delivered`):
        cells of ``state_in`` no connection feeds keep the current state, and
        faces of a boundary port no connection feeds keep their held value.
        """
        if port == "state_in":
            assert self._u is not None and self._u_in is not None
            mask = self.delivered("state_in")
            if mask is None:
                self._u[...] = self._u_in
            else:
                np.copyto(self._u, self._u_in, where=np.asarray(mask, dtype=bool).reshape(self._u.shape))
            self._hold_boundary()  # held cells stay at their held values (dirichlet)
        elif port == "sink_in":
            self._check_sink()
            self._sink_dirty = True
        elif port in _BOUNDARY_PORTS and port in self.ports:
            mask = self.delivered(port)
            if mask is not None:  # the faces not fed keep their value (read back from the array below)
                side = _BOUNDARY_PORTS.index(port)
                values = super().port_array(port).reshape(-1)
                keep = ~np.asarray(mask, dtype=bool).reshape(-1)
                values[keep] = self._faces[side::2][self.port_indices(port)][keep]
            self._received.add(port)
            self._faces_dirty = True
            self._take_faces(local=True)
            self._hold_boundary()
        elif port not in self.ports:
            super().port(port)  # raises the "no such port" error

    def step(self, dt: float) -> None:
        """Advance the state by one step of length ``dt``."""
        if self._L is None:
            raise msm.CouplingError(f"component '{self.name}': step() called before initialize() "
                                    "(or after finalize()); call initialize() first")
        x, sv, w = self._x, self._sv, self._w
        assert x is not None and sv is not None and w is not None
        self._sync_faces()  # collective: boundary port data received since the last step
        x.stateIncrease()  # the arrays may have been written through NumPy
        sv.stateIncrease()
        if self.method == "explicit":
            self._hold_boundary()  # the stencil reads held cells: make sure they hold
            self._L.mult(x, w)
            x.axpy(dt * self.D, w)
            x.axpy(dt, sv)
            if self.decay > 0 or np.any(self._lam):  # the loss implicitly, cell by cell (BioFVM)
                assert self._u is not None and self._lam is not None
                self._u /= 1.0 + dt * (self._lam + self.decay)
                x.stateIncrease()
            self._hold_boundary()
        else:
            self._implicit_step(dt)

    # -- implicit solve ---------------------------------------------------------
    def _setup_implicit(self, dt: float) -> None:
        """Assemble A = I - dt D L (Dirichlet rows/columns eliminated) and set up the KSP."""
        L, grid = self._L, self._grid
        assert L is not None and grid is not None
        A = L.duplicate(copy=True)
        A.scale(-dt * self.D)
        A.shift(1.0)
        if self._lift is not None:
            self._lift.destroy()
            self._lift = None
        if self._bidx.size:
            rows = grid.owned_to_local(self._bidx)
            A.zeroRowsColumnsLocal(rows, diag=1.0)
        self._add_sink(A, dt)
        self._A_dt = dt
        self._compute_lift()
        if self._ksp is None:
            ksp = PETSc.KSP().create(comm=grid.comm)
            ksp.setOptionsPrefix(re.sub(r"\W", "_", self.name) + "_")
            ksp.setType(self.ksp_type)
            ksp.getPC().setType(self.pc_type)
            ksp.setTolerances(rtol=self.ksp_rtol)
            ksp.setInitialGuessNonzero(True)
            self._ksp = ksp
        self._ksp.setOperators(A)
        self._ksp.setFromOptions()
        self._ksp.setUp()
        if self._A is not None:
            self._A.destroy()
        self._A, self._A_dt = A, dt

    def _compute_lift(self) -> None:
        """dt D L b (b: the held values, zero elsewhere): the held values moved to the right-hand side.

        Collective. Moving them there keeps A symmetric; no lift while every held value is 0.
        """
        L, dt = self._L, self._A_dt
        assert L is not None and dt is not None
        if self._lift is not None:
            self._lift.destroy()
            self._lift = None
        self._lift_dirty = False
        if self.boundary == "dirichlet" and np.any(self._faces != 0.0):
            held = L.createVecRight()
            held.set(0.0)
            held.getArray()[self._bidx] = self._bvals
            self._lift = L.createVecLeft()
            L.mult(held, self._lift)
            self._lift.scale(dt * self.D)
            held.destroy()

    def _implicit_step(self, dt: float) -> None:
        """Solve (I - dt D L) u_new = u + dt s (+ the Dirichlet lift), in place."""
        if self._A_dt is None or abs(dt - self._A_dt) > 1e-12 * self._A_dt or self._sink_dirty:
            logger.debug("component '%s': reassembling the implicit operator for dt=%g", self.name, dt)
            self._setup_implicit(dt)
        elif self._lift_dirty:
            self._compute_lift()
        dt = float(self._A_dt)  # type: ignore[arg-type]
        x, w, ksp = self._x, self._w, self._ksp
        assert x is not None and w is not None and ksp is not None and self._work is not None
        w.waxpy(dt, self._sv, x)  # w = dt s + u
        if self._lift is not None:
            w.axpy(1.0, self._lift)
        if self._bidx.size:
            np.put(self._work, self._bidx, self._bvals)
            w.stateIncrease()
        ksp.solve(w, x)
        self._hold_boundary()  # held cells exactly at their values, not to the KSP tolerance
        reason = ksp.getConvergedReason()
        if reason < 0:
            names = {v: k for k, v in vars(PETSc.KSP.ConvergedReason).items() if isinstance(v, int)}
            raise msm.ConvergenceError(
                f"component '{self.name}': the implicit solve at t={self.t:g} did not converge "
                f"({names.get(reason, reason)} after {ksp.getIterationNumber()} iterations); "
                "try other 'ksp_type'/'pc_type' settings, a looser 'ksp_rtol' or a smaller 'dt'"
            )

    def _add_sink(self, A: PETSc.Mat, dt: float) -> None:
        """Add ``dt (lambda + mu)`` to the diagonal of the implicit operator (not on held cells)."""
        self._sink_dirty = False
        assert self._lam is not None
        if not (self.decay > 0 or np.any(self._lam)) and (self._grid is None or self._grid.comm.getSize() == 1):
            return
        extra = dt * (self._lam.reshape(-1) + self.decay)
        extra[self._bidx] = 0.0
        diag = A.createVecLeft()
        A.getDiagonal(diag)
        diag.getArray()[...] += extra
        A.setDiagonal(diag)
        diag.destroy()

    def _check_sink(self) -> None:
        lam = self._lam
        assert lam is not None
        bad = ~np.isfinite(lam) | (lam < 0)
        if np.any(bad):
            first = np.unravel_index(int(np.argmax(bad)), lam.shape)
            raise msm.CouplingError(
                f"component '{self.name}' (fluid.diffusion): port 'sink_in' received {int(bad.sum())} uptake "
                f"rate(s) that are negative or not finite (first {float(lam[first])!r} at local cell "
                f"{tuple(int(i) for i in first)}); an uptake rate lambda must be >= 0 (a source goes to source_in)")

    def _hold_boundary(self) -> None:
        """Set the held (dirichlet) cells of the state to their held values."""
        if self._bidx.size:
            assert self._u is not None
            np.put(self._u, self._bidx, self._bvals)

    def _faces_of(self, grid: CellGrid, bidx: np.ndarray) -> np.ndarray:
        """Face of each held cell (2*axis, +1 for the high face): the last face, in the order
        axis 0 low, axis 0 high, axis 1 low, ..., that the cell lies on."""
        cells = np.unravel_index(grid.natural_indices()[bidx], self.shape)
        face = np.full(bidx.shape, -1, dtype=np.int64)
        for a, n in enumerate(self.shape):
            face[cells[a] == 0] = 2 * a
            face[cells[a] == n - 1] = 2 * a + 1
        return face

    def _take_faces(self, local: bool) -> None:
        """Copy the received boundary ports into the per-face values (from this rank's arrays
        when ``local``, else broadcast from the rank that holds them) and refresh the held values."""
        dim = len(self.shape)
        faces = np.full(2 * dim, float(self.boundary_value))
        for side, port in enumerate(_BOUNDARY_PORTS):
            if port in self._received:
                values = np.asarray(self.port_array(port), dtype=float).reshape(-1)
                if not local:
                    comm = self._ensure_grid().comm
                    if comm.getSize() > 1:
                        values = comm.tompi4py().bcast(values if comm.getRank() == 0 else None, root=0)
                if values.size == dim:
                    faces[side::2] = values
                else:  # a rank without the port's data (distributed): keep what it has
                    faces[side::2] = self._faces[side::2]
        changed = not np.array_equal(faces, self._faces)
        self._faces = faces
        self._bvals = faces[self._bface] if self._bface.size else np.empty(0)
        if changed:
            self._lift_dirty = True

    def _sync_faces(self) -> None:
        """Collective: take boundary port data received since the last call on every rank."""
        if self._faces_dirty:
            self._take_faces(local=False)
            self._faces_dirty = False
        if self.method == "implicit" and self.boundary == "dirichlet":
            comm = self._ensure_grid().comm
            if comm.getSize() > 1:  # recompute the lift on every rank or none
                self._lift_dirty = bool(comm.tompi4py().allreduce(self._lift_dirty, op=_LOR()))
        if self.method == "implicit" and self._ensure_grid().comm.getSize() > 1:  # reassemble on every rank or none
            self._sink_dirty = bool(self._ensure_grid().comm.tompi4py().allreduce(self._sink_dirty, op=_LOR()))

    # -- state ----------------------------------------------------------------
    def save_state(self) -> dict[str, Any]:
        """Snapshot of the state, the input arrays, the boundary faces and the time (copies).

        The faces part is ``(values per face, received boundary ports, whether
        their data is still to be taken)``: with it a restored run holds the
        same boundary values as the saved one and rebuilds the Dirichlet lift
        when they differ from the current ones.
        """
        if self._u is None:
            self._ensure_grid()
        assert self._u is not None and self._u_in is not None and self._s is not None
        return {
            "u": self._u.copy(),
            "state_in": self._u_in.copy(),
            "source_in": self._s.copy(),
            "sink_in": None if self._lam is None else self._lam.copy(),
            "t": self.t,
            "other": {k: v.copy() for k, v in self._arrays.items()},
            "faces": (self._faces.copy(), set(self._received), self._faces_dirty),
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Refill the arrays in place from :meth:`save_state` (the Vecs keep their memory)."""
        if self._u is None:
            self._ensure_grid()
        assert self._u is not None and self._u_in is not None and self._s is not None
        self._u[...] = state["u"]
        self._u_in[...] = state["state_in"]
        self._s[...] = state["source_in"]
        if state.get("sink_in") is not None and self._lam is not None:
            self._lam[...] = state["sink_in"]
            self._sink_dirty = True
        for k, v in state["other"].items():
            self.restore_port(k, v)
        self.t = state["t"]
        if "faces" in state:
            faces, received, dirty = state["faces"]
            self._received = set(received)
            self._faces_dirty = dirty
            if not np.array_equal(faces, self._faces):
                self._lift_dirty = True
            self._faces = faces.copy()
            self._bvals = self._faces[self._bface] if self._bface.size else np.empty(0)

    def finalize(self) -> None:
        """Destroy every PETSc object of the component; the port arrays stay readable.

        :meth:`initialize` may be called again afterwards (a new run).
        """
        self._destroy()

    def _destroy_operators(self) -> None:
        for obj in (self._ksp, self._A, self._L, self._lift):
            if obj is not None:
                obj.destroy()
        self._ksp = self._A = self._L = self._lift = None
        self._A_dt = None

    def _destroy(self) -> None:
        self._destroy_operators()
        for vec in (self._x, self._sv, self._w):
            if vec is not None:
                vec.destroy()
        self._x = self._sv = self._w = None
        if self._grid is not None:
            self._grid.destroy()
        self._grid = self._grid_comm = None
