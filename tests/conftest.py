"""Shared fixtures for msmcore's core tests."""

from __future__ import annotations

import gc
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


def pytest_collection_finish(session: pytest.Session) -> None:
    """Move what collection built (every imported module: NumPy, PETSc, OpenMM, PySCF, torch, ...) out of reach
    of the garbage collector.

    Those objects live until the process ends; without this, every full collection -- and every
    ``gc.get_objects()`` of the leak tests -- walks millions of them again. The leak tests compare counts
    taken before and after a run: objects created by the tests are tracked as usual.
    """
    gc.collect()
    gc.freeze()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the files that hold ``slow`` tests first (each file's tests stay together, in their order).

    Under pytest-xdist the long tests then start while there is other work left for the other
    workers, instead of one of them starting last and keeping the run waiting on a single worker.
    """
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # a stable sort
