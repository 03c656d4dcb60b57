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

Files are read with ``yaml.safe_load`` semantics; every error names the file,
the line and the key.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from msmcore.coupling import Coupling
from msmcore.errors import ConfigurationError, MSMError
from msmcore.acceleration import IQNILS, Acceleration, Aitken, ConstantRelaxation, NoAcceleration
from msmcore.schemes import Implicit, MacroMicro, Parallel, Scheme, Serial

__all__ = ["Config", "load_config"]

logger = logging.getLogger(__name__)

_TOP = {"components", "connections", "scheme", "run"}
_RUN = {"until", "start", "sample_every", "quiet", "check_finite", "out"}
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
                    "polynomial"}


class _Map(dict):  # type: ignore[type-arg]
    """A mapping that remembers the line of each key (1-based)."""

    line: int = 0
    lines: dict[Any, int]


class _Seq(list):  # type: ignore[type-arg]
    """A sequence that remembers the line of each item (1-based)."""

    line: int = 0
    lines: list[int]


class _DuplicateKey(Exception):
    def __init__(self, line: int, key: Any) -> None:
        super().__init__(f"key '{key}' appears twice")
        self.line = line


class _LineLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that records line numbers."""


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise _DuplicateKey(key_node.start_mark.line + 1, key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> _Seq:
    result = _Seq(loader.construct_object(n, deep=True) for n in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [n.start_mark.line + 1 for n in node.value]
    return result


# YAML 1.1 (PyYAML) reads 4.05e4 and 1e-6 as strings; read them as floats, as YAML 1.2 does.
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


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
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read configuration {where}: {exc.strerror}") from None
    try:
        doc = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else "?"
        raise ConfigurationError(f"{where}:{line}: invalid YAML: {exc.problem or exc}") from None
    except _DuplicateKey as exc:
        raise ConfigurationError(f"{where}:{exc.line}: {exc}") from None
    if not isinstance(doc, _Map):
        raise ConfigurationError(f"{where}: the file must hold a mapping with keys {sorted(_TOP)}")
    _check_keys(doc, _TOP, {"components"}, where, "top level")

    coupling = coupling or Coupling()
    comps = doc["components"]
    if not isinstance(comps, _Map) or not comps:
        raise ConfigurationError(f"{where}:{doc.lines['components']}: 'components' must map names to components")
    for name, spec in comps.items():
        line = comps.lines[name]
        if not isinstance(spec, _Map) or "component" not in spec:
            raise ConfigurationError(
                f"{where}:{line}: components.{name} must be a mapping with a 'component' key "
                "(e.g. component: fluid.diffusion) and its settings"
            )
        settings = {k: _plain(v) for k, v in spec.items() if k != "component"}
        try:
            coupling.add(str(name), str(spec["component"]), **settings)
        except MSMError as exc:
            key = re.search(r"setting(?:\(s\))? '([^']+)'", str(exc))
            at = spec.lines.get(key.group(1), line) if key else spec.lines.get("component", line)
            raise ConfigurationError(f"{where}:{at}: components.{name}: {exc}") from exc

    conns = doc.get("connections") or _Seq()
    if not isinstance(conns, list):
        raise ConfigurationError(f"{where}:{doc.lines['connections']}: 'connections' must be a list")
    for i, item in enumerate(conns):
        line = conns.lines[i] if isinstance(conns, _Seq) else doc.lines["connections"]
        options: dict[str, Any] = {}
        if isinstance(item, str) and "->" in item:
            source, target = (s.strip() for s in item.split("->", 1))
        elif isinstance(item, dict) and {"from", "to"} <= set(item) <= _CONNECTION_KEYS:
            source, target = str(item["from"]), str(item["to"])
            options = {k: _plain(v) for k, v in item.items() if k not in ("from", "to")}
        else:
            raise ConfigurationError(
                f"{where}:{line}: connections[{i}] must be 'comp.port -> comp.port' or "
                f"{{from: comp.port, to: comp.port}} with optional keys {sorted(_CONNECTION_KEYS - {'from', 'to'})}"
            )
        try:
            coupling.connect(source, target, **options)
        except MSMError as exc:
            raise ConfigurationError(f"{where}:{line}: connections[{i}]: {exc}") from exc

    scheme = _scheme(doc.get("scheme"), doc.lines.get("scheme", 0), where)
    run = doc.get("run", _Map())
    if not isinstance(run, _Map):
        raise ConfigurationError(f"{where}:{doc.lines['run']}: 'run' must be a mapping")
    _check_keys(run, _RUN, {"until"}, where, "run", doc.lines.get("run", 0))
    options = {k: _plain(v) for k, v in run.items() if k != "out"}
    for key in ("until", "start", "sample_every"):
        if key in options and not isinstance(options[key], (int, float)):
            raise ConfigurationError(f"{where}:{run.lines[key]}: run.{key} must be a number, got {options[key]!r}")
    out = (path.parent / str(run["out"])) if "out" in run else None
    try:
        coupling.validate(scheme)
    except MSMError as exc:
        raise ConfigurationError(f"{where}: {exc}") from exc
    return Config(path, coupling, scheme, options, out)


def _scheme(spec: Any, line: int, where: str) -> Scheme:
    if spec is None:
        return Serial()
    if isinstance(spec, str):
        spec = _Map(type=spec)
        spec.lines, spec.line = {"type": line}, line
    if not isinstance(spec, _Map) or "type" not in spec:
        raise ConfigurationError(f"{where}:{line}: 'scheme' needs a 'type': one of {sorted(_SCHEMES)}")
    kind = str(spec["type"]).lower().replace("_", "-")
    if kind not in _SCHEMES:
        raise ConfigurationError(f"{where}:{spec.lines['type']}: scheme.type '{spec['type']}' is not one of {sorted(_SCHEMES)}")
    cls, required, optional = _SCHEMES[kind]
    args = {k: _plain(v) for k, v in spec.items() if k != "type"}
    _check_keys(spec, required | optional | {"type"}, required | {"type"}, where, "scheme", line)
    if "acceleration" in args:
        args["acceleration"] = _acceleration(spec["acceleration"], spec.lines["acceleration"], where)
    if "tolerances" in args:
        args["tolerances"] = {k: tuple(v) for k, v in args["tolerances"].items()}
    try:
        return cls(**args)
    except (TypeError, MSMError) as exc:
        raise ConfigurationError(f"{where}:{line}: scheme: {exc}") from exc


def _acceleration(spec: Any, line: int, where: str) -> Acceleration:
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict) or "type" not in spec:
        raise ConfigurationError(f"{where}:{line}: scheme.acceleration needs a 'type': one of {sorted(_ACCELERATIONS)}")
    kind = str(spec["type"]).lower().replace("_", "-")
    if kind not in _ACCELERATIONS:
        raise ConfigurationError(f"{where}:{line}: acceleration type '{spec['type']}' is not one of {sorted(_ACCELERATIONS)}")
    try:
        return _ACCELERATIONS[kind](**{k: _plain(v) for k, v in spec.items() if k != "type"})
    except (TypeError, MSMError) as exc:
        raise ConfigurationError(f"{where}:{line}: scheme.acceleration: {exc}") from exc


def _check_keys(mapping: _Map, allowed: set[str], required: set[str], where: str, what: str,
                line: int | None = None) -> None:
    for key in mapping:
        if key not in allowed:
            raise ConfigurationError(f"{where}:{mapping.lines[key]}: unknown key '{key}' in {what}; "
                                     f"allowed: {', '.join(sorted(allowed))}")
    for key in sorted(required - set(mapping)):
        raise ConfigurationError(f"{where}:{line or mapping.line}: {what} is missing the key '{key}'")


def _plain(value: Any) -> Any:
    """Line-tracking containers back to plain dicts and lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
