"""External forces of ``md.lj``: smooth walls, the open-boundary force, body forces per slab.

All are OpenMM custom forces acting on the fluid particles only, in their own
force groups (their "energies" are not part of the fluid's potential energy):

* :func:`wall_93` — a smooth 9-3 wall (a Lennard-Jones half space):
  ``u(h) = ε_w [(2/15)(σ/h)^9 − (σ/h)^3]`` at distance ``h`` from the wall
  plane, cut and shifted at ``h_c``;
* :func:`open_boundary` — the force of Nie, Chen, E & Robbins (2004) that
  keeps particles from leaving through an open side:
  ``F = −α p0 σ (y − y0) / (1 − (y − y0)/(y1 − y0))`` for ``y0 < y < y1``
  (directed back into the fluid), which diverges at ``y1``; ``p0`` is the
  mean pressure (a context parameter, so a continuum can update it), α = 1.
  Beyond 99 % of the layer the force is held at its value there, so a
  particle that overshoots in one step is still pushed back;
* :func:`slab_body_force` — a force per particle that is constant in each slab
  of a :class:`~msmcore.mapping.particles.SlabGrid` (tabulated; updated in place).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from msmcore.mapping.particles import SlabGrid

__all__ = ["open_boundary", "slab_body_force", "update_slab_body_force", "wall_93", "AXES"]

AXES = "xyz"
#: Force groups (OpenMM allows 0-31).
PAIR_GROUP, WALL_GROUP, OPEN_GROUP, BODY_GROUP = 0, 1, 2, 3
_S_MAX = 0.99


def _num(value: float) -> str:
    """A number as OpenMM's expression parser reads it (``repr`` of a NumPy float is not)."""
    return repr(float(value))


def wall_93(axis: int, planes: list[tuple[float, int]], epsilon: float, cutoff: float,
            fluid: range) -> Any:
    """Smooth 9-3 walls along ``axis``.

    ``planes`` lists ``(position, direction)``: direction ``+1`` for a wall
    below the fluid (it pushes towards +axis), ``-1`` for one above.
    """
    import openmm

    q = AXES[axis]
    shift = 2.0 / 15.0 * cutoff**-9 - cutoff**-3
    terms, defs = [], []
    for k, (position, direction) in enumerate(planes):
        h = f"({q} - ({_num(position)}))" if direction > 0 else f"(({_num(position)}) - {q})"
        defs.append(f"h{k} = max({h}, 0.2)")
        terms.append(f"step(hc - h{k})*(2/15*h{k}^-9 - h{k}^-3 - wshift)")
    expr = "ew*(" + " + ".join(terms) + "); " + "; ".join(defs)
    force = openmm.CustomExternalForce(expr)
    force.addGlobalParameter("ew", float(epsilon))
    force.addGlobalParameter("hc", float(cutoff))
    force.addGlobalParameter("wshift", float(shift))
    for i in fluid:
        force.addParticle(i, [])
    force.setForceGroup(WALL_GROUP)
    return force


def wall_93_energy(coordinate: np.ndarray, planes: list[tuple[float, int]], epsilon: float,
                   cutoff: float) -> float:
    """The total energy of :func:`wall_93` for fluid coordinates along the wall normal."""
    shift = 2.0 / 15.0 * cutoff**-9 - cutoff**-3
    total = 0.0
    for position, direction in planes:
        h = np.maximum((coordinate - position) * direction, 0.2)
        inside = h < cutoff
        total += float(np.sum(2.0 / 15.0 * h[inside] ** -9 - h[inside] ** -3 - shift))
    return epsilon * total


def open_boundary(axis: int, y0: float, y1: float, pressure: float, fluid: range) -> Any:
    """Nie et al.'s boundary force in the layer ``[y0, y1)`` (``y1 > y0``: the open side is above;
    ``y1 < y0``: below). ``p0`` is the context parameter ``p0_open``."""
    import openmm

    q = AXES[axis]
    width = abs(y1 - y0)
    sign = 1.0 if y1 > y0 else -1.0
    # E(s) = p0 h^2 (-s - ln(1-s)), s = (y - y0)/(y1 - y0) in [0, 1): F = -p0 (y - y0)/(1 - s);
    # for s > S_MAX the force is held at its S_MAX value (E continued linearly).
    expr = ("p0_open*hw^2*(-sc - log(1 - sc) + (s - sc)*smax/(1 - smax)); "
            "sc = min(s, smax); s = max(0, sgn*(" + q + " - y0)/hw)")
    force = openmm.CustomExternalForce(expr)
    force.addGlobalParameter("p0_open", float(pressure))
    force.addGlobalParameter("hw", float(width))
    force.addGlobalParameter("y0", float(y0))
    force.addGlobalParameter("sgn", sign)
    force.addGlobalParameter("smax", _S_MAX)
    for i in fluid:
        force.addParticle(i, [])
    force.setForceGroup(OPEN_GROUP)
    return force


def slab_body_force(grid: SlabGrid, values: np.ndarray, fluid: range) -> Any:
    """A force per particle, ``values[b]`` (``(n, 3)``) in slab ``b``, none outside the slabs."""
    import openmm

    q = f"{AXES[grid.axis]}1"
    lo, hi, width, period = _num(grid.lo), _num(grid.hi), _num(grid.width), _num(grid.hi - grid.lo)
    coord = f"(({lo}) + ({q} - ({lo})) - {period}*floor(({q} - ({lo}))/{period}))" if grid.periodic else q
    expr = (f"-(fx(b)*x1 + fy(b)*y1 + fz(b)*z1)*inside; "
            f"b = min(max(floor((qq - ({lo}))/{width}), 0), {grid.n - 1}); "
            f"inside = step(qq - ({lo}))*step({hi} - qq); qq = {coord}")
    force = openmm.CustomCompoundBondForce(1, expr)
    values = np.asarray(values, dtype=np.float64).reshape(grid.n, 3)
    for a, name in enumerate(("fx", "fy", "fz")):
        force.addTabulatedFunction(name, openmm.Discrete1DFunction(values[:, a].tolist()))
    for i in fluid:
        force.addBond([i], [])
    force.setForceGroup(BODY_GROUP)
    return force


def update_slab_body_force(force: Any, values: np.ndarray, context: Any) -> None:
    """Replace the per-slab values of a :func:`slab_body_force` in ``context``."""
    values = np.asarray(values, dtype=np.float64).reshape(-1, 3)
    for a in range(3):
        force.getTabulatedFunction(a).setFunctionParameters(values[:, a].tolist())
    force.updateParametersInContext(context)
