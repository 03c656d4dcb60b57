"""Exchange cost in-process: an msmcore transfer against numpy and PETSc copies.

For 100 doubles and for 80 MB (10^7 doubles), in the same run:

* ``numpy``: ``np.copyto(dst, src)``, the floor for moving bytes in Python;
* ``VecCopy``: ``PETSc.Vec.copy`` between two Vecs;
* ``msmcore``: ``Transfer.apply()`` of a connection between two components'
  port arrays (a PETSc Scatter over the components' own memory).

Prints one JSON line; ``benchmarks/run.py`` turns it into the table in
docs/benchmarks.md.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from petsc4py import PETSc

from msmcore.field import Field
from msmcore.ports import FieldSpec
from msmcore.transfer import Transfer

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import machine, median_seconds  # noqa: E402


def measure(n: int, number: int, repeat: int) -> dict[str, float]:
    """Median seconds per exchange of ``n`` doubles, for each method."""
    spec = FieldSpec((n,))
    src_arr, dst_arr = np.random.default_rng(0).random(n), np.zeros(n)
    src, dst = Field(src_arr, spec, "a.out"), Field(dst_arr, spec, "b.in")
    transfer = Transfer(src, dst)
    x, y = PETSc.Vec().createSeq(n), PETSc.Vec().createSeq(n)
    x.setArray(src_arr)
    out = {
        "numpy_s": median_seconds(lambda: np.copyto(dst_arr, src_arr), number=number, repeat=repeat),
        "veccopy_s": median_seconds(lambda: x.copy(y), number=number, repeat=repeat),
        "msmcore_s": median_seconds(transfer.apply, number=number, repeat=repeat),
    }
    assert np.array_equal(dst_arr, src_arr)
    for obj in (transfer, src, dst, x, y):
        obj.destroy()
    return out


def main() -> None:
    small = measure(100, number=20000, repeat=15)
    large = measure(10_000_000, number=5, repeat=9)
    print(json.dumps({"machine": machine(), "small_100": small, "large_80MB": large}))


if __name__ == "__main__":
    main()
