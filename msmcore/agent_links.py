"""Connections that involve agent ports (dynamic ports), validated when they are made.

Three kinds (see docs/coupling.md, "Dynamic ports (agent sets)"):

* agent port -> agent port of the *same* agent set (identity by agent: row ``i``
  is agent ``ids[i]`` on both sides). A component whose port names a set it does
  not own *follows* the set connected into it; its other ports of that name
  then have the same agents.
* agent port -> grid port, ``mapping="deposit"`` (options ``positions=``,
  ``volumes=`` or ``radius=``, ``quantity=``, ``samples=``).
* grid port -> agent port, ``mapping="interpolate"`` (option ``positions=``).

``positions="comp.port"`` names an output agent port of the same set with
``dim`` values per agent (the agents' centres); ``volumes="comp.port"`` one with
one value per agent (their volumes: areas in 2D).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from msmcore.errors import CouplingError
from msmcore.mapping.agents import QUANTITIES
from msmcore.ports import Direction, Port
from msmcore.units import conversion_factor

if TYPE_CHECKING:
    from msmcore.coupling import Connection, Coupling

__all__ = ["AGENT_MAPPINGS", "AgentRoute", "check_agent_placement", "connect_agents", "set_of", "unbound_followers"]

#: Mappings between agent ports and grid ports.
AGENT_MAPPINGS = ("deposit", "interpolate")

SetKey = tuple[str, str]  # (owning component, set name)


@dataclass(frozen=True)
class AgentRoute:
    """How a connection with agent ports moves its data.

    Attributes
    ----------
    kind
        ``"identity"``, ``"deposit"`` or ``"interpolate"``.
    agents
        The agent set ``(owner component, set name)``.
    positions, volumes
        ``(component, port)`` of the agents' centres and volumes (mappings).
    radius
        One radius for every agent (deposit without ``volumes``), in the grid's coordinate units.
    quantity, samples
        Deposit options (see :func:`msmcore.mapping.agents.deposit_matrix`).
    length_scale, volume_scale
        Factors taking the positions and volumes ports' units to the grid's
        ``coord_units`` (and their ``dim``-th power); 1 when the grid declares none.
    """

    kind: str
    agents: SetKey
    positions: tuple[str, str] | None = None
    volumes: tuple[str, str] | None = None
    radius: float | None = None
    quantity: str = "total"
    samples: int = 8
    length_scale: float = 1.0
    volume_scale: float = 1.0


def set_of(coupling: Coupling, name: str, port: Port) -> SetKey | None:
    """The agent set of ``name``'s agent port ``port``: its own, or the one it follows (``None``: not yet bound)."""
    if port.agents is None:
        return None
    if port.agents in coupling.components[name].agent_sets:
        return (name, port.agents)
    return coupling.agent_bindings.get((name, port.agents))


def check_agent_placement(name: str, component: Any, ranks: tuple[int, ...]) -> None:
    """Refuse a component that owns an agent set or has agent ports on more than one rank.

    Raises
    ------
    ConfigurationError
        Naming the component, its ranks and its agent ports.
    """
    from msmcore.errors import ConfigurationError

    agent_ports = [p.name for p in component.ports.values() if p.agents is not None]
    if len(ranks) > 1 and (component.agent_sets or agent_ports):
        raise ConfigurationError(
            f"component '{name}' has agent sets {sorted(component.agent_sets)} / agent ports {agent_ports} and "
            f"would run on ranks {list(ranks)}; an agent set lives on one rank in this version: add it with "
            "ranks=0 (or another single rank); see docs/coupling.md, 'Dynamic ports', for what a distributed "
            "agent set needs")


def unbound_followers(coupling: Coupling) -> list[str]:
    """``"component: ports (name)"`` for every group of agent ports that follows no agent set."""
    loose: dict[tuple[str, str], list[str]] = {}
    for name, comp in coupling.components.items():
        for port in comp.ports.values():
            group = port.agents
            if group is not None and group not in comp.agent_sets and (name, group) not in coupling.agent_bindings:
                loose.setdefault((name, group), []).append(port.name)
    return [f"'{n}' ports {ports} (agents '{g}')" for (n, g), ports in loose.items()]


def _one_rank(coupling: Coupling, what: str, names: list[str]) -> None:
    ranks = {n: coupling.placement[n] for n in names}
    wide = [f"'{n}' on ranks {list(r)}" for n, r in ranks.items() if len(r) != 1]
    if wide or len(set(ranks.values())) > 1:
        raise CouplingError(
            f"{what}: an agent set and everything connected to it must run on one and the same rank in this "
            f"version (placements: {', '.join(f'{n}: {list(r)}' for n, r in ranks.items())}"
            f"{'; more than one rank: ' + ', '.join(wide) if wide else ''}); add them with ranks=0 (or one other "
            "rank each, the same); see docs/coupling.md, 'Dynamic ports', for what a distributed set needs")


