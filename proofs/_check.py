r"""Checking the proofs exactly: identity steps by sympy, estimates against their rules and citations,
and the composition of a bound chain (see :mod:`._core` for what a step and an estimate are).

:func:`holds` decides ``lhs = rhs``: every ``exp(a + 2b)`` becomes a product of fresh positive symbols
``E_a E_b²`` (a formal substitution, so an identity of the resulting rational functions implies the
original one), then ``sympy.cancel`` must return 0; a ``False`` means sympy could not show it (sound,
never sampled). :func:`compose` substitutes the estimates into the goal's left side one by one, each time
checking with sympy that the running bound is monotone in the replaced quantity in the right direction,
and finally proves ``stated − composed ≥ 0``. :func:`verify` caches its verdicts (deterministic).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

import sympy as sp

from ._core import INSTANCE, RELATIONS, RULES, Estimate, Goal, Lemma, Step


def _as_list(v):
    if isinstance(v, sp.MatrixBase):
        return list(v)
    if isinstance(v, list | tuple):
        return [y for x in v for y in _as_list(x)]
    return [v]


def _atomize(expr, table: dict):
    """Replace ``exp(Σ c_k m_k)`` (rational c_k, monomials m_k) by ``Π E_k^{c_k}`` with fresh symbols."""
    def rep(arg):
        out = sp.Integer(1)
        for term in sp.Add.make_args(sp.expand(arg)):
            coeff, mono = term.as_coeff_Mul()
            if mono not in table:
                table[mono] = sp.Symbol(f"E{len(table)}", positive=True)
            out *= table[mono] ** coeff
        return out

    return expr.replace(sp.exp, rep)


def is_zero(expr) -> bool:
    """Exact zero test (sound; a ``False`` means sympy could not show it)."""
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    if sp.cancel(_atomize(expr, {})) == 0:
        return True
    return sp.count_ops(expr) < 400 and sp.simplify(expr) == 0


def holds(lhs, rhs) -> bool:
    """``lhs = rhs`` exactly, entry by entry for matrices and lists."""
    a, b = _as_list(lhs), _as_list(rhs)
    return len(a) == len(b) and all(is_zero(x - y) for x, y in zip(a, b))


@dataclass(frozen=True)
class Verdict:
    ok: bool
    sizes: tuple
    steps: int  # steps checked (all sizes)
    failures: tuple[str, ...]
    composed: sp.Expr | None = None
    trail: tuple = ()  # running bound after each estimate
    seconds: float = 0.0

    @property
    def detail(self) -> str:
        where = ", ".join(f"n={a}, d={b}" for a, b in self.sizes)
        head = f"{self.steps} steps verified by sympy at {where}"
        if self.composed is not None:
            head += f"; composed bound {self.composed}"
        return head if self.ok else head + "; FAILED: " + "; ".join(self.failures)


def _check_estimate(lemma: Lemma, e: Estimate, known: dict) -> str | None:
    if e.rule not in RULES:
        return f"unknown rule {e.rule!r}"
    if e.rel not in RELATIONS or not isinstance(e.lhs, sp.Symbol):
        return f"estimate of {e.lhs}: relation {e.rel!r} or left side is not a quantity symbol"
    missing = [u for u in e.uses if u not in lemma.requires]
    if missing:
        return f"estimate of {e.lhs} uses {missing}, which are not in requires"
    if e.rule == "assumption" and e.assume not in lemma.assume:
        return f"hypothesis {e.assume!r} is not among the lemma's assumptions"
    if e.cite:
        cited, mapping = e.cite
        if cited not in known or known[cited].goal is None:
            return f"cites {cited!r}, which is not a bound lemma"
        g = known[cited].goal.renamed(dict(mapping))
        if (g.lhs, g.rel) != (e.lhs, e.rel) or not is_zero(g.rhs - e.rhs):
            return f"citation of {cited} does not match its goal"
        done = dict(e.discharge)
        open_ = [h for h in known[cited].assume
                 if h not in lemma.assume and done.get(h) not in (*lemma.requires, INSTANCE)]
        if open_:
            return f"citation of {cited}: its hypothesis {open_[0]!r} is neither assumed here nor discharged"
        for h, by_ in done.items():
            if by_ == INSTANCE:
                why = _instance(h, dict(mapping), known[cited].assume)
                if why:
                    return f"citation of {cited}: {why}"
                continue
            if by_ not in known or not set(known[by_].assume) <= set(lemma.assume):
                return f"citation of {cited}: {h!r} is discharged by {by_}, whose hypotheses are not all assumed here"
    for s in e.side:
        if not holds(s.lhs, s.rhs):
            return f"side condition of {e.lhs} fails: {s.claim}"
    return None


def _instance(h: str, mapping: dict, hypotheses) -> str:
    """Why instantiating R := ||T|| does not discharge ``h`` ("" if it does)."""
    from .symbols import NORM_OF, R

    m = re.fullmatch(r"norm\((.+)\) <= R", h)
    if not m or m[1] not in NORM_OF or mapping.get(R) != NORM_OF[m[1]]:
        return f"{h!r} is not discharged by R := ‖{m[1] if m else '?'}‖"
    others = [o for o in hypotheses if o != h and re.search(r"\bR\b", o)]
    return f"instantiating R also changes {others[0]!r}" if others else ""


def compose(goal: Goal, estimates: list[Estimate]):
    """Substitute the estimates into ``goal.lhs``; return ``(ok, composed, trail, failure)``."""
    E, trail = goal.lhs, []
    for k, e in enumerate(estimates, 1):
        if e.lhs not in E.free_symbols:
            return False, E, tuple(trail), f"estimate {k} bounds {e.lhs}, which does not occur in {E}"
        if e.rel != "=":
            slope = sp.diff(E, e.lhs)
            rising = (goal.rel == "<=") == (e.rel == "<=")
            if goal.rel == "=" or not (slope.is_nonnegative if rising else slope.is_nonpositive):
                return False, E, tuple(trail), f"estimate {k} ({e.lhs} {e.rel} …) is not monotone in {E}"
        E = sp.expand(E.subs(e.lhs, e.rhs))
        trail.append(E)
    extra = E.free_symbols - goal.rhs.free_symbols
    if extra:
        return False, E, tuple(trail), f"composed bound {E} still contains {sorted(map(str, extra))}"
    gap = sp.simplify(goal.rhs - E if goal.rel != ">=" else E - goal.rhs)
    ok = gap == 0 or (goal.rel != "=" and bool(gap.is_nonnegative))
    return ok, E, tuple(trail), "" if ok else f"composed {E} is not shown {goal.rel} the stated {goal.rhs}"


_CACHE: dict = {}


def verify(lemma: Lemma, sizes=None, known: dict | None = None) -> Verdict:
    """Check every step at ``sizes`` (default ``lemma.sizes``) and, for bounds, the composition."""
    from . import LEMMAS

    known = LEMMAS if known is None else known
    sizes = tuple(sizes or lemma.sizes)
    key = (lemma.id, sizes)
    if key in _CACHE:
        return _CACHE[key]
    start, count, failures, estimates = time.perf_counter(), 0, [], []
    for size in sizes:
        steps = lemma.steps(*size)
        estimates = [s for s in steps if isinstance(s, Estimate)]
        for k, s in enumerate(steps, 1):
            count += 1
            if isinstance(s, Step):
                bad = [u for u in s.uses if u not in lemma.requires]
                if bad or not holds(s.lhs, s.rhs):
                    failures.append(f"step {k} at n={size[0]}, d={size[1]}: {s.claim}"
                                    + (f" (uses {bad}, not in requires)" if bad else ""))
            else:
                why = _check_estimate(lemma, s, known)
                if why:
                    failures.append(f"step {k}: {why}")
    composed, trail = None, ()
    if lemma.goal is not None:
        ok, composed, trail, why = compose(lemma.goal, estimates)
        if not ok:
            failures.append(why)
    v = Verdict(not failures, sizes, count, tuple(failures), composed, trail, time.perf_counter() - start)
    _CACHE[key] = v
    return v
