"""Boundary description of :class:`~msm_fluid.navier_stokes.NavierStokes`: one kind per edge.

Edges are named ``left`` (x = x0), ``right`` (x = x0 + width), ``bottom``
(y = y0) and ``top`` (y = y0 + height). Kinds:

``"wall"``
    No slip: the fluid moves with the wall, whose *tangential* velocity is
    the edge's entry of ``wall_velocity`` (along +y for left/right, +x for
    bottom/top; 0 for a wall at rest). The stream function is constant
    along it and the wall vorticity follows from Jensen's second-order
    formula.
``"slip"``
    Free slip (a symmetry plane): no normal velocity, no shear
    (vorticity 0).
``"inflow"`` (left edge only)
    Prescribed normal velocity ``u = inflow(y, t)`` (and ``v = 0``).
``"outflow"`` (right edge only)
    Zero normal gradient of the stream function and the vorticity
    (``dpsi/dx = domega/dx = 0``) and pressure 0 (its datum).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["EDGE_NAMES", "KINDS", "Boundaries", "parse_boundaries"]

#: Edges in port order (``wall_velocity_in`` entries).
EDGE_NAMES: tuple[str, ...] = ("left", "right", "bottom", "top")
#: Boundary kinds each edge accepts.
KINDS: dict[str, tuple[str, ...]] = {
    "left": ("wall", "slip", "inflow"),
    "right": ("wall", "slip", "outflow"),
    "bottom": ("wall", "slip"),
    "top": ("wall", "slip"),
}


@dataclass(frozen=True)
class Boundaries:
    """Kind of every edge (``kinds[edge]``)."""

    kinds: Mapping[str, str]

    @property
    def inflow(self) -> bool:
        """Whether the left edge is an inflow."""
        return self.kinds["left"] == "inflow"

    @property
    def outflow(self) -> bool:
        """Whether the right edge is an outflow."""
        return self.kinds["right"] == "outflow"

    def is_wall(self, edge: str) -> bool:
        """Whether ``edge`` is a no-slip wall (the only kind that takes a wall velocity)."""
        return self.kinds[edge] == "wall"


def parse_boundaries(value: Any) -> Boundaries:
    """Check a ``boundary`` setting: a mapping edge -> kind; missing edges are walls.

    Raises
    ------
    ValueError
        An unknown edge or a kind the edge does not accept, an inflow without
        an outflow (the mass would have nowhere to go) or an outflow without
        an inflow.
    """
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a mapping edge -> kind (edges {list(EDGE_NAMES)}), got {value!r}")
    kinds = {edge: "wall" for edge in EDGE_NAMES}
    for edge, kind in value.items():
        if edge not in KINDS:
            raise ValueError(f"unknown edge {edge!r}; edges are {list(EDGE_NAMES)}")
        kind = str(kind).strip().lower()
        if kind not in KINDS[edge]:
            raise ValueError(f"edge {edge!r} cannot be {kind!r}; it accepts {list(KINDS[edge])}")
        kinds[edge] = kind
    if (kinds["left"] == "inflow") != (kinds["right"] == "outflow"):
        raise ValueError("an inflow (left edge) needs an outflow (right edge) and vice versa; "
                         f"got left={kinds['left']!r}, right={kinds['right']!r}")
    return Boundaries(kinds)
