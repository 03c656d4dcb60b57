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

    #: The port arrays (``u_out`` is the state) and ``t`` are the whole state: nothing else to save.
    state_attributes = ()

    def declare_ports(self) -> list[msm.Port]:
        """``u_in`` (optional) and ``u_out``, one value per cell."""
        return [
            msm.Port.input("u_in", self.size, required=False, doc="state override"),
            msm.Port.output("u_out", self.size, doc="state"),
        ]

    def initialize(self) -> None:
        """Set every cell to ``u0`` (called again, after ``finalize``, for a new run)."""
        self.u = self.port_array("u_out")  # the output port's array is the state itself
        self.u[:] = self.u0

    def receive(self, port: str) -> None:
        """Take the delivered values of ``u_in`` as the state."""
        if port == "u_in":
            mask = self.delivered("u_in")  # None: every value was delivered
            u_in = self.port_array("u_in")
            if mask is None:
                self.u[...] = u_in
            else:
                self.u[mask] = u_in[mask]

    def step(self, dt: float) -> None:
        """One forward-Euler step, in place (never rebind ``self.u``: it is the port's array)."""
        self.u *= 1.0 - self.k * dt

    def exact(self, t: float) -> np.ndarray:
        """The exact solution u0 exp(-k t), for validation."""
        return np.full(self.size, self.u0 * np.exp(-self.k * t))
