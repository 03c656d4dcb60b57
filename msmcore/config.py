"""YAML configurations: the same composition as the Python API, in a file.

::

    components:
      macro:
        component: fluid.diffusion      # the key; every other entry is a setting
        shape: [100]
        D: 0.0405
        dt: 2.469136e-6
      micro:
        component: kinetics.network
        model: "J: U -> ; k*U; k = 4.05e4"
        dt: 2.469136e-8
    connections:
      - macro.state_out -> micro.state_in
      - micro.state_out -> macro.state_in
    scheme:                             # serial | parallel | macro-micro | implicit
      type: macro-micro
      macro: macro
      micro: micro
      horizon: 2.469136e-6
    run:
      until: 1.234568e-4
      sample_every: 2.469136e-6          # optional
      out: rd.nc                         # optional, relative to this file
    checkpoints:                         # optional: snapshots to resume from (msm run --resume)
      every: 2.469136e-5                 # simulation time; and/or wallclock: seconds
      keep: 2
      path: rd.ckpt                      # a folder, relative to this file

A component may also be a class in the user's own Python file or module::

      growth:
        component: {python: mymodels.py:Logistic}   # relative to this file; or pkg.module:Class

Or a function in the user's Python builds the whole coupling, instead of
``components``/``connections`` (and ``scheme``, when it returns one)::

    build: {python: gray_scott.py:build, args: {n: 24}}   # returns (coupling, scheme) or a Coupling
    run: {until: 120.0}

Files are read with ``yaml.safe_load`` semantics, bounded in size and alias
expansion (:mod:`msmcore.yamlfile`); every error names the file, the line and
the key.
"""

from __future__ import annotations

import logging
import math
import numbers
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from msmcore.acceleration import IQNILS, Acceleration, Aitken, ConstantRelaxation, NoAcceleration
from msmcore.component import Component
from msmcore.coupling import Coupling
from msmcore.errors import ConfigurationError, MSMError
from msmcore.schemes import Implicit, MacroMicro, Parallel, Scheme, Serial
from msmcore.usercode import call_builder, load_component_class
from msmcore.yamlfile import LineList, LineMap, plain, read_yaml

__all__ = ["Config", "load_config"]

logger = logging.getLogger(__name__)

_TOP = {"components", "connections", "scheme", "run", "checkpoints", "build"}
_CHECKPOINTS = {"every", "wallclock", "keep", "path"}
_RUN = {"until", "start", "sample_every", "quiet", "check_finite", "out", "max_steps"}
_SCHEMES: dict[str, tuple[type[Scheme], set[str], set[str]]] = {
    # type: (class, required keys, optional keys)
    "serial": (Serial, set(), {"window", "order"}),
    "parallel": (Parallel, set(), {"window"}),
    "macro-micro": (MacroMicro, {"macro", "micro", "horizon"}, {"window"}),
    "implicit": (Implicit, {"window"}, {"variant", "order", "acceleration", "rel_tol", "abs_tol", "tolerances",
                                        "min_iterations", "max_iterations", "on_divergence"}),
}
_ACCELERATIONS: dict[str, type[Acceleration]] = {
    "none": NoAcceleration,
    "constant": ConstantRelaxation,
    "aitken": Aitken,
    "iqn-ils": IQNILS,
}
_CONNECTION_KEYS = {"from", "to", "interpolate", "mapping", "conservative", "basis", "support_radius",
                    "source_component", "target_component",
                    "polynomial", "positions", "volumes", "radius", "quantity", "samples"}
#: Keys of a component entry that are not settings: placement, handed to Coupling.add as keywords.
_PLACEMENT = {"ranks", "nprocs"}


@dataclass
class Config:
    """A loaded configuration: the built coupling, its scheme and run options."""

    path: Path
    coupling: Coupling
    scheme: Scheme
    run_options: dict[str, Any] = field(default_factory=dict)
    out: Path | None = None

    def run(self, **overrides: Any) -> Any:
        """Run the coupling with the file's options (``overrides`` win); returns the Result."""
        options = {**self.run_options, **overrides}
        return self.coupling.run(scheme=self.scheme, **options)


