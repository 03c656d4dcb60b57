"""Results written as they come: an incremental NetCDF4 writer for ``Coupling.run(out=...)``.

The file has the layout :meth:`msmcore.Result.to_netcdf` writes — one group per
component, the same variables, dimensions, coordinates and attributes, the root
attributes ``msmcore_*`` — except that ``time`` is an UNLIMITED dimension that
grows by one at every sample. :meth:`msmcore.Result.from_netcdf` and
``xarray.open_dataset(path, group=name)`` read it during a run, after a run and
after a run that died.

How a crash is survived: between flushes the file is *closed*. New samples wait
in memory; a flush opens the file, appends them, closes it and ``fsync``-s it, so
the file on disk is always a complete, consistent NetCDF4 file holding every
sample up to the last flush (a process killed during the few milliseconds of a
flush itself can leave a damaged file). Flushes happen

- every ``flush_every`` samples, when given (``1``: every sample);
- when a sample or a window end comes at least ``interval`` seconds after the
  last flush, where ``interval`` is ``flush_seconds`` (default 1 s) or less:
  100 times what the last flush took, so that cheap flushes happen at every
  sample while flushing costs at most about 1 % of the run;
- at :meth:`ResultsWriter.flush` (checkpoints call it) and when the run ends,
  normally or by an exception (then the root attribute ``msmcore_status`` says
  why).

Under MPI every rank calls the writer (the newest sample is gathered
collectively) and only rank 0 touches the file.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from msmcore.errors import ConfigurationError, MSMError

if TYPE_CHECKING:
    from msmcore.results import Recorder, Result

__all__ = ["ResultsFile", "ResultsWriter", "check_writable", "open_for_resume", "truncate_samples"]

logger = logging.getLogger(__name__)

#: Environment variables giving the defaults of :class:`ResultsFile` (e.g. for ``msm run``).
FLUSH_EVERY_ENV = "MSM_FLUSH_EVERY"
FLUSH_SECONDS_ENV = "MSM_FLUSH_SECONDS"


def check_writable(path: str | Path, option: str = "--out") -> Path:
    """Refuse, before a run, a results path that cannot be written.

    The folder must exist and take a new file (a temporary file is created
    there and removed again); an existing ``path`` must be a writable file.

    Parameters
    ----------
    path
        The results file.
    option
        How the user gave the path (``--out``, ``run(out=...)``), named in the message.

    Raises
    ------
    ConfigurationError
        Naming the path, why, and what to do.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ConfigurationError(f"cannot write results to {path}: it is a folder; give a file name, "
                                 f"e.g. {option} {path / 'results.nc'}")
    if not folder.is_dir():
        raise ConfigurationError(f"cannot write results to {path}: the folder {folder} does not exist; "
                                 f"create it or choose another {option}")
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigurationError(f"cannot write results to {path}: the file is not writable; "
                                 f"choose another {option}")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".msm-write-test-"):
            pass
    except OSError as exc:
        raise ConfigurationError(f"cannot write results to {path}: {exc.strerror or exc} in {folder}; "
                                 f"choose another {option}") from None
    return path


def _env_number(name: str, kind: type, default: Any) -> Any:
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = kind(text)
    except ValueError:
        what = "whole number" if kind is int else "number"
        raise ConfigurationError(f"environment variable {name}={text!r} must be a {what}; "
                                 f"unset it or give e.g. {name}=1") from None
    if not value > 0:
        raise ConfigurationError(f"environment variable {name}={text!r} must be positive")
    return value


