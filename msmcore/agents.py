"""Agent sets: point sets whose members change during a run, each with a stable id.

An :class:`AgentSet` belongs to one component (declared by
:meth:`msmcore.Component.declare_agent_sets`). Its agents are born (:meth:`AgentSet.add`,
:meth:`AgentSet.divide`) and die (:meth:`AgentSet.remove`); every agent has an
``int64`` id that is never reused in the run. The current agents are listed in
ascending id order (:attr:`AgentSet.ids`), which is the row order of every
per-agent array: ports declared with ``agents=<set>`` have one row per agent.

When membership changes, an :class:`AgentChange` says how the rows of the old
order become those of the new one: survivors keep their values, dead agents drop
out, and daughters inherit from their parent, by ``"copy"`` (an intensive value,
e.g. a concentration) or ``"split"`` (an amount, halved between parent and
daughter at each division, so the total is conserved), in the order the divisions
happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from msmcore.errors import ConfigurationError

__all__ = ["INHERIT", "AgentChange", "AgentSet"]

#: How a daughter takes a per-agent value from its parent.
INHERIT = ("copy", "split", "zero")

_ID = np.int64


def _ids(values: Any, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise ConfigurationError(f"{what}: agent ids must be a 1D sequence of integers, got {np.shape(values)} "
                                 f"of dtype {arr.dtype}")
    arr = arr.astype(_ID)
    if np.unique(arr).size != arr.size:
        raise ConfigurationError(f"{what}: the ids {arr.tolist()[:10]} repeat an id; give each agent once")
    return arr


class AgentSet:
    """A set of agents with stable ids, owned by one component.

    Parameters
    ----------
    name
        Name of the set, unique within its component; ports name it with ``agents=``.
    dim
        Spatial dimension of the agents' positions (1, 2 or 3).

    Attributes
    ----------
    version : int
        Increases on every membership change (and on a restore).
    """

    def __init__(self, name: str, dim: int = 3) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigurationError(f"agent set name {name!r}: use letters, digits and '_' (e.g. 'cells')")
        if isinstance(dim, bool) or dim not in (1, 2, 3):
            raise ConfigurationError(f"agent set '{name}': dim must be 1, 2 or 3, got {dim!r}")
        self.name = name
        self.dim = int(dim)
        self.version = 0
        self._ids = np.zeros(0, dtype=_ID)
        self._next = 0
        # every birth of the run, in id (= time) order: daughter ids and their parents (-1: none)
        self._born = np.zeros(0, dtype=_ID)
        self._parent = np.zeros(0, dtype=_ID)

    # -- what it holds -----------------------------------------------------------
    @property
    def ids(self) -> np.ndarray:
        """The current agents' ids, ascending (read-only ``int64``): the row order of per-agent arrays."""
        view = self._ids.view()
        view.flags.writeable = False
        return view

    @property
    def count(self) -> int:
        """Number of agents now."""
        return int(self._ids.size)

    @property
    def next_id(self) -> int:
        """The id the next new agent gets."""
        return self._next

    def index_of(self, ids: Any) -> np.ndarray:
        """Rows (positions in :attr:`ids`) of the given agents.

        Raises
        ------
        ConfigurationError
            An id that is not a current agent of the set.
        """
        wanted = np.asarray(ids, dtype=_ID).reshape(-1)
        if wanted.size == 0:
            return np.zeros(0, dtype=np.int64)
        rows = np.minimum(np.searchsorted(self._ids, wanted), max(self._ids.size - 1, 0))
        bad = np.ones(wanted.shape, dtype=bool) if self._ids.size == 0 else self._ids[rows] != wanted
        if np.any(bad):
            raise ConfigurationError(f"agent set '{self.name}': no current agent with id(s) "
                                     f"{wanted[bad].tolist()[:10]} (it holds {self.count} agents)")
        return rows.astype(np.int64)

    def parent_of(self, ids: Any) -> np.ndarray:
        """Parent id of each given agent (``-1`` for one added without a parent)."""
        wanted = np.asarray(ids, dtype=_ID).reshape(-1)
        rows = np.searchsorted(self._born, wanted)
        rows = np.minimum(rows, max(self._born.size - 1, 0))
        out = np.full(wanted.shape, -1, dtype=_ID)
        if self._born.size:
            hit = self._born[rows] == wanted
            out[hit] = self._parent[rows[hit]]
        return out

    # -- membership ---------------------------------------------------------------
    def add(self, n: int) -> np.ndarray:
        """Add ``n`` new agents (no parent); returns their ids."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ConfigurationError(f"agent set '{self.name}': add(n) needs a whole number n >= 0, got {n!r}")
        return self._born_from(np.full(int(n), -1, dtype=_ID))

    def divide(self, parent_ids: Iterable[int] | np.ndarray) -> np.ndarray:
        """One daughter per given parent (each a current agent); returns the daughters' ids, in that order.

        The parents stay; per-agent values are inherited when the coupling
        carries arrays over (see :class:`AgentChange`).
        """
        parents = _ids(parent_ids, f"agent set '{self.name}': divide()")
        self.index_of(parents)
        return self._born_from(parents)

    def remove(self, ids: Iterable[int] | np.ndarray) -> None:
        """Remove the given current agents (they die; their ids are never used again)."""
        gone = _ids(ids, f"agent set '{self.name}': remove()")
        if gone.size == 0:
            return
        rows = self.index_of(gone)
        keep = np.ones(self._ids.size, dtype=bool)
        keep[rows] = False
        self._ids = self._ids[keep]
        self.version += 1

    def _born_from(self, parents: np.ndarray) -> np.ndarray:
        new = np.arange(self._next, self._next + parents.size, dtype=_ID)
        if new.size == 0:
            return new
        self._next += int(parents.size)
        self._ids = np.concatenate([self._ids, new])  # new ids are the largest: the order stays ascending
        self._born = np.concatenate([self._born, new])
        self._parent = np.concatenate([self._parent, parents])
        self.version += 1
        return new

    # -- changes ---------------------------------------------------------------
    def change_since(self, old_ids: np.ndarray, old_next_id: int) -> AgentChange:
        """What happened between a past membership (its ids and next id) and now."""
        lo = int(np.searchsorted(self._born, old_next_id))
        return AgentChange(self.name, np.asarray(old_ids, dtype=_ID).copy(), self._ids.copy(),
                           self._born[lo:].copy(), self._parent[lo:].copy())

    # -- state ---------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The set's state (ids, next id, birth record), for snapshots."""
        return {"ids": self._ids.copy(), "next": self._next, "born": self._born.copy(),
                "parent": self._parent.copy()}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state`; :attr:`version` increases (arrays must follow)."""
        try:
            ids, nxt, born, parent = state["ids"], state["next"], state["born"], state["parent"]
        except (KeyError, TypeError):
            raise ConfigurationError(f"agent set '{self.name}': not a state from AgentSet.state()") from None
        self._ids = np.asarray(ids, dtype=_ID).copy()
        self._next = int(nxt)
        self._born = np.asarray(born, dtype=_ID).copy()
        self._parent = np.asarray(parent, dtype=_ID).copy()
        self.version += 1

    def __repr__(self) -> str:
        return f"AgentSet({self.name!r}, dim={self.dim}, count={self.count}, next_id={self._next})"


@dataclass(frozen=True)
class AgentChange:
    """How an agent set's membership changed: old order -> new order.

    Attributes
    ----------
    set
        Name of the agent set.
    old_ids, new_ids
        Ids before and after (ascending).
    born, parents
        Every agent born in between (ascending id, i.e. in the order of the
        births), with its parent (``-1``: none); some may have died again.
    """

    set: str
    old_ids: np.ndarray
    new_ids: np.ndarray
    born: np.ndarray
    parents: np.ndarray

    @property
    def died(self) -> np.ndarray:
        """Ids present before and gone now."""
        return np.setdiff1d(self.old_ids, self.new_ids, assume_unique=True)

    def carry(self, values: np.ndarray, inherit: str | np.ndarray = "copy", fill: float = 0.0) -> np.ndarray:
        """Per-agent ``values`` (rows in the old order) laid out in the new order.

        Survivors keep their rows, dead agents' rows are dropped, and each
        daughter inherits from its parent as the divisions happened:
        ``"copy"`` (the daughter gets the parent's value), ``"split"`` (parent
        and daughter get half each: the sum over the family is conserved) or
        ``"zero"`` (the daughter gets ``fill``). ``inherit`` may be one mode for
        all columns, or an array of modes, one per column of a 2D ``values``.
        Agents born without a parent get ``fill``.
        """
        values = np.asarray(values)
        if values.shape[:1] != self.old_ids.shape:
            raise ConfigurationError(f"agent set '{self.set}': {values.shape[0] if values.ndim else 0} rows of "
                                     f"per-agent values for {self.old_ids.size} agents")
        modes = np.asarray(inherit)
        for m in np.unique(modes):
            if m not in INHERIT:
                raise ConfigurationError(f"agent set '{self.set}': unknown inheritance {m!r}; use one of {INHERIT}")
        if modes.ndim == 1 and (values.ndim != 2 or modes.size != values.shape[1]):
            raise ConfigurationError(f"agent set '{self.set}': {modes.size} inheritance modes for values of shape "
                                     f"{values.shape}; give one per column")
        work = np.concatenate([values, np.full((self.born.size, *values.shape[1:]), fill, dtype=values.dtype)])
        union = np.concatenate([self.old_ids, self.born])
        order = np.argsort(union, kind="stable")
        sorted_union = union[order]
        if self.born.size:
            prow = np.searchsorted(sorted_union, self.parents)
            prow = np.minimum(prow, sorted_union.size - 1)
            known = (self.parents >= 0) & (sorted_union[prow] == self.parents)
            split = modes == "split"
            copy = modes == "copy"
            for k, b in enumerate(range(self.old_ids.size, union.size)):
                if not known[k]:
                    continue
                p = order[prow[k]]
                if modes.ndim == 0:
                    if split:
                        work[p] = work[p] / 2
                        work[b] = work[p]
                    elif copy:
                        work[b] = work[p]
                else:
                    work[p, split] = work[p, split] / 2
                    work[b, split | copy] = work[p, split | copy]
        at = np.minimum(np.searchsorted(sorted_union, self.new_ids), max(sorted_union.size - 1, 0))
        unknown = self.new_ids[sorted_union[at] != self.new_ids] if sorted_union.size else self.new_ids
        if unknown.size:
            raise ConfigurationError(f"agent set '{self.set}': agents {unknown.tolist()[:10]} are neither in the old "
                                     "membership nor born since it; the values cannot be carried over (a restored "
                                     "set whose arrays were not restored with it?)")
        return np.ascontiguousarray(work[order[at]])
