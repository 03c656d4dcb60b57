"""Where components run: the parent communicator and each component's ranks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from msmcore.errors import ConfigurationError

__all__ = ["parent_comm", "resolve_ranks"]


def parent_comm(comm: Any) -> Any:
    """The coupling's parent communicator: the given one, or ``MPI.COMM_WORLD``."""
    from mpi4py import MPI  # imported here: `import msmcore` stays light

    if comm is None:
        return MPI.COMM_WORLD
    if hasattr(comm, "tompi4py"):  # a PETSc communicator
        return comm.tompi4py()
    return comm


def resolve_ranks(name: str, ranks: Iterable[int] | int | None, nprocs: int | None, size: int) -> tuple[int, ...]:
    """The parent ranks component ``name`` runs on.

    ``ranks`` (a list, a range or one rank) wins; else ``nprocs`` ranks counted
    from 0; else every rank.
    """
    if ranks is not None and nprocs is not None:
        raise ConfigurationError(f"component '{name}': give ranks= or nprocs=, not both")
    if ranks is None:
        chosen = tuple(range(nprocs if nprocs is not None else size))
    elif isinstance(ranks, (int, np.integer)):
        chosen = (int(ranks),)
    else:
        chosen = tuple(int(r) for r in ranks)
    if not chosen:
        raise ConfigurationError(f"component '{name}' is placed on no rank")
    bad = [r for r in chosen if not 0 <= r < size]
    if bad or len(set(chosen)) != len(chosen):
        raise ConfigurationError(
            f"component '{name}' is placed on ranks {list(chosen)}, but the coupling's communicator has "
            f"{size} rank(s) (0..{size - 1}) and each rank may appear once; run with more ranks "
            "(mpiexec -n N) or change ranks=/nprocs="
        )
    return chosen
