"""A small subset of Antimony for mass-action reaction networks.

This is the fallback reader of ``kinetics.network`` (``reader="subset"``, or
``"auto"`` when the ``antimony`` package does not import): the text is tokenized
and parsed by recursive descent into a typed :class:`ReactionModel`; nothing in
it is ever evaluated as Python. The accepted language is a strict subset of
`Antimony <https://tellurium.readthedocs.io/en/latest/antimony.html>`_, so a
model written for it reads the same with the full Antimony/SBML reader:

``J1: A + 2 B -> C; k1*A*B^2``
    A reaction: an optional name and ``:``, the reactants, ``->`` (``=>`` is
    accepted too), the products, ``;`` and the rate law. Either side may be
    empty (``J: U -> ; k*U`` is a degradation, ``-> A; k0`` a zero-order
    source). A stoichiometric coefficient is an optional positive number before
    a species (``2 B``); a species named twice on one side adds up. Reactions
    without a name are called ``_J0``, ``_J1``, ... as in Antimony.
``k1 = 4.05e4``
    An assignment of a (signed) number: the value of a parameter, or the
    initial value of a species. A species is any name that appears in a
    reaction; its initial value defaults to 0. A later assignment of the same
    name replaces an earlier one.
statements
    separated by newlines or by ``;``. In a reaction the first ``;`` after the
    products introduces the rate law, which runs to the next ``;`` or newline.
comments
    ``# ...`` and ``// ...`` to the end of the line, ``/* ... */`` anywhere.

A rate law must be a mass-action product: numbers, parameters and species
joined by ``*``, each optionally raised with ``^`` to a number; a species' power
(its kinetic order) must be a non-negative integer. Division, sums and
differences, parentheses, functions, unknown names and parameters that are
never assigned are rejected with :class:`msmcore.ConfigurationError` naming the
reaction and the offending text; general rate laws need the Antimony/SBML
reader (:mod:`msm_kinetics.sbml_reader`).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from msmcore.errors import ConfigurationError

__all__ = ["Reaction", "ReactionModel", "parse_model"]

logger = logging.getLogger(__name__)

GENERAL_LAWS_HINT = (
    "the built-in subset accepts mass-action rate laws only (a product of numbers, parameters and "
    "species raised to non-negative integer powers, e.g. 'k*A*B^2'); general rate laws need the "
    "Antimony/SBML reader (reader='antimony', the default when the antimony package is installed)"
)

_TOKEN_RE = re.compile(
    r"""
    (?P<space>[ \t\r\f\v]+)
  | (?P<comment>(?:\#|//)[^\n]*|/\*.*?\*/)
  | (?P<newline>\n)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>->|=>|\*\*|:=|[-+*/^:;=(),$<>!&|'"\[\]{}.@%~?])
    """,
    re.VERBOSE | re.DOTALL,
)

_ARROWS = ("->", "=>")
_END = ("newline", "semi", "eof")


@dataclass(frozen=True)
class Reaction:
    """One reaction of a :class:`ReactionModel`.

    Attributes
    ----------
    name
        The reaction's name (``_J<i>`` when the model gave none).
    reactants, products
        Stoichiometric coefficients by species, in order of appearance.
    rate_constant
        The product of the rate law's numbers and parameters.
    orders
        Kinetic order by species, in order of first appearance in the rate
        law; species absent from the law have order 0 and are not listed.
    rate_law
        The rate law as written.
    """

    name: str
    reactants: Mapping[str, float]
    products: Mapping[str, float]
    rate_constant: float
    orders: Mapping[str, int]
    rate_law: str

    def net_change(self, species: str) -> float:
        """Net stoichiometric coefficient of ``species`` (products minus reactants)."""
        return float(self.products.get(species, 0.0) - self.reactants.get(species, 0.0))


@dataclass(frozen=True)
class ReactionModel:
    """A parsed mass-action reaction network.

    Attributes
    ----------
    species
        Species names in order of first appearance in the reactions.
    initial_values
        Initial value of every species (0 unless assigned).
    parameters
        Values of the assigned names that are not species.
    reactions
        The reactions, in the order written.
    """

    species: tuple[str, ...]
    initial_values: Mapping[str, float]
    parameters: Mapping[str, float]
    reactions: tuple[Reaction, ...]
    source: str = field(default="", repr=False)

    def _order(self, species: Sequence[str] | None) -> tuple[str, ...]:
        return self.species if species is None else tuple(species)

    def stoichiometry(self, species: Sequence[str] | None = None) -> np.ndarray:
        """Stoichiometry matrix ``N`` (species x reactions), net coefficients.

        Parameters
        ----------
        species
            Row order; defaults to :attr:`species`.
        """
        order = self._order(species)
        return np.array(
            [[r.net_change(s) for r in self.reactions] for s in order], dtype=np.float64
        ).reshape(len(order), len(self.reactions))

    def kinetic_orders(self, species: Sequence[str] | None = None) -> np.ndarray:
        """Kinetic orders (reactions x species), integers.

        Parameters
        ----------
        species
            Column order; defaults to :attr:`species`.
        """
        order = self._order(species)
        return np.array(
            [[r.orders.get(s, 0) for s in order] for r in self.reactions], dtype=np.int64
        ).reshape(len(self.reactions), len(order))

    def rate_constants(self) -> np.ndarray:
        """Rate constants of the reactions, in order."""
        return np.array([r.rate_constant for r in self.reactions], dtype=np.float64)

    def initial_vector(self, species: Sequence[str] | None = None) -> np.ndarray:
        """Return the initial values as an array, in ``species`` order (default :attr:`species`)."""
        return np.array([self.initial_values[s] for s in self._order(species)], dtype=np.float64)


# -- tokens ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Token:
    kind: str  # number, name, op, newline, semi, eof
    text: str
    start: int
    end: int
    line: int
    col: int


@dataclass
class _Factor:
    token: _Token  # the number or name
    power: float
    power_token: _Token | None


@dataclass
class _RawReaction:
    name: str
    reactants: list[tuple[float, _Token]]
    products: list[tuple[float, _Token]]
    law: list[_Factor]
    law_text: str
    text: str
    line: int


@dataclass
class _RawAssignment:
    token: _Token
    value: float


def _tokenize(text: str, where: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos, line, line_start = 0, 1, 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            raise ConfigurationError(
                f"{where}: unexpected character {text[pos]!r} at line {line}, column "
                f"{pos - line_start + 1}; see the msm-kinetics README for the accepted syntax"
            )
        kind = m.lastgroup or ""
        value = m.group()
        if kind == "op" and value == ";":
            kind = "semi"
        if kind not in ("space", "comment"):
            tokens.append(_Token(kind, value, pos, m.end(), line, pos - line_start + 1))
        newlines = value.count("\n")
        if newlines:
            line += newlines
            line_start = pos + value.rindex("\n") + 1
        pos = m.end()
    tokens.append(_Token("eof", "", len(text), len(text), line, len(text) - line_start + 1))
    return tokens


def _describe(tok: _Token) -> str:
    if tok.kind == "eof":
        return "the end of the model"
    if tok.kind == "newline":
        return "the end of the line"
    return repr(tok.text)


# -- parser ----------------------------------------------------------------------
class _Parser:
    """Recursive-descent parser over the token list (one statement at a time)."""

    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.tokens = _tokenize(text, where)
        self.i = 0
        self.statements: list[_RawReaction | _RawAssignment] = []
        self.unnamed = 0

    # helpers
    def peek(self, offset: int = 0) -> _Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def is_op(self, tok: _Token, *ops: str) -> bool:
        return tok.kind == "op" and tok.text in ops

    def statement_end(self, start: int) -> int:
        """Index of the first newline/semicolon/eof token at or after ``start``."""
        j = start
        while self.tokens[j].kind not in _END:
            j += 1
        return j

    def source(self, first: _Token, last: _Token) -> str:
        return self.text[first.start:last.end].strip()

    def line_text(self, tok: _Token) -> str:
        start = self.text.rfind("\n", 0, tok.start) + 1
        end = self.text.find("\n", tok.start)
        return self.text[start:end if end >= 0 else len(self.text)].strip()

    def fail(self, what: str, tok: _Token, problem: str, hint: str = "") -> ConfigurationError:
        msg = f"{self.where}: {what} (line {tok.line}: {self.line_text(tok)!r}): {problem}"
        return ConfigurationError(f"{msg}; {hint}" if hint else msg)

    # grammar
    def parse(self) -> list[_RawReaction | _RawAssignment]:
        while True:
            tok = self.peek()
            if tok.kind == "eof":
                return self.statements
            if tok.kind in ("newline", "semi"):
                self.take()
                continue
            self.statement()

    def statement(self) -> None:
        start = self.i
        end = self.statement_end(start)
        segment = self.tokens[start:end]
        first = segment[0]
        if any(self.is_op(t, *_ARROWS) for t in segment):
            self.statements.append(self.reaction())
        elif first.kind == "name" and self.is_op(self.peek(1), "="):
            self.statements.append(self.assignment())
        elif first.kind == "name" and self.is_op(self.peek(1), ":"):
            raise self.fail(
                f"reaction '{first.text}'", first,
                f"malformed reaction {self.source(first, segment[-1])!r}: no '->' between "
                "reactants and products",
                "write reactions as '[name:] reactants -> products; rate law'",
            )
        else:
            raise self.fail(
                "statement", first,
                f"unsupported statement {self.source(first, segment[-1])!r}",
                "the accepted statements are reactions '[name:] A + 2 B -> C; k*A*B^2' and "
                "assignments 'k = 1.5' (see the msm-kinetics README); declarations, events, "
                "functions and other Antimony constructs come with the Antimony/SBML reader",
            )

    def assignment(self) -> _RawAssignment:
        name = self.take()
        self.take()  # '='
        sign = 1.0
        if self.is_op(self.peek(), "-", "+"):
            sign = -1.0 if self.take().text == "-" else 1.0
        value = self.peek()
        if value.kind != "number" or self.peek(1).kind not in _END:
            end = self.tokens[self.statement_end(self.i) - 1]
            raise self.fail(
                f"assignment to '{name.text}'", name,
                f"{self.source(name, end)!r} does not assign a number",
                "assignments take a plain number (e.g. 'k = 4.05e4'); expressions come with "
                "the Antimony/SBML reader",
            )
        self.take()
        number = sign * float(value.text)
        if not math.isfinite(number):
            raise self.fail(f"assignment to '{name.text}'", name, f"{value.text!r} is not a finite number")
        return _RawAssignment(name, number)

    def reaction(self) -> _RawReaction:
        first = self.peek()
        if first.kind == "name" and self.is_op(self.peek(1), ":"):
            name = first.text
            self.take()
            self.take()
        else:
            name = f"_J{self.unnamed}"
            self.unnamed += 1
        what = f"reaction '{name}'"
        reactants = self.side(what, first, _ARROWS)
        self.take()  # the arrow (guaranteed by side())
        products = self.side(what, first, ("semi", "newline", "eof"))
        if not reactants and not products:
            raise self.fail(what, first, "malformed reaction: it has neither reactants nor products")
        sep = self.peek()
        if sep.kind != "semi":
            raise self.fail(
                what, first, "the reaction has no rate law",
                "add it after a ';', e.g. 'J1: A -> B; k1*A'",
            )
        self.take()
        law_first = self.peek()
        law = self.rate_law(what, first)
        law_last = self.tokens[self.i - 1]
        law_text = self.source(law_first, law_last) if law else ""
        stmt_text = self.source(first, law_last)
        return _RawReaction(name, reactants, products, law, law_text, stmt_text, first.line)

    def side(self, what: str, first: _Token, stop: tuple[str, ...]) -> list[tuple[float, _Token]]:
        def at_stop(tok: _Token) -> bool:
            return tok.kind in stop or (tok.kind == "op" and tok.text in stop)

        terms: list[tuple[float, _Token]] = []
        if at_stop(self.peek()):
            return terms
        while True:
            coef = 1.0
            tok = self.peek()
            if tok.kind == "number":
                coef = float(self.take().text)
                if coef <= 0.0:
                    raise self.fail(what, first, f"stoichiometric coefficient {tok.text!r} must be positive")
                tok = self.peek()
            if self.is_op(tok, "$"):
                raise self.fail(
                    what, first, f"boundary species ('${self.peek(1).text}') are not supported",
                    "fixed species come with the Antimony/SBML reader; a constant concentration "
                    "can be written as a parameter in the rate law",
                )
            if tok.kind != "name":
                raise self.fail(
                    what, first,
                    f"malformed reaction: expected a species name but found {_describe(tok)}",
                    "write reactions as '[name:] A + 2 B -> C; k*A*B^2'",
                )
            terms.append((coef, self.take()))
            nxt = self.peek()
            if self.is_op(nxt, "+"):
                self.take()
                continue
            if at_stop(nxt):
                return terms
            expected = "'->'" if "->" in stop else "';' and the rate law"
            raise self.fail(
                what, first,
                f"malformed reaction: expected '+' or {expected} after {terms[-1][1].text!r} "
                f"but found {_describe(nxt)}",
                "write reactions as '[name:] A + 2 B -> C; k*A*B^2'",
            )

    def rate_law(self, what: str, first: _Token) -> list[_Factor]:
        end = self.statement_end(self.i)
        if end == self.i:
            raise self.fail(what, first, "the rate law after ';' is empty", GENERAL_LAWS_HINT)
        law_text = self.source(self.tokens[self.i], self.tokens[end - 1])
        factors: list[_Factor] = []
        while True:
            factors.append(self.factor(what, first, law_text))
            tok = self.peek()
            if tok.kind in _END:
                return factors
            if self.is_op(tok, "*"):
                self.take()
                continue
            raise self.not_mass_action(what, first, law_text, tok)

    def factor(self, what: str, first: _Token, law_text: str) -> _Factor:
        tok = self.peek()
        if tok.kind not in ("number", "name"):
            raise self.not_mass_action(what, first, law_text, tok)
        self.take()
        if tok.kind == "name" and self.is_op(self.peek(), "("):
            raise self.fail(
                what, first,
                f"rate law {law_text!r} calls the function {tok.text!r}, which is not mass action",
                GENERAL_LAWS_HINT,
            )
        if not self.is_op(self.peek(), "^"):
            return _Factor(tok, 1.0, None)
        self.take()
        ptok = self.peek()
        if ptok.kind != "number":
            raise self.fail(
                what, first,
                f"rate law {law_text!r}: the power of {tok.text!r} must be a number, found "
                f"{_describe(ptok)}",
                GENERAL_LAWS_HINT,
            )
        self.take()
        return _Factor(tok, float(ptok.text), ptok)

    def not_mass_action(self, what: str, first: _Token, law_text: str, tok: _Token) -> ConfigurationError:
        kinds = {
            "/": "a division", "+": "a sum", "-": "a difference or a negative sign",
            "(": "parentheses", ")": "parentheses", "**": "'**' (Antimony writes powers as '^')",
        }
        if tok.kind == "op" and tok.text in kinds:
            found = f"{kinds[tok.text]} ({tok.text!r} at column {tok.col})"
        else:
            found = f"{_describe(tok)} at column {tok.col}"
        return self.fail(
            what, first, f"rate law {law_text!r} is not a mass-action product: it contains {found}",
            GENERAL_LAWS_HINT,
        )


# -- from statements to the model --------------------------------------------------
def parse_model(text: str, where: str = "kinetics model") -> ReactionModel:
    """Parse a reaction network written in the Antimony subset.

    Parameters
    ----------
    text
        The model, e.g. ``"J: U -> ; k*U; k = 4.05e4"``.
    where
        Prefix of error messages, naming the component and setting.

    Returns
    -------
    ReactionModel
        Species, parameters, initial values and reactions with their
        stoichiometry, rate constants and kinetic orders.

    Raises
    ------
    msmcore.ConfigurationError
        When the text is outside the subset; the message names the reaction
        (or statement), the offending text and what is accepted.
    """
    if not isinstance(text, str):
        raise ConfigurationError(f"{where}: the model must be a string, got {type(text).__name__}")
    parser = _Parser(text, where)
    statements = parser.parse()
    raw_reactions = [s for s in statements if isinstance(s, _RawReaction)]
    if not raw_reactions:
        raise ConfigurationError(
            f"{where}: the model has no reactions; write at least one, e.g. 'J: U -> ; k*U; k = 1.0'"
        )

    species: dict[str, None] = {}
    for rr in raw_reactions:
        for _, tok in (*rr.reactants, *rr.products):
            species.setdefault(tok.text, None)

    values: dict[str, float] = {}
    for st in statements:
        if isinstance(st, _RawAssignment):
            if st.token.text in values:
                logger.debug("%s: %r assigned again (%g replaces %g)", where, st.token.text,
                             st.value, values[st.token.text])
            values[st.token.text] = st.value

    names: set[str] = set()
    for rr in raw_reactions:
        if rr.name in names:
            raise ConfigurationError(
                f"{where}: reaction '{rr.name}' (line {rr.line}: {rr.text!r}) is defined twice; "
                "give each reaction its own name"
            )
        if rr.name in species or rr.name in values:
            raise ConfigurationError(
                f"{where}: reaction '{rr.name}' (line {rr.line}: {rr.text!r}) has the name of a "
                f"{'species' if rr.name in species else 'parameter'}; rename one of them"
            )
        names.add(rr.name)

    parameters = {n: v for n, v in values.items() if n not in species}
    reactions = tuple(_resolve(rr, species, parameters, where) for rr in raw_reactions)
    used = {f.token.text for rr in raw_reactions for f in rr.law}
    for unused in sorted(set(parameters) - used):
        logger.debug("%s: parameter %r is not used by any rate law", where, unused)
    model = ReactionModel(
        species=tuple(species),
        initial_values={s: values.get(s, 0.0) for s in species},
        parameters=parameters,
        reactions=reactions,
        source=text,
    )
    logger.debug("%s: parsed %d species, %d reactions", where, len(model.species), len(reactions))
    return model


def _resolve(rr: _RawReaction, species: Mapping[str, None], parameters: Mapping[str, float],
             where: str) -> Reaction:
    what = f"{where}: reaction '{rr.name}' (line {rr.line}: {rr.text!r})"
    constant: float | None = None
    orders: dict[str, int] = {}
    for f in rr.law:
        tok = f.token
        if tok.kind == "name" and tok.text in species:
            power = f.power
            if power < 0 or not float(power).is_integer():
                raise ConfigurationError(
                    f"{what}: in rate law {rr.law_text!r} species {tok.text!r} is raised to "
                    f"{f.power_token.text if f.power_token else power!r}; a kinetic order must be "
                    f"a non-negative integer; {GENERAL_LAWS_HINT}"
                )
            orders[tok.text] = orders.get(tok.text, 0) + int(power)
            continue
        if tok.kind == "number":
            value = float(tok.text)
        elif tok.text in parameters:
            value = parameters[tok.text]
        else:
            raise ConfigurationError(
                f"{what}: rate law {rr.law_text!r} uses {tok.text!r}, which is neither a species "
                f"(a name in a reaction) nor a parameter (never assigned a value); assign it, "
                f"e.g. '{tok.text} = 1.0', or correct the name. Species: "
                f"{', '.join(species) or 'none'}; parameters: {', '.join(parameters) or 'none'}"
            )
        if f.power != 1.0:
            try:
                value = math.pow(value, f.power)
            except (ValueError, OverflowError):
                value = math.nan
        constant = value if constant is None else constant * value
        if not math.isfinite(constant):
            raise ConfigurationError(
                f"{what}: the constant factors of rate law {rr.law_text!r} do not give a finite "
                f"real rate constant (at {tok.text!r}); check the parameter values and powers"
            )
    return Reaction(
        name=rr.name,
        reactants=_coefficients(rr.reactants),
        products=_coefficients(rr.products),
        rate_constant=1.0 if constant is None else constant,
        orders={s: o for s, o in orders.items() if o != 0},
        rate_law=rr.law_text,
    )


def _coefficients(terms: list[tuple[float, _Token]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for coef, tok in terms:
        out[tok.text] = out.get(tok.text, 0.0) + coef
    return out
