"""fluid.diffusion is found through the installed entry point."""

from __future__ import annotations

import importlib.metadata as md

import pytest
from msm_fluid import Diffusion

import msmcore as msm


def _installed() -> bool:
    eps = md.entry_points(group="msmcore.plugins")
    return any(ep.name == "fluid" and ep.value == "msm_fluid.plugin" for ep in eps)


@pytest.mark.skipif(not _installed(), reason="msm-fluid is not installed (pip install -e plugins/msm-fluid)")
def test_registry_finds_fluid_diffusion() -> None:
    registry = msm.get_registry()
    registry.reload()
    info = registry.get("fluid.diffusion")
    assert info.factory is Diffusion
    assert info.distribution == "msm-fluid"
    assert info.description.startswith("Diffusion du/dt = D lap(u) + s")
    c = registry.create("fluid.diffusion", name="macro", shape=(5,), D=1.0, dt=0.1)
    assert isinstance(c, Diffusion) and c.name == "macro"
