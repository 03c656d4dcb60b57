"""Checkpoints: snapshots of a whole coupling at a window boundary, and resuming from one.

A snapshot holds everything a run needs to continue bit for bit: every
component's ``save_state()`` and time, the scheme's state
(:meth:`msmcore.Scheme.checkpoint_state`: an implicit scheme's iterate and its
acceleration's history), the number of windows done, the window-start values of
interpolating connections, and the samples recorded so far. It is one HDF5 file
(h5py), written atomically — a temporary file in the same folder, flushed and
``fsync``-ed, renamed over the final name, the folder ``fsync``-ed — with a
format version and a SHA-256 checksum over its content that is verified on
reading. States are stored by :mod:`msmcore.state_codec` (typed, never pickled).

Files are named ``snapshot-<windows done>.h5`` inside the checkpoint folder;
the ``keep`` newest stay. On resume the newest that reads back intact is used;
a damaged one is reported (:class:`CheckpointWarning`) and the one before it tried.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

from msmcore.errors import ConfigurationError, MSMError
from msmcore.state_codec import Digest, check_encodable, decode, encode
from msmcore.timeline import same_time

if TYPE_CHECKING:
    from msmcore.coupling import Coupling
    from msmcore.runner import Runner
    from msmcore.schemes import Scheme

__all__ = ["CheckpointError", "CheckpointWarning", "Checkpoints", "Snapshot", "layout", "load_snapshot",
           "read_snapshot", "snapshot_files"]

logger = logging.getLogger(__name__)

#: Version of the snapshot format; a file of another version is refused.
FORMAT_VERSION = 1
_NAME = re.compile(r"^snapshot-(\d{12})\.h5$")
_DIR = re.compile(r"^snapshot-(\d{12})\.d$")
_MANIFEST = "manifest.json"


class CheckpointError(MSMError):
    """A snapshot cannot be written, is missing or damaged, or does not fit the run resuming from it."""


class CheckpointWarning(UserWarning):
    """A damaged snapshot was skipped in favour of an older one."""


def _positive(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigurationError(f"Checkpoints({what}=...) must be a positive finite number or None, got {value!r}")
    return float(value)


class Checkpoints:
    """When and where a run writes snapshots (pass to ``Coupling.run(checkpoint=...)``).

    A snapshot is taken at the end of a coupling window once ``every``
    simulation time has passed since the last one (or since the run began),
    or once ``wallclock`` seconds have; with neither given, after every window.

    Parameters
    ----------
    every
        Simulation time between snapshots (rounded up to whole windows).
    wallclock
        Wall-clock seconds between snapshots.
    keep
        How many of the newest snapshots to keep (older ones are deleted).
    path
        The folder the snapshots go into (created when missing).
    """

    def __init__(self, every: float | None = None, wallclock: float | None = None, keep: int = 2,
                 path: str | os.PathLike[str] = "run.ckpt") -> None:
        self.every = _positive(every, "every")
        self.wallclock = _positive(wallclock, "wallclock")
        if isinstance(keep, bool) or not isinstance(keep, (int, np.integer)) or keep < 1:
            raise ConfigurationError(f"Checkpoints(keep=...) must be a whole number >= 1, got {keep!r}")
        self.keep = int(keep)
        if not isinstance(path, (str, os.PathLike)) or not str(path):
            raise ConfigurationError(f"Checkpoints(path=...) must be a folder path, got {path!r}")
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ConfigurationError(f"Checkpoints(path='{self.path}') exists and is not a folder; snapshots go "
                                     "into a folder: pass another path")

    def __repr__(self) -> str:
        return f"Checkpoints(every={self.every}, wallclock={self.wallclock}, keep={self.keep}, path='{self.path}')"


# -- what must match between a snapshot and the run resuming from it ----------------------
def layout(coupling: Coupling, scheme: Scheme, window: float) -> dict[str, Any]:
    """The shape of a run that a snapshot must match: components, keys, ports, connections, scheme, window."""
    comps = {}
    for name, comp in coupling.components.items():
        ports = {p.name: {"direction": p.direction.value, "shape": list(p.spec.array_shape),
                          "dtype": str(p.spec.dtype)} for p in comp.ports.values()}
        comps[name] = {"key": coupling.keys[name], "ports": ports}
    conns = [dataclasses.asdict(c) for c in coupling.connections]
    placement = {n: [int(r) for r in coupling.placement[n]] for n in coupling.components}
    return {"components": comps, "connections": conns, "scheme": type(scheme).__name__, "window": window,
            "ranks": coupling.comm.Get_size(), "placement": placement}


def layout_differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between two :func:`layout` results, one phrase each (empty when they agree)."""
    diffs: list[str] = []
    s_comps, n_comps = saved["components"], now["components"]
    for name in s_comps.keys() - n_comps.keys():
        diffs.append(f"component '{name}' ({s_comps[name]['key']}) is in the snapshot but not in the coupling")
    for name in n_comps.keys() - s_comps.keys():
        diffs.append(f"component '{name}' ({n_comps[name]['key']}) is in the coupling but not in the snapshot")
    for name in [n for n in n_comps if n in s_comps]:
        s, n = s_comps[name], n_comps[name]
        if s["key"] != n["key"]:
            diffs.append(f"component '{name}' is {s['key']} in the snapshot but {n['key']} now")
            continue
        for port in s["ports"].keys() - n["ports"].keys():
            diffs.append(f"component '{name}' had port '{port}' in the snapshot but has it no longer")
        for port in n["ports"].keys() - s["ports"].keys():
            diffs.append(f"component '{name}' has port '{port}', which the snapshot does not have")
        for port in [p for p in n["ports"] if p in s["ports"]]:
            for what in ("direction", "shape", "dtype"):
                if s["ports"][port][what] != n["ports"][port][what]:
                    diffs.append(f"port '{name}.{port}' has {what} {n['ports'][port][what]} now but "
                                 f"{s['ports'][port][what]} in the snapshot")
    if saved["connections"] != now["connections"]:
        def text(c: dict[str, Any]) -> str:
            return f"{c['source']}.{c['source_port']} -> {c['target']}.{c['target_port']}"

        gone = [text(c) for c in saved["connections"] if c not in now["connections"]]
        new = [text(c) for c in now["connections"] if c not in saved["connections"]]
        if gone or new:
            diffs.append(f"connections differ: in the snapshot only {gone or 'none'}, in the coupling only "
                         f"{new or 'none'} (or their options differ)")
        else:
            diffs.append("the connections were made in another order")
    for what in ("scheme", "window", "ranks", "placement"):
        if saved.get(what) != now.get(what):
            diffs.append(f"the {what} is {now[what]!r} now but {saved[what]!r} in the snapshot")
    return diffs


