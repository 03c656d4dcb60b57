"""Newton solver of the stream function–vorticity equations on a PETSc DMDA (2 dof per node).

The residual (:mod:`msm_fluid.navier_stokes_discrete`) is evaluated in NumPy
on each rank's extended box; the Jacobian is assembled analytically
(:mod:`msm_fluid.navier_stokes_jacobian`) or, with ``jacobian="fd"``, by
finite differences with the DMDA's colouring (PETSc's
``SNESComputeJacobianDefaultColor``, as in PETSc's
``src/snes/tutorials/ex19.c`` when no Jacobian is given), and
Newton's linear systems are solved by PETSc's native LU on one rank and by
GMRES with an additive Schwarz (ILU) preconditioner on several (no external
direct solver needed). Every choice can be overridden from the PETSc options
database with the solver's prefix.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from petsc4py import PETSc

from msm_fluid.grid import petsc_comm
from msm_fluid.navier_stokes_bc import Boundaries
from msm_fluid.navier_stokes_discrete import Layout, Physics, curl, interior_operator, residual, velocity
from msm_fluid.navier_stokes_jacobian import JacobianAssembler

__all__ = ["OptionsError", "StreamVorticitySolver", "default_options"]

logger = logging.getLogger(__name__)


class OptionsError(ValueError):
    """PETSc rejected the solver options (a value of the wrong type, an unknown solver type)."""


def default_options(nprocs: int) -> dict[str, str]:
    """Fast defaults: Newton (line search, Eisenstat–Walker inner tolerances), GMRES(100) with ILU(2)
    on one rank and additive Schwarz (overlap 2, ILU(2) blocks) on more."""
    opts = {"snes_type": "newtonls", "snes_linesearch_type": "bt", "snes_max_it": "50",
            "snes_ksp_ew": "", "ksp_type": "gmres", "ksp_gmres_restart": "100", "ksp_max_it": "5000"}
    if nprocs == 1:
        opts.update({"pc_type": "ilu", "pc_factor_levels": "2"})
    else:
        opts.update({"pc_type": "asm", "pc_asm_overlap": "2", "sub_pc_type": "ilu", "sub_pc_factor_levels": "2"})
    return opts


def _partition(nodes: tuple[int, int], comm: PETSc.Comm) -> tuple[tuple[int, ...], tuple[list[int], ...]]:
    """PETSc's split of the nodes over the ranks, checked on every rank alike.

    PETSc checks a rank's box against the stencil width on that rank only (the
    others then wait forever), so the split comes from a probe DMDA of stencil
    width 0 and every rank must get at least 2 nodes per axis.

    Raises
    ------
    ValueError
        Some rank would get fewer than 2 nodes along an axis.
    """
    nx, ny = nodes
    probe = PETSc.DMDA().create(dim=2, dof=1, sizes=(ny, nx), stencil_width=0, setup=False, comm=comm)
    try:
        probe.setUp()
        procs = tuple(int(p) for p in probe.getProcSizes())
        ranges = tuple([int(n) for n in r] for r in probe.getOwnershipRanges())
    finally:
        probe.destroy()
    for dmda_axis, sizes in enumerate(ranges):
        if min(sizes) < 2:
            axis = "xy"[1 - dmda_axis]
            raise ValueError(f"{comm.getSize()} ranks split the {nodes[1 - dmda_axis]} nodes along {axis} into "
                             f"{sizes}; every rank needs at least 2 (the wall formulas reach 2 nodes in)")
    return procs, ranges


class StreamVorticitySolver:
    """The DMDA, the vectors and the SNES of one component run.

    Parameters
    ----------
    nodes, spacing
        Grid nodes ``(nx, ny)`` and spacing ``(hx, hy)``.
    boundaries
        Edge kinds.
    comm
        Communicator (``None``: serial).
    prefix
        PETSc options prefix of the SNES (``"<component>_"``).
    options
        Options set under ``prefix`` before ``setFromOptions`` (user entries
        replace the defaults; anything already in the options database wins).
    snes_rtol, snes_atol
        Newton tolerances.
    jacobian
        ``"analytic"`` (:mod:`msm_fluid.navier_stokes_jacobian`) or ``"fd"``
        (finite differences with the DMDA's colouring).
    """

    def __init__(self, nodes: tuple[int, int], spacing: tuple[float, float], boundaries: Boundaries,
                 comm: Any, prefix: str, options: Mapping[str, str], snes_rtol: float,
                 snes_atol: float, jacobian: str = "analytic") -> None:
        self.comm = petsc_comm(comm)
        nx, ny = nodes
        procs, ranges = _partition(nodes, self.comm)
        self.da = PETSc.DMDA().create(
            dim=2, dof=2, sizes=(ny, nx), proc_sizes=procs, ownership_ranges=ranges, stencil_width=2,
            stencil_type=PETSc.DMDA.StencilType.STAR,
            boundary_type=(PETSc.DM.BoundaryType.NONE,) * 2, comm=self.comm)
        owned = tuple((int(s), int(e)) for s, e in self.da.getRanges()[::-1])
        ghosted = tuple((int(s), int(e)) for s, e in self.da.getGhostRanges()[::-1])
        self.layout = Layout(nodes, spacing, owned, boundaries)  # type: ignore[arg-type]
        self.local_shape = (owned[0][1] - owned[0][0], owned[1][1] - owned[1][0])
        self._ghost_shape = (ghosted[0][1] - ghosted[0][0], ghosted[1][1] - ghosted[1][0])
        self._ghost_at = tuple(slice(g0 - (s - 2), g1 - (s - 2))
                               for (s, _), (g0, g1) in zip(owned, ghosted, strict=True))
        lnx, lny = self.local_shape
        dtype = np.dtype(PETSc.ScalarType)
        self.solution = np.zeros((lnx, lny, 2), dtype=dtype)  # the state: psi, omega
        self.force = np.zeros((lnx, lny, 2), dtype=dtype)
        self._global_size = 2 * nx * ny
        self.x = self._wrap(self.solution)
        self.f = self._wrap(self.force)
        self._xl = self.da.createLocalVec()
        self._fl = self.da.createLocalVec()
        self._E = np.zeros((lnx + 4, lny + 4, 2), dtype=dtype)
        self._EF = np.zeros((lnx + 4, lny + 4, 2), dtype=dtype)
        self._r = self.da.createGlobalVec()
        self.phys: Physics | None = None
        self.snes = PETSc.SNES().create(comm=self.comm)
        self.snes.setDM(self.da)
        self.snes.setOptionsPrefix(prefix)
        self.snes.setFunction(self._function, self._r)
        self._J = self.da.createMat()
        self._assembler = JacobianAssembler(self.layout, ghosted)  # type: ignore[arg-type]
        if jacobian == "fd":
            self.snes.setJacobian(None, self._J, self._J)
            self.snes.setUseFD(True)
        else:
            self.snes.setJacobian(self._jacobian, self._J, self._J)
        self.snes.setTolerances(rtol=snes_rtol, atol=snes_atol)
        db = PETSc.Options()
        self._set: list[str] = []
        self.user_options = [prefix + key.lstrip("-") for key in options]
        self._ew_fallback = not any(db.hasName(prefix + key) or prefix + key in self.user_options
                                    for key in ("snes_ksp_ew", "ksp_rtol"))
        for key, value in {**default_options(self.comm.getSize()), **dict(options)}.items():
            name = prefix + key.lstrip("-")
            if not db.hasName(name):
                db.setValue(name, value)
                self._set.append(name)
        try:
            self.snes.setFromOptions()
        except PETSc.Error as exc:
            self.destroy()
            raise OptionsError(f"PETSc rejects the solver options (PETSc error {exc.ierr})") from None

    def unused_options(self) -> list[str]:
        """The caller's options (full names) that PETSc has not read (misspelt or not applicable)."""
        db = PETSc.Options()
        return [name for name in self.user_options if not db.used(name)]

    def _wrap(self, array: np.ndarray) -> PETSc.Vec:
        return PETSc.Vec().createWithArray(array.reshape(-1), size=(array.size, self._global_size),
                                           bsize=2, comm=self.comm)

    # -- extended boxes ---------------------------------------------------------
    def extended(self, vec: PETSc.Vec, local: PETSc.Vec, out: np.ndarray) -> np.ndarray:
        """Owned box plus two layers of neighbours (zeros outside the domain); collective."""
        self.da.globalToLocal(vec, local)
        out[self._ghost_at] = local.getArray(readonly=True).reshape(*self._ghost_shape, 2)
        return out

    def extended_solution(self) -> np.ndarray:
        """The current solution's extended box (a fresh copy; collective)."""
        self.x.stateIncrease()
        return self.extended(self.x, self._xl, np.zeros_like(self._E))

    def force_curl(self) -> np.ndarray:
        """Curl of the force at the owned nodes (collective)."""
        self.f.stateIncrease()
        return curl(self.extended(self.f, self._fl, self._EF), self.layout)

    def extended_force(self) -> np.ndarray:
        """The force's extended box (a fresh copy; collective)."""
        self.f.stateIncrease()
        return self.extended(self.f, self._fl, np.zeros_like(self._EF))

    def extended_of(self, array: np.ndarray) -> np.ndarray:
        """The extended box of a 2-component field given by this rank's owned array (collective)."""
        vec = self._wrap(np.ascontiguousarray(array, dtype=np.dtype(PETSc.ScalarType)))
        out = self.extended(vec, self._fl, np.zeros_like(self._E))
        vec.destroy()
        return out

    def _function(self, snes: PETSc.SNES, X: PETSc.Vec, F: PETSc.Vec) -> None:
        assert self.phys is not None
        E = self.extended(X, self._xl, self._E)
        residual(E, F.getArray().reshape(*self.local_shape, 2), self.layout, self.phys)

    def _jacobian(self, snes: PETSc.SNES, X: PETSc.Vec, J: PETSc.Mat, P: PETSc.Mat) -> None:
        assert self.phys is not None
        E = self.extended(X, self._xl, self._E)
        self._assembler.assemble(E, self.phys, P)
        if J != P:
            J.assemble()

    # -- solves -------------------------------------------------------------------
    def operator(self, phys: Physics) -> np.ndarray:
        """The interior operator at the current solution (for the theta method; collective)."""
        return interior_operator(self.extended_solution(), self.layout, phys)

    def solve(self, phys: Physics) -> tuple[int, int]:
        """Newton from the current solution; returns ``(converged reason, iterations)`` (collective).

        With the default Eisenstat–Walker inner tolerances a Newton solve can
        fail where exact inner solves converge (a buoyancy-driven step from
        rest: the loose first direction is no descent direction for the line
        search). Unless the caller chose ``snes_ksp_ew`` or ``ksp_rtol``, a
        failed solve is repeated once from the same start with inner solves to
        ``ksp_rtol = 1e-10`` (logged); the choice is made per solve, so a
        repeated window or a restart repeats it bit for bit.
        """
        self.phys = phys
        start = self.solution.copy() if self._ew_fallback else None
        self.x.stateIncrease()
        self.snes.solve(None, self.x)
        reason, its = int(self.snes.getConvergedReason()), int(self.snes.getIterationNumber())
        if reason > 0 or start is None or not self.snes.getUseEW():
            return reason, its
        logger.info("Newton with Eisenstat-Walker inner tolerances failed (reason %d after %d steps); "
                    "repeating the solve with inner solves to ksp_rtol=1e-10", reason, its)
        ksp = self.snes.getKSP()
        rtol = ksp.getTolerances()[0]
        self.snes.setUseEW(False)
        ksp.setTolerances(rtol=1e-10)
        self.solution[...] = start
        self.x.stateIncrease()
        try:
            self.snes.solve(None, self.x)
        finally:
            self.snes.setUseEW(True)
            ksp.setTolerances(rtol=rtol)
        return int(self.snes.getConvergedReason()), its + int(self.snes.getIterationNumber())

    def continuation(self, make: Callable[[float], Physics], factors: list[float]) -> tuple[int, int, float]:
        """Solve for each viscosity factor in turn (``make(factor)`` builds the physics), each
        solution the next one's initial guess; a failed step is retried halfway from the last
        converged one (at most 4 times). Returns the last reason, the total Newton iterations
        and the factor reached (collective)."""
        done, total, reason = None, 0, 0
        saved = self.solution.copy()
        queue = list(factors)
        retries = 0
        while queue:
            factor = queue[0]
            reason, its = self.solve(make(factor))
            total += its
            logger.debug("continuation: viscosity x %.4g: reason %d after %d Newton steps", factor, reason, its)
            if reason > 0:
                done = factor
                saved[...] = self.solution
                queue.pop(0)
                continue
            self.solution[...] = saved
            if retries >= 4:
                break
            retries += 1
            previous = done if done is not None else 2.0 * factor
            queue.insert(0, float(np.sqrt(previous * factor)))
        return reason, total, (done if done is not None else float("nan"))

    def velocity(self, out: np.ndarray, phys: Physics, E: np.ndarray | None = None) -> None:
        """Velocity at the owned nodes into ``out`` (collective)."""
        velocity(self.extended_solution() if E is None else E, out, self.layout, phys)

    def destroy(self) -> None:
        """Destroy every PETSc object (and the options this solver set)."""
        for obj in (self.snes, self._J, self._r, self._xl, self._fl, self.x, self.f, self.da):
            obj.destroy()
        db = PETSc.Options()
        for name in self._set:
            db.delValue(name)
