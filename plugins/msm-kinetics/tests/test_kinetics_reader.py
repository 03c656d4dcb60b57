"""Reading networks: Antimony (the antimony package), SBML (libsbml), the subset fallback."""

from __future__ import annotations

import math

import numpy as np
import pytest
from msm_kinetics.expressions import Const, Var, add, diff, mul, power
from msm_kinetics.network import Network, read_model

import msmcore as msm

libsbml = pytest.importorskip("libsbml")
pytest.importorskip("antimony")

MM_ANTIMONY = """
compartment C = 2
species S in C, P in C
S = 3; P = 0
J1: S -> P; Vmax*S/(Km + S)
J2: P -> ; kd*P
Vmax = 1.5; Km = 0.4; kd = 0.3
"""


def mm_sbml(*, event: bool = False, delay: bool = False) -> str:
    """The network of MM_ANTIMONY written directly with libSBML (kd as a local parameter)."""
    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    m.setId("mm")
    c = m.createCompartment()
    c.setId("C"); c.setSize(2.0); c.setConstant(True); c.setSpatialDimensions(3)
    for sid, value in (("S", 3.0), ("P", 0.0)):
        s = m.createSpecies()
        s.setId(sid); s.setCompartment("C"); s.setInitialConcentration(value)
        s.setHasOnlySubstanceUnits(False); s.setBoundaryCondition(False); s.setConstant(False)
    for pid, value in (("Vmax", 1.5), ("Km", 0.4)):
        p = m.createParameter()
        p.setId(pid); p.setValue(value); p.setConstant(True)

    def reaction(rid: str, reactant: str, product: str | None, formula: str) -> libsbml.KineticLaw:
        r = m.createReaction()
        r.setId(rid); r.setReversible(False)
        ref = r.createReactant(); ref.setSpecies(reactant); ref.setStoichiometry(1.0); ref.setConstant(True)
        if product:
            ref = r.createProduct(); ref.setSpecies(product); ref.setStoichiometry(1.0); ref.setConstant(True)
        law = r.createKineticLaw()
        law.setMath(libsbml.parseL3Formula(formula))
        return law

    reaction("J1", "S", "P", "delay(Vmax, 0.1)*S/(Km + S)" if delay else "Vmax*S/(Km + S)")
    law = reaction("J2", "P", None, "kd*P")
    kd = law.createLocalParameter()
    kd.setId("kd"); kd.setValue(0.3)
    if event:
        e = m.createEvent()
        e.setId("E1"); e.setUseValuesFromTriggerTime(True)
        trig = e.createTrigger()
        trig.setMath(libsbml.parseL3Formula("time > 1")); trig.setInitialValue(False); trig.setPersistent(True)
        a = e.createEventAssignment(); a.setVariable("S"); a.setMath(libsbml.parseL3Formula("5"))
    text = libsbml.writeSBMLToString(doc)
    assert "<sbml" in text
    return text


def trajectory(net: Network, times: list[float]) -> np.ndarray:
    net.initialize()
    out = []
    for t in times:
        net.advance(t)
        out.append(net.state.reshape(-1, net.state.shape[-1]).copy())
    return np.array(out)


# -- SBML and Antimony ---------------------------------------------------------------
@pytest.mark.parametrize("method", ["euler", "rosw"])
def test_sbml_written_with_libsbml_equals_the_antimony_model(method: str) -> None:
    # Both sources become the same SBML math (Antimony through the antimony package),
    # so the trajectories agree to round-off; they are in fact identical.
    kw = {"dt": 1e-3} if method == "euler" else {"rtol": 1e-9, "atol": 1e-12}
    times = [0.5, 1.0, 2.0, 4.0]
    a = trajectory(Network(model=MM_ANTIMONY, method=method, **kw), times)
    s = trajectory(Network(sbml=mm_sbml(), method=method, **kw), times)
    assert a.shape == (4, 1, 2) and np.all(np.diff(a[:, 0, 0]) < 0)  # S is consumed
    np.testing.assert_allclose(s, a, rtol=1e-14, atol=0.0)


def test_model_file_antimony_and_sbml(tmp_path) -> None:
    # The suffix decides the reader; both files give the same model as the string.
    (tmp_path / "mm.ant").write_text(MM_ANTIMONY)
    (tmp_path / "mm.xml").write_text(mm_sbml())
    ref = read_model(model=MM_ANTIMONY)
    for name in ("mm.ant", "mm.xml"):
        m = read_model(model_file=str(tmp_path / name))
        assert m.species == ref.species == ("S", "P") and m.reactions == ("J1", "J2")
        np.testing.assert_array_equal(m.initial, [3.0, 0.0])
        np.testing.assert_array_equal(m.coefficients, ref.coefficients)
    assert read_model(model_file=str(tmp_path / "mm.xml")).source == "sbml"
    with pytest.raises(msm.ConfigurationError, match="setting 'model_file'.*cannot read 'nope.ant'"):
        read_model(model_file="nope.ant")


