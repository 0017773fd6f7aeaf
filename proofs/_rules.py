r"""Named rules as patterns: what an estimate by a rule may say, checked before its chain is composed.

A written proof trusts "by the triangle inequality" because the reader checks that the step has that form.
Here the checker does part of that reading itself (:func:`rule_violation`):

* **shape** (every rule): which relations the rule can give (only ``exp_monotone`` and ``sum_of_terms`` give
  lower bounds; only exact rules give ``=``), and what its right side may be built from. No rule other than a
  citation, an assumption or ``square_nonnegative`` can introduce a number or a parameter: its right side is a
  product of quantity symbols with coefficient 1 (a sum of such for ``triangle``), with ``√k`` allowed where
  the rule says so (``‖1_k‖ = √k``: cauchy_schwarz, norm_comparison), ``k·q`` for sum_of_terms,
  ``exp(±q)`` for exp_monotone and ``√q``, ``q²`` for spectral_norm (k ∈ {n, d}).
* **cauchy_schwarz, norm_comparison**: a factor √k only with the checker's own length k (:data:`ROOTS`).
* **sum_of_terms**: only for a quantity the checker knows as a sum (:data:`SUMS`), with its number of terms
  and its own bound on each term.
* **square_nonnegative**: ``q ≤ c`` only for a quantity ``q = max P(t)`` with the checker's own polynomial
  ``P`` (:data:`SQUARE_BOUNDS`), and only when ``c − P(t)`` is shown to be ``k (t − a)² + m``, k > 0, m ≥ 0.
* **definitions** (:mod:`.definitions`): ``identity`` needs ``q = q′`` with both quantities defined there
  with the same norm, and the checker itself proves the defining columns equal at its size (the step's
  own side identities are checked too, but do not decide what the step is about); ``probability`` applies
  only to ``‖p‖ ≤ 1`` for a quantity declared the norm of a probability vector.

What stays trusted (listed by :func:`trusted_rules`), and only at the applications listed in
:mod:`._reviewed` (any other is refused): that a shape-correct estimate by triangle,
submultiplicative, cauchy_schwarz, hadamard, norm_comparison, mean_value, exp_monotone,
schur_test, row_block, kron_spectrum, spectral_norm or homogeneity is an instance of the
standard fact for the quantities its names denote. The shape check bounds what a wrong one can do: it cannot
bring in a constant smaller than 1, a parameter, or a lower bound.
"""
from __future__ import annotations

import sympy as sp

from . import _reviewed  # its REVIEWED is read at each use (a test extends it)
from ._algebra import holds
from .definitions import PROBABILITY, definition
from .symbols import PARAMS, d, n

RELS = {
    "triangle": ("<=",), "submultiplicative": ("<=",), "cauchy_schwarz": ("<=",), "hadamard": ("<=", "="),
    "norm_comparison": ("<=",), "mean_value": ("<=",), "exp_monotone": ("<=", ">="),
    "sum_of_terms": ("<=", ">="), "schur_test": ("<=",), "square_nonnegative": ("<=",), "row_block": ("<=",),
    "kron_spectrum": ("=",), "spectral_norm": ("=",), "probability": ("<=",), "homogeneity": ("=",),
    "identity": ("=",),
}
# checked against statements or the checker's own tables
CHECKED = ("assumption", "lemma", "stacked_rows", "identity", "probability", "square_nonnegative", "sum_of_terms")
_ROOTS = (sp.sqrt(n), sp.sqrt(d))


def is_quantity(e) -> bool:
    """A quantity symbol: a positive symbol that is not a parameter ``n, d, R, M``."""
    return isinstance(e, sp.Symbol) and e.is_positive and e.name not in PARAMS


def _monomial(e, extra=()) -> bool:
    """``e`` is a product of quantity symbols (powers allowed), coefficient 1, factors in ``extra`` allowed."""
    coeff, rest = sp.sympify(e).as_coeff_Mul()
    if coeff != 1:
        return False
    for f in sp.Mul.make_args(rest):
        base = f.base if f.is_Pow and f.exp.is_Integer and f.exp > 0 else f
        if not (is_quantity(base) or f in extra):
            return False
    return rest != 1