# -- a snapshot read back ------------------------------------------------------------------
@dataclass
class Snapshot:
    """A snapshot read from disk (see the module notes for what it holds)."""

    path: Path
    meta: dict[str, Any]
    components: dict[str, tuple[float, Any]]
    scheme: Any
    window_start: list[np.ndarray]
    recorder: dict[str, Any]

    @property
    def t(self) -> float:
        """The time of the window boundary at which the snapshot was taken."""
        return float(self.meta["t"])

    @property
    def windows_done(self) -> int:
        """How many windows of the run were complete."""
        return int(self.meta["windows_done"])

    def check_fits(self, coupling: Coupling, scheme: Scheme, window: float, start: float, until: float) -> None:
        """Raise :class:`~msmcore.errors.ConfigurationError` unless a run of ``coupling`` can resume from here."""
        diffs = layout_differences(json.loads(self.meta["layout"]), layout(coupling, scheme, window))
        if diffs:
            raise ConfigurationError(f"cannot resume from {self.path}: the coupling differs from the snapshot's: "
                                     + "; ".join(diffs) + ". Resume with the coupling that wrote it", collective=True)
        if start != self.meta["start"]:
            raise ConfigurationError(f"cannot resume from {self.path}: that run started at t={self.meta['start']!r}, "
                                     f"this one at start={start!r}; pass start={self.meta['start']!r}", collective=True)
        if not until > self.t or same_time(until, self.t, window):
            raise ConfigurationError(f"cannot resume from {self.path} (taken at t={self.t:.12g}) with "
                                     f"until={until:.12g}: a resumed run must end after the snapshot", collective=True)


