"""Plugin discovery through synthetic entry points (no install), as xarray tests its backends."""

from __future__ import annotations

import warnings

import pytest
from plugin_fakes import Dummy, FakeDistribution, FakeEntryPoint, plugin_module

import msmcore as msm
from msmcore.plugins import PluginRegistry


class Other(Dummy):
    """Another component."""


def fluid_ep() -> FakeEntryPoint:
    return FakeEntryPoint("fluid", plugin_module("fake_fluid", {"fluid.diffusion": Dummy}),
                          FakeDistribution("msm-fluid", "0.3"))


def kinetics_ep() -> FakeEntryPoint:
    return FakeEntryPoint("kinetics", plugin_module("fake_kin", {"kinetics.network": Other}),
                          FakeDistribution("msm-kinetics", "0.2"))


def test_discovers_components_with_distribution_and_description(make_registry):
    reg = make_registry(fluid_ep(), kinetics_ep())
    assert reg.keys() == ["fluid.diffusion", "kinetics.network"]
    info = reg.get("fluid.diffusion")
    assert info.factory is Dummy
    assert (info.distribution, info.version) == ("msm-fluid", "0.3")
    assert info.description == "A do-nothing component for registry tests."
    assert isinstance(reg.create("kinetics.network", dt=0.5), Other)


def test_discovery_is_lazy_and_cached(make_registry):
    calls = []
    ep = fluid_ep()
    real_load = ep.load
    ep.load = lambda: calls.append(1) or real_load()  # type: ignore[method-assign]
    reg = make_registry(ep)
    assert calls == []  # building a registry imports nothing
    reg.get("fluid.diffusion")
    reg.keys()
    assert calls == [1]
    reg.reload()
    reg.keys()
    assert calls == [1, 1]


def test_broken_plugin_warns_with_distribution_and_error_and_others_load(make_registry):
    broken = FakeEntryPoint("broken", ImportError("No module named 'pyscf'"),
                            FakeDistribution("msm-qc", "0.1"))
    reg = make_registry(broken, fluid_ep())
    with pytest.warns(msm.PluginWarning) as record:
        assert reg.keys() == ["fluid.diffusion"]
    text = str(record[0].message)
    assert "msm-qc" in text and "ImportError" in text and "pyscf" in text
    status = {p.name: p.status for p in reg.plugins()}
    assert status == {"broken": "failed", "fluid": "loaded"}


def test_plugin_whose_hook_raises_is_skipped(make_registry):
    module = plugin_module("fake_bad", {})

    @msm.hookimpl
    def msm_register_components(register):  # type: ignore[no-untyped-def]
        raise RuntimeError("solver library missing")

    module.msm_register_components = msm_register_components  # type: ignore[attr-defined]
    reg = make_registry(FakeEntryPoint("bad", module, FakeDistribution("msm-bad")), fluid_ep())
    with pytest.warns(msm.PluginWarning, match="msm-bad.*solver library missing"):
        assert reg.keys() == ["fluid.diffusion"]


def test_unknown_key_lists_installed_suggests_and_says_how_to_install(make_registry):
    reg = make_registry(fluid_ep(), kinetics_ep())
    with pytest.raises(msm.UnknownComponentError) as err:
        reg.get("fluid.difusion")
    msg = str(err.value)
    assert "unknown component 'fluid.difusion'" in msg
    assert "Did you mean 'fluid.diffusion'" in msg
    assert "fluid.diffusion (msm-fluid)" in msg and "kinetics.network (msm-kinetics)" in msg
    assert "pip install" in msg
    assert isinstance(err.value, ValueError)  # UnknownComponentError(MSMError, ValueError)


def test_duplicate_key_from_two_plugins_names_both(make_registry):
    twin = FakeEntryPoint("fluid2", plugin_module("fake_f2", {"fluid.diffusion": Other}),
                          FakeDistribution("msm-fluid-extra", "9.9"))
    reg = make_registry(fluid_ep(), twin)
    with pytest.raises(msm.DuplicateComponentError) as err:
        reg.keys()
    msg = str(err.value)
    assert "'fluid.diffusion' is registered twice" in msg
    assert "msm-fluid 0.3" in msg and "msm-fluid-extra 9.9" in msg


