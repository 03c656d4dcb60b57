"""The whole array of a distributed component's port, assembled on every rank (for the MPI tests)."""

from __future__ import annotations

from typing import Any

import numpy as np
from mpi4py import MPI


def gather_port(comp: Any, port: str) -> np.ndarray:
    """The global array of ``port``, from every rank's ``(port_indices, values)`` over ``comp.comm``;
    asserts that the ranks' indices cover every global index exactly once."""
    comm = comp.comm if comp.comm is not None else MPI.COMM_SELF
    spec = comp.port(port).spec
    out = np.full(spec.size, np.nan)
    seen = np.zeros(spec.size, dtype=np.int64)
    for idx, vals in comm.allgather((comp.port_indices(port), comp.port_array(port).reshape(-1).copy())):
        assert idx.dtype == np.int64 and idx.shape == vals.shape
        out[idx] = vals
        np.add.at(seen, idx, 1)
    assert np.all(seen == 1), "port_indices must cover every global index exactly once"
    return out.reshape(spec.array_shape)
