"""kinetics.network distributed over MPI.COMM_WORLD: bit for bit the serial run.

Run under ``mpiexec -n N`` (any N >= 1, including more ranks than cells for the
small-field test); every test also passes on one rank.
"""

from __future__ import annotations

import numpy as np
import pytest
from msm_kinetics.network import Network, block_range
from port_gather import gather_port

import msmcore as msm

MPI = pytest.importorskip("mpi4py.MPI")

WORLD = MPI.COMM_WORLD
MODEL = """
bind: A + B -> C; k1*A*B
decay: C -> ; k2*C
dimer: 2 A -> D; k3*A^2
source: -> A; k0
k1 = 0.5; k2 = 0.25; k3 = 0.125; k0 = 0.1
A = 1.0; B = 2.0
"""
SHAPE = (2, 5)  # 10 cells, a 2D field
PORTS = ("state_in", "state_out", "rates_out")


def make(comm, shape=SHAPE, model=MODEL, dt=0.01) -> Network:
    net = Network(name="micro", model=model, dt=dt, shape=shape)
    net.comm = comm
    return net


def send_global(net: Network, values: np.ndarray) -> None:
    """Deliver the global array ``values`` on state_in: each rank writes its part."""
    local = net.port_array("state_in")
    local.reshape(-1)[...] = values.reshape(-1)[net.port_indices("state_in")]
    net.receive("state_in")


def initial_field(shape=SHAPE, nspecies=4, seed=11) -> np.ndarray:
    # different values in every cell, the same on every rank
    return np.random.default_rng(seed).uniform(0.5, 1.5, (*shape, nspecies))


def run_windows(net: Network, start: np.ndarray, windows: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    """initialize, receive ``start``, advance ``windows`` windows; states and rates after each."""
    net.initialize()
    send_global(net, start)
    snaps = []
    for j in range(windows):
        net.advance((j + 1) * 0.05)  # 5 steps of dt per window
        snaps.append((gather_port(net, "state_out"), gather_port(net, "rates_out")))
    return snaps


def bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes()


def test_distributed_run_is_bit_for_bit_the_serial_run() -> None:
    start = initial_field()
    serial = make(MPI.COMM_SELF)
    expected = run_windows(serial, start)
    assert serial.port_array("state_out").shape == (*SHAPE, 4)  # serial: full shape
    dist = make(WORLD)
    got = run_windows(dist, start)
    for (s_exp, r_exp), (s_got, r_got) in zip(expected, got, strict=True):
        assert bits(s_got) == bits(s_exp)
        assert bits(r_got) == bits(r_exp)
    # the serial arrays themselves, as a third witness
    assert bits(got[-1][0]) == bits(serial.port_array("state_out"))
    assert bits(got[-1][1]) == bits(serial.port_array("rates_out"))
    # cells differ: the field is not one value broadcast
    assert len(np.unique(got[-1][0][..., 0])) == 10


def test_port_indices_partition_the_global_arrays_in_balanced_blocks() -> None:
    net = make(WORLD)
    net.initialize()
    size, rank = WORLD.Get_size(), WORLD.Get_rank()
    ncomp = {"state_in": 4, "state_out": 4, "rates_out": 4}
    start, stop = block_range(10, size, rank)
    assert net.cell_range == (start, stop)
    for port in PORTS:
        spec = net.ports[port].spec
        assert spec.shape == SHAPE and spec.array_shape == (*SHAPE, ncomp[port])  # specs stay global
        idx = net.port_indices(port)
        arr = net.port_array(port)
        assert arr is net.port_array(port) and arr.dtype == np.float64 and arr.flags.c_contiguous
        assert idx.dtype == np.int64 and idx.size == arr.size
        np.testing.assert_array_equal(idx, np.arange(start * ncomp[port], stop * ncomp[port]))
        if size > 1:
            assert arr.shape == (stop - start, ncomp[port])
        # across ranks: 0..size-1 exactly once, contiguous blocks in rank order
        every = WORLD.allgather(idx)
        np.testing.assert_array_equal(np.concatenate(every), np.arange(spec.size))
    counts = WORLD.allgather(stop - start)
    assert sum(counts) == 10 and max(counts) - min(counts) <= 1
    assert counts == sorted(counts, reverse=True)  # lower ranks get the extra cell


def test_block_range_is_balanced() -> None:
    for n in (1, 2, 7, 10):
        for size in (1, 2, 3, 4, 16):
            blocks = [block_range(n, size, r) for r in range(size)]
            assert blocks[0][0] == 0 and blocks[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:], strict=False))
            lengths = [b - a for a, b in blocks]
            assert max(lengths) - min(lengths) <= 1 and lengths == sorted(lengths, reverse=True)


