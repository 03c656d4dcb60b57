"""kinetics.network keeps msmcore's component contract: declared state, partly fed inputs, lifetimes, labels."""

from __future__ import annotations

import gc
import math

import numpy as np
import pytest
from msm_kinetics.network import Network

import msmcore as msm

PETSc = pytest.importorskip("petsc4py.PETSc")

# Two independent first-order decays, dA/dt = -ka A and dB/dt = -kb B. Each is a linear
# ODE whose exact solution is c(t) = c(t0) exp(-k (t - t0)).
TWO = """
JA: A -> ; ka*A
JB: B -> ; kb*B
ka = 0.5; kb = 2
A = 1; B = 1
"""
KA, KB = 0.5, 2.0
MM = "J: S -> P; Vmax*S/(Km + S); Vmax = 1.5; Km = 0.4; S = 2"


def step(method: str) -> dict[str, float]:
    """Euler needs its step; the TS methods run without one (adaptive steps)."""
    return {"dt": 0.01} if method == "euler" else {}


def live_petsc_objects() -> int:
    """petsc4py objects that still hold a PETSc object (a non-zero handle)."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, PETSc.Object) and o.handle)


# -- state ------------------------------------------------------------------------------------
def test_the_class_declares_its_state() -> None:
    assert Network.declares_state()


@pytest.mark.parametrize("method", ["euler", "bdf", "rosw"])
def test_save_advance_restore_advance_repeats_bit_for_bit(method: str) -> None:
    # Nothing that influences a window lives outside the snapshot: for the TS methods
    # that includes the step the TS proposed last, where the next window starts.
    net = Network(name="micro", model=MM, method=method, **step(method), shape=(3,), rtol=1e-8, atol=1e-12)
    net.initialize()
    net.port_array("state_in")[...] = [[2.0, 0.0], [1.0, 0.5], [0.3, 1.0]]
    net.receive("state_in")
    net.advance(0.5)
    snapshot = net.save_state()
    saved = net.state.copy(), net.rates.copy(), net.port_array("state_in").copy()
    net.advance(1.0)
    reference = net.state.copy(), net.rates.copy()
    assert not np.array_equal(reference[0], saved[0])
    # another attempt at the window: another received state, more time
    net.port_array("state_in")[...] = 5.0
    net.receive("state_in")
    net.advance(1.7)
    net.restore_state(snapshot)
    assert net.t == 0.5
    np.testing.assert_array_equal(net.state, saved[0])
    np.testing.assert_array_equal(net.rates, saved[1])
    np.testing.assert_array_equal(net.port_array("state_in"), saved[2])
    net.advance(1.0)
    np.testing.assert_array_equal(net.state, reference[0])
    np.testing.assert_array_equal(net.rates, reference[1])


def test_a_snapshot_from_elsewhere_is_a_clear_error() -> None:
    net = Network(name="micro", model=MM, dt=0.01)
    net.initialize()
    with pytest.raises(msm.CouplingError, match=r"'micro' \(kinetics.network\) cannot restore dict"):
        net.restore_state({"t": 0.0, "state": net.state.copy()})


# -- partly fed inputs --------------------------------------------------------------------
def test_receive_takes_only_the_delivered_values() -> None:
    # The coupling says (delivered) that it wrote species A only: B keeps its own
    # value, even where state_in holds stale data or NaN there.
    net = Network(name="micro", model=TWO, dt=0.01, shape=(3,))
    net.initialize()
    net.advance(0.1)
    b_before = net.state[:, 1].copy()
    mask = np.zeros((3, 2), dtype=bool)
    mask[:, 0] = True
    net.delivered = lambda port: mask if port == "state_in" else None  # what the core reports
    net.port_array("state_in")[...] = [[7.0, np.nan], [8.0, -1.0], [9.0, 0.0]]
    net.receive("state_in")
    np.testing.assert_array_equal(net.state[:, 0], [7.0, 8.0, 9.0])
    np.testing.assert_array_equal(net.state[:, 1], b_before)
    np.testing.assert_allclose(net.rates, np.column_stack([KA * net.state[:, 0], KB * b_before]), rtol=1e-15)
    # a NaN where the coupling *did* write is still refused
    net.port_array("state_in")[1, 0] = np.inf
    with pytest.raises(msm.CouplingError, match="non-finite concentration.*species A in 1 of 3"):
        net.receive("state_in")
    # and without a mask (every value delivered) the whole input is the new state
    net.delivered = lambda port: None
    net.port_array("state_in")[...] = 0.25
    net.receive("state_in")
    assert np.all(net.state == 0.25)


class Fixed(msm.Component):
    """Test helper: a constant value in every cell."""

    value = msm.Setting(float, default=3.0)
    size = msm.Setting(int, default=4)
    dt = msm.Setting(float, default=0.1)
    state_attributes = ()

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.output("c_out", self.size)]

    def initialize(self) -> None:
        self.port_array("c_out")[...] = self.value

    def step(self, dt: float) -> None:
        pass


def test_a_species_fed_by_no_connection_keeps_evolving() -> None:
    # Species A is reset to 3 at every window start by a connection into component 0
    # of state_in; B is fed by nothing and must follow its own ODE, the exact
    # B(t) = exp(-kb t), over the whole run - not be reset to the stale input.
    # The TS (ROSW, rtol 1e-10) reaches about 3e-11 here; 1e-9 is asked.
    c = msm.Coupling()
    c.add("src", Fixed, value=3.0, size=4)
    c.add("net", Network, model=TWO, method="rosw", shape=(4,), rtol=1e-10, atol=1e-14)
    c.connect("src.c_out", "net.state_in", target_component=0)
    res = c.run(until=1.0, scheme=msm.Serial(window=0.1, order=["src", "net"]), quiet=True)
    t = res["net"]["time"].values
    state = res["net"]["state_out"].values  # (time, cell, species)
    assert t[-1] == pytest.approx(1.0) and len(t) == 11
    np.testing.assert_allclose(state[:, :, 1], np.exp(-KB * t)[:, None] * np.ones(4), rtol=1e-9, atol=0)
    # A: 3 at every window start, then one window of decay
    np.testing.assert_allclose(state[1:, :, 0], 3.0 * math.exp(-KA * 0.1), rtol=1e-9, atol=0)


# -- time step ---------------------------------------------------------------------------------
def test_time_step_is_none_without_dt_for_the_ts_methods() -> None:
    assert Network(model=MM, method="bdf").time_step() is None
    assert Network(model=MM, method="bdf", dt=0.25).time_step() == 0.25
    assert Network(model=MM, dt=0.01).time_step() == 0.01


# -- lifetimes -------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["euler", "bdf", "rk"])
def test_runs_again_after_finalize_identically_and_leaves_no_petsc_object(method: str) -> None:
    before = live_petsc_objects()
    net = Network(name="micro", model=MM, method=method, **step(method), shape=(2, 3), rtol=1e-8, atol=1e-12)

    def one_run() -> tuple[np.ndarray, np.ndarray]:
        net.t = 0.0  # as a coupling sets it before initialize()
        net.initialize()
        assert np.all(net.port_array("state_in") == 0.0)  # nothing left from the last run
        net.advance(0.3)
        net.port_array("state_in")[...] = net.state * 1.5
        net.receive("state_in")
        net.advance(0.8)
        out = net.state.copy(), net.rates.copy()
        net.finalize()
        return out

    first = one_run()
    assert live_petsc_objects() == before  # the TS, its Vecs and the Jacobian were destroyed
    for run in range(1, 20):
        again = one_run()
        np.testing.assert_array_equal(again[0], first[0], err_msg=f"run {run}")
        np.testing.assert_array_equal(again[1], first[1], err_msg=f"run {run}")
    assert live_petsc_objects() == before  # none of the runs left a PETSc object behind
    np.testing.assert_array_equal(net.state, first[0])  # readable after finalize


def test_the_same_coupling_runs_twice_with_identical_results() -> None:
    c = msm.Coupling()
    c.add("src", Fixed, value=3.0, size=4)
    c.add("net", Network, model=TWO, method="bdf", shape=(4,))
    c.connect("src.c_out", "net.state_in", target_component=0)
    runs = [c.run(until=0.5, scheme=msm.Serial(window=0.1, order=["src", "net"]), quiet=True)
            for _ in range(2)]
    for port in ("state_out", "rates_out"):
        np.testing.assert_array_equal(runs[1]["net"][port].values, runs[0]["net"][port].values)


# -- labels ------------------------------------------------------------------------------------
def test_ports_name_their_species_and_reactions() -> None:
    net = Network(model=TWO, dt=0.1, species=("B", "A"))
    for port in ("state_in", "state_out"):
        spec = net.ports[port].spec
        assert spec.value_names == ("B", "A") and spec.value_dim == "species"
        assert len(spec.value_names) == spec.components
    rates = net.ports["rates_out"].spec
    assert rates.value_names == ("JA", "JB") and rates.value_dim == "reaction"
    one = Network(model=MM, dt=0.1)
    assert one.ports["state_out"].spec.value_names == ("S", "P")
    assert one.ports["rates_out"].spec.value_names == ("J",)
