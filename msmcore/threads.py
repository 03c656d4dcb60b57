"""BLAS/OpenMP thread pools per MPI rank: ranks x threads <= cores.

OpenBLAS (numpy's, SciPy's, PETSc's), MKL and OpenMP runtimes start one thread per
CPU a process may use. Under an MPI launcher that binds each rank to its own core
(Open MPI's default for up to 2 ranks) that is one thread per rank; but where the
ranks are not bound (``mpiexec -n 3`` on 2 cores, ``--bind-to none``, many batch
launchers) every rank starts a pool as large as the node, and their busy-waiting
threads fight over the cores: 300 products of 256 x 256 matrices on 2 unbound ranks
of a 2-core machine took 12-28 s with the default 2 threads per rank and 0.9-1.5 s
with one (docs/benchmarks.md).

:func:`limit_threads` (called by :meth:`msmcore.Coupling.run` on every rank when the
coupling spans more than one rank) caps the pools at
``min(CPUs this rank may use, CPUs of the node // ranks on the node)``, at least 1,
through ``threadpoolctl`` for the libraries already loaded, and sets
``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS``/``MKL_NUM_THREADS`` for those loaded
later; a torch already imported gets ``torch.set_num_threads``. It logs what it did
at INFO on the first rank. The user's choice wins: nothing is changed when any of
:data:`THREAD_ENV` is set, and ``MSM_THREADS_PER_RANK`` (a number, or ``off``) sets the
cap or turns the limit off. A serial run keeps the libraries' defaults.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from msmcore.errors import ConfigurationError

__all__ = ["SETTING_ENV", "THREAD_ENV", "limit_threads", "threads_per_rank"]

logger = logging.getLogger(__name__)

#: Environment variables through which a user already chose thread counts (any one set: left alone).
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS")
#: msmcore's own switch: threads per rank (a whole number >= 1), or ``off``.
SETTING_ENV = "MSM_THREADS_PER_RANK"
_OURS: dict[str, str] = {}  # the THREAD_ENV values limit_threads set itself (not the user's choice)


def threads_per_rank(own_cpus: int, node_cpus: int, local_ranks: int) -> int:
    """Threads one rank may use: ``min(own_cpus, node_cpus // local_ranks)``, at least 1.

    ``own_cpus`` are the CPUs in this rank's affinity mask (1 when the launcher bound it
    to a core), ``node_cpus`` those of the node, ``local_ranks`` the ranks on the node.
    """
    return max(1, min(own_cpus, node_cpus // max(local_ranks, 1)))


def _cpus() -> tuple[int, int]:
    """``(CPUs this process may run on, CPUs of the node)``."""
    node = os.cpu_count() or 1
    try:
        own = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        own = node
    return own, node


def _requested() -> int | None | str:
    """The cap the environment asks for: a number, ``"off"``, ``"user"`` (a THREAD_ENV set) or ``None``."""
    value = os.environ.get(SETTING_ENV, "").strip().lower()
    if value in ("off", "0", "no", "false"):
        return "off"
    if value not in ("", "auto"):
        try:
            n = int(value)
        except ValueError:
            n = 0
        if n < 1:
            raise ConfigurationError(f"{SETTING_ENV}={os.environ[SETTING_ENV]!r}: give a whole number of threads "
                                     "per rank >= 1, 'auto' or 'off'")
        return n
    if any(os.environ.get(name, "").strip() not in ("", _OURS.get(name)) for name in THREAD_ENV):
        return "user"
    return None


def _pools() -> list[dict[str, Any]]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return list(threadpool_info())


def limit_threads(comm: Any) -> int | None:
    """Cap the BLAS/OpenMP pools of this rank so that the ranks on a node do not oversubscribe its cores.

    Collective on ``comm`` (an mpi4py communicator) when it has more than one rank;
    returns the cap applied, or ``None`` when nothing was changed (serial run, the
    user's environment decides, or the pools are already within the cap).
    """
    if comm is None or comm.Get_size() == 1:
        return None
    from mpi4py import MPI

    node = comm.Split_type(MPI.COMM_TYPE_SHARED)
    local = node.Get_size()
    node.Free()
    wish = _requested()
    first = comm.Get_rank() == 0
    if wish in ("off", "user"):
        if first:
            logger.debug("thread pools left alone (%s)", "MSM_THREADS_PER_RANK=off" if wish == "off"
                         else "a *_NUM_THREADS variable is set")
        return None
    own, cpus = _cpus()
    cap = wish if isinstance(wish, int) else threads_per_rank(own, cpus, local)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = _OURS[name] = str(cap)  # for libraries loaded later (none was the user's)
    pools = _pools()
    before = max((p["num_threads"] for p in pools), default=0)
    torch: Any = sys.modules.get("torch")
    torch_before = int(torch.get_num_threads()) if torch is not None and hasattr(torch, "get_num_threads") else 0
    changed = False
    if before > cap:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=cap)
        changed = True
    if torch_before > cap:
        torch.set_num_threads(cap)
        changed = True
    if first and changed:
        logger.info("%d MPI ranks share %d CPUs on this node (this rank may use %d): BLAS/OpenMP thread pools "
                    "limited to %d per rank (were up to %d); set %s or OMP_NUM_THREADS to choose",
                    local, cpus, own, cap, max(before, torch_before), SETTING_ENV)
    return cap if changed else None
