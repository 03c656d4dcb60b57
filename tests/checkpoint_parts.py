"""Helpers of the checkpoint tests: a failure injected into a component, exact comparison of results."""

from __future__ import annotations

import numpy as np

import msmcore as msm


class Crash(RuntimeError):
    """The failure injected into a component."""


def crash_after(coupling: msm.Coupling, name: str, t_crash: float) -> None:
    """Make component ``name`` raise when asked to advance past ``t_crash`` (a machine dying mid-run)."""
    comp = coupling.components[name]
    advance = comp.advance

    def failing(t: float) -> None:
        if t > t_crash:
            raise Crash(f"injected failure at t={t}")
        advance(t)

    comp.advance = failing  # type: ignore[method-assign]


def assert_same(a: msm.Result, b: msm.Result) -> None:
    assert list(a) == list(b)
    for name in a:
        assert a[name].equals(b[name]), name
        for var in a[name].data_vars:
            assert np.array_equal(a[name][var].values, b[name][var].values), (name, var)
        assert np.array_equal(a[name]["time"].values, b[name]["time"].values)
