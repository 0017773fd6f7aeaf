r"""Sizes are the checker's: a lemma's ``steps(n, d)`` must build its identities at the size it is given.

The checker chooses the sizes (:func:`._algebra.checker_sizes`), but a lemma could build a step at a size of its
own (``J² = tr(J)·J`` built at n = 2 holds; for n ≥ 3 it does not) whatever it is asked. :func:`size_ignored`
builds the steps at the checker's size and at a second one, and reports every identity step
(and side identity) with a family of sized symbols (``s_0, s_1, …``; ``A_01, …`` — the names of
:func:`.symbols.vector` and :func:`.symbols.matrix`) that does not follow n and d (see the function for the
rule and its limit). A step with no sized symbols (a scalar identity such as ``½ − 2t(1 − t) = 2(t − ½)²``) has
nothing to grow and passes. The check reads names, not how the expressions were made.
"""
from __future__ import annotations

import functools
import re

import sympy as sp

from ._algebra import BASE_SIZES
from ._core import Estimate, Lemma, Same, Step


def built(lemma: Lemma, size) -> tuple:
    """``lemma.steps(*size)``, built once per process and lemma object (the checker, the size checks and the
    renderer share it; keyed by identity, :class:`._core.Same`)."""
    return _built(Same(lemma), tuple(size))


@functools.lru_cache(maxsize=512)
def _built(lemma: Same, size) -> tuple:
    return tuple(lemma.obj.steps(*size))


def identities(lemma: Lemma, size=BASE_SIZES[0]) -> list[tuple[str, Step]]:
    """``[(label, identity step)]`` of ``lemma`` built at ``size``."""
    out = []
    for k, s in enumerate(built(lemma, tuple(size)), 1):
        if isinstance(s, Step):
            out.append((f"step {k}", s))
        elif isinstance(s, Estimate):
            out += [(f"step {k} side {j}", c) for j, c in enumerate(s.side, 1)]
    return out


_FAMILY = re.compile(r"^(?P<name>.+)_(?P<idx>\d+)$")


def _families(expr) -> dict:
    """``{name: set of index strings}`` of the sized symbols (``A_01``, ``x_1``) in a step's sides."""
    out: dict = {}
    for side in (expr.lhs, expr.rhs):
        items = list(side) if isinstance(side, sp.MatrixBase) else [sp.sympify(side)]
        for e in items:
            for sym in e.free_symbols:
                m_ = _FAMILY.match(str(sym))
                if m_:
                    out.setdefault(m_["name"], set()).add(m_["idx"])
    return out


def _tops(fam: dict) -> dict:
    """``{(name, position): largest index}`` of each family of sized symbols."""
    out = {}
    for name, idx in fam.items():
        width = {len(i) for i in idx}
        if len(width) == 1:  # sizes below 10: one digit per position
            for p in range(width.pop()):
                out[(name, p)] = max(int(i[p]) for i in idx)
    return out


EXTRA = (3, 3)  # the second size: d grows by one, n stays
PROBES = ((2, 1),)  # below the checker's sizes: a step built only there would never be checked (one probe: each
# costs a build of every lemma, about 5 s in all; a step built only at n = 2, d = 2 is not seen — a limit)


def _label(s) -> str:
    """What a step says, independent of the size it is built at: a Step's claim; an estimate's relation, rule
    and side claims."""
    if isinstance(s, Step):
        return s.claim
    return f"{s.lhs} {s.rel} {s.rhs} by {s.rule}" + "".join(f"; side {c.claim}" for c in s.side)


LARGER = (4, 2)  # n grows by one: a step built only from n = 4 on is seen (the shape of the list only, never sampled)
# and by two: a step built only from n = 5 on is seen too. Building the 52 probed lemmas at n = 5 costs about 2.3 s of
# CPU in all (1.5 s at n = 4; measured December 2026 on a loaded 2-core machine), within the default tier's budget.
LARGER_PROBES = (LARGER, (5, 2))
NOT_PROBED_LARGER = {  # the lemmas whose build at n = 4 is dear (seconds each on one core): not built at n = 4 or 5
    "matrix_hvp": "its build at n = 4 costs 2–10 s (symbolic Hessian blocks of a 16 × 8 matrix)",
    "matrix_grad_normalized": "its build at n = 4 costs 1–3 s (the blocks A_[j] of a 16 × 8 matrix)",
    "matrix_grad_rescaled": "its build at n = 4 costs 1–2.5 s (the blocks A_[j] of a 16 × 8 matrix)",
    "hessian_normalized": "its build at n = 4 costs 1–1.6 s (a 4 × 4 symbolic Hessian of the softmax loss)",
    "xzw_invariance": "its build at n = 4 costs 1–1.7 s (solving for A2 and the Hessian of the loss)",
}