def test_disable_autoload_env(make_registry):
    reg = make_registry(fluid_ep(), env={"MSM_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert reg.keys() == []
    assert [p.status for p in reg.plugins()] == ["skipped"]
    with pytest.raises(msm.UnknownComponentError, match="MSM_DISABLE_PLUGIN_AUTOLOAD"):
        reg.get("fluid.diffusion")
    reg.register("mylab.thing", Dummy)  # scripts still register
    assert reg.keys() == ["mylab.thing"]


@pytest.mark.parametrize("allow", ["kinetics", "msm-kinetics", " msm_kinetics , "])
def test_load_plugins_allow_list_by_entry_point_or_distribution(make_registry, allow):
    reg = make_registry(fluid_ep(), kinetics_ep(), env={"MSM_LOAD_PLUGINS": allow})
    assert reg.keys() == ["kinetics.network"]
    assert {p.name: p.status for p in reg.plugins()} == {"fluid": "skipped", "kinetics": "loaded"}


def test_load_plugins_empty_loads_none_and_unknown_name_warns(make_registry):
    assert make_registry(fluid_ep(), env={"MSM_LOAD_PLUGINS": ""}).keys() == []
    reg = make_registry(fluid_ep(), env={"MSM_LOAD_PLUGINS": "fluid,nosuch"})
    with pytest.warns(msm.PluginWarning, match="'nosuch'"):
        assert reg.keys() == ["fluid.diffusion"]


def test_script_registration_decorator_and_conflicts(make_registry):
    reg = make_registry(fluid_ep())
    reg.register("mylab.decay", Other, description="my decay")
    info = reg.get("mylab.decay")
    assert info.source.label == "the user's script" and info.description == "my decay"
    with pytest.raises(msm.DuplicateComponentError, match="plugin 'fluid' .msm-fluid 0.3. and by the user's script"):
        reg.register("fluid.diffusion", Other)
    assert reg.get("fluid.diffusion").factory is Dummy  # the failed registration left no trace
    reg.register("fluid.diffusion", Other, replace=True)
    assert reg.get("fluid.diffusion").factory is Other


def test_module_level_register_component_decorator():
    key = "testsuite.decorated"

    @msm.register_component(key)
    class Decorated(Dummy):
        """Registered through the decorator."""

    try:
        assert msm.get_registry().get(key).factory is Decorated
        assert msm.get_registry().create(key).name == "Decorated"
    finally:
        msm.get_registry().unregister(key)
    with pytest.raises(msm.UnknownComponentError):
        msm.get_registry().get(key)


def test_runtime_plugin_object(make_registry):
    reg = make_registry()
    reg.add_plugin(plugin_module("inline_plugin", {"inline.comp": Dummy}))
    assert reg.get("inline.comp").source.name == "inline_plugin"


@pytest.mark.parametrize("key", ["nodot", "has space.x", "1fluid.x", ""])
def test_invalid_keys_are_rejected(make_registry, key):
    reg = make_registry()
    with pytest.raises(msm.PluginLoadError, match="invalid component key"):
        reg.register(key, Dummy)


def test_default_registry_reads_the_installed_entry_point_group():
    import importlib.metadata

    from msmcore.plugins import ENTRY_POINT_GROUP, _default_entry_points

    installed = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    assert sorted(ep.name for ep in _default_entry_points()) == sorted(ep.name for ep in installed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning when autoload is off
        assert PluginRegistry(environ={"MSM_DISABLE_PLUGIN_AUTOLOAD": "1"}).keys() == []


def test_reference_factories_are_imported_on_first_use(make_registry, tmp_path, monkeypatch):
    (tmp_path / "lazy_solver_mod.py").write_text(
        "import msmcore as msm\n\nclass Solver(msm.Component):\n    '''A lazily imported solver.'''\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import sys

    ep = FakeEntryPoint("lazy", plugin_module("fake_lazy", {"lazy.solver": "lazy_solver_mod:Solver"}),
                        FakeDistribution("msm-lazy"))
    reg = make_registry(ep)
    assert reg.keys() == ["lazy.solver"]
    assert "lazy_solver_mod" not in sys.modules  # discovery imported nothing
    assert reg.get("lazy.solver").factory.__name__ == "Solver"
    assert "lazy_solver_mod" in sys.modules
    broken = FakeEntryPoint("broken", plugin_module("fake_b", {"broken.x": "no_such_module_xyz:Thing"}))
    with pytest.raises(msm.PluginLoadError, match="component 'broken.x' of plugin 'broken' cannot be imported"):
        make_registry(broken).create("broken.x")
    with pytest.raises(msm.PluginLoadError, match="a reference looks like 'package.module:ClassName'"):
        make_registry().register("bad.ref", "not a reference")


def test_a_script_key_clashing_with_a_plugin_fails_at_registration_and_poisons_nothing(make_registry):
    # Before any lookup: the registry has not discovered its plugins yet.
    reg = make_registry(fluid_ep(), kinetics_ep())
    with pytest.raises(msm.DuplicateComponentError, match="'fluid.diffusion' is registered twice: by plugin 'fluid'"):
        reg.register("fluid.diffusion", Other)
    # Every later lookup and registration still works.
    assert reg.get("fluid.diffusion").factory is Dummy
    assert isinstance(reg.create("kinetics.network"), Other)
    reg.register("mylab.other", Other)
    assert reg.keys() == ["fluid.diffusion", "kinetics.network", "mylab.other"]
    c = msm.Coupling(registry=reg)
    c.add("a", "kinetics.network")
    c.add("b", "mylab.other")
    assert set(c.components) == {"a", "b"}


def test_a_plugin_added_later_with_a_script_key_keeps_it_and_warns(make_registry):
    reg = make_registry()
    reg.register("late.comp", Other)
    reg.add_plugin(plugin_module("late_plugin", {"late.comp": Dummy, "late.more": Dummy}))
    with pytest.warns(msm.PluginWarning, match="'late.comp' is registered twice.*registration of 'late.comp' is dropped"):  # noqa: E501 - the whole message, as the code writes it
        assert reg.get("late.comp").factory is Dummy
    assert reg.keys() == ["late.comp", "late.more"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # dropped once, not warned at every lookup
        reg.reload()
        assert reg.get("late.more").factory is Dummy
