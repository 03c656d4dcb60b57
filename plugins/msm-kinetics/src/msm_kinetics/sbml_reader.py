"""Read a reaction network from Antimony text or SBML into a :class:`~msm_kinetics.model.KineticModel`.

Antimony text goes through the ``antimony`` package (``loadAntimonyString`` then
``getSBMLString``), so both sources are read by the same SBML reader, which uses
``python-libsbml``. Both packages are this plugin's dependencies and are imported
here, when a model is read - never by msmcore.

Rate laws are built from libSBML's MathML tree (``ASTNode``) into
:mod:`msm_kinetics.expressions` trees; nothing is evaluated as text.

Supported
    compartments (constant size), species (initial concentration or amount,
    ``hasOnlySubstanceUnits``, boundary and constant species, conversion factors),
    global and local parameters, initial assignments (evaluated once when the model
    is read), function definitions (inlined), assignment rules on parameters
    (inlined where the parameter is used, so they may depend on species and
    time), rate rules on species, and kinetic laws built from
    ``+ - * / ^``, ``exp``, ``ln``, ``log``, ``root``, ``abs``, ``floor``,
    ``ceiling``, trigonometric and hyperbolic functions and their inverses,
    ``min``, ``max``, ``rem``, ``piecewise`` with relational and logical
    operators, ``time``, ``pi``, ``exponentiale``, ``avogadro``, ``true``/``false``.
Rejected with :class:`msmcore.ConfigurationError` naming the construct and the element id
    events, delays, ``rateOf``, algebraic rules, constraints, rate rules on
    parameters or compartments, assignment rules on species or compartments,
    fast reactions, reactions without a kinetic law, variable stoichiometry
    (``stoichiometryMath``, or a species reference targeted by a rule or an
    initial assignment), recursive function definitions, reaction ids used as
    values, required SBML Level 3 packages (e.g. ``comp``), unknown names and
    MathML this reader does not know (e.g. ``factorial``).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from msm_kinetics.expressions import (
    ONE,
    ZERO,
    Const,
    Expr,
    Time,
    Var,
    add,
    call,
    div,
    mul,
    neg,
    power,
    sub,
)
from msm_kinetics.model import KineticModel
from msmcore.errors import ConfigurationError

__all__ = ["load_antimony", "load_sbml", "require"]

logger = logging.getLogger(__name__)

_INSTALL = {"antimony": "antimony", "libsbml": "python-libsbml"}


def require(module: str, where: str) -> ModuleType:
    """Import ``module`` ("antimony" or "libsbml") or raise a ConfigurationError saying how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigurationError(
            f"{where}: reading this model needs the Python package '{_INSTALL[module]}' "
            f"(import {module} failed: {exc}); install it with `pip install {_INSTALL[module]}` "
            "or reinstall msm-kinetics, which depends on it"
        ) from None


def load_antimony(text: str, where: str) -> KineticModel:
    """Read an Antimony model with the ``antimony`` package (via SBML).

    Parameters
    ----------
    text
        The model in Antimony.
    where
        Names the setting and component in error messages.
    """
    antimony = require("antimony", where)
    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(text) < 0:
        message = " ".join(str(antimony.getLastError()).split())
        raise ConfigurationError(f"{where}: Antimony cannot read the model: {message}")
    sbml = antimony.getSBMLString(antimony.getMainModuleName())
    antimony.clearPreviousLoads()
    return load_sbml(sbml, where, source="antimony")


