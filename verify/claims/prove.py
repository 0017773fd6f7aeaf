r"""The "proved" decision: a derived lemma of ``attnreg.proofs`` covers the claim.

A lemma's ``bound`` (``proofs/_core.py: Bound``) proves a claim when its chain, and every lemma it rests on,
verifies (:func:`lemmas` offers only those) and

1. it speaks of the same quantity, form, kind, ``wrt`` and ``wrt`` norm (and version for ``loss`` and
   ``grad``; ``u, α, f, c = f − b, h = u − αb`` do not depend on it);
2. each of its hypotheses (the same ``assume`` vocabulary) is implied by the claim's assumptions: a
   norm bound by a bound on the same norm that is ≤ it on the domain (``simplex(b)`` gives
   ``norm(b) ≤ 1``, ``norm(A1) ≤ r1`` and ``norm(A2) ≤ r2`` give ``norm(kron(A1,A2)) ≤ r1·r2``), a
   parameter range by a narrower one, and a hypothesis on a variable the quantity does not use, or a
   step restriction on the variable that does not move, holds trivially;
3. its constant, converted for ``loss_scale`` (full = 2 × half for ``loss`` and ``grad``), is ≤ the
   claimed one for every admissible (n, d, R) (≥ for ``lower``).

Step 3 is decided symbolically, soundly and incompletely: ``K − C`` is expanded after substituting
``n = n₀ + n'``, ``d = d₀ + d'``, ``R = R₀ + R'`` (lower ends of the ranges, primed symbols ≥ 0) and
must be non-negative term by term (sympy's ``is_nonnegative``), or ``log(K/C)`` is split into terms,
``a·log s`` bounded below by ``a·log s₀`` (a ≥ 0) or ``a·(s − 1)`` (a < 0, since ``log s ≤ s − 1``),
and the rest checked the same way. Anything else is "undecided" — never a guess.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy

from attnreg.statement import NEEDS_B

from .assume import AssumeError, NormBound, ParamBound, Simplex, StepBound, parse_assumption

_SYM = {name: sympy.Symbol(name, positive=True) for name in ("n", "d", "R")}


@dataclass(frozen=True)
class Decision:
    status: str  # "proved" | "undecided"
    lemma: str | None = None
    constant: object = None  # the lemma's constant in the claim's loss_scale (sympy)
    reason: str = ""


def lemmas(*, verified: bool = True) -> list:
    """``(id, lemma)`` of every bound lemma of ``attnreg.proofs`` that verifies, with every lemma it requires
    (transitively): "proved" rests on checked chains. The first call in a process re-checks them all (tens of
    seconds); ``verified=False`` lists them unchecked (:func:`decide` then checks only the ones it uses)."""
    from attnreg import proofs  # deferred: the whole proof machinery (sympy, every lemma), only when proving

    found = proofs.bound_lemmas(verified=verified)
    names = {id(v): k for k, v in getattr(proofs, "LEMMAS", {}).items()}
    return [(names.get(id(lem), getattr(lem, "id", repr(lem))), lem) for lem in found]


def decide(claim, available=None) -> Decision:
    """Proved by a lemma of ``available`` (default: the bound lemmas of ``attnreg.proofs``, each checked —
    with every lemma it requires — only when its statement, hypotheses and constant would prove the claim),
    or undecided with the reason."""
    lazy = available is None
    available = lemmas(verified=False) if lazy else available
    lows = _lower_ends(claim)
    reasons = []
    for name, lem in available:
        bound = lem.bound
        if not claim.measures_same(bound):
            continue
        missing = [h for h in bound.assume if not _implied(h, claim, lows)]
        if missing:
            reasons.append(f"{name}: hypothesis {missing[0]!r} not implied")
            continue
        C = _rename(bound.constant()) * _scale(bound, claim)
        K = claim.constant.to_sympy()
        if not (leq(K, C, lows) if claim.kind == "lower" else leq(C, K, lows)):
            reasons.append(f"{name}: could not show {C} {'≥' if claim.kind == 'lower' else '≤'} {claim.constant.text}")
            continue
        # checked last, only for a lemma that would prove the claim: verifying one costs seconds to a minute
        if lazy and not _verifies(lem):
            reasons.append(f"{name}: its proof does not verify (attnreg proofs check {name})")
            continue
        return Decision("proved", name, C, f"lemma {name}: constant {C} vs claimed {claim.constant.text}")
    if not available:
        return Decision("undecided", reason="no bound lemmas are available in attnreg.proofs")
    return Decision("undecided", reason="; ".join(reasons) or "no lemma covers this quantity, kind and wrt")


def _verifies(lemma) -> bool:
    from attnreg import proofs  # deferred: as in lemmas()

    return proofs.verify(lemma).ok


def _scale(b, claim):
    if claim.quantity not in ("loss", "grad"):
        return sympy.Integer(1)
    return {("half", "full"): sympy.Integer(2), ("full", "half"): sympy.Rational(1, 2)}.get(
        (getattr(b, "loss_scale", "half"), claim.loss_scale), sympy.Integer(1))


def _lower_ends(claim) -> dict:
    lows = dict(n=sympy.Integer(1), d=sympy.Integer(1), R=sympy.Integer(0))
    for a in claim.hypotheses:
        if isinstance(a, ParamBound) and a.op in (">=", ">"):
            v = a.value.to_sympy()
            if a.symbol in "nd":
                v = sympy.ceiling(v) + (1 if a.op == ">" and v.is_integer else 0)
            lows[a.symbol] = sympy.Max(lows[a.symbol], v)
    return lows


def _implied(text, claim, lows) -> bool:
    try:
        h = parse_assumption(text, claim.form)
    except AssumeError:
        return False
    uses_b = claim.quantity in NEEDS_B
    if isinstance(h, ParamBound):
        if h.op in (">=", ">"):
            lo = lows[h.symbol]
            v = h.value.to_sympy()
            return bool(lo > v) or bool(lo >= v) and (h.op == ">=" or h.symbol in "nd" and lo >= v + 1)
        # a strict hypothesis (R < 10) needs a smaller bound, or an equal strict one, from the claim
        return any(isinstance(a, ParamBound) and a.symbol == h.symbol and a.op in ("<=", "<")
                   and (bool(a.value.to_sympy() < h.value.to_sympy())
                        or bool(sympy.Eq(a.value.to_sympy(), h.value.to_sympy())) and (h.op == "<=" or a.op == "<"))
                   for a in claim.hypotheses)
    if isinstance(h, Simplex):
        return not uses_b or any(isinstance(a, Simplex) for a in claim.hypotheses)
    if isinstance(h, StepBound):
        moving = "x" if claim.wrt in ("x", "X") else "A"
        return claim.kind != "lipschitz" or h.step != moving or any(
            isinstance(a, StepBound) and a.step == h.step and (a.strict or not h.strict)
            and leq(a.bound.to_sympy(), h.bound.to_sympy(), lows) for a in claim.hypotheses)
    if h.target == "b" and not uses_b:
        return True
    # A strict hypothesis (norm(A) < R) is implied only by a strict bound of the claim (conservative:
    # a smaller non-strict bound would do too, but leq cannot tell "smaller" from "equal").
    for bound in _norm_bounds(claim, h.target, strict_only=h.strict):
        if leq(bound, h.bound.to_sympy(), lows):
            return True
    return False


def _norm_bounds(claim, target, *, strict_only=False):
    """Every upper bound on ``target``'s norm that the claim's assumptions give (only strict ones if asked)."""
    norms = {}
    for a in claim.hypotheses:
        if isinstance(a, NormBound) and (a.strict or not strict_only):
            norms.setdefault(a.target, []).append(a.bound.to_sympy())
        elif isinstance(a, Simplex) and not strict_only:
            norms.setdefault("b", []).append(sympy.Integer(1))
    out = list(norms.get(target, []))
    if target == "kron":
        out += [r1 * r2 for r1 in norms.get("A1", []) for r2 in norms.get("A2", [])]
    return out


def _rename(expr):
    return expr.subs({s: _SYM[s.name] for s in expr.free_symbols if s.name in _SYM})


def leq(C, K, lows) -> bool:
    """True only if ``C ≤ K`` for all n ≥ n₀, d ≥ d₀ (integers), R ≥ R₀ (R > 0) — decided symbolically."""
    C, K = _rename(sympy.sympify(C)), _rename(sympy.sympify(K))
    diff = sympy.simplify(K - C)
    if diff == 0 or _nonneg(diff, lows):
        return True
    if _nonneg(C, lows) and _positive(C, lows):
        ratio = sympy.powsimp(sympy.simplify(K / C), force=True)
        return _log_nonneg(sympy.expand_log(sympy.log(ratio), force=True), lows)
    return False


def _shift(expr, lows):
    """Substitute ``s = (s₀^{1/q} + s')^q`` (``s' ≥ 0``; q clears the fractional powers of s, so
    ``√n`` becomes a polynomial in ``n'``)."""
    sub = {}
    for name, s in _SYM.items():
        lo = sympy.sympify(lows[name])
        q = 1
        for p in expr.atoms(sympy.Pow):
            if p.base == s and p.exp.is_Rational:
                q = sympy.ilcm(q, p.exp.q)
        fresh = sympy.Symbol(name + "_", nonnegative=True)
        if lo.is_number and lo > 0:
            sub[s] = (sympy.root(lo, q) + fresh) ** q
        elif q > 1:
            sub[s] = sympy.Symbol(name + "_", positive=True) ** q
    return sympy.powdenest(expr.subs(sub), force=True)


def _nonneg(expr, lows) -> bool:
    return _nonneg_expr(sympy.expand(_shift(expr, lows)))


def _nonneg_expr(e) -> bool:
    if e.is_nonnegative:
        return True
    if e.is_Mul:
        return all(_nonneg_expr(f) for f in e.args)
    if e.is_Pow and e.base.is_positive:
        return True
    if e.is_Add:
        if all(bool(t.is_nonnegative) for t in e.args):
            return True
        common = sympy.factor_terms(e)
        if common.is_Mul:
            return all(_nonneg_expr(sympy.expand(f)) if f.is_Add else _nonneg_expr(f) for f in common.args)
    return False


def _positive(expr, lows) -> bool:
    return bool(sympy.expand(_shift(expr, lows)).is_positive)


def _log_nonneg(L, lows) -> bool:
    terms = []
    for t in sympy.Add.make_args(sympy.expand(L)):
        coeff, rest = t.as_coeff_Mul()
        if isinstance(rest, sympy.log) and rest.args[0] in _SYM.values() and coeff.is_number:
            s = rest.args[0]
            lo = sympy.sympify(lows[s.name])
            if coeff >= 0:
                if not (lo.is_number and lo > 0):
                    return False  # log R → −∞ as R → 0
                terms.append(coeff * sympy.log(lo))
            else:
                terms.append(coeff * (s - 1))  # log s ≤ s − 1
        else:
            terms.append(t)
    return _nonneg(sympy.Add(*terms), lows)
