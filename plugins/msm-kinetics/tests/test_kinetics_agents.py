"""``kinetics.network`` with ``agents=``: one network per agent, state following the agents.

Reference: the network ``A -> B`` at rate ``k A`` integrated by explicit Euler with
step ``dt`` has the exact discrete solution ``A_n = A_0 (1 - k dt)^n``, ``A + B``
constant (a linear recursion; e.g. Hairer, Nørsett & Wanner, *Solving ODEs I*, §II.1).
Because the recursion is linear and the same in every agent, splitting at a
division (both halves follow the same recursion) conserves the sum over agents:
``sum A = N_0 (1 - k dt)^n`` however the agents divide; copying gives every agent
``A_n`` itself. Dead agents take their amounts with them.
"""

from __future__ import annotations

import numpy as np
import pytest
from msm_kinetics.network import Network

import msmcore as msm

MODEL = "J: A -> B; k*A; k = 0.5; A = 1; B = 0"
DT, K = 0.01, 0.5


class Cells(msm.Component):
    """4 agents; at step k those with ``id % 3 == k % 3`` divide (up to ``cap``); ids in ``dying`` die."""

    dt = msm.Setting(float, default=DT)
    cap = msm.Setting(int, default=30)
    dying = msm.Setting(tuple, default=())

    state_attributes = ("steps",)

    def declare_agent_sets(self) -> list[msm.AgentSet]:
        return [msm.AgentSet("cells", dim=2)]

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.input("species_in", agents="cells", components=2, required=False)]

    def initialize(self) -> None:
        self.steps = 0
        self.agent_set("cells").add(4)

    def step(self, dt: float) -> None:
        self.steps += 1
        cells = self.agent_set("cells")
        if self.steps % 10 == 0:
            ids = cells.ids
            cells.divide(ids[ids % 3 == (self.steps // 10) % 3][: max(self.cap - cells.count, 0)])
            cells.remove([i for i in self.dying if i in cells.ids])


def _run(inherit, until: float = 0.5, **cells) -> tuple[Cells, Network]:
    c = msm.Coupling()
    col = c.add("cells", Cells, **cells)
    net = c.add("net", "kinetics.network", model=MODEL, dt=DT, agents="cells", inherit=inherit)
    c.connect("net.state_out", "cells.species_in")  # binds the network to the cells' agents
    c.run(until=until, scheme=msm.Serial(order=["cells", "net"]), quiet=True)
    return col, net


def test_split_conserves_amounts_over_divisions() -> None:
    col, net = _run("split", until=0.45)  # divisions at steps 10, 20, 30, 40
    n = round(0.45 / DT)
    cells = col.agent_set("cells")
    assert cells.count > 8 and net.state.shape == (cells.count, 2)
    a_n = (1 - K * DT) ** n
    # sum over agents follows the single-network recursion (rel 1e-12: round-off of 50 steps and halvings)
    assert net.state[:, 0].sum() == pytest.approx(4 * a_n, rel=1e-12)
    assert net.state.sum() == pytest.approx(4.0, rel=1e-12)
    # the cells receive each agent's own network state (delivered at the start of the last window, before
    # the network's last step; no division in it): per agent, the state one Euler step back
    got = col.port_array("species_in")
    np.testing.assert_allclose(got[:, 0] * (1 - K * DT), net.state[:, 0], rtol=1e-12)


def test_copy_inherits_concentrations() -> None:
    col, net = _run("copy")
    n = round(0.5 / DT)
    np.testing.assert_allclose(net.state[:, 0], (1 - K * DT) ** n, rtol=1e-12)
    np.testing.assert_allclose(net.state.sum(axis=1), 1.0, rtol=1e-12)


def test_mixed_inheritance_and_dead_agents_drop() -> None:
    # at step 10 agent 1 divides (daughter 4 takes half its A) and then dies with the other half:
    # from then on the agents hold 3.5 founders' worth of A, each half following the same recursion
    col, net = _run({"A": "split"}, dying=(1,))  # B copies
    cells = col.agent_set("cells")
    assert 1 not in cells.ids and 4 in cells.ids and net.state.shape[0] == cells.count
    n = round(0.5 / DT)
    assert net.state[:, 0].sum() == pytest.approx(3.5 * (1 - K * DT) ** n, rel=1e-12)
    assert np.all(net.state[:, 1] >= 0)


def test_agents_setting_is_checked() -> None:
    with pytest.raises(msm.ConfigurationError, match="give no 'shape'"):
        Network(model=MODEL, dt=DT, agents="cells", shape=(3,))
    with pytest.raises(msm.ConfigurationError, match="not species of the model"):
        Network(model=MODEL, dt=DT, agents="cells", inherit={"C": "split"})
    with pytest.raises(msm.ConfigurationError, match="inherit"):
        Network(model=MODEL, dt=DT, agents="cells", inherit="halve")


def test_per_agent_network_restores_bit_for_bit(tmp_path) -> None:
    def build() -> tuple[msm.Coupling, Cells, Network]:
        c = msm.Coupling()
        col = c.add("cells", Cells)
        net = c.add("net", "kinetics.network", model=MODEL, dt=DT, agents="cells", inherit="split",
                    method="bdf", rtol=1e-8)
        c.connect("net.state_out", "cells.species_in")
        return c, col, net

    scheme = msm.Serial(order=["cells", "net"])
    c, col, net = build()
    c.run(until=0.4, scheme=scheme, quiet=True)
    want = net.state.copy()
    c2, _, _ = build()
    c2.run(until=0.2, scheme=scheme, quiet=True, checkpoint=msm.Checkpoints(every=0.05, path=tmp_path / "ck"))
    c3, col3, net3 = build()
    c3.run(until=0.4, scheme=scheme, quiet=True, resume=tmp_path / "ck")
    assert net3.state.shape == want.shape and net3.state.tobytes() == want.tobytes()
    # and BDF agrees with the exact solution A = exp(-k t) per unit of founder amount (split: sum)
    assert net3.state[:, 0].sum() == pytest.approx(4 * np.exp(-K * 0.4), rel=1e-6)
