"""The box of ``md.lj``: fluid region, walls, OpenMM box, initial lattice.

The fluid fills ``[0, L_x) × [0, L_y) × [0, L_z)``. With ``cells`` it starts
on an FCC lattice of ``4·c_x·c_y·c_z`` sites at the requested density (lattice
constant ``a = (4/ρ)^(1/3)``, ``L = c·a``); with ``n_particles`` (fully
periodic only) the box is a cube of volume ``N/ρ`` and the particles take
``N`` evenly spread sites of the smallest FCC lattice with enough sites.

Along a non-periodic axis the fluid region is ``[0, H)``, ``H = c·a``, and
each side is one of

* ``"lattice"`` — a fixed FCC crystal continuing the fluid's initial lattice
  (so it is commensurate with the periodic axes): ``wall_layers`` atomic
  planes at ``−a/4, −3a/4, …`` below (``H + a/4, …`` above). Wall atoms have
  zero mass, so OpenMM never moves them; they interact with the fluid through
  the pair potential scaled by ``wall_epsilon``;
* ``"lj93"`` — a smooth 9-3 wall whose plane sits where the first lattice
  plane would be (``−a/4`` or ``H + a/4``);
* ``"open"`` — no wall: Nie et al.'s boundary force acts in the layer
  ``[H − open_width, H)`` (or ``[0, open_width)`` below) and diverges at the
  boundary.

OpenMM's box is periodic in all three directions; along the non-periodic axis
it is made longer than the walls plus a vacuum gap of ``cutoff + 1`` so that
nothing interacts across that boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from msm_md.lattice import fcc_constant, fcc_sites, spread_sites

__all__ = ["Geometry"]

BOUNDARIES = ("lattice", "lj93", "open")


@dataclass
class Geometry:
    """Fluid region, walls and OpenMM box of one ``md.lj`` component."""

    density: float
    cells: tuple[int, int, int]
    n_particles: int = 0
    normal: int | None = None  # the non-periodic axis, if any
    lower: str = "lattice"
    upper: str = "lattice"
    wall_layers: int = 0
    cutoff: float = 2.5
    open_width: float = 1.0
    a: float = field(init=False)
    length: np.ndarray = field(init=False)  # fluid region per axis
    box: np.ndarray = field(init=False)  # OpenMM box per axis

    def __post_init__(self) -> None:
        self.a = fcc_constant(self.density)
        if self.n_particles:
            side = (self.n_particles / self.density) ** (1.0 / 3.0)
            self.length = np.full(3, side)
        else:
            self.length = np.array(self.cells, dtype=np.float64) * self.a
        self.box = self.length.copy()
        if self.normal is not None:
            if self.wall_layers <= 0:
                # enough planes (spacing a/2) that the fluid sees no bare edge within the cut-off
                self.wall_layers = int(np.ceil(self.cutoff / (0.5 * self.a)))
            thickness = self.wall_layers * 0.5 * self.a
            self.box[self.normal] = self.length[self.normal] + 2.0 * thickness + self.cutoff + 1.0

    @property
    def periodic(self) -> np.ndarray:
        """Three booleans: periodic axes."""
        p = np.ones(3, dtype=bool)
        if self.normal is not None:
            p[self.normal] = False
        return p

    @property
    def volume(self) -> float:
        """Volume of the fluid region."""
        return float(np.prod(self.length))

    @property
    def cross_section(self) -> np.ndarray:
        """Area normal to each axis."""
        return np.array([self.length[1] * self.length[2], self.length[0] * self.length[2],
                         self.length[0] * self.length[1]])

    def fluid_positions(self) -> np.ndarray:
        """Initial fluid positions, ``(N, 3)``."""
        if self.n_particles:
            k = int(np.ceil((self.n_particles / 4.0) ** (1.0 / 3.0) - 1e-9))
            a = self.length[0] / k
            return spread_sites(fcc_sites((k, k, k), a), self.n_particles)
        return fcc_sites(self.cells, self.a)

    def wall_positions(self) -> np.ndarray:
        """Fixed wall atoms (``"lattice"`` sides), ``(M, 3)``; empty without walls."""
        if self.normal is None:
            return np.zeros((0, 3))
        ax, a = self.normal, self.a
        rows = []
        layers_cells = int(np.ceil(self.wall_layers / 2.0))
        for side, kind in (("lower", self.lower), ("upper", self.upper)):
            if kind != "lattice":
                continue
            cells = list(self.cells)
            cells[ax] = layers_cells
            start = [0, 0, 0]
            start[ax] = -layers_cells if side == "lower" else self.cells[ax]
            sites = fcc_sites(tuple(cells), a, tuple(start))  # type: ignore[arg-type]
            q = sites[:, ax]
            if side == "lower":
                keep = q > -self.wall_layers * 0.5 * a
            else:
                keep = q < self.length[ax] + self.wall_layers * 0.5 * a
            rows.append(sites[keep])
        return np.concatenate(rows) if rows else np.zeros((0, 3))

    def wall_planes(self) -> list[tuple[float, int]]:
        """Planes of the 9-3 walls: ``(position, +1 below / −1 above)``."""
        if self.normal is None:
            return []
        planes = []
        if self.lower == "lj93":
            planes.append((-0.25 * self.a, +1))
        if self.upper == "lj93":
            planes.append((self.length[self.normal] + 0.25 * self.a, -1))
        return planes

    def open_layer(self) -> tuple[float, float] | None:
        """``(y0, y1)`` of the open side's boundary-force layer (``y1`` = the boundary), or ``None``."""
        if self.normal is None:
            return None
        h = self.length[self.normal]
        if self.upper == "open":
            return (h - self.open_width, h)
        if self.lower == "open":
            return (self.open_width, 0.0)
        return None
