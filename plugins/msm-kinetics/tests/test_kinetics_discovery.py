"""msmcore finds kinetics.network through the plugin's hook and entry point."""

from __future__ import annotations

import importlib.metadata as importlib_metadata

import pytest
from msm_kinetics import plugin
from msm_kinetics.network import Network

import msmcore as msm
from msmcore.plugins import PluginRegistry


def test_hook_registers_the_network() -> None:
    # Without installation: a registry given the plugin module must resolve the
    # key to the class and build a working component from settings.
    registry = PluginRegistry(entry_points=lambda: [], environ={})
    registry.add_plugin(plugin, name="kinetics")
    assert registry.get("kinetics.network").factory is Network
    net = registry.create("kinetics.network", model="J: U -> ; k*U; k = 4.05e4", dt=2.469136e-8)
    assert isinstance(net, Network) and net.species_names == ("U",)


def test_installed_entry_point_is_discovered() -> None:
    # With the distribution installed (pip install -e plugins/msm-kinetics), the
    # default registry must find the component through the entry point.
    try:
        dist = importlib_metadata.distribution("msm-kinetics")
    except importlib_metadata.PackageNotFoundError:
        pytest.skip("msm-kinetics is not installed; pip install -e plugins/msm-kinetics")
    eps = [ep for ep in dist.entry_points if ep.group == "msmcore.plugins"]
    assert [(ep.name, ep.value) for ep in eps] == [("kinetics", "msm_kinetics.plugin")]
    info = msm.get_registry().get("kinetics.network")
    assert info.factory is Network
    assert info.distribution == "msm-kinetics"