def snapshot_files(folder: Path, parallel: bool = False) -> list[Path]:
    """A checkpoint folder's snapshots, newest (most windows done) first.

    Serial snapshots are files ``snapshot-<n>.h5``; those of an MPI run
    (``parallel``) folders ``snapshot-<n>.d`` of one file per rank and a manifest.
    """
    if not folder.is_dir():
        return []
    pattern = _DIR if parallel else _NAME
    return sorted((p for p in folder.iterdir() if pattern.match(p.name)), reverse=True)


def read_snapshot(path: Path, expect_sha256: str | None = None) -> Snapshot:
    """Read and verify one snapshot file (its checksum, and ``expect_sha256`` when given).

    Raises
    ------
    CheckpointError
        The file is missing, torn, of another format version, or its checksum does not match.
    """
    try:
        with h5py.File(path, "r") as f:
            version = f.attrs.get("msmcore_checkpoint")
            if version is None:
                raise CheckpointError(f"{path} is not an msmcore snapshot (no 'msmcore_checkpoint' attribute)")
            if int(version) != FORMAT_VERSION:
                raise CheckpointError(f"{path} is a snapshot of format version {int(version)}; this msmcore reads "
                                      f"version {FORMAT_VERSION}")
            digest = Digest()
            meta = decode(f["meta"], digest)
            groups = [f["components"][k] for k in f["components"]]
            digest.node("components", len(groups))
            comps = {}
            for g in groups:
                name = decode(g["name"], digest)
                comps[name] = (decode(g["t"], digest), decode(g["state"], digest))
            scheme = decode(f["scheme"], digest)
            window_start = decode(f["window_start"], digest)
            recorder = decode(f["recorder"], digest)
            stored, actual = f.attrs.get("sha256"), digest.hexdigest()
            if stored is None or str(stored) != actual or (expect_sha256 is not None and actual != expect_sha256):
                raise CheckpointError(f"{path}: checksum mismatch (stored {stored!s:.16}…, content {actual:.16}…); "
                                      "the file is damaged")
            return Snapshot(Path(path), meta, comps, scheme, window_start, recorder)
    except CheckpointError:
        raise
    except (OSError, KeyError, ValueError, TypeError, MSMError) as exc:
        raise CheckpointError(f"{path} cannot be read as a snapshot ({type(exc).__name__}: {exc}); it is "
                              "torn or damaged") from exc


def _read_part(folder: Path, rank: int, size: int) -> Snapshot:
    """This rank's part of an MPI snapshot folder, checked against the manifest rank 0 wrote last."""
    manifest = folder / _MANIFEST
    try:
        info = json.loads(manifest.read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{folder} is incomplete: no readable {_MANIFEST} ({exc}); the run stopped while "
                              "writing it") from exc
    if info.get("format") != FORMAT_VERSION or info.get("ranks") != size:
        raise CheckpointError(f"{folder}: written by {info.get('ranks')} rank(s) in format {info.get('format')}; "
                              f"this run has {size} rank(s) and reads format {FORMAT_VERSION}")
    return read_snapshot(folder / f"rank-{rank:05d}.h5", expect_sha256=info["sha256"][rank])