@dataclass(frozen=True)
class ResultsFile:
    """Where and how often a run writes its results as they come (``Coupling.run(out=...)``).

    Parameters
    ----------
    path
        The NetCDF4 file (created, or replaced, at the first sample).
    flush_every
        Flush after this many new samples (``1``: after every sample);
        ``None``: by time only. Default: ``$MSM_FLUSH_EVERY`` if set.
    flush_seconds
        Flush at least this often (seconds of wall time) while samples wait;
        default ``$MSM_FLUSH_SECONDS`` or 1 s. Cheap flushes happen more often
        (see :mod:`msmcore.stream`).
    """

    path: Path
    flush_every: int | None = None
    flush_seconds: float = 1.0

    def __post_init__(self) -> None:
        every, seconds = self.flush_every, self.flush_seconds
        if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
            raise ConfigurationError(f"ResultsFile(flush_every={every!r}) must be a whole number >= 1 "
                                     "(samples between flushes) or None")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < math.inf:
            raise ConfigurationError(f"ResultsFile(flush_seconds={seconds!r}) must be a finite number of "
                                     "seconds >= 0")
        object.__setattr__(self, "path", Path(self.path))

    @classmethod
    def from_argument(cls, out: str | os.PathLike[str] | ResultsFile) -> ResultsFile:
        """``run(out=...)``'s value as a :class:`ResultsFile`; a path gets the defaults."""
        if isinstance(out, ResultsFile):
            return out
        if not isinstance(out, (str, os.PathLike)) or not str(out).strip():
            raise ConfigurationError(f"run(out={out!r}) must be a file path or msm.ResultsFile(path, ...)")
        return cls(Path(out), _env_number(FLUSH_EVERY_ENV, int, None),
                   _env_number(FLUSH_SECONDS_ENV, float, 1.0))


def _group_times(root: Any) -> int:
    """Samples in a results file: the length of the first group's ``time`` dimension."""
    names = json.loads(root.getncattr("msmcore_components"))
    return min((len(root[n].dimensions["time"]) for n in names), default=0)


