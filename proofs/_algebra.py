r"""The algebra the checker decides with: :func:`holds` (exact identities, by sympy), the checker's sizes
(:func:`checker_sizes`) and :func:`compose` (a bound chain's composition). A leaf of the checker: the rule
patterns (:mod:`._rules`), citations (:mod:`._cite`) and the sampling of steps (:mod:`._points`) use it, and
:mod:`._checker` puts the layers together (see its docstring for how :func:`holds` and :func:`compose` decide).

:func:`holds` decides each entry with :func:`._zero.is_zero` (exact; never sampled).
"""
from __future__ import annotations

import sympy as sp

from ._core import Estimate, Goal, Lemma
from ._zero import is_zero


def _as_list(v):
    if isinstance(v, sp.MatrixBase):
        return list(v)
    if isinstance(v, list | tuple):
        return [y for x in v for y in _as_list(x)]
    return [v]


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


MIN_N, MIN_D = 3, 2  # the checker's smallest size: quadratic terms in a row need n ≥ 3, a vec(X) needs d ≥ 2
BASE_SIZES = ((MIN_N, MIN_D),)


def checker_sizes(lemma: Lemma, extra=()) -> tuple[tuple, tuple]:
    """``(sizes, ignored)``: the sizes the checker verifies ``lemma`` at — always :data:`BASE_SIZES`, plus the
    lemma's own ``sizes`` and any ``extra`` ones that are at least ``n = 3, d = 2`` — and the requested sizes
    it ignores because they are smaller (a lemma never chooses to be checked at fewer or smaller sizes)."""
    asked = tuple(dict.fromkeys(tuple(s) for s in (*lemma.sizes, *extra)))
    ok = tuple(s for s in asked if s[0] >= MIN_N and s[1] >= MIN_D)
    return tuple(dict.fromkeys(BASE_SIZES + ok)), tuple(s for s in asked if s not in ok)


def compose(goal: Goal, estimates: list[Estimate]):
    """Substitute the estimates into ``goal.lhs``; return ``(ok, composed, trail, failure)``. Every estimate,
    "=" ones included, must enter the running bound monotonically in the goal's direction (so an "=" that is
    in truth only "≤" still leaves a sound chain); a goal "=" takes only "=" estimates."""
    E, trail = goal.lhs, []
    for k, e in enumerate(estimates, 1):
        if e.lhs not in E.free_symbols:
            return False, E, tuple(trail), f"estimate {k} bounds {e.lhs}, which does not occur in {E}"
        if goal.rel == "=":
            if e.rel != "=":
                return False, E, tuple(trail), f"estimate {k} ({e.lhs} {e.rel} …) cannot prove an equality"
        else:
            slope = sp.diff(E, e.lhs)
            rising = (goal.rel == "<=") == (e.rel in ("<=", "="))
            if not (slope.is_nonnegative if rising else slope.is_nonpositive):
                return False, E, tuple(trail), f"estimate {k} ({e.lhs} {e.rel} …) is not monotone in {E}"
        E = sp.expand(E.subs(e.lhs, e.rhs))
        trail.append(E)
    extra = E.free_symbols - goal.rhs.free_symbols
    if extra:
        return False, E, tuple(trail), f"composed bound {E} still contains {sorted(map(str, extra))}"
    gap = sp.simplify(goal.rhs - E if goal.rel != ">=" else E - goal.rhs)
    ok = gap == 0 or (goal.rel != "=" and bool(gap.is_nonnegative))
    return ok, E, tuple(trail), "" if ok else f"composed {E} is not shown {goal.rel} the stated {goal.rhs}"