def load_config(path: str | Path, *, coupling: Coupling | None = None) -> Config:
    """Read a YAML file and build the coupling it describes.

    Raises
    ------
    ConfigurationError
        Malformed YAML, unknown or missing keys, bad values — each naming the
        file, line and key. Errors from components and connections are
        re-raised as ``ConfigurationError`` with the same location.
    """
    path = Path(path)
    where = str(path)
    doc = read_yaml(path)
    if not isinstance(doc, LineMap):
        raise ConfigurationError(f"{where}: the file must hold a mapping with keys {sorted(_TOP)}")
    _check_keys(doc, _TOP, set(), where, "top level")
    if "components" not in doc and "build" not in doc:
        raise ConfigurationError(f"{where}:{doc.line}: top level is missing the key 'components' (or 'build', "
                                 "naming a Python function that builds the coupling)")

    if "build" in doc:
        coupling, built_scheme = _build(doc, coupling, path)
    else:
        coupling, built_scheme = _compose(doc, coupling or Coupling(), path), None
    scheme = built_scheme or _scheme(doc.get("scheme"), doc.lines.get("scheme", 0), where)
    options, out = _run_options(doc, path)
    if "checkpoints" in doc:
        options["checkpoint"] = _checkpoints(doc["checkpoints"], doc.lines["checkpoints"], path)
    try:
        coupling.validate(scheme)
    except MSMError as exc:
        raise ConfigurationError(f"{where}: {exc}") from exc
    return Config(path, coupling, scheme, options, out)


def _compose(doc: LineMap, coupling: Coupling, path: Path) -> Coupling:
    """The coupling of the ``components`` and ``connections`` blocks."""
    where = str(path)
    comps = doc["components"]
    if not isinstance(comps, LineMap) or not comps:
        raise ConfigurationError(f"{where}:{doc.lines['components']}: 'components' must map names to components")
    for name, spec in comps.items():
        _add_component(coupling, name, spec, comps.lines[name], path)

    conns = doc.get("connections")
    if conns is None:
        conns = LineList()
        conns.lines = []
    if not isinstance(conns, LineList):
        raise ConfigurationError(f"{where}:{doc.lines['connections']}: 'connections' must be a list")
    for i, item in enumerate(conns):
        _connect(coupling, i, item, conns.lines[i], where)
    return coupling


def _build(doc: LineMap, coupling: Coupling | None, path: Path) -> tuple[Coupling, Scheme | None]:
    """The ``build: {python: file.py:function, args: {...}}`` block: the coupling (and scheme) it returns."""
    where, line, spec = f"{path}:{doc.lines['build']}", doc.lines["build"], doc["build"]
    both = sorted(k for k in ("components", "connections") if k in doc)
    if both:
        raise ConfigurationError(f"{where}: 'build' cannot be combined with {' and '.join(repr(k) for k in both)} "
                                 f"(line {doc.lines[both[0]]}): the function builds the coupling; remove one")
    if coupling is not None:
        raise ConfigurationError(f"{where}: a configuration with 'build' makes its own coupling; "
                                 "load it without coupling=")
    if not isinstance(spec, LineMap) or "python" not in spec or not set(spec) <= {"python", "args"}:
        raise ConfigurationError(f"{where}: 'build' must be {{python: mysetup.py:function, args: {{...}}}} "
                                 f"(args optional), got {plain(spec)!r}")
    args = spec.get("args", {})
    if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
        raise ConfigurationError(f"{path}:{spec.lines.get('args', line)}: build.args must map argument names "
                                 f"to values, got {plain(args)!r}")
    try:
        built, scheme = call_builder(spec["python"], {k: plain(v) for k, v in args.items()}, path.parent)
    except ConfigurationError as exc:
        if str(exc).startswith("args:"):  # arguments the function does not take
            raise ConfigurationError(f"{path}:{spec.lines.get('args', line)}: build.{exc}") from exc
        raise ConfigurationError(f"{path}:{spec.lines['python']}: build: {exc}") from exc
    if scheme is not None and "scheme" in doc:
        raise ConfigurationError(f"{path}:{doc.lines['scheme']}: 'scheme' is given, but {spec['python']} returns "
                                 "a scheme too; drop one (the function may return the coupling alone)")
    return built, scheme