class ResultsWriter:
    """Appends each new sample of a :class:`~msmcore.results.Recorder` to a NetCDF4 file.

    Used as the recorder's ``sink``: called (on every rank) after each new
    sample. Built by the runner for ``run(out=...)``; see :mod:`msmcore.stream`.

    Parameters
    ----------
    target
        The file and flush policy.
    scheme
        The scheme, as text (root attribute ``msmcore_scheme``).
    rank
        This process's rank in the coupling; only rank 0 writes.
    """

    def __init__(self, target: ResultsFile, *, scheme: str = "", rank: int = 0) -> None:
        self.target = target
        self.path = Path(target.path)
        self.scheme = scheme
        self.rank = rank
        #: Samples in the file plus those waiting to be flushed.
        self.count = 0
        self.written = 0
        self._names: list[str] = []
        self._pending: list[tuple[float, dict[tuple[str, str], np.ndarray]]] = []
        self._created = False
        self._last_flush = time.perf_counter()
        self._flush_cost = 0.0
        self.closed = False

    # -- the sink --------------------------------------------------------------
    def __call__(self, recorder: Recorder) -> None:
        """Take the recorder's newest sample (collective under MPI: every rank calls it)."""
        index = len(recorder.times) - 1
        if index != self.count:
            raise MSMError(f"results file {self.path}: the run is at sample {index} but the file holds "
                           f"{self.count} sample(s); a resumed run must call continue_after(samples_kept) first")
        if not self._created:
            datasets = recorder.datasets()  # collective under MPI: the layout and the first sample(s)
            if self.rank == 0:
                self._create(datasets, recorder.time_units)
            self._created = True
            self.count = self.written = len(recorder.times)
            self._after_flush(time.perf_counter())
            return
        values = recorder.latest()  # collective under MPI
        self.count += 1
        if self.rank != 0:
            return
        self._pending.append((recorder.times[-1], values))
        every = self.target.flush_every
        if every is not None and len(self._pending) >= every:
            self.flush()
        else:
            self.poll()

    def poll(self) -> None:
        """Flush if samples wait and the flush interval has passed (called at every window end)."""
        if self._pending and time.perf_counter() - self._last_flush >= self._interval():
            self.flush(wait=False)

    def _interval(self) -> float:
        return min(self.target.flush_seconds, 100.0 * self._flush_cost)

    def flush(self, wait: bool = True) -> None:
        """Append the waiting samples to the file and close it (durable on disk); rank 0 only does I/O.

        Parameters
        ----------
        wait
            When the file cannot be opened (e.g. a reader holds HDF5's lock on
            it): retry for up to 10 s, then raise (``True``, as at a checkpoint
            or the end), or keep the samples for the next flush (``False``).
        """
        if self.rank != 0 or not self._pending or not self._created:
            return
        self._write(wait)

    def _write(self, wait: bool, final: Callable[[Any], None] | None = None) -> None:
        """Open the file, append the waiting samples, apply ``final`` to the root group, close, fsync."""
        import netCDF4

        t0 = time.perf_counter()
        n0, m = self.written, len(self._pending)
        for attempt in range(200 if wait else 1):
            try:
                root = netCDF4.Dataset(self.path, "a")
                break
            except OSError as exc:
                if not wait:
                    logger.warning("results file %s is busy (%s); %d sample(s) wait for the next flush",
                                   self.path, exc, m)
                    self._last_flush = time.perf_counter()
                    return
                if attempt == 199:
                    raise MSMError(f"cannot open the results file {self.path} to append {m} sample(s): {exc}; "
                                   "is another program holding it open?") from exc
                time.sleep(0.05)
        try:
            with root:
                root.set_auto_maskandscale(False)
                for name in self._names if m else ():
                    group = root[name]
                    group["time"][n0: n0 + m] = np.array([t for t, _ in self._pending])
                    for var in group.variables.values():
                        if var.name == "time" or not var.dimensions or var.dimensions[0] != "time":
                            continue
                        block = np.stack([values[(name, var.name)] for _, values in self._pending])
                        var[n0: n0 + m] = block.astype(var.dtype, copy=False)
                if final is not None:
                    final(root)
            self._fsync()
        except (OSError, RuntimeError, KeyError) as exc:
            raise MSMError(f"cannot append {m} sample(s) to the results file {self.path}: "
                           f"{type(exc).__name__}: {exc}; check the disk (space, quota) and that nothing else "
                           "writes that file") from exc
        self.written += m
        self._pending.clear()
        self._after_flush(t0)

    def _after_flush(self, t0: float) -> None:
        now = time.perf_counter()
        self._flush_cost = now - t0
        self._last_flush = now

    def _fsync(self) -> None:
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _create(self, datasets: Mapping[str, Any], time_units: str) -> None:
        import netCDF4

        self._names = list(datasets)
        mode: Literal["w", "a"] = "w"
        try:
            for name, ds in datasets.items():
                ds.to_netcdf(self.path, mode=mode, group=name, engine="netcdf4", unlimited_dims=["time"])
                mode = "a"
            with netCDF4.Dataset(self.path, "a") as root:
                root.setncattr("msmcore_components", json.dumps(self._names))
                root.setncattr("msmcore_wall_s", math.nan)
                root.setncattr("msmcore_scheme", self.scheme)
                root.setncattr("msmcore_info", "{}")
                root.setncattr("msmcore_time_units", time_units)
                root.setncattr("msmcore_status", "running")
            self._fsync()
        except (OSError, RuntimeError, ValueError) as exc:
            raise MSMError(f"cannot create the results file {self.path}: {type(exc).__name__}: {exc}; "
                           "choose another --out / run(out=...)") from exc

    # -- resume and end ----------------------------------------------------------
    def continue_after(self, samples_kept: int) -> None:
        """Continue an existing file after its first ``samples_kept`` samples (a resumed run).

        Rank 0 rewrites the file without the samples after those
        (:func:`truncate_samples`, atomic); every rank then appends the run's
        next sample as number ``samples_kept``. Call it on every rank, after
        the recorder got back its ``samples_kept`` samples and before the next one.
        """
        if self.rank == 0:
            self._names = truncate_samples(self.path, samples_kept)
        self._created = True
        self.count = self.written = samples_kept
        self._pending.clear()

    def resume(self, recorder: Recorder, comm: Any = None) -> None:
        """A resumed run: continue the file after the recorder's samples, or write it anew from them.

        When the file holds at least the samples the recorder got back from
        the snapshot (the run that wrote the snapshot flushed them), it is
        continued after them (:meth:`continue_after`); when it is missing,
        shorter or unreadable (another ``--out``, a kill during a flush), it is
        written anew with those samples. Collective under MPI (``comm``).
        """
        kept = len(recorder.times)
        usable = False
        if self.rank == 0:
            try:
                usable = Path(self.path).is_file() and samples_in(self.path)[0] >= kept
            except (OSError, KeyError, ValueError, IndexError, RuntimeError):
                logger.warning("results file %s is unreadable; writing it anew from the snapshot's samples",
                               self.path)
        if comm is not None:
            usable = bool(comm.bcast(usable, root=0))
        if usable:
            self.continue_after(kept)
            return
        datasets = recorder.datasets()  # collective under MPI
        if self.rank == 0:
            self._create(datasets, recorder.time_units)
        self._created = True
        self.count = self.written = kept
        self._pending.clear()
        self._after_flush(time.perf_counter())

    def close(self, result: Result | None = None, *, status: str = "complete",
              timings: Mapping[str, Mapping[str, float]] | None = None, info: Mapping[str, Any] | None = None,
              wall_s: float = math.nan) -> None:
        """Flush, then complete the root attributes; idempotent.

        Parameters
        ----------
        result
            The finished run's result: its wall time, info, time units and
            per-component timings are written as :meth:`Result.to_netcdf` writes them.
        status
            ``msmcore_status``: ``"complete"``, or why the run ended early.
        timings, info, wall_s
            Without a result (a run that failed), what is known so far.
        """
        if self.closed:
            return
        self.closed = True
        if self.rank != 0 or not self._created:
            return
        if result is not None:
            timings, info, wall_s = result.timings, result.info, result.wall_s

        def complete(root: Any) -> None:
            for name in self._names:
                if timings is not None:
                    root[name].setncattr("timings", json.dumps(dict(timings.get(name, {}))))
            root.setncattr("msmcore_wall_s", wall_s)
            root.setncattr("msmcore_info", json.dumps(dict(info or {}), default=str))
            if result is not None:
                root.setncattr("msmcore_time_units", result.time_units)
            root.setncattr("msmcore_status", status)

        self._write(True, complete)  # the last samples and the root attributes: one open
        if result is not None and result.profile_data is not None:  # as Result.to_netcdf writes it
            from msmcore.results import PROFILE_GROUP

            result.profile_data.to_dataset().to_netcdf(self.path, mode="a", group=PROFILE_GROUP, engine="netcdf4")
        logger.debug("results file %s closed with %d sample(s) (%s)", self.path, self.written, status)