def load_snapshot(path: str | os.PathLike[str], comm: Any = None) -> Snapshot:
    """The snapshot to resume from: ``path`` itself if a snapshot, else the newest intact one in the folder.

    A damaged or incomplete snapshot in a folder is skipped with a
    :class:`CheckpointWarning`. Under MPI (``comm`` of more than one rank) this
    is collective: every rank reads its own part, and a snapshot is used only
    when every rank's part is intact.

    Raises
    ------
    CheckpointError
        No intact snapshot was found (on every rank alike).
    """
    where = Path(path)
    size = comm.Get_size() if comm is not None else 1
    rank = comm.Get_rank() if comm is not None else 0
    if size == 1 and where.is_file():
        return read_snapshot(where)
    if size > 1 and (where / _MANIFEST).exists():
        candidates = [where]
    elif where.is_dir():
        candidates = snapshot_files(where, parallel=size > 1)
    else:
        raise CheckpointError(f"resume='{where}': no such snapshot file or checkpoint folder", collective=True)
    if size > 1:
        candidates = comm.bcast(candidates, root=0)  # every rank tries the same ones, in the same order
    if not candidates:
        kind = "snapshot-<n>.d folders of an MPI run" if size > 1 else "snapshot-<n>.h5"
        raise CheckpointError(f"resume='{where}': the folder holds no snapshot ({kind})", collective=True)
    for candidate in candidates:
        snap, problem = None, ""
        try:
            snap = _read_part(candidate, rank, size) if size > 1 else read_snapshot(candidate)
        except CheckpointError as exc:
            problem = str(exc)
        if size > 1:
            problems = [p for p in comm.allgather(problem) if p]
            problem = problems[0] if problems else ""
        if problem:
            message = f"skipping snapshot {candidate}: {problem}; trying the one before it"
            logger.warning(message)
            warnings.warn(message, CheckpointWarning, stacklevel=2)
            continue
        assert snap is not None
        logger.info("resuming from %s (t=%.12g, %d windows done)", candidate, snap.t, snap.windows_done)
        return snap
    raise CheckpointError(f"resume='{where}': none of its {len(candidates)} snapshot(s) is intact", collective=True)


