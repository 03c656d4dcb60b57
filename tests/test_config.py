"""YAML configurations: the same coupling as Python; errors name the key and the line."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from coupling_parts import Counter, Echo

import msmcore as msm
from msmcore.cli import main
from msmcore.config import load_config


class StatefulCounter(Counter):
    """Counter with its state declared (implicit schemes save and restore it)."""

    state_attributes = ()


class StatefulEcho(Echo):
    """Echo with its state declared."""

    state_attributes = ("seen", "received")


@pytest.fixture(autouse=True)
def registered():
    reg = msm.get_registry()
    reg.register("testcfg.counter", StatefulCounter)
    reg.register("testcfg.echo", StatefulEcho)
    yield
    reg.unregister("testcfg.counter")
    reg.unregister("testcfg.echo")


GOOD = """\
components:
  a:
    component: testcfg.counter
    n: 3
    dt: 0.5
  b:
    component: testcfg.echo
connections:
  - a.count -> b.value
scheme:
  type: serial
  window: 1.0
run:
  until: 4.0
  out: out.nc
"""


def write(tmp_path, text, name="c.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_yaml_builds_the_same_coupling_as_python(tmp_path):
    cfg = load_config(write(tmp_path, GOOD))
    res = cfg.run(quiet=True)
    assert cfg.out == tmp_path / "out.nc"
    c = msm.Coupling()
    c.add("a", Counter, n=3, dt=0.5)
    c.add("b", Echo)
    c.connect("a.count", "b.value")
    ref = c.run(until=4.0, scheme=msm.Serial(window=1.0))
    np.testing.assert_array_equal(res["b"]["last"].values, ref["b"]["last"].values)
    assert cfg.coupling.components["b"].seen == [2.0, 4.0, 6.0, 8.0]


def test_cli_run_writes_netcdf(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    assert main(["run", str(path), "--out", str(tmp_path / "x.nc")]) == 0
    assert "results written to" in capsys.readouterr().out
    back = msm.Result.from_netcdf(tmp_path / "x.nc")
    assert back["a"]["count"].isel(time=-1).values.tolist() == [8.0, 8.0, 8.0]


@pytest.mark.parametrize(("edit", "message"), [
    (("    n: 3", "    n: three"), r"c.yaml:4: components.a: setting 'n' of component 'a' must be int"),
    (("  - a.count -> b.value", "  - a.count -> b.valu"), r"c.yaml:9: connections\[0\]: .*no port 'valu'"),
    (("  - a.count -> b.value", "  - a.count b.value"), r"c.yaml:9: connections\[0\] must be 'comp.port -> comp.port'"),
    (("  type: serial", "  type: semi-implicit"), r"c.yaml:11: scheme.type 'semi-implicit' is not one of"),
    (("  until: 4.0", "  untill: 4.0"), r"c.yaml:14: unknown key 'untill' in run"),
    (("    component: testcfg.echo", "    component: testcfg.ecko"), r"c.yaml:7: components.b: unknown component 'testcfg.ecko'.*Did you mean 'testcfg.echo'"),  # noqa: E501 - the whole message, as the code writes it
    (("run:", "run:\n  until: 1\nrun:"), r"c.yaml:15: .*key 'run' appears twice"),
    (("  window: 1.0", "  window: [1.0"), r"c.yaml:\d+: invalid YAML"),
    (("    dt: 0.5", "    dt: 0.5\n    speed: 3"), r"c.yaml:6: components.a: .*no setting\(s\) 'speed'"),
])
def test_errors_name_file_line_and_key(tmp_path, edit, message):
    path = write(tmp_path, GOOD.replace(*edit))
    with pytest.raises(msm.ConfigurationError, match=message):
        load_config(path)


def test_unconnected_input_is_reported_before_running(tmp_path):
    path = write(tmp_path, GOOD.replace("  - a.count -> b.value\n", ""))
    with pytest.raises(msm.ConfigurationError, match="required input\\(s\\) left unconnected: b.value"):
        load_config(path)


def test_cli_reports_config_error_as_one_line(tmp_path, capsys):
    path = write(tmp_path, GOOD.replace("  until: 4.0", "  until: soon"))
    assert main(["run", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("msm: error: ") and "c.yaml:14: run.until must be a number" in err
    assert "\n" not in err


def test_safe_load_only(tmp_path):
    path = write(tmp_path, "components: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(msm.ConfigurationError, match="invalid YAML"):
        load_config(path)


IMPLICIT = """\
components:
  a: {component: testcfg.counter}
  b: {component: testcfg.echo}
  c: {component: testcfg.echo}
connections:
  - {from: a.count, to: b.value, interpolate: true}
  - b.last -> c.value
scheme:
  type: implicit
  window: 1.0
  acceleration: {type: iqn-ils, initial: 0.2, reuse: 2}
  max_iterations: 7
  tolerances: {c.value: [1.0e-6, 0.0]}
run: {until: 2.0}
"""


def test_implicit_scheme_acceleration_and_connection_options(tmp_path):
    cfg = load_config(write(tmp_path, IMPLICIT))
    assert isinstance(cfg.scheme, msm.Implicit) and isinstance(cfg.scheme.acceleration, msm.IQNILS)
    assert cfg.scheme.acceleration.initial == 0.2 and cfg.scheme.max_iterations == 7
    assert cfg.scheme.tolerances == {"c.value": (1.0e-6, 0.0)}
    assert cfg.coupling.connections[0].interpolate and not cfg.coupling.connections[1].interpolate
    res = cfg.run(quiet=True)
    assert res.info["iterations"] == [1, 1]  # no feedback connection: each window converges at once


@pytest.mark.parametrize(("edit", "message"), [
    (("type: iqn-ils", "type: broyden"), r"c.yaml:11: acceleration type 'broyden' is not one of"),
    (("initial: 0.2", "initial: 2.0"), r"c.yaml:11: scheme.acceleration: IQNILS\(initial=\.\.\.\) must be a finite number with 0 < initial <= 1"),  # noqa: E501 - the whole message, as the code writes it
    (("interpolate: true", "interpolate: true, mapping: rbf"), r"c.yaml:6: connections\[0\]: .*cannot build the rbf mapping: a mapping needs mesh coordinates"),  # noqa: E501 - the whole message, as the code writes it
])
def test_implicit_config_errors(tmp_path, edit, message):
    with pytest.raises(msm.ConfigurationError, match=message):
        load_config(write(tmp_path, IMPLICIT.replace(*edit)))


def test_rank_placement_in_yaml(tmp_path):
    text = GOOD.replace("    n: 3\n", "    n: 3\n    ranks: [0]\n").replace(
        "    component: testcfg.echo\n", "    component: testcfg.echo\n    nprocs: 1\n")
    cfg = load_config(write(tmp_path, text))
    assert cfg.coupling.placement == {"a": (0,), "b": (0,)}
    bad = GOOD.replace("    n: 3\n", "    n: 3\n    ranks: [5]\n")
    with pytest.raises(msm.ConfigurationError, match=r"c.yaml:3: components.a: .*placed on ranks \[5\]"):
        load_config(write(tmp_path, bad))