def _endpoint(coupling: Coupling, what: str, option: str, text: Any, agents: SetKey,
              values: int | None) -> tuple[str, str]:
    if not isinstance(text, str) or text.count(".") != 1:
        raise CouplingError(f"{what}: {option}= must name an output port as '<component>.<port>', got {text!r}")
    name, pname = coupling._endpoint(text, option)
    port = coupling._port(name, pname)
    if port.direction is not Direction.OUT or port.agents is None or set_of(coupling, name, port) != agents:
        raise CouplingError(f"{what}: {option}='{text}' must be an output agent port of the agent set "
                            f"'{agents[0]}.{agents[1]}' (it is {'an input' if port.direction is Direction.IN else ''}"
                            f"{'' if port.agents else ' a fixed-size port'}"
                            f"{' of another set' if port.agents and set_of(coupling, name, port) != agents else ''})")
    if values is not None and port.spec.components != values:
        raise CouplingError(f"{what}: {option}='{text}' has {port.spec.components} value(s) per agent; it needs "
                            f"{values}")
    return name, pname


def _to_grid_units(coupling: Coupling, what: str, option: str, endpoint: tuple[str, str],
                   coord_units: str | None, power: int) -> float:
    """Factor from the ``option`` port's units to the grid's ``coord_units`` to the ``power``.

    Positions in ``"um"`` mapped onto a grid whose coordinates are in ``"m"``
    are scaled (1e-6), never compared as bare numbers; a positions port that
    is not a length (or volumes not a length to the ``power``) is refused.
    A grid that declares no ``coord_units`` is taken to share the agents' units.
    """
    if coord_units is None:
        return 1.0
    units = coupling._port(*endpoint).spec.units
    grid_units = coord_units if power == 1 else f"{coord_units}^{power}"
    try:
        return float(conversion_factor(units, grid_units))
    except Exception as exc:  # noqa: BLE001 - reported as this connection's
        raise CouplingError(f"{what}: {option}='{endpoint[0]}.{endpoint[1]}' is in '{units}' but the grid's "
                            f"coordinates are in '{coord_units}' ({'a length' if power == 1 else f'length^{power}'} "
                            f"is needed): {exc}") from None


def connect_agents(coupling: Coupling, what: str, src: tuple[str, Port], dst: tuple[str, Port], *,
                   mapping: str | None, interpolate: bool, conservative: bool, source_component: int | None,
                   target_component: int | None, options: dict[str, Any]) -> tuple[Connection, AgentRoute]:
    """Validate a connection that has an agent port on at least one side; returns it and its route.

    Binds a following component's agent name to the source's set.

    Raises
    ------
    CouplingError
        An agent port connected to a fixed-size port without ``mapping="deposit"``
        /``"interpolate"``, ports of different agent sets, a follower whose set
        is not known yet, bad mapping options, interpolation in time, or
        components on more than one rank.
    """
    from msmcore.coupling import Connection

    (src_name, out), (dst_name, inp) = src, dst
    if interpolate:
        raise CouplingError(f"{what}: interpolate=True (in time) is not available on agent ports: the agents of "
                            "the window's start and end differ")
    if conservative:
        raise CouplingError(f"{what}: conservative= does not apply to agent ports; a deposit conserves the total "
                            "by construction")
    if target_component is not None:
        raise CouplingError(f"{what}: target_component= is not available on agent ports; give the target port "
                            "its own connection of all its values")
    ca = 1 if source_component is not None else out.spec.components
    try:
        factor = conversion_factor(out.spec.units, inp.spec.units)
    except Exception as exc:  # noqa: BLE001 - a units problem is reported as this connection's
        raise CouplingError(f"{what}: units mismatch: {exc}") from None
    src_set = set_of(coupling, src_name, out)
    if out.agents is not None and src_set is None and inp.agents is not None and mapping is None:
        src_set = set_of(coupling, dst_name, inp)  # a follower's output into a port of a known set binds it
        if src_set is not None:
            _one_rank(coupling, what, sorted({src_set[0], src_name, dst_name}))
            coupling.agent_bindings[(src_name, str(out.agents))] = src_set
    if out.agents is not None and src_set is None:
        raise CouplingError(f"{what}: '{src_name}' follows agents named '{out.agents}' but none are connected "
                            f"into it yet; connect an input of '{src_name}' with agents='{out.agents}' first")
    for c in coupling.connections:
        if (c.target, c.target_port) == (dst_name, inp.name):
            raise CouplingError(f"{what}: input '{dst_name}.{inp.name}' is already connected (from "
                                f"{c.source}.{c.source_port})")
    if out.agents is not None and inp.agents is not None:
        if mapping is not None or options:
            raise CouplingError(f"{what}: both ports are agent ports, which connect agent by agent; no mapping= "
                                f"or mapping options ({sorted(options)})")
        assert src_set is not None
        dst_set = set_of(coupling, dst_name, inp)
        if dst_set is not None and dst_set != src_set:
            raise CouplingError(f"{what}: the source's agents are '{src_set[0]}.{src_set[1]}', the target's "
                                f"'{dst_set[0]}.{dst_set[1]}': agent ports connect within one agent set")
        if ca != inp.spec.components:
            raise CouplingError(f"{what}: {ca} value(s) per agent into a port of {inp.spec.components}; pick one "
                                "with source_component= or make them equal")
        _one_rank(coupling, what, sorted({src_set[0], src_name, dst_name}))
        if dst_set is None:
            coupling.agent_bindings[(dst_name, str(inp.agents))] = src_set
        route = AgentRoute("identity", src_set)
    else:
        route = _mapped(coupling, what, src_name, out, dst_name, inp, src_set, mapping, ca, options)
    conn = Connection(src_name, out.name, dst_name, inp.name, factor, False, None, False, source_component, None)
    return conn, route


