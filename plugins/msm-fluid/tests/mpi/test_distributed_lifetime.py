"""A coupling with distributed fluid components runs twice, on new communicators, with identical results.

Run under ``mpiexec -n 2`` and ``-n 3`` (and passes on one rank). Every run of a
coupling splits new sub-communicators for its components; fluid.diffusion and
fluid.heat rebuild their grids on them in ``initialize``. The reference for the
second run is the first one (a fresh start must repeat it bit for bit: the
grids are split the same way, so the arithmetic is the same).
"""

from __future__ import annotations

import numpy as np
from mpi4py import MPI
from msm_fluid import Diffusion

import msmcore as msm

WORLD = MPI.COMM_WORLD
HEAT = dict(constants={"alpha": 3.0, "beta": 1.2}, boundary="1 + x**2 + alpha*y**2 + beta*t",
            source="beta - 2 - 2*alpha", dt=0.1, size=(1.0, 1.0), nodes=(9, 7))


class Wall(msm.Component):
    """Test helper: a fixed value for the low face of every axis."""

    value = msm.Setting(float, default=2.0)
    dt = msm.Setting(float, default=0.01)
    state_attributes = ()

    def declare_ports(self) -> list[msm.Port]:
        return [msm.Port.output("v_out", 2)]

    def initialize(self) -> None:
        self.port_array("v_out")[...] = self.value

    def step(self, dt: float) -> None:
        pass


class RecordingDiffusion(Diffusion):
    """fluid.diffusion that records the communicator each initialize() gets."""

    comms: list = []

    def initialize(self) -> None:
        type(self).comms.append(self.comm)
        super().initialize()


def test_the_same_coupling_runs_twice_with_identical_results() -> None:
    RecordingDiffusion.comms = []
    c = msm.Coupling()
    c.add("wall", Wall, ranks=[0])
    c.add("d", RecordingDiffusion, shape=(10, 6), spacing=0.1, D=1.0, dt=0.01, method="implicit",
          boundary="dirichlet", ksp_rtol=1e-13, initial_points={(4, 3): 5.0})
    c.add("h", "fluid.heat", **HEAT)
    c.connect("wall.v_out", "d.boundary_low_in")
    diffusion = c.components["d"]
    first = c.run(until=0.1, scheme=msm.Serial(window=0.02), quiet=True)
    if diffusion.comm is not None and diffusion.comm != MPI.COMM_NULL:
        diffusion.comm.Free()  # as the coupling does after finalize: nothing of the first run may still use it
    second = c.run(until=0.1, scheme=msm.Serial(window=0.02), quiet=True)
    assert len(RecordingDiffusion.comms) == 2
    if WORLD.Get_size() > 1:
        assert RecordingDiffusion.comms[1] is not RecordingDiffusion.comms[0]  # a new communicator
    for name in ("d", "h"):
        for port, values in first[name].data_vars.items():
            np.testing.assert_array_equal(second[name][port].values, values.values, err_msg=f"{name}.{port}")
    u = first["d"]["state_out"].values
    assert np.all(u[1:, 0, 1:-1] == 2.0)  # the wall's value (sent from rank 0) held on the low x face
    assert np.ptp(u[-1, 1:-1, 1:-1]) > 1e-3  # and the interior diffused
    # after the run the port array still holds this rank's box of the last state
    last = second["d"]["state_out"].values[-1].reshape(-1)
    np.testing.assert_array_equal(diffusion.port_array("state_out").reshape(-1),
                                  last[diffusion.port_indices("state_out")])