def test_exactly_one_source_is_required() -> None:
    with pytest.raises(msm.ConfigurationError, match="exactly one of the settings 'model'.*got none"):
        Network(dt=1.0)
    with pytest.raises(msm.ConfigurationError, match="got 'model', 'sbml'"):
        Network(model=MM_ANTIMONY, sbml=mm_sbml(), dt=1.0)
    with pytest.raises(msm.ConfigurationError, match="reader='subset' reads Antimony text only"):
        Network(sbml=mm_sbml(), dt=1.0, reader="subset")


def test_compartment_sizes_and_amount_species_scale_the_rates() -> None:
    # SBML semantics: a reaction rate is substance/time, so a concentration in a
    # compartment of size 2 changes at rate/2, an amount (substanceOnly) at rate.
    # Exact solutions exp(-t/2) and exp(-t); ROSW with rtol 1e-10 keeps the
    # global error of these decays below 1e-8 relative.
    model = """
    compartment C = 2
    species S in C; substanceOnly species Q in C
    S = 1; Q = 1
    J1: S -> ; k*S
    J2: Q -> ; k*Q
    k = 1
    """
    net = Network(model=model, method="rosw", rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(net.kinetic_model.scale, [0.5, 1.0])
    net.initialize()
    net.advance(1.0)
    np.testing.assert_allclose(net.state[0], [math.exp(-0.5), math.exp(-1.0)], rtol=1e-8)


def test_functions_initial_assignments_rules_and_local_parameters() -> None:
    # A function definition is inlined, an initial assignment evaluated once,
    # an assignment rule on a parameter inlined where it is used (it may read
    # species and time), a rate rule drives a boundary species. The rates are
    # checked against the same formulas evaluated by hand (exact up to rounding).
    model = """
    function hill(x, K, n)
      x^n/(K^n + x^n)
    end
    species A, B, $X
    A = 2*A0; B = 0; X = 1
    A0 = 0.5
    J1: A -> B; V*hill(A, K, 2)*X
    J2: B -> ; g*B
    g := kb*(1 + time) + 0*B
    X' = -0.5*X
    V = 3; K = 0.7; kb = 0.2
    """
    # BDF: PETSc's ROSW has no time-derivative term, so it crawls on time-dependent laws
    net = Network(model=model, rtol=1e-10, atol=1e-14, method="bdf", variant=5)
    assert net.species_names == ("A", "B", "X")
    np.testing.assert_array_equal(net.kinetic_model.initial, [1.0, 0.0, 1.0])
    net.initialize()
    np.testing.assert_allclose(net.rates[0], [3 * 1 / (0.49 + 1) * 1, 0.0], rtol=1e-15)
    net.advance(1.0)
    a, b, x = net.state[0]
    np.testing.assert_allclose(x, math.exp(-0.5), rtol=1e-8)  # the rate rule X' = -X/2
    np.testing.assert_allclose(net.rates[0], [3 * a * a / (0.49 + a * a) * x, 0.2 * 2.0 * b], rtol=1e-14)


# -- unsupported constructs ---------------------------------------------------------------
def test_sbml_event_is_rejected_naming_it() -> None:
    with pytest.raises(msm.ConfigurationError) as info:
        Network(name="micro", sbml=mm_sbml(event=True), method="rosw")
    msg = str(info.value)
    assert "setting 'sbml' of component 'micro'" in msg and "event 'E1'" in msg and "not supported" in msg


def test_sbml_delay_is_rejected_naming_the_reaction() -> None:
    with pytest.raises(msm.ConfigurationError) as info:
        Network(name="micro", sbml=mm_sbml(delay=True), method="rosw")
    msg = str(info.value)
    assert "delay" in msg and "kinetic law of reaction 'J1'" in msg and "delay(Vmax, 0.1)" in msg


@pytest.mark.parametrize(
    ("model", "fragments"),
    [
        ("J: A -> ; k*A; k = 1\n0 = A + B - 1", ["algebraic rule", "0 = A + B - 1", "not supported"]),
        ("J: A -> ; k*A; k = 1\nk' = 1", ["rate rule for parameter 'k'", "not supported"]),
        ("species C; J: A -> ; k*A; k = 1\nC := 2*A", ["assignment rule for species 'C'", "C := 2 * A"]),
        ("J: A -> ; factorial(A)", ["kinetic law of reaction 'J'", "'function_factorial'", "factorial(A)"]),
        ("J: A -> ; k*A\nE1: at (time > 1): A = 5; k = 1", ["event 'E1'"]),
        ("J: A -> ; kf*A", ["parameter 'kf' has no value"]),
        # caught by Antimony itself, reported through the same error
        ("function f(x)\n  f(x)\nend\nJ: A -> ; f(A)", ["Antimony cannot read", "'f' refers to itself"]),
        ("J: A -> ; k*A; k = 2*m; m = k", ["Antimony cannot read", "includes itself"]),
    ],
)
def test_unsupported_antimony_constructs_name_construct_and_element(model: str, fragments: list[str]) -> None:
    with pytest.raises(msm.ConfigurationError) as info:
        Network(name="micro", model=model, method="rosw")
    msg = str(info.value)
    assert "setting 'model' of component 'micro'" in msg
    for fragment in fragments:
        assert fragment in msg, (fragment, msg)


# -- the subset fallback --------------------------------------------------------------------
def test_subset_reader_and_antimony_give_bit_identical_euler_runs() -> None:
    # The built-in subset and the antimony package build the same rate-law trees
    # for products without powers, so Euler runs agree bit for bit.
    model = "F: A + B -> C; kf*A*B\nR: C -> A + B; kr*C\nkf = 2; kr = 0.5; A = 1; B = 0.7"
    runs = []
    for reader in ("subset", "antimony", "auto"):
        net = Network(model=model, dt=1e-3, shape=(3,), reader=reader)
        assert net.kinetic_model.source == ("antimony-subset" if reader == "subset" else "antimony")
        runs.append(trajectory(net, [0.1, 0.2]))
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[1], runs[2])