def _mapped(coupling: Coupling, what: str, src_name: str, out: Port, dst_name: str, inp: Port,
            src_set: SetKey | None, mapping: str | None, ca: int, options: dict[str, Any]) -> AgentRoute:
    agent_side = "source" if out.agents is not None else "target"
    need = "deposit" if agent_side == "source" else "interpolate"
    if mapping != need:
        raise CouplingError(
            f"{what}: the {agent_side} is an agent port (one value per agent, their number changing) and the "
            f"{'target' if agent_side == 'source' else 'source'} a fixed-size port"
            f"{'' if mapping is None else f', and mapping={mapping!r} cannot map between them'}; connect them "
            f"with mapping='{need}' ({'agents -> grid' if need == 'deposit' else 'grid -> agents'}) and "
            "positions='<component>.<positions port>'")
    agents = src_set if agent_side == "source" else set_of(coupling, dst_name, inp)
    grid = inp.spec if agent_side == "source" else out.spec
    grid_name = dst_name if agent_side == "source" else src_name
    if agents is None:
        raise CouplingError(f"{what}: '{dst_name}' follows agents named '{inp.agents}' but none are connected into "
                            f"it yet; connect an agent port of the set into '{dst_name}' first (agent to agent)")
    owner = coupling.components[agents[0]]
    dim = owner.agent_sets[agents[1]].dim
    axes = grid.coords
    if not axes or "points" in axes or len(axes) != len(grid.shape) or any(
            np.ndim(a) != 1 for a in axes.values()):
        raise CouplingError(f"{what}: mapping='{need}' needs the grid port to declare one 1D array of cell centres "
                            f"per axis in its coords (it declares {sorted(axes) if axes else 'none'})")
    if len(grid.shape) != dim:
        raise CouplingError(f"{what}: the agents are {dim}D but the grid has {len(grid.shape)} axes")
    if ca != 1 or inp.spec.components != 1:
        raise CouplingError(f"{what}: mapping='{need}' moves one value per point; pick one with source_component= "
                            "(the target must have one value per point)")
    allowed = {"positions", "volumes", "radius", "quantity", "samples"} if need == "deposit" else {"positions"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise CouplingError(f"{what}: unknown option(s) {unknown} for mapping='{need}'; it takes {sorted(allowed)}")
    if "positions" not in options:
        raise CouplingError(f"{what}: mapping='{need}' needs positions='<component>.<port>', the output port of "
                            f"the agents' centres ({dim} values per agent)")
    positions = _endpoint(coupling, what, "positions", options["positions"], agents, dim)
    length_scale = _to_grid_units(coupling, what, "positions", positions, grid.coord_units, 1)
    route = AgentRoute(need, agents, positions, length_scale=length_scale)
    if need == "deposit":
        volumes, radius = options.get("volumes"), options.get("radius")
        if (volumes is None) == (radius is None):
            raise CouplingError(f"{what}: mapping='deposit' needs the agents' size: volumes='<component>.<port>' "
                                "(one volume per agent; an area in 2D) or radius=<one radius for all>, one of them")
        vol = _endpoint(coupling, what, "volumes", volumes, agents, 1) if volumes is not None else None
        if radius is not None and (isinstance(radius, bool) or not isinstance(radius, numbers.Real)
                                   or not np.isfinite(float(radius)) or radius < 0):
            raise CouplingError(f"{what}: radius={radius!r} must be a number >= 0")
        quantity = options.get("quantity", "total")
        if quantity not in QUANTITIES:
            raise CouplingError(f"{what}: quantity={quantity!r}; use one of {list(QUANTITIES)}")
        samples = options.get("samples", 8)
        if isinstance(samples, bool) or not isinstance(samples, numbers.Integral) or not 1 <= int(samples) <= 256:
            raise CouplingError(f"{what}: samples={samples!r} must be a whole number from 1 to 256")
        volume_scale = 1.0 if vol is None else _to_grid_units(coupling, what, "volumes", vol, grid.coord_units, dim)
        route = AgentRoute(need, agents, positions, vol, None if radius is None else float(radius), quantity,
                           int(samples), length_scale, volume_scale)
    names = {agents[0], src_name, dst_name, grid_name, positions[0]}
    if route.volumes is not None:
        names.add(route.volumes[0])
    _one_rank(coupling, what, sorted(names))
    return route