def _add_component(coupling: Coupling, name: Any, spec: Any, line: int, path: Path) -> None:
    where = str(path)
    if not isinstance(name, str):
        raise ConfigurationError(f"{where}:{line}: component names must be text, got {name!r}; "
                                 "write e.g. 'macro:'")
    if not isinstance(spec, LineMap) or "component" not in spec:
        raise ConfigurationError(
            f"{where}:{line}: components.{name} must be a mapping with a 'component' key "
            "(e.g. component: fluid.diffusion) and its settings"
        )
    for key in spec:
        if not isinstance(key, str):
            raise ConfigurationError(
                f"{where}:{spec.lines[key]}: components.{name}: setting names must be text, got {key!r}"
                + (" (YAML reads an empty or '~'/'null' key as null)" if key is None else "")
                + "; write the setting's name, e.g. 'dt: 0.01'"
            )
    if "name" in spec:
        raise ConfigurationError(f"{where}:{spec.lines['name']}: components.{name}: 'name' is not a setting: "
                                 f"the component's name is its key under 'components' ('{name}')")
    component = _component_ref(spec["component"], spec.lines["component"], name, path)
    settings = {k: plain(v) for k, v in spec.items() if k != "component"}
    try:
        coupling.add(name, component, **settings)
    except MSMError as exc:
        key = re.search(r"setting(?:\(s\))? '([^']+)'", str(exc))
        at = spec.lines.get(key.group(1), line) if key else spec.lines.get("component", line)
        raise ConfigurationError(f"{where}:{at}: components.{name}: {exc}") from exc


def _component_ref(value: Any, line: int, name: str, path: Path) -> str | type[Component]:
    """A registered key, or the class a ``{python: file.py:Class}`` entry names."""
    where = f"{path}:{line}: components.{name}.component"
    if isinstance(value, str):
        return value
    if isinstance(value, LineMap) and set(value) == {"python"}:
        try:
            return load_component_class(value["python"], path.parent)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{where}: {exc}") from exc
    raise ConfigurationError(f"{where} must be a registered key (e.g. fluid.diffusion; `msm plugins` lists "
                             f"them) or {{python: mymodels.py:ClassName}}, got {plain(value)!r}")


def _connect(coupling: Coupling, i: int, item: Any, line: int, where: str) -> None:
    options: dict[str, Any] = {}
    if isinstance(item, str) and "->" in item:
        source, target = (s.strip() for s in item.split("->", 1))
    elif isinstance(item, dict) and all(isinstance(k, str) for k in item) \
            and {"from", "to"} <= set(item) <= _CONNECTION_KEYS:
        source, target = item["from"], item["to"]
        if not isinstance(source, str) or not isinstance(target, str):
            raise ConfigurationError(f"{where}:{line}: connections[{i}]: 'from' and 'to' must be "
                                     "'component.port' text")
        options = {k: plain(v) for k, v in item.items() if k not in ("from", "to")}
        for key, value in options.items():
            problem = _connection_option_problem(key, value)
            if problem:
                at = item.lines.get(key, line) if isinstance(item, LineMap) else line
                raise ConfigurationError(f"{where}:{at}: connections[{i}].{key} {problem}, got {value!r}")
    else:
        raise ConfigurationError(
            f"{where}:{line}: connections[{i}] must be 'comp.port -> comp.port' or "
            f"{{from: comp.port, to: comp.port}} with optional keys {sorted(_CONNECTION_KEYS - {'from', 'to'})}"
        )
    try:
        coupling.connect(source, target, **options)
    except MSMError as exc:
        raise ConfigurationError(f"{where}:{line}: connections[{i}]: {exc}") from exc