def test_one_species_field_with_fewer_cells_than_ranks() -> None:
    # MUSCLE3's micro model on 2 cells: with 3 ranks one rank holds nothing, and
    # its (0,)-shaped arrays take part in every call without effect.
    model = "J: U -> ; k*U; k = 4.05e4"
    dt = 2.469136e-8
    start = np.array([2.0, 0.75])
    results = []
    for comm in (MPI.COMM_SELF, WORLD):
        net = make(comm, shape=(2,), model=model, dt=dt)
        net.initialize()
        send_global(net, start)
        net.advance(100 * dt)
        if comm is WORLD and WORLD.Get_size() > 1:
            lo, hi = net.cell_range
            assert net.port_array("state_out").shape == (hi - lo,)
        results.append((gather_port(net, "state_out"), gather_port(net, "rates_out")))
    (s_ser, r_ser), (s_dist, r_dist) = results
    assert s_ser.shape == (2,) and r_ser.shape == (2,)
    assert bits(s_dist) == bits(s_ser) and bits(r_dist) == bits(r_ser)
    u = start.copy()
    for _ in range(100):
        u += -4.05e4 * u * dt  # MUSCLE3's loop, bit for bit
    assert bits(s_dist) == bits(u)


def test_save_and_restore_on_the_local_blocks() -> None:
    net = make(WORLD)
    net.initialize()
    send_global(net, initial_field(seed=5))
    net.advance(0.05)
    snap = net.save_state()
    net.advance(0.1)
    after = gather_port(net, "state_out")
    net.restore_state(snap)
    net.advance(0.1)
    assert bits(gather_port(net, "state_out")) == bits(after)


def test_nan_received_on_one_rank_is_reported_on_every_rank() -> None:
    # The NaN sits in the last cell (held by the last rank only); every rank
    # raises, naming the global cell, the species and its own rank.
    net = make(WORLD)
    net.initialize()
    bad = initial_field()
    bad[1, 4, 2] = np.nan  # global cell 9, species C
    with pytest.raises(msm.CouplingError) as info:
        send_global(net, bad)
    msg = str(info.value)
    assert "received on port 'state_in'" in msg
    assert "species C in 1 of 10 cell(s), first at cell (1, 4)" in msg
    size, rank = WORLD.Get_size(), WORLD.Get_rank()
    if size > 1:
        assert f"on rank {rank}:" in msg and f"(on rank(s) {size - 1} of {size})" in msg


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_overflow_on_several_ranks_names_the_global_first_cell() -> None:
    # Cells 3 and 9 overflow (k*A^2 with A = 1e200); the report is the same on
    # every rank: both cells counted, the first one named.
    net = make(WORLD, model="J: A -> B; k*A^2; k = 1\nL: S -> ; ks*S; ks = 1", dt=0.5)
    net.initialize()
    start = np.ones((*SHAPE, 3))
    start.reshape(10, 3)[[3, 9], 0] = 1e200
    send_global(net, start)
    with pytest.raises(msm.CouplingError) as info:
        net.advance(0.5)
    msg = str(info.value)
    assert "t=0.0 to t=0.5" in msg and "reduce dt" in msg
    assert "species A, B in 2 of 10 cell(s), first at cell (0, 3)" in msg
    size = WORLD.Get_size()
    if size > 1:
        owners = sorted({r for r in range(size) for c in (3, 9)
                         if block_range(10, size, r)[0] <= c < block_range(10, size, r)[1]})
        assert f"(on rank(s) {', '.join(map(str, owners))} of {size})" in msg
    # identical on every rank but for the rank it names
    assert len(set(WORLD.allgather(msg.replace(f" on rank {WORLD.Get_rank()}:", ":")))) == 1


