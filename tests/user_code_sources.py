"""Source text of user components that tests write into files (YAML `python:` and `build:` keys)."""

from __future__ import annotations

#: A user component class in a script, as a YAML file's ``python: file.py:Logistic`` names it
#: (needs ``import msmcore as msm`` above it in the file).
LOGISTIC_SOURCE = '''\
class Logistic(msm.Component):
    """Logistic growth du/dt = r u (1 - u), forward Euler, in every cell."""

    r = msm.Setting(float, default=1.0, minimum=0.0, units="1/s")
    n = msm.Setting(int, default=2, minimum=1)
    dt = msm.Setting(float, default=0.1, minimum=0.0, units="s")
    state_attributes = ()

    def declare_ports(self):
        return [msm.Port.output("u_out", self.n)]

    def initialize(self):
        self.u = self.port_array("u_out")
        self.u[:] = 0.1

    def step(self, dt):
        self.u += dt * self.r * self.u * (1.0 - self.u)
'''