def _shape(rule: str, rhs) -> bool:
    if rule == "triangle":
        return rhs.is_Add and len(rhs.args) >= 2 and all(_monomial(t) for t in rhs.args)
    if rule in ("cauchy_schwarz", "norm_comparison"):
        return _monomial(rhs, _ROOTS)
    if rule == "sum_of_terms":
        coeff, q = rhs.as_independent(*[s for s in rhs.free_symbols if is_quantity(s)], as_Add=False)
        return coeff in (n, d) and is_quantity(q)
    if rule == "exp_monotone":
        return isinstance(rhs, sp.exp) and (is_quantity(rhs.args[0]) or is_quantity(-rhs.args[0]))
    if rule == "spectral_norm":
        return _monomial(rhs) or (rhs.is_Pow and rhs.exp == sp.Rational(1, 2) and is_quantity(rhs.base))
    if rule == "square_nonnegative":
        return rhs.is_number
    if rule == "probability":
        return rhs == 1
    return _monomial(rhs)


def rule_violation(lemma, e, size) -> str:
    """Why estimate ``e`` is not of its rule's form ("" if it is, or if the rule is a citation/assumption)."""
    if e.rule in ("assumption", "lemma", "stacked_rows"):
        return ""
    if e.rel not in RELS.get(e.rule, ()):
        return f"estimate of {e.lhs}: rule {e.rule!r} cannot give the relation {e.rel!r}"
    if not is_quantity(e.lhs):
        return f"estimate by {e.rule!r}: its left side {e.lhs} is not a quantity symbol"
    if not _shape(e.rule, sp.sympify(e.rhs)):
        return f"estimate {e.lhs} {e.rel} {e.rhs}: the right side is not of the form rule {e.rule!r} gives " \
               "(a rule brings in no number or parameter of its own)"
    if e.rule == "probability":
        if e.rhs != 1 or e.lhs.name not in PROBABILITY:
            return f"rule 'probability' gives ‖p‖ ≤ 1 for the norm of a probability vector; {e.lhs} <= {e.rhs} " \
                   "is not that"
    if e.rule == "square_nonnegative":
        return _square(e)
    if e.rule == "sum_of_terms":
        return _sum(e)
    if e.rule in ("cauchy_schwarz", "norm_comparison"):
        return _root(e)
    if e.rule == "identity":
        return _identity(lemma, e, size)
    if e.rule not in CHECKED:
        if (e.rule, e.lhs.name, e.rel, str(e.rhs)) not in _reviewed.REVIEWED:
            return f"{e.lhs} {e.rel} {e.rhs} by the trusted rule {e.rule!r} is not one of the reviewed applications " \
                   "(proofs/_reviewed.py): the checker cannot tell that the rule relates these quantities"
    return ""


# a quantity that is a sum -> (its number of terms, {relation: the bound on every term it may use})
SUMS = {
    "α(x)": (n, {"<=": "max_i u_i(x)", ">=": "min_i u_i(x)"}),
    "sup α": (n, {"<=": "sup ‖u‖_∞"}),
    "max_j α_j": (n, {"<=": "max_jm u_jm"}),
    "min_j α_j": (n, {">=": "min_jm u_jm"}),
}


# a quantity whose rule may bring in √k (‖1_k‖₂ = √k, ‖v‖₂ ≤ √k ‖v‖_∞) -> k, the length of its vector
ROOTS = {"‖u(x)‖": n, "sup ‖u‖₂": n, "|α(s) − α(s′)|": n}


def _root(e) -> str:
    """A factor √k only with the checker's own length k of the vector the step is about (‖u‖ ≤ √d ‖u‖_∞ for
    u ∈ Rⁿ is false when n > d)."""
    roots = [r for r in _ROOTS if sp.sympify(e.rhs).has(r)]
    if not roots:
        return ""
    k = ROOTS.get(e.lhs.name)
    if k is None or roots != [sp.sqrt(k)]:
        where = f"{e.lhs} is about a vector of length {k}" if k is not None else \
            f"the checker does not know the length of the vector {e.lhs} is about"
        return f"rule {e.rule!r}: {e.lhs} <= {e.rhs} brings in {', '.join(map(str, roots))}, but {where}"
    return ""


