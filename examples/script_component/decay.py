"""A component written in a user's own script, registered without any package.

Run:  .venv/bin/python examples/script_component/decay.py

It registers ``mylab.decay`` (du/dt = -k u, forward Euler), builds it through
the registry exactly as a coupling would, advances it to t = 1 with three step
sizes, and checks the first-order convergence of forward Euler to the exact
solution u0 exp(-k t).
"""

from __future__ import annotations

import logging
import math

import numpy as np

import msmcore as msm

logger = logging.getLogger("examples.script_component")


@msm.register_component("mylab.decay")
class Decay(msm.Component):
    """Exponential decay du/dt = -k u in every cell (forward Euler)."""

    k = msm.Setting(float, default=2.0, minimum=0.0, units="1/s")
    size = msm.Setting(int, default=5, minimum=1)
    dt = msm.Setting(float, default=0.01, minimum=0.0, units="s")

    state_attributes = ()  # the port array u_out and t are the whole state

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.output("u_out", self.size, units="mol/m^3")]

    def initialize(self) -> None:
        self.u = self.port_array("u_out")
        self.u[:] = 1.0

    def step(self, dt: float) -> None:
        self.u *= 1.0 - self.k * dt


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    registry = msm.get_registry()
    logger.info("mylab.decay registered from %s", registry.get("mylab.decay").source.label)
    errors = []
    for dt in (0.02, 0.01, 0.005):
        comp = registry.create("mylab.decay", dt=dt)
        comp.initialize()
        comp.advance(1.0)
        errors.append(float(np.max(np.abs(comp.u - math.exp(-comp.k)))))
        logger.info("dt = %-6g  u(1) = %.8f  exact %.8f  error %.3e", dt, comp.u[0], math.exp(-2.0), errors[-1])
    order = math.log2(errors[-2] / errors[-1])
    logger.info("observed order of forward Euler: %.3f (expected 1)", order)
    if abs(order - 1.0) > 0.05:
        raise SystemExit(f"unexpected convergence order {order:.3f}")


if __name__ == "__main__":
    main()
