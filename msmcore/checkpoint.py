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
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

from msmcore.errors import ConfigurationError, MSMError
from msmcore.state_codec import check_encodable, checksum, decode, encode
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
    conns = [{k: v for k, v in dataclasses.asdict(c).items()} for c in coupling.connections]
    return {"components": comps, "connections": conns, "scheme": type(scheme).__name__, "window": window,
            "ranks": coupling.comm.Get_size()}


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
    for what in ("scheme", "window", "ranks"):
        if saved[what] != now[what]:
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
                                     + "; ".join(diffs) + ". Resume with the coupling that wrote it")
        if start != self.meta["start"]:
            raise ConfigurationError(f"cannot resume from {self.path}: that run started at t={self.meta['start']!r}, "
                                     f"this one at start={start!r}; pass start={self.meta['start']!r}")
        if not until > self.t or same_time(until, self.t, window):
            raise ConfigurationError(f"cannot resume from {self.path} (taken at t={self.t:.12g}) with "
                                     f"until={until:.12g}: a resumed run must end after the snapshot")


def snapshot_files(folder: Path) -> list[Path]:
    """The snapshot files of a checkpoint folder, newest (most windows done) first."""
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if _NAME.match(p.name)), reverse=True)


def read_snapshot(path: Path) -> Snapshot:
    """Read and verify one snapshot file.

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
            stored = f.attrs.get("sha256")
            actual = checksum(f)
            if stored is None or str(stored) != actual:
                raise CheckpointError(f"{path}: checksum mismatch (stored {stored!s:.16}…, content {actual:.16}…); "
                                      "the file is damaged")
            meta = decode(f["meta"])
            groups = [f["components"][k] for k in f["components"]]
            comps = {decode(g["name"]): (decode(g["t"]), decode(g["state"])) for g in groups}
            return Snapshot(Path(path), meta, comps, decode(f["scheme"]), decode(f["window_start"]),
                            decode(f["recorder"]))
    except CheckpointError:
        raise
    except (OSError, KeyError, ValueError, TypeError, MSMError) as exc:
        raise CheckpointError(f"{path} cannot be read as a snapshot ({type(exc).__name__}: {exc}); it is "
                              "torn or damaged") from exc


def load_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """The snapshot to resume from: ``path`` itself if a file, else the newest intact one in the folder.

    A damaged snapshot in a folder is skipped with a :class:`CheckpointWarning`.

    Raises
    ------
    CheckpointError
        No intact snapshot was found.
    """
    where = Path(path)
    if where.is_file():
        return read_snapshot(where)
    if not where.is_dir():
        raise CheckpointError(f"resume='{where}': no such snapshot file or checkpoint folder")
    files = snapshot_files(where)
    if not files:
        raise CheckpointError(f"resume='{where}': the folder holds no snapshot (snapshot-<n>.h5)")
    for file in files:
        try:
            snap = read_snapshot(file)
        except CheckpointError as exc:
            message = f"skipping snapshot {file}: {exc}; trying the one before it"
            logger.warning(message)
            warnings.warn(message, CheckpointWarning, stacklevel=2)
            continue
        logger.info("resuming from %s (t=%.12g, %d windows done)", file, snap.t, snap.windows_done)
        return snap
    raise CheckpointError(f"resume='{where}': none of its {len(files)} snapshot(s) is intact")


# -- taking snapshots during a run ------------------------------------------------------------
class Checkpointer:
    """Decides at each window's end whether a snapshot is due, and writes it (used by the runner)."""

    def __init__(self, config: Checkpoints, run_layout: dict[str, Any], t0: float) -> None:
        self.config = config
        self.layout = json.dumps(run_layout, sort_keys=True)
        self.last_t = t0
        self.last_wall = time.monotonic()
        self.written: list[Path] = []

    def due(self, t: float, window: float) -> bool:
        """Whether a snapshot is due at the window boundary ``t``."""
        cfg = self.config
        if cfg.every is None and cfg.wallclock is None:
            return True
        if cfg.every is not None:
            goal = self.last_t + cfg.every
            if t >= goal or same_time(t, goal, window):
                return True
        return cfg.wallclock is not None and time.monotonic() - self.last_wall >= cfg.wallclock

    def check(self, runner: Runner) -> None:
        """Before step 1: refuse states that a snapshot could not store (naming component and key path)."""
        for name, (_, state) in runner.save_states().items():
            check_encodable(state, f"the state of component '{name}' (its save_state())")

    def write(self, runner: Runner, t: float) -> Path:
        """Write a snapshot of ``runner`` at the window boundary ``t``; returns its path."""
        t0 = time.perf_counter()
        folder = self.config.path
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"snapshot-{runner.windows_done:012d}.h5"
        tmp = folder / f".{final.name}.{os.getpid()}.tmp"
        assert runner.scheme is not None and runner.recorder is not None
        meta = {"t": t, "windows_done": runner.windows_done, "start": runner.start, "until": runner.until,
                "layout": self.layout, "written": time.time()}
        try:
            with h5py.File(tmp, "w", track_order=True) as f:
                f.attrs["msmcore_checkpoint"] = FORMAT_VERSION
                encode(f, "meta", meta, "the checkpoint's metadata")
                comps = f.create_group("components", track_order=True)
                for i, (name, (t_comp, state)) in enumerate(runner.save_states().items()):
                    g = comps.create_group(f"{i:06d}", track_order=True)
                    encode(g, "name", name, "a component name")
                    encode(g, "t", float(t_comp), f"the time of component '{name}'")
                    encode(g, "state", state, f"the state of component '{name}' (its save_state())")
                encode(f, "scheme", runner.scheme.checkpoint_state(),
                       f"the state of the scheme {type(runner.scheme).__name__} (its checkpoint_state())")
                encode(f, "window_start", [v.copy() for v in runner.window_start.values()],
                       "the window-start values of interpolating connections")
                encode(f, "recorder", runner.recorder.checkpoint_state(), "the samples recorded so far")
                f.attrs["sha256"] = checksum(f)
            _fsync(tmp)
            os.replace(tmp, final)
            _fsync(folder)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.last_t, self.last_wall = t, time.monotonic()
        self._prune(folder)
        logger.info("snapshot %s written at t=%.12g in %.3g s (%d bytes)", final, t, time.perf_counter() - t0,
                    final.stat().st_size)
        return final

    def _prune(self, folder: Path) -> None:
        for old in snapshot_files(folder)[self.config.keep:]:
            try:
                old.unlink()
            except OSError as exc:
                logger.warning("could not delete old snapshot %s: %s", old, exc)


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

