"""Implicit (strong) coupling: each window iterated until the coupled data converge."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from msmcore.acceleration import Acceleration, ConstantRelaxation
from msmcore.errors import ConfigurationError, ConvergenceError, CouplingError
from msmcore.schemes.base import Scheme, check_order, check_window

if TYPE_CHECKING:
    from msmcore.coupling import Connection, Coupling
    from msmcore.runner import Runner

__all__ = ["Implicit", "ConvergenceWarning"]

logger = logging.getLogger(__name__)


class ConvergenceWarning(UserWarning):
    """An implicit window ended at its maximum iterations without converging (``on_divergence="warn"``)."""


def _tolerance(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
        raise ConfigurationError(f"Implicit {what} must be a finite number >= 0, got {value!r}")
    return float(value)


class Implicit(Scheme):
    """Implicit coupling: each window is repeated until the coupled data stop changing.

    Every iteration restores all components to the window's start
    (``save_state``/``restore_state``), gives them the current iterate of the
    coupled data, advances them to the window's end, and collects what the
    coupled connections now deliver. The acceleration turns that into the next
    iterate. The coupled data are, in the serial (Gauss–Seidel) variant, the
    connections that feed back from a later component to an earlier one in
    ``order``; in the parallel (Jacobi) variant, all connections.

    Parameters
    ----------
    window
        Coupling window length.
    variant
        ``"serial"`` or ``"parallel"``.
    order
        Serial order of the components; default the order they were added.
    acceleration
        :class:`~msmcore.acceleration.Acceleration`; default constant relaxation 0.5.
    rel_tol, abs_tol
        A coupled field has converged when ``|H(x) - x| <= rel_tol |H(x)|`` or
        ``|H(x) - x| <= abs_tol`` (Euclidean norms over the field).
    tolerances
        Per-field ``(rel_tol, abs_tol)`` overrides, keyed by the target
        ``"component.port"``.
    min_iterations, max_iterations
        Bounds on the iterations per window.
    on_divergence
        ``"raise"`` a :class:`~msmcore.errors.ConvergenceError` naming the window,
        its time and the residuals, or ``"warn"`` and accept the last iterate.
    """

    def __init__(self, window: float, *, variant: str = "serial", order: Sequence[str] | None = None,
                 acceleration: Acceleration | None = None, rel_tol: float = 1e-8, abs_tol: float = 1e-14,
                 tolerances: Mapping[str, tuple[float, float]] | None = None, min_iterations: int = 1,
                 max_iterations: int = 50, on_divergence: str = "raise") -> None:
        if variant not in ("serial", "parallel"):
            raise ConfigurationError(f"Implicit variant must be 'serial' or 'parallel', got {variant!r}")
        if on_divergence not in ("raise", "warn"):
            raise ConfigurationError(f"on_divergence must be 'raise' or 'warn', got {on_divergence!r}")
        for what, value in (("min_iterations", min_iterations), ("max_iterations", max_iterations)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ConfigurationError(f"Implicit({what}=...) must be a whole number, got {value!r}")
        if not 1 <= min_iterations <= max_iterations:
            raise ConfigurationError(
                f"need 1 <= min_iterations <= max_iterations, got {min_iterations}, {max_iterations}")
        if acceleration is not None and not isinstance(acceleration, Acceleration):
            raise ConfigurationError(f"Implicit(acceleration=...) must be an msmcore Acceleration (e.g. "
                                     f"msm.IQNILS()), got {acceleration!r}")
        self.window = float(check_window(window, "Implicit(window=...)", optional=False) or 0.0)
        self.variant = variant
        self.order = check_order(order, "Implicit(order=...)")
        self.acceleration = acceleration or ConstantRelaxation(0.5)
        self.rel_tol = _tolerance(rel_tol, "rel_tol")
        self.abs_tol = _tolerance(abs_tol, "abs_tol")
        if not isinstance(tolerances, (Mapping, type(None))):
            raise ConfigurationError(f"Implicit(tolerances=...) must map 'component.port' to (rel_tol, abs_tol), "
                                     f"got {tolerances!r}")
        self.tolerances = {}
        for key, pair in (tolerances or {}).items():
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ConfigurationError(
                    f"Implicit tolerances['{key}'] must be a pair (rel_tol, abs_tol), got {pair!r}")
            self.tolerances[str(key)] = (_tolerance(pair[0], f"tolerances['{key}'] rel_tol"),
                                         _tolerance(pair[1], f"tolerances['{key}'] abs_tol"))
        self.min_iterations, self.max_iterations = int(min_iterations), int(max_iterations)
        self.on_divergence = on_divergence
        self._x = np.zeros(0)  # during a run: the next window's first iterate
        self._iterations: list[int] = []

    needs_state = True

    def window_length(self, coupling: Coupling) -> float:
        return self.window

    # -- set-up ------------------------------------------------------------------
    def _order(self, coupling: Coupling) -> list[str]:
        names = list(coupling.components)
        if self.order is None:
            return names
        if sorted(self.order) != sorted(names):
            raise CouplingError(f"order={self.order} must name every component exactly once: {names}")
        return list(self.order)

    def coupled(self, coupling: Coupling) -> list[Connection]:
        """The connections whose data the scheme iterates on."""
        if self.variant == "parallel":
            return list(coupling.connections)
        position = {n: i for i, n in enumerate(self._order(coupling))}
        return [c for c in coupling.connections if position[c.source] >= position[c.target]]

    def validate(self, coupling: Coupling) -> None:
        order = self._order(coupling)
        picked = [str(c) for c in self.coupled(coupling) if c.target_component is not None]
        if picked:
            raise CouplingError(f"Implicit coupling cannot yet iterate on connections into one component of a "
                                f"port ({', '.join(picked)}); connect whole ports")
        targets = {f"{c.target}.{c.target_port}" for c in coupling.connections}
        unknown = sorted(set(self.tolerances) - targets)
        if unknown:
            raise CouplingError(f"tolerances name {unknown}, which are not connected inputs ({sorted(targets)})")
        if not self.coupled(coupling):
            logger.info("Implicit(%s): no connection feeds back in order %s; every window converges at once",
                        self.variant, order)

    # -- the run ----------------------------------------------------------------------
    def run(self, runner: Runner) -> None:
        coupling = runner.coupling
        order = self._order(coupling)
        coupled = self.coupled(coupling)
        exclude = set(coupled)
        sizes = runner.sizes(coupled)
        bounds = np.cumsum([0, *sizes])
        labels = [f"{c.target}.{c.target_port}" for c in coupled]
        # One block per coupled connection: the acceleration scales each (IQN-ILS's
        # preconditioner) and starts afresh, so a second run repeats the first.
        self.acceleration.setup(sizes, labels)
        tols = [self.tolerances.get(lbl, (self.rel_tol, self.abs_tol)) for lbl in labels]
        iterations: list[int] = []
        self._iterations = iterations
        runner.info["iterations"] = iterations
        runner.info["coupled"] = [str(c) for c in coupled]
        self._x = runner.transferred(coupled)  # initial guess: what the sources give at the start
        t = runner.t_reached
        for t_end in runner.windows(self.window):  # a resumed run has its x and history back now
            x = self._x
            index = runner.windows_done
            saved = runner.save_states()
            self.acceleration.start_window()
            converged = False
            for k in range(1, self.max_iterations + 1):
                if k > 1:
                    runner.restore_states(saved)
                runner.put(coupled, x)
                if self.variant == "serial":
                    for name in order:
                        runner.deliver(name, exclude)
                        runner.advance(name, t_end)
                else:
                    for name in order:
                        runner.advance(name, t_end)
                x_tilde = runner.transferred(coupled)
                residuals = [(float(np.linalg.norm(x_tilde[a:b] - x[a:b])), float(np.linalg.norm(x_tilde[a:b])))
                             for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
                converged = all(r <= abs_tol or r <= rel * norm
                                for (r, norm), (rel, abs_tol) in zip(residuals, tols, strict=True))
                if converged and k >= self.min_iterations:
                    break
                if k < self.max_iterations:
                    x = self.acceleration.next(x, x_tilde)
            iterations.append(k)
            if not converged:
                self._diverged(index, t, t_end, k, labels, residuals)
            self.acceleration.end_window()
            self._x = x_tilde  # the next window starts from the newest answer
            runner.sync(t_end)
            t = t_end

    def checkpoint_state(self) -> dict[str, Any]:
        """The next window's first iterate, the iterations per window so far and the acceleration's state."""
        return {"x": self._x.copy(), "iterations": np.asarray(self._iterations, dtype=np.int64),  # one array
                "acceleration": self.acceleration.checkpoint_state()}

    def restore_checkpoint_state(self, state: Any) -> None:
        """Continue from :meth:`checkpoint_state` (the acceleration set up for this run's layout first)."""
        if state["x"].shape != self._x.shape:
            raise CouplingError(f"the snapshot's coupled data hold {state['x'].shape[0]} values, this run's "
                                f"{self._x.shape[0]}; resume with the coupling that wrote it")
        self._x = np.array(state["x"], copy=True)
        self._iterations[:] = [int(k) for k in state["iterations"]]
        self.acceleration.restore_checkpoint_state(state["acceleration"])

    def _diverged(self, index: int, t: float, t_end: float, k: int, labels: list[str],
                  residuals: list[tuple[float, float]]) -> None:
        detail = ", ".join(f"{lbl}: |r| = {r:.3e} (|H(x)| = {n:.3e})"
                           for lbl, (r, n) in zip(labels, residuals, strict=True))
        message = (f"implicit coupling window {index} (t = {t:.6g} to {t_end:.6g}) did not converge in "
                   f"{k} iterations with {self.acceleration!r}; residuals: {detail}. Raise max_iterations, "
                   "loosen rel_tol/abs_tol, use a stronger acceleration, or pass on_divergence='warn'")
        if self.on_divergence == "raise":
            # Every rank sees the same gathered residuals: every rank raises this.
            raise ConvergenceError(message, collective=True)
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
        logger.warning(message)

    def __repr__(self) -> str:
        return (f"Implicit(window={self.window}, variant={self.variant!r}, acceleration={self.acceleration!r}, "
                f"rel_tol={self.rel_tol}, max_iterations={self.max_iterations})")
