"""Dynamic ports: agent sets, transfers that follow the count, per-agent state that follows its agent."""

from __future__ import annotations

import numpy as np
import pytest
from agent_fakes import Colony, Follower

import msmcore as msm
from msmcore.agent_links import check_agent_placement
from msmcore.agent_transfer import AgentTransfer


# -- AgentSet ----------------------------------------------------------------------------------
def test_ids_are_unique_ascending_and_never_reused() -> None:
    s = msm.AgentSet("cells", dim=2)
    a = s.add(3)
    assert a.tolist() == [0, 1, 2] and s.count == 3 and s.ids.dtype == np.int64
    v = s.version
    s.remove([1])
    assert s.version > v
    d = s.divide([0, 2])
    assert d.tolist() == [3, 4]  # 1 is gone for good
    s.remove([4])
    assert s.add(1).tolist() == [5]
    assert s.ids.tolist() == [0, 2, 3, 5]
    assert s.parent_of([3, 5, 0]).tolist() == [0, -1, -1]
    assert s.index_of([5, 0]).tolist() == [3, 0]
    with pytest.raises(ValueError):
        s.ids[0] = 7  # read-only


@pytest.mark.parametrize("call", [lambda s: s.divide([9]), lambda s: s.remove([1, 1]),
                                  lambda s: s.index_of([4]), lambda s: s.add(-1), lambda s: s.divide([0.5])])
def test_bad_membership_calls_are_refused(call) -> None:
    s = msm.AgentSet("cells")
    s.add(2)
    with pytest.raises(msm.ConfigurationError, match="agent set 'cells'|ids"):
        call(s)


def test_carry_follows_divisions_in_order_split_conserves_copy_inherits() -> None:
    s = msm.AgentSet("cells")
    s.add(3)  # 0 1 2
    old, nxt = s.ids.copy(), s.next_id
    s.divide([0])  # 3 <- 0
    s.divide([0, 3])  # 4 <- 0, 5 <- 3
    s.remove([1])  # 1 dies
    ch = s.change_since(old, nxt)
    assert ch.died.tolist() == [1] and ch.born.tolist() == [3, 4, 5] and ch.parents.tolist() == [0, 0, 3]
    amounts = np.array([8.0, 5.0, 1.0])
    split = ch.carry(amounts, "split")
    # 0 (8) -> 0: 4, 3: 4; then 0 -> 0: 2, 4: 2 and 3 -> 3: 2, 5: 2 (binary halving, in birth order)
    assert split.tolist() == [2.0, 1.0, 2.0, 2.0, 2.0]  # ids 0 2 3 4 5
    assert split.sum() == amounts.sum() - amounts[1]  # conserved up to the dead agent's share
    copied = ch.carry(amounts, "copy")
    assert copied.tolist() == [8.0, 1.0, 8.0, 8.0, 8.0]
    both = ch.carry(np.stack([amounts, amounts], axis=1), np.array(["split", "copy"]))
    assert np.array_equal(both[:, 0], split) and np.array_equal(both[:, 1], copied)
    assert ch.carry(amounts, "zero", fill=-1.0).tolist() == [8.0, 1.0, -1.0, -1.0, -1.0]


def test_carry_refuses_agents_it_cannot_trace() -> None:
    s = msm.AgentSet("cells")
    s.add(3)
    later = s.state()
    s.remove([0, 1, 2])
    s.add(2)  # ids 3 4
    old, nxt = s.ids.copy(), s.next_id
    s.set_state(later)  # back to 0 1 2: not descendants of 3 4
    with pytest.raises(msm.ConfigurationError, match=r"agents \[0, 1, 2\] are neither in the old membership"):
        s.change_since(old, nxt).carry(np.ones(2))


# -- ports ---------------------------------------------------------------------------------------
def test_agent_port_declarations_are_checked() -> None:
    with pytest.raises(msm.ConfigurationError, match="either shape= or agents="):
        msm.Port.output("x", 4, agents="cells")
    with pytest.raises(msm.ConfigurationError, match="shape must be a positive integer.*or give agents="):
        msm.Port.output("x")
    with pytest.raises(msm.ConfigurationError, match="no fixed coords"):
        msm.Port.output("x", agents="cells", coords={"x": [0.0]})


