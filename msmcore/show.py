"""``msm show KEY``: what a component is, which settings it takes and which ports it has.

Ports may depend on settings (a grid's shape, a network's species), so they
are listed for a built component: built with its defaults when it needs no
setting, otherwise with the settings given (``msm show kinetics.network --set
model="A -> B; k*A; k = 1"``); without them the description says which
settings are required.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from msmcore.component import Component
from msmcore.errors import MSMError
from msmcore.guards import guarded
from msmcore.plugins import PluginRegistry, get_registry
from msmcore.ports import Port
from msmcore.settings import Setting

__all__ = ["ComponentDescription", "component_factory", "describe_component", "parse_settings"]


@dataclass
class ComponentDescription:
    """What ``msm show`` prints about one component.

    Attributes
    ----------
    key
        The registered key (or the ``file.py:Class`` reference).
    description
        First paragraph of the class docstring.
    distribution, version
        Where the component comes from (``None`` for a script or a file).
    settings
        One entry per setting: ``name``, ``type``, ``required``, ``default``,
        ``minimum``, ``maximum``, ``choices``, ``units``, ``doc``.
    required
        Names of the settings without a default.
    given
        The settings the ports were built with.
    ports
        One entry per port: ``name``, ``direction``, ``shape``,
        ``values_per_point``, ``value_names``, ``units``, ``coords``,
        ``coord_units``, ``required``, ``doc``; ``None`` when they could not
        be built (see ``ports_note``).
    ports_note
        Why the ports are not listed, and what to give.
    """

    key: str
    description: str
    distribution: str | None
    version: str | None
    settings: list[dict[str, Any]]
    required: list[str]
    given: dict[str, Any] = field(default_factory=dict)
    ports: list[dict[str, Any]] | None = None
    ports_note: str | None = None

    def to_json(self) -> str:
        """The description as JSON (values JSON cannot hold are written as their ``repr``)."""
        return json.dumps(_jsonable(self.__dict__), indent=2)

    def to_text(self) -> str:
        """The description as a few aligned tables, for a terminal."""
        origin = f"{self.distribution} {self.version or ''}".strip() if self.distribution else "script or file"
        lines = [f"{self.key}  ({origin})"]
        if self.description:
            lines.append(self.description)
        lines += ["", "Settings (* required):"]
        rows: list[tuple[str, ...]] = [("NAME", "TYPE", "DEFAULT", "ALLOWED", "UNITS", "DOC")]
        for s in self.settings:
            allowed = _allowed(s)
            default = "" if s["required"] else _text(s["default"])
            rows.append((s["name"] + ("*" if s["required"] else ""), s["type"], default, allowed,
                         s["units"] or "", s["doc"]))
        lines += _table(rows) if self.settings else ["  (none)"]
        lines.append("")
        if self.ports is None:
            lines.append(f"Ports: {self.ports_note}")
        else:
            given = ", ".join(f"{k}={_text(v)}" for k, v in self.given.items())
            lines.append(f"Ports (with {given}):" if given else "Ports (with the defaults):")
            rows = [("NAME", "DIRECTION", "SHAPE", "VALUES/POINT", "UNITS", "REQUIRED", "DOC")]
            for p in self.ports:
                values = str(p["values_per_point"])
                if p["value_names"]:
                    values += f" ({', '.join(p['value_names'])})"
                rows.append((p["name"], p["direction"], "x".join(str(n) for n in p["shape"]), values,
                             p["units"], "yes" if p["required"] else "no", p["doc"]))
            lines += _table(rows) if self.ports else ["  (none)"]
        return "\n".join(lines)


def _allowed(s: Mapping[str, Any]) -> str:
    if s["choices"] is not None:
        return " | ".join(str(c) for c in s["choices"])
    low, high = s["minimum"], s["maximum"]
    if low is not None and high is not None:
        return f"{low} .. {high}"
    if low is not None:
        return f">= {low}"
    if high is not None:
        return f"<= {high}"
    return ""


def _text(value: Any, limit: int = 40) -> str:
    if value is None:
        return "None"
    text = json.dumps(_jsonable(value)) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 4] + " ..."


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return ["  " + "  ".join(f"{c:<{w}}" for c, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in rows]


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    return repr(value)


def _first_paragraph(text: str | None) -> str:
    paragraph: list[str] = []
    for line in (text or "").strip().splitlines():
        if not line.strip():
            if paragraph:
                break
            continue
        paragraph.append(line.strip())
    return " ".join(paragraph)


def _setting(spec: Setting[Any]) -> dict[str, Any]:
    return {
        "name": spec.name,
        "type": getattr(spec.type, "__name__", repr(spec.type)),
        "required": spec.required,
        "default": None if spec.required else spec.default,
        "minimum": spec.minimum,
        "maximum": spec.maximum,
        "choices": list(spec.choices) if spec.choices is not None else None,
        "units": spec.units,
        "doc": spec.doc,
    }


def _port(port: Port) -> dict[str, Any]:
    spec = port.spec
    return {
        "name": port.name,
        "direction": port.direction.value,
        "shape": [f"agents:{port.agents}"] if port.agents else list(spec.shape),  # one point per agent
        "values_per_point": spec.components,
        "value_names": list(spec.value_names) if spec.value_names else None,
        "units": spec.units,
        "coords": list(spec.coords) if spec.coords else [],
        "coord_units": spec.coord_units,
        "required": port.required,
        "doc": port.doc,
    }


def parse_settings(factory: Any, texts: Mapping[str, str]) -> dict[str, Any]:
    """Settings written as text (``--set NAME=VALUE``), each read as a YAML value.

    A setting whose declared type is ``str`` keeps the text as written when it
    does not read as a YAML string (``model=J: A -> B; k*A`` would otherwise
    read as a mapping).
    """
    from msmcore.yamlfile import parse_value

    specs = factory.setting_specs() if isinstance(factory, type) and issubclass(factory, Component) else {}
    values: dict[str, Any] = {}
    for name, text in texts.items():
        is_text = name in specs and specs[name].type is str
        try:
            value = parse_value(text, f"--set {name}")
        except MSMError:
            if not is_text:
                raise
            value = text
        values[name] = text if is_text and not isinstance(value, str) else value
    return values


def component_factory(key: str, registry: PluginRegistry | None = None) -> tuple[Any, str, str | None, str | None]:
    """``(factory, description, distribution, version)`` of a key or a ``file.py:Class`` reference."""
    if ":" in key:
        from msmcore.usercode import load_component_class

        return load_component_class(key, Path.cwd()), "", None, None
    info = (registry or get_registry()).get(key)
    return info.factory, info.description, info.distribution, info.version


def describe_component(key: str, settings: Mapping[str, Any] | None = None, *,
                       registry: PluginRegistry | None = None) -> ComponentDescription:
    """Describe component ``key``, its ports built with ``settings`` (or its defaults).

    Parameters
    ----------
    key
        A registered key (``"fluid.diffusion"``), or ``"file.py:Class"`` /
        ``"package.module:Class"`` naming a class in the user's code
        (files relative to the current folder).
    settings
        Settings to build the component with, to list its ports.
    registry
        Where keys are looked up; the process-wide registry by default.

    Raises
    ------
    UnknownComponentError
        No such key (the message lists the installed ones).
    ConfigurationError
        ``settings`` were given and the component cannot be built with them.
    """
    settings = dict(settings or {})
    factory, fallback, distribution, version = component_factory(key, registry)
    if not (isinstance(factory, type) and issubclass(factory, Component)):
        return ComponentDescription(key, _first_paragraph(getattr(factory, "__doc__", None)) or fallback,
                                    distribution, version, [], [], settings, None,
                                    "not listed: the component is built by a factory function, not a "
                                    "Component class, so its settings and ports are known once built")
    specs = factory.setting_specs()
    described = [_setting(s) for s in specs.values()]
    required = [s.name for s in specs.values() if s.required]
    result = ComponentDescription(key, _first_paragraph(factory.__doc__) or fallback, distribution, version,
                                  described, required, settings)
    missing = [n for n in required if n not in settings]
    if missing:
        example = " ".join(f"--set {n}=..." for n in missing)
        result.ports_note = (f"they depend on the settings; give the required one(s) to list them: {example}")
        return result
    try:
        instance = guarded(key, key, "being built", settings, lambda: factory(name=key.replace(".", "_"),
                                                                               **settings))
        ports = guarded(key, key, "declaring its ports", settings, lambda: instance.ports)
    except MSMError as exc:
        if settings:
            raise
        result.ports_note = (f"cannot be listed with the defaults ({exc}); give settings with "
                             "--set key=value")
        return result
    result.ports = [_port(p) for p in ports.values()]
    return result
