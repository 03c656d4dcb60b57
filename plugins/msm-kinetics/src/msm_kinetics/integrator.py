"""PETSc TS over a block of cells: one time stepper for every cell a rank holds.

:class:`TSIntegrator` wraps the state array of the ``state_out`` port (cells x
species, C order) in a PETSc ``Vec`` without copying, with block size =
number of species, so the TS advances the port array in place. All cells go
through one TS:

- implicit methods (``bdf``, ``rosw``, ``arkimex``) get the residual
  ``F = xdot - f(x, t)`` (``setIFunction``) and its Jacobian ``shift*I - df/dx``
  (``setIJacobian``) assembled from the analytic derivatives into an AIJ matrix
  with block size = number of species and a block-diagonal COO pattern set once
  (``setPreallocationCOO``; every assembly is one ``setValuesCOO`` of a
  ``cells x entries`` array). The linear solver defaults to ``preonly`` with
  ``pbjacobi``: the inverse of each cell's diagonal block, which for a
  block-diagonal matrix *is* the exact solve, with no communication;
- the explicit ``rk`` gets ``f`` (``setRHSFunction``).

Steps are chosen by ``TSAdapt`` ``basic`` from the method's embedded error
estimate with the user's ``rtol``/``atol``, measured in the **max norm**
(``-ts_adapt_wnormtype infinity``): every cell meets the tolerance (a 2-norm
would average a few reacting cells' errors away among many quiet ones), and the
max, unlike a sum, is reduced exactly over MPI ranks.

Distributed, the TS lives on the component's communicator over each rank's
block of cells: one step-size sequence for the whole field, the same as in a
serial run of the same cells. Everything collective is a max (error norm,
initial step) or rank-local (residual, Jacobian, block solves); Newton-based
methods (``bdf``, ``arkimex``) also compute 2-norms of residuals for their
convergence tests, whose sums may round differently over different numbers of
ranks, so their results match a serial run up to round-off-triggered
differences in the iterations (far below the tolerance); ``rosw`` (linearly
implicit, no Newton iteration) and ``rk`` repeat the serial run bit for bit.

PETSc options with the prefix ``<component name>_`` (e.g. ``-micro_ts_adapt_clip``,
``-micro_snes_rtol``) override these defaults.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from msm_kinetics.system import CellSystem
from msmcore.errors import ConfigurationError, ConvergenceError, CouplingError

__all__ = ["IMPLICIT_METHODS", "TS_METHODS", "TSIntegrator", "block_matrix"]

logger = logging.getLogger(__name__)

#: method setting -> PETSc TS type
TS_METHODS = {"bdf": "bdf", "rosw": "rosw", "arkimex": "arkimex", "rk": "rk"}
IMPLICIT_METHODS = frozenset({"bdf", "rosw", "arkimex"})
#: the variant each method uses unless the ``variant`` setting names another
DEFAULT_VARIANTS = {"bdf": "2", "rosw": "rodaspr", "arkimex": "3", "rk": "5dp"}


def block_matrix(system: CellSystem, nlocal: int, ncells: int, first_cell: int, comm: Any) -> Any:
    """An AIJ ``Mat`` for the Jacobian of ``ncells`` cells, ``nlocal`` of them here from ``first_cell`` on.

    Block size = number of species; the COO pattern (``setPreallocationCOO``,
    global indices) is :attr:`CellSystem.pattern` repeated on the diagonal, one
    block per cell: fill it with ``setValuesCOO`` of a ``(nlocal, nnz)`` array.
    ``comm`` is an mpi4py communicator or ``None`` (serial).
    """
    from petsc4py import PETSc

    ns = system.nspecies
    pattern = np.array(system.pattern, dtype=np.int64).reshape(-1, 2)
    base = (first_cell + np.arange(nlocal, dtype=np.int64))[:, None] * ns
    rows = (base + pattern[:, 0]).reshape(-1).astype(PETSc.IntType)
    cols = (base + pattern[:, 1]).reshape(-1).astype(PETSc.IntType)
    size = (nlocal * ns, ncells * ns)
    J = PETSc.Mat().createAIJ(size=(size, size), bsize=ns, comm=PETSc.COMM_SELF if comm is None else comm)
    J.setPreallocationCOO(rows, cols)
    return J


@contextmanager
def _default_options(prefix: str, defaults: dict[str, str]) -> Iterator[None]:
    """Put ``defaults`` into PETSc's options database under ``prefix`` where the user set nothing."""
    from petsc4py import PETSc

    opts = PETSc.Options()
    added = []
    for key, value in defaults.items():
        name = f"{prefix}{key}"
        if not opts.hasName(name):
            opts.setValue(name, value)
            added.append(name)
    try:
        yield
    finally:
        for name in added:
            opts.delValue(name)


