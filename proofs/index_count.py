r"""The index-count argument: a polynomial identity of finite sums holds for every n once it holds at n = K.

Claim. Let ``E = Σ_t c_t Σ_{bound indices of t} Π (factors of t)`` be a finite sum of terms, each a product of
entries ``P[i, j, …]`` of indexed arrays (and Kronecker deltas and index-free constants), every index running over
``0 … n − 1`` (or ``0 … d − 1``: the two ranges are counted apart), no division by or function of an entry. Let
``K_n`` (``K_d``) be the number of free n-range (d-range) indices plus the most bound ones in one term. If
**every bound index occurs in an entry** of its term and ``E = 0`` as a polynomial in the entries at
``n = K_n, d = K_d`` for every value of the free indices, then ``E = 0`` for every n and d. Counted right:
the free indices count in **every** term, also one they do not occur in (``Σ_l x_l = x_m`` has one index a
term, holds at n = 1 and fails at n = 2: the relabelling below must fit the free values and the monomial's
values together); each array position and each delta has **one range** (``Σ_{l<d} x_l = x_m`` with m over
0 … n − 1 holds at n = d = 1: n- and d-values are relabelled apart, so an entry must not be reached by both);
the constants are free of n and d (``(n − 1) x_m = 0`` holds at n = 1).

Proof. Expand each term into the sum over its index assignments. An assignment gives a monomial in the entries
and a value of the deltas, and both depend only on which indices are equal (the pattern of the assignment) and
on a relabelling of the values used; a relabelling of ``0 … n − 1`` maps monomials to monomials. The
coefficient of a monomial ``μ`` counts the assignments producing it: each index of such an assignment occurs in
an entry of ``μ`` (the hypothesis), so its value is one of the at most ``K`` values that ``μ`` uses, and the
count is the same for every n at least the number of those values. Every monomial of any size is, after a
relabelling, a monomial at ``n = K`` with the same coefficient, so the coefficients at ``n = K`` are all the
coefficients there are. The hypothesis is needed: ``Σ_l 1 = n`` (l in no entry) has ``K = 1`` and holds as
``Σ_l 1 = 1`` at n = 1 only; ``Σ_l A_m = n A_m`` likewise.

:func:`hypothesis` checks the hypothesis on sympy ``Sum``/``Indexed`` expressions (``None`` or why not),
:func:`by_count` applies the claim: it refuses when the hypothesis fails, else decides ``E = 0`` exactly at
``n = K_n, d = K_d`` for all free index values (sympy ``expand``).
"""
from __future__ import annotations

import itertools

import sympy as sp

from .index_form import _terms, d, instance, n


def _range(lo, hi):
    if lo == 0 and hi == n - 1:
        return "n"
    if lo == 0 and hi == d - 1:
        return "d"
    return None


def hypothesis(expr, free) -> tuple[str | None, dict]:
    """``(None, {"n": K_n, "d": K_d})`` when ``expr`` meets the claim's hypothesis, else ``(why, {})``. ``free``
    is ``((index, "n" | "d"), …)``: the free indices and their ranges."""
    kinds = {v: r for v, r in free}
    counts = {"n": 1, "d": 1}
    fresh = itertools.count()
    where: dict = {}  # (array, position) -> its range: one per position (the relabelling is per range)

    def one_range(place, idx, rng):
        if where.setdefault(place, rng) != rng:
            return f"{place[0]} position {place[1]} is indexed by {idx} over {rng} and elsewhere over {where[place]}"
        return None
    for mono, limits in _terms(sp.expand(expr), fresh):
        bound = {}
        for v, lo, hi in limits:
            r = _range(lo, hi)
            if r is None:
                return f"the sum over {v} runs over {lo} … {hi}, not 0 … n − 1 or 0 … d − 1", {}
            bound[v] = r
        for part in sp.Add.make_args(sp.expand(mono)):
            in_entries: set = set()
            for fac in sp.Mul.make_args(part):
                base, power = fac.as_base_exp() if isinstance(fac, sp.Pow) else (fac, sp.Integer(1))
                if not (power.is_Integer and power > 0):
                    return f"{fac} is not a polynomial factor (a power {power})", {}
                if isinstance(base, sp.Indexed):
                    for idx in base.indices:
                        if not isinstance(idx, sp.Symbol) or idx not in kinds and idx not in bound:
                            return f"the entry {base} has an index {idx} that is neither free nor bound", {}
                    in_entries |= set(base.indices)
                    for p, idx in enumerate(base.indices):
                        why = one_range((base.base, p), idx, kinds.get(idx) or bound[idx])
                        if why:
                            return why, {}
                elif isinstance(base, sp.KroneckerDelta):
                    if any(a not in kinds and a not in bound for a in base.args):
                        return f"{base} compares something other than indices", {}
                    if len({kinds.get(a) or bound[a] for a in base.args}) != 1:
                        return f"{base} compares an n-index with a d-index", {}
                elif base.free_symbols & (set(kinds) | set(bound) | {n, d}) or base.has(sp.Sum, sp.Indexed):
                    return f"{fac} is not an entry, a delta or a constant free of the indices and of n, d", {}
            missing = [v for v in bound if v not in in_entries]
            if missing:
                return (f"the bound index {missing[0]} occurs in no entry of the term {part} (Σ_l 1 = n: the count "
                        "depends on n)"), {}
            for r in ("n", "d"):
                used = {v for v in kinds if kinds[v] == r} | {v for v in part.free_symbols if bound.get(v) == r}
                counts[r] = max(counts[r], len(used))
    return None, counts


def by_count(lhs, rhs, free) -> tuple[bool, str]:
    """``lhs = rhs`` for every n and d by the index-count argument: ``(True, how)``, or ``(False, why not)`` —
    the hypothesis fails (refused, whatever the sizes say), or the identity fails at ``n = K_n, d = K_d``."""
    expr = lhs - rhs
    both = sorted({v for s in sp.sympify(expr).atoms(sp.Sum) for v in s.variables} & {v for v, _ in free}, key=str)
    if both:  # instance() sets the free values by substitution, which would reach into the sum's own index
        return False, f"the index-count argument is not applied: {both[0]} is both a free and a bound index"
    why, K = hypothesis(expr, free)
    if why:
        return False, f"the index-count argument does not apply: {why}"
    size = (K["n"], K["d"])
    if max(size) > 9:  # instance() names an entry by its index digits: A[1, 11] and A[11, 1] would both be A_111
        return False, f"the index-count argument is not applied beyond 9 indices a range (n={size[0]}, d={size[1]})"
    spans = [range(K[r]) for _, r in free]
    for values in itertools.product(*spans):
        got = sp.expand(instance(expr, size, dict(zip([v for v, _ in free], values))))
        if got != 0:
            return False, f"fails at n={size[0]}, d={size[1]}, free indices {values}: remainder {got}"
    return True, (f"polynomial in the entries, every bound index in an entry, at most {K['n']} n-indices and "
                  f"{K['d']} d-indices a term: holds at n={size[0]}, d={size[1]} for every free index value, so for "
                  "every n and d")


__all__ = ["by_count", "hypothesis"]
