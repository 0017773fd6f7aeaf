r"""Checking the estimates that rest on statements: assumption steps and citations of other lemmas.

An assumption step must state its hypothesis exactly (``q ≤ E`` with ``q`` a symbol declared for the norm).
A citation is the cited lemma's goal with a renaming applied, and the renaming is restricted:

* the dimensions ``n`` and ``d`` are never renamed (a lemma proved for every n is not a lemma for n = 64
  unless its statement says so; no hypothesis mentions n, so nothing would be discharged);
* a quantity symbol is mapped to a quantity symbol, never to an expression (``‖s − s′‖ := ‖Ax − Ay‖/2``
  would shrink the bound by renaming); the variable a Lipschitz goal is stated in and the norms the
  hypotheses bound only to a symbol for the same quantity;
* a parameter ``R`` or ``M`` may be instantiated by a positive expression, and then every hypothesis that
  mentions it must be discharged: by a lemma whose goal is exactly the renamed hypothesis, or for
  ``norm(T) <= R`` by ``R := ‖T‖`` (:data:`._core.INSTANCE`).
"""
from __future__ import annotations

import re

import sympy as sp

from ._algebra import is_zero
from ._core import INSTANCE, Estimate, Lemma
from ._rules import is_quantity
from .definitions import instance_violation
from .symbols import NORM_OF, NORMS, PARAMS, WRT_SYMBOL, R, hypothesis, hypothesis_failure

DIMENSIONS = ("n", "d")


def _assumption(lemma: Lemma, e: Estimate) -> str:
    """Why the assumption step ``e`` does not state its hypothesis ("" if it does)."""
    if e.assume not in lemma.assume:
        return f"hypothesis {e.assume!r} is not among the lemma's assumptions"
    h = hypothesis(e.assume)
    if h is None:
        return f"hypothesis {e.assume!r} is not of the form '<norm> <= E' an assumption step can state"
    norm, rel, bound = h
    if e.lhs not in NORMS[norm]:
        return f"the step bounds {e.lhs}, which is not a symbol for {norm} in hypothesis {e.assume!r}"
    if (e.rel, e.rhs) != (rel, bound):
        return f"the step states {e.lhs} {e.rel} {e.rhs}, the hypothesis {e.assume!r} says {rel} {bound}"
    return ""


def _citation(lemma: Lemma, e: Estimate, known: dict) -> str:
    """Why the citation ``e.cite`` is not the cited lemma's goal with its hypotheses met ("" if it is)."""
    cited, mapping = e.cite
    mapping = dict(mapping)
    if cited not in lemma.requires:
        return "it is not in requires"
    if cited not in known or known[cited].goal is None:
        return "it is not a bound lemma"
    lem = known[cited]
    for a, b in mapping.items():
        why = _renaming(a, b)
        if why:
            return why
    g = lem.goal.renamed(mapping)
    if (g.lhs, g.rel) != (e.lhs, e.rel) or not is_zero(g.rhs - e.rhs):
        return "the estimate does not match its goal"
    for a, b in mapping.items():  # the variable a Lipschitz lemma moves, and the norms its hypotheses bound, stay
        fixed = [aliases for aliases in (*NORMS.values(), *((w,) for w in WRT_SYMBOL.values())) if a in aliases]
        if fixed and b not in fixed[0]:
            return f"it renames {a} to {b}, which is not the same quantity"
    why = instance_violation({a: b for a, b in mapping.items() if getattr(a, "name", None) not in PARAMS})
    if why:
        return why
    renamed = [p for p in PARAMS.values() if p in mapping and sp.sympify(mapping[p]) != p]
    for p in renamed:
        if not sp.sympify(mapping[p]).is_positive:
            return f"{p} := {mapping[p]} is not shown positive"
    done = dict(e.discharge)
    for h in done:
        if h not in lem.assume:
            return f"{h!r} is discharged but is not a hypothesis of {cited}"
    why = next(filter(None, map(hypothesis_failure, lem.assume)), "")  # the cited lemma's own check, again:
    if why:  # which parameters a hypothesis mentions is read from its canonical parse (a spelling sympy reads as R
        return why  # passed a test on the text for "R": found in review, R := 3R/5 left such hypotheses as they were
    for h in lem.assume:
        by_ = done.get(h)
        if by_ is None:
            changed = [p for p in renamed if p in hypothesis(h)[2].free_symbols]
            if changed:
                return f"its hypothesis {h!r} mentions {changed[0]}, which the citation renames, so it must be " \
                       "discharged"
            if h not in lemma.assume:
                return f"its hypothesis {h!r} is neither assumed here nor discharged"
        elif by_ == INSTANCE:
            why = _instance(h, mapping, lem.assume)
            if why:
                return why
        else:
            if by_ not in lemma.requires or by_ not in known:
                return f"{h!r} is discharged by {by_!r}, which is not in requires"
            proof = known[by_]
            if not set(proof.assume) <= set(lemma.assume):
                return f"{h!r} is discharged by {by_}, whose hypotheses are not all assumed here"
            parsed = hypothesis(h)
            if parsed is None or parsed[1] != "<=":
                return f"{h!r} is not of the form '<norm> <= E' that a lemma can discharge"
            norm, _, bound = parsed
            want = sp.sympify(bound).subs(mapping, simultaneous=True)
            pg = proof.goal
            if pg is None or pg.rel != "<=" or pg.lhs not in NORMS[norm] or not is_zero(pg.rhs - want):
                shown = f"{pg.lhs} {pg.rel} {pg.rhs}" if pg is not None else "no bound"
                return f"{h!r} with the renaming is {norm} <= {want}, but {by_} proves {shown}"
    return ""


def _instance(h: str, mapping: dict, hypotheses) -> str:
    """Why instantiating R := ||T|| does not discharge ``h`` ("" if it does)."""
    m = re.fullmatch(r"norm\((.+)\) <= R", h)
    if not m or m[1] not in NORM_OF or mapping.get(R) != NORM_OF[m[1]]:
        return f"{h!r} is not discharged by R := ‖{m[1] if m else '?'}‖"
    others = [o for o in hypotheses if o != h and R in hypothesis(o)[2].free_symbols]  # canonical: checked above
    return f"instantiating R also changes {others[0]!r}" if others else ""




def _renaming(a, b) -> str:
    """Why the citation may not rename ``a`` to ``b`` ("" if it may)."""
    name = getattr(a, "name", None)
    if not isinstance(a, sp.Symbol):
        return f"it renames the expression {a}; a citation renames symbols only"
    if name in DIMENSIONS:
        return f"it renames the dimension {name} to {b}; n and d are never renamed (the lemma holds for every " \
               f"{name}, which is not the statement for {name} = {b})"
    if name in PARAMS:
        if a is not PARAMS[name] and a != PARAMS[name]:
            return f"it renames a symbol {name} that is not the parameter {name}"
        return ""
    if not is_quantity(a):
        return f"it renames {a}, which is neither a parameter nor a quantity symbol"
    if not is_quantity(sp.sympify(b)):
        return f"it maps the quantity {a} to {b}; a quantity is mapped to a quantity symbol, never to an expression"
    return ""
