"""Small components for the ensemble and surrogate tests (exact solutions stated where used)."""

from __future__ import annotations

import numpy as np

import msmcore as msm


class Field1D(msm.Component):
    """A macro stand-in: a fixed field ``u_out`` (u_i = lo + (hi - lo) i / (n - 1)) that reads back ``y_in``."""

    n = msm.Setting(int, default=8, minimum=1)
    lo = msm.Setting(float, default=0.5)
    hi = msm.Setting(float, default=2.0)
    dt = msm.Setting(float, default=0.1)
    drift = msm.Setting(float, default=0.0, doc="u grows by drift per unit time")
    state_attributes = ()

    def declare_ports(self):
        x = np.linspace(0.0, 1.0, self.n)
        return [msm.Port.output("u_out", self.n, coords={"x": x}),
                msm.Port.input("y_in", self.n, coords={"x": x}, required=False)]

    def initialize(self):
        self.port_array("u_out")[:] = np.linspace(self.lo, self.hi, self.n)

    def step(self, dt):
        self.port_array("u_out")[:] += self.drift * dt


class Relax(msm.Component):
    """Stateful micro: forward Euler on du/dt = -r (u - target), per point; u starts at u0.

    Exact for Euler: u_n = target + (u0 - target) (1 - r dt)^n.
    """

    points = msm.Setting(int, default=1, minimum=1)
    r = msm.Setting(float, default=2.0)
    u0 = msm.Setting(float, default=0.0)
    dt = msm.Setting(float, default=0.01)
    state_attributes = ()

    def declare_ports(self):
        return [msm.Port.input("target_in", self.points), msm.Port.output("u_out", self.points)]

    def initialize(self):
        self.port_array("u_out")[:] = self.u0

    def step(self, dt):
        u = self.port_array("u_out")
        u += -self.r * (u - self.port_array("target_in")) * dt


class Saturate(msm.Component):
    """Closure micro: from y = 0, forward Euler on dy/dt = s(a) - b y with a = input, for the horizon.

    ``s(a) = a`` (``hill=0``) or ``b a^h / (1 + a^h)`` (``hill=h``). After n steps:
    y_n = (s / b) (1 - (1 - b dt)^n); ``calls`` counts advances.
    """

    points = msm.Setting(int, default=1, minimum=1)
    b = msm.Setting(float, default=3.0)
    hill = msm.Setting(int, default=0, minimum=0)
    dt = msm.Setting(float, default=0.01)
    state_attributes = ()
    calls = 0

    def declare_ports(self):
        return [msm.Port.input("a_in", self.points), msm.Port.output("y_out", self.points)]

    def initialize(self):
        self.port_array("y_out")[:] = 0.0

    def advance(self, t_end):
        type(self).calls += 1
        super().advance(t_end)

    def step(self, dt):
        y = self.port_array("y_out")
        y += (source(self.port_array("a_in"), self.b, self.hill) - self.b * y) * dt


def source(a, b, hill):
    """The source s(a) of :class:`Saturate`."""
    a = np.asarray(a)
    return a if hill == 0 else b * a**hill / (1.0 + a**hill)


def saturate_exact(a, b=3.0, dt=0.01, steps=100, hill=0):
    """The Euler value of :class:`Saturate` after ``steps`` steps (see its docstring)."""
    return (source(a, b, hill) / b) * (1.0 - (1.0 - b * dt) ** steps)


class Interp:
    """A surrogate for one input: linear interpolation, std = k (x - x_left)(x_right - x) between neighbours.

    For a closure f with |f''| <= 2k that std bounds the interpolation error
    (|f - p1| <= max|f''|/2 (x - a)(b - x), e.g. Burden & Faires, Numerical Analysis, Thm 3.3);
    outside the training range std = k (1 + distance)^2.
    """

    def __init__(self, seed=0, k=0.5):
        self.k = k
        self.x = self.y = None
        self.fits = 0

    def fit(self, X, Y):
        order = np.argsort(X[:, 0], kind="stable")
        self.x, self.y = X[order, 0].copy(), Y[order].copy()
        self.fits += 1

    def predict(self, X):
        x = X[:, 0]
        mean = np.stack([np.interp(x, self.x, self.y[:, j]) for j in range(self.y.shape[1])], axis=1)
        i = np.clip(np.searchsorted(self.x, x), 1, len(self.x) - 1)
        left, right = self.x[i - 1], self.x[i]
        inside = (x >= self.x[0]) & (x <= self.x[-1])
        gap = np.where(inside, (x - left) * (right - x), (1 + np.maximum(self.x[0] - x, x - self.x[-1])) ** 2)
        std = np.repeat((self.k * np.abs(gap))[:, None], self.y.shape[1], axis=1)
        return mean, std

    def save_state(self):
        return {"x": self.x.copy(), "y": self.y.copy()}

    def restore_state(self, state):
        self.x, self.y = np.array(state["x"]), np.array(state["y"])
