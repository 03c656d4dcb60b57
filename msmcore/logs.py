"""Logging under MPI: informational messages from rank 0 only, warnings from every rank labelled.

``msm`` installs :class:`RankFilter` on its handler; a Python user does the same::

    import logging
    from msmcore.logs import RankFilter

    handler = logging.StreamHandler()
    handler.addFilter(RankFilter())
    handler.setFormatter(logging.Formatter("%(rankprefix)s%(levelname)s: %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)

The rank is found without starting MPI (:func:`process_rank`): through mpi4py
only when the program has already imported it, else from the variables the
common launchers set (``OMPI_COMM_WORLD_RANK``, ``PMI_RANK``, ``PMIX_RANK``).
"""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["RANK_VARIABLES", "RankFilter", "process_rank"]

#: Environment variables launchers (Open MPI, MPICH/Hydra, PMIx) set to the process's rank.
RANK_VARIABLES = ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK")


def process_rank() -> int:
    """This process's rank in ``MPI.COMM_WORLD`` (0 when not under MPI); never initialises MPI."""
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None:
        try:
            if mpi.Is_initialized() and not mpi.Is_finalized():
                return int(mpi.COMM_WORLD.Get_rank())
        except Exception:  # noqa: BLE001, S110 - fall back to the environment
            pass
    for name in RANK_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return 0


class RankFilter(logging.Filter):
    """Pass records below ``WARNING`` on rank 0 only, and label the others' records with their rank.

    Every record that passes gets two attributes for a formatter:
    ``rank`` (an int) and ``rankprefix`` (``""`` on rank 0, ``"[rank N] "``
    elsewhere).

    Parameters
    ----------
    rank
        This process's rank; found with :func:`process_rank` when ``None``.
    everything
        Pass records of every level from every rank (for ``--debug``); they
        are still labelled.
    """

    def __init__(self, rank: int | None = None, *, everything: bool = False) -> None:
        super().__init__()
        self.rank = process_rank() if rank is None else int(rank)
        self.everything = everything

    @property
    def prefix(self) -> str:
        """``"[rank N] "`` on ranks other than 0, else ``""``."""
        return f"[rank {self.rank}] " if self.rank else ""

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` is shown on this rank; sets ``record.rank`` and ``record.rankprefix``."""
        if self.rank != 0 and record.levelno < logging.WARNING and not self.everything:
            return False
        record.rank = self.rank
        record.rankprefix = self.prefix
        return True