def truncate_samples(path: str | Path, samples_kept: int) -> list[str]:
    """Rewrite a results file keeping only its first ``samples_kept`` samples; returns its component names.

    The new file is written next to the old one and moved over it with
    ``os.replace`` (atomic: a crash leaves the old file or the new one).
    ``time`` stays UNLIMITED, so appending continues after the kept samples.

    Raises
    ------
    ConfigurationError
        The file is missing or unreadable, or holds fewer than ``samples_kept`` samples.
    """
    import netCDF4
    import xarray as xr

    path = Path(path)
    if isinstance(samples_kept, bool) or not isinstance(samples_kept, (int, np.integer)) or samples_kept < 0:
        raise ConfigurationError(f"samples_kept must be a whole number >= 0, got {samples_kept!r}")
    try:
        with netCDF4.Dataset(path) as root:
            names = json.loads(root.getncattr("msmcore_components"))
            have = _group_times(root)
            root_attrs = {k: root.getncattr(k) for k in root.ncattrs()}
    except (OSError, KeyError, AttributeError, ValueError) as exc:
        raise ConfigurationError(f"cannot continue the results file {path}: {type(exc).__name__}: {exc}; "
                                 "give the --out file of the run being resumed") from None
    if have < samples_kept:
        raise ConfigurationError(f"cannot continue the results file {path} after sample {samples_kept}: it holds "
                                 f"only {have}; give the --out file of the run being resumed")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        mode: Literal["w", "a"] = "w"
        for name in names:
            with xr.open_dataset(path, group=name, engine="netcdf4", decode_times=False,
                                 decode_timedelta=False) as ds:
                kept = ds.isel(time=slice(0, samples_kept)).load()
            kept.to_netcdf(tmp, mode=mode, group=name, engine="netcdf4", unlimited_dims=["time"])
            mode = "a"
        with netCDF4.Dataset(tmp, "a") as root:
            for key, value in root_attrs.items():
                root.setncattr(key, value)
            root.setncattr("msmcore_status", "running")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return list(names)


def open_for_resume(path: str | Path | ResultsFile, samples_kept: int, *, scheme: str = "",
                    rank: int = 0) -> ResultsWriter:
    """A writer continuing ``path`` after its first ``samples_kept`` samples (:meth:`ResultsWriter.continue_after`)."""
    writer = ResultsWriter(ResultsFile.from_argument(path), scheme=scheme, rank=rank)
    writer.continue_after(samples_kept)
    return writer


def samples_in(path: str | Path) -> tuple[int, float | None]:
    """How many samples a results file holds and the last sample's time (``None`` when empty)."""
    import netCDF4

    with netCDF4.Dataset(path) as root:
        names = json.loads(root.getncattr("msmcore_components"))
        n = _group_times(root)
        last = float(root[names[0]]["time"][n - 1]) if n and names else None
    return n, last
