"""`msm show KEY`: description, settings and ports of a component, as text and JSON."""

from __future__ import annotations

import json

import pytest

import msmcore as msm
from msmcore.cli import main
from msmcore.show import describe_component


def show(capsys, *args):
    code = main(["show", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fluid_diffusion_lists_required_settings_then_ports_when_given(capsys):
    code, out, _ = show(capsys, "fluid.diffusion", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["key"] == "fluid.diffusion" and data["distribution"] == "msm-fluid"
    # the docstring's first paragraph, and no more
    assert data["description"] == "Diffusion du/dt = D lap(u) + s on a 1D/2D/3D cell-centred grid (PETSc DMDA)."
    settings = {s["name"]: s for s in data["settings"]}
    assert sorted(data["required"]) == ["D", "dt", "shape"]
    assert settings["D"]["units"] == "m^2/s" and settings["D"]["required"]
    assert settings["method"]["choices"] == ["explicit", "implicit"] and settings["method"]["default"] == "explicit"
    assert data["ports"] is None and "--set D=..." in data["ports_note"]

    code, out, _ = show(capsys, "fluid.diffusion", "--json", "--set", "shape=[4, 3]", "--set", "D=1e-3",
                        "--set", "dt=0.01", "--set", "units=mol/m^3")
    data = json.loads(out)
    ports = {p["name"]: p for p in data["ports"]}
    assert set(ports) == {"state_out", "state_in", "source_in", "sink_in"}
    assert ports["state_out"] == {"name": "state_out", "direction": "out", "shape": [4, 3], "values_per_point": 1,
                                  "value_names": None, "units": "mol/m^3", "coords": ["x", "y"],
                                  "coord_units": ports["state_out"]["coord_units"], "required": False,
                                  "doc": "the field (the state itself)"}
    assert ports["source_in"]["units"] == "mol/m^3/s" and not ports["source_in"]["required"]
    assert data["given"] == {"shape": [4, 3], "D": 0.001, "dt": 0.01, "units": "mol/m^3"}


def test_text_output_is_a_readable_table(capsys):
    code, out, _ = show(capsys, "fluid.diffusion", "--set", "shape=5", "--set", "D=1", "--set", "dt=0.1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("fluid.diffusion  (msm-fluid ")
    assert any(line.split()[:3] == ["NAME", "TYPE", "DEFAULT"] for line in lines)
    row = next(line for line in lines if line.strip().startswith("method "))
    assert "explicit | implicit" in row and "forward Euler" in row
    assert any(line.strip().startswith("D*") and "m^2/s" in line for line in lines)
    port_row = next(line for line in lines if line.strip().startswith("state_out "))
    assert port_row.split()[:4] == ["state_out", "out", "5", "1"]


def test_kinetics_network_needs_a_model_and_then_lists_species(capsys):
    code, out, _ = show(capsys, "kinetics.network", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["ports"] is None and "--set" in data["ports_note"]
    # a text setting keeps its text, though YAML would read "J1: ..." as a mapping
    code, out, err = show(capsys, "kinetics.network", "--json", "--set", "model=J1: A -> B; k*A; k = 2; A = 1",
                          "--set", "shape=[3]", "--set", "dt=0.01")
    assert code == 0, err
    ports = {p["name"]: p for p in json.loads(out)["ports"]}
    assert ports["state_out"]["values_per_point"] == 2 and ports["state_out"]["shape"] == [3]
    assert "A" in ports["state_out"]["doc"] and "B" in ports["state_out"]["doc"]


def test_errors_are_one_line(capsys):
    code, _, err = show(capsys, "fluid.difusion")
    assert code == 1 and err.startswith("msm: error: unknown component 'fluid.difusion'")
    assert "Did you mean 'fluid.diffusion'" in err and err.count("\n") == 1
    code, _, err = show(capsys, "fluid.diffusion", "--set", "shape=[4]", "--set", "D=-1", "--set", "dt=1")
    assert code == 1 and "setting 'D'" in err and err.count("\n") == 1
    code, _, err = show(capsys, "fluid.diffusion", "--set", "shape")
    assert code == 1 and "write NAME=VALUE" in err
    code, _, err = show(capsys, "fluid.diffusion", "--set", "shape=[4")
    assert code == 1 and "--set shape: '[4' is not a valid YAML value" in err


def test_component_without_required_settings_is_built_with_defaults():
    class Pair(msm.Component):
        """Two numbers.

        More text that is not the description.
        """

        n = msm.Setting(int, default=2, minimum=1, doc="how many")

        def declare_ports(self):
            return [msm.Port.output("v", self.n, components=2, value_names=("a", "b"), units="m")]

    msm.get_registry().register("showtest.pair", Pair)
    try:
        d = describe_component("showtest.pair")
        assert d.description == "Two numbers." and d.distribution is None
        assert d.settings == [{"name": "n", "type": "int", "required": False, "default": 2, "minimum": 1,
                               "maximum": None, "choices": None, "units": None, "doc": "how many"}]
        assert d.ports[0]["value_names"] == ["a", "b"] and d.ports[0]["shape"] == [2]
        row = next(line for line in d.to_text().splitlines() if line.strip().startswith("v "))
        assert row.split()[:6] == ["v", "out", "2", "2", "(a,", "b)"]
    finally:
        msm.get_registry().unregister("showtest.pair")


def test_show_a_class_in_a_file(tmp_path, monkeypatch, capsys):
    (tmp_path / "mine.py").write_text(
        "import msmcore as msm\n\n"
        "class Logistic(msm.Component):\n"
        "    '''Logistic growth du/dt = r u (1 - u).'''\n"
        "    r = msm.Setting(float, default=0.5, units='1/s')\n"
        "    def declare_ports(self):\n"
        "        return [msm.Port.output('u', 1)]\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = show(capsys, "mine.py:Logistic", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["description"] == "Logistic growth du/dt = r u (1 - u)." and data["ports"][0]["name"] == "u"


@pytest.mark.parametrize("value", ["[1, 2]", "{a: 1}", "1.0e-3", "4.05e4", "explicit", "true"])
def test_set_values_are_yaml(value):
    from msmcore.yamlfile import parse_value

    parsed = parse_value(value)
    assert parsed == {"[1, 2]": [1, 2], "{a: 1}": {"a": 1}, "1.0e-3": 1e-3, "4.05e4": 40500.0,
                      "explicit": "explicit", "true": True}[value]
