r"""Checking the proofs exactly: identity steps by sympy, estimates against their rules and citations,
and the composition of a bound chain (see :mod:`._core` for what a step and an estimate are).

:func:`holds` decides ``lhs = rhs``: every ``exp(a + 2b)`` becomes a product of fresh positive symbols
``E_a E_b²`` (a formal substitution, so an identity of the resulting rational functions implies the
original one), then ``sympy.cancel`` must return 0; a ``False`` means sympy could not show it (sound,
never sampled). :func:`compose` substitutes the estimates into the goal's left side one by one, each time
checking with sympy that the running bound is monotone in the replaced quantity in the right direction,
and finally proves ``stated − composed ≥ 0``. What an estimate must satisfy besides its rule's name is
listed in :mod:`._core`. A lemma is proved only if every lemma it requires is proved too
(transitively): :func:`verify` reports "requires X, which fails" otherwise. Verdicts are cached per
process, keyed by the lemma, the sizes and the lemmas it rests on (deterministic).
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


_ZEROS: set = set()  # expressions already shown to be 0 (exactly) in this process


def _known_zero(expr) -> bool:
    """``expr`` is 0 by algebra alone from expressions already shown 0: it is one of them, a product with
    such a factor, or a sum of such terms (so ``A1ᵀ dP A2 = 0`` follows from ``dP = 0`` shown before)."""
    if expr in _ZEROS:
        return True
    if expr.is_Mul:
        return any(_known_zero(f) for f in expr.args if f.is_Add or f in _ZEROS)
    if expr.is_Add:
        return all(_known_zero(t) for t in expr.args)
    return False


def is_zero(expr) -> bool:
    """Exact zero test (sound; a ``False`` means sympy could not show it)."""
    expr = sp.sympify(expr)
    if expr == 0 or _known_zero(expr):
        return True
    if sp.cancel(_atomize(expr, {})) == 0 or sp.count_ops(expr) < 400 and sp.simplify(expr) == 0:
        _ZEROS.add(expr)
        return True
    return False


def _shape(v):
    """The shape of a matrix (rows, cols), of a list (its items' shapes), or ``()`` for a scalar."""
    if isinstance(v, sp.MatrixBase):
        return ("matrix", v.shape)
    if isinstance(v, list | tuple):
        return ("list", tuple(_shape(x) for x in v))
    return ()


def holds(lhs, rhs) -> bool:
    """``lhs = rhs`` exactly: the same shape (a 3 × 1 matrix is not a 1 × 3 one, nor a list), then entry by
    entry."""
    if _shape(lhs) != _shape(rhs):
        return False
    return all(is_zero(x - y) for x, y in zip(_as_list(lhs), _as_list(rhs)))


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


CITING = ("lemma", "stacked_rows")  # the rules whose estimate is a cited lemma's goal


def _check_estimate(lemma: Lemma, e: Estimate, known: dict) -> str | None:
    if e.rule not in RULES:
        return f"unknown rule {e.rule!r}"
    if e.rel not in RELATIONS or not isinstance(e.lhs, sp.Symbol):
        return f"estimate of {e.lhs}: relation {e.rel!r} or left side is not a quantity symbol"
    missing = [u for u in e.uses if u not in lemma.requires]
    if missing:
        return f"estimate of {e.lhs} uses {missing}, which are not in requires"
    if e.rule == "assumption":
        why = _assumption(lemma, e)
        if why:
            return why
    if e.rule in CITING and not e.cite:
        return f"estimate of {e.lhs} by rule {e.rule!r} cites no lemma"
    if e.rule == "identity" and (e.rel != "=" or not e.side):
        return f"estimate of {e.lhs} by rule 'identity' needs relation '=' and a side identity"
    if e.cite:
        why = _citation(lemma, e, known)
        if why:
            return f"citation of {e.cite[0]}: {why}"
    for s in e.side:
        if not holds(s.lhs, s.rhs):
            return f"side condition of {e.lhs} fails: {s.claim}"
    return None


def _assumption(lemma: Lemma, e: Estimate) -> str:
    """Why the assumption step ``e`` does not state its hypothesis ("" if it does)."""
    from .symbols import NORMS, hypothesis

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
    from .symbols import NORMS, PARAMS, WRT_SYMBOL, hypothesis

    cited, mapping = e.cite
    mapping = dict(mapping)
    if cited not in lemma.requires:
        return "it is not in requires"
    if cited not in known or known[cited].goal is None:
        return "it is not a bound lemma"
    lem = known[cited]
    g = lem.goal.renamed(mapping)
    if (g.lhs, g.rel) != (e.lhs, e.rel) or not is_zero(g.rhs - e.rhs):
        return "the estimate does not match its goal"
    for a, b in mapping.items():  # the variable a Lipschitz lemma moves, and the norms its hypotheses bound, stay
        fixed = [aliases for aliases in (*NORMS.values(), *((w,) for w in WRT_SYMBOL.values())) if a in aliases]
        if fixed and b not in fixed[0]:
            return f"it renames {a} to {b}, which is not the same quantity"
    renamed = [p for p in PARAMS.values() if p in mapping and sp.sympify(mapping[p]) != p]
    for p in renamed:
        if not sp.sympify(mapping[p]).is_positive:
            return f"{p} := {mapping[p]} is not shown positive"
    done = dict(e.discharge)
    for h in done:
        if h not in lem.assume:
            return f"{h!r} is discharged but is not a hypothesis of {cited}"
    for h in lem.assume:
        by_ = done.get(h)
        if by_ is None:
            changed = [p for p in renamed if re.search(rf"\b{p}\b", h)]
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


def _rests_on(lemma: Lemma, known: dict) -> tuple:
    """The lemma objects ``lemma`` requires, transitively (what its verdict depends on besides itself)."""
    seen, todo = {}, list(lemma.requires)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen[name] = known.get(name)
        todo += list(getattr(seen[name], "requires", ()))
    return tuple(sorted(seen.items(), key=lambda kv: kv[0]))


def verify(lemma: Lemma, sizes=None, known: dict | None = None) -> Verdict:
    """Check every step at ``sizes`` (default ``lemma.sizes``) and, for bounds, the composition; every lemma
    it requires must verify too (at its own sizes), or the verdict fails naming it."""
    from . import LEMMAS

    known = LEMMAS if known is None else known
    sizes = tuple(sizes or lemma.sizes)
    key = (lemma, sizes, _rests_on(lemma, known))
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
    for name in lemma.requires:
        if name not in known:
            failures.append(f"requires {name}, which is not a known lemma")
        elif not verify(known[name], known=known).ok:
            failures.append(f"requires {name}, which fails")
    v = Verdict(not failures, sizes, count, tuple(failures), composed, trail, time.perf_counter() - start)
    _CACHE[key] = v
    return v
