"""Lifetimes of fluid.diffusion and fluid.heat: finalize destroys every PETSc object, initialize starts afresh.

A coupling may run any number of times: each run calls ``initialize()`` after the
previous run's ``finalize()``. The reference for every repeated run is the first
run of the same instance (a fresh start must repeat it bit for bit), and the
reference for the PETSc object count is the count before the component built
anything (``finalize`` must leave nothing alive).
"""

from __future__ import annotations

import gc

import numpy as np
import pytest
from msm_fluid import Diffusion, Heat
from petsc4py import PETSc

import msmcore as msm

RUNS = 20


def live_petsc_objects() -> int:
    """petsc4py objects that still hold a PETSc object (a non-zero handle)."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, PETSc.Object) and o.handle)


DIFFUSION = {
    "explicit-neumann": dict(shape=(9, 7), spacing=0.1, D=1.0, dt=2e-3, initial_points={(4, 3): 10.0}),
    "implicit-dirichlet": dict(shape=(8, 6), spacing=(0.1, 0.05), D=0.5, dt=0.01, method="implicit",
                               boundary="dirichlet", boundary_value=1.5, initial_points={(3, 2): 7.0}),
    "copy-increment": dict(shape=(30,), spacing=0.01, D=0.0405, dt=2.469136e-6, boundary="copy-increment",
                           initial=1e-20, initial_points={3: 2.0, 15: 1.0}),
}


def one_diffusion_run(c: Diffusion) -> np.ndarray:
    """What a coupling does with the component in one run, with inputs of its own."""
    c.t = 0.0
    c.initialize()
    if "boundary_low_in" in c.ports:
        assert np.all(c.port_array("boundary_low_in") == 0.0)  # nothing left from the last run
        c.port_array("boundary_low_in")[...] = [3.0, -1.0]
        c.receive("boundary_low_in")
    c.port_array("source_in")[...] = 0.5
    c.advance(4 * c.dt)
    c.port_array("state_in")[...] = c.port_array("state_out") * 0.5
    c.receive("state_in")
    c.advance(7 * c.dt)
    out = c.port_array("state_out").copy()
    c.finalize()
    return out


@pytest.mark.parametrize("case", sorted(DIFFUSION))
def test_diffusion_runs_again_identically_and_leaves_no_petsc_object(case: str) -> None:
    before = live_petsc_objects()
    c = Diffusion(name="macro", **DIFFUSION[case])
    first = one_diffusion_run(c)
    assert live_petsc_objects() == before  # finalize destroyed the DMDA, the Vecs, the Mats and the KSP
    assert not np.array_equal(first, 0.5 * first)  # the run did something
    for run in range(1, RUNS):
        again = one_diffusion_run(c)
        np.testing.assert_array_equal(again, first, err_msg=f"run {run}")
    assert live_petsc_objects() == before  # none of the runs left a PETSc object behind


def test_diffusion_arrays_stay_readable_after_finalize_and_petsc_use_is_refused() -> None:
    c = Diffusion(name="macro", shape=(6,), D=1.0, dt=0.1, initial_points={2: 1.0})
    c.initialize()
    c.advance(0.3)
    u = c.port_array("state_out")
    expected = u.copy()
    c.finalize()
    assert c.port_array("state_out") is u  # the results are read from it after the run
    np.testing.assert_array_equal(u, expected)
    np.testing.assert_array_equal(c.port_indices("state_out"), np.arange(6))
    with pytest.raises(msm.CouplingError, match=r"'macro'.*state_vec was asked for after finalize\(\).*initialize"):
        c.state_vec  # noqa: B018 - the property is what is tested
    with pytest.raises(msm.CouplingError, match=r"'macro'.*after finalize\(\)"):
        c.step(0.1)
    c.initialize()  # and back: a new grid, a fresh state
    assert c.port_array("state_out")[2] == 1.0
    assert np.shares_memory(c.port_array("state_out"), c.state_vec.getArray(readonly=True))


HEAT = dict(constants={"alpha": 3.0, "beta": 1.2}, boundary="1 + x**2 + alpha*y**2 + beta*t",
            source="beta - 2 - 2*alpha", dt=0.1, size=(1.0, 1.0), nodes=(6, 5))


def one_heat_run(c: Heat) -> tuple[np.ndarray, np.ndarray]:
    c.t = 0.0
    c.initialize()
    port_in = "temperature_in" if c.role == "dirichlet" else "flux_in"
    port_out = "flux_out" if c.role == "dirichlet" else "temperature_iface_out"
    c.port_array(port_in)[...] = np.linspace(2.0, 3.0, c.n_edge)
    c.receive(port_in)
    c.advance(0.3)
    out = c.port_array("temperature_out").copy(), c.port_array(port_out).copy()
    c.finalize()
    return out


@pytest.mark.parametrize("role,edge", [("dirichlet", "right"), ("neumann", "left")])
def test_heat_runs_again_identically_and_leaves_no_petsc_object(role: str, edge: str) -> None:
    before = live_petsc_objects()
    c = Heat(name="h", interface_edge=edge, interface_role=role, **HEAT)
    first = one_heat_run(c)
    assert live_petsc_objects() == before  # DMDA, Vecs, Mats, KSP and the interface scatter are gone
    for run in range(1, RUNS):
        again = one_heat_run(c)
        for a, b in zip(again, first, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=f"run {run}")
    assert live_petsc_objects() == before  # none of the runs left a PETSc object behind


class Wall(msm.Component):
    """Test helper: a fixed value for the low face of every axis."""

    value = msm.Setting(float, default=2.0)
    dim = msm.Setting(int, default=2)
    dt = msm.Setting(float, default=0.01)
    state_attributes = ()

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.output("v_out", self.dim)]

    def initialize(self) -> None:
        self.port_array("v_out")[...] = self.value

    def step(self, dt: float) -> None:
        pass


def test_the_same_coupling_runs_twice_with_identical_results() -> None:
    # Before: the second run of a Coupling with fluid.diffusion crashed the process
    # (finalize had destroyed the DMDA and the Vecs the port arrays were built on).
    c = msm.Coupling()
    c.add("wall", Wall)
    c.add("d", "fluid.diffusion", shape=(6, 5), spacing=0.1, D=1.0, dt=0.01, method="implicit",
          boundary="dirichlet", initial_points={(2, 2): 4.0})
    c.add("h", "fluid.heat", **HEAT)
    c.connect("wall.v_out", "d.boundary_low_in")
    before = live_petsc_objects()
    results = [c.run(until=0.1, scheme=msm.Serial(window=0.02), quiet=True) for _ in range(3)]
    assert live_petsc_objects() == before
    for res in results[1:]:
        for name in ("d", "h"):
            for port, values in results[0][name].data_vars.items():
                np.testing.assert_array_equal(res[name][port].values, values.values, err_msg=f"{name}.{port}")
    u = results[0]["d"]["state_out"].values
    assert np.all(u[1:, 0, 1:-1] == 2.0)  # the wall's value held on the low x face