def test_auto_reader_falls_back_to_the_subset_without_antimony(monkeypatch, caplog) -> None:
    # With the antimony package unimportable, reader="auto" logs a warning and
    # reads the (mass-action) model with the built-in subset; reader="antimony"
    # says how to install it.
    import sys

    monkeypatch.setitem(sys.modules, "antimony", None)  # makes `import antimony` fail
    with caplog.at_level("WARNING"):
        net = Network(model="J: U -> ; k*U; k = 4.05e4", dt=2.469136e-8)
    assert net.kinetic_model.source == "antimony-subset"
    assert "built-in mass-action subset" in caplog.text
    with pytest.raises(msm.ConfigurationError, match="pip install antimony"):
        Network(model="J: U -> ; k*U; k = 4.05e4", dt=1.0, reader="antimony")


# -- derivatives ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "law",
    ["k*A^2.5*B", "exp(-A)*B", "A/(1 + B)", "ln(A)*B", "log(2, A) + log10(B)", "sqrt(A*B)", "root(3, A)",
     "A^B", "sin(A)*cos(B)", "tan(A/4) + tanh(B)", "sinh(A) - cosh(B)", "abs(A - B)", "max(A, B)*min(A, B)",
     "piecewise(A^2, A > B, B^3)", "arctan(A) + arcsin(B/4)", "floor(A) + ceil(B)*A", "k*A*B/(Km + A)^2"],
)
def test_analytic_jacobian_matches_central_differences(law: str) -> None:
    # The symbolic derivative (built from the MathML tree) against central
    # differences with h = 1e-6 * x: truncation O(h^2) and rounding O(eps/h)
    # both stay below 1e-6 relative (entries below 1e-9 compared absolutely).
    net = Network(model=f"J: A -> B; {law}; k = 1.3; Km = 0.6; A = 1; B = 1", method="rosw", shape=(3,))
    net.initialize()
    net.state[...] = [[1.7, 0.9], [0.6, 1.3], [2.2, 2.1]]
    dense = net.jacobian().convert("dense").getDenseArray()
    base = net.state.copy()
    fd = np.zeros_like(dense)
    for cell in range(3):
        for q in range(2):
            h = 1e-6 * base[cell, q]
            for sign in (1, -1):
                net.state[...] = base
                net.state[cell, q] += sign * h
                fd[2 * cell:2 * cell + 2, 2 * cell + q] += sign * net.rhs()[cell] / (2 * h)
    np.testing.assert_allclose(dense, fd, rtol=1e-6, atol=1e-9)


def test_expression_builders_fold_and_simplify() -> None:
    # Constant folding and neutral elements keep derivatives small: d(k*A^2)/dA = 2k*A.
    a = Var(0, "A")
    assert mul(Const(2.0), Const(3.0), a) == mul(Const(6.0), a)
    assert add(Const(0.0), a) == a and mul(Const(1.0), a) == a and mul(Const(0.0), a) == Const(0.0)
    assert power(a, Const(1.0)) == a
    assert diff(mul(Const(1.5), power(a, Const(2.0))), 0) == mul(Const(1.5), Const(2.0), a)
    assert diff(a, 1) == Const(0.0)