# -- transfers follow the count ----------------------------------------------------------------
class Recorder(Follower):
    """A follower that records, each window, the ids it holds and the values it received."""

    def step(self, dt: float) -> None:
        super().step(dt)
        self.history.append(("seen", self.agent_set("a").ids.copy(), self.port_array("value_in").copy()))


def _colony_coupling(**colony) -> tuple[msm.Coupling, Colony, Recorder]:
    c = msm.Coupling()
    col = c.add("col", Colony, **colony)
    rec = c.add("rec", Recorder)
    c.connect("col.value_out", "rec.value_in")
    c.connect("rec.echo_out", "col.value_in")
    return c, col, rec


def test_values_land_per_agent_id_while_the_count_changes(monkeypatch) -> None:
    builds = []
    original = AgentTransfer._rebuild

    def counting(self, *args):
        builds.append((str(self.conn), args[2].shape[0]))
        original(self, *args)

    monkeypatch.setattr(AgentTransfer, "_rebuild", counting)
    c, col, rec = _colony_coupling(divide_every=3, die_every=7, cap=30)
    c.run(until=8.0, scheme=msm.Serial(order=["col", "rec"]), quiet=True)
    seen = [h for h in rec.history if h[0] == "seen"]
    assert len(seen) == 8
    counts = [len(ids) for _, ids, _ in seen]
    assert len(set(counts)) > 3  # the count did change
    for _, ids, values in seen:
        assert np.array_equal(values, ids + 0.5)  # agent id k received id + 0.5: per agent, not per row
    # the echo comes back per agent too, as of the previous window (delivered before col's last step);
    # agents born in that step carry their parent's row
    echo = col.port_array("value_in")
    cells = col.agent_set("cells")
    before = np.intersect1d(seen[-2][1], cells.ids)
    assert np.array_equal(echo[cells.index_of(before)], 2 * before + 1.0)
    newborn = np.setdiff1d(cells.ids, seen[-2][1])
    assert newborn.size and np.array_equal(echo[cells.index_of(newborn)],
                                           echo[cells.index_of(cells.parent_of(newborn))])
    # rebuilt only when the agents changed: one build at the start, then one per window whose agents differ
    to_rec = [n for conn, n in builds if conn == "col.value_out -> rec.value_in"]
    memberships = [np.arange(4)] + [ids for _, ids, _ in seen]
    changed = sum(1 for a, b in zip(memberships, memberships[1:], strict=False) if not np.array_equal(a, b))
    assert changed > 0 and len(to_rec) == 1 + changed


def test_rebuild_only_when_the_count_changes(monkeypatch) -> None:
    builds = []
    original = AgentTransfer._rebuild

    def counting(self, *args):
        builds.append(str(self.conn))
        original(self, *args)

    monkeypatch.setattr(AgentTransfer, "_rebuild", counting)
    c, col, rec = _colony_coupling(cap=4, die_every=1000)  # the agents never change
    c.run(until=6.0, scheme=msm.Serial(order=["col", "rec"]), quiet=True)
    assert sorted(builds) == ["col.value_out -> rec.value_in", "rec.echo_out -> col.value_in"]


def test_daughters_inherit_split_and_copy_and_dead_agents_drop() -> None:
    c, col, rec = _colony_coupling(divide_every=2, die_every=1000, cap=25)  # nobody dies: the total stays
    c.run(until=6.0, scheme=msm.Serial(order=["col", "rec"]), quiet=True)
    cells = col.agent_set("cells")
    assert cells.count > 4 and rec.amount.shape == (cells.count,)
    assert rec.amount.sum() == 4.0  # split: halving is exact in binary floating point
    parents = cells.parent_of(cells.ids)
    root = cells.ids.copy()
    while np.any(parents[np.searchsorted(cells.ids, root)] >= 0):  # walk each agent up to its founder
        p = parents[np.searchsorted(cells.ids, root)]
        root = np.where(p >= 0, p, root)
    assert np.array_equal(rec.label, root + 0.5)  # copy: every descendant has its founder's first value
    # now with deaths: a dead agent's row is gone, and the family totals lose exactly its share
    c, col, rec = _colony_coupling(divide_every=2, die_every=3, cap=25)
    c.run(until=6.0, scheme=msm.Serial(order=["col", "rec"]), quiet=True)
    cells = col.agent_set("cells")
    changes = [h for h in rec.history if h[0] == "change"]
    died = np.concatenate([np.setdiff1d(old, new) for _, old, new, _, _ in changes])
    assert died.size and not np.isin(died, cells.ids).any()
    assert rec.amount.shape == (cells.count,) and rec.amount.sum() < 4.0