class TSIntegrator:
    """One PETSc TS advancing a block of cells in place (see the module docs).

    Parameters
    ----------
    system
        The compiled network.
    state
        This rank's state, shape ``(ncells_local, nspecies)``, C-contiguous; the
        TS works in this memory.
    comm
        mpi4py communicator of the component (``None``: serial).
    ncells
        Cells over all ranks.
    method, variant
        ``bdf`` (variant: the order, 1-6), ``rosw``, ``arkimex``, ``rk`` (variant: a PETSc
        TSRosWType / TSARKIMEXType / TSRKType name).
    rtol, atol
        Error tolerances of the step-size control.
    max_steps
        Most steps one :meth:`integrate` call may take.
    prefix
        PETSc options prefix.
    where
        Names the component in messages.
    """

    def __init__(self, system: CellSystem, state: np.ndarray, *, comm: Any, ncells: int, method: str,
                 variant: str | None, rtol: float, atol: float, max_steps: int, prefix: str,
                 where: str) -> None:
        from petsc4py import PETSc

        self.system = system
        self.comm = comm
        self.method = method
        self.where = where
        self.rtol, self.atol, self.max_steps = rtol, atol, max_steps
        ns = system.nspecies
        nloc = state.shape[0]
        if not state.flags.c_contiguous:
            raise ValueError("the state must be C-contiguous")
        self.state = state
        pcomm = PETSc.COMM_SELF if comm is None else comm
        self.x = PETSc.Vec().createWithArray(state.reshape(-1), size=(nloc * ns, ncells * ns), bsize=ns,
                                             comm=pcomm)
        self.ts = ts = PETSc.TS().create(comm=pcomm)
        ts.setOptionsPrefix(prefix)
        ts.setType(TS_METHODS[method])
        ts.setProblemType(PETSc.TS.ProblemType.NONLINEAR)
        self.J: Any = None
        variant = variant or DEFAULT_VARIANTS[method]
        defaults = {"ts_adapt_type": "basic", "ts_adapt_wnormtype": "infinity"}
        if method in IMPLICIT_METHODS:
            first_cell = self.x.getOwnershipRange()[0] // ns
            self.J = block_matrix(system, nloc, ncells, first_cell, comm)
            self._values = np.zeros((nloc, system.nnz))
            ts.setIFunction(self._ifunction, self.x.duplicate())
            ts.setIJacobian(self._ijacobian, self.J, self.J)
            ksp = ts.getSNES().getKSP()
            ksp.setType("preonly")
            ksp.getPC().setType("pbjacobi")
        else:
            ts.setRHSFunction(self._rhsfunction, self.x.duplicate())
        if method == "bdf":
            defaults["ts_bdf_order"] = variant
        elif method == "rosw":
            defaults["ts_rosw_type"] = variant
        elif method == "arkimex":
            defaults["ts_arkimex_type"] = variant
        else:
            defaults["ts_rk_type"] = variant
        ts.setTolerances(rtol=rtol, atol=atol)
        ts.setExactFinalTime(PETSc.TS.ExactFinalTime.MATCHSTEP)
        ts.setMaxSNESFailures(-1)        # a failed Newton solve shrinks the step instead
        ts.setMaxStepRejections(100)
        ts.setErrorIfStepFails(False)   # failures are reported through the converged reason
        ts.setPostStep(self._poststep)
        try:
            with _default_options(prefix, defaults):
                ts.setFromOptions()
        except PETSc.Error as exc:
            self.destroy()
            lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
            raise ConfigurationError(
                f"{where}: PETSc rejects the TS set-up for method '{method}' with variant {variant!r}: "
                f"{lines[-1] if lines else exc}") from None
        #: the step the adaptivity proposed last (not shortened to land on a window's end)
        self.dt_next: float | None = None
        self._t_end = 0.0
        #: counters of the last :meth:`integrate` call
        self.stats: dict[str, int] = {}

    # -- PETSc callbacks ------------------------------------------------------------------
    def _block(self, vec: Any) -> np.ndarray:
        return vec.getArray(readonly=True).reshape(-1, self.system.nspecies)

    def _ifunction(self, ts: Any, t: float, x: Any, xdot: Any, f: Any) -> None:
        X, Xdot = self._block(x), self._block(xdot)
        with f as farr:
            F = farr.reshape(-1, self.system.nspecies)
            self.system.rhs(X, t, F)
            np.subtract(Xdot, F, out=F)

    def _ijacobian(self, ts: Any, t: float, x: Any, xdot: Any, shift: float, A: Any, P: Any) -> None:
        V = self._values
        self.system.jacobian(self._block(x), t, V)
        np.negative(V, out=V)
        V[:, self.system.diagonal] += shift
        P.setValuesCOO(V.reshape(-1))
        if A is not P:
            A.assemble()

    def _rhsfunction(self, ts: Any, t: float, x: Any, f: Any) -> None:
        with f as farr:
            self.system.rhs(self._block(x), t, farr.reshape(-1, self.system.nspecies))

    def _poststep(self, ts: Any) -> None:
        t, dt = ts.getTime(), ts.getTimeStep()
        if t + dt < self._t_end - 1e-12 * abs(self._t_end):  # not shortened to hit the end
            self.dt_next = dt

    # -- use --------------------------------------------------------------------------------
    def initial_step(self, t0: float) -> float:
        """A first step from the state's scale and slope (Hairer, Norsett & Wanner, sec. II.4).

        ``0.01 * max|x|/w / max|f|/w`` with weights ``w = atol + rtol*|x|``, the max
        taken over all cells and ranks (exact, so every rank gets the same value).
        """
        X = self.state
        F = np.empty_like(X)
        if X.shape[0]:
            self.system.rhs(X, t0, F)
            w = self.atol + self.rtol * np.abs(X)
            local = np.array([float(np.max(np.abs(X) / w)), float(np.max(np.abs(F) / w))])
        else:
            local = np.zeros(2)
        if self.comm is not None and self.comm.Get_size() > 1:
            from mpi4py import MPI

            both = np.empty(2)
            self.comm.Allreduce(local, both, op=MPI.MAX)
            local = both
        d0, d1 = local
        if not (np.isfinite(d0) and np.isfinite(d1)) or d0 < 1e-5 or d1 < 1e-5:
            return 1e-6
        return float(0.01 * d0 / d1)

    def integrate(self, t0: float, t1: float, dt0: float) -> None:
        """Advance the state in place from ``t0`` to ``t1``, first trying a step ``dt0``.

        Raises
        ------
        msmcore.ConvergenceError
            When the TS stops before ``t1`` (a diverged nonlinear solve, too many
            rejected steps, the step limit).
        msmcore.CouplingError
            When PETSc itself fails (e.g. a solver option that does not fit).
        """
        from petsc4py import PETSc

        ts = self.ts
        ts.setTime(t0)
        ts.setMaxTime(t1)
        ts.setStepNumber(0)
        ts.setMaxSteps(self.max_steps)
        ts.setTimeStep(min(dt0, t1 - t0))
        ts.restartStep()  # no history from an earlier window (multistep methods, FSAL)
        self._t_end = t1
        steps0 = ts.getStepRejections(), ts.getSNESFailures()
        try:
            ts.solve(self.x)
        except PETSc.Error as exc:  # e.g. a PETSc option that does not fit, or an error in a callback
            lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
            raise CouplingError(
                f"{self.where}: PETSc failed while integrating from t={t0!r} to t={t1!r} with method "
                f"'{self.method}': {lines[-1] if lines else exc}") from exc
        reason = ts.getConvergedReason()
        self.stats = {"steps": ts.getStepNumber(), "rejected": ts.getStepRejections() - steps0[0],
                      "snes_failures": ts.getSNESFailures() - steps0[1]}
        if reason < 0 or ts.getTime() < t1 - 1e-12 * max(abs(t1), 1.0):
            names = {v: k for k, v in vars(PETSc.TS.ConvergedReason).items() if isinstance(v, int)}
            raise ConvergenceError(
                f"{self.where}: the TS ({self.method}) stopped at t={ts.getTime()!r} before t={t1!r} "
                f"({names.get(reason, reason)}, {self.stats['steps']} steps, "
                f"{self.stats['rejected']} rejected, last step {ts.getTimeStep()!r} s); loosen rtol/atol, "
                f"raise max_steps (now {self.max_steps}), try another method, or check the model and "
                "the state received on state_in")
        logger.debug("%s: TS %s from t=%g to %g in %d steps (%d rejected)", self.where, self.method, t0, t1,
                     self.stats["steps"], self.stats["rejected"])

    def jacobian(self, t: float) -> Any:
        """The ODE Jacobian ``df/dx`` at the current state as an assembled PETSc ``Mat``.

        A new matrix with the block-diagonal pattern and block size of the one
        the TS uses (which holds ``shift*I - df/dx``).
        """
        if self.J is None:
            raise ConfigurationError(f"{self.where}: method '{self.method}' assembles no Jacobian")
        V = np.zeros_like(self._values)
        self.system.jacobian(self.state, t, V)
        J = block_matrix(self.system, self.state.shape[0], self.x.getSize() // self.system.nspecies,
                         self.x.getOwnershipRange()[0] // self.system.nspecies, self.comm)
        J.setValuesCOO(V.reshape(-1))
        return J

    def destroy(self) -> None:
        """Free the PETSc objects."""
        for obj in (self.ts, self.J, self.x):
            if obj is not None:
                obj.destroy()
