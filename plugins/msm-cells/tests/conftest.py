"""Shared pytest configuration of msm-cells's tests."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Registered by msmcore's pyproject too; repeated here so the plugin's tests run on their own.
    config.addinivalue_line("markers", "slow: takes more than a few seconds (still run by make test)")
