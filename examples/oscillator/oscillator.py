"""preCICE's partitioned oscillator: two masses, each a component written in this script.

Two masses m1 = m2 = 1 between walls, springs k1 = k3 = 4π² to the walls and
k12 = 16π² between them, u(0) = (1, 0), v(0) = 0. The exact solution is
u1 = (cos 2πt + cos 6πt)/2, u2 = (cos 2πt − cos 6πt)/2.

Partitioned as in preCICE's tutorial: the left mass sends its displacement u1;
the right mass, which owns the coupling spring, sends back the spring force on
the left mass, F1 = k12 (u2 − u1). Each mass integrates with Newmark's average
acceleration method (second order, energy conserving). The coupling is serial
implicit (IQN-ILS) with window Δt; the left mass may sub-cycle inside a window,
reading the force as the window's end value or linearly interpolated in time.

Run:  .venv/bin/python examples/oscillator/oscillator.py [--plot oscillator.png]
prints the error at t = 1 and the observed order as the window halves.
"""

from __future__ import annotations

import argparse
import logging
import math

import numpy as np

import msmcore as msm

logger = logging.getLogger("examples.oscillator")

M1 = M2 = 1.0
K1 = K3 = 4 * math.pi**2
K12 = 16 * math.pi**2


def exact(t: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Exact displacements (u1, u2) at time t."""
    a, b = np.cos(2 * np.pi * np.asarray(t)), np.cos(6 * np.pi * np.asarray(t))
    return (a + b) / 2, (a - b) / 2


class NewmarkMass(msm.Component):
    """One mass on a spring, m a + k u = f, Newmark average acceleration (β = 1/4, γ = 1/2)."""

    m = msm.Setting(float, default=1.0, minimum=0.0)
    k = msm.Setting(float, minimum=0.0, doc="spring constant acting on u")
    u0 = msm.Setting(float, default=0.0)
    v0 = msm.Setting(float, default=0.0)
    dt = msm.Setting(float, minimum=0.0)

    #: The whole state besides the port arrays and t, saved and restored by the base class
    #: (implicit coupling repeats every window): displacement, velocity and acceleration, and
    #: whether the initial acceleration was taken from the initial coupling force yet.
    state_attributes = ("state", "accelerated")

    def force(self) -> float:
        """External force at the end of the current step. Override."""
        raise NotImplementedError

    def initialize(self) -> None:
        """u0, v0 and no acceleration yet (it needs the coupling force: see :meth:`receive`)."""
        self.state = np.array([self.u0, self.v0, 0.0])  # u, v, a
        self.accelerated = False
        self.publish()

    def receive(self, port: str) -> None:
        """The first data received (the coupling's initial exchange, at t = start) set a0."""
        # The coupling delivers every connection once after initialisation: the initial
        # acceleration needs the initial coupling force, and only that one - later data
        # (an implicit iteration's guess for the window's end) must not change a0.
        if not self.accelerated:
            self.state[2] = (self.force() - self.k * self.state[0]) / self.m
            self.accelerated = True
            self.publish()

    def step(self, dt: float) -> None:
        """One Newmark step, in place."""
        u, v, a = self.state
        f = self.force()
        c = dt * dt / (4 * self.m)
        u_new = (u + dt * v + c * self.m * a + c * f) / (1 + c * self.k)
        a_new = (f - self.k * u_new) / self.m
        self.state[:] = (u_new, v + dt / 2 * (a + a_new), a_new)
        self.publish()

    def publish(self) -> None:
        """Write the outputs from the state. Override."""


class LeftMass(NewmarkMass):
    """The left mass: receives the coupling spring's force, sends its displacement."""

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.input("force_in", 1, units="N"), msm.Port.output("u_out", 1, units="m")]

    def force(self) -> float:
        return float(self.port_array("force_in")[0])

    def publish(self) -> None:
        self.port_array("u_out")[0] = self.state[0]


class RightMass(NewmarkMass):
    """The right mass and the coupling spring: receives u1, sends the spring force on the left mass."""

    k12 = msm.Setting(float, minimum=0.0, doc="coupling spring")

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.input("u_other", 1, units="m"), msm.Port.output("force_out", 1, units="N"),
                msm.Port.output("u_out", 1, units="m")]

    def force(self) -> float:
        # The coupling spring's pull on this mass from the other one, k12 u1; its
        # -k12 u2 part is in the stiffness k = k3 + k12.
        return self.k12 * float(self.port_array("u_other")[0])

    def publish(self) -> None:
        u2 = self.state[0]
        self.port_array("u_out")[0] = u2
        self.port_array("force_out")[0] = self.k12 * (u2 - float(self.port_array("u_other")[0]))


