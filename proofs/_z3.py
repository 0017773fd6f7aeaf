r"""An independent witness for the composition of a bound chain: z3 (nonlinear real arithmetic).

sympy composes a chain by substitution and monotonicity (:func:`._checker.compose`). z3 checks the same
conclusion another way: every quantity and parameter is a positive real, every estimate of the chain is a
constraint, and the negated goal is added; ``unsat`` means the estimates imply the goal. Each ``exp(c·m)``
becomes ``E_m^c`` for a fresh positive ``E_m`` (forgetting what exp is can only make z3 find more
counterexamples, never fewer) with the one property the chains use: exp is increasing (``m ≤ m′ ⇒
E_m ≤ E_m′`` for every pair of exponents); each square root a fresh ``r ≥ 0`` with ``r² = base``. The check is
repeated with the goal's constant shrunk by 1%: then z3 must answer ``sat`` (the chain gives exactly the
stated constant, no more), which shows the encoding is not vacuous.

Only the composition is witnessed here: the estimates themselves are what :func:`._checker.verify` checks.
"""
from __future__ import annotations

import sympy as sp

from ._core import Estimate

TIMEOUT_MS = 120000


def _encoder():
    import z3  # deferred: z3 is optional

    names, side, atoms = {}, [], {}

    def var(key, positive=True):
        if key not in names:
            names[key] = z3.Real(f"v{len(names)}")
            side.append(names[key] > 0 if positive else names[key] >= 0)
        return names[key]

    def enc(e):
        e = sp.sympify(e)
        if e.is_Symbol:
            return var(("sym", e.name))
        if e.is_Integer:
            return z3.RealVal(int(e))
        if e.is_Rational:
            return z3.RealVal(int(e.p)) / z3.RealVal(int(e.q))
        if e.is_Add:
            return sum((enc(a) for a in e.args[1:]), enc(e.args[0]))
        if e.is_Mul:
            out = enc(e.args[0])
            for a in e.args[1:]:
                out = out * enc(a)
            return out
        if isinstance(e, sp.exp):
            out = z3.RealVal(1)
            for term in sp.Add.make_args(sp.expand(e.args[0])):
                c, m = term.as_coeff_Mul()
                atoms[sp.srepr(m)] = m
                out = out * _power(var(("exp", sp.srepr(m))), sp.Rational(c))
            return out
        if e.is_Pow:
            base, k = e.args
            if k == sp.Rational(1, 2) or k == sp.Rational(-1, 2):
                r = var(("sqrt", sp.srepr(base)), positive=False)
                if ("sq", sp.srepr(base)) not in names:
                    names[("sq", sp.srepr(base))] = r
                    side.append(r * r == enc(base))
                return r if k > 0 else 1 / r
            if k.is_Integer:
                return _power(enc(base), k)
        raise ValueError(f"z3 encoding: unsupported expression {e}")

    def _power(x, k):
        if not k.is_Integer:
            raise ValueError(f"z3 encoding: exponent {k}")
        out = z3.RealVal(1)
        for _ in range(abs(int(k))):
            out = out * x
        return out if k >= 0 else 1 / out

    def monotone():
        """exp is increasing: m ≤ m′ ⇒ E_m ≤ E_m′ for every pair of exponents met so far."""
        import z3  # deferred: z3 is optional

        keys = list(atoms)
        return [z3.Implies(enc(atoms[a]) <= enc(atoms[b]), names[("exp", a)] <= names[("exp", b)])
                for a in keys for b in keys if a != b]

    return enc, side, monotone


def _rel(a, rel, b):
    return a <= b if rel == "<=" else a >= b if rel == ">=" else a == b


def _negated(a, rel, b):
    import z3  # deferred: z3 is optional

    return a > b if rel == "<=" else a < b if rel == ">=" else z3.Not(a == b)


def z3_check(goal, estimates, shrink=sp.Integer(1)) -> str:
    """``"unsat"`` (the estimates imply ``goal`` with its right side times ``shrink``), ``"sat"`` or
    ``"unknown"``."""
    import z3  # deferred: z3 is optional

    enc, side, monotone = _encoder()
    s = z3.Solver()
    s.set("timeout", TIMEOUT_MS)
    for e in estimates:
        s.add(_rel(enc(e.lhs), e.rel, enc(e.rhs)))
    rhs = enc(goal.rhs * shrink)
    s.add(_negated(enc(goal.lhs), goal.rel, rhs))
    s.add(*monotone())
    s.add(*side)
    return str(s.check())


def witness(lemma, size=(3, 2)) -> tuple[bool | None, str]:
    """``(agrees, detail)``: z3 confirms the chain's composition and rejects the goal shrunk by 1% (for a
    lower bound: grown by 1%); ``None`` when z3 is not installed or a chain is not encodable."""
    try:
        import z3  # noqa: F401  # deferred: z3 is optional
    except ImportError:
        return None, "z3 is not installed"
    if lemma.goal is None:
        return None, "an identity lemma has no chain"
    estimates = [s for s in lemma.steps(*size) if isinstance(s, Estimate)]
    tighter = sp.Rational(101, 100) if lemma.goal.rel == ">=" else sp.Rational(99, 100)
    try:
        real = z3_check(lemma.goal, estimates)
        shrunk = z3_check(lemma.goal, estimates, tighter) if lemma.goal.rel != "=" else "sat"
    except ValueError as exc:
        return None, str(exc)
    ok = real == "unsat" and shrunk == "sat"
    return ok, f"z3: the chain implies the goal: {real == 'unsat'} ({real}); " \
               f"the goal {'grown' if lemma.goal.rel == '>=' else 'shrunk'} by 1% is rejected: {shrunk == 'sat'} " \
               f"({shrunk})"
