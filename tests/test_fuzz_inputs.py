"""Property test: any input ends in success or an MSMError — never another exception, never a traceback.

Hypothesis generates YAML documents around the real schema (components with
random keys, values and types; connections; schemes; run blocks), raw and
mutated YAML text, and Python arguments for ``Coupling.add``, the schemes,
``connect`` and ``run``. Every case must either succeed or raise an
:class:`msmcore.MSMError` subclass; ``msm run`` must never print a traceback
without ``--debug``. Cases are derandomised (the same ones every run) and kept
tiny — script components and ``fluid.diffusion`` on a few cells, at most a
handful of steps — so the whole file runs in well under a minute.

Sizes between 1e6 and 1e10 cells are never generated: they are valid and would
really allocate gigabytes; 1e11 and more must be refused (memory or PETSc's
index range).
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings

import numpy as np
import pytest
import yaml

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import msmcore as msm  # noqa: E402
from msmcore.cli import main  # noqa: E402
from msmcore.config import load_config  # noqa: E402

FUZZ = settings(deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])


class Counter(msm.Component):
    """Counts steps in every cell."""

    n = msm.Setting(int, default=2, minimum=1, maximum=50)
    dt = msm.Setting(float, default=0.5, minimum=0.0)
    units = msm.Setting(str, default="1")
    state_attributes = ()

    def declare_ports(self):
        return [msm.Port.output("count", self.n, units=self.units, coords={"x": np.arange(self.n) * 0.5}),
                msm.Port.input("feed", self.n, units=self.units, required=False)]

    def initialize(self):
        self.port_array("count")[:] = 0.0

    def step(self, dt):
        self.port_array("count")[:] += 1.0


class Echo(msm.Component):
    """Copies its input to its output when it advances."""

    n = msm.Setting(int, default=2, minimum=1, maximum=50)
    dt = msm.Setting(float, default=1.0, minimum=0.0)
    units = msm.Setting(str, default="1")
    state_attributes = ()

    def declare_ports(self):
        return [msm.Port.input("value", self.n, units=self.units),
                msm.Port.output("last", self.n, units=self.units)]

    def advance(self, t_end):
        self.port_array("last")[:] = self.port_array("value")
        self.t = t_end


@pytest.fixture(scope="module", autouse=True)
def fuzz_components():
    reg = msm.get_registry()
    reg.register("fuzz.counter", Counter, replace=True)
    reg.register("fuzz.echo", Echo, replace=True)
    yield
    reg.unregister("fuzz.counter")
    reg.unregister("fuzz.echo")


# -- values -------------------------------------------------------------------------------------

SMALL_TIMES = st.sampled_from([0.25, 0.5, 1.0, 2.0])
# No huge or tiny positive times: they are valid and would run for ever (1e300 windows).
BAD_NUMBERS = st.sampled_from([0, -1, -0.5, math.inf, -math.inf, math.nan, 10**400, -1e-300, -1e300])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 60), SMALL_TIMES, BAD_NUMBERS,
    st.sampled_from(["", "x", "explicit", "implicit", "neumann", "dirichlet", "copy-increment", "1", "mol/m^3",
                     "mol/L", "m", "yes", "a.count", "nan", "1e3", "fast", "\u00e9t\u00e9", "a" * 300]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=4), st.integers(-2, 5)), inner,
                                                 max_size=3)), max_leaves=8)

SHAPES = st.one_of(
    st.lists(st.integers(1, 5), min_size=1, max_size=3),
    st.sampled_from([[1e11], [10**11], [100000, 1000000], [0], [-1], [2.5], [[1]], [], "x", 3, None, [True],
                     [3, 0], [1e400]]),
)
SETTING_KEYS = st.sampled_from(["n", "dt", "units", "shape", "D", "spacing", "method", "boundary", "initial",
                                "initial_points", "origin", "boundary_value", "ksp_rtol", "k", "ranks", "nprocs",
                                "name", "component", "speed"])
NAMES = st.sampled_from(["a", "b", "c", "macro", "micro", "1bad", "a.b", "x y", "", "A_1-z"])
PORTS = st.sampled_from(["count", "feed", "value", "last", "state_out", "state_in", "source_in", "nope", ""])


def setting_value(key):
    if key == "shape":
        return SHAPES
    if key in ("dt", "D", "spacing"):
        return st.one_of(st.sampled_from([0.05, 0.1, 0.5, 1.0, 1e-3]), BAD_NUMBERS, VALUES)
    if key == "n":
        return st.one_of(st.integers(-1, 6), VALUES)
    return VALUES


@st.composite
def settings_dicts(draw, max_size=4):
    keys = draw(st.lists(SETTING_KEYS, max_size=max_size, unique=True))
    return {k: draw(setting_value(k)) for k in keys}


COMPONENT_REFS = st.one_of(
    st.sampled_from(["fuzz.counter", "fuzz.echo", "fluid.diffusion", "fuzz.nothing", "nodot", "", "fluid.difusion"]),
    st.sampled_from([None, 5, ["fuzz.counter"], {"python": "nosuch.py:X"}, {"python": "os:path"},
                     {"python": "msmcore:Component"}, {"python": 5}, {"other": 1}]),
)


@st.composite
def component_specs(draw):
    spec = {"component": draw(COMPONENT_REFS)}
    if spec["component"] == "fluid.diffusion" and draw(st.booleans()):
        spec.update({"shape": draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)), "D": 1e-3, "dt": 0.5})
    spec.update(draw(settings_dicts()))
    if draw(st.integers(0, 9)) == 0:
        spec[draw(st.sampled_from([None, 3, True, 1.5]))] = draw(VALUES)  # keys YAML reads as non-text
    return spec


@st.composite
def connection_items(draw):
    src = f"{draw(NAMES)}.{draw(PORTS)}"
    dst = f"{draw(NAMES)}.{draw(PORTS)}"
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return f"{src} -> {dst}"
    if kind == 1:
        return draw(st.one_of(st.text(max_size=12), VALUES))
    item = {"from": src, "to": dst} if kind == 2 else {"from": "a.count", "to": draw(st.sampled_from(["b.value",
                                                                                                   "a.feed"]))}
    for key in draw(st.lists(st.sampled_from(["interpolate", "mapping", "conservative", "basis", "support_radius",
                                              "source_component", "target_component", "polynomial", "bogus"]),
                             max_size=3, unique=True)):
        item[key] = draw(st.one_of(st.sampled_from(["nearest", "linear", "rbf", "identity", "gaussian"]),
                                   SCALARS))
    return item


SCHEME_KEYS = st.sampled_from(["window", "order", "macro", "micro", "horizon", "variant", "acceleration",
                               "rel_tol", "abs_tol", "tolerances", "min_iterations", "max_iterations",
                               "on_divergence", "bogus"])


@st.composite
def schemes(draw):
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return None
    if kind == 1:
        return draw(st.one_of(st.sampled_from(["serial", "parallel", "implicit", "macro-micro", "Macro_Micro",
                                               "nope"]), VALUES))
    spec = {"type": draw(st.sampled_from(["serial", "parallel", "implicit", "macro-micro", "nope", 3]))}
    for key in draw(st.lists(SCHEME_KEYS, max_size=4, unique=True)):
        if key in ("window", "horizon"):
            spec[key] = draw(st.one_of(SMALL_TIMES, BAD_NUMBERS, SCALARS))
        elif key in ("macro", "micro"):
            spec[key] = draw(st.one_of(NAMES, SCALARS))
        elif key == "order":
            spec[key] = draw(st.one_of(st.lists(NAMES, max_size=3), SCALARS))
        elif key == "acceleration":
            spec[key] = draw(st.one_of(
                st.sampled_from(["none", "constant", "aitken", "iqn-ils", "broyden"]),
                st.fixed_dictionaries({"type": st.sampled_from(["constant", "aitken", "iqn-ils", "x"])},
                                      optional={"omega": SCALARS, "initial": SCALARS, "reuse": SCALARS,
                                                "filter_limit": SCALARS}),
                VALUES))
        elif key in ("min_iterations", "max_iterations"):
            spec[key] = draw(st.one_of(st.integers(-1, 4), SCALARS))
        else:
            spec[key] = draw(VALUES)
    return spec


@st.composite
def run_blocks(draw):
    if draw(st.integers(0, 9)) == 0:
        return draw(VALUES)
    block = {}
    if draw(st.integers(0, 9)):
        block["until"] = draw(st.one_of(SMALL_TIMES, BAD_NUMBERS, SCALARS))
    for key in draw(st.lists(st.sampled_from(["start", "sample_every", "quiet", "check_finite", "bogus"]),
                             max_size=2, unique=True)):
        block[key] = draw(st.one_of(st.sampled_from([0.0, 0.5, 1.0, True, False]), BAD_NUMBERS, SCALARS))
    return block


@st.composite
def documents(draw):
    doc = {}
    if draw(st.integers(0, 19)):
        doc["components"] = draw(st.one_of(
            st.dictionaries(NAMES, component_specs(), min_size=1, max_size=3),
            st.just({"a": {"component": "fuzz.counter"}, "b": {"component": "fuzz.echo"}}),
            VALUES))
    if draw(st.booleans()):
        doc["connections"] = draw(st.one_of(st.lists(connection_items(), max_size=3),
                                            st.just(["a.count -> b.value"]), VALUES))
    if draw(st.booleans()):
        doc["scheme"] = draw(schemes())
    if draw(st.integers(0, 9)):
        doc["run"] = draw(run_blocks())
    if draw(st.integers(0, 14)) == 0:
        doc[draw(st.sampled_from(["bogus", None, 1]))] = draw(VALUES)
    return doc


def dump(doc):
    return yaml.safe_dump(doc, default_flow_style=None, allow_unicode=True, sort_keys=False)


def outcome(fn):
    """Run ``fn``: ``"ok"``, or the MSMError's class name; any other exception fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn()
        except msm.MSMError as exc:
            return type(exc).__name__
    return "ok"