def load_sbml(text: str, where: str, source: str = "sbml") -> KineticModel:
    """Read an SBML document (any level and version libSBML reads).

    Parameters
    ----------
    text
        The SBML document as a string.
    where
        Names the setting and component in error messages.
    source
        Recorded as :attr:`KineticModel.source`.
    """
    libsbml = require("libsbml", where)
    doc = libsbml.readSBMLFromString(text)
    problems = []
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        if err.getSeverity() >= libsbml.LIBSBML_SEV_ERROR:
            problems.append(f"line {err.getLine()}: {' '.join(err.getMessage().split())}")
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ConfigurationError(f"{where}: libSBML cannot read the document: {'; '.join(problems[:3])}{more}")
    core = doc.getSBMLNamespaces().getURI()
    for i in range(doc.getNumPlugins()):
        plugin = doc.getPlugin(i)
        package = plugin.getPackageName()
        # libSBML's own L3V2 math support is a "plugin" in the core namespace: not a package
        if plugin.getURI() != core and doc.getPackageRequired(package):
            raise ConfigurationError(
                f"{where}: the SBML package '{package}' is required by the document but not supported "
                "(kinetics.network reads SBML core; flatten 'comp' models first, e.g. with libSBML's "
                "CompFlatteningConverter)"
            )
    model = doc.getModel()
    if model is None:
        raise ConfigurationError(f"{where}: the SBML document has no <model>")
    return _Reader(libsbml, model, where, source).build()


@functools.cache
def _ast_names(libsbml: ModuleType) -> dict[int, str]:
    """libSBML's AST node type constants by value -> name (``AST_PLUS``...), built once."""
    return {getattr(libsbml, n): n for n in dir(libsbml) if n.startswith("AST_")}


@dataclass
class _Context:
    what: str                                   # "the kinetic law of reaction 'J1'"
    mode: str = "rate"                          # "rate" (species are variables) or "initial"
    local: dict[str, Expr] = field(default_factory=dict)
    functions: tuple[str, ...] = ()             # function definitions being inlined
    rules: tuple[str, ...] = ()                 # assignment rules being inlined


@dataclass
class _Species:
    index: int
    compartment: str
    amount: bool          # hasOnlySubstanceUnits: the value is an amount
    fixed: bool           # boundaryCondition or constant: reactions do not change it
    element: Any