def test_checkpoint_restore_of_an_agent_set_is_bit_for_bit(tmp_path) -> None:
    scheme = msm.Serial(order=["col", "rec"])
    c, col, rec = _colony_coupling(divide_every=2, die_every=4, cap=30)
    c.run(until=8.0, scheme=scheme, quiet=True)
    want = (col.agent_set("cells").state(), rec.amount.copy(), rec.label.copy(),
            col.port_array("value_in").copy(), rec.port_array("value_in").copy())
    c2, col2, rec2 = _colony_coupling(divide_every=2, die_every=4, cap=30)
    c2.run(until=4.0, scheme=scheme, quiet=True, checkpoint=msm.Checkpoints(every=1.0, path=tmp_path / "ck"))
    c3, col3, rec3 = _colony_coupling(divide_every=2, die_every=4, cap=30)
    c3.run(until=8.0, scheme=scheme, quiet=True, resume=tmp_path / "ck")
    got = (col3.agent_set("cells").state(), rec3.amount, rec3.label, col3.port_array("value_in"),
           rec3.port_array("value_in"))
    for key in ("ids", "born", "parent"):
        assert np.array_equal(got[0][key], want[0][key])
    assert got[0]["next"] == want[0]["next"]
    for a, b in zip(got[1:], want[1:], strict=True):
        assert a.shape == b.shape and a.tobytes() == b.tobytes()


# -- errors ----------------------------------------------------------------------------------------
class Grid(msm.Component):
    dt = msm.Setting(float, default=1.0)
    state_attributes = ()

    def declare_ports(self) -> list[msm.Port]:
        x = (np.arange(8) + 0.5) / 8
        return [msm.Port.input("f_in", (8, 8), coords={"x": x, "y": x}, required=False),
                msm.Port.output("f_out", (8, 8), coords={"x": x, "y": x}),
                msm.Port.input("flat_in", 8, required=False)]

    def step(self, dt: float) -> None:
        pass


def test_agent_port_to_a_fixed_size_port_needs_a_mapping() -> None:
    c = msm.Coupling()
    c.add("col", Colony)
    c.add("g", Grid)
    with pytest.raises(msm.CouplingError, match="mapping='deposit'"):
        c.connect("col.value_out", "g.flat_in")
    with pytest.raises(msm.CouplingError, match="mapping='interpolate'"):
        c.connect("g.f_out", "col.value_in", mapping="linear")
    with pytest.raises(msm.CouplingError, match="positions="):
        c.connect("col.value_out", "g.f_in", mapping="deposit", radius=0.1)
    with pytest.raises(msm.CouplingError, match="must be an output agent port"):
        c.connect("col.value_out", "g.f_in", mapping="deposit", radius=0.1, positions="g.f_out")
    with pytest.raises(msm.CouplingError, match="volumes=.*or radius="):
        c.connect("col.value_out", "g.f_in", mapping="deposit", positions="col.positions_out")
    with pytest.raises(msm.CouplingError, match="interpolate=True"):
        c.connect("col.value_out", "col.value_in", interpolate=True)


def test_agent_ports_of_different_sets_and_unbound_followers_are_refused() -> None:
    c = msm.Coupling()
    c.add("a", Colony)
    c.add("b", Colony)
    c.add("f", Follower)
    c.add("g", Follower)
    with pytest.raises(msm.CouplingError, match="within one agent set"):
        c.connect("a.value_out", "b.value_in")
    with pytest.raises(msm.CouplingError, match="none are connected"):
        c.connect("f.echo_out", "g.value_in")  # neither knows its agents yet
    c.connect("a.value_out", "f.value_in")
    with pytest.raises(msm.CouplingError, match="within one agent set"):
        c.connect("f.echo_out", "b.value_in")
    c.connect("f.echo_out", "g.value_in")  # now g follows a's agents through f
    assert c.agent_bindings[("g", "a")] == ("a", "cells")


def test_implicit_schemes_over_agent_ports_are_refused() -> None:
    c, _, _ = _colony_coupling()
    with pytest.raises(msm.CouplingError, match="repeats windows over connections of agent ports"):
        c.run(until=2.0, scheme=msm.Implicit(window=1.0, order=["col", "rec"]), quiet=True)