def run(window: float, *, substeps: int = 1, interpolate: bool = False, implicit: bool = True,
        until: float = 1.0) -> msm.Result:
    """Run the coupled oscillator; the left mass takes ``substeps`` steps per window."""
    c = msm.Coupling()
    c.add("left", LeftMass, m=M1, k=K1, u0=1.0, dt=window / substeps)
    c.add("right", RightMass, m=M2, k=K3 + K12, k12=K12, u0=0.0, dt=window)
    c.connect("left.u_out", "right.u_other")
    c.connect("right.force_out", "left.force_in", interpolate=interpolate)
    if implicit:
        scheme: msm.Scheme = msm.Implicit(window, order=["left", "right"], acceleration=msm.IQNILS(0.5),
                                          rel_tol=1e-12, abs_tol=1e-12, max_iterations=50)
    else:
        scheme = msm.Serial(window=window, order=["left", "right"])
    return c.run(until=until, scheme=scheme, quiet=True)


def errors(result: msm.Result) -> np.ndarray:
    """|u - exact| of both masses at every sample, shape (samples, 2)."""
    t = result["left"]["time"].values
    e1, e2 = exact(t)
    return np.abs(np.column_stack([result["left"]["u_out"][:, 0] - e1, result["right"]["u_out"][:, 0] - e2]))


def error_at_end(result: msm.Result) -> float:
    """Largest error of the two masses at the last sample (t = 1)."""
    return float(errors(result)[-1].max())


def error_max(result: msm.Result) -> float:
    """Largest error of the two masses over all samples."""
    return float(errors(result).max())


CASES = {
    "implicit, one step per window": {},
    "implicit, 4 sub-steps, force held at window end": {"substeps": 4},
    "implicit, 4 sub-steps, force interpolated in time": {"substeps": 4, "interpolate": True},
    "explicit serial, one step per window": {"implicit": False},
}


def convergence_table(windows: tuple[float, ...] = (0.01, 0.005, 0.0025)
                      ) -> dict[str, list[tuple[float, float, float]]]:
    """Errors per case and window: {case: [(window, error at t = 1, max error over [0, 1]), ...]}."""
    table = {}
    for name, kw in CASES.items():
        results = [(w, run(w, **kw)) for w in windows]
        table[name] = [(w, error_at_end(r), error_max(r)) for w, r in results]
    return table


def observed_orders(rows: list[tuple[float, float]]) -> list[float]:
    """Observed orders log(e_i / e_i+1) / log(Δt_i / Δt_i+1) from (window, error) pairs."""
    return [math.log(rows[i][1] / rows[i + 1][1]) / math.log(rows[i][0] / rows[i + 1][0]) for i in range(len(rows) - 1)]


def plot(path: str) -> None:
    """Save u1, u2 against the exact solution for window 0.01."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = run(0.01)
    t = res["left"]["time"].values
    fine = np.linspace(0, 1, 1000)
    e1, e2 = exact(fine)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(fine, e1, "k-", lw=0.8, label="exact")
    ax.plot(fine, e2, "k-", lw=0.8)
    ax.plot(t, res["left"]["u_out"][:, 0], ".", ms=3, label="u1 (left mass)")
    ax.plot(t, res["right"]["u_out"][:, 0], ".", ms=3, label="u2 (right mass)")
    ax.set_xlabel("t [s]")
    ax.set_ylabel("u [m]")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("Partitioned oscillator, implicit coupling, window 0.01")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", help="save u1, u2 over t to this PNG")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logger.info("%-50s %-36s %-12s %-36s %s", "case", "error at t = 1 (window 0.01, /2, /4)", "orders",
                "max error on [0, 1]", "orders")
    for name, rows in convergence_table().items():
        end = [(w, e) for w, e, _ in rows]
        peak = [(w, m) for w, _, m in rows]
        logger.info("%-50s %-36s %-12s %-36s %s", name, " ".join(f"{e:.3e}" for _, e in end),
                    " ".join(f"{p:.2f}" for p in observed_orders(end)), " ".join(f"{m:.3e}" for _, m in peak),
                    " ".join(f"{p:.2f}" for p in observed_orders(peak)))
    if args.plot:
        plot(args.plot)


if __name__ == "__main__":
    main()
