"""Shared fixtures for msmcore's core tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from plugin_fakes import FakeEntryPoint

from msmcore.plugins import PluginRegistry


@pytest.fixture
def make_registry() -> Callable[..., PluginRegistry]:
    """Build a registry over synthetic entry points and a private environment."""

    def make(*eps: FakeEntryPoint, env: dict[str, str] | None = None) -> PluginRegistry:
        return PluginRegistry(entry_points=lambda: list(eps), environ=dict(env or {}))

    return make