class _Reader:
    """One libSBML model -> one KineticModel (a reader is used once)."""

    def __init__(self, libsbml: ModuleType, model: Any, where: str, source: str) -> None:
        self.sb = libsbml
        self.m = model
        self.where = where
        self.source = source
        self._types = _ast_names(libsbml)
        self._relational = {
            libsbml.AST_RELATIONAL_LT: "lt", libsbml.AST_RELATIONAL_LEQ: "le",
            libsbml.AST_RELATIONAL_GT: "gt", libsbml.AST_RELATIONAL_GEQ: "ge",
            libsbml.AST_RELATIONAL_EQ: "eq", libsbml.AST_RELATIONAL_NEQ: "ne",
        }
        self.functions = {f.getId(): f for f in model.getListOfFunctionDefinitions()}
        self.compartments = {c.getId(): c for c in model.getListOfCompartments()}
        self.parameters = {p.getId(): p for p in model.getListOfParameters()}
        self.species: dict[str, _Species] = {}
        for i, s in enumerate(model.getListOfSpecies()):
            self.species[s.getId()] = _Species(i, s.getCompartment(), bool(s.getHasOnlySubstanceUnits()),
                                               bool(s.getBoundaryCondition() or s.getConstant()), s)
        self.reactions = {r.getId(): r for r in model.getListOfReactions()}
        self.initial_assignments = {a.getSymbol(): a for a in model.getListOfInitialAssignments()}
        self.assignment_rules: dict[str, Any] = {}
        self.rate_rules: dict[str, Any] = {}
        self.species_refs: dict[str, str] = {}  # species reference id -> reaction id
        for r in model.getListOfReactions():
            for sr in (*r.getListOfReactants(), *r.getListOfProducts()):
                if sr.isSetId():
                    self.species_refs[sr.getId()] = r.getId()
        self._values: dict[str, float] = {}
        self._computing: list[str] = []

    # -- errors ---------------------------------------------------------------------
    def fail(self, message: str) -> ConfigurationError:
        return ConfigurationError(f"{self.where}: {message}")

    def formula(self, node: Any) -> str:
        text = self.sb.formulaToL3String(node)
        return text if text else "?"

    # -- the whole model ------------------------------------------------------------
    def build(self) -> KineticModel:
        self.reject_unsupported()
        self.classify_rules()
        species_ids = tuple(self.species)
        if not species_ids:
            raise self.fail("the model has no species")
        ns, nr = len(species_ids), len(self.reactions)
        stoichiometry = np.zeros((ns, nr))
        rate_laws: list[Expr] = []
        for j, (rid, reaction) in enumerate(self.reactions.items()):
            rate_laws.append(self.kinetic_law(rid, reaction))
            for sign, refs in ((-1.0, reaction.getListOfReactants()), (1.0, reaction.getListOfProducts())):
                for sr in refs:
                    stoichiometry[self.species_index(sr.getSpecies(), f"reaction '{rid}'"), j] += (
                        sign * self.stoichiometry(rid, sr))
        rate_rules: dict[int, Expr] = {}
        for var, rule in self.rate_rules.items():
            spec = self.species[var]
            if not spec.fixed and np.any(stoichiometry[spec.index]):
                raise self.fail(f"species '{var}' has a rate rule and is changed by reactions; SBML allows "
                                "a rate rule only for species that reactions do not change (boundary species)")
            rate_rules[spec.index] = self.convert(rule.getMath(), _Context(f"the rate rule of species '{var}'"))
        scale = np.array([self.scale(sid) for sid in species_ids])
        initial = np.array([self.value(sid) for sid in species_ids])
        if not nr and not rate_rules:
            raise self.fail("the model has no reactions (and no rate rules): nothing changes")
        logger.debug("read %s model: %d species, %d reactions", self.source, ns, nr)
        return KineticModel(
            species=species_ids,
            reactions=tuple(self.reactions),
            rate_laws=tuple(rate_laws),
            stoichiometry=stoichiometry,
            scale=scale,
            initial=initial,
            rate_rules=rate_rules,
            source=self.source,
            parameters=self.known(p for p in self.parameters if p not in self.assignment_rules),
            compartments=self.known(self.compartments),
        )

    def reject_unsupported(self) -> None:
        m = self.m
        if m.getNumEvents():
            ids = [self.element_id(e, "event", i) for i, e in enumerate(m.getListOfEvents())]
            raise self.fail(
                f"SBML event {', '.join(ids)} is not supported: kinetics.network integrates a smooth "
                "ODE system without discontinuities; remove the event, or express the switch in a "
                "rate law with piecewise()")
        if m.getNumConstraints():
            ids = [self.element_id(c, "constraint", i) for i, c in enumerate(m.getListOfConstraints())]
            raise self.fail(f"SBML constraint {', '.join(ids)} is not supported (constraints are not checked); "
                            "remove it")
        for i, rule in enumerate(m.getListOfRules()):
            if rule.isAlgebraic():
                raise self.fail(
                    f"SBML algebraic rule {self.element_id(rule, 'algebraic rule', i)} "
                    f"(0 = {self.formula(rule.getMath())}) is not supported: kinetics.network integrates "
                    "ODEs, not differential-algebraic systems")
        for rid, reaction in self.reactions.items():
            if reaction.isSetFast() and reaction.getFast():
                raise self.fail(f"reaction '{rid}' is marked fast=\"true\", which is not supported; "
                                "give it an ordinary (large) rate instead")
            if not reaction.isSetKineticLaw():
                raise self.fail(f"reaction '{rid}' has no kinetic law")

    def element_id(self, element: Any, kind: str, index: int) -> str:
        if element.isSetId():
            return f"'{element.getId()}'"
        if element.isSetMetaId():
            return f"with metaid '{element.getMetaId()}'"
        return f"#{index + 1} (no id)"

    def classify_rules(self) -> None:
        for rule in self.m.getListOfRules():
            if rule.isAlgebraic():
                continue
            var = rule.getVariable()
            kind = "assignment rule" if rule.isAssignment() else "rate rule"
            if var in self.species_refs:
                raise self.fail(f"the {kind} for '{var}' changes the stoichiometry of reaction "
                                f"'{self.species_refs[var]}'; variable stoichiometry is not supported")
            if rule.isAssignment():
                if var in self.species:
                    raise self.fail(
                        f"the assignment rule for species '{var}' ({var} := {self.formula(rule.getMath())}) "
                        "is not supported: species are state variables here; assignment rules may set "
                        "parameters only")
                if var in self.compartments:
                    raise self.fail(
                        f"the assignment rule for compartment '{var}' is not supported: compartment sizes "
                        "must be constant")
                self.assignment_rules[var] = rule
            else:
                if var not in self.species:
                    what = "compartment" if var in self.compartments else "parameter"
                    raise self.fail(
                        f"the rate rule for {what} '{var}' is not supported: only species are state variables "
                        "(make it a species with a rate rule, or a reaction)")
                self.rate_rules[var] = rule
        for symbol in self.initial_assignments:
            if symbol in self.species_refs:
                raise self.fail(f"the initial assignment to '{symbol}' sets the stoichiometry of reaction "
                                f"'{self.species_refs[symbol]}'; variable stoichiometry is not supported")

    # -- reactions ---------------------------------------------------------------
    def kinetic_law(self, rid: str, reaction: Any) -> Expr:
        law = reaction.getKineticLaw()
        ctx = _Context(f"the kinetic law of reaction '{rid}'")
        for p in (*law.getListOfParameters(), *law.getListOfLocalParameters()):
            if not p.isSetValue():
                raise self.fail(f"local parameter '{p.getId()}' of reaction '{rid}' has no value")
            ctx.local[p.getId()] = Const(float(p.getValue()))
        if law.getMath() is None:
            raise self.fail(f"the kinetic law of reaction '{rid}' has no math")
        return self.convert(law.getMath(), ctx)

    def stoichiometry(self, rid: str, sr: Any) -> float:
        if sr.isSetStoichiometryMath():
            raise self.fail(f"reaction '{rid}': species reference to '{sr.getSpecies()}' uses stoichiometryMath; "
                            "variable stoichiometry is not supported")
        if self.m.getLevel() >= 3 and not sr.isSetStoichiometry():
            raise self.fail(f"reaction '{rid}': the stoichiometry of species '{sr.getSpecies()}' is not set")
        return float(sr.getStoichiometry())

    def species_index(self, sid: str, what: str) -> int:
        if sid not in self.species:
            raise self.fail(f"{what} refers to species '{sid}', which the model does not define")
        return self.species[sid].index

    def scale(self, sid: str) -> float:
        spec = self.species[sid]
        if spec.fixed:
            return 0.0
        factor = 1.0
        cf = spec.element.getConversionFactor() if spec.element.isSetConversionFactor() else (
            self.m.getConversionFactor() if self.m.isSetConversionFactor() else "")
        if cf:
            factor = self.value(cf)
        if spec.amount:
            return factor
        size = self.value(spec.compartment)
        if size == 0.0:
            raise self.fail(f"species '{sid}' is a concentration in compartment '{spec.compartment}' of size 0")
        return factor / size

    # -- values at t = 0 (parameters, compartments, species) ---------------------------
    def value(self, name: str) -> float:
        """The value of ``name`` when the model starts, following initial assignments."""
        if name in self._values:
            return self._values[name]
        if name in self._computing:
            cycle = " -> ".join([*self._computing[self._computing.index(name):], name])
            raise self.fail(f"initial values depend on each other in a cycle: {cycle}")
        self._computing.append(name)
        try:
            result = self._compute_value(name)
        finally:
            self._computing.pop()
        self._values[name] = result
        return result

    def _compute_value(self, name: str) -> float:
        if name in self.initial_assignments:
            return self.constant(self.initial_assignments[name].getMath(),
                                 _Context(f"the initial assignment to '{name}'", mode="initial"))
        if name in self.assignment_rules:
            return self.constant(self.assignment_rules[name].getMath(),
                                 _Context(f"the assignment rule for '{name}'", mode="initial"))
        if name in self.compartments:
            c = self.compartments[name]
            if c.isSetSize():
                return float(c.getSize())
            if c.getSpatialDimensions() == 0:
                return 1.0
            raise self.fail(f"compartment '{name}' has no size")
        if name in self.parameters:
            p = self.parameters[name]
            if not p.isSetValue():
                raise self.fail(f"parameter '{name}' has no value (set one, or give it an initial assignment)")
            return float(p.getValue())
        if name in self.species:
            spec = self.species[name]
            s = spec.element
            if s.isSetInitialConcentration():
                conc = float(s.getInitialConcentration())
                return conc * self.value(spec.compartment) if spec.amount else conc
            if s.isSetInitialAmount():
                amount = float(s.getInitialAmount())
                return amount if spec.amount else amount / self.value(spec.compartment)
            logger.info("%s: species '%s' has no initial value; starting from 0", self.where, name)
            return 0.0
        raise self.fail(f"'{name}' is not a species, compartment or parameter of the model")

    def known(self, names: Iterable[str]) -> dict[str, float]:
        """Values of those of ``names`` that have one (for information)."""
        out = {}
        for name in names:
            try:
                out[name] = self.value(name)
            except ConfigurationError:
                continue
        return out

    def constant(self, node: Any, ctx: _Context) -> float:
        e = self.convert(node, ctx)
        if not isinstance(e, Const):  # cannot happen: initial mode resolves every name
            raise self.fail(f"{ctx.what} does not evaluate to a number: {self.formula(node)}")
        return e.value

    # -- MathML -> expression ----------------------------------------------------------
    def name(self, name: str, ctx: _Context, node: Any) -> Expr:
        if name in ctx.local:
            return ctx.local[name]
        if name in self.species:
            if ctx.mode == "initial":
                return Const(self.value(name))
            return Var(self.species[name].index, name)
        if name in self.assignment_rules:
            if name in ctx.rules:
                raise self.fail(f"assignment rules depend on each other in a cycle: "
                                f"{' -> '.join([*ctx.rules, name])}")
            rule = self.assignment_rules[name]
            inner = _Context(ctx.what, ctx.mode, {}, ctx.functions, (*ctx.rules, name))
            return self.convert(rule.getMath(), inner)
        if name in self.parameters or name in self.compartments:
            return Const(self.value(name))
        if name in self.reactions:
            raise self.fail(f"{ctx.what} uses the id of reaction '{name}' as a value (its rate), "
                            "which is not supported")
        if name in self.species_refs:
            raise self.fail(f"{ctx.what} uses species reference '{name}' (a stoichiometry) as a value, "
                            "which is not supported")
        raise self.fail(f"{ctx.what} uses '{name}', which is neither a species, parameter nor compartment "
                        f"of the model (in {self.formula(node)})")

    def convert(self, node: Any, ctx: _Context) -> Expr:
        sb = self.sb
        t = node.getType()
        kids = [node.getChild(i) for i in range(node.getNumChildren())]

        def args() -> list[Expr]:
            return [self.convert(k, ctx) for k in kids]

        if node.isNumber():
            return Const(float(node.getValue()))
        if t == sb.AST_NAME:
            return self.name(node.getName(), ctx, node)
        if t == sb.AST_NAME_TIME:
            return Const(0.0) if ctx.mode == "initial" else Time()
        if t == sb.AST_NAME_AVOGADRO:
            return Const(float(node.getValue()))
        if t == sb.AST_CONSTANT_E:
            return Const(math.e)
        if t == sb.AST_CONSTANT_PI:
            return Const(math.pi)
        if t == sb.AST_CONSTANT_TRUE:
            return ONE
        if t == sb.AST_CONSTANT_FALSE:
            return ZERO
        if t == sb.AST_PLUS:
            return add(*args())
        if t == sb.AST_TIMES:
            return mul(*args())
        if t == sb.AST_MINUS:
            a = args()
            return neg(a[0]) if len(a) == 1 else sub(a[0], a[1])
        if t == sb.AST_DIVIDE:
            num, den = args()
            return div(num, den)
        if t in (sb.AST_POWER, sb.AST_FUNCTION_POWER):
            base, exponent = args()
            return power(base, exponent)
        if t == sb.AST_FUNCTION_ROOT:
            a = args()
            return call("sqrt", a[0]) if len(a) == 1 else power(a[1], div(ONE, a[0]))
        if t == sb.AST_FUNCTION_LOG:
            a = args()
            if len(a) == 1 or (isinstance(a[0], Const) and a[0].value == 10.0):
                return call("log10", a[-1])
            return div(call("ln", a[1]), call("ln", a[0]))
        if t == sb.AST_FUNCTION_PIECEWISE:
            return call("piecewise", *args())
        if t in self._relational:
            a = args()
            pairs = [call(self._relational[t], a[k], a[k + 1]) for k in range(len(a) - 1)]
            return pairs[0] if len(pairs) == 1 else call("and", *pairs)
        simple = _SIMPLE.get(self._types.get(t, ""))
        if simple is not None:
            a = args()
            return call(simple, *a)
        reciprocal = _RECIPROCAL.get(self._types.get(t, ""))
        if reciprocal is not None:
            (arg,) = args()
            return div(ONE, call(reciprocal, arg))
        if t == sb.AST_FUNCTION_DELAY:
            raise self.fail(
                f"a delay (MathML csymbol 'delay') in {ctx.what} is not supported: kinetics.network "
                f"integrates ordinary, not delay, differential equations (in {self.formula(node)})")
        if t == sb.AST_FUNCTION_RATE_OF:
            raise self.fail(f"rateOf (MathML csymbol 'rateOf') in {ctx.what} is not supported "
                            f"(in {self.formula(node)})")
        if t == sb.AST_FUNCTION:
            return self.function_call(node, kids, ctx)
        kind = self._types.get(t, str(t)).removeprefix("AST_").lower()
        raise self.fail(f"{ctx.what} uses the MathML construct '{kind}', which is not supported "
                        f"(in {self.formula(node)})")

    def function_call(self, node: Any, kids: list[Any], ctx: _Context) -> Expr:
        fname = node.getName()
        if fname not in self.functions:
            raise self.fail(f"{ctx.what} calls '{fname}', which is neither a MathML function nor a function "
                            f"definition of the model (in {self.formula(node)})")
        if fname in ctx.functions:
            raise self.fail(f"function definition '{fname}' calls itself "
                            f"({' -> '.join([*ctx.functions, fname])}); recursion is not supported")
        lam = self.functions[fname].getMath()
        if lam is None or lam.getType() != self.sb.AST_LAMBDA:
            raise self.fail(f"function definition '{fname}' has no lambda")
        nbvar = lam.getNumBvars()
        if len(kids) != nbvar:
            raise self.fail(f"{ctx.what} calls '{fname}' with {len(kids)} argument(s); it takes {nbvar}")
        values = [self.convert(k, ctx) for k in kids]
        local = {lam.getChild(i).getName(): v for i, v in enumerate(values)}
        inner = _Context(f"function definition '{fname}' (called from {ctx.what})", ctx.mode, local,
                         (*ctx.functions, fname), ctx.rules)
        return self.convert(lam.getChild(lam.getNumChildren() - 1), inner)