def load_and_run(path):
    def go():
        cfg = load_config(path)
        cfg.run(quiet=True)

    return outcome(go)


# -- YAML ---------------------------------------------------------------------------------------

@pytest.mark.slow  # 450 generated documents, ~9 s
@settings(FUZZ, max_examples=450)
@given(doc=documents())
def test_generated_yaml_documents(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("fuzz") / "c.yaml"
    path.write_text(dump(doc), encoding="utf-8")
    load_and_run(path)


VALID = """\
components:
  a: {component: fuzz.counter, n: 2, dt: 0.5}
  b: {component: fuzz.echo, n: 2}
  m: {component: fluid.diffusion, shape: [3], D: 1.0e-3, dt: 0.5}
connections:
  - a.count -> b.value
  - {from: a.count, to: m.source_in}
scheme: {type: serial, window: 1.0}
run: {until: 2.0, sample_every: 1.0}
"""


@settings(FUZZ, max_examples=250)
@given(edits=st.lists(st.tuples(st.integers(0, len(VALID)), st.integers(0, 3),
                                st.sampled_from(list(":-[]{}&*!|>'\"#%@`,?\n\t ~0123456789.eE") + ["\x00", "\u00e9",
                                                                                                 "*a", "&a "])),
                      min_size=1, max_size=4))
def test_mutated_yaml_text(tmp_path_factory, edits):
    text = VALID
    for pos, cut, insert in edits:
        pos = min(pos, len(text))
        text = text[:pos] + insert + text[pos + cut:]
    path = tmp_path_factory.mktemp("fuzz") / "c.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    load_and_run(path)


@settings(FUZZ, max_examples=120)
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_raw_bytes_as_a_configuration(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("fuzz") / "c.yaml"
    path.write_bytes(raw)
    load_and_run(path)


@settings(FUZZ, max_examples=60)
@given(doc=documents())
def test_msm_run_never_prints_a_traceback(tmp_path_factory, doc):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "c.yaml"
    path.write_text(dump(doc), encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["run", str(path), "--quiet", "--out", str(folder / "r.nc")])
    text = err.getvalue()
    assert code in (0, 1), text
    assert "Traceback" not in text and "internal error" not in text, text
    assert code == 0 or text.startswith("msm: error: ")


# -- Python -------------------------------------------------------------------------------------

class NotAComponent:
    pass


PY_COMPONENTS = st.sampled_from(["fuzz.counter", "fuzz.echo", "fluid.diffusion", "fuzz.none", "", 5, None,
                                 Counter, Echo, NotAComponent, int, dict, print, lambda **kw: None, object()])


@settings(FUZZ, max_examples=200)
@given(name=st.one_of(NAMES, SCALARS), component=PY_COMPONENTS, kwargs=settings_dicts(max_size=5))
def test_coupling_add(name, component, kwargs):
    kwargs.pop("name", None)  # a Python keyword clash, not an input `add` can see
    kwargs.pop("component", None)
    outcome(lambda: msm.Coupling().add(name, component, **kwargs))


SCHEME_CLASSES = st.sampled_from([msm.Serial, msm.Parallel, msm.MacroMicro, msm.Implicit])


@settings(FUZZ, max_examples=150)
@given(cls=SCHEME_CLASSES, args=st.dictionaries(SCHEME_KEYS, st.one_of(SMALL_TIMES, BAD_NUMBERS, VALUES, NAMES),
                                                max_size=4))
def test_scheme_arguments(cls, args):
    args.pop("bogus", None)
    if "acceleration" in args:
        args["acceleration"] = msm.Aitken() if args["acceleration"] is None else args["acceleration"]

    def go():
        try:
            cls(**args)
        except TypeError as exc:  # a missing or unknown keyword argument: Python's own call check
            if "argument" not in str(exc):
                raise

    outcome(go)


@settings(FUZZ, max_examples=150)
@given(src=st.one_of(st.just("a.count"), st.just("a.count"), st.builds(lambda n, p: f"{n}.{p}", NAMES, PORTS),
                    SCALARS),
       dst=st.one_of(st.just("b.value"), st.just("a.feed"), st.builds(lambda n, p: f"{n}.{p}", NAMES, PORTS),
                     SCALARS),
       options=st.dictionaries(st.sampled_from(["interpolate", "mapping", "conservative", "source_component",
                                                "target_component", "basis", "support_radius"]),
                               st.one_of(st.sampled_from(["nearest", "linear", "rbf", "identity"]), SCALARS),
                               max_size=2))
def test_connect(src, dst, options):
    c = msm.Coupling()
    c.add("a", Counter)
    c.add("b", Echo)
    outcome(lambda: c.connect(src, dst, **options))


@settings(FUZZ, max_examples=100)
@given(until=st.one_of(SMALL_TIMES, BAD_NUMBERS, SCALARS),
       scheme=st.sampled_from([None, "serial", msm.Serial, msm.Serial(window=1.0), msm.Parallel(), 5]),
       sample_every=st.one_of(st.none(), SMALL_TIMES, BAD_NUMBERS, SCALARS))
def test_run_arguments(until, scheme, sample_every):
    c = msm.Coupling()
    c.add("a", Counter)
    c.add("b", Echo)
    c.connect("a.count", "b.value")
    outcome(lambda: c.run(until, scheme, sample_every=sample_every, quiet=True))