def _shape(steps) -> list[tuple[str, str]]:
    """The shape of a list of steps: each step's kind and :func:`_label` (claim; or relation, rule, sides)."""
    return [(type(s).__name__, _label(s)) for s in steps]


def larger_differs(lemma: Lemma, small=BASE_SIZES[0], probes=LARGER_PROBES) -> list[str]:
    r"""Why ``lemma`` builds a differently shaped list of steps at a size of ``probes`` — (4, 2), then (5, 2) — than
    at the checker's ``small`` = (3, 2) (``[]``: the same count, kinds, rules and claims at both, or a lemma of
    :data:`NOT_PROBED_LARGER`); the first difference is reported.

    Is a different list at n = 4 a soundness problem at all? No, when every step at the checker's size is proved
    for every n and d (an index form linked to that very step: :mod:`._linked`, or a reviewed fixed-size
    step: :mod:`._fixed`) and every estimate is
    size-free (its rule, with ``n`` symbolic): the verdict is the chain built at (3, 2), read for every n and d,
    and it does not rest on what ``steps(4, 2)`` returns. What a different list breaks is the lemma's text: its
    module shows (``steps(n, d)`` at another size, its numeric route, a reader) a derivation the checker never
    decided. So this is a cheap consistency check, not a proof obligation: the steps at (4, 2) are built, never
    decided symbolically, and must have the same shape; they are not sampled either, so a step with the same
    claim and other expressions at n = 4 (``rhs`` doubled from n = 4 on, a reviewed or a linked step alike) is
    not seen — the verdict does not rest on it (the steps' content at every n is the index forms' and the review's
    business). Limits: a lemma that reads n to change its steps only from n = 6 on is not seen, nor are the lemmas
    of :data:`NOT_PROBED_LARGER`, keyed by id, so not a module wearing one of those ids either (their builds
    at n = 4 took 9.1 of the 11.3 s all 57 take there, measured on one core of a quiet machine; the other 52 take about
    2.2 s, 2.9–3.1 s of CPU under a load of 5 on 2 cores); a build that fails at (4, 2) is refused (every lemma is
    stated for every n ≥ 3)."""
    if lemma.id in NOT_PROBED_LARGER:
        return []
    for larger in probes:
        why = _differs(lemma, small, larger)
        if why:
            return why
    return []


def _differs(lemma: Lemma, small, larger) -> list[str]:
    """Why the list of steps built at ``larger`` is not shaped as the one at ``small`` ([] when it is)."""
    try:
        theirs = _shape(built(lemma, tuple(larger)))
    except Exception as err:  # noqa: BLE001 - reported, not raised: the lemma cannot be built at a size it claims
        return [f"the steps cannot be built at n={larger[0]}, d={larger[1]}: {type(err).__name__}: {err}"]
    mine = _shape(built(lemma, tuple(small)))
    if theirs == mine:
        return []
    where = f"n={larger[0]}, d={larger[1]}"
    if len(theirs) != len(mine):
        return [f"{len(mine)} steps at n={small[0]}, d={small[1]} but {len(theirs)} at {where}, so the steps there "
                "were never verified: " + "; ".join(c for k, c in theirs if (k, c) not in mine)]
    k = next(k for k, (a, b_) in enumerate(zip(mine, theirs), 1) if a != b_)
    return [f"step {k} at {where} is not step {k} at n={small[0]}, d={small[1]}: {theirs[k - 1][1]}"]