def test_a_new_communicator_lays_the_cells_out_again_at_initialize() -> None:
    # A coupling gives the component a new communicator for every run: initialize()
    # lays the cells out on it (new port arrays when the block differs) and starts afresh.
    net = make(None)
    early = net.port_array("state_out")
    assert early.shape == (*SHAPE, 4)  # serial layout
    net.initialize()
    net.finalize()
    net.comm = WORLD
    net.initialize()
    start, stop = block_range(10, WORLD.Get_size(), WORLD.Get_rank())
    assert net.cell_range == (start, stop)
    if WORLD.Get_size() > 1:
        assert net.port_array("state_out").shape == (stop - start, 4)
        assert net.port_array("state_out") is not early  # arrays for the new block
    np.testing.assert_array_equal(gather_port(net, "state_out")[..., 0], 1.0)  # the model's initial A everywhere
    net.finalize()


def free(comm) -> None:
    """Free a run's sub-communicator unless it is gone already (the coupling frees it after finalize)."""
    if comm is not None and comm != MPI.COMM_NULL:
        comm.Free()


class Source(msm.Component):
    """Test helper on one rank: the whole field of initial_field(), sent every window."""

    dt = msm.Setting(float, default=0.05)
    state_attributes = ()

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.output("c_out", SHAPE, components=4)]

    def initialize(self) -> None:
        self.port_array("c_out")[...] = initial_field()

    def step(self, dt: float) -> None:
        self.port_array("c_out")[...] *= 0.5


class Recording(Network):
    """kinetics.network that records the communicator each initialize() gets."""

    comms: list = []

    def initialize(self) -> None:
        type(self).comms.append(self.comm)
        super().initialize()


@pytest.mark.parametrize("method", ["euler", "bdf"])
def test_the_same_coupling_runs_twice_with_identical_results(method: str) -> None:
    # Each run splits new sub-communicators; the distributed network (and its TS)
    # is rebuilt on them, and the second run repeats the first bit for bit.
    Recording.comms = []
    c = msm.Coupling()
    c.add("src", Source, ranks=[0])
    c.add("micro", Recording, model=MODEL, shape=SHAPE, method=method, **({"dt": 0.01} if method == "euler" else {}))
    c.connect("src.c_out", "micro.state_in")
    net = c.components["micro"]
    runs = []
    for _ in range(2):
        runs.append(c.run(until=0.2, scheme=msm.Serial(window=0.05, order=["src", "micro"]), quiet=True))
        free(net.comm)  # as the coupling does after finalize: nothing may still use it
    assert len(Recording.comms) == 2
    if WORLD.Get_size() > 1:
        assert Recording.comms[1] is not Recording.comms[0]  # the second run came with a new communicator
    for port in ("state_out", "rates_out"):
        np.testing.assert_array_equal(runs[1]["micro"][port].values, runs[0]["micro"][port].values)
    assert np.ptp(runs[0]["micro"]["state_out"].values[-1, ..., 2]) > 0  # cells differ: a real field
    # after the run the port arrays still hold this rank's block of the last state
    last = runs[1]["micro"]["state_out"].values[-1].reshape(-1)
    np.testing.assert_array_equal(net.port_array("state_out").reshape(-1), last[net.port_indices("state_out")])
