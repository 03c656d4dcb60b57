"""Dynamic ports: what an exchange costs when the agents change, and what a deposit costs.

1. One agent-to-agent connection (owner -> follower) over 50 windows, N agents: the
   exchange time per window (the run's ``exchange_s``) when the agents never change,
   when 1 % of them divide every window (so every exchange rebuilds its Vecs and Scatter),
   against the same coupling over fixed-size ports of N values (the baseline, same run).
2. ``deposit_matrix`` for N agents of radius ~ one cell on a 256 x 256 grid (it is rebuilt
   whenever the agents move), against applying it once (scipy sparse mat-vec).

Medians of repeated runs. Prints one JSON line.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402

import msmcore as msm  # noqa: E402
from msmcore.mapping.agents import deposit_matrix  # noqa: E402

WINDOWS = 50


class Owner(msm.Component):
    n = msm.Setting(int, default=1000)
    grow = msm.Setting(float, default=0.0)
    dt = msm.Setting(float, default=1.0)
    state_attributes = ()

    def declare_agent_sets(self) -> list[msm.AgentSet]:
        return [msm.AgentSet("cells", dim=2)]

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.output("x_out", agents="cells")]

    def initialize(self) -> None:
        self.agent_set("cells").add(self.n)

    def step(self, dt: float) -> None:
        cells = self.agent_set("cells")
        k = int(self.grow * cells.count)
        if k:
            cells.divide(cells.ids[:k])
            cells.remove(cells.ids[-k:])  # keep the count: only the membership changes
        self.port_array("x_out")[...] = 1.0


class Follower(msm.Component):
    dt = msm.Setting(float, default=1.0)
    state_attributes = ()

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.input("x_in", agents="a")]

    def step(self, dt: float) -> None:
        pass


class Fixed(msm.Component):
    n = msm.Setting(int, default=1000)
    dt = msm.Setting(float, default=1.0)
    state_attributes = ()

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.output("x_out", self.n), msm.Port.input("x_in", self.n, required=False)]

    def step(self, dt: float) -> None:
        self.port_array("x_out")[...] = 1.0


def exchange_per_window(n: int, grow: float | None, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        c = msm.Coupling()
        if grow is None:
            c.add("a", Fixed, n=n)
            c.add("b", Fixed, n=n)
            c.connect("a.x_out", "b.x_in")
        else:
            c.add("a", Owner, n=n, grow=grow)
            c.add("b", Follower)
            c.connect("a.x_out", "b.x_in")
        res = c.run(until=float(WINDOWS), quiet=True, profile=False)
        samples.append(res.timings["b"]["exchange_s"] / WINDOWS)
    return statistics.median(samples)


def deposit_times(n: int, repeat: int) -> tuple[float, float]:
    axes = [(np.arange(256) + 0.5) / 256] * 2
    rng = np.random.default_rng(1)
    pos = rng.uniform(0.05, 0.95, (n, 2))
    radii = np.full(n, 1.2 / 256)
    build, apply = [], []
    q = np.ones(n)
    for _ in range(repeat):
        t0 = time.perf_counter()
        w = deposit_matrix(axes, pos, radii, quantity="intensive")
        t1 = time.perf_counter()
        w @ q
        apply.append(time.perf_counter() - t1)
        build.append(t1 - t0)
    return statistics.median(build), statistics.median(apply)


def main() -> None:
    out: dict[str, object] = {"machine": machine()}
    for n in (1_000, 100_000):
        base = exchange_per_window(n, None, 5)
        same = exchange_per_window(n, 0.0, 5)
        moving = exchange_per_window(n, 0.01, 5)
        out[f"exchange_{n}"] = {"fixed_ports_s": base, "agents_unchanged_s": same, "agents_changing_s": moving,
                                "unchanged_over_fixed": same / base, "changing_over_fixed": moving / base}
    for n in (1_000, 10_000):
        build, apply = deposit_times(n, 5)
        out[f"deposit_{n}"] = {"build_s": build, "apply_s": apply, "build_over_apply": build / apply}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