def steps_vary(lemma: Lemma, small=BASE_SIZES[0], extra=EXTRA, probes=PROBES) -> list[str]:
    """Why ``lemma`` does not build the same steps at every size (``[]``: it does). The steps at ``small`` are
    the ones the checker verifies; a step present at another size but not there — at ``extra`` or at one of
    the smaller ``probes`` — is never verified, whatever the lemma's text says of it (Lemma matrix_hvp built
    its end-to-end Hessian at n = 2 only, and was "proved" at n = 3 without it). A probe the steps cannot be
    built at (an exception) holds no hidden step and is skipped."""
    mine = [_label(s) for s in built(lemma, tuple(small))]
    out = []
    for size in (extra, *probes):
        try:
            theirs = [_label(s) for s in built(lemma, tuple(size))]
        except Exception:  # noqa: BLE001 - a size the construction does not support holds no step
            continue
        only = [c for c in theirs if c not in mine]
        if only:
            out.append(f"step(s) built at n={size[0]}, d={size[1]} but not at the checker's n={small[0]}, "
                       f"d={small[1]}, so never verified: " + "; ".join(only))
        elif len(theirs) != len(mine) and size == extra:
            out.append(f"{len(mine)} steps at n={small[0]}, d={small[1]} but {len(theirs)} at n={size[0]}, "
                       f"d={size[1]}")
    return out + larger_differs(lemma, small)


def sizes_differ(lemma: Lemma, sizes) -> list[str]:
    """Why ``lemma`` builds another list of steps (count, kinds, claims, rules) at one of the checker's ``sizes``
    than at the first, the base size its statement and its rendered proof are read at (``[]``: the same). Every
    size is verified, but only the base size's claims are what the lemma states (:mod:`._statement`): a lemma that
    declares ``sizes=((5, 3),)`` and builds there, with the same true expressions, the claim "f(s + t1) = 0 for
    every s" was proved, and printed that step by ``attnreg proofs show --no-check``, which rendered the lemma's
    own first size."""
    mine = _shape(built(lemma, tuple(sizes[0])))
    return [f"the steps built at n={a}, d={b} differ from those at n={sizes[0][0]}, d={sizes[0][1]} (count, kinds, "
            "claims or rules): a claim is one text at every size" for a, b in sizes[1:]
            if _shape(built(lemma, (a, b))) != mine]


def size_ignored(lemma: Lemma, small=BASE_SIZES[0], extra=EXTRA) -> list[str]:
    """Why identity steps of ``lemma`` were not built at the size asked for (``[]``: none). Each step is built at
    ``small`` = (3, 2) and at ``extra`` = (3, 3); for every family of sized symbols and every index position, its
    largest index ``t`` at (3, 2) says what it claims to be: ``t = n − 1`` an n-range (it must stay at n − 1),
    ``t = d − 1`` a d-range (it must become d − 1 = 2), anything smaller a range shortened by a construction
    (it must grow with d). ``J² = tr(J)·J`` built at n = 2 whatever is asked claims a d-range (its top index is
    1 = d − 1) and does not grow: refused; so is anything built at n − 1 or at a fixed size below 3. A family
    built at the fixed size 3 looks like an n-range at both sizes and is not seen (one more size with n changed
    would see it, at about twice the cost: a limit of this check)."""
    a, b_ = dict(identities(lemma, small)), dict(identities(lemma, extra))
    out = []
    for label, s in a.items():
        ta, tb = _tops(_families(s)), _tops(_families(b_[label])) if label in b_ else {}
        bad = []
        for (name, p), t in ta.items():
            want = extra[0] - 1 if t == small[0] - 1 else extra[1] - 1 if t == small[1] - 1 else None
            got = tb.get((name, p))
            if (got != want) if want is not None else (got is None or got <= t):
                bad.append(name)
        if bad:
            out.append(f"{label} ({s.claim}): its symbols {', '.join(sorted(set(bad)))} do not follow n, d "
                       f"(built at n={small[0]}, d={small[1]} and at n={extra[0]}, d={extra[1]})")
    if len(a) != len(b_):
        out.append(f"{len(a)} identity steps at n={small[0]}, d={small[1]} but {len(b_)} at n={extra[0]}, "
                   f"d={extra[1]}")
    return out


__all__ = ["LARGER", "LARGER_PROBES", "NOT_PROBED_LARGER",
           "built", "identities", "larger_differs", "size_ignored", "steps_vary"]
