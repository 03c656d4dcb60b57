"""Shared pytest configuration of msm-md's tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# --import-mode=importlib puts no test folder on sys.path: make openmm_helpers importable.
sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_configure(config: pytest.Config) -> None:
    # Registered by msmcore's pyproject too; repeated here so the plugin's tests run on their own.
    config.addinivalue_line("markers", "slow: takes more than a few seconds (still run by make test)")
