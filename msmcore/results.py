"""Results of a run: one ``xarray.Dataset`` per component, timings, NetCDF I/O."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import xarray as xr

from msmcore.component import Component
from msmcore.errors import ConfigurationError, MSMError
from msmcore.ports import Direction, Port
from msmcore.timeline import same_time

if TYPE_CHECKING:
    import pandas as pd

    from msmcore.profile import Profile

__all__ = ["Recorder", "Result"]

logger = logging.getLogger(__name__)

#: The NetCDF group holding the profile (:meth:`Result.to_netcdf`).
PROFILE_GROUP = "msmcore_profile"


class Recorder:
    """Copies every component's output ports at sample times.

    Parameters
    ----------
    components, keys
        The coupling's components and their keys.
    start
        First sample time.
    every
        Interval between samples; ``None`` samples at every call of :meth:`maybe_sample`.
    gather
        Under MPI, a collective ``gather(component, port, local samples)``
        returning the global samples (every rank gets the full datasets).
    member
        Whether this rank runs each component (only those are sampled locally).
    resolution
        The shortest time step of the run (its coupling window): two sample
        times closer than a tiny fraction of it are the same time.
    time_units
        Units of time, recorded as ``attrs["units"]`` of each dataset's ``time``.
    sink
        Called with the recorder after each new sample, on every rank (e.g. a
        :class:`msmcore.stream.ResultsWriter` writing results as they come).
    """

    def __init__(self, components: Mapping[str, Component], keys: Mapping[str, str], start: float,
                 every: float | None, *, gather: Callable[[str, str, np.ndarray], np.ndarray] | None = None,
                 member: Mapping[str, bool] | None = None, resolution: float | None = None,
                 time_units: str = "s", sink: Callable[[Recorder], None] | None = None) -> None:
        self.components = components
        self.sink = sink
        self.time_units = time_units
        self.keys = keys
        self.gather = gather
        self.member = member or {n: True for n in components}
        self.every = every
        self.start = start
        steps = [r for r in (resolution, every) if r is not None and r > 0]
        self.resolution = min(steps) if steps else 1.0
        self.next_due = start
        self.times: list[float] = []
        self.data: dict[tuple[str, str], list[np.ndarray]] = {
            (n, p.name): [] for n, c in components.items() for p in c.ports.values()
            if p.direction is Direction.OUT and p.agents is None  # agent ports change size: not sampled
        }

    def sample(self, t: float) -> None:
        """Record all outputs now, at time ``t``."""
        if self.times and same_time(self.times[-1], t, self.resolution):
            return
        self.times.append(t)
        for (name, port), series in self.data.items():
            if self.member[name]:
                series.append(np.array(self.components[name].port_array(port), copy=True).reshape(-1))
            else:
                series.append(np.zeros(0))
        if self.every is not None:  # the first multiple of ``every`` after t (computed, not accumulated)
            k = math.floor((t - self.start) / self.every) + 1
            if same_time(self.start + k * self.every, t, self.every):
                k += 1
            self.next_due = self.start + k * self.every
        if self.sink is not None:
            self.sink(self)

    def maybe_sample(self, t: float) -> None:
        """Record if a sample is due at ``t``."""
        if self.every is None or t >= self.next_due or same_time(t, self.next_due, self.resolution):
            self.sample(t)

    def latest(self) -> dict[tuple[str, str], np.ndarray]:
        """The newest sample of every output port, ``(component, port)`` -> array of the port's shape.

        Collective under MPI (every rank gets the global values).
        """
        out = {}
        for (name, port), series in self.data.items():
            local = series[-1][np.newaxis]
            if self.gather is not None:
                out[(name, port)] = self.gather(name, port, local)[0]
            else:
                out[(name, port)] = local.reshape(self.components[name].ports[port].spec.array_shape)
        return out

    def checkpoint_state(self) -> dict[str, Any]:
        """The samples so far and the next due time, for a checkpoint (each port's samples stacked)."""
        return {"times": np.asarray(self.times, dtype=np.float64), "next_due": float(self.next_due),
                "data": [np.stack(s) if s else np.zeros((0, 0)) for s in self.data.values()]}

    def restore_checkpoint_state(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`checkpoint_state`: the samples recorded before it are kept."""
        self.times = [float(t) for t in state["times"]]
        self.next_due = float(state["next_due"])
        for series, stacked in zip(self.data.values(), state["data"], strict=True):
            series[:] = [np.array(row, copy=True) for row in stacked]

    def datasets(self) -> dict[str, xr.Dataset]:
        """Build one Dataset per component: ``time`` x each port's point dimensions.

        Labels come from the ports' field descriptions: mesh coordinates as
        coordinates of the point dimensions (``attrs["units"]`` from
        ``coord_units``), ``{"points": (n, dim)}`` as a 2D coordinate
        ``<port>_points``, the values per point along ``value_dim`` (default
        ``<port>_component``) labelled with ``value_names``, and ``time`` in
        :attr:`time_units`. Two ports whose dimension of the same name differs
        (length or coordinates) each keep their own, prefixed with the port.
        """
        time = np.asarray(self.times)
        out: dict[str, xr.Dataset] = {}
        for name, comp in self.components.items():
            variables: dict[str, xr.DataArray] = {}
            labels = _Labels(time, self.time_units)
            for port in comp.ports.values():
                if port.direction is not Direction.OUT or port.agents is not None:
                    continue
                dims = labels.port_dims(port)
                local = np.stack(self.data[(name, port.name)]) if self.times else np.empty((0, 0))
                if self.gather is not None:
                    stacked = self.gather(name, port.name, local)
                else:
                    stacked = local.reshape(len(self.times), *port.spec.array_shape)
                variables[port.name] = xr.DataArray(
                    stacked, dims=("time", *dims),
                    attrs={"units": port.spec.units, "long_name": port.doc or port.name},
                )
            ds = xr.Dataset(variables, coords=labels.coords)
            ds.attrs = {"component": name, "key": self.keys.get(name, ""),
                        "settings": json.dumps(_jsonable(comp.settings), default=str)}
            out[name] = ds
        return out


def _jsonable(value: Any) -> Any:
    """Settings as JSON can hold them: mapping keys become strings."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _axis_coords(port: Port) -> dict[str, np.ndarray]:
    """The port's per-axis (1D) mesh coordinates; none for scattered points or curvilinear coordinates."""
    coords = {k: np.asarray(v) for k, v in (port.spec.coords or {}).items() if k != "points"}
    if all(v.ndim == 1 for v in coords.values()):
        return coords
    return {}


def _dims(port: Port) -> tuple[str, ...]:
    """The port's own dimension names: mesh axes (or ``<port>_dim<i>``), then ``value_dim``."""
    spec = port.spec
    names = list(_axis_coords(port))
    dims = [names[i] if i < len(names) else f"{port.name}_dim{i}" for i in range(len(spec.shape))]
    if spec.components != 1:
        dims.append(spec.value_dim or f"{port.name}_component")
    return tuple(dims)


def _equal(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "OUS" or b.dtype.kind in "OUS":
        return bool((a.astype(str) == b.astype(str)).all())
    return bool(np.allclose(a, b, rtol=1e-12, atol=0.0))


class _Labels:
    """The dimensions and coordinates of one component's dataset, collected port by port."""

    def __init__(self, time: np.ndarray, time_units: str) -> None:
        self.coords: dict[str, Any] = {"time": ("time", time, {"long_name": "coupling time", "units": time_units})}
        self.sizes: dict[str, int] = {"time": len(time)}
        self.values: dict[str, np.ndarray | None] = {"time": time}

    def dim(self, port: str, dim: str, size: int, values: np.ndarray | None, attrs: dict[str, Any]) -> str:
        """The name under which this port's dimension enters the dataset (renamed if it clashes)."""
        if dim in self.sizes:
            if self.sizes[dim] == size and _equal(self.values[dim], values):
                return dim
            base, n = f"{port}_{dim}", 1
            dim = base
            while dim in self.sizes:
                n += 1
                dim = f"{base}{n}"
        self.sizes[dim] = size
        self.values[dim] = values
        if values is not None:
            self.coords[dim] = (dim, values, attrs)
        return dim

    def port_dims(self, port: Port) -> tuple[str, ...]:
        """The dimensions of ``port``'s data after ``time``, with their coordinates recorded."""
        spec = port.spec
        given = _axis_coords(port)
        mesh_attrs = {"units": spec.coord_units} if spec.coord_units else {}
        dims = []
        for i, dim in enumerate(_dims(port)):
            if i < len(spec.shape):
                dims.append(self.dim(port.name, dim, spec.shape[i], given.get(dim), mesh_attrs))
            else:
                names = np.asarray(spec.value_names, dtype=str) if spec.value_names else None
                dims.append(self.dim(port.name, dim, spec.components, names,
                                     {"long_name": f"values per point of {port.name}"}))
        mesh = dims[: len(spec.shape)]
        for key, values in (spec.coords or {}).items():
            values = np.asarray(values)
            if key == "points":  # scattered points: (n, dim), or (n,) on a line
                axes = (mesh[0],) if values.ndim == 1 else \
                    (mesh[0], self.dim(port.name, f"{port.name}_axis", values.shape[1], None, {}))
                self.coords[f"{port.name}_points"] = (axes, values, mesh_attrs)
            elif key not in given:  # curvilinear: one array of the port's shape per coordinate
                self.coords[f"{port.name}_{key}"] = (tuple(mesh), values, mesh_attrs)
        return tuple(dims)


class Result(Mapping[str, xr.Dataset]):
    """What a run returns: ``result["macro"]`` is that component's ``xarray.Dataset``.

    Attributes
    ----------
    timings
        Per component: ``initialize_s`` (inside ``initialize``), ``compute_s``
        (inside ``advance``), ``exchange_s`` (moving data into its inputs; under
        MPI also this rank's waits for other ranks) and ``advance_calls``, on this
        rank: sums of the profile's events.
    wall_s
        Wall time of the whole run (on this rank; the profile's events and its
        framework overhead add up to it).
    scheme
        The scheme that ran, as text.
    info
        What the scheme reported, e.g. ``info["iterations"]``: iterations per
        window of an implicit scheme.
    time_units
        Units of the ``time`` coordinates; by default what the datasets'
        ``time`` says (``attrs["units"]``), else ``"s"``.
    profile_data
        The run's events on all ranks (:class:`msmcore.profile.Profile`), or
        ``None`` (a file written before profiling existed);
        :attr:`profile` shows them as a table.
    """

    def __init__(self, datasets: dict[str, xr.Dataset], timings: dict[str, dict[str, float]],
                 wall_s: float = float("nan"), scheme: str = "", info: dict[str, Any] | None = None,
                 rank: int = 0, time_units: str | None = None, profile: Profile | None = None) -> None:
        if time_units is None:
            found = [str(ds["time"].attrs["units"]) for ds in datasets.values()
                     if "time" in ds.coords and "units" in ds["time"].attrs]
            time_units = found[0] if found else "s"
        self.time_units = time_units
        self.datasets = datasets
        self.rank = rank
        self.timings = timings
        self.wall_s = wall_s
        self.scheme = scheme
        self.info = info or {}
        self.profile_data = profile

    def __getitem__(self, name: str) -> xr.Dataset:
        try:
            return self.datasets[name]
        except KeyError:
            have = ", ".join(self.datasets)
            raise ConfigurationError(f"no component '{name}' in this result; it has {have}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.datasets)

    def __len__(self) -> int:
        return len(self.datasets)

    def summary(self) -> str:
        """A short table of compute and exchange time per component, and the framework overhead."""
        lines = [f"{'component':<16}{'compute s':>12}{'exchange s':>12}{'advances':>10}"]
        for name, t in self.timings.items():
            lines.append(f"{name:<16}{t['compute_s']:>12.4g}{t['exchange_s']:>12.4g}{int(t['advance_calls']):>10d}")
        lines.append(f"wall time {self.wall_s:.4g} s ({self.scheme})")
        if self.profile_data is not None and self.profile_data.ranks == 1:
            overhead = float(self.profile_data.overhead().sum())
            lines.append(f"framework overhead {overhead:.4g} s ({100.0 * overhead / (self.wall_s or math.nan):.1f} %"
                         " of the wall time; `msm profile` for more)")
        return "\n".join(lines)

    def _profile(self) -> Profile:
        if self.profile_data is None:
            raise MSMError("this result has no profile (it was read from a file written without one); "
                           "run the coupling again to profile it")
        return self.profile_data

    @property
    def profile(self) -> pd.DataFrame:
        """The run's events as a ``pandas.DataFrame`` (see :meth:`msmcore.profile.Profile.table`).

        Columns ``component``, ``rank``, ``kind``, ``start``, ``end``,
        ``duration``, ``t``, ``count``; under MPI the events of every rank.

        Raises
        ------
        MSMError
            When the result holds no profile.
        """
        return self._profile().table()

    def profile_totals(self, by_rank: bool = False, kinds: bool = False) -> pd.DataFrame:
        """Seconds per component: compute, exchange, wait, checkpoint, and the framework overhead.

        See :meth:`msmcore.profile.Profile.totals`; the ``total`` column adds
        up to the wall time (summed over ranks).

        Raises
        ------
        MSMError
            When the result holds no profile.
        """
        return self._profile().totals(by_rank=by_rank, kinds=kinds)

    def to_netcdf(self, path: str | Path) -> Path:
        """Write every component as a NetCDF4/HDF5 group of one file; returns the path.

        Under MPI every rank holds the same gathered results and only rank 0 writes.
        """
        path = Path(path)
        if self.rank != 0:
            return path
        mode: Literal["w", "a"] = "w"
        for name, ds in self.datasets.items():
            attrs = dict(ds.attrs)
            attrs["timings"] = json.dumps(self.timings.get(name, {}))
            ds.assign_attrs(attrs).to_netcdf(path, mode=mode, group=name, engine="netcdf4")
            mode = "a"
        import netCDF4

        with netCDF4.Dataset(path, "a") as root:
            root.setncattr("msmcore_components", json.dumps(list(self.datasets)))
            root.setncattr("msmcore_wall_s", self.wall_s)
            root.setncattr("msmcore_scheme", self.scheme)
            root.setncattr("msmcore_info", json.dumps(self.info, default=str))
            root.setncattr("msmcore_time_units", self.time_units)
        if self.profile_data is not None:
            self.profile_data.to_dataset().to_netcdf(path, mode="a", group=PROFILE_GROUP, engine="netcdf4")
        return path

    @classmethod
    def from_netcdf(cls, path: str | Path) -> Result:
        """Read a file written by :meth:`to_netcdf`."""
        import netCDF4

        with netCDF4.Dataset(path) as root:
            names = json.loads(root.getncattr("msmcore_components"))
            wall_s = float(root.getncattr("msmcore_wall_s"))
            scheme = str(root.getncattr("msmcore_scheme"))
            info = json.loads(root.getncattr("msmcore_info"))
            attrs = root.ncattrs()
            time_units = str(root.getncattr("msmcore_time_units")) if "msmcore_time_units" in attrs else None
            profiled = PROFILE_GROUP in root.groups
        datasets, timings = {}, {}
        for name in names:
            # times are plain numbers in time_units: no CF decoding into dates or timedeltas
            with xr.open_dataset(path, group=name, engine="netcdf4", decode_times=False,
                                 decode_timedelta=False) as ds:
                loaded = ds.load()
            timings[name] = json.loads(loaded.attrs.pop("timings", "{}"))
            datasets[name] = loaded
        profile = None
        if profiled:
            from msmcore.profile import Profile

            with xr.open_dataset(path, group=PROFILE_GROUP, engine="netcdf4", decode_times=False,
                                 decode_timedelta=False, mask_and_scale=False) as ds:
                profile = Profile.from_dataset(ds.load())
        return cls(datasets, timings, wall_s, scheme, info, time_units=time_units, profile=profile)
