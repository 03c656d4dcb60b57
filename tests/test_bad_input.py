"""Every bad input ends in an MSMError naming what, where and what to do — never a raw traceback.

YAML files (errors name ``file:line``) and the Python API (``Coupling.add``,
``Port``, ``Setting``, ``declare_ports``), one test per input found raising a
raw exception or accepted silently before.
"""

from __future__ import annotations

import textwrap
import time

import numpy as np
import pytest
from coupling_parts import Counter, Echo

import msmcore as msm
from msmcore.config import load_config
from msmcore.yamlfile import MAX_BYTES

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
"""


@pytest.fixture(autouse=True)
def registered():
    reg = msm.get_registry()
    reg.register("testcfg.counter", Counter, replace=True)
    reg.register("testcfg.echo", Echo, replace=True)
    yield
    reg.unregister("testcfg.counter")
    reg.unregister("testcfg.echo")


def write(tmp_path, text, name="c.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


# -- YAML -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("edit", "message"), [
    (("  until: 4.0", "  until: .inf"), r"c.yaml:14: run.until must be a number \(finite.*got inf"),
    (("  until: 4.0", "  until: -.inf"), r"c.yaml:14: run.until must be a number"),
    (("  until: 4.0", "  until: .nan"), r"c.yaml:14: run.until must be a number"),
    (("  until: 4.0", "  until: yes"), r"c.yaml:14: run.until must be a number.*got True.*yes/no"),
    (("  until: 4.0", "  until: 4.0\n  start: 5.0"), r"c.yaml:14: run.until \(4.0\) must be after run.start"),
    (("  until: 4.0", "  until: 4.0\n  quiet: maybe"), r"c.yaml:15: run.quiet must be true or false"),
    (("  until: 4.0", "  until: 4.0\n  out: [a]"), r"c.yaml:15: run.out must be a file name"),
    (("  until: 4.0", "  until: 1" + "0" * 400), r"c.yaml:14: run.until must be a number"),
    (("    dt: 0.5", "    dt: 0.5\n    null: 3"), r"c.yaml:6: components.a: setting names must be text, got None"),
    (("    dt: 0.5", "    dt: 0.5\n    ~: 3"), r"c.yaml:6: components.a: setting names must be text"),
    (("    dt: 0.5", "    dt: 0.5\n    7: 3"), r"c.yaml:6: components.a: setting names must be text, got 7"),
    (("    dt: 0.5", "    dt: 0.5\n    name: x"), r"c.yaml:6: components.a: 'name' is not a setting"),
    (("    dt: 0.5", "    dt: 0.5\n    ? [1, 2]\n    : 3"), r"c.yaml:6: a mapping key must be a plain value"),
    (("  a:\n", "  5:\n"), r"c.yaml:2: component names must be text"),
    (("  window: 1.0", "  window: 0"), r"c.yaml:12: scheme: Serial\(window=...\) must be a positive"),
    (("  window: 1.0", "  window: -1.0"), r"c.yaml:12: scheme: .*positive"),
    (("  window: 1.0", "  window: .inf"), r"c.yaml:12: scheme: .*positive finite"),
    (("  window: 1.0", "  window: yes"), r"c.yaml:12: scheme: .*positive finite number"),
    (("    dt: 0.5", "    dt: 0.5\n    ranks: abc"), r"c.yaml:3: components.a: component 'a': ranks must be"),
    (("    dt: 0.5", "    dt: 0.5\n    ranks: [0.5]"), r"c.yaml:3: components.a: component 'a': ranks must be whole"),
    (("    dt: 0.5", "    dt: 0.5\n    nprocs: two"), r"c.yaml:3: components.a: .*nprocs must be a whole number"),
    (("    dt: 0.5", "    dt: 0.5\n    n: 4"), r"c.yaml:6: key 'n' appears twice \(first on line 4\)"),
    (("  - a.count -> b.value", "  - {from: a.count, to: b.value, target_component: x}"),
     r"c.yaml:9: connections\[0\].target_component must be a whole number"),
    (("  - a.count -> b.value", "  - {from: a.count, to: b.value, interpolate: 'yes'}"),
     r"c.yaml:9: connections\[0\].interpolate must be true or false"),
    (("  - a.count -> b.value", "  - {from: 3, to: b.value}"), r"c.yaml:9: connections\[0\]: 'from' and 'to'"),
    (("  - a.count -> b.value", "  - {from: a.count, to: b.value, null: 1}"), r"c.yaml:9: connections\[0\] must be"),
    (("    component: testcfg.echo", "    component: [testcfg.echo]"),
     r"c.yaml:7: components.b.component must be a registered key .* or \{python: mymodels.py:ClassName\}"),
    (("  type: serial\n  window: 1.0", "  type: implicit\n  window: 1.0\n  tolerances: 5"),
     r"c.yaml:13: scheme.tolerances must map"),
    (("  type: serial\n  window: 1.0", "  type: implicit\n  window: 1.0\n  tolerances: {b.value: 1}"),
     r"c.yaml:13: scheme.tolerances.b.value must be \[rel_tol, abs_tol\]"),
    (("  type: serial", "  type: serial\n  null: 1"), r"c.yaml:12: unknown key None in scheme"),
    (("run:", "null: 1\nrun:"), r"c.yaml:13: unknown key None in top level"),
    (("  until: 4.0", "  until: 2001-13-45"), r"c.yaml:14: invalid value '2001-13-45'"),
])
def test_bad_yaml_values_are_configuration_errors_naming_line_and_key(tmp_path, edit, message):
    text = GOOD.replace(*edit)
    assert text != GOOD
    with pytest.raises(msm.ConfigurationError, match=message):
        load_config(write(tmp_path, text))


def test_yes_in_yaml_is_not_taken_for_one(tmp_path):
    # YAML 1.1 reads `yes` as True, and True == 1: the run would silently end at t = 1.
    with pytest.raises(msm.ConfigurationError, match="until must be a number"):
        load_config(write(tmp_path, GOOD.replace("  until: 4.0", "  until: on")))


def test_non_utf8_file_names_line_and_offset(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes(GOOD.encode() + b"# caf\xe9 in Latin-1\n")
    with pytest.raises(msm.ConfigurationError, match=r"c.yaml:15: the file is not UTF-8 text \(byte 0xe9"):
        load_config(path)


def test_control_character_is_a_configuration_error(tmp_path):
    with pytest.raises(msm.ConfigurationError, match=r"c.yaml:4: invalid YAML: character 0x0007"):
        load_config(write(tmp_path, GOOD.replace("    n: 3", "    n: 3\x07")))


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghijklmnop"[:levels - 1]:
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_quickly_without_building_it(tmp_path):
    text = billion_laughs()
    assert len(text) < 700  # a few hundred bytes that expand to ~4e8 nodes
    path = write(tmp_path, text)
    t0 = time.perf_counter()
    with pytest.raises(msm.ConfigurationError, match=r"c.yaml: the document expands to [\d,]+ values once its "
                                                     r"aliases"):
        load_config(path)
    assert time.perf_counter() - t0 < 2.0  # measured ~5 ms; building it took minutes and 1.2 GB


def test_recursive_alias_and_deep_nesting_are_refused(tmp_path):
    with pytest.raises(msm.ConfigurationError, match=r"c.yaml:1: a YAML alias refers to the node that contains"):
        load_config(write(tmp_path, "components: &c {a: *c}\n"))
    with pytest.raises(msm.ConfigurationError, match=r"nests (more than 64 levels|too deeply)"):
        load_config(write(tmp_path, "components: " + "[" * 100 + "]" * 100 + "\n"))
    with pytest.raises(msm.ConfigurationError, match=r"nests too deeply"):
        load_config(write(tmp_path, "components: " + "[" * 20000 + "\n"))


def test_oversized_file_is_refused(tmp_path):
    path = write(tmp_path, GOOD + "#" * (MAX_BYTES + 10) + "\n")
    with pytest.raises(msm.ConfigurationError, match=r"c.yaml: the file is larger than 1024 KiB"):
        load_config(path)


def test_merge_keys_may_be_overridden_but_written_duplicates_may_not(tmp_path):
    text = GOOD.replace("  a:\n    component: testcfg.counter\n    n: 3\n    dt: 0.5\n",
                        "  a: &base\n    component: testcfg.counter\n    n: 3\n    dt: 0.5\n"
                        "  c:\n    <<: *base\n    n: 4\n")
    cfg = load_config(write(tmp_path, text))
    assert cfg.coupling.components["c"].n == 4 and cfg.coupling.components["a"].n == 3


def test_huge_shape_is_a_configuration_error_naming_component_and_setting(tmp_path):
    text = """\
    components:
      macro:
        component: fluid.diffusion
        shape: [1e11]
        D: 1.0
        dt: 0.1
        method: implicit
    run: {until: 1.0}
    """
    with pytest.raises(msm.ConfigurationError,
                       match=r"c.yaml:4: components.macro: component 'macro' \(fluid.diffusion\) ran out of "
                             r"memory .*setting 'shape' = \[100000000000.0\]"):
        load_config(write(tmp_path, text))


# -- Python -----------------------------------------------------------------------------------

class NotAComponent:
    def __init__(self, **kwargs):
        self.kwargs = kwargs


class ReturnsNone(msm.Component):
    def declare_ports(self):
        return None


class ReturnsJunk(msm.Component):
    def declare_ports(self):
        return [msm.Port.output("u", 2), "v"]


class RaisesInPorts(msm.Component):
    def declare_ports(self):
        return [msm.Port.output("u", 2)][5]


class Huge(msm.Component):
    n = msm.Setting(int, default=10)

    def declare_ports(self):
        np.zeros(self.n)  # allocates what the setting asks for
        return [msm.Port.output("u", self.n)]


class HugeButLazy(msm.Component):
    n = msm.Setting(int, default=10)

    def declare_ports(self):
        return [msm.Port.output("u", self.n)]


def test_a_class_that_is_not_a_component_is_refused_by_add():
    c = msm.Coupling()
    with pytest.raises(msm.ConfigurationError, match=r"component 'x': .*NotAComponent is a class but not a subclass "
                                                     r"of msmcore.Component"):
        c.add("x", NotAComponent)
    with pytest.raises(msm.ConfigurationError, match="component 'x': .*NotAComponent"):
        c.add("x", NotAComponent, k=1)
    with pytest.raises(msm.ConfigurationError, match="expected a registered key"):
        c.add("x", 42)
    assert not c.components


@pytest.mark.parametrize(("cls", "message"), [
    (ReturnsNone, r"component 'x' \(ReturnsNone\): declare_ports\(\) must return a list of msmcore.Port, got NoneType"),
    (ReturnsJunk, r"component 'x' \(ReturnsJunk\): declare_ports\(\) item 1 is a str, not an msmcore.Port"),
    (RaisesInPorts, r"component 'x' \(RaisesInPorts\) failed while declaring its ports: IndexError"),
])
def test_bad_declare_ports_is_refused_at_add(cls, message):
    with pytest.raises(msm.ConfigurationError, match=message):
        msm.Coupling().add("x", cls)


def test_memory_error_while_building_is_a_configuration_error():
    with pytest.raises(msm.ConfigurationError, match=r"component 'x' \(Huge\) ran out of memory while declaring "
                                                     r"its ports .*setting 'n' = 100000000000000"):
        msm.Coupling().add("x", Huge, n=10**14)


def test_port_larger_than_petsc_can_index_is_refused_before_any_array():
    with pytest.raises(msm.ConfigurationError, match=r"port 'u' would hold 10,000,000,000 values .*setting 'n' = 10000000000"):  # noqa: E501 - the whole message, as the code writes it
        msm.Coupling().add("x", HugeButLazy, n=10**10)


def test_a_factory_raising_is_reported_with_the_component():
    def factory(name, **settings):
        raise KeyError("boom")

    with pytest.raises(msm.ConfigurationError, match=r"component 'x' \(factory\) failed while being built: KeyError"):
        msm.Coupling().add("x", factory)


@pytest.mark.parametrize(("shape", "message"), [
    (2.5, r"port 'i': shape 2.5: each axis needs a positive whole number of points, got 2.5"),
    ((3, 2.0), r"got 2.0 \(a float: write an int\)"),
    (0, r"got 0"),
    (-3, r"got -3"),
    ((), r"at least one axis"),
    ("abc", r"got 'a'"),
    (None, r"shape must be a positive integer or a tuple"),
    (True, r"got True"),
])
def test_port_shapes_must_be_positive_integers(shape, message):
    with pytest.raises(msm.ConfigurationError, match=message):
        msm.Port.input("i", shape)


def test_port_descriptions_are_validated():
    with pytest.raises(msm.ConfigurationError, match=r"port 'u': components \(values per point\) must be an integer"):
        msm.Port.output("u", 3, components=0)
    with pytest.raises(msm.ConfigurationError, match="invalid port name 'a.b'"):
        msm.Port.output("a.b", 3)
    with pytest.raises(msm.ConfigurationError, match=r"unknown field description argument\(s\) \['unit'\]"):
        msm.Port.output("u", 3, unit="m")
    with pytest.raises(msm.ConfigurationError, match=r"value_names \['a'\] has 1 name\(s\) but the field has 2"):
        msm.Port.output("u", 3, components=2, value_names=["a"])
    with pytest.raises(msm.ConfigurationError, match="units must be a string"):
        msm.Port.output("u", 3, units=5)


@pytest.mark.parametrize(("coords", "message"), [
    ({"x": np.arange(4.0)}, r"port 'u': coords \{'x': \(4,\)\} do not fit the port shape \(3,\): give one 1D "
                            r"array per axis with lengths \(3,\)"),
    ({"x": np.arange(3.0), "y": np.arange(2.0)}, r"coords \{'x': \(3,\), 'y': \(2,\)\} do not fit"),
    ({"points": np.zeros((4, 2))}, r"coords\['points'\] has shape \(4, 2\).*3 point"),
    ({"x": ["a", "b", "c"]}, r"coords\['x'\] must be numbers"),
    ({"x": [0.0, np.nan, 1.0]}, r"coords\['x'\] holds NaN"),
    ({1: [0.0, 1.0, 2.0]}, r"coords keys must be axis names"),
])
def test_coordinates_must_fit_the_shape_when_the_port_is_made(coords, message):
    with pytest.raises(msm.ConfigurationError, match=message):
        msm.Port.output("u", 3, coords=coords)


def test_good_coordinates_are_kept():
    port = msm.Port.output("u", (3, 2), coords={"x": [0, 1, 2], "y": [0.5, 1.5]})
    assert port.spec.coords["x"].tolist() == [0.0, 1.0, 2.0]
    assert msm.Port.output("first", (3, 2), coords={"x": [0, 1, 2]}).spec.coords["x"].shape == (3,)
    pts = msm.Port.output("p", 4, coords={"points": np.zeros((4, 2))})
    assert pts.spec.coords["points"].shape == (4, 2)
    assert msm.Port.output("p", 4, coords={"points": np.arange(4.0)}).spec.coords["points"].shape == (4,)
    X, Y = np.meshgrid(np.arange(3.0), np.arange(2.0), indexing="ij")
    curvilinear = msm.Port.output("c", (3, 2), coords={"x": X + 0.1 * Y, "y": Y})
    assert curvilinear.spec.coords["x"].shape == (3, 2)
    with pytest.raises(msm.ConfigurationError, match="do not fit the port shape"):
        msm.Port.output("c", (3, 2), coords={"x": X, "y": Y.T})


@pytest.mark.parametrize(("make", "message"), [
    (lambda: msm.Setting(int, default=-1, minimum=0), r"Setting\(int, default=-1, minimum=0\): the default -1 is "
                                                      r"not a valid value \(the value must be >= 0"),
    (lambda: msm.Setting(float, default=2.0, maximum=1.0), r"must be <= 1.0"),
    (lambda: msm.Setting(str, default="rk4", choices=("euler",)), r"must be one of \['euler'\]"),
    (lambda: msm.Setting(int, default=1.5), r"the default 1.5 is not a valid value"),
    (lambda: msm.Setting(str, default=5), r"the default 5 is not a valid value"),
    (lambda: msm.Setting(float, default=float("inf")), r"must be finite"),
    (lambda: msm.Setting(float, default=1.0, minimum=2.0, maximum=1.0), r"minimum 2.0 is above maximum 1.0"),
    (lambda: msm.Setting(float, minimum="0"), r"minimum must be a number"),
    (lambda: msm.Setting(str, choices=()), r"choices is empty"),
    (lambda: msm.Setting(5), r"the type must be a type or a converter"),
])
def test_a_setting_whose_default_breaks_its_own_rules_is_refused_when_declared(make, message):
    with pytest.raises(msm.ConfigurationError, match=message):
        make()


def test_class_definition_with_a_bad_default_fails_with_a_configuration_error():
    with pytest.raises(msm.ConfigurationError, match=r"default=-1"):
        class Bad(msm.Component):  # noqa: F841 - the definition itself must fail
            n = msm.Setting(int, default=-1, minimum=0)


def test_good_defaults_are_kept_and_converted():
    assert msm.Setting(float, default=1).default == 1.0
    assert isinstance(msm.Setting(float, default=1).default, float)
    assert msm.Setting(tuple, default=[1, 2]).default == (1, 2)
    assert msm.Setting(str, default=None).default is None  # None: "not given", allowed for any type
    assert msm.Setting(int, default=0, minimum=0).default == 0


def test_setting_conversion_overflow_is_a_configuration_error():
    class K(msm.Component):
        k = msm.Setting(float, default=1.0)

    with pytest.raises(msm.ConfigurationError, match=r"setting 'k' of component 'K' must be float.*OverflowError"):
        K(k=10**400)
