"""The two models of the MD-based HMM channel flow (LJ reduced units: sigma = epsilon = m = 1).

Macro (:class:`Channel`): plane Poiseuille flow of the Lennard-Jones liquid between walls at
``y = 0`` and ``y = H`` driven by a pressure gradient ``G``: ``rho du/dt = G + d tau_xy/dy``,
``u = 0`` at the walls; by symmetry the half channel ``0 <= y <= H/2`` with ``tau_xy = 0`` on
the centreline, ``n`` faces of width ``h = H/(2n)`` carrying the shear rate
``(u[i+1] - u[i])/h`` (positive) out and the shear stress ``tau_xy`` in. Each step is a deferred
correction: ``tau = eta_ref gdot`` implicit, ``tau_in - eta_ref gdot`` from the step's start,
so steps far above the explicit limit ``rho h^2 / (2 eta)`` are stable while the closure is
near Newtonian, and the steady state is the closure's own.

Micro (:class:`ShearCell`): an ``md.lj`` component (:class:`msm_md.lj.LJFluid`) in a fully periodic box
sheared by two slabs whose mean x velocity is held at ``-V`` and ``+V`` (Nie et al.'s
constraint already in md.lj; boundary-driven "counter-flow" shear, the periodic image of
Couette flow): between them the fluid shears at ``+gdot`` and ``-gdot``. Each evaluation
starts from the sawtooth profile with fresh thermal velocities (seeded by the input),
spins up for ``spinup`` (discarded), corrects ``V`` so the measured rate matches the
requested one, and averages the shear stress ``tau_xy = -P_xy`` of the sheared slabs (less
``margin`` slabs next to each constraint slab) over the rest of the horizon (the
sign-folded mean of the two halves), over ``replicas`` runs. Verlet with velocity rescaling
relative to each slab's mean (a profile-unbiased thermostat) keeps T*.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from msm_md.lj import LJFluid
from scipy.linalg import solve_banded

import msmcore as msm

#: The LJ triple point (T* = 0.722, rho* = 0.8442) and its zero-shear viscosity, Green-Kubo,
#: N = 2048, r_c = 2.5 sigma: eta* = 3.24 +- 0.04 (Ferrario, Ciccotti, Holian & Ryckaert,
#: Phys. Rev. A 44, 6936 (1991), "Shear-rate dependence of the viscosity of the Lennard-Jones
#: liquid at the triple point").
T_STAR, RHO_STAR, ETA_STAR, ETA_ERR = 0.722, 0.8442, 3.24, 0.04

_MD_SETTINGS: dict[str, Any] = dict(
    periodic="xyz", bin_axis="y", constraint_components="x", integrator="verlet", thermostat="rescale",
    rescale_interval=10, sample_interval=10, stress_interval=10, melt_temperature=1.5)


class ShearCell(msm.Component):
    """``md.lj`` sheared at the rate on ``shear_rate_in``; the mean shear stress on ``shear_stress_out``.

    One point per instance (an HMM closure). The md.lj component is built inside with the
    counter-flow box (periodic ``xyz``, slabs along y, constraint slabs ``0`` and
    ``n_bins/2`` moving in x, Verlet + slab-relative velocity rescaling); the settings below
    pass through. After :meth:`advance`, :attr:`measured_rate` is the velocity profile's slope
    over the averaging part, :attr:`measured_temperature` the sheared slabs' temperature
    (relative to each slab's mean velocity), both means over the replicas,
    :attr:`replica_results` the replicas' rows and :attr:`md` the md.lj component. The stress
    out is the measured one times ``requested / measured`` rate.
    """

    density = msm.Setting(float, default=RHO_STAR, minimum=0.0, units="1/sigma^3")
    temperature = msm.Setting(float, default=T_STAR, minimum=0.0, units="epsilon/k_B")
    cells = msm.Setting(tuple, default=(3, 12, 3), doc="FCC cells per axis (x, y, z); y is the gradient")
    n_bins = msm.Setting(int, default=24, minimum=6, doc="slabs along y (even)")
    margin = msm.Setting(int, default=1, minimum=0,
                         doc="slabs next to each constraint slab left out of the rate and stress averages")
    dt = msm.Setting(float, default=0.005, minimum=0.0, units="tau", doc="MD step")
    equilibrate = msm.Setting(int, default=2000, minimum=0, doc="MD steps at rest in initialize (half melting)")
    spinup = msm.Setting(float, default=1.0, minimum=0.0, units="tau",
                         doc="start of each evaluation not averaged (the shear flow develops)")
    correct_above = msm.Setting(float, default=0.2, minimum=0.0, units="1/tau",
                                doc="smallest rate whose slab speed is corrected to the measured slope")
    start_profile = msm.Setting(bool, default=True,
                                doc="start each evaluation from the linear (sawtooth) profile, not from rest")
    fresh_velocities = msm.Setting(bool, default=True,
                                   doc="draw new thermal velocities per evaluation, seeded by (seed, rate, replica)")
    replicas = msm.Setting(int, default=1, minimum=1,
                           doc="independent runs per evaluation (same start positions), averaged")
    seed = msm.Setting(int, default=1, minimum=0)
    threads = msm.Setting(int, default=1, minimum=1, doc="OpenMM CPU threads")

    def __init__(self, name: str | None = None, **settings: Any) -> None:
        super().__init__(name, **settings)
        if self.n_bins % 2:
            raise msm.ConfigurationError(
                f"component '{self.name}' (ShearCell): n_bins={self.n_bins} must be even (the constraint "
                "slabs 0 and n_bins/2 are half a box apart)")
        m = self.n_bins // 2
        if m - 1 - 2 * self.margin < 2:
            raise msm.ConfigurationError(
                f"component '{self.name}' (ShearCell): n_bins={self.n_bins} with margin={self.margin} leaves "
                f"{max(m - 1 - 2 * self.margin, 0)} sheared slabs per half; at least 2 are needed for a slope")
        # md.lj's rescaling thermostat sets the kinetic energy relative to the n_bins slab means
        # per N particles; the slab means' own thermal motion (3 degrees of freedom per slab) is
        # left to itself, so the true temperature is target * N / (N - n_bins): aim below.
        n_atoms = 4 * int(np.prod(self.cells))
        target = self.temperature * (n_atoms - self.n_bins) / n_atoms
        self.md = LJFluid(f"{self.name}.md", density=self.density, temperature=target,
                          cells=tuple(self.cells), n_bins=self.n_bins, constraint_bins=(0, m), dt=self.dt,
                          equilibrate=self.equilibrate, seed=self.seed, threads=self.threads, **_MD_SETTINGS)
        k = self.margin
        self._up, self._down = np.arange(1 + k, m - k), np.arange(m + 1 + k, 2 * m - k)  # at +gdot, -gdot
        self._gap = 0.5 * self.md.geometry.length[1]  # constraint slab centres are H/2 apart
        self.measured_rate = self.measured_temperature = float("nan")
        self.replica_results = np.empty((0, 3))

    def declare_ports(self) -> list[msm.Port]:
        """The imposed shear rate in, the mean shear stress out (one point)."""
        return [msm.Port.input("shear_rate_in", 1, units="1/tau", doc="imposed shear rate du_x/dy"),
                msm.Port.output("shear_stress_out", 1, units="epsilon/sigma^3", doc="mean tau_xy = -P_xy")]

    def initialize(self) -> None:
        """Build and equilibrate the MD box at rest."""
        self.md.initialize()
        self.t = 0.0
        self.port_array("shear_stress_out")[:] = 0.0

    def time_step(self) -> float:
        """The MD step."""
        return float(self.dt)

    def _measure(self) -> tuple[float, float]:
        """(shear rate, shear stress) of md.lj's last window, the sign-folded means of both halves."""
        md = self.md
        y = md.grid.centres
        u = md.port_array("velocity_out")[:, 0]
        p_xy = md.port_array("stress_out")[:, 5]
        rate = 0.5 * (np.polyfit(y[self._up], u[self._up], 1)[0] - np.polyfit(y[self._down], u[self._down], 1)[0])
        stress = 0.5 * (-p_xy[self._up].mean() + p_xy[self._down].mean())
        return float(rate), float(stress)

    def _impose(self, v: float) -> None:
        self.md.port_array("velocity_in")[:] = [[-v, 0.0, 0.0], [v, 0.0, 0.0]]
        self.md.receive("velocity_in")

    def _start(self, rate: float, v: float, replica: int) -> None:
        """Fresh thermal velocities (if set) plus the sawtooth profile of slab speed ``v`` and slope ``rate``.

        The seed is a function of (``seed``, the rate's bits, ``replica``): the same input gives
        the same output (closure evaluations stay deterministic), different inputs give
        independent noise rather than one offset shared by every point started from the same
        state.
        """
        md = self.md
        vel = md.velocities()
        if self.fresh_velocities:
            bits = int(np.float64(rate).view(np.uint64))
            rng = np.random.default_rng([self.seed, bits, replica])
            vel = rng.normal(0.0, np.sqrt(self.temperature), size=vel.shape)
            vel -= vel.mean(axis=0)
            vel *= np.sqrt(self.temperature * (3 * len(vel) - 3) / np.sum(vel * vel))
        if self.start_profile:
            w, length = md.grid.width, float(md.geometry.length[1])
            y = (md.positions()[:, 1] - 0.5 * w) % length  # from the centre of constraint slab 0 (at -v)
            half = 0.5 * length
            u = np.where(y < half, -v + rate * (y - 0.5 * w), v - rate * (y - half - 0.5 * w))
            index = md.grid.index(md.positions())
            means = np.bincount(index, vel[:, 0], md.grid.n) / np.maximum(np.bincount(index, None, md.grid.n), 1)
            vel[:, 0] += np.clip(u, -v, v) - means[index]
        md.set_velocities(vel)

    def _run_once(self, rate: float, t_end: float, replica: int) -> tuple[float, float, float]:
        """One shear run from the current md state: (measured rate, stress, temperature)."""
        # first guess: the constraint slabs move rigidly, so the sheared gap is edge to edge
        v = 0.5 * rate * (self._gap - self.md.grid.width)
        self._impose(v)
        if self.start_profile or self.fresh_velocities:
            self._start(rate, v, replica)
        t_avg = min(self.md.t + self.spinup, t_end)
        if t_avg > self.md.t:
            self.md.advance(0.5 * (self.md.t + t_avg))
            self.md.advance(t_avg)
            measured, _ = self._measure()
            if abs(rate) >= self.correct_above and measured * rate > 0.0:
                self._impose(v * float(np.clip(rate / measured, 0.5, 2.0)))
        self.md.advance(t_end)
        measured, stress = self._measure()
        sheared = np.concatenate([self._up, self._down])
        return measured, stress, float(self.md.port_array("temperature_out")[sheared].mean())

    def advance(self, t_end: float) -> None:
        """Per replica: start profile, spin up, correct the slab speed to the measured rate, average.

        The correction uses the slope over the second half of the spin-up and only from
        ``correct_above`` on: below it the slope of so short a window is mostly thermal noise
        and the nominal speed is kept. At zero rate the mean stress is zero by symmetry (no MD
        is run). The replicas restart from the same positions with their own velocities; the
        outputs are their means, :attr:`replica_results` the ``(replicas, 3)`` rows.
        """
        rate = float(self.port_array("shear_rate_in")[0])
        if rate == 0.0:
            self.measured_rate, self.measured_temperature = 0.0, float(self.temperature)
            self.port_array("shear_stress_out")[0] = 0.0
            self.t = t_end
            return
        self.replica_results = self.run_replicas(rate, t_end - self.t, self.replicas)
        self.measured_rate, stress, self.measured_temperature = (float(x) for x in self.replica_results.mean(axis=0))
        # the box shears at the measured rate, not exactly at the requested one: report the
        # stress at the requested rate through the measured tau/gdot (first order in the mismatch;
        # clipped like the slab-speed correction, against a slope lost in the noise at low rates)
        scale = float(np.clip(rate / self.measured_rate, 0.5, 2.0)) if self.measured_rate * rate > 0.0 else 1.0
        self.port_array("shear_stress_out")[0] = stress * scale
        self.t = t_end

    def run_replicas(self, rate: float, duration: float, count: int) -> np.ndarray:
        """``count`` shear runs of ``duration`` from the current md state (restored between them).

        Returns ``(count, 3)`` rows (measured rate, shear stress, sheared slabs' temperature);
        the md state is left at the end of the last run.
        """
        start = self.md.save_state() if count > 1 else None
        rows = []
        for k in range(count):
            if start is not None and k:
                self.md.restore_state(start)
            rows.append(self._run_once(rate, self.md.t + duration, k))
        return np.array(rows)

    def save_state(self) -> dict[str, Any]:
        """md.lj's snapshot and this component's time and ports."""
        return {"md": self.md.save_state(), "t": self.t,
                "arrays": {k: v.copy() for k, v in self._arrays.items()}}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Back to a :meth:`save_state` snapshot."""
        self.md.restore_state(state["md"])
        self.t = state["t"]
        for k, v in state["arrays"].items():
            self.port_array(k)[...] = v

    def finalize(self) -> None:
        """Release md.lj's OpenMM context."""
        self.md.finalize()


class Channel(msm.Component):
    """Pressure-driven channel flow u(y, t) on the half channel 0 <= y <= H/2; the stress per face from outside."""

    n = msm.Setting(int, default=4, minimum=2, doc="faces over the half channel (nodes 0..n; n: the centreline)")
    height = msm.Setting(float, default=20.0, minimum=0.0, units="sigma", doc="channel width H")
    G = msm.Setting(float, default=0.15, units="epsilon/sigma^4", doc="driving pressure gradient -dp/dx")
    rho = msm.Setting(float, default=RHO_STAR, minimum=0.0, units="1/sigma^3", doc="mass density (m = 1)")
    eta_ref = msm.Setting(float, default=ETA_STAR, minimum=0.0, units="epsilon tau/sigma^3",
                          doc="viscosity of the implicit part of each step")
    dt = msm.Setting(float, default=10.0, units="tau")
    state_attributes = ("u",)

    @property
    def h(self) -> float:
        """Face spacing."""
        return 0.5 * self.height / self.n

    def declare_ports(self) -> list[msm.Port]:
        """Shear rate out and shear stress in on the faces; the velocity on the nodes."""
        yf = (np.arange(self.n) + 0.5) * self.h
        on_faces = {"coords": {"y": yf}, "coord_units": "sigma"}
        return [msm.Port.output("shear_rate_out", self.n, units="1/tau", **on_faces),
                msm.Port.input("shear_stress_in", self.n, units="epsilon/sigma^3", **on_faces),
                msm.Port.output("velocity_out", self.n + 1, units="sigma/tau", coords={"y": self.nodes()},
                                coord_units="sigma", doc="u at the nodes (0: the wall, n: the centreline)")]

    def nodes(self) -> np.ndarray:
        """Node positions, wall (0) to centreline (H/2)."""
        return np.arange(self.n + 1) * self.h

    def initialize(self) -> None:
        """Fluid at rest."""
        self.u = np.zeros(self.n + 1)
        self._publish()

    def _publish(self) -> None:
        self.port_array("velocity_out")[:] = self.u
        self.port_array("shear_rate_out")[:] = np.diff(self.u) / self.h

    def step(self, dt: float) -> None:
        """Backward Euler in the Newtonian part, the closure's departure from it at the step's start.

        Finite volumes on the nodes 1..n: ``rho du_i/dt = G + (tau_{i+1/2} - tau_{i-1/2}) / h``,
        the centreline node's volume ``h/2`` with ``tau = 0`` on the symmetry plane. Near the
        steady state (large ``dt``) each step shrinks the error by ``1 - eta_t/eta_ref``
        (``eta_t = dtau/dgdot``): fast for the mild thinning of the LJ liquid, slow where the
        closure is much softer than ``eta_ref``.
        """
        h, eta = self.h, self.eta_ref
        tau = self.port_array("shear_stress_in")
        correction = np.append(tau - eta * np.diff(self.u) / h, 0.0)  # faces 1/2 .. n-1/2, and the centre
        m = self.n  # unknowns: nodes 1..n
        width = np.full(m, h)
        width[-1] = 0.5 * h
        a = eta / h
        bands = np.zeros((3, m))
        bands[1] = self.rho * width / dt + 2.0 * a
        bands[1, -1] = self.rho * width[-1] / dt + a  # only the face below the centreline
        bands[0, 1:] = -a
        bands[2, :-1] = -a
        rhs = self.rho * width / dt * self.u[1:] + self.G * width + np.diff(correction)
        self.u[1:] = solve_banded((1, 1), bands, rhs)
        self._publish()

    def newtonian(self, eta: float) -> np.ndarray:
        """The steady Newtonian profile at the nodes: ``u = G y (H - y) / (2 eta)``."""
        y = self.nodes()
        return self.G * y * (self.height - y) / (2.0 * eta)

    def steady_profile(self, stress_of_rate: Any) -> np.ndarray:
        """The steady profile for any monotone law ``tau(gdot)``: ``du/dy = gdot(G (H/2 - y))``, integrated.

        ``tau = G (H/2 - y)`` at steady state (the momentum balance, any fluid); the rate at each
        face is found by bisection on ``stress_of_rate`` and summed from the wall.
        """
        yf = (np.arange(self.n) + 0.5) * self.h
        target = self.G * (0.5 * self.height - yf)
        lo, hi = np.zeros_like(target), np.full_like(target, 10.0)
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            below = stress_of_rate(mid) < target
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return np.concatenate([[0.0], np.cumsum(0.5 * (lo + hi) * self.h)])


class Newtonian(msm.Component):
    """Closure ``tau = eta gdot`` per point (for the macro solver's exact solution)."""

    eta = msm.Setting(float, default=ETA_STAR)
    state_attributes = ()

    def declare_ports(self) -> list[msm.Port]:
        """Shear rate in, shear stress out."""
        return [msm.Port.input("shear_rate_in", 1, units="1/tau"),
                msm.Port.output("shear_stress_out", 1, units="epsilon/sigma^3")]

    def time_step(self) -> None:
        """Instantaneous."""
        return None

    def advance(self, t_end: float) -> None:
        """``tau = eta gdot``."""
        self.port_array("shear_stress_out")[:] = self.eta * self.port_array("shear_rate_in")
        self.t = t_end
