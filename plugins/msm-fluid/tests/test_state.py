"""Ports, zero copy, receive and save/restore of fluid.diffusion."""

from __future__ import annotations

import numpy as np
import pytest
from msm_fluid import Diffusion

import msmcore as msm


def started(method: str, **extra) -> Diffusion:
    dt = 0.02 if method == "explicit" else 0.5
    c = Diffusion(name="macro", shape=(9, 7), spacing=(0.5, 0.4), D=1.0, dt=dt, method=method,
                  units="mol/m^3", **extra)
    c.initialize()
    rng = np.random.default_rng(11)
    c.port_array("state_out")[...] = rng.random((9, 7))
    c.port_array("source_in")[...] = rng.random((9, 7)) - 0.5
    return c


def test_ports_describe_the_field() -> None:
    # Cell centres are (i + 1/2) h per axis; the source is per second.
    c = Diffusion(shape=(4, 3), spacing=(0.5, 2.0), D=1.0, dt=0.01, units="K")
    ports = c.ports
    assert set(ports) == {"state_out", "state_in", "source_in", "sink_in"}
    assert ports["state_out"].direction is msm.Direction.OUT
    assert not ports["state_in"].required and not ports["source_in"].required
    spec = ports["state_out"].spec
    assert spec.shape == (4, 3) and spec.units == "K"
    np.testing.assert_array_equal(spec.coords["x"], [0.25, 0.75, 1.25, 1.75])
    np.testing.assert_array_equal(spec.coords["y"], [1.0, 3.0, 5.0])
    assert ports["source_in"].spec.units == "K/s"
    assert ports["state_in"].spec.coords["x"] is not None


@pytest.mark.parametrize("method", ["explicit", "implicit"])
def test_state_out_is_the_petsc_vec_memory_and_never_replaced(method: str) -> None:
    # Zero copy: the port array is the same object before and after steps and
    # is the memory of the PETSc Vec the operators act on.
    c = Diffusion(shape=(6, 5), D=1.0, dt=0.1, method=method, initial=1.0,
                  initial_points={"2,2": 5.0})
    early = c.port_array("state_out")  # may be asked before initialize
    c.initialize()
    u = c.port_array("state_out")
    assert u is early
    vec_array = c.state_vec.getArray(readonly=True)
    assert np.shares_memory(u, vec_array)
    assert u.flags.c_contiguous and u.shape == (6, 5)
    c.advance(0.5)
    assert c.port_array("state_out") is u
    np.testing.assert_array_equal(c.state_vec.getArray(readonly=True).reshape(6, 5), u)
    assert u[2, 2] < 5.0  # the steps acted on this very array
    # Writes through NumPy are seen by PETSc (and the next step).
    u[...] = 0.0
    assert c.state_vec.norm() == 0.0
    c.step(0.1)
    assert np.all(u == 0.0)


def test_receive_state_in_replaces_the_state() -> None:
    # Exact: after receive, the state is the received array, bit for bit.
    c = started("explicit")
    u = c.port_array("state_out")
    incoming = c.port_array("state_in")
    incoming[...] = np.arange(63, dtype=float).reshape(9, 7)
    c.receive("state_in")
    np.testing.assert_array_equal(u, incoming)
    assert c.port_array("state_out") is u
    c.receive("source_in")  # accepted: the source is read at every step
    with pytest.raises(msm.CouplingError, match="has no port 'nope'"):
        c.receive("nope")


@pytest.mark.parametrize("method", ["explicit", "implicit"])
def test_save_restore_round_trip_continues_bit_identically(method: str) -> None:
    # Restoring a snapshot and repeating the same steps must give the same bits
    # (nothing that influences a step lives outside the snapshot).
    c = started(method)
    dt = c.dt
    u = c.port_array("state_out")
    c.advance(3 * dt)
    snapshot = c.save_state()
    saved_u, saved_t = u.copy(), c.t
    c.advance(7 * dt)
    reference, t_ref = u.copy(), c.t
    assert not np.array_equal(reference, saved_u)
    c.port_array("source_in")[...] += 1.0  # changed after the snapshot: must be restored too
    c.restore_state(snapshot)
    assert c.port_array("state_out") is u
    assert np.shares_memory(u, c.state_vec.getArray(readonly=True))
    np.testing.assert_array_equal(u, saved_u)
    assert c.t == saved_t
    c.advance(7 * dt)
    np.testing.assert_array_equal(u, reference)
    assert c.t == t_ref
    snapshot["u"][...] = -1.0  # the snapshot is a copy, not a view
    assert not np.any(u == -1.0)


def test_step_before_initialize_is_a_clear_error() -> None:
    c = Diffusion(name="macro", shape=(4,), D=1.0, dt=0.1)
    with pytest.raises(msm.CouplingError, match=r"component 'macro': step\(\) called before initialize\(\)"):
        c.step(0.1)


def test_implicit_reassembles_for_a_different_step_and_finalize_releases() -> None:
    # A step of another length uses (I - h D L) for that h: the eigenmode
    # factor is 1 / (1 - h D lam) with h = 0.3 (exact, to the KSP tolerance).
    n, D = 16, 1.0
    c = Diffusion(shape=(n,), D=D, dt=1.0, method="implicit")
    c.initialize()
    v = np.cos(np.pi * (np.arange(n) + 0.5) / n)
    lam = -4.0 * np.sin(np.pi / (2 * n)) ** 2
    u = c.port_array("state_out")
    u[...] = v
    c.step(1.0)
    c.step(0.3)
    np.testing.assert_allclose(u, v / (1 - D * lam) / (1 - 0.3 * D * lam), rtol=0, atol=1e-11)
    c.finalize()
    assert c.port_array("state_out") is u  # arrays outlive the PETSc objects


