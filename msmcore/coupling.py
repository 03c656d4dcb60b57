"""``Coupling``: compose components, connect their ports, validate, run.

A coupling is a graph: components (nodes, by instance name) and connections
(``"source.port" -> "target.port"``). Every connection is validated when it is
made — unknown component or port, wrong direction, size or units mismatch, an
input connected twice — and the whole graph once more before the first step
(required inputs left unconnected, cycles the scheme cannot order).
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from msmcore.component import Component
from msmcore.errors import ConfigurationError, CouplingError, MSMError
from msmcore.guards import check_placement, check_port_sizes, check_time_units, guarded
from msmcore.placement import parent_comm, resolve_ranks
from msmcore.plugins import PluginRegistry, get_registry
from msmcore.ports import Direction, FieldSpec, Port
from msmcore.profile import max_events_for
from msmcore.units import conversion_factor

if TYPE_CHECKING:
    from os import PathLike

    from msmcore.checkpoint import Checkpointer, Checkpoints, Snapshot
    from msmcore.results import Result
    from msmcore.schemes import Scheme
    from msmcore.stream import ResultsFile

__all__ = ["Connection", "Coupling"]

logger = logging.getLogger(__name__)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")

#: Default bound on the windows or fixed steps of one run (see :meth:`Coupling.run`).
DEFAULT_MAX_STEPS = 1e9


def _time_argument(value: Any, what: str) -> float:
    try:
        number = float(value) if isinstance(value, (int, float, np.integer, np.floating)) else math.nan
    except OverflowError:  # an int beyond any float
        number = math.inf
    if isinstance(value, bool) or not math.isfinite(number):
        raise ConfigurationError(f"run({what}=...) must be a finite number (simulation time), got {value!r}")
    return number


def _mesh_points(spec: FieldSpec) -> np.ndarray | None:
    """The port's mesh as an ``(n, dim)`` array of point coordinates, or ``None`` if it declares none."""
    coords = spec.coords
    if not coords:
        return None
    if "points" in coords:
        return np.asarray(coords["points"], dtype=float).reshape(spec.points, -1)
    axes = [np.asarray(v, dtype=float).reshape(-1) for v in coords.values()]
    if len(axes) != len(spec.shape) or any(len(ax) != n for ax, n in zip(axes, spec.shape, strict=True)):
        return None  # not a full description of the grid (checked where ports are declared)
    grids = np.meshgrid(*axes, indexing="ij")
    return np.stack([g.reshape(-1) for g in grids], axis=1)


def _describe_mesh(points: np.ndarray) -> str:
    lo, hi = points.min(axis=0), points.max(axis=0)
    box = " x ".join(f"[{a:.6g}, {b:.6g}]" for a, b in zip(lo, hi, strict=True))
    return f"{points.shape[0]} points in {box}"


def _check_same_mesh(what: str, source: str, target: str, a: FieldSpec, b: FieldSpec) -> None:
    """Raise when both ports declare coordinates and they differ beyond round-off."""
    pa, pb = _mesh_points(a), _mesh_points(b)
    if pa is None or pb is None:
        return
    if pa.shape == pb.shape:
        scale = max(float(np.abs(pa).max(initial=0.0)), float(np.abs(pb).max(initial=0.0)), 1e-300)
        extent = max(float(np.ptp(pa, axis=0).max(initial=0.0)), float(np.ptp(pb, axis=0).max(initial=0.0)))
        if np.allclose(pa, pb, rtol=0.0, atol=1e-9 * max(extent, 1e-6 * scale)):
            return
    raise CouplingError(
        f"{what}: the ports have the same size but different meshes — {source}: {_describe_mesh(pa)}, "
        f"{target}: {_describe_mesh(pb)} (first differing point "
        f"{_first_difference(pa, pb)}); connect them through a mapping between the meshes: mapping='nearest', "
        "'linear' or 'rbf', or pass mapping='identity' to connect value i to value i regardless"
    )


