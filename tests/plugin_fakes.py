"""Synthetic entry points, distributions and plugin modules for discovery tests."""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msmcore as msm


@dataclass
class FakeDistribution:
    """Stands in for importlib.metadata.Distribution: a name and a version."""

    name: str
    version: str = "1.0"
    metadata: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.metadata = {"Name": self.name}


@dataclass
class FakeEntryPoint:
    """A synthetic entry point, as xarray's plugin tests use: no install needed."""

    name: str
    target: Any
    dist: FakeDistribution | None = None
    value: str = ""
    group: str = "msmcore.plugins"

    def __post_init__(self) -> None:
        self.value = self.value or f"fake_{self.name}.plugin"

    def load(self) -> Any:
        if isinstance(self.target, BaseException):
            raise self.target
        return self.target


def plugin_module(name: str, components: dict[str, Any]) -> types.ModuleType:
    """A module with an ``msm_register_components`` hook registering ``components``."""
    module = types.ModuleType(name)

    @msm.hookimpl
    def msm_register_components(register: Callable[..., None]) -> None:
        for key, factory in components.items():
            register(key, factory)

    module.msm_register_components = msm_register_components  # type: ignore[attr-defined]
    return module


class Dummy(msm.Component):
    """A do-nothing component for registry tests."""

    dt = msm.Setting(float, default=0.1)

    def step(self, dt: float) -> None:
        pass


