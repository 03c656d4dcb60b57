"""Exponential decay in every cell: the smallest complete msmcore component."""

from __future__ import annotations

import numpy as np

import msmcore as msm


class Decay(msm.Component):
    """Exponential decay du/dt = -k u in every cell (forward Euler).

    Ports
    -----
    u_in (optional input)
        When connected, replaces the state at the start of each coupling window.
    u_out (output)
        The state.
    """

    k = msm.Setting(float, default=1.0, minimum=0.0, units="1/s", doc="decay rate")
    size = msm.Setting(int, default=1, minimum=1, doc="number of cells")
    u0 = msm.Setting(float, default=1.0, doc="initial value in every cell")
    dt = msm.Setting(float, default=1e-3, minimum=0.0, units="s", doc="time step")

    def declare_ports(self) -> list[msm.Port]:
        return [
            msm.Port.input("u_in", self.size, required=False, doc="state override"),
            msm.Port.output("u_out", self.size, doc="state"),
        ]

    def initialize(self) -> None:
        self.u = self.port_array("u_out")  # the output port's array is the state itself
        self.u[:] = self.u0

    def step(self, dt: float) -> None:
        self.u *= 1.0 - self.k * dt

    def exact(self, t: float) -> np.ndarray:
        """The exact solution u0 exp(-k t), for validation."""
        return np.full(self.size, self.u0 * np.exp(-self.k * t))