def _first_difference(pa: np.ndarray, pb: np.ndarray) -> str:
    if pa.shape != pb.shape:
        return f"dimensions {pa.shape[1]} and {pb.shape[1]}"
    i = int(np.argmax(np.abs(pa - pb).max(axis=1)))
    return f"{i}: {tuple(float(x) for x in pa[i])} vs {tuple(float(x) for x in pb[i])}"


@dataclass(frozen=True)
class Connection:
    """A validated connection from an output port to an input port.

    Attributes
    ----------
    source, source_port, target, target_port
        Component instance names and port names.
    factor
        Units conversion factor from the source's units to the target's.
    interpolate
        Whether the target reads the data linearly interpolated in time
        across a window while it sub-cycles.
    mapping, conservative
        Mapping kind between non-matching meshes (``None``: identical layouts),
        and whether it is the conservative form.
    source_component, target_component
        One value per point picked out of a multi-component port on either
        side (``None``: all of them).
    """

    source: str
    source_port: str
    target: str
    target_port: str
    factor: float = 1.0
    interpolate: bool = False
    mapping: str | None = None
    conservative: bool = False
    source_component: int | None = None
    target_component: int | None = None

    def __str__(self) -> str:
        return f"{self.source}.{self.source_port} -> {self.target}.{self.target_port}"


