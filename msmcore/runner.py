"""The run-time side of a coupling: fields, transfers, timing, sampling, failures.

A :class:`Runner` is built by :meth:`msmcore.Coupling.run`. It initialises the
components, wraps every connected port array in a :class:`~msmcore.field.Field`,
builds one :class:`~msmcore.transfer.Transfer` per connection, and offers the
scheme three verbs: :meth:`Runner.deliver` (move data into a component's
inputs), :meth:`Runner.advance` (advance a component to a time) and
:meth:`Runner.sync` (a coupling window ended: sample, show progress).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from msmcore.errors import CouplingError, MSMError
from msmcore.field import Field
from msmcore.ports import Direction
from msmcore.progress import ProgressBar
from msmcore.results import Recorder, Result
from msmcore.transfer import Transfer

if TYPE_CHECKING:
    from msmcore.coupling import Connection, Coupling
    from msmcore.schemes import Scheme

__all__ = ["Runner"]

logger = logging.getLogger(__name__)


class Runner:
    """Drives one run of a :class:`~msmcore.coupling.Coupling` for a scheme."""

    def __init__(self, coupling: Coupling, *, start: float, until: float, sample_every: float | None,
                 quiet: bool, check_finite: bool) -> None:
        self.coupling = coupling
        self.components = coupling.components
        self.start, self.until = start, until
        self.check_finite = check_finite
        self.sample_every = sample_every
        self.compute_s: dict[str, float] = defaultdict(float)
        self.exchange_s: dict[str, float] = defaultdict(float)
        self.advances: dict[str, int] = defaultdict(int)
        self.fields: dict[tuple[str, str], Field] = {}
        self.transfers: dict[str, list[tuple[Connection, Transfer]]] = defaultdict(list)
        self.recorder: Recorder | None = None
        self.progress = ProgressBar(start, until, quiet=quiet)

    # -- verbs for schemes -------------------------------------------------------
    def deliver(self, name: str) -> None:
        """Apply every transfer into component ``name`` and call its ``receive`` per port."""
        comp = self.components[name]
        for conn, transfer in self.transfers[name]:
            t0 = time.perf_counter()
            transfer.apply()
            self.exchange_s[name] += time.perf_counter() - t0
            self._call(name, "receive", lambda: comp.receive(conn.target_port))

    def advance(self, name: str, t: float) -> None:
        """Advance component ``name`` to time ``t`` (timed, checked)."""
        comp = self.components[name]
        t0 = time.perf_counter()
        self._call(name, f"advance to t={t:.6g}", lambda: comp.advance(t))
        self.compute_s[name] += time.perf_counter() - t0
        self.advances[name] += 1
        if abs(comp.t - t) > 1e-9 * max(1.0, abs(t)):
            raise CouplingError(f"component '{name}' was asked to advance to t={t:.9g} but stopped at "
                                f"t={comp.t:.9g}; its advance() must end exactly at the requested time")
        comp.t = t
        if self.check_finite:
            self._check_outputs(name, t)

    def sync(self, t: float) -> None:
        """A coupling window ended at ``t``: sample if due, update the progress bar."""
        if self.recorder is not None:
            self.recorder.maybe_sample(t)
        self.progress.update(t)

    # -- the run ---------------------------------------------------------------
    def run(self, scheme: Scheme) -> Result:
        """Initialise, build transfers, let ``scheme`` advance time, finalise."""
        wall0 = time.perf_counter()
        started: list[str] = []
        try:
            for name, comp in self.components.items():
                comp.comm = self.coupling.comm
                comp.t = self.start
                self._call(name, "initialize", comp.initialize)
                comp.t = self.start
                started.append(name)
                if self.check_finite:
                    self._check_outputs(name, self.start)
            self._build_transfers()
            recorder = Recorder(self.components, self.coupling.keys, self.start, self.sample_every)
            self.recorder = recorder
            recorder.sample(self.start)
            self.progress.t0 = time.perf_counter()
            scheme.run(self)
            recorder.sample(self.until)
        finally:
            self.progress.close()
            for name in started:
                try:
                    self.components[name].finalize()
                except Exception:  # noqa: BLE001 - finalisation must reach every component
                    logger.exception("component '%s' failed to finalize", name)
            for pairs in self.transfers.values():
                for _, transfer in pairs:
                    transfer.destroy()
            for f in self.fields.values():
                f.destroy()
        timings = {
            name: {"compute_s": self.compute_s[name], "exchange_s": self.exchange_s[name],
                   "advance_calls": float(self.advances[name])}
            for name in self.components
        }
        return Result(recorder.datasets(), timings, wall_s=time.perf_counter() - wall0,
                      scheme=repr(scheme))

    # -- internals -----------------------------------------------------------------
    def _field(self, name: str, port: str) -> Field:
        key = (name, port)
        if key not in self.fields:
            comp = self.components[name]
            array = self._call(name, f"port_array('{port}')", lambda: comp.port_array(port))
            self.fields[key] = Field(array, comp.ports[port].spec, f"{name}.{port}")
        return self.fields[key]

    def _build_transfers(self) -> None:
        for conn in self.coupling.connections:
            src = self._field(conn.source, conn.source_port)
            dst = self._field(conn.target, conn.target_port)
            self.transfers[conn.target].append((conn, Transfer(src, dst, conn.factor)))

    def _call(self, name: str, what: str, fn):  # type: ignore[no-untyped-def]
        try:
            return fn()
        except MSMError as exc:
            comp = self.components[name]
            if f"'{name}'" in str(exc):
                raise
            raise CouplingError(f"component '{name}' ({self.coupling.keys[name]}) failed in {what} "
                                f"at t={comp.t:.6g}: {exc}") from exc
        except Exception as exc:
            comp = self.components[name]
            raise CouplingError(f"component '{name}' ({self.coupling.keys[name]}) failed in {what} "
                                f"at t={comp.t:.6g}: {type(exc).__name__}: {exc}") from exc

    def _check_outputs(self, name: str, t: float) -> None:
        comp = self.components[name]
        for pname, port in comp.ports.items():
            if port.direction is not Direction.OUT:
                continue
            values = comp.port_array(pname)
            if not np.isfinite(values).all():
                bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
                first = np.unravel_index(int(np.argmin(np.isfinite(values))), values.shape)
                raise CouplingError(
                    f"component '{name}' ({self.coupling.keys[name]}) produced {bad} non-finite value(s) "
                    f"on port '{pname}' at t={t:.6g} (first at index {tuple(int(i) for i in first)}); "
                    "check its time step and settings"
                )
