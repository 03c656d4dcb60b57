"""The run-time side of a coupling: placement, fields, transfers, timing, sampling, failures.

A :class:`Runner` is built by :meth:`msmcore.Coupling.run`. It gives each component
its communicator and initialises it on its ranks, wraps every connected port array
in a :class:`~msmcore.field.Field`, builds one :class:`~msmcore.transfer.Transfer`
per connection, and offers the scheme its verbs: :meth:`Runner.deliver` (move data
into a component's inputs), :meth:`Runner.advance` (advance a component to a time),
:meth:`Runner.sync` (a window ended), and for implicit schemes
:meth:`Runner.transferred`, :meth:`Runner.put`, :meth:`Runner.save_states` and
:meth:`Runner.restore_states`.

Under MPI every rank runs the scheme's loop. Transfers are collective on the parent
communicator, so every rank calls ``deliver`` in the same order; ``advance``,
``receive`` and state snapshots run only on the component's own ranks. An exception
on any rank ends the whole job: the failing rank reports what failed, where and when,
and aborts the parent communicator (a hang is never an option).
"""

from __future__ import annotations

import copy
import logging
import math
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from msmcore.agent_transfer import AgentTracker, AgentTransfer
from msmcore.component import Component
from msmcore.contract import ArrayWatch, delivered_mask
from msmcore.errors import CouplingError, MSMError
from msmcore.field import Field
from msmcore.parallel import allgather_by_index, split
from msmcore.ports import Direction
from msmcore.profile import (
    ADVANCE,
    CHECKPOINT,
    COUPLING,
    FINALIZE,
    INITIALIZE,
    RECEIVE,
    RESTORE_STATE,
    SAVE_STATE,
    TRANSFER,
    WAIT,
    EventLog,
    Profile,
    max_events_for,
)
from msmcore.progress import ProgressBar
from msmcore.results import Recorder, Result
from msmcore.stream import ResultsFile, ResultsWriter
from msmcore.timeline import same_time, substeps, window_ends
from msmcore.transfer import Transfer

if TYPE_CHECKING:
    from msmcore.checkpoint import Checkpointer, Snapshot
    from msmcore.coupling import Connection, Coupling
    from msmcore.schemes import Scheme

__all__ = ["Runner"]

logger = logging.getLogger(__name__)
_clock = time.perf_counter


