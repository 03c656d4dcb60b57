"""Tiny components with agent sets, for the dynamic-port tests."""

from __future__ import annotations

from typing import Any

import numpy as np

import msmcore as msm


class Colony(msm.Component):
    """An agent set ``cells`` whose members divide and die on a fixed schedule (one step per window).

    Step k (k = 1, 2, ...): agents with ``id % divide_every == k % divide_every`` divide (at most
    ``cap`` agents in all), then agents with ``id % die_every == die_every - 1`` and older than one
    step die. ``value_out`` holds ``id + 0.5`` per agent, so a receiver can check what landed where.
    """

    n0 = msm.Setting(int, default=4, minimum=0)
    dt = msm.Setting(float, default=1.0)
    divide_every = msm.Setting(int, default=2, minimum=1)
    die_every = msm.Setting(int, default=5, minimum=1)
    cap = msm.Setting(int, default=40, minimum=0)
    dim = msm.Setting(int, default=2)
    radius = msm.Setting(float, default=0.1)

    state_attributes = ("steps",)

    def declare_agent_sets(self) -> list[msm.AgentSet]:
        return [msm.AgentSet("cells", dim=self.dim)]

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.output("positions_out", agents="cells", components=self.dim, units="m"),
                msm.Port.output("volumes_out", agents="cells", units=f"m^{self.dim}"),  # 2D: areas
                msm.Port.output("value_out", agents="cells", units="1"),
                msm.Port.input("value_in", agents="cells", units="1", required=False)]

    def initialize(self) -> None:
        self.steps = 0
        self.agent_set("cells").add(self.n0)
        self._write()

    def _write(self) -> None:
        cells = self.agent_set("cells")
        ids = cells.ids.astype(float)
        self.port_array("value_out")[...] = ids + 0.5
        pos = self.port_array("positions_out")
        pos[...] = 0.5
        pos[:, 0] = 0.1 + 0.8 * ((ids * 0.37) % 1.0)
        self.port_array("volumes_out")[...] = np.pi * self.radius**2 if self.dim == 2 else \
            4 / 3 * np.pi * self.radius**3

    def step(self, dt: float) -> None:
        self.steps += 1
        cells = self.agent_set("cells")
        ids = cells.ids
        room = max(self.cap - cells.count, 0)
        parents = ids[ids % self.divide_every == self.steps % self.divide_every][:room]
        cells.divide(parents)
        dying = cells.ids[(cells.ids % self.die_every == self.die_every - 1) & (cells.ids < cells.next_id - 1)]
        cells.remove(dying)
        self._write()


class Follower(msm.Component):
    """One record per agent of the set connected into ``value_in``: an amount (split) and a label (copy)."""

    dt = msm.Setting(float, default=1.0)

    state_attributes = ("amount", "label", "history")

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.input("value_in", agents="a", units="1"),
                msm.Port.output("echo_out", agents="a", units="1")]

    def initialize(self) -> None:
        n = self.agent_set("a").count
        self.amount = np.ones(n)
        self.label = np.zeros(n)
        self.history: list[Any] = []

    def agents_changed(self, name: str, change: msm.AgentChange) -> None:
        self.history.append(("change", change.old_ids.copy(), change.new_ids.copy(), change.born.copy(),
                             change.parents.copy()))
        self.amount = change.carry(self.amount, "split")
        self.label = change.carry(self.label, "copy")

    def receive(self, port: str) -> None:
        ids = self.agent_set("a").ids
        got = self.port_array("value_in")
        fresh = self.label == 0
        self.label[fresh] = got[fresh]  # the first value an agent received; daughters copy it
        assert got.shape == ids.shape

    def step(self, dt: float) -> None:
        self.port_array("echo_out")[...] = self.port_array("value_in") * 2.0