def test_dirichlet_received_state_keeps_held_cells() -> None:
    # Held cells are boundary_value whatever arrives through state_in; the
    # interior is taken over exactly.
    c = Diffusion(shape=(5, 6), D=1.0, dt=0.1, boundary="dirichlet", boundary_value=0.5)
    c.initialize()
    c.port_array("state_in")[...] = 7.0
    c.receive("state_in")
    u = c.port_array("state_out")
    assert np.all(u[1:-1, 1:-1] == 7.0)
    assert np.all(u[0] == 0.5) and np.all(u[:, -1] == 0.5)


def test_mpi4py_communicator_of_one_rank_is_used() -> None:
    # comm is an mpi4py communicator (here COMM_SELF): the DMDA is built on it,
    # and the run matches the comm=None run bit for bit.
    MPI = pytest.importorskip("mpi4py.MPI")
    results = []
    for comm in (None, MPI.COMM_SELF):
        c = Diffusion(shape=(8, 3), D=1.0, dt=0.1, initial_points={"4,1": 1.0})
        c.comm = comm
        c.initialize()
        assert c.grid.comm.getSize() == 1 and c.grid.owned == ((0, 8), (0, 3))
        c.advance(1.0)
        results.append(c.port_array("state_out").copy())
    np.testing.assert_array_equal(results[0], results[1])


def test_failed_implicit_solve_raises_convergence_error() -> None:
    # One CG iteration cannot solve a 2D system to 1e-12: the solve must fail
    # loudly, naming the component and what to change.
    from petsc4py import PETSc

    opts = PETSc.Options()
    opts["stiff_ksp_max_it"] = 1
    try:
        c = Diffusion(name="stiff", shape=(10, 10), D=1.0, dt=10.0, method="implicit",
                      initial_points={"5,5": 1.0})
        c.initialize()
        with pytest.raises(msm.ConvergenceError,
                           match=r"component 'stiff': the implicit solve at t=0 did not converge "
                                 r"\(DIVERGED_(MAX_)?ITS? after 1 iterations\); try other 'ksp_type'"):
            c.step(10.0)
    finally:
        del opts["stiff_ksp_max_it"]


def test_the_class_declares_its_state_and_ports_give_coordinate_units() -> None:
    assert Diffusion.declares_state()
    c = Diffusion(shape=(4, 3), D=1.0, dt=0.01, boundary="dirichlet")
    assert set(c.ports) == {"state_out", "state_in", "source_in", "sink_in", "boundary_low_in",
                            "boundary_high_in"}
    # the cell centres are origin + (i + 1/2) spacing, and 'spacing'/'origin' are in metres
    assert all(p.spec.coord_units == "m" for p in c.ports.values())
    assert Diffusion.setting_specs()["spacing"].units == "m"


@pytest.mark.parametrize("method", ["explicit", "implicit"])
def test_save_restore_covers_the_boundary_faces(method: str) -> None:
    # Held face values, which boundary ports were received, and (implicit) the lift
    # built from them: a window repeated after other face values arrived must repeat
    # the first attempt bit for bit.
    dt = 0.002 if method == "explicit" else 0.01
    c = Diffusion(name="macro", shape=(7, 6), spacing=0.1, D=1.0, dt=dt, method=method,
                  boundary="dirichlet", boundary_value=0.5, initial_points={(3, 3): 4.0})
    c.initialize()
    u = c.port_array("state_out")
    low, high = c.port_array("boundary_low_in"), c.port_array("boundary_high_in")
    low[...] = [2.0, 1.0]
    c.receive("boundary_low_in")
    c.advance(3 * dt)
    snapshot = c.save_state()
    c.advance(8 * dt)
    reference = u.copy()
    assert np.all(reference[0, 1:-1] == 2.0) and np.all(reference[1:-1, -1] == 0.5)
    # another attempt at the window: other faces, the high side received too
    low[...] = [-5.0, 9.0]
    c.receive("boundary_low_in")
    high[...] = [3.0, 3.0]
    c.receive("boundary_high_in")
    c.advance(10 * dt)
    assert np.all(u[1:-1, -1] == 3.0)
    c.restore_state(snapshot)
    np.testing.assert_array_equal(low, [2.0, 1.0])
    np.testing.assert_array_equal(high, [0.0, 0.0])
    c.advance(8 * dt)
    np.testing.assert_array_equal(u, reference)


def test_receive_takes_only_the_delivered_values() -> None:
    # What the core reports through delivered(): here cells with x < 2 and the
    # y face of boundary_low_in were not fed; they keep their current values.
    c = Diffusion(name="macro", shape=(4, 3), D=1.0, dt=0.01, boundary="dirichlet", boundary_value=0.5)
    c.initialize()
    u = c.port_array("state_out")
    u[1:-1, 1:-1] = 9.0
    state_mask = np.zeros((4, 3), dtype=bool)
    state_mask[2:] = True
    masks = {"state_in": state_mask, "boundary_low_in": np.array([True, False])}
    c.delivered = masks.get  # type: ignore[method-assign]
    c.port_array("state_in")[...] = 7.0
    c.receive("state_in")
    assert u[1, 1] == 9.0 and u[2, 1] == 7.0  # not fed: kept; fed: taken
    c.port_array("boundary_low_in")[...] = [2.0, -3.0]
    c.receive("boundary_low_in")
    assert np.all(u[0, 1:-1] == 2.0)  # x low face (corners belong to the y faces): delivered
    assert np.all(u[1:, 0] == 0.5)  # y low face: not delivered, keeps boundary_value
    c.step(0.01)
    assert np.all(u[1:, 0] == 0.5) and np.all(u[0, 1:-1] == 2.0)
