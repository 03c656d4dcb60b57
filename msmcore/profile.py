"""Profiling: per-component, per-rank events of a run, their totals, and a timeline.

Every run records, on every rank, what each component spent its wall-clock time
on — one *event* per ``initialize``, ``advance``, ``receive``, transfer into its
inputs, wait for other ranks, ``save_state``/``restore_state``, checkpoint and
``finalize`` — with its start and end (seconds since the run started) and the
component's simulation time. An :class:`EventLog` records them during the run
at a few hundred nanoseconds each: five numbers appended to preallocated NumPy
arrays, no object per event. After the run the logs of all ranks are gathered
into a :class:`Profile` (every rank gets them, as it gets the results), which
gives them as a table (:meth:`Profile.table`), adds them up per component
(:meth:`Profile.totals`), including the *framework overhead* — the wall time no
component accounts for — and draws a timeline (:meth:`Profile.timeline`).

Events never overlap on a rank, so the totals of all components plus the
overhead are the run's wall time. A run records at most ``max_events`` events
per rank; those beyond are only summed, per component and kind, into one row
each (its ``count`` says how many events it holds), so the totals stay complete
while memory stays bounded.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from msmcore.errors import ConfigurationError, MSMError

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

__all__ = [
    "CATEGORIES",
    "COUPLING",
    "DEFAULT_MAX_EVENTS",
    "KINDS",
    "OVERHEAD",
    "PHASES",
    "EventLog",
    "Profile",
    "max_events_for",
]

logger = logging.getLogger(__name__)

#: The kinds of event, in the order of their codes.
KINDS: tuple[str, ...] = ("initialize", "advance", "receive", "transfer", "wait", "save_state", "restore_state",
                          "checkpoint", "finalize")
INITIALIZE, ADVANCE, RECEIVE, TRANSFER, WAIT, SAVE_STATE, RESTORE_STATE, CHECKPOINT, FINALIZE = range(len(KINDS))

#: Which kinds each column of :meth:`Profile.totals` adds up.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "compute": ("initialize", "advance", "receive", "save_state", "restore_state", "finalize"),
    "exchange": ("transfer",),
    "wait": ("wait",),
    "checkpoint": ("checkpoint",),
}

#: The component name of events that belong to the coupling as a whole (e.g. writing a snapshot).
COUPLING = "(coupling)"
#: The row of :meth:`Profile.totals` holding the time no component accounts for.
OVERHEAD = "(framework overhead)"
#: Events kept per run, shared by its ranks (about 29 bytes each); beyond, events are only summed.
DEFAULT_MAX_EVENTS = 2_000_000
#: Version of the NetCDF group written by :meth:`Profile.to_dataset`.
FORMAT_VERSION = 1
#: The parts of a run that :meth:`Profile.overhead_by_phase` tells apart, cut by the marks
#: :meth:`EventLog.mark` sets where the scheme starts and ends its windows.
PHASES: tuple[str, ...] = ("set-up", "windows", "results and clean-up")

_NK = len(KINDS)


def max_events_for(profile: bool | int | None, ranks: int) -> int:
    """The number of events one rank keeps for ``run(profile=...)``.

    Parameters
    ----------
    profile
        ``True`` (or ``None``): the default budget :data:`DEFAULT_MAX_EVENTS`
        shared by the ranks (at least 10,000 each); ``False``: none (only
        totals are kept); an integer: that many per rank.
    ranks
        Ranks of the run.

    Raises
    ------
    ConfigurationError
        When ``profile`` is neither a bool nor a non-negative integer.
    """
    if profile is None or profile is True:
        return max(10_000, DEFAULT_MAX_EVENTS // max(ranks, 1))
    if profile is False:
        return 0
    if isinstance(profile, (int, np.integer)) and profile >= 0:
        return int(profile)
    raise ConfigurationError(f"run(profile=...) must be True, False or a number of events to keep per rank "
                             f"(>= 0), got {profile!r}")


class EventLog:
    """Records one rank's events during a run (the hot path of profiling).

    Parameters
    ----------
    names
        The components (and :data:`COUPLING`), in order: an event names its
        component by index into these (:attr:`index`).
    max_events
        Events kept; those beyond are only summed per component and kind.
    capacity
        Initial size of the arrays (they double as needed, up to ``max_events``).

    Notes
    -----
    Times are ``time.perf_counter()`` values; :meth:`begin` marks the start of
    the run and :meth:`end` its end. :meth:`record` takes an event's start
    and end as measured by the caller, so timing costs two clock reads and one
    call per event.
    """

    def __init__(self, names: Sequence[str], *, max_events: int = DEFAULT_MAX_EVENTS, capacity: int = 4096) -> None:
        self.names = list(names)
        self.index = {name: i for i, name in enumerate(self.names)}
        self.max_events = max(int(max_events), 0)
        self._cap = min(capacity, self.max_events)
        self._comp = np.zeros(self._cap, dtype=np.int32)
        self._kind = np.zeros(self._cap, dtype=np.int8)
        self._start = np.zeros(self._cap)
        self._end = np.zeros(self._cap)
        self._t = np.zeros(self._cap)
        self._n = 0
        size = len(self.names) * _NK
        # events beyond max_events, summed per component * _NK + kind
        self._sum = [0.0] * size
        self._count = [0] * size
        self._first = [math.nan] * size
        self._last = [math.nan] * size
        self._last_t = [math.nan] * size
        self._open: list[Any] | None = None  # [component, kind, segment start, t] of an enclosing event
        self._summing = False  # whether events are being summed (the arrays are full)
        self.origin = time.perf_counter()
        self.epoch = time.time()
        self.stop = math.nan
        self.marks: list[float] = []

    # -- recording ---------------------------------------------------------------------------
    def begin(self) -> None:
        """The run starts now: the origin of its times."""
        self.origin = time.perf_counter()
        self.epoch = time.time()

    def mark(self) -> None:
        """A boundary between two :data:`PHASES` of the run is now (between events)."""
        self.marks.append(time.perf_counter())

    def end(self) -> float:
        """The run ends now; returns its wall time in seconds."""
        if self._open is not None:
            self.close()
        self.stop = time.perf_counter()
        return self.stop - self.origin

    def record(self, comp: int, kind: int, start: float, end: float, t: float) -> None:
        """One event of component ``comp`` (an index into :attr:`names`) from ``start`` to ``end``.

        ``t`` is the component's simulation time when it ended.
        """
        if self._open is not None:
            kind = self._nested(kind, start, end)
        i = self._n
        if i < self._cap:
            self._comp[i] = comp
            self._kind[i] = kind
            self._start[i] = start
            self._end[i] = end
            self._t[i] = t
            self._n = i + 1
        else:
            self._full(comp, kind, start, end, t)

    def _store(self, comp: int, kind: int, start: float, end: float, t: float) -> None:
        i = self._n
        if i < self._cap:
            self._comp[i], self._kind[i], self._start[i], self._end[i], self._t[i] = comp, kind, start, end, t
            self._n = i + 1
        else:
            self._full(comp, kind, start, end, t)

    def _full(self, comp: int, kind: int, start: float, end: float, t: float) -> None:
        """The arrays are full: grow them (up to ``max_events``), or sum the event."""
        if self._cap < self.max_events:
            cap = min(2 * max(self._cap, 1024), self.max_events)
            for attr in ("_comp", "_kind", "_start", "_end", "_t"):
                old = getattr(self, attr)
                new = np.zeros(cap, dtype=old.dtype)
                new[: self._n] = old[: self._n]
                setattr(self, attr, new)
            self._cap = cap
            self._store(comp, kind, start, end, t)
            return
        if self.max_events and not self._summing:
            self._summing = True
            logger.info("profile: %d events recorded; later events are only summed per component and kind "
                        "(run(profile=N) keeps more)", self.max_events)
        j = comp * _NK + kind
        if not self._count[j]:
            self._first[j] = start
        self._count[j] += 1
        self._sum[j] += end - start
        self._last[j] = end
        self._last_t[j] = t

    def _nested(self, kind: int, start: float, end: float) -> int:
        """An event inside an enclosing one: the enclosing one's segment up to it is recorded first."""
        assert self._open is not None
        comp, outer, seg_start, t = self._open
        if start > seg_start:
            self._store(comp, outer, seg_start, start, t)
        self._open[2] = max(end, seg_start)
        if outer == CHECKPOINT and kind in (SAVE_STATE, RESTORE_STATE):
            return CHECKPOINT  # a component's state saved for a snapshot is its checkpoint time
        return kind

    def open(self, comp: int, kind: int, t: float) -> None:
        """Start an enclosing event (e.g. a checkpoint) now; :meth:`close` ends it.

        Events recorded meanwhile cut it into segments, so events never
        overlap; their ``save_state``/``restore_state`` count as ``checkpoint``
        when the enclosing event is one.

        Raises
        ------
        MSMError
            When another enclosing event is still open.
        """
        if self._open is not None:
            raise MSMError(f"profile: cannot start a '{KINDS[kind]}' event of '{self.names[comp]}' inside the "
                           f"open '{KINDS[self._open[1]]}' event of '{self.names[self._open[0]]}'")
        self._open = [comp, kind, time.perf_counter(), t]

    def close(self) -> None:
        """End the enclosing event started by :meth:`open`."""
        if self._open is None:
            return
        comp, kind, seg_start, t = self._open
        self._open = None
        end = time.perf_counter()
        if end > seg_start:
            self._store(comp, kind, seg_start, end, t)

    @contextmanager
    def enclosing(self, comp: int, kind: int, t: float) -> Iterator[None]:
        """:meth:`open` an enclosing event for the ``with`` block, then :meth:`close` it."""
        self.open(comp, kind, t)
        try:
            yield
        finally:
            self.close()

    # -- reading -----------------------------------------------------------------------------
    def sums(self) -> tuple[np.ndarray, np.ndarray]:
        """Seconds and numbers of events per ``(component, kind)``, kept events and summed ones together."""
        n = self._n
        idx = self._comp[:n].astype(np.int64) * _NK + self._kind[:n]
        size = len(self.names) * _NK
        seconds = np.bincount(idx, weights=self._end[:n] - self._start[:n], minlength=size) + np.asarray(self._sum)
        counts = np.bincount(idx, minlength=size) + np.asarray(self._count, dtype=np.int64)
        return seconds.reshape(-1, _NK), counts.reshape(-1, _NK)

    def profile(self, rank: int = 0) -> Profile:
        """This rank's events as a :class:`Profile` (times in seconds since :meth:`begin`)."""
        n = self._n
        summed = [j for j, c in enumerate(self._count) if c]
        comp = np.concatenate([self._comp[:n], np.asarray([j // _NK for j in summed], dtype=np.int32)])
        kind = np.concatenate([self._kind[:n], np.asarray([j % _NK for j in summed], dtype=np.int8)])
        start = np.concatenate([self._start[:n], np.asarray([self._first[j] for j in summed])]) - self.origin
        end = np.concatenate([self._end[:n], np.asarray([self._last[j] for j in summed])]) - self.origin
        duration = np.concatenate([self._end[:n] - self._start[:n], np.asarray([self._sum[j] for j in summed])])
        count = np.concatenate([np.ones(n, dtype=np.int64), np.asarray([self._count[j] for j in summed],
                                                                      dtype=np.int64)])
        t = np.concatenate([self._t[:n], np.asarray([self._last_t[j] for j in summed])])
        stop = self.stop if math.isfinite(self.stop) else time.perf_counter()
        marks = np.full((1, len(PHASES) - 1), math.nan)
        given = np.asarray(self.marks[: marks.shape[1]]) - self.origin
        marks[0, : given.size] = given
        return Profile(self.names, comp, np.full(comp.size, rank, dtype=np.int32), kind, start, end, duration,
                       count, t, wall=np.asarray([stop - self.origin]), offset=np.zeros(1),
                       epoch=self.epoch, max_events=self.max_events, marks=marks)


class Profile:
    """The events of a run on all its ranks (what :attr:`msmcore.Result.profile` shows).

    Parameters
    ----------
    names
        Component names; ``component`` holds indices into them.
    component, rank, kind, start, end, duration, count, t
        One entry per event (or per row of summed events, ``count`` > 1):
        component index, rank, kind (index into :data:`KINDS`), start and end
        in seconds since the run started on its earliest rank, seconds spent,
        number of events, and the component's simulation time at its end.
    wall
        The run's wall time on each rank.
    offset
        When each rank's run started, in seconds after the earliest rank's.
    epoch
        The UNIX time of the earliest rank's start (the origin of ``start``).
    max_events
        Events each rank kept before summing the rest.
    marks
        Per rank, where the scheme started and ended its windows (seconds,
        on the clock of ``start``): the boundaries of :data:`PHASES`.
    """

    def __init__(self, names: Sequence[str], component: np.ndarray, rank: np.ndarray, kind: np.ndarray,
                 start: np.ndarray, end: np.ndarray, duration: np.ndarray, count: np.ndarray, t: np.ndarray, *,
                 wall: np.ndarray, offset: np.ndarray, epoch: float, max_events: int = DEFAULT_MAX_EVENTS,
                 marks: np.ndarray | None = None) -> None:
        self.names = list(names)
        self.component = np.asarray(component, dtype=np.int32)
        self.rank = np.asarray(rank, dtype=np.int32)
        self.kind = np.asarray(kind, dtype=np.int8)
        self.start = np.asarray(start, dtype=float)
        self.end = np.asarray(end, dtype=float)
        self.duration = np.asarray(duration, dtype=float)
        self.count = np.asarray(count, dtype=np.int64)
        self.t = np.asarray(t, dtype=float)
        self.wall = np.asarray(wall, dtype=float)
        self.offset = np.asarray(offset, dtype=float)
        self.epoch = float(epoch)
        self.max_events = int(max_events)
        self.marks = np.full((self.wall.size, len(PHASES) - 1), math.nan) if marks is None else \
            np.asarray(marks, dtype=float).reshape(self.wall.size, len(PHASES) - 1)

    def __len__(self) -> int:
        return int(self.component.size)

    @property
    def ranks(self) -> int:
        """Number of ranks of the run."""
        return int(self.wall.size)

    @property
    def wall_s(self) -> float:
        """Wall time of all ranks together (rank-seconds; the run's wall time on one rank)."""
        return float(self.wall.sum())

    # -- MPI -----------------------------------------------------------------------------------
    @classmethod
    def gather(cls, comm: Any, local: Profile) -> Profile:
        """Collective: every rank's :class:`Profile` into one, on every rank.

        Times are put on one clock: each rank's run start as UNIX time
        (``epoch``) gives its offset from the earliest rank's.
        """
        parts: list[Profile] = comm.allgather(local)
        epoch = min(p.epoch for p in parts)
        offsets = [p.epoch - epoch for p in parts]

        def cat(attr: str, shift: bool = False) -> np.ndarray:
            return np.concatenate([getattr(p, attr) + (o if shift else 0.0) for p, o in
                                   zip(parts, offsets, strict=True)])

        return cls(local.names, cat("component"), np.concatenate([np.full(len(p), r, dtype=np.int32)
                                                                  for r, p in enumerate(parts)]),
                   cat("kind"), cat("start", True), cat("end", True), cat("duration"), cat("count"), cat("t"),
                   wall=np.concatenate([p.wall for p in parts]), offset=np.asarray(offsets), epoch=epoch,
                   max_events=local.max_events,
                   marks=np.concatenate([p.marks + o for p, o in zip(parts, offsets, strict=True)]))

    # -- views -----------------------------------------------------------------------------------
    def table(self) -> pd.DataFrame:
        """The events as a ``pandas.DataFrame``, one row each, per rank in the order they happened.

        Columns: ``component``, ``rank``, ``kind``, ``start``, ``end``,
        ``duration`` (seconds; ``start``/``end`` since the run started on its
        earliest rank), ``t`` (the component's simulation time at the event's
        end) and ``count`` (1; more in the rows that sum the events beyond
        ``max_events``, which come last on their rank).
        """
        import pandas as pd

        order = np.lexsort((np.arange(len(self)), self.rank))  # rank-major, recorded order within a rank
        return pd.DataFrame({
            "component": pd.Categorical.from_codes(self.component[order], categories=self.names),
            "rank": self.rank[order],
            "kind": pd.Categorical.from_codes(self.kind[order], categories=list(KINDS)),
            "start": self.start[order],
            "end": self.end[order],
            "duration": self.duration[order],
            "t": self.t[order],
            "count": self.count[order],
        })

    def seconds(self) -> np.ndarray:
        """Seconds per ``(component, rank, kind)``: an array of shape ``(components, ranks, kinds)``."""
        idx = (self.component.astype(np.int64) * self.ranks + self.rank) * _NK + self.kind
        flat = np.bincount(idx, weights=self.duration, minlength=len(self.names) * self.ranks * _NK)
        return flat.reshape(len(self.names), self.ranks, _NK)

    def overhead(self) -> np.ndarray:
        """Per rank: its wall time minus the time of all its events (what the framework itself took)."""
        return self.wall - self.seconds().sum(axis=(0, 2))

    def overhead_by_phase(self) -> dict[str, float]:
        """The framework overhead, summed over ranks, split into :data:`PHASES`.

        ``set-up``: before the first window (placement, communicators,
        transfers, the first sample, less the components' ``initialize`` and
        first exchange); ``windows``: while the scheme steps (its loop,
        sampling, checks, progress); ``results and clean-up``: building the
        results, destroying PETSc objects (less ``finalize``). NaN where the
        run did not set the marks.
        """
        out = dict.fromkeys(PHASES, 0.0)
        kept = self.count == 1
        for r in range(self.ranks):
            bounds = np.concatenate([[self.offset[r]], self.marks[r], [self.offset[r] + self.wall[r]]])
            if not np.isfinite(bounds).all():
                return dict.fromkeys(PHASES, math.nan)
            mine = self.rank == r
            # events summed beyond max_events are counted where they began
            mid = np.where(kept, 0.5 * (self.start + self.end), self.start)[mine]
            phase = np.clip(np.searchsorted(bounds, mid, side="right") - 1, 0, len(PHASES) - 1)
            inside = np.bincount(phase, weights=self.duration[mine], minlength=len(PHASES))
            for i, name in enumerate(PHASES):
                out[name] += float(bounds[i + 1] - bounds[i] - inside[i])
        return out

    def totals(self, by_rank: bool = False, kinds: bool = False) -> pd.DataFrame:
        """Seconds per component: ``compute``, ``exchange``, ``wait``, ``checkpoint``, ``overhead``, ``total``.

        One row per component (and ``"(coupling)"`` for coupling-wide events
        such as writing a snapshot, when there were any), and a last row
        ``"(framework overhead)"``: the wall time no component accounts for
        (its ``overhead`` and ``total``). The ``total`` column adds up to the
        wall time, summed over ranks (``df.attrs["wall_s"]``).

        Parameters
        ----------
        by_rank
            One row per ``(component, rank)`` instead of sums over ranks.
        kinds
            Also one column per kind of event (``advance``, ``transfer``, ...).

        Returns
        -------
        pandas.DataFrame
            Indexed by component (and rank); ``attrs`` hold ``wall_s`` and ``ranks``.
        """
        import pandas as pd

        secs = self.seconds()
        used = [i for i, name in enumerate(self.names) if name != COUPLING or secs[i].any()]
        overhead = self.overhead()
        columns = [*CATEGORIES, "overhead", "total"]
        extra = [k for k in KINDS if k not in CATEGORIES]  # "wait" and "checkpoint" are columns already
        if kinds:
            columns = [*columns[:-1], *extra, "total"]
        rows: list[list[float]] = []
        index: list[Any] = []
        groups: list[tuple[Any, np.ndarray, float]] = []
        for i in used:
            if by_rank:
                groups += [((self.names[i], r), secs[i, r], 0.0) for r in range(self.ranks)]
            else:
                groups.append((self.names[i], secs[i].sum(axis=0), 0.0))
        if by_rank:
            groups += [((OVERHEAD, r), np.zeros(_NK), float(overhead[r])) for r in range(self.ranks)]
        else:
            groups.append((OVERHEAD, np.zeros(_NK), float(overhead.sum())))
        for label, per_kind, over in groups:
            row = [float(sum(per_kind[KINDS.index(k)] for k in members)) for members in CATEGORIES.values()]
            row.append(over)
            if kinds:
                row += [float(per_kind[KINDS.index(k)]) for k in extra]
            row.append(float(per_kind.sum()) + over)
            rows.append(row)
            index.append(label)
        idx = pd.MultiIndex.from_tuples(index, names=["component", "rank"]) if by_rank else \
            pd.Index(index, name="component")
        df = pd.DataFrame(rows, index=idx, columns=columns)
        df.attrs["wall_s"] = self.wall_s
        df.attrs["ranks"] = self.ranks
        return df

    def report(self, by_rank: bool = False) -> str:
        """The totals as text: seconds and percent of the wall time per component, then the overhead."""
        df = self.totals(by_rank=by_rank)
        wall = self.wall_s or math.nan
        cols = [*CATEGORIES, "total"]
        head = f"{'component':<24}" + "".join(f"{c + ' s':>13}" for c in cols) + f"{'% of wall':>11}"
        lines = [head]
        for label, row in df.iterrows():
            name = f"{label[0]} [rank {label[1]}]" if by_rank else str(label)
            if (by_rank and label[0] == OVERHEAD) or label == OVERHEAD:
                cells = "".join(f"{'':>13}" for _ in CATEGORIES) + f"{row['total']:>13.4g}"
            else:
                cells = "".join(f"{row[c]:>13.4g}" for c in cols)
            lines.append(f"{name:<24}{cells}{100.0 * row['total'] / wall:>10.1f}%")
        phases = self.overhead_by_phase()
        if all(math.isfinite(v) for v in phases.values()):
            lines.append("framework overhead: " + ", ".join(f"{k} {v:.4g} s" for k, v in phases.items()))
        ranks = f" on {self.ranks} ranks (rank-seconds)" if self.ranks > 1 else ""
        summed = int(self.count[self.count > 1].sum())
        lines.append(f"wall time {self.wall_s:.4g} s{ranks}; {int(self.count.sum())} events")
        if summed:
            lines.append(f"({summed} events beyond the {self.max_events} kept per rank are summed, "
                         "not in the timeline)")
        return "\n".join(lines)

    # -- files ---------------------------------------------------------------------------------
    def to_dataset(self) -> xr.Dataset:
        """The events as an ``xarray.Dataset`` (dimensions ``event`` and ``rank``), for a NetCDF group."""
        import xarray as xr

        return xr.Dataset(
            {
                "component": ("event", self.component.astype(np.int16 if len(self.names) < 2**15 else np.int32),
                              {"long_name": "component (index into attrs['components'])"}),
                "event_rank": ("event", self.rank, {"long_name": "rank"}),
                "kind": ("event", self.kind, {"long_name": "kind of event (index into attrs['kinds'])"}),
                "start": ("event", self.start, {"units": "s", "long_name": "start, since the run started"}),
                "end": ("event", self.end, {"units": "s", "long_name": "end, since the run started"}),
                "duration": ("event", self.duration, {"units": "s", "long_name": "seconds spent"}),
                "count": ("event", self.count, {"long_name": "events in this row"}),
                "t": ("event", self.t, {"long_name": "simulation time at the end of the event"}),
                "wall": ("rank", self.wall, {"units": "s", "long_name": "wall time of the run on each rank"}),
                "offset": ("rank", self.offset, {"units": "s", "long_name": "start of each rank's run"}),
                "marks": (("rank", "mark"), self.marks,
                          {"units": "s", "long_name": "where the scheme started and ended its windows"}),
            },
            attrs={"components": json.dumps(self.names), "kinds": json.dumps(list(KINDS)), "epoch": self.epoch,
                   "max_events": self.max_events, "format_version": FORMAT_VERSION},
        )

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> Profile:
        """Read what :meth:`to_dataset` wrote.

        Raises
        ------
        MSMError
            When the group is of a newer format or lacks a variable.
        """
        version = int(ds.attrs.get("format_version", 0))
        if version > FORMAT_VERSION:
            raise MSMError(f"the profile was written in format {version}; this msmcore reads up to "
                           f"{FORMAT_VERSION}: upgrade msmcore")
        kinds = json.loads(ds.attrs["kinds"])
        try:
            code = np.asarray([KINDS.index(k) for k in kinds])[np.asarray(ds["kind"].values, dtype=np.int64)]
            return cls(json.loads(ds.attrs["components"]), ds["component"].values, ds["event_rank"].values, code,
                       ds["start"].values, ds["end"].values, ds["duration"].values, ds["count"].values,
                       ds["t"].values, wall=ds["wall"].values, offset=ds["offset"].values,
                       epoch=float(ds.attrs["epoch"]), max_events=int(ds.attrs.get("max_events", 0)),
                       marks=ds["marks"].values if "marks" in ds else None)
        except (KeyError, ValueError) as exc:
            raise MSMError(f"the profile group is incomplete or unknown ({type(exc).__name__}: {exc})") from exc

    # -- the picture -----------------------------------------------------------------------------
    def timeline(self, path: str | Path, *, title: str | None = None, dpi: int = 120) -> Path:
        """Draw the events per component and rank over wall time into an image file (PNG, SVG, PDF ...).

        One lane per ``(component, rank)``, one colour per kind of event;
        gaps are framework overhead. Events closer together than a pixel are
        drawn as one box, so millions of events draw in seconds.

        Raises
        ------
        MSMError
            When matplotlib is not installed, or when no single event was kept
            (``run(profile=False)``).
        """
        from msmcore.profile_timeline import draw_timeline

        return draw_timeline(self, Path(path), title=title, dpi=dpi)
