"""Micro ensembles: one independent micro instance per macro point, in batches, spread over ranks.

``Coupling.add(name, micro, per_point="macro.port", ensemble={...}, surrogate={...}, **settings)``
(in YAML the same keys in the component's entry) adds an :class:`Ensemble`: one
component whose ports have the points of ``macro.port`` (shape and mesh coordinates,
so it connects to the macro value to value) and, per point, the values of the micro
component's port (components, units, names). ``per_point=N`` gives ``N`` samples
without a mesh. Point ``i`` of every input feeds instance ``i``; instance ``i``'s
outputs are point ``i`` of the ensemble's outputs.

Two modes (``ensemble={"mode": ...}``):

``"stateful"`` (default)
    One micro instance per point (or per batch of points), each an ordinary component
    with its own state that lives the whole run: every window it receives its point's
    inputs, advances to the window's end with its own steps, and gives its outputs
    (MUSCLE3's multiplicity, MaMiCo's ensembles). Checkpoints save every instance.
``"closure"``
    The micro model is a stateless closure evaluation (HMM: "run to steady state" per
    request): every window, for each point, a worker instance is reset to its state
    after ``initialize()`` (its ``restore_state``; the micro must declare its state),
    fed the point's inputs, advanced from ``t = 0`` to ``horizon`` and read. Workers
    are reused across points. A :class:`~msmcore.surrogate.SurrogateGate`
    (``surrogate={...}``) may stand in front of these evaluations.

Batching: with ``batch=B`` and ``batch_setting="shape"`` (the micro's setting that
sets how many points it carries, e.g. ``kinetics.network``'s ``shape``) one instance
carries ``B`` points, which advance together (vectorised in the micro model); without
them an instance carries one point and the micro's ports must have one point each.
In closure mode a last, partial batch is padded with copies of its last point (their
outputs are dropped).

MPI: the ensemble runs on the ranks given to the component (``ranks=``/``nprocs=``);
its points are split into contiguous blocks over the component's communicator (lower
ranks get the extra points), each rank builds and runs the instances of its block,
and the coupling's ordinary PETSc transfers gather the outputs to the macro side. With
a surrogate, the inputs of all points are gathered (``allgather``) so every rank runs
the same gate; the micro evaluations it asks for are split evenly over the ranks and
their outputs gathered back, so the result does not depend on the number of ranks.

Report: the output port ``ensemble_report`` carries, per window, the values of
:data:`msmcore.surrogate.REPORT_FIELDS` (micro runs, predictions, audited points, the
largest standard deviation of a prediction, the largest audited error, refits,
training set size); they are sampled into the results like any port, and
:attr:`Ensemble.report` keeps one dict per window.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from msmcore.component import Component
from msmcore.errors import ConfigurationError, CouplingError
from msmcore.ports import Direction, Port
from msmcore.surrogate import REPORT_FIELDS, SurrogateGate, make_gate

__all__ = ["REPORT_PORT", "Ensemble", "block_range", "build_ensemble"]

logger = logging.getLogger(__name__)

#: Name of the output port carrying the per-window report.
REPORT_PORT = "ensemble_report"
ENSEMBLE_KEYS = ("mode", "horizon", "batch", "batch_setting")


def block_range(n: int, size: int, rank: int) -> tuple[int, int]:
    """The contiguous block ``[start, stop)`` of ``n`` points that ``rank`` of ``size`` holds (balanced)."""
    base, extra = divmod(n, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


class Ensemble(Component):
    """Independent micro instances, one per point (see the module docstring).

    Built by :func:`build_ensemble` (``Coupling.add(..., per_point=...)``), not directly.

    Parameters
    ----------
    name
        The component's name in the coupling.
    factory
        Builds one micro instance: ``factory(name=..., **settings)``.
    settings
        The micro's settings (each instance gets them, plus the batch size).
    points
        The point set: ``(shape, coords, coord_units)``.
    mode, horizon, batch, batch_setting
        See the module docstring.
    surrogate
        ``surrogate={...}`` options (closure mode only), or ``None``.
    lookup
        Finds a surrogate model factory by key (the coupling's registry).
    """

    def __init__(self, name: str, factory: Callable[..., Component], settings: Mapping[str, Any], *,
                 points: tuple[tuple[int, ...], Any, str | None], mode: str = "stateful",
                 horizon: float | None = None, batch: int = 1, batch_setting: str | None = None,
                 surrogate: Mapping[str, Any] | None = None,
                 lookup: Callable[[str], Callable[..., Any]] | None = None) -> None:
        super().__init__(name)
        if mode not in ("stateful", "closure"):
            raise ConfigurationError(f"component '{name}': ensemble mode must be 'stateful' or 'closure', "
                                     f"got {mode!r}")
        if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
            raise ConfigurationError(f"component '{name}': ensemble batch must be a whole number >= 1, got {batch!r}")
        if batch > 1 and batch_setting is None:
            raise ConfigurationError(
                f"component '{name}': ensemble batch={batch} needs batch_setting=, the micro's setting that "
                "sets how many points one instance carries (e.g. 'shape' for kinetics.network)")
        if mode == "closure":
            if horizon is None or isinstance(horizon, bool) or not isinstance(horizon, (int, float)) \
                    or not (math.isfinite(horizon) and horizon > 0):
                raise ConfigurationError(f"component '{name}': ensemble mode 'closure' needs horizon=, the "
                                         f"(micro) time each evaluation runs for, a positive number; got {horizon!r}")
        if surrogate is not None and mode != "closure":
            raise ConfigurationError(f"component '{name}': a surrogate stands in front of stateless closure "
                                     "evaluations; give ensemble={'mode': 'closure', 'horizon': ...}")
        self.factory, self.micro_settings = factory, dict(settings)
        self.shape, self.coords, self.coord_units = points
        self.npoints = math.prod(self.shape)
        self.mode, self.horizon = mode, None if horizon is None else float(horizon)
        self.batch, self.batch_setting = int(batch), batch_setting
        self.surrogate_spec = None if surrogate is None else dict(surrogate)
        self.lookup = lookup
        self.probe = self._build(f"{name}[0]", self.batch)
        if mode == "closure" and not type(self.probe).declares_state():
            raise ConfigurationError(
                f"component '{name}': closure mode resets a worker to its initial state before each evaluation, "
                f"but {type(self.probe).__name__} declares no state (state_attributes or save_state/restore_state)")
        self._micro_ports = self._check_micro_ports()
        if surrogate is not None:  # checked now (a fresh gate is built each run)
            make_gate(self.surrogate_spec, name, self._lookup)
        self.instances: list[Component] = []
        self.gate: SurrogateGate | None = None
        self._layout: tuple[int, int, int, int] | None = None  # size, rank, start, stop
        self._initial: list[Any] = []
        self._windows = 0
        #: One dict per window: what the gate reported (closure with a surrogate) or the micro runs.
        self.report: list[dict[str, float]] = []

    # -- building --------------------------------------------------------------
    def _lookup(self, key: str) -> Callable[..., Any]:
        if self.lookup is None:
            raise ConfigurationError(f"component '{self.name}': no registry to look up surrogate model {key!r}")
        return self.lookup(key)

    def _build(self, name: str, points: int) -> Component:
        settings = dict(self.micro_settings)
        if self.batch_setting is not None:
            settings[self.batch_setting] = points
        try:
            instance = self.factory(name=name, **settings)
        except ConfigurationError as exc:
            raise ConfigurationError(f"component '{self.name}' (ensemble member): {exc}") from None
        if not isinstance(instance, Component):
            raise ConfigurationError(f"component '{self.name}': the micro factory built a "
                                     f"{type(instance).__name__}, not an msmcore.Component")
        return instance

    def _check_micro_ports(self) -> dict[str, Port]:
        ports = self.probe.ports
        if REPORT_PORT in ports:
            raise ConfigurationError(f"component '{self.name}': the micro model has a port '{REPORT_PORT}', "
                                     "a name the ensemble uses for its report")
        for p in ports.values():
            if p.spec.points != self.batch:
                how = f"batch={self.batch} points ({self.batch_setting}={self.batch})" if self.batch_setting \
                    else "one point (or pass ensemble batch= and batch_setting=)"
                raise ConfigurationError(
                    f"component '{self.name}': micro port '{p.name}' has {p.spec.points} points "
                    f"(shape {p.spec.shape}), but an ensemble member carries {how}")
        return dict(ports)

    def declare_ports(self) -> list[Port]:
        """The micro's ports over the ensemble's points, plus ``ensemble_report``."""
        ports = []
        for p in self._check_micro_ports().values():
            s = p.spec
            spec = {"components": s.components, "units": s.units, "dtype": s.dtype, "value_names": s.value_names,
                    "value_dim": s.value_dim, "coords": self.coords, "coord_units": self.coord_units}
            doc = f"per point: {p.doc}" if p.doc else "per point"
            if p.direction is Direction.IN:
                ports.append(Port.input(p.name, self.shape, doc=doc, required=p.required, **spec))
            else:
                ports.append(Port.output(p.name, self.shape, doc=doc, **spec))
        ports.append(Port.output(REPORT_PORT, 1, components=len(REPORT_FIELDS), value_names=REPORT_FIELDS,
                                 value_dim="report",
                                 doc="per window: " + ", ".join(REPORT_FIELDS)))
        return ports

    # -- layout over the component's ranks ---------------------------------------
    def _block(self) -> tuple[int, int, int, int]:
        if self._layout is None:
            size, rank = (1, 0) if self.comm is None else (int(self.comm.Get_size()), int(self.comm.Get_rank()))
            self._layout = (size, rank, *block_range(self.npoints, size, rank))
        return self._layout

    def _relayout(self) -> None:
        old = self._layout
        self._layout = None
        if old is not None and old != self._block():
            self._arrays.clear()

    @property
    def point_range(self) -> tuple[int, int]:
        """The global points ``[start, stop)`` this rank runs."""
        return self._block()[2:4]

    def port_array(self, name: str) -> np.ndarray:
        """This rank's points of port ``name`` (``(n_local, components)``, or ``(n_local,)``); full serially."""
        if name == REPORT_PORT:
            return super().port_array(name)
        array = self._arrays.get(name)
        if array is None:
            spec = self.port(name).spec
            size, _, start, stop = self._block()
            shape = spec.array_shape if size == 1 else ((stop - start,) if spec.components == 1
                                                        else (stop - start, spec.components))
            array = np.zeros(shape, dtype=spec.dtype)
            self._arrays[name] = array
        return array

    def port_indices(self, name: str) -> np.ndarray:
        """Flat indices of this rank's values in the global port array."""
        if name == REPORT_PORT:
            return super().port_indices(name)
        k = self.port(name).spec.components
        start, stop = self.point_range
        return np.arange(start * k, stop * k, dtype=np.int64)

    def _flat(self, name: str) -> np.ndarray:
        """Port ``name``'s local values as ``(n_local, components)`` (a view)."""
        return self.port_array(name).reshape(-1, self.ports[name].spec.components)

    def _names(self, direction: Direction) -> list[str]:
        return [n for n, p in self._micro_ports.items() if p.direction is direction]

    # -- lifecycle ---------------------------------------------------------------
    def time_step(self) -> float | None:
        """Stateful: the micro's own step; closure: ``None`` (the macro sets the window)."""
        return self.probe.time_step() if self.mode == "stateful" else None

    def initialize(self) -> None:
        """Lay the points out on :attr:`comm`, build and initialise this rank's instances."""
        for inst in self.instances:
            inst.finalize()
        self._relayout()
        start, stop = self.point_range
        n_local = stop - start
        self._windows = 0
        self.report = []
        self.instances = []
        if self.mode == "stateful":
            for first in range(0, n_local, self.batch):
                count = min(self.batch, n_local - first)
                self.instances.append(self._build(f"{self.name}[{start + first}]", count))
        else:
            self.instances.append(self._build(f"{self.name}[worker]", self.batch))
        for inst in self.instances:
            inst.comm = None
            inst.initialize()
        if self.mode == "closure":
            self._initial = [self.instances[0].save_state()]
            self.gate = None if self.surrogate_spec is None else make_gate(self.surrogate_spec, self.name,
                                                                           self._lookup, self.comm)
        self.port_array(REPORT_PORT)[...] = 0.0
        self._gather_outputs()

    def receive(self, port: str) -> None:
        """Stateful: hand each instance its points of ``port`` and call its ``receive``; closure: nothing yet."""
        if self.mode != "stateful":
            return
        values = self._flat(port)
        offset = 0
        for inst in self.instances:
            target = inst.port_array(port).reshape(-1, values.shape[1])
            target[...] = values[offset: offset + target.shape[0]]
            offset += target.shape[0]
            inst.receive(port)

    def _gather_outputs(self) -> None:
        if self.mode != "stateful":
            return
        for port in self._names(Direction.OUT):
            values = self._flat(port)
            offset = 0
            for inst in self.instances:
                source = inst.port_array(port).reshape(-1, values.shape[1])
                values[offset: offset + source.shape[0]] = source
                offset += source.shape[0]

    def advance(self, t_end: float) -> None:
        """Stateful: advance every instance to ``t_end``; closure: evaluate (or predict) every point."""
        if self.mode == "stateful":
            for inst in self.instances:
                inst.t = self.t
                inst.advance(t_end)
            self._gather_outputs()
            entry = {"window": float(self._windows + 1), "micro_runs": float(self.npoints)}
        else:
            entry = self._closure_window()
        self._windows += 1
        row = {f: 0.0 for f in REPORT_FIELDS} | {k: v for k, v in entry.items() if k in REPORT_FIELDS}
        self.port_array(REPORT_PORT)[...] = [row[f] for f in REPORT_FIELDS] if \
            self.port_array(REPORT_PORT).size else []
        self.report.append({"window": float(self._windows), **row})
        self.t = t_end

    # -- closure evaluations ------------------------------------------------------
    def _inputs(self) -> np.ndarray:
        names = self._names(Direction.IN)
        if not names:
            return np.zeros((self.point_range[1] - self.point_range[0], 0))
        return np.hstack([self._flat(n).astype(float) for n in names])

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        """Run the micro closure at each row of ``X`` (the inputs per point); returns outputs per row."""
        worker = self.instances[0]
        ins, outs = self._names(Direction.IN), self._names(Direction.OUT)
        width = [self._micro_ports[n].spec.components for n in outs]
        Y = np.zeros((X.shape[0], sum(width)))
        for first in range(0, X.shape[0], self.batch):
            rows = X[first: first + self.batch]
            m = rows.shape[0]
            worker.restore_state(self._initial[0])
            worker.t = 0.0
            col = 0
            for port in ins:
                k = self._micro_ports[port].spec.components
                target = worker.port_array(port).reshape(-1, k)
                target[:m] = rows[:, col: col + k]
                target[m:] = rows[m - 1, col: col + k]
                col += k
                worker.receive(port)
            assert self.horizon is not None
            worker.advance(self.horizon)
            col = 0
            for port, k in zip(outs, width, strict=True):
                Y[first: first + m, col: col + k] = worker.port_array(port).reshape(-1, k)[:m]
                col += k
        return Y

    def _collective_evaluate(self, X_all: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Evaluate ``X_all[rows]`` with the rows split over the component's ranks; gathered on every rank."""
        size, rank = self._block()[:2]
        if size == 1:
            return self.evaluate(X_all[rows])
        lo, hi = block_range(len(rows), size, rank)
        mine = self.evaluate(X_all[rows[lo:hi]])
        parts = self.comm.allgather(mine)
        return np.vstack(parts)

    def _closure_window(self) -> dict[str, float]:
        outs = self._names(Direction.OUT)
        X_local = self._inputs()
        if self.gate is None:
            Y_local = self.evaluate(X_local)
            entry = {"micro_runs": float(self.npoints)}
        else:
            size = self._block()[0]
            X_all = X_local if size == 1 else np.vstack(self.comm.allgather(X_local))
            Y_all = self.gate.step(X_all, lambda rows: self._collective_evaluate(X_all, rows))
            start, stop = self.point_range
            Y_local = Y_all[start:stop]
            entry = self.gate.report[-1]
        col = 0
        for port in outs:
            k = self._micro_ports[port].spec.components
            self._flat(port)[...] = Y_local[:, col: col + k]
            col += k
        return entry

    # -- state ---------------------------------------------------------------------
    def save_state(self) -> dict[str, Any]:
        """This rank's instances (stateful), the gate's training set and model, the ports and counters."""
        return {
            "t": self.t,
            "windows": self._windows,
            "ports": {k: v.copy() for k, v in self._arrays.items()},
            "instances": [inst.save_state() for inst in self.instances] if self.mode == "stateful" else [],
            "gate": self.gate.save_state() if self.gate is not None else None,
            "report": {f: np.asarray([r.get(f, 0.0) for r in self.report], dtype=float)
                       for f in ("window", *REPORT_FIELDS)},
        }

    def restore_state(self, state: Any) -> None:
        """Return to a snapshot of :meth:`save_state`."""
        try:
            ports, instances, t = state["ports"], state["instances"], state["t"]
        except (KeyError, TypeError):
            raise ConfigurationError(f"component '{self.name}' cannot restore {type(state).__name__}: not a "
                                     "snapshot from its save_state()") from None
        if len(instances) != (len(self.instances) if self.mode == "stateful" else 0):
            raise CouplingError(f"component '{self.name}': the snapshot holds {len(instances)} instance(s), "
                                f"this rank runs {len(self.instances)}")
        for k, v in ports.items():
            self.port_array(k)[...] = v
        for inst, s in zip(self.instances, instances, strict=False):
            inst.restore_state(s)
        if self.gate is not None and state["gate"] is not None:
            self.gate.restore_state(state["gate"])
        self._windows = int(state["windows"])
        report = state["report"]
        self.report = [{f: float(report[f][i]) for f in report} for i in range(len(report["window"]))]
        self.t = t

    def finalize(self) -> None:
        """Finalize every instance."""
        for inst in self.instances:
            inst.finalize()


def build_ensemble(coupling: Any, name: str, component: Any, settings: Mapping[str, Any], per_point: Any,
                   ensemble: Mapping[str, Any] | None, surrogate: Mapping[str, Any] | None) -> Ensemble:
    """The :class:`Ensemble` that ``Coupling.add(name, component, per_point=..., ...)`` adds.

    ``per_point`` is ``"component.port"`` of a component already in the coupling
    (its points and mesh), or a number of samples.
    """
    where = f"component '{name}'"
    if isinstance(per_point, str):
        if per_point.count(".") != 1:
            raise ConfigurationError(f"{where}: per_point={per_point!r} must look like '<component>.<port>' "
                                     "(e.g. 'macro.state_out') or be a number of samples")
        other, port = per_point.split(".")
        if other not in coupling.components:
            raise ConfigurationError(f"{where}: per_point={per_point!r}: no component '{other}' yet; add the "
                                     f"macro component before its ensemble (components: "
                                     f"{', '.join(coupling.components) or 'none'})")
        ports = coupling.components[other].ports
        if port not in ports:
            raise ConfigurationError(f"{where}: per_point={per_point!r}: '{other}' has no port '{port}' "
                                     f"(its ports: {', '.join(ports)})")
        spec = ports[port].spec
        points: tuple[tuple[int, ...], Any, str | None] = (spec.shape, spec.coords, spec.coord_units)
    elif isinstance(per_point, (int, np.integer)) and not isinstance(per_point, bool) and per_point >= 1:
        points = ((int(per_point),), None, None)
    else:
        raise ConfigurationError(f"{where}: per_point= must be '<component>.<port>' or a number of samples >= 1, "
                                 f"got {per_point!r}")
    options = dict(ensemble or {})
    if ensemble is not None and not isinstance(ensemble, Mapping):
        raise ConfigurationError(f"{where}: ensemble= must be a mapping of {ENSEMBLE_KEYS}, got {ensemble!r}")
    unknown = sorted(set(options) - set(ENSEMBLE_KEYS))
    if unknown:
        raise ConfigurationError(f"{where}: ensemble has no option(s) {unknown}; its options: "
                                 f"{', '.join(ENSEMBLE_KEYS)}")
    if isinstance(component, Component):
        raise ConfigurationError(f"{where}: an ensemble builds its own instances; pass the micro's key or class "
                                 "and its settings, not a built component")
    if isinstance(component, str):
        factory = coupling.registry.get(component).factory
    elif callable(component):
        factory = component
    else:
        raise ConfigurationError(f"{where}: expected a registered key or a Component class for the ensemble's "
                                 f"micro model, got {component!r:.80}")
    ens = Ensemble(name, factory, settings, points=points, surrogate=surrogate,
                   lookup=coupling.registry.surrogate, **options)
    ens.key = component if isinstance(component, str) else getattr(component, "__name__", None)  # type: ignore[misc]
    return ens
