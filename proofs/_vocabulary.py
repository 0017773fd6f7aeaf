"""The vocabulary a lemma's expressions are built of, and the check that they are (:func:`expression_failure`).

The checker reasons with sympy: ``compose`` asks a gap's sign, :mod:`._zero` asks whether a difference vanishes, the
sampling substitutes values by symbol name. Each answer is only as good as the objects asked, so every node of every
expression a lemma carries (:func:`expressions`) must be one of sympy's own classes, exactly, with the facts sympy's
own rules give it. Each rule below was added when a review forged a lemma around its absence (tests
``test_proofs_review5.py`` … ``test_proofs_review11.py``).
"""
from __future__ import annotations

import sympy as sp
from sympy.core.assumptions import StdFactKB, _assume_defined

from ._core import Estimate, Lemma, Step
from .symbols import PARAMS

_PROFILES = ({"real": True}, {"positive": True})  # matrix()/vector() entries, quantity() and the parameters
# The classes a lemma's expressions may be built of, by identity (not by base class or module name: a subclass of
# Rational claiming to be non-negative, and a function class whose __module__ said "sympy.functions", each proved
# a false bound in review 7): all that the 57 lemmas use, at every size the checker builds.
_FACTS = tuple(sorted(_assume_defined))  # every fact sympy's assumptions decide (positive, zero, integer, …)
_NODES = frozenset({sp.Symbol, sp.Add, sp.Mul, sp.Pow, sp.exp, sp.Integer, sp.Rational, type(sp.S.Half),
                    type(sp.S.One), type(sp.S.Zero), type(sp.S.NegativeOne)})


_SINGLETONS = (type(sp.S.Half), type(sp.S.One), type(sp.S.Zero), type(sp.S.NegativeOne))


def _fresh(node):
    """``node`` made anew from its arguments (or its value), outside sympy's cache, with no fact told: what
    sympy's own rules answer for it. Found in review: a genuine ``Add`` (100 − R) whose fact store was replaced
    by one saying positive proved ‖Ax‖_∞ ≤ R² + R(100 − R) (false for R > 100)."""
    kind = type(node)
    if kind is sp.Add or kind is sp.Mul:
        return kind._from_args(node.args)
    if kind is sp.Pow:
        out = sp.Basic.__new__(kind, *node.args)
        out.is_commutative = node.args[0].is_commutative and node.args[1].is_commutative  # as Pow.__new__ sets it
        return out
    if kind is sp.Integer or kind is sp.Rational:
        out = sp.Expr.__new__(kind)
        out.p = node.p
        if kind is sp.Rational:
            out.q = node.q
        return out
    if kind in _SINGLETONS:  # one object each for all of sympy: altering one is a global rewrite (out of scope)
        return node
    return sp.Basic.__new__(kind, *node.args)  # exp