class ShortArrays(Colony):
    """Divides, but hands out a ``value_out`` of the old length: the core must notice."""

    def declare_ports(self) -> list[msm.Port]:
        return super().declare_ports()

    def port_array(self, name: str) -> np.ndarray:
        if name == "value_out":
            if "_short" not in self.__dict__:
                self._short = np.zeros(self.n0)
            return self._short
        return super().port_array(name)

    def _write(self) -> None:
        pass


def test_array_length_not_the_count_after_advance_is_a_coupling_error() -> None:
    c = msm.Coupling()
    c.add("col", ShortArrays)
    c.add("f", Follower)
    c.connect("col.value_out", "f.value_in")
    with pytest.raises(msm.CouplingError, match=r"port 'value_out' is an agent port .* agents, but its array has "
                                                r"shape \(4,\)"):
        c.run(until=3.0, quiet=True)


def test_agent_components_on_more_than_one_rank_are_refused() -> None:
    c = msm.Coupling()
    col = c.add("col", Colony)
    with pytest.raises(msm.ConfigurationError, match="component 'col' has agent sets .* ranks \\[0, 1\\]"):
        check_agent_placement("col", col, (0, 1))
    check_agent_placement("col", col, (1,))  # one rank: fine


@pytest.mark.parametrize("seed", range(5))
def test_carry_invariants_over_random_histories(seed: int) -> None:
    # random divisions (also of daughters born in the same change) and deaths between two exchanges:
    # split conserves the total of every founder's family minus exactly what its dead members held when
    # they died; copy gives every agent its founder's value; survivors keep theirs
    rng = np.random.default_rng(seed)
    s = msm.AgentSet("cells")
    s.add(6)
    old, nxt = s.ids.copy(), s.next_id
    values = rng.uniform(1.0, 2.0, size=old.size)
    amounts = dict(zip(old.tolist(), values.tolist(), strict=True))  # a direct simulation, agent by agent
    founder = {i: i for i in old.tolist()}
    for _ in range(12):
        if rng.random() < 0.7 or s.count < 2:
            parents = rng.choice(s.ids, size=min(2, s.count), replace=False)
            daughters = s.divide(parents)
            for p, d in zip(parents.tolist(), daughters.tolist(), strict=True):
                amounts[p] /= 2
                amounts[d] = amounts[p]
                founder[d] = founder[p]
        else:
            dead = int(rng.choice(s.ids))
            s.remove([dead])
            del amounts[dead]
    ch = s.change_since(old, nxt)
    split = ch.carry(values, "split")
    np.testing.assert_allclose(split, [amounts[i] for i in s.ids.tolist()], rtol=1e-15)
    copied = ch.carry(values, "copy")
    first = dict(zip(old.tolist(), values.tolist(), strict=True))
    np.testing.assert_array_equal(copied, [first[founder[i]] for i in s.ids.tolist()])
    assert np.array_equal(np.sort(np.concatenate([s.ids, ch.died, np.setdiff1d(ch.born, s.ids)])),
                          np.arange(s.next_id))  # every id ever used is alive, died old or died young


class DividesOnReceive(Colony):
    """Divides its first agent whenever value_in arrives (membership changes outside advance)."""

    def receive(self, port: str) -> None:
        cells = self.agent_set("cells")
        if cells.count < self.cap:
            cells.divide(cells.ids[:1])
        self._write()

    def step(self, dt: float) -> None:
        self.steps += 1


def test_agents_changed_in_receive_reach_followers_before_the_next_exchange() -> None:
    c = msm.Coupling()
    col = c.add("col", DividesOnReceive, cap=10)
    rec = c.add("rec", Recorder)
    c.connect("col.value_out", "rec.value_in")
    c.connect("rec.echo_out", "col.value_in")
    # Parallel delivers to every component before any advances: col divides in its receive(), then
    # rec's input is delivered at once; rec must have been told of the new agents first
    c.run(until=6.0, scheme=msm.Parallel(), quiet=True)
    cells = col.agent_set("cells")
    assert cells.count == 10 and rec.amount.shape == (10,)
    assert rec.amount.sum() == 4.0  # split, nobody died
    seen = [h for h in rec.history if h[0] == "seen"]
    assert len(seen) == 6
    for _, ids, values in seen:  # Parallel: what rec holds is col's output of the window before
        assert values.shape == ids.shape