def _connection_option_problem(key: str, value: Any) -> str | None:
    if key in ("interpolate", "conservative", "polynomial"):
        return None if isinstance(value, bool) else "must be true or false"
    if key in ("source_component", "target_component"):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return None if ok else "must be a whole number >= 0 (the index of a value per point)"
    if key in ("mapping", "basis", "positions", "volumes", "quantity"):
        return None if isinstance(value, str) else "must be text"
    if key == "radius":
        return None if _is_number(value) and value >= 0 else "must be a number >= 0"
    if key == "samples":
        return None if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else \
            "must be a whole number >= 1"
    if key == "support_radius":
        return None if _is_number(value) and value > 0 else "must be a positive number"
    return None


def _is_number(value: Any) -> bool:
    """A finite real number (not a bool; an int too large for a float is not finite)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _run_options(doc: LineMap, path: Path) -> tuple[dict[str, Any], Path | None]:
    where = str(path)
    run = doc.get("run", LineMap())
    if not isinstance(run, LineMap):
        raise ConfigurationError(f"{where}:{doc.lines['run']}: 'run' must be a mapping")
    if not hasattr(run, "lines"):
        run.lines = {}
    _check_keys(run, _RUN, {"until"}, where, "run", doc.lines.get("run", 0))
    options = {k: plain(v) for k, v in run.items() if k != "out"}
    for key in ("until", "start", "sample_every"):
        if key in options and not _is_number(options[key]):
            value = options[key]
            hint = " (YAML reads yes/no/on/off as true/false)" if isinstance(value, bool) else ""
            raise ConfigurationError(f"{where}:{run.lines[key]}: run.{key} must be a number (finite, in the "
                                     f"coupling's time units), got {value!r}{hint}")
    if "max_steps" in options and not (_is_number(options["max_steps"]) and options["max_steps"] > 0):
        raise ConfigurationError(f"{where}:{run.lines['max_steps']}: run.max_steps must be a positive number, "
                                 f"got {options['max_steps']!r}")
    if "sample_every" in options and not options["sample_every"] > 0:
        raise ConfigurationError(f"{where}:{run.lines['sample_every']}: run.sample_every must be positive, "
                                 f"got {options['sample_every']!r}")
    if not options["until"] > options.get("start", 0.0):
        raise ConfigurationError(f"{where}:{run.lines['until']}: run.until ({options['until']!r}) must be after "
                                 f"run.start ({options.get('start', 0.0)!r})")
    for key in ("quiet", "check_finite"):
        if key in options and not isinstance(options[key], bool):
            raise ConfigurationError(f"{where}:{run.lines[key]}: run.{key} must be true or false, "
                                     f"got {options[key]!r}")
    out = None
    if "out" in run:
        if not isinstance(run["out"], str) or not run["out"].strip():
            raise ConfigurationError(f"{where}:{run.lines['out']}: run.out must be a file name, got {run['out']!r}")
        out = path.parent / run["out"]
    return options, out


def _checkpoints(spec: Any, line: int, path: Path) -> Any:
    """The ``checkpoints:`` block as :class:`msmcore.Checkpoints` (``path`` relative to the file)."""
    from msmcore.checkpoint import Checkpoints

    where = str(path)
    if not isinstance(spec, LineMap):
        raise ConfigurationError(f"{where}:{line}: 'checkpoints' must be a mapping with keys "
                                 f"{', '.join(sorted(_CHECKPOINTS))}")
    _check_keys(spec, _CHECKPOINTS, set(), where, "checkpoints", line)
    args = {k: plain(v) for k, v in spec.items()}
    if "path" in args:
        if not isinstance(args["path"], str) or not args["path"].strip():
            raise ConfigurationError(f"{where}:{spec.lines['path']}: checkpoints.path must be a folder name, "
                                     f"got {args['path']!r}")
    args["path"] = path.parent / args.get("path", "run.ckpt")
    try:
        return Checkpoints(**args)
    except MSMError as exc:
        raise ConfigurationError(f"{where}:{_line_of(spec, exc, line)}: checkpoints: {exc}") from exc


def _scheme(spec: Any, line: int, where: str) -> Scheme:
    if spec is None:
        return Serial()
    if isinstance(spec, str):
        spec = LineMap(type=spec)
        spec.lines, spec.line = {"type": line}, line
    if not isinstance(spec, LineMap) or "type" not in spec:
        raise ConfigurationError(f"{where}:{line}: 'scheme' needs a 'type': one of {sorted(_SCHEMES)}")
    kind = str(spec["type"]).lower().replace("_", "-")
    if kind not in _SCHEMES:
        raise ConfigurationError(f"{where}:{spec.lines['type']}: scheme.type '{spec['type']}' is not one of "
                                 f"{sorted(_SCHEMES)}")
    cls, required, optional = _SCHEMES[kind]
    _check_keys(spec, required | optional | {"type"}, required | {"type"}, where, "scheme", line)
    args = {k: plain(v) for k, v in spec.items() if k != "type"}
    if "acceleration" in args:
        args["acceleration"] = _acceleration(spec["acceleration"], spec.lines["acceleration"], where)
    if "tolerances" in args:
        args["tolerances"] = _tolerances(args["tolerances"], spec.lines["tolerances"], where)
    try:
        return cls(**args)
    except (TypeError, MSMError) as exc:
        raise ConfigurationError(f"{where}:{_line_of(spec, exc, line)}: scheme: {exc}") from exc


def _line_of(spec: LineMap, exc: Exception, default: int) -> int:
    """The line of the first key of ``spec`` that the message of ``exc`` names (``key=`` or ``'key'``)."""
    text = str(exc)
    for key in spec:
        if isinstance(key, str) and (f"{key}=" in text or f"'{key}'" in text or f" {key} " in text):
            return spec.lines[key]
    return default


def _tolerances(value: Any, line: int, where: str) -> dict[str, tuple[Any, ...]]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ConfigurationError(f"{where}:{line}: scheme.tolerances must map 'component.port' to "
                                 f"[rel_tol, abs_tol], got {value!r}")
    out = {}
    for key, pair in value.items():
        if not isinstance(pair, list):
            raise ConfigurationError(f"{where}:{line}: scheme.tolerances.{key} must be [rel_tol, abs_tol], "
                                     f"got {pair!r}")
        out[key] = tuple(pair)
    return out


def _acceleration(spec: Any, line: int, where: str) -> Acceleration:
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict) or "type" not in spec:
        raise ConfigurationError(f"{where}:{line}: scheme.acceleration needs a 'type': one of "
                                 f"{sorted(_ACCELERATIONS)}")
    kind = str(spec["type"]).lower().replace("_", "-")
    if kind not in _ACCELERATIONS:
        raise ConfigurationError(f"{where}:{line}: acceleration type '{spec['type']}' is not one of "
                                 f"{sorted(_ACCELERATIONS)}")
    bad = [k for k in spec if not isinstance(k, str)]
    if bad:
        raise ConfigurationError(f"{where}:{line}: scheme.acceleration: option names must be text, got {bad[0]!r}")
    try:
        return _ACCELERATIONS[kind](**{k: plain(v) for k, v in spec.items() if k != "type"})
    except (TypeError, MSMError) as exc:
        raise ConfigurationError(f"{where}:{line}: scheme.acceleration: {exc}") from exc


def _check_keys(mapping: LineMap, allowed: set[str], required: set[str], where: str, what: str,
                line: int | None = None) -> None:
    for key in mapping:
        if key not in allowed:
            raise ConfigurationError(f"{where}:{mapping.lines[key]}: unknown key {key!r} in {what}; "
                                     f"allowed: {', '.join(sorted(allowed))}")
    for key in sorted(required - set(mapping)):
        raise ConfigurationError(f"{where}:{line or mapping.line}: {what} is missing the key '{key}'")