def expression_failure(exprs) -> str:
    """Why a lemma's expressions (its steps', goal's, citations' and Bound's) are not built from the checker's
    vocabulary ("" if they are).

    Every node of every expression is of one of the classes in :data:`_NODES` (exactly: plain ``Symbol``,
    ``Integer``, ``Rational`` and its singletons, ``Add``, ``Mul``, ``Pow``, ``exp``: all that the 57 lemmas use);
    every symbol has the assumptions of an entry (real) or of a quantity or parameter (positive), the parameters
    being this module's ``n, d, R, M``; no name stands for two symbols. Found in review, each proving a false
    bound: ``Symbol('R', positive=True, integer=True)`` (printed R, set to R's value by the sampling, ``R ≥ 1`` to
    ``compose``: ``‖Ax‖_∞ ≤ R·R²``, false for R < 1); a ``zero=True`` R (``R·R² = 0`` to :func:`._zero.is_zero`);
    the same twins as ``Dummy`` symbols; an undefined function ``F(R)`` made a positive integer that evaluates
    to R (``‖u(x)‖ ≤ √n (R/10 + 9/10) e^{R²}``, false at R = 0.1, n = 6), again as a ``Function`` subclass whose
    ``__module__`` said ``sympy.functions``; a ``Rational`` subclass printed −10⁻⁶ and claiming to be
    non-negative (``‖Ax‖_∞ ≤ R² − 10⁻⁶``); a rounded ``Float``."""
    names: dict[str, sp.Symbol] = {}

    def given(sym) -> str:  # the assumptions it was made with (sympy keeps them; all derived ones otherwise)
        made = getattr(sym, "_assumptions_orig", None) or sym.assumptions0
        return ", ".join(f"{k}={v}" for k, v in made.items())

    atoms: set = set()
    nodes: list = []
    seen: dict = {}  # id → node (kept alive, so no id is reused during the call)
    for e in exprs:
        for part in (e if isinstance(e, sp.MatrixBase) else [e]):
            if not isinstance(part, sp.Basic):
                continue
            stack = [part]
            while stack:
                node = stack.pop()
                if id(node) in seen:  # one object, one subtree: checked once per call
                    continue
                seen[id(node)] = node
                stack.extend(node.args)
                kind = type(node)
                if not any(kind is c for c in _NODES):  # identity: a metaclass could make == and hash say anything
                    what = "function" if isinstance(node, sp.Function) else "number" if node.is_Number else "node"
                    return f"it holds the {what} {node} of class {kind.__module__}.{kind.__qualname__}, which is " \
                           "not in the checker's vocabulary (plain Symbol, exact Integer or Rational, Add, Mul, Pow, " \
                           "exp: sympy's own classes, compared by identity)"
                if kind is not sp.Symbol:
                    nodes.append(node)
                if not node.args:
                    atoms.add(node)
    for node in (*reversed(nodes), *(a for a in atoms if type(a) is sp.Symbol)):  # arguments before their nodes
        if type(node._assumptions) is not StdFactKB:  # sympy's own store: a subclass can answer what it does not hold
            return f"its subexpression {node} keeps its facts in a {type(node._assumptions).__qualname__}, not " \
                   "sympy's own store: its facts were altered after it was made"
        if type(node) is sp.Symbol:
            continue
        fresh = _fresh(node)
        told = dict(node._assumptions)
        if any(getattr(fresh, f"is_{k}") != v for k, v in told.items()):
            return f"its subexpression {node} answers sympy's questions about it otherwise than the same " \
                   "expression made anew: its facts were altered after it was made"
    for sym in sorted((a for a in atoms if type(a) is sp.Symbol), key=str):
        if type(sym.name) is not str:  # noqa: E721  (a str subclass can print one name and compare as another)
            return f"its symbol {sym.name} has a name of class {type(sym.name).__qualname__}, not str"
        if sym.name in PARAMS and sym != PARAMS[sym.name]:
            return f"it uses a symbol named {sym.name} ({given(sym)}) that is not the parameter {sym.name}"
        canon = next((c for c in (sp.Symbol(sym.name, **a) for a in _PROFILES) if c == sym), None)
        if canon is None:
            return f"its symbol {sym.name} is made with {given(sym)}: the checker's symbols are real entries or " \
                   "positive quantities, and further assumptions would be used by sympy in the proof"
        if hash(sym) != hash(canon) or any(getattr(sym, f"is_{f}") != getattr(canon, f"is_{f}") for f in _FACTS):
            return f"its symbol {sym.name} equals the checker's {sym.name} but answers sympy's questions about it " \
                   "(its hash or its facts) otherwise: it was altered after it was made"
        if names.setdefault(sym.name, sym) != sym:
            return f"two different symbols are both named {sym.name}"
    return ""


def expressions(lemma: Lemma, steps) -> list:
    """``lemma``'s goal and Bound constant and its steps' expressions, side identities and citation maps."""
    exprs: list = [] if lemma.goal is None else [lemma.goal.lhs, lemma.goal.rhs]
    if lemma.bound is not None:
        exprs.append(lemma.bound.value)
    for s in steps:
        if isinstance(s, Step):
            exprs += [s.lhs, s.rhs]
        elif isinstance(s, Estimate):
            exprs += [s.lhs, s.rhs, *(x for side in s.side for x in (side.lhs, side.rhs))]
            exprs += [x for pair in (s.cite[1] if s.cite else ()) for x in pair]
    return [sp.sympify(e) if isinstance(e, (int, float)) else e for e in exprs]