_SIMPLE = {
    "AST_FUNCTION_EXP": "exp", "AST_FUNCTION_LN": "ln", "AST_FUNCTION_ABS": "abs",
    "AST_FUNCTION_FLOOR": "floor", "AST_FUNCTION_CEILING": "ceil",
    "AST_FUNCTION_SIN": "sin", "AST_FUNCTION_COS": "cos", "AST_FUNCTION_TAN": "tan",
    "AST_FUNCTION_SINH": "sinh", "AST_FUNCTION_COSH": "cosh", "AST_FUNCTION_TANH": "tanh",
    "AST_FUNCTION_ARCSIN": "arcsin", "AST_FUNCTION_ARCCOS": "arccos", "AST_FUNCTION_ARCTAN": "arctan",
    "AST_FUNCTION_ARCSINH": "arcsinh", "AST_FUNCTION_ARCCOSH": "arccosh",
    "AST_FUNCTION_ARCTANH": "arctanh",
    "AST_FUNCTION_MIN": "min", "AST_FUNCTION_MAX": "max", "AST_FUNCTION_REM": "rem",
    "AST_LOGICAL_AND": "and", "AST_LOGICAL_OR": "or", "AST_LOGICAL_XOR": "xor", "AST_LOGICAL_NOT": "not",
}
_RECIPROCAL = {
    "AST_FUNCTION_SEC": "cos", "AST_FUNCTION_CSC": "sin", "AST_FUNCTION_COT": "tan",
    "AST_FUNCTION_SECH": "cosh", "AST_FUNCTION_CSCH": "sinh", "AST_FUNCTION_COTH": "tanh",
}
