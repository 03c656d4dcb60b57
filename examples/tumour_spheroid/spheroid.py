"""A tumour spheroid: cells.agents + fluid.diffusion (oxygen) + one kinetics.network per cell.

Units: minutes, micrometres, mmHg. Oxygen after PhysiCell's spheroid set-up
(Ghaffarizadeh et al., PLoS Comput. Biol. 14, e1005991 (2018)): D = 1e5 um^2/min,
decay 0.1/min, uptake 10/min per unit cell volume, 38 mmHg held on the domain's
faces; necrosis below 5 mmHg (full rate at 2.5 mmHg).

Each cell carries a hypoxia network (``kinetics.network`` with ``agents="cells"``):
``-> M; k O2^2/(O2^2 + K^2)``, ``M -> ; k M``: ``M`` relaxes (time 1/k) to the Hill
factor of the local oxygen and multiplies the cell's cycle rate, so hypoxic cells slow
down. The network gets the cell's oxygen through the cells' ``network_out`` relay.

One window = one phenotype step (6 min): oxygen (backward Euler, the cells' uptake
deposited as an implicit linear sink), then the cells (mechanics every
``dt_mechanics``, then cycle/death), then the networks.

Run: ``python spheroid.py --dim 3 --until 7200 --plot spheroid.png`` (the full run,
>= 10^4 cells) or ``--dim 2`` for the small version; ``--profile`` prints the split.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from typing import Any

import numpy as np

import msmcore as msm

logger = logging.getLogger(__name__)

O2_FAR = 38.0  # mmHg
HYPOXIA = "J0: oxygen -> oxygen + M; k*oxygen^2/(oxygen^2 + K^2); J1: M -> ; k*M; k = 0.01; K = 8; oxygen = 38; M = 1"


class Census(msm.Component):
    """Follows the cells: per window, time, live/apoptotic/necrotic counts and the spheroid radius."""

    dt = msm.Setting(float, default=6.0, doc="its step (it only records)")
    dim = msm.Setting(int, default=3, choices=(2, 3))
    state_attributes = ("rows",)

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.input("phase_in", agents="cells", units="1"),
                msm.Port.input("positions_in", agents="cells", components=self.dim, units="um")]

    def initialize(self) -> None:
        self.rows: list[list[float]] = []

    def receive(self, port: str) -> None:
        if port == "positions_in":
            self._record()

    def _record(self) -> None:
        phase = self.port_array("phase_in")
        x = self.port_array("positions_in").reshape(len(phase), -1)
        if len(phase) == 0:
            return
        centre = x.mean(axis=0)
        r = np.linalg.norm(x - centre, axis=1)
        # spheroid radius: sqrt(5/3) x the rms distance (exact for a uniformly filled ball; sqrt(2) for a disc)
        factor = np.sqrt(5.0 / 3.0) if x.shape[1] == 3 else np.sqrt(2.0)
        row = [self.t, int(np.sum(phase >= 0)), int(np.sum(phase == -1)), int(np.sum(phase == -2)),
               float(factor * np.sqrt(np.mean(r**2)))]
        if self.rows and self.rows[-1][0] == self.t:
            self.rows[-1] = row
        else:
            self.rows.append(row)

    def step(self, dt: float) -> None:
        pass


class VoxelSink(msm.Component):
    """BioFVM's per-cell sink on the voxel that holds each cell's centre, vectorised (``--sink voxel``).

    ``sink_j = sum_{i in voxel j} U_i V_i / V_voxel`` (Ghaffarizadeh, Friedman & Macklin, Bioinformatics 32,
    1256 (2016), eq. for the cell source/sink with the cell in one voxel); ``V_i`` are the cells' volumes
    (areas in 2D, over ``h^2``). The core's ``mapping="deposit"`` (the default) spreads each cell over the
    voxels its ball overlaps instead; both conserve the total uptake.
    """

    dt = msm.Setting(float, default=6.0, doc="its step")
    dim = msm.Setting(int, default=3)
    n = msm.Setting(int, default=40)
    h = msm.Setting(float, default=20.0)
    origin = msm.Setting(float, default=-400.0)
    state_attributes = ()

    def declare_ports(self) -> list[msm.Port]:
        centres = self.origin + (np.arange(self.n) + 0.5) * self.h
        coords = {"xyz"[a]: centres for a in range(self.dim)}
        a = {"agents": "cells"}
        return [msm.Port.input("positions_in", components=self.dim, units="um", **a),
                msm.Port.input("volumes_in", units="um^3" if self.dim == 3 else "um^2", **a),
                msm.Port.input("uptake_in", units="1/min", **a),
                msm.Port.output("sink_out", (self.n,) * self.dim, units="1/min", coords=coords, coord_units="um")]

    def step(self, dt: float) -> None:
        x = self.port_array("positions_in").reshape(-1, self.dim)
        idx = np.clip(np.floor((x - self.origin) / self.h).astype(np.int64), 0, self.n - 1)
        flat = np.ravel_multi_index(tuple(idx.T), (self.n,) * self.dim) if len(x) else np.zeros(0, np.int64)
        w = self.port_array("uptake_in") * self.port_array("volumes_in")
        out = self.port_array("sink_out")
        out.reshape(-1)[...] = np.bincount(flat, weights=w, minlength=out.size) / self.h**self.dim


def build(dim: int = 3, count: int = 7, half_width: float = 400.0, h: float = 20.0, seed: int = 1,
          birth_rate: float = 0.0015, dt_mechanics: float = 0.5, D: float = 1.0e5,
          uptake: float = 10.0, window: float = 6.0, samples: int = 8,
          sink: str = "deposit") -> tuple[msm.Coupling, dict[str, Any]]:
    """The coupled spheroid; returns the coupling and its components by name."""
    n = int(round(2 * half_width / h))
    c = msm.Coupling()
    cells = c.add("cells", "cells.agents", dim=dim, count=count, seed=seed, birth_rate=birth_rate,
                  dt_mechanics=dt_mechanics, dt_phenotype=6.0, necrosis_threshold=5.0, necrosis_max=2.5,
                  substrates={"oxygen": {"uptake": uptake, "units": "mmHg", "default": O2_FAR}},
                  network_species=("oxygen", "M"), network_initial=(O2_FAR, 1.0))
    oxygen = c.add("oxygen", "fluid.diffusion", shape=(n,) * dim, spacing=h, origin=-half_width, D=D,
                   decay=0.1, length_units="um", time_units="min", method="implicit", boundary="dirichlet",
                   boundary_value=O2_FAR, initial=O2_FAR, units="mmHg", dt=window, ksp_rtol=1e-10)
    net = c.add("net", "kinetics.network", model=HYPOXIA, agents="cells", dt=6.0, method="euler",
                species=("oxygen", "M"), inherit="copy")
    census = c.add("census", Census, dt=window, dim=dim)
    pos = "cells.positions_out"
    if sink == "deposit":
        c.connect("cells.uptake_oxygen_out", "oxygen.sink_in", mapping="deposit", positions=pos,
                  volumes="cells.volumes_out", quantity="intensive", samples=samples)
    else:
        c.add("sink", VoxelSink, dt=window, dim=dim, n=n, h=h, origin=-half_width)
        c.connect(pos, "sink.positions_in")
        c.connect("cells.volumes_out", "sink.volumes_in")
        c.connect("cells.uptake_oxygen_out", "sink.uptake_in")
        c.connect("sink.sink_out", "oxygen.sink_in")
    c.connect("oxygen.state_out", "cells.concentration_oxygen_in", mapping="interpolate", positions=pos)
    c.connect("cells.network_out", "net.state_in")
    c.connect("net.state_out", "cells.network_in")
    c.connect("net.state_out", "cells.cycle_modifier_in", source_component=1)
    c.connect("cells.phase_out", "census.phase_in")
    c.connect(pos, "census.positions_in")
    return c, {"cells": cells, "oxygen": oxygen, "net": net, "census": census}


def scheme(window: float = 6.0, sink: str = "deposit") -> msm.Serial:
    """Oxygen, then cells, then networks (then the voxel sink), then the census, each window."""
    order = ["oxygen", "cells", "net"] + (["sink"] if sink == "voxel" else []) + ["census"]
    return msm.Serial(window=window, order=order)


def coupling(**kw: Any) -> tuple[msm.Coupling, msm.Serial]:
    """For ``msm run spheroid.yaml``: the coupling of :func:`build` and its scheme."""
    c, _ = build(**kw)
    return c, scheme(kw.get("window", 6.0), kw.get("sink", "deposit"))


def run(until: float, profile: bool = False, **kw: Any) -> tuple[msm.Result, dict[str, Any], float]:
    """Build and run to ``until`` minutes; returns the result, the components and the wall time."""
    c, comps = build(**kw)
    t0 = time.perf_counter()
    result = c.run(until=until, scheme=scheme(kw.get("window", 6.0), kw.get("sink", "deposit")),
                   quiet=True, sample_every=until, profile=profile)
    return result, comps, time.perf_counter() - t0


def plot(comps: dict[str, Any], path: str) -> None:
    """Cell count and radius against time, the oxygen profile, and a slice of the spheroid."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = np.array(comps["census"].rows)
    pop = comps["cells"].population
    ox = comps["oxygen"]
    field = np.array(ox.port_array("state_out"))
    fig, ax = plt.subplots(1, 3, figsize=(13, 4))
    t_h = rows[:, 0] / 60.0
    ax[0].semilogy(t_h, rows[:, 1:4].sum(axis=1), "k-", label="all cells")
    ax[0].semilogy(t_h, np.maximum(rows[:, 3], 0.5), "-", color="saddlebrown", label="necrotic")
    ax[0].set_xlabel("time (h)")
    ax[0].set_ylabel("cells")
    a2 = ax[0].twinx()
    a2.plot(t_h, rows[:, 4], "b--", label="radius")
    a2.set_ylabel("spheroid radius (um)", color="b")
    ax[0].legend(loc="upper left", fontsize=8)
    n = field.shape[0]
    h = 2 * (-float(ox.origin)) / n
    xc = float(ox.origin) + (np.arange(n) + 0.5) * h
    mid = n // 2
    line = field[(slice(None),) + (mid,) * (field.ndim - 1)]
    ax[1].plot(xc, line, "b.-")
    ax[1].axhline(5.0, color="saddlebrown", ls=":", label="necrosis threshold")
    ax[1].set_xlabel("x (um)")
    ax[1].set_ylabel("oxygen (mmHg)")
    ax[1].set_title("oxygen through the centre")
    ax[1].legend(fontsize=8)
    x = pop.positions
    keep = np.abs(x[:, 2]) < 10.0 if x.shape[1] == 3 else np.ones(len(x), bool)
    colours = np.where(pop.phase[keep] >= 0, "tab:green", np.where(pop.phase[keep] == -1, "red", "saddlebrown"))
    ax[2].scatter(x[keep, 0], x[keep, 1], s=4, c=colours)
    ax[2].set_aspect("equal")
    ax[2].set_title(("slice |z| < 10 um: " if x.shape[1] == 3 else "") + "live, apoptotic (red), necrotic (brown)",
                    fontsize=9)
    ax[2].set_xlabel("x (um)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dim", type=int, default=3)
    ap.add_argument("--until", type=float, default=7200.0, help="minutes")
    ap.add_argument("--count", type=int, default=7)
    ap.add_argument("--half-width", type=float, default=400.0)
    ap.add_argument("--h", type=float, default=20.0)
    ap.add_argument("--window", type=float, default=6.0, help="coupling window (min), a multiple of 6")
    ap.add_argument("--uptake", type=float, default=10.0, help="oxygen uptake rate (1/min)")
    ap.add_argument("--samples", type=int, default=8, help="deposit sub-samples per axis of a cut grid cell")
    ap.add_argument("--sink", default="deposit", choices=("deposit", "voxel"),
                    help="cells -> grid: the core's overlap deposit, or BioFVM's centre voxel (fast)")
    ap.add_argument("--plot", default=None)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--json", default=None, help="write the census rows and the profile totals here")
    a = ap.parse_args()
    result, comps, wall = run(a.until, profile=a.profile, dim=a.dim, count=a.count, half_width=a.half_width, h=a.h,
                                window=a.window, uptake=a.uptake, samples=a.samples, sink=a.sink)
    rows = comps["census"].rows
    print(f"{a.dim}D, {a.until:g} min: {sum(rows[-1][1:4])} cells (live {rows[-1][1]}, apoptotic {rows[-1][2]}, "
          f"necrotic {rows[-1][3]}), radius {rows[-1][4]:.1f} um, wall {wall:.1f} s")
    out: dict[str, Any] = {"rows": rows, "wall_s": wall}
    if a.profile:
        totals = result.profile_totals()
        print(totals)
        out["profile"] = str(totals)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f)
    if a.plot:
        plot(comps, a.plot)


if __name__ == "__main__":
    main()
