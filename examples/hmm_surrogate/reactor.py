"""The two models of the HMM example: a diffusion–reaction slab (macro) and an enzyme network (micro).

Macro (:class:`Reactor`): substrate ``S(x, t)`` in a catalyst slab ``0 < x < L`` fed from
both faces, ``dS/dt = D d2S/dx2 - R(S)``, ``S(0) = S(L) = S_b``; cell-centred finite
volumes, implicit Euler, the rate taken from its input per cell and linearised as
``R = (R/S) S`` (Patankar's source linearisation: stable at any step, the same steady state).

Micro (:class:`EnzymeCell`): per point, the enzyme network with a dead-end complex

    E + S <-> C    (k1, km1)        C -> E + P    (k2)        C + S <-> CS    (k3, km3)

at the substrate concentration the macro gives (held fixed: the enzyme relaxes within
milliseconds, the substrate over seconds), integrated from free enzyme by backward Euler
with growing steps (stiff: rates from 1e4 down to 50 per second) over ``horizon`` to its
quasi-steady state; the output is the rate ``k2 C``. Its quasi-steady value is Haldane's
substrate-inhibition law (J.B.S. Haldane,
*Enzymes*, 1930; A. Cornish-Bowden, *Fundamentals of Enzyme Kinetics*, 4th ed. 2012,
sec. 6.3): ``R = k2 E0 S / (Km + S + S^2/Ki)`` with ``Km = (km1 + k2)/k1`` and
``Ki = km3/k3`` — see :func:`haldane_rate`.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_banded

import msmcore as msm


def haldane_rate(S, k1=1e4, km1=1e3, k2=50.0, k3=100.0, km3=200.0, E0=4e-3):
    """The network's exact quasi-steady rate (mol/m^3/s) at substrate ``S`` (mol/m^3)."""
    S = np.asarray(S, dtype=float)
    return k2 * E0 * S / ((km1 + k2) / k1 + S + S**2 / (km3 / k3))


class Reactor(msm.Component):
    """Substrate diffusing into a catalyst slab fed from both faces; the rate per cell comes from outside."""

    n = msm.Setting(int, default=100, minimum=3, doc="cells")
    length = msm.Setting(float, default=1e-3, units="m")
    D = msm.Setting(float, default=1e-9, units="m^2/s")
    S_b = msm.Setting(float, default=1.0, units="mol/m^3", doc="substrate at both faces")
    initial = msm.Setting(float, default=0.0, units="mol/m^3")
    dt = msm.Setting(float, default=25.0, units="s")
    state_attributes = ()

    def declare_ports(self):
        h = self.length / self.n
        x = (np.arange(self.n) + 0.5) * h
        return [msm.Port.output("substrate_out", self.n, units="mol/m^3", coords={"x": x}, coord_units="m"),
                msm.Port.input("rate_in", self.n, units="mol/m^3/s", coords={"x": x}, coord_units="m",
                               doc="reaction rate per cell")]

    def initialize(self):
        self.port_array("substrate_out")[:] = self.initial

    def step(self, dt):
        S, R = self.port_array("substrate_out"), self.port_array("rate_in")
        n, a = self.n, self.D / (self.length / self.n) ** 2
        k = np.where(S > 1e-300, R / np.maximum(S, 1e-300), 0.0)  # R = k S, k taken at the step's start
        diag = 1.0 / dt + 2.0 * a + k
        diag[0] += a  # Dirichlet face: ghost value 2 S_b - S_0
        diag[-1] += a
        bands = np.zeros((3, n))
        bands[0, 1:] = -a
        bands[1] = diag
        bands[2, :-1] = -a
        rhs = S / dt
        rhs[0] += 2.0 * a * self.S_b
        rhs[-1] += 2.0 * a * self.S_b
        S[:] = solve_banded((1, 1), bands, rhs)


class EnzymeCell(msm.Component):
    """The enzyme network at a fixed substrate concentration per point, backward Euler to quasi-steady state."""

    cells = msm.Setting(int, default=1, minimum=1, doc="points this instance carries")
    k1 = msm.Setting(float, default=1e4, units="m^3/mol/s")
    km1 = msm.Setting(float, default=1e3, units="1/s")
    k2 = msm.Setting(float, default=50.0, units="1/s")
    k3 = msm.Setting(float, default=100.0, units="m^3/mol/s")
    km3 = msm.Setting(float, default=200.0, units="1/s")
    E0 = msm.Setting(float, default=4e-3, units="mol/m^3", doc="total enzyme")
    h0 = msm.Setting(float, default=1e-6, units="s", doc="first step")
    growth = msm.Setting(float, default=1.1, minimum=1.0, doc="each step is this much longer than the last")
    state_attributes = ("complexes",)

    def declare_ports(self):
        return [msm.Port.input("substrate_in", self.cells, units="mol/m^3"),
                msm.Port.output("rate_out", self.cells, units="mol/m^3/s")]

    def time_step(self):
        return None  # its own growing steps

    def initialize(self):
        self.complexes = np.zeros((self.cells, 2))  # C and CS; free enzyme E = E0 - C - CS
        self.port_array("rate_out")[:] = 0.0

    def jacobian(self, S):
        """``A`` and ``b`` of the network ``d(C, CS)/dt = A (C, CS) + b`` at substrate ``S`` (per point)."""
        k1, km1, k2, k3, km3, E0 = self.k1, self.km1, self.k2, self.k3, self.km3, self.E0
        A = np.empty((len(S), 2, 2))
        A[:, 0, 0] = -(k1 * S + km1 + k2 + k3 * S)
        A[:, 0, 1] = km3 - k1 * S
        A[:, 1, 0] = k3 * S
        A[:, 1, 1] = -km3
        b = np.stack([k1 * S * E0, np.zeros_like(S)], axis=1)
        return A, b

    def advance(self, t_end):
        """Backward Euler (L-stable, so the stiff transient is damped at any step) with steps growing
        geometrically from ``h0``; its fixed point is the network's exact steady state."""
        S = np.asarray(self.port_array("substrate_in"), dtype=float)
        A, b = self.jacobian(S)
        y = self.complexes
        t, h = self.t, self.h0
        eye = np.eye(2)
        while t < t_end:
            h = min(h, t_end - t)
            inv = np.linalg.inv(eye - h * A)
            y[...] = np.einsum("nij,nj->ni", inv, y + h * b)
            t += h
            h *= self.growth
        self.port_array("rate_out")[:] = self.k2 * y[:, 0]
        self.t = t_end
