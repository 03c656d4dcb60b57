"""Small script-level components used by the coupling tests (plain numpy, exact arithmetic)."""

from __future__ import annotations

import numpy as np

import msmcore as msm


class Counter(msm.Component):
    """Outputs the number of steps taken so far, in every cell."""

    state_attributes = ()  # the count is the output port's array

    n = msm.Setting(int, default=3)
    dt = msm.Setting(float, default=1.0)
    units = msm.Setting(str, default="1")

    def declare_ports(self):
        return [msm.Port.output("count", self.n, units=self.units, coords={"x": np.arange(self.n) * 0.5})]

    def initialize(self):
        self.c = self.port_array("count")
        self.c[:] = 0.0

    def step(self, dt):
        self.c += 1.0


class Echo(msm.Component):
    """Keeps a log of the values its input held each time it advanced."""

    state_attributes = ("seen", "received")

    n = msm.Setting(int, default=3)
    dt = msm.Setting(float, default=1.0)
    units = msm.Setting(str, default="1")

    def declare_ports(self):
        return [msm.Port.input("value", self.n, units=self.units),
                msm.Port.output("last", self.n, units=self.units)]

    def initialize(self):
        self.seen: list[float] = []
        self.received: list[str] = []

    def receive(self, port):
        self.received.append(port)

    def advance(self, t_end):
        self.seen.append(float(self.port_array("value")[0]))
        self.port_array("last")[:] = self.port_array("value")
        self.t = t_end


class Broken(msm.Component):
    """Fails, or produces NaN, at a chosen time."""

    state_attributes = ()

    mode = msm.Setting(str, default="raise", choices=("raise", "nan"))
    at = msm.Setting(float, default=2.0)
    dt = msm.Setting(float, default=1.0)

    def declare_ports(self):
        return [msm.Port.output("out", 2)]

    def step(self, dt):
        if self.t + dt >= self.at:
            if self.mode == "raise":
                raise RuntimeError("solver diverged")
            self.port_array("out")[1] = np.nan