# -- taking snapshots during a run ------------------------------------------------------------
class Checkpointer:
    """Decides at each window's end whether a snapshot is due, and writes it (used by the runner).

    Under MPI (``comm`` of more than one rank) every rank writes its own part
    into ``snapshot-<n>.d/rank-<r>.h5``; rank 0 gathers their checksums and
    writes ``manifest.json`` last, so a snapshot is complete exactly when its
    manifest exists. The decision to write is the same on every rank.
    """

    def __init__(self, config: Checkpoints, run_layout: dict[str, Any], t0: float, comm: Any = None) -> None:
        self.config = config
        self.layout = json.dumps(run_layout, sort_keys=True)
        self.last_t = t0
        self.last_wall = time.monotonic()
        self.comm = comm if comm is not None and comm.Get_size() > 1 else None

    def due(self, t: float, window: float) -> bool:
        """Whether a snapshot is due at the window boundary ``t`` (collective under MPI)."""
        cfg = self.config
        if cfg.every is None and cfg.wallclock is None:
            return True
        if cfg.every is not None:
            goal = self.last_t + cfg.every
            if t >= goal or same_time(t, goal, window):
                return True
        if cfg.wallclock is None:
            return False
        late = time.monotonic() - self.last_wall >= cfg.wallclock
        return bool(self.comm.bcast(late, root=0)) if self.comm is not None else late  # rank 0's clock decides

    def check(self, runner: Runner) -> None:
        """Before step 1: refuse states that a snapshot could not store (naming component and key path)."""
        for name, (_, state) in runner.save_states().items():
            check_encodable(state, f"the state of component '{name}' (its save_state())")

    def write(self, runner: Runner, t: float) -> Path:
        """Write a snapshot of ``runner`` at the window boundary ``t``; returns its path."""
        t0 = time.perf_counter()
        folder = self.config.path
        folder.mkdir(parents=True, exist_ok=True)
        name = f"snapshot-{runner.windows_done:012d}"
        if self.comm is None:
            final = folder / f"{name}.h5"
            self._write_file(runner, t, final)
            self._prune(folder, final)
        else:
            final = folder / f"{name}.d"
            final.mkdir(exist_ok=True)
            rank = self.comm.Get_rank()
            sha = self._write_file(runner, t, final / f"rank-{rank:05d}.h5")
            shas = self.comm.gather(sha, root=0)
            if rank == 0:
                manifest = {"format": FORMAT_VERSION, "ranks": self.comm.Get_size(), "sha256": shas, "t": t,
                            "windows_done": runner.windows_done}
                _atomic_write(final / _MANIFEST, json.dumps(manifest).encode())
                self._prune(folder, final)
            self.comm.Barrier()
        self.last_t, self.last_wall = t, time.monotonic()
        logger.info("snapshot %s written at t=%.12g in %.3g s", final, t, time.perf_counter() - t0)
        return final

    def _write_file(self, runner: Runner, t: float, final: Path) -> str:
        """One snapshot file, written atomically; returns its checksum."""
        assert runner.scheme is not None and runner.recorder is not None
        meta = {"t": t, "windows_done": runner.windows_done, "start": runner.start, "until": runner.until,
                "layout": self.layout, "rank": runner.rank, "ranks": runner.size}
        tmp = final.parent / f".{final.name}.{os.getpid()}.tmp"
        try:
            digest = Digest()
            with h5py.File(tmp, "w", track_order=True) as f:
                f.attrs["msmcore_checkpoint"] = FORMAT_VERSION
                encode(f, "meta", meta, "the checkpoint's metadata", digest)
                comps = f.create_group("components", track_order=True)
                states = runner.save_states()
                digest.node("components", len(states))
                for i, (name, (t_comp, state)) in enumerate(states.items()):
                    g = comps.create_group(f"{i:06d}", track_order=True)
                    encode(g, "name", name, "a component name", digest)
                    encode(g, "t", float(t_comp), f"the time of component '{name}'", digest)
                    encode(g, "state", state, f"the state of component '{name}' (its save_state())", digest)
                encode(f, "scheme", runner.scheme.checkpoint_state(),
                       f"the state of the scheme {type(runner.scheme).__name__} (its checkpoint_state())", digest)
                encode(f, "window_start", [v.copy() for v in runner.window_start.values()],
                       "the window-start values of interpolating connections", digest)
                encode(f, "recorder", runner.recorder.checkpoint_state(), "the samples recorded so far", digest)
                sha = digest.hexdigest()
                f.attrs["sha256"] = sha
            _fsync(tmp)
            os.replace(tmp, final)
            _fsync(final.parent)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return sha

    def _prune(self, folder: Path, newest: Path) -> None:
        """Keep the ``keep`` newest snapshots up to ``newest``; delete later ones (another history) and older ones.

        A snapshot numbered after the one just written was left by a run that went
        further (one that died, whose newest snapshot was damaged, or that the user
        chose not to resume from): it is not this run's future, so it goes.
        """
        entries = snapshot_files(folder, parallel=self.comm is not None)
        later = [e for e in entries if e.name > newest.name]
        for stale in later:
            logger.warning("deleting snapshot %s: it is later than %s, the newest of this run, so it belongs to "
                           "another run", stale, newest.name)
        for old in later + [e for e in entries if e.name <= newest.name][self.config.keep:]:
            try:
                shutil.rmtree(old) if old.is_dir() else old.unlink()
            except OSError as exc:
                logger.warning("could not delete old snapshot %s: %s", old, exc)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync(path.parent)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def restore_run(runner: Runner, snap: Snapshot) -> None:
    """Put a freshly initialised run back where ``snap`` was taken (components, connections, samples).

    The scheme's own state follows when it asks for its first window
    (:meth:`msmcore.runner.Runner.windows`).
    """
    mine = {n for n, m in runner.member.items() if m}
    if set(snap.components) != mine:
        raise CheckpointError(f"{snap.path} holds the components {sorted(snap.components)}, but this rank runs "
                              f"{sorted(mine)}")
    runner.restore_states(snap.components)
    starts = list(runner.window_start.values())
    if len(starts) != len(snap.window_start):
        raise CheckpointError(f"{snap.path} holds {len(snap.window_start)} interpolation start value(s), "
                              f"the run has {len(starts)} interpolating connection(s)")
    for array, saved in zip(starts, snap.window_start, strict=True):
        array[...] = saved
    assert runner.recorder is not None
    runner.recorder.restore_checkpoint_state(snap.recorder)
    runner.windows_done = snap.windows_done
    runner.t_reached = snap.t
    logger.info("resumed at t=%.12g after %d windows from %s", snap.t, snap.windows_done, snap.path)