class Coupling:
    """A multiscale coupling: components and the connections between their ports.

    Parameters
    ----------
    comm
        Parent communicator (mpi4py) of the run; default ``MPI.COMM_WORLD``
        (a single process when not started by ``mpiexec``). Nothing deeper
        assumes ``COMM_WORLD``: components get sub-communicators of this one.
    registry
        Where component keys are looked up; the process-wide registry by default.
    time_units
        Units of the coupling's time (``until``, windows, every ``dt``);
        recorded as ``attrs["units"]`` of the results' ``time`` coordinate.

    Examples
    --------
    >>> c = msm.Coupling()                                       # doctest: +SKIP
    >>> c.add("macro", "fluid.diffusion", shape=(100,), D=0.0405, dt=2.5e-6)
    >>> c.add("micro", "kinetics.network", model="J: U -> ; k*U; k = 4.05e4", dt=2.5e-8)
    >>> c.connect("macro.state_out", "micro.state_in")
    >>> c.connect("micro.state_out", "macro.state_in")
    >>> res = c.run(until=1.25e-4, scheme=msm.MacroMicro("macro", "micro", horizon=2.5e-6))
    """

    def __init__(self, comm: Any = None, *, registry: PluginRegistry | None = None, time_units: str = "s") -> None:
        #: Units of the coupling's time (``until``, windows, every ``dt``), recorded on results' ``time``.
        self.time_units = check_time_units(time_units)
        self.comm = parent_comm(comm)
        self.size = self.comm.Get_size()
        self.registry = registry or get_registry()
        #: Parent ranks each component runs on.
        self.placement: dict[str, tuple[int, ...]] = {}
        self.components: dict[str, Component] = {}
        self.keys: dict[str, str] = {}
        self.connections: list[Connection] = []
        #: Mappings of the connections between non-matching meshes, built at connect time.
        self.mappings: dict[Connection, Any] = {}
        #: How connections with agent ports move their data (:mod:`msmcore.agent_links`).
        self.agent_routes: dict[Connection, Any] = {}
        #: (component, agent name its ports give) -> (owner, set) it follows.
        self.agent_bindings: dict[tuple[str, str], tuple[str, str]] = {}

    # -- building ------------------------------------------------------------
    def add(self, name: str, component: str | type[Component] | Component | Callable[..., Component], *,
            ranks: Any = None, nprocs: int | None = None, per_point: Any = None,
            ensemble: dict[str, Any] | None = None, surrogate: dict[str, Any] | None = None,
            **settings: Any) -> Component:
        """Add a component under instance name ``name``.

        Under MPI every rank builds every component (settings and ports only);
        the component runs on ``ranks`` of the coupling's communicator (a list,
        a range or one rank), or on ranks ``0..nprocs-1``, by default on all of
        them, with a communicator of its own (``component.comm``).

        Parameters
        ----------
        name
            Instance name, unique in the coupling (letters, digits, ``_``, ``-``).
        component
            A registered key (``"fluid.diffusion"``), a :class:`Component`
            subclass, or an already built instance (then no settings).
        per_point, ensemble, surrogate
            Make it a micro ensemble (:mod:`msmcore.ensemble`): one micro instance per
            point of ``per_point`` (``"macro.port"``, or a number of samples), with
            ``ensemble={"mode", "horizon", "batch", "batch_setting"}`` and, in front
            of closure evaluations, a learned model (:mod:`msmcore.surrogate`).
        **settings
            The component's settings, validated now.
        """
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigurationError(
                f"invalid component name {name!r}: use letters, digits, '_' and '-' (no dots)"
            )
        if name in self.components:
            raise ConfigurationError(f"a component named '{name}' is already in this coupling")
        check_placement(name, ranks, nprocs)
        if per_point is not None or ensemble is not None or surrogate is not None:
            from msmcore.ensemble import build_ensemble

            component = build_ensemble(self, name, component, settings, per_point, ensemble, surrogate)
            settings = {}
        if isinstance(component, Component):
            if settings:
                raise ConfigurationError(f"component '{name}' is already built; pass settings to its constructor")
            instance, key = component, type(component).__name__
            instance.name = name
        else:
            if isinstance(component, str):
                key = component
                factory = self.registry.get(component).factory
            elif isinstance(component, type) and not issubclass(component, Component):
                raise ConfigurationError(
                    f"component '{name}': {component.__module__}.{component.__qualname__} is a class but not a "
                    "subclass of msmcore.Component; derive it from msm.Component (class "
                    f"{component.__name__}(msm.Component): ...), or pass a registered key such as 'fluid.diffusion'"
                )
            elif callable(component):
                key, factory = getattr(component, "__name__", repr(component)), component
            else:
                raise ConfigurationError(
                    f"component '{name}': expected a registered key (e.g. 'fluid.diffusion'), a Component "
                    f"subclass or a built Component, got {type(component).__name__} {component!r:.80}"
                )
            instance = guarded(name, key, "being built", settings, lambda: factory(name=name, **settings))
        if not isinstance(instance, Component):
            raise ConfigurationError(f"component '{name}' ({key}) did not build an msmcore.Component "
                                     f"(got {type(instance).__name__})")
        # declare ports now: errors surface at add time
        ports = guarded(name, key, "declaring its ports", settings, lambda: instance.ports)
        check_port_sizes(name, key, ports, settings)
        placed = resolve_ranks(name, ranks, nprocs, self.size)
        if self.size > 1:
            from msmcore.agent_links import check_agent_placement

            check_agent_placement(name, instance, placed)
        self.placement[name] = placed
        self.components[name] = instance
        self.keys[name] = key
        logger.debug("added %s (%s)", name, key)
        return instance

    def connect(self, source: str, target: str, *, interpolate: bool = False, mapping: str | None = None,
                conservative: bool = False, source_component: int | None = None,
                target_component: int | None = None, **mapping_options: Any) -> Connection:
        """Connect output port ``source`` (``"comp.port"``) to input port ``target``.

        ``source_component`` / ``target_component`` pick one value per point of
        a multi-component port (e.g. species 0 of a reaction network's state
        into a scalar diffusion field, and back); several connections may feed
        different components of one input port.

        Ports whose meshes differ (in size, or in the coordinates both declare)
        need ``mapping`` — ``"nearest"``, ``"linear"`` or ``"rbf"`` (options
        ``basis``, ``support_radius``, ``polynomial``); ``"identity"`` connects
        value ``i`` to value ``i`` whatever the coordinates say. A mapping is built
        now, once, as a PETSc ``Mat`` from the ports' mesh coordinates;
        ``conservative=True`` takes its conservative form (sums are preserved,
        e.g. forces), the default is consistent (values are interpolated, e.g.
        temperatures).

        With ``interpolate=True`` the target, while it sub-cycles through a
        coupling window, reads the data linearly interpolated in time between
        the window's start and end values (evaluated at the end of each of its
        sub-steps) instead of the end value throughout.

        Raises
        ------
        CouplingError
            Unknown component or port, wrong direction, a size, mesh or units
            mismatch, or a target input that is already connected.
        """
        if mapping is not None and not isinstance(mapping, str):
            raise CouplingError(f"connection {source} -> {target}: mapping must be a name ('nearest', 'linear', "
                                f"'rbf' or 'identity'), got {mapping!r}")
        identity = mapping == "identity"
        if identity:
            if mapping_options or conservative:
                raise CouplingError(f"connection {source} -> {target}: mapping='identity' takes no mapping options")
            mapping = None
        src_name, src_port = self._endpoint(source, "source")
        dst_name, dst_port = self._endpoint(target, "target")
        out = self._port(src_name, src_port)
        inp = self._port(dst_name, dst_port)
        what = f"connection {source} -> {target}"
        if out.direction is not Direction.OUT:
            raise CouplingError(
                f"{what}: '{source}' is an input port; a connection goes from an output port to an "
                f"input port (outputs of '{src_name}': {self._names(src_name, Direction.OUT)})"
            )
        if inp.direction is not Direction.IN:
            raise CouplingError(
                f"{what}: '{target}' is an output port; connect it to an input port "
                f"(inputs of '{dst_name}': {self._names(dst_name, Direction.IN)})"
            )
        a, b = out.spec, inp.spec
        for flag, value in (("interpolate", interpolate), ("conservative", conservative)):
            if not isinstance(value, (bool, np.bool_)):
                raise CouplingError(f"{what}: {flag}= must be True or False, got {value!r}")
        if conservative and mapping is None:
            raise CouplingError(f"{what}: conservative=True needs a mapping (mapping='nearest', 'linear' or 'rbf')")
        for role, comp, spec in (("source", source_component, a), ("target", target_component, b)):
            if comp is not None and (isinstance(comp, bool) or not isinstance(comp, (int, np.integer))):
                raise CouplingError(f"{what}: {role}_component= must be a whole number (a value index), got {comp!r}")
            if comp is not None and not 0 <= comp < spec.components:
                raise CouplingError(f"{what}: {role}_component={comp}, but the port has {spec.components} "
                                    f"value(s) per point (0..{spec.components - 1})")
        if out.agents is not None or inp.agents is not None:  # dynamic ports: msmcore.agent_links
            from msmcore.agent_links import connect_agents

            agent_conn, route = connect_agents(
                self, what, (src_name, out), (dst_name, inp), mapping=mapping, interpolate=interpolate,
                conservative=conservative, source_component=source_component, target_component=target_component,
                options=mapping_options)
            self.agent_routes[agent_conn] = route
            self.connections.append(agent_conn)
            return agent_conn
        ca = 1 if source_component is not None else a.components
        cb = 1 if target_component is not None else b.components
        if mapping is None and (a.shape != b.shape or ca != cb):
            raise CouplingError(
                f"{what}: sizes differ — {source} carries {a.shape} points x {ca} values, "
                f"{target} expects {b.shape} x {cb}; connect them with a mapping between "
                "the meshes: mapping='nearest', 'linear' or 'rbf' (or pick components with "
                "source_component=/target_component=)"
            )
        if mapping is None and not identity:
            _check_same_mesh(what, source, target, a, b)
        try:
            factor = conversion_factor(a.units, b.units)
        except ConfigurationError as exc:
            raise CouplingError(f"{what}: units mismatch: {exc}") from None
        for c in self.connections:
            if (c.target, c.target_port) == (dst_name, dst_port) and (
                    c.target_component is None or target_component is None or c.target_component == target_component):
                raise CouplingError(f"{what}: input '{target}' is already connected (from {c.source}.{c.source_port})")
        if mapping_options and mapping is None:
            raise CouplingError(f"{what}: {sorted(mapping_options)} are mapping options, but no mapping= was given")
        conn = Connection(src_name, src_port, dst_name, dst_port, factor, bool(interpolate), mapping,
                          bool(conservative), source_component, target_component)
        if mapping is not None:
            from msmcore.mapping import mapping_between, select_components

            picked = source_component is not None or target_component is not None
            try:
                if picked:  # map the points, then place one value-component on each side
                    built = mapping_between(replace(a, components=1, value_names=None, value_dim=None),
                                            replace(b, components=1, value_names=None, value_dim=None), mapping,
                                            conservative=conservative, **mapping_options)
                    built = select_components(built, a.components, b.components, source_component or 0,
                                              target_component or 0)
                else:
                    built = mapping_between(a, b, mapping, conservative=conservative, **mapping_options)
                self.mappings[conn] = built
            except (MSMError, TypeError) as exc:
                raise CouplingError(f"{what}: cannot build the {mapping} mapping: {exc}") from None
        self.connections.append(conn)
        return conn

    # -- queries -------------------------------------------------------------
    def incoming(self, name: str) -> list[Connection]:
        """Connections into component ``name``."""
        return [c for c in self.connections if c.target == name]

    def outgoing(self, name: str) -> list[Connection]:
        """Connections out of component ``name``."""
        return [c for c in self.connections if c.source == name]

    def validate(self, scheme: Scheme | None = None) -> None:
        """Check the whole graph (and, given one, that the scheme can run it).

        Raises
        ------
        CouplingError
            An empty coupling, a required input left unconnected, a graph
            the scheme cannot order, or (for a scheme that repeats windows) a
            component that declares no state.
        """
        if not self.components:
            raise CouplingError("the coupling has no components; add some with Coupling.add()")
        connected = {(c.target, c.target_port) for c in self.connections}
        missing = [f"{n}.{p.name}" for n, comp in self.components.items() for p in comp.ports.values()
                   if p.direction is Direction.IN and p.required and (n, p.name) not in connected]
        if missing:
            raise CouplingError(
                "required input(s) left unconnected: " + ", ".join(missing)
                + "; connect each with Coupling.connect('<component>.<output>', '<input>')"
            )
        if self.agent_routes or self.agent_bindings or any(c.agent_sets for c in self.components.values()):
            from msmcore.agent_links import unbound_followers

            loose = unbound_followers(self)
            if loose:
                raise CouplingError(f"agent ports that follow no agent set: {'; '.join(loose)}; connect each "
                                    "group to a port of an agent set (agent to agent), e.g. "
                                    "connect('cells.value_out', '<component>.<its agent input>')")
        if scheme is not None:
            scheme.validate(self)
            if scheme.needs_state and self.agent_routes:
                raise CouplingError(f"{type(scheme).__name__} repeats windows over connections of agent ports "
                                    f"({', '.join(str(c) for c in self.agent_routes)}), whose agents change within "
                                    "a window; this version couples agent sets with explicit schemes (Serial, "
                                    "Parallel, MacroMicro)")
            if scheme.needs_state:
                self._refuse_undeclared_state(f"{type(scheme).__name__} repeats windows and so restores",
                                              CouplingError)

    def run(self, until: float, scheme: Scheme | None = None, *, start: float = 0.0,
            sample_every: float | None = None, quiet: bool = False, check_finite: bool = True,
            max_steps: float = DEFAULT_MAX_STEPS, profile: bool | int | None = None,
            out: str | PathLike[str] | ResultsFile | None = None, checkpoint: Checkpoints | None = None,
            resume: str | os.PathLike[str] | None = None) -> Result:
        """Validate, then run the coupling from ``start`` to ``until``.

        A coupling may run any number of times: each run initialises every
        component afresh and gives the same results.

        Parameters
        ----------
        until
            End time.
        scheme
            How time advances (an instance of :class:`msmcore.Serial`,
            :class:`msmcore.Parallel`, :class:`msmcore.MacroMicro` or
            :class:`msmcore.Implicit`); default ``Serial()``.
        sample_every
            Interval between recorded samples; default: every coupling window.
        quiet
            No progress bar.
        check_finite
            Stop with an error naming the component, port and time when an
            output holds NaN or infinity.
        max_steps
            Refuse, before step 1, a run in which the windows or a component's
            fixed steps would number more than this (a ``dt`` or ``until``
            off by orders of magnitude); raise it for runs that really are that long.
        profile
            Record every component's events (:attr:`Result.profile`): ``True``
            (the default, unless the environment sets ``MSM_PROFILE=0``) keeps
            up to 2 million events, shared by the ranks; ``False`` keeps only
            their totals per component and kind; a number keeps that many per rank.
        out
            Write the results to this NetCDF4 file as they are sampled (the
            layout of :meth:`Result.to_netcdf`; flushed at least every second,
            so a run that dies leaves the samples so far), or an
            :class:`msmcore.ResultsFile` with a flush policy. Checked before
            step 1. Under MPI rank 0 writes.
        checkpoint
            Write snapshots of the whole coupling at window boundaries
            (:class:`msmcore.Checkpoints`: how often, how many, where).
        resume
            Continue a run from a snapshot: a snapshot file, or a checkpoint
            folder (its newest intact snapshot). The coupling, scheme and
            window must be those of the run that wrote it; ``until`` may differ.

        Returns
        -------
        Result
            One ``xarray.Dataset`` per component, plus timings.
        """
        from msmcore.runner import Runner
        from msmcore.schemes import Scheme, Serial
        from msmcore.threads import limit_threads

        start = _time_argument(start, "start")
        until = _time_argument(until, "until")
        if not until > start:
            raise ConfigurationError(f"run(until={until}) must end after start={start}")
        if sample_every is not None:
            sample_every = _time_argument(sample_every, "sample_every")
            if not sample_every > 0:
                raise ConfigurationError(f"run(sample_every=...) must be positive, got {sample_every}")
        if isinstance(scheme, type) and issubclass(scheme, Scheme):
            raise ConfigurationError(f"run(scheme={scheme.__name__}) got the class; pass an instance, e.g. "
                                     f"scheme=msm.{scheme.__name__}(...)")
        if scheme is not None and not isinstance(scheme, Scheme):
            raise ConfigurationError(f"run(scheme={scheme!r}) must be a scheme instance such as msm.Serial(), "
                                     "msm.Parallel(), msm.MacroMicro(...) or msm.Implicit(...)")
        for flag, value in (("quiet", quiet), ("check_finite", check_finite)):
            if not isinstance(value, bool):
                raise ConfigurationError(f"run({flag}=...) must be True or False, got {value!r}")
        if profile is None:
            profile = os.environ.get("MSM_PROFILE", "1").strip().lower() not in ("0", "false", "no", "off")
        max_events_for(profile, 1)  # checked before step 1
        if isinstance(max_steps, bool) or not isinstance(max_steps, (int, float)) or not max_steps > 0:
            raise ConfigurationError(f"run(max_steps=...) must be a positive number, got {max_steps!r}")
        scheme = scheme or Serial()
        self.validate(scheme)
        window = self._check_step_counts(scheme, start, until, max_steps)
        target = self._results_file(out)
        checkpointer, snapshot = self._checkpointing(scheme, window, start, until, checkpoint, resume)
        limit_threads(self.comm)  # ranks x BLAS/OpenMP threads <= cores (msmcore.threads)
        runner = Runner(self, start=start, until=until, sample_every=sample_every,
                        quiet=quiet, check_finite=check_finite, window=window, profile=profile, out=target,
                        checkpointer=checkpointer, resume=snapshot)
        return runner.run(scheme)

    def _checkpointing(self, scheme: Scheme, window: float, start: float, until: float,
                       checkpoint: Any, resume: Any) -> tuple[Checkpointer | None, Snapshot | None]:
        """Check the ``checkpoint`` and ``resume`` arguments before step 1; load the snapshot."""
        if checkpoint is None and resume is None:
            return None, None
        from msmcore.checkpoint import Checkpointer, Checkpoints, layout, load_snapshot

        if checkpoint is not None and not isinstance(checkpoint, Checkpoints):
            raise ConfigurationError(f"run(checkpoint=...) must be msm.Checkpoints(every=..., keep=..., path=...), "
                                     f"got {checkpoint!r}")
        if resume is not None and not isinstance(resume, (str, os.PathLike)):
            raise ConfigurationError(f"run(resume=...) must be the path of a snapshot file or checkpoint folder, "
                                     f"got {resume!r}")
        self._refuse_undeclared_state("checkpoints save and restore", ConfigurationError)
        snapshot = None
        if resume is not None:
            snapshot = load_snapshot(resume, self.comm)
            snapshot.check_fits(self, scheme, window, start, until)
        checkpointer = None
        if checkpoint is not None:
            checkpointer = Checkpointer(checkpoint, layout(self, scheme, window),
                                        snapshot.t if snapshot is not None else start, self.comm)
        return checkpointer, snapshot

    def _refuse_undeclared_state(self, needs: str, error: type[MSMError]) -> None:
        """Raise ``error`` naming the components that declare no state, where ``needs`` their states."""
        undeclared = [f"{n} ({type(c).__name__})" for n, c in self.components.items() if not type(c).declares_state()]
        if undeclared:
            raise error(
                f"{needs} component states, but {', '.join(undeclared)} declare(s) no state; give each class "
                "state_attributes = ('attr', ...) naming what it keeps besides its port arrays and t (an empty "
                "tuple when the port arrays are all), or implement save_state() and restore_state()")

    def _check_step_counts(self, scheme: Scheme, start: float, until: float, max_steps: float) -> float:
        """Refuse a run of absurdly many windows or steps before step 1; returns the window."""
        from msmcore.schemes.base import fixed_steps
        from msmcore.timeline import count_pieces

        window = scheme.window_length(self)
        windows = count_pieces(start, until, window)
        if windows == 0:
            raise ConfigurationError(
                f"run from t={start:.17g} to until={until:.17g} is shorter than the round-off of one coupling "
                f"window ({window:.6g}): nothing would advance; check 'until' and its units")
        counts = [("coupling windows", f"window {window:.6g}", windows)]
        for name, dt in fixed_steps(self).items():
            counts.append((f"steps of component '{name}'", f"dt {dt:.6g}", count_pieces(start, until, dt)))
        for what, step, n in counts:
            if n > max_steps:
                raise ConfigurationError(
                    f"running from t={start:.6g} to {until:.6g} would take {n:.3g} {what} ({step}), more than "
                    f"max_steps={max_steps:.3g}; check the time step and 'until' (and their units), or pass "
                    "run(max_steps=...) (in YAML: run.max_steps) if the run really is that long"
                )
            if n > max_steps / 100:
                logger.warning("running from t=%.6g to %.6g takes %.3g %s (%s)", start, until, n, what, step)
        return window

    # -- helpers -------------------------------------------------------------
    def _results_file(self, out: Any) -> ResultsFile | None:
        """``run(out=...)`` checked writable before step 1 (by rank 0, the same answer on every rank)."""
        from msmcore.stream import ResultsFile, check_writable

        if out is None:
            return None
        target = ResultsFile.from_argument(out)
        problem = None
        if self.comm.Get_rank() == 0:
            try:
                check_writable(target.path, "run(out=...)")
            except ConfigurationError as exc:
                problem = str(exc)
        if self.size > 1:
            problem = self.comm.bcast(problem, root=0)
        if problem is not None:
            raise ConfigurationError(problem)
        return target

    def _endpoint(self, text: str, role: str) -> tuple[str, str]:
        if not isinstance(text, str) or text.count(".") != 1:
            raise CouplingError(f"{role} {text!r} must look like '<component>.<port>', e.g. 'macro.state_out'")
        name, port = text.split(".")
        if name not in self.components:
            close = difflib.get_close_matches(name, list(self.components), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            have = ", ".join(self.components) or "none yet"
            raise CouplingError(f"{role} '{text}': no component '{name}' in this coupling (components: {have}).{hint}")
        return name, port

    def _port(self, name: str, port: str) -> Port:
        comp = self.components[name]
        if port not in comp.ports:
            close = difflib.get_close_matches(port, list(comp.ports), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            have = ", ".join(f"{p.name} ({p.direction.value})" for p in comp.ports.values()) or "none"
            raise CouplingError(
                f"component '{name}' ({self.keys[name]}) has no port '{port}'; its ports: {have}.{hint}")
        return comp.ports[port]

    def _names(self, name: str, direction: Direction) -> str:
        return ", ".join(p.name for p in self.components[name].ports.values() if p.direction is direction) or "none"