def _sum(e) -> str:
    """``Σ_{i≤k} t_i ≤ k·max`` (or ``≥ k·min``): the checker's own count of terms and its own term bound,
    not the step's (α ≥ d·e^{−R²} "by sum_of_terms" passed every layer: sampled at n = 6 > d = 4)."""
    known = SUMS.get(e.lhs.name)
    if known is None:
        return f"rule 'sum_of_terms': the checker does not know {e.lhs} as a sum, nor how many terms it has"
    k, terms = known
    coeff, q = sp.sympify(e.rhs).as_independent(*[s for s in e.rhs.free_symbols if is_quantity(s)], as_Add=False)
    if coeff != k or getattr(q, "name", None) != terms.get(e.rel):
        each = terms.get(e.rel, "(no such bound)")
        return f"rule 'sum_of_terms': {e.lhs} is a sum of {k} terms, each {e.rel} {each}, " \
               f"so it gives {e.lhs} {e.rel} {k}·{terms.get(e.rel, '?')}, not {e.rhs}"
    return ""


_t = sp.Symbol("t", real=True)
# quantity -> the checker's own polynomial P(t) it is the maximum of (t an entry of a probability vector)
SQUARE_BOUNDS = {"max_i 2 f_i (1 − f_i)": 2 * _t * (1 - _t)}


def _square(e) -> str:
    """``q ≤ c`` by square_nonnegative: ``q`` is ``max P(t)`` for a polynomial the checker knows, and the
    checker itself shows ``c − P(t)`` is a quadratic with positive leading coefficient and discriminant ≤ 0
    (a non-negative multiple of a square plus a non-negative number) — never the number the step states."""
    P = SQUARE_BOUNDS.get(e.lhs.name)
    if P is None:
        return f"rule 'square_nonnegative': the checker has no polynomial whose maximum is {e.lhs}, so {e.lhs} <= " \
               f"{e.rhs} is not shown by it"
    Q = sp.Poly(sp.expand(e.rhs - P), _t)
    a, b, c = ([0] * 3 + Q.all_coeffs())[-3:]
    # decided by sympy's assumptions, never by a Relational's truth value (a constant evalf cannot order, e.g.
    # ½ − (√(10⁸⁰⁰+1) − 10⁴⁰⁰), raised TypeError there: found in review, a traceback instead of a reason)
    positive, flat = sp.sympify(a).is_positive, sp.sympify(b ** 2 - 4 * a * c).is_nonpositive
    if not (Q.degree() == 2 and positive is True and flat is True):
        return f"rule 'square_nonnegative': {e.rhs} − ({P}) is not a non-negative multiple of a square plus a " \
               f"non-negative number, so {e.lhs} <= {e.rhs} does not follow"
    return ""


def _identity(lemma, e, size) -> str:
    form = lemma_form(lemma)
    left, right = definition(e.lhs, *size, form), definition(e.rhs, *size, form)
    missing = [str(q) for q, v in ((e.lhs, left), (e.rhs, right)) if v is None]
    if missing:
        return f"identity {e.lhs} = {e.rhs}: the checker has no definition of {missing[0]}, so it cannot tie " \
               "the side identity to the step"
    if left[0] != right[0]:
        return f"identity {e.lhs} = {e.rhs}: one is a {left[0]}-norm, the other a {right[0]}-norm"
    if not holds(left[1], right[1]):
        return f"identity {e.lhs} = {e.rhs}: the checker's definitions of the two are not shown equal at " \
               f"n={size[0]}, d={size[1]}"
    return ""


def lemma_form(lemma) -> str:
    """"matrix" for a matrix-form lemma (its Bound's form, or an id starting ``matrix_``), else "vector"."""
    if lemma.bound is not None:
        return lemma.bound.form
    return "matrix" if lemma.id.startswith("matrix_") else "vector"


def trusted_rules(lemma, steps) -> tuple[list[str], list[str]]:
    """``(checked, trusted)``: the rules a chain uses whose application the checker verifies against
    statements or definitions, and those whose applicability it only checks for shape."""
    used = list(dict.fromkeys(getattr(s, "rule", "identity step") for s in steps))
    return [r for r in used if r in CHECKED], [r for r in used if r not in CHECKED and r != "identity step"]
