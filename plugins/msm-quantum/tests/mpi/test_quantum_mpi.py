"""quantum.scf under mpiexec: on rank 0 of its ranks, coupled to a component on other ranks.

Run under ``mpiexec -n 2`` (and ``-n 3``; passes on one rank). The reference is the same SCF on
``COMM_SELF``, computed on every rank; the coupled values must match it exactly (same inputs, same
guess sequence) after the unit conversions (CODATA 2018 factors, 1e-12 relative).
"""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI
from msm_quantum import QuantumSCF

import msmcore as msm

WORLD = MPI.COMM_WORLD
pytestmark = pytest.mark.slow  # every rank imports PySCF (~2-20 s on 2 busy cores)
BOHR_NM = 0.0529177210903
EH_KJMOL = 2625.4996394799
R, ANGLE = 1.809, np.deg2rad(104.52)
WATER = [["O", 0.0, 0.0, 0.0], ["H", R, 0.0, 0.0], ["H", R * np.cos(ANGLE), R * np.sin(ANGLE), 0.0]]


class Positions(msm.Component):
    """The QM water's positions in nm; reads the QM energy in kJ/mol."""

    dt = msm.Setting(float, default=1.0)
    state_attributes = ()

    def declare_ports(self):
        return [msm.Port.output("x_out", 3, components=3, units="nm"),
                msm.Port.input("e_in", 1, units="kJ/mol", required=False)]

    def initialize(self):
        if self.port_array("x_out").size:
            self.port_array("x_out")[...] = (np.array([a[1:] for a in WATER]) + [0.05, 0.0, 0.0]) * BOHR_NM

    def step(self, dt):
        pass


@pytest.mark.parametrize("split", [False, True], ids=["all-ranks", "own-ranks"])
def test_coupled_under_mpi(split):
    size = WORLD.Get_size()
    reference = QuantumSCF("ref", atoms=WATER, units="bohr", threads=1)
    reference.initialize()
    reference.port_array("positions_in")[...] = np.array([a[1:] for a in WATER]) + [0.05, 0.0, 0.0]
    reference.advance(1.0)
    expected = reference.port_array("energy_out")[0] * EH_KJMOL

    c = msm.Coupling(comm=WORLD)
    md = c.add("md", Positions, ranks=[size - 1] if split else None)
    qm = c.add("qm", QuantumSCF, ranks=[0] if split else None, atoms=WATER, units="bohr", threads=1)
    c.connect("md.x_out", "qm.positions_in")
    c.connect("qm.energy_out", "md.e_in")
    c.run(until=2.0, scheme=msm.Serial(window=1.0, order=["qm", "md"]), quiet=True)
    rank = WORLD.Get_rank()
    md_holder = c.placement["md"][0]  # rank 0 of md's ranks holds its values
    if rank == md_holder:
        assert md.port_array("e_in")[0] == pytest.approx(expected, rel=1e-12)
    computed = bool(qm.scf_info) and rank in c.placement["qm"]
    assert WORLD.allgather(computed) == [r == 0 for r in range(size)]  # exactly rank 0 ran the SCF