class Runner:
    """Drives one run of a :class:`~msmcore.coupling.Coupling` for a scheme."""

    def __init__(self, coupling: Coupling, *, start: float, until: float, sample_every: float | None,
                 quiet: bool, check_finite: bool, window: float | None = None,
                 profile: bool | int | None = True, out: ResultsFile | None = None,
                 checkpointer: Checkpointer | None = None, resume: Snapshot | None = None) -> None:
        self.coupling = coupling
        self.components = coupling.components
        self.comm = coupling.comm
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.parallel = self.size > 1
        #: Whether this rank runs each component.
        self.member = {n: self.rank in coupling.placement[n] for n in self.components}
        self.start, self.until = start, until
        self.check_finite = check_finite
        self.sample_every = sample_every
        #: Every event of the run on this rank (:mod:`msmcore.profile`); ``_ix`` indexes its components.
        self.events = EventLog([*self.components, COUPLING], max_events=max_events_for(profile, self.size))
        self._ix = self.events.index
        self.fields: dict[tuple[str, str], Field] = {}
        self.transfers: dict[str, list[tuple[Connection, Transfer]]] = defaultdict(list)
        self.links: dict[Connection, Transfer] = {}
        self.window_start: dict[Connection, np.ndarray] = {}
        self.recorder: Recorder | None = None
        #: Where results are written as they come (``run(out=...)``), and its writer during a run.
        self.out = out
        self.sink: ResultsWriter | None = None
        #: The scheme's coupling window (the time resolution of samples).
        self.window = window
        self.watches: dict[str, ArrayWatch] = {}
        self.subcomms: list[Any] = []
        #: What the scheme reports about the run (e.g. iterations per window).
        self.info: dict[str, Any] = {}
        self.progress = ProgressBar(start, until, quiet=quiet or self.rank != 0)
        #: Windows completed since ``start`` (counted by :meth:`sync`; restored on resume).
        self.windows_done = 0
        #: The end of the last completed window (``start`` before the first).
        self.t_reached = start
        self.scheme: Scheme | None = None
        self.checkpointer = checkpointer
        self.resume = resume
        self._windows_used = False
        #: Agent sets: who follows which, and what each follower was last told (:mod:`msmcore.agent_transfer`).
        self.agents = AgentTracker(self.components, coupling.agent_bindings, self.member, self._call)

    # -- verbs for schemes -------------------------------------------------------
    def deliver(self, name: str, exclude: Collection[Connection] = ()) -> None:
        """Apply the transfers into component ``name`` (but ``exclude``), then ``receive`` once per port.

        Collective on the parent communicator: every rank calls it.
        """
        comp = self.components[name]
        pairs = [(c, t) for c, t in self.transfers[name] if c not in exclude]
        if not pairs:
            return
        if self.agents.active:  # agents changed in a receive(): followers are told before data moves
            self.agents.settle()
        member = self.member[name]
        record, ix = self.events.record, self._ix[name]
        t0 = _clock()
        for _, transfer in pairs:
            transfer.apply()
        t1 = _clock()
        record(ix, TRANSFER if member else WAIT, t0, t1, comp.t)  # not its rank: waiting for the collective
        if member:
            for port in dict.fromkeys(c.target_port for c, _ in pairs):
                self._call(name, "receive", comp.receive, port)
            record(ix, RECEIVE, t1, _clock(), comp.t)

    def transferred(self, connections: Sequence[Connection]) -> np.ndarray:
        """What the given connections deliver now (their transfers applied), concatenated.

        Each connection contributes its whole (global) target field, so every
        rank gets the same vector. The values land in the targets' input
        arrays, but no ``receive`` is called. Collective.
        """
        parts = []
        record = self.events.record
        for conn in connections:
            ix, t = self._ix[conn.target], self.components[conn.target].t
            t0 = _clock()
            link = self.links[conn]
            link.apply()
            dst = link.destination
            if dst.indices is not None:
                t1 = _clock()
                record(ix, TRANSFER if self.member[conn.target] else WAIT, t0, t1, t)
                parts.append(allgather_by_index(self.comm, dst.indices, dst.flat, dst.spec.size))
                record(ix, WAIT, t1, _clock(), t)
            else:
                parts.append(dst.flat.copy())
                record(ix, TRANSFER, t0, _clock(), t)
        return np.concatenate(parts) if parts else np.zeros(0)

    def sizes(self, connections: Sequence[Connection]) -> list[int]:
        """Global sizes of the connections' target fields (the blocks of :meth:`transferred`)."""
        return [self.links[c].destination.spec.size for c in connections]

    def put(self, connections: Sequence[Connection], values: np.ndarray) -> None:
        """Write ``values`` (as from :meth:`transferred`) into the targets' inputs, then ``receive`` once per port."""
        offset = 0
        received: dict[tuple[str, str], None] = {}
        for conn in connections:
            dst = self.links[conn].destination
            block = values[offset: offset + dst.spec.size]
            offset += dst.spec.size
            if not self.member[conn.target]:
                continue
            dst.flat[...] = block[dst.indices] if dst.indices is not None else block
            received[(conn.target, conn.target_port)] = None
        for target, port in received:
            comp = self.components[target]
            t0 = _clock()
            self._call(target, "receive", comp.receive, port)
            self.events.record(self._ix[target], RECEIVE, t0, _clock(), comp.t)

    def save_states(self) -> dict[str, tuple[float, Any]]:
        """Snapshot every component this rank runs (``save_state``) and its time."""
        states = {}
        for name, comp in self.components.items():
            if self.member[name]:
                t0 = _clock()
                states[name] = (comp.t, AgentTracker.wrap(comp, self._call(name, "save_state", comp.save_state)))
                self.events.record(self._ix[name], SAVE_STATE, t0, _clock(), comp.t)
        return states

    def restore_states(self, states: dict[str, tuple[float, Any]]) -> None:
        """Return every component to a snapshot of :meth:`save_states`."""
        own = {name: AgentTracker.unwrap(self.components[name], state)  # agent sets first: followers read them
               for name, (_, state) in states.items()}
        for name, (t, _) in states.items():
            comp = self.components[name]
            t0 = _clock()
            self._call(name, "restore_state", comp.restore_state, own[name])
            comp.t = t
            self.events.record(self._ix[name], RESTORE_STATE, t0, _clock(), t)
        self.agents.forget_changes()

    @contextmanager
    def checkpointing(self, t: float | None = None) -> Iterator[None]:
        """Profile the ``with`` block as the coupling's checkpoint (writing or reading a snapshot).

        Its time is recorded as ``checkpoint`` events of ``"(coupling)"``,
        except what components spend in ``save_state``/``restore_state``
        inside it, which is each component's own ``checkpoint`` time. Blocks
        do not nest.

        Parameters
        ----------
        t
            The simulation time of the snapshot (default: the run's start).
        """
        with self.events.enclosing(self._ix[COUPLING], CHECKPOINT, self.start if t is None else t):
            yield

    def advance(self, name: str, t: float) -> None:
        """Advance component ``name`` to time ``t`` on its ranks (timed, checked); a no-op elsewhere.

        Inputs of connections made with ``interpolate=True`` are set, before
        each of the component's sub-steps, to the linear interpolation in time
        between their value at the window's start and the value just delivered
        for its end, evaluated at the sub-step's end time.
        """
        comp = self.components[name]
        if self.resume is not None and not self._windows_used:
            self._not_resumable()
        if not self.member[name]:
            comp.t = t
            return
        t_before = comp.t
        t0 = _clock()
        interpolated = [c for c, _ in self.transfers[name] if c.interpolate]
        if interpolated:  # the receive() before each sub-step counts as advance
            self._advance_interpolated(name, t, interpolated)
        else:
            self._call(name, f"advance to t={t:.6g}", comp.advance, t)
        self.events.record(self._ix[name], ADVANCE, t0, _clock(), t)
        if not same_time(comp.t, t, abs(t - t_before)):
            raise CouplingError(f"component '{name}' was asked to advance from t={t_before:.12g} to t={t:.12g} but "
                                f"stopped at t={comp.t:.12g}; its advance() must end exactly at the requested time",
                                component=name)
        comp.t = t
        self.watches[name].check(comp, f"in advance() to t={t:.6g}")
        if self.agents.active:  # followers of sets whose agents changed are told now
            self.agents.settle()
            self.agents.check(name, f"{self._where(name)} after advance() to t={t:.6g}")
        if self.check_finite:
            self._check_outputs(name, t)

    def windows(self, window: float) -> Iterator[float]:
        """The ends of the windows still to run: ``window_ends(start, until, window)`` after those done.

        A resumed run continues the original sequence (the same
        ``start + i * window``, bit for bit) and, before its first window,
        gives the scheme back its state (:meth:`Scheme.restore_checkpoint_state`).
        """
        done = self.windows_done
        self._windows_used = True
        if self.resume is not None and self.scheme is not None:
            self.scheme.restore_checkpoint_state(self.resume.scheme)
        ends = window_ends(self.start, self.until, window, skip=max(done - 1, 0))
        if done:  # the window the snapshot ended must end where this run's window done - 1 does
            t_end = next(ends, math.nan)
            if not same_time(t_end, self.t_reached, window):
                raise CouplingError(f"the snapshot was taken at t={self.t_reached:.12g}, which is not the end of "
                                    f"window {done - 1} (t={t_end:.12g}) of this run; resume with the same window",
                                    collective=True)
        yield from ends

    def sync(self, t: float) -> None:
        """A coupling window ended at ``t``: sample if due, snapshot if due, update the progress bar.

        The values now in the inputs of interpolating connections become their
        window-start values for the next window.
        """
        for conn, start in self.window_start.items():
            start[...] = self.links[conn].destination.flat
        if self.resume is not None and not self._windows_used:
            self._not_resumable()
        if self.recorder is not None:
            self.recorder.maybe_sample(t)
        if self.sink is not None:
            self.sink.poll()
        self.windows_done += 1
        self.t_reached = t
        if self.checkpointer is not None and self.checkpointer.due(t, self.window or abs(t) or 1.0):
            with self.checkpointing(t):
                if self.sink is not None:
                    self.sink.flush()  # the results file holds every sample the snapshot holds
                self.checkpointer.write(self, t)
        self.progress.update(t)

    def _not_resumable(self) -> None:
        raise CouplingError(f"{type(self.scheme).__name__} does not step through Runner.windows(), so it cannot "
                            "continue from a snapshot (it would start again at window 0); loop over "
                            "runner.windows(window) in its run()", collective=True)

    def _advance_interpolated(self, name: str, t: float, connections: list[Connection]) -> None:
        comp = self.components[name]
        t_start = comp.t
        ends = {c: self.links[c].destination.flat.copy() for c in connections}
        h, n = substeps(t_start, t, self._call(name, "time_step", comp._step_length))
        for i in range(1, n + 1):
            t_i = t if i == n else t_start + i * h
            theta = (t_i - t_start) / (t - t_start)
            for conn in connections:
                flat = self.links[conn].destination.flat
                np.multiply(self.window_start[conn], 1.0 - theta, out=flat)
                flat += theta * ends[conn]
                self._call(name, "receive", comp.receive, conn.target_port)
            self._call(name, f"advance to t={t_i:.6g}", comp.advance, t_i)

    # -- the run ---------------------------------------------------------------
    def run(self, scheme: Scheme) -> Result:
        """Initialise, build transfers, let ``scheme`` advance time, finalise.

        An error every rank raises alike (``MSMError.collective``, e.g. an
        implicit window that did not converge) ends the run on every rank as an
        ordinary exception, after every rank has cleaned up. Under MPI any other
        exception may be on some ranks only: that rank reports what failed,
        where and when, and aborts the job at once — before any collective
        clean-up, which would wait for ranks that never come.
        """
        self.events.begin()
        self.scheme = scheme
        started: list[str] = []
        self.sink = ResultsWriter(self.out, scheme=repr(scheme), rank=self.rank) if self.out is not None else None
        try:
            datasets = self._run(scheme, started)
        except BaseException as exc:  # noqa: BLE001 - every failure must end every rank
            self._close_sink_after(exc, time.perf_counter() - self.events.origin)  # rank 0's file: no collective
            if self.parallel and not (isinstance(exc, MSMError) and exc.collective):
                self._abort(exc)
            self._clean_up(started)
            raise
        self._clean_up(started)
        wall_s = self.events.end()
        profile = self.events.profile(self.rank)
        if self.parallel:
            profile = Profile.gather(self.comm, profile)
        result = Result(datasets, self._timings(), wall_s=wall_s, scheme=repr(scheme), info=self.info,
                        rank=self.rank, profile=profile)
        if self.sink is not None:
            self.sink.close(result)
        return result

    def _timings(self) -> dict[str, dict[str, float]]:
        """Per component: seconds in initialize, advance and exchanges (transfers and waits), advance calls."""
        seconds, counts = self.events.sums()
        timings = {}
        for name in self.components:
            s, n = seconds[self._ix[name]], counts[self._ix[name]]
            timings[name] = {"initialize_s": float(s[INITIALIZE]), "compute_s": float(s[ADVANCE]),
                             "exchange_s": float(s[TRANSFER] + s[WAIT]), "advance_calls": float(n[ADVANCE])}
        return timings

    def _close_sink_after(self, exc: BaseException, wall_s: float) -> None:
        """Leave the results file readable, with what was sampled, after a run that ended by ``exc``."""
        if self.sink is None:
            return
        t = self.recorder.times[-1] if self.recorder is not None and self.recorder.times else self.start
        why = "interrupted (Ctrl-C)" if isinstance(exc, KeyboardInterrupt) else f"failed: {type(exc).__name__}: {exc}"
        try:
            self.sink.close(status=f"{why}; last sample at t={t:.12g}", timings=self._timings(),
                            info=self.info, wall_s=wall_s)
        except Exception:  # noqa: BLE001 - the run's own error is the one to report
            logger.exception("could not complete the results file %s after the run failed", self.sink.path)

    def _abort(self, exc: BaseException) -> None:
        sys.stdout.flush()
        sys.stderr.write(f"msm: error: rank {self.rank} of {self.size}: {type(exc).__name__}: {exc}\n"
                         "msm: aborting every rank of the coupling\n")
        sys.stderr.flush()
        self.comm.Abort(1)

    def _run(self, scheme: Scheme, started: list[str]) -> dict[str, Any]:
        self.agents.reset()
        for name, comp in self.components.items():
            t0 = _clock()
            sub = split(self.comm, self.coupling.placement[name]) if self.parallel else None
            if self.parallel:  # collective: the first one waits for every rank to arrive
                self.events.record(self._ix[name], WAIT, t0, _clock(), self.start)
            if sub is not None:
                self.subcomms.append(sub)
            if not self.member[name]:
                continue
            comp.comm = sub
            comp.t = self.start
            comp._delivered = {}
            if type(comp).port_array is Component.port_array:
                comp._arrays = {k: v for k, v in comp._arrays.items()  # re-laid out if this rank's share changed
                                if v.size == (comp.ports[k].spec.size if comp._holds_everything() else 0)}
            for array in comp._arrays.values():  # a fresh start, as when first allocated (a run again)
                array[...] = 0
            t0 = _clock()
            started.append(name)
            self._call(name, "initialize", comp.initialize)
            self.agents.initialized(name)
            self.events.record(self._ix[name], INITIALIZE, t0, _clock(), self.start)
            comp.t = self.start
            where = self._where(name)
            self.watches[name] = self._call(name, "port_array", ArrayWatch, comp, where)
            if self.check_finite:
                self._check_outputs(name, self.start)
        if self.agents.active:
            self.agents.settle()
            for name in started:
                self.agents.check(name, f"{self._where(name)} after initialize()")
        self._build_transfers()
        self._initial_exchange()
        recorder = Recorder(self.components, self.coupling.keys, self.start, self.sample_every,
                            gather=self._gather if self.parallel else None, member=self.member,
                            resolution=self.window, time_units=self.coupling.time_units, sink=self.sink)
        self.recorder = recorder
        if self.resume is not None:
            from msmcore.checkpoint import restore_run

            restore_run(self, self.resume)
            if self.sink is not None:  # the results file continues after the snapshot's samples
                self.sink.resume(recorder, self.comm if self.parallel else None)
        else:
            recorder.sample(self.start)
            if self.checkpointer is not None:
                self.checkpointer.check(self)
        self.progress.t0 = time.perf_counter()
        self.events.mark()
        scheme.run(self)
        self.events.mark()
        recorder.sample(self.until)
        return recorder.datasets()

    def _clean_up(self, started: list[str]) -> None:
        """Finalise the components, destroy every PETSc object and communicator the run made."""
        self.progress.close()
        for name in started:
            comp = self.components[name]
            t0 = _clock()
            try:
                comp.finalize()
                self.events.record(self._ix[name], FINALIZE, t0, _clock(), comp.t)
            except Exception:  # noqa: BLE001 - finalisation must reach every component
                logger.exception("component '%s' failed to finalize", name)
            comp.comm = None
        for pairs in self.transfers.values():
            for _, transfer in pairs:
                transfer.destroy()
        self.transfers.clear()
        self.links.clear()
        for f in self.fields.values():
            f.destroy()
        self.fields.clear()
        for sub in self.subcomms:
            sub.Free()
        self.subcomms.clear()

    # -- internals -----------------------------------------------------------------
    def _gather(self, name: str, port: str, local: np.ndarray) -> np.ndarray:
        """Collective: samples ``(n, local values)`` of one port → ``(n, *array_shape)`` on every rank."""
        comp = self.components[name]
        spec = comp.ports[port].spec
        indices = comp.port_indices(port) if self.member[name] else np.zeros(0, dtype=np.int64)
        t0 = _clock()
        flat = allgather_by_index(self.comm, indices, local.reshape(local.shape[0], -1), spec.size)
        self.events.record(self._ix[name], WAIT, t0, _clock(), comp.t)
        return flat.reshape(local.shape[0], *spec.array_shape)

    def _field(self, name: str, port: str) -> Field:
        key = (name, port)
        if key not in self.fields:
            comp = self.components[name]
            spec = comp.ports[port].spec
            where = f"{name}.{port}"
            if not self.parallel:
                array = self._call(name, f"port_array('{port}')", comp.port_array, port)
                self.fields[key] = Field(array, spec, where)
            else:
                if self.member[name]:
                    array = self._call(name, f"port_array('{port}')", comp.port_array, port)
                    indices = self._call(name, f"port_indices('{port}')", comp.port_indices, port)
                else:
                    array, indices = np.zeros(0, dtype=spec.dtype), np.zeros(0, dtype=np.int64)
                self.fields[key] = Field(array, spec, where, comm=self.comm, indices=indices)
        return self.fields[key]

    def _build_transfers(self) -> None:
        for conn in self.coupling.connections:
            route = self.coupling.agent_routes.get(conn)
            if route is not None:  # agent ports: rebuilt whenever the agents change
                agent_link = AgentTransfer(conn, route, self.components, active=self.member[conn.target])
                self.transfers[conn.target].append((conn, agent_link))  # type: ignore[arg-type]
                self.links[conn] = agent_link  # type: ignore[assignment]
                continue
            src = self._field(conn.source, conn.source_port)
            dst = self._field(conn.target, conn.target_port)
            mapping = self.coupling.mappings.get(conn)
            if mapping is not None:
                transfer = Transfer(src, dst, conn.factor, mapping.mat, comm=self.comm if self.parallel else None,
                                    target_only=mapping.target_only)
            else:
                transfer = Transfer(src, dst, conn.factor, comm=self.comm if self.parallel else None,
                                    select=(conn.source_component, conn.target_component))
            self.transfers[conn.target].append((conn, transfer))
            self.links[conn] = transfer
            if conn.interpolate:
                self.window_start[conn] = np.zeros(dst.flat.size, dtype=dst.flat.dtype)
        self._mark_delivered()

    def _initial_exchange(self) -> None:
        """Deliver every connection once, in the order they were made, before the first window.

        A port's ``receive`` follows its last connection. Components can
        complete their initial state from their inputs in ``receive`` (e.g. an
        initial acceleration from an initial coupling force).
        """
        last = {(c.target, c.target_port): c for c in self.coupling.connections}
        record = self.events.record
        for conn in self.coupling.connections:
            comp = self.components[conn.target]
            member, ix = self.member[conn.target], self._ix[conn.target]
            if self.agents.active:  # a receive() may have changed agents
                self.agents.settle()
            t0 = _clock()
            self.links[conn].apply()
            t1 = _clock()
            record(ix, TRANSFER if member else WAIT, t0, t1, comp.t)
            if member and last[(conn.target, conn.target_port)] is conn:
                self._call(conn.target, "receive", comp.receive, conn.target_port)
                record(ix, RECEIVE, t1, _clock(), comp.t)
            if conn in self.window_start:
                self.window_start[conn][...] = self.links[conn].destination.flat
        if self.check_finite:
            for name in self.components:
                if self.member[name]:
                    self._check_outputs(name, self.start)

    def _mark_delivered(self) -> None:
        """Tell each component which values of its partly fed input ports the coupling writes."""
        written: dict[tuple[str, str], list[np.ndarray | None]] = defaultdict(list)
        for conn, transfer in self.links.items():
            if conn in self.coupling.agent_routes:
                continue  # an agent port's one connection writes all of it
            written[(conn.target, conn.target_port)].append(transfer.written)
        for (name, port), parts in written.items():
            if not self.member[name]:
                continue
            mask = delivered_mask(self.fields[(name, port)].array.shape, parts)
            if mask is not None:
                self.components[name]._delivered[port] = mask

    def _where(self, name: str) -> str:
        rank = f" on rank {self.rank}" if self.parallel else ""
        return f"component '{name}' ({self.coupling.keys[name]}){rank}"

    def _call(self, name: str, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Call ``fn(*args)`` for component ``name``; an error is re-raised naming the component, call and time.

        An :class:`MSMError` keeps its class (with the context put before its
        message, once); any other exception becomes a :class:`CouplingError`.
        """
        try:
            return fn(*args)
        except MSMError as exc:
            if exc.component is not None:
                raise
            wrapped = copy.copy(exc)
            wrapped.args = (f"{self._where(name)} failed in {what} at t={self.components[name].t:.6g}: {exc}",)
            wrapped.component = name
            raise wrapped from exc
        except Exception as exc:
            raise CouplingError(f"{self._where(name)} failed in {what} at t={self.components[name].t:.6g}: "
                                f"{type(exc).__name__}: {exc}", component=name) from exc

    def _check_outputs(self, name: str, t: float) -> None:
        comp = self.components[name]
        for pname, port in comp.ports.items():
            if port.direction is not Direction.OUT:
                continue
            values = comp.port_array(pname)
            if not np.isfinite(values).all():
                bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
                first_local = int(np.argmin(np.isfinite(values.reshape(-1))))
                first_flat = int(comp.port_indices(pname)[first_local]) if self.parallel else first_local
                first = np.unravel_index(first_flat, port.spec.array_shape if port.agents is None else values.shape)
                raise CouplingError(
                    f"{self._where(name)} produced {bad} non-finite value(s) "
                    f"on port '{pname}' at t={t:.6g} (first at index {tuple(int(i) for i in first)}); "
                    "check its time step and settings",
                    component=name,
                )
