r"""Checking the proofs: identity steps by sympy, estimates against their rules, citations and the
checker's definitions, the composition of a bound chain, and the numeric layers (see :mod:`._core` for
what a step and an estimate are).

:func:`holds` decides ``lhs = rhs``: every ``exp(a + 2b)`` becomes a product of fresh positive symbols
``E_a E_b²`` (a formal substitution, so an identity of the resulting rational functions implies the
original one), then the difference must be 0 as a rational function of independent generators (exact
integer polynomial arithmetic in python-flint, :func:`._zero.is_zero`; where that does not show it,
``sympy.cancel``, and ``simplify`` for small expressions); a ``False`` means neither could show it (sound,
never sampled). :func:`compose` substitutes the estimates into the goal's left side one by one, each time
checking with sympy that the running bound is monotone in the replaced quantity in the right direction
("=" estimates included), and finally proves ``stated − composed ≥ 0``.

What the checker decides, not the lemma: the sizes (:func:`checker_sizes`: always n = 3, d = 2, never
smaller — ``J² = tr(J)·J`` holds at n = 2, ``vec(A1 X A2ᵀ) = (A1 ⊗ A2) vec(Xᵀ)`` at d = 1), and the steps must be
built at the size asked for (:func:`._sizes.size_ignored`: a second build at n = 3, d = 3) and of the same shape
at n = 4 and n = 5, d = 2 (:func:`._sizes.larger_differs`: built, not decided); an identity step with no index form
linked to it (:mod:`._linked`; decided at fixed sizes only, which proves nothing for larger n) only if it is among
the hand-reviewed ones (:mod:`._fixed`,
keyed by the checker's view of the step, never by the lemma's word); the form of each
rule (:mod:`._rules`, with :mod:`.definitions`); what a citation may rename (:mod:`._cite`); and the
numeric layers — the lemma's own route *and* the checker's own sampling (:mod:`._goals` for a goal,
:mod:`._points` for identity steps). An identity lemma's claim must be the claims of the steps it shows
(:mod:`._statement`), as a bound lemma's goal is composed from its chain. A lemma is proved (``Verdict.ok``)
only if every layer passes and every lemma it requires is proved too (transitively): :func:`verify` reports
"requires X, which fails" otherwise.
``attnreg proofs``, ``attnreg proofs check``, :func:`~attnreg.proofs.bound_lemmas` and the claims checker
all use this one verdict. Verdicts are cached per process, keyed by the lemma, the sizes, the lemmas it
rests on and whether the numeric layers ran (deterministic: seed 0).
"""
from __future__ import annotations

import dataclasses
import random
import time
from dataclasses import dataclass

import sympy as sp

from ._algebra import BASE_SIZES, MIN_D, MIN_N, checker_sizes, compose, holds, is_zero
from ._cite import _assumption, _citation
from ._core import RELATIONS, RULES, Estimate, Lemma, Same, Step
from ._fixed import fixed_size_failures
from ._goals import goal_ratio
from ._numeric import context
from ._points import steps_at_points
from ._rules import rule_violation
from ._sample import bound_ratio
from ._sizes import EXTRA, built, identities, size_ignored, sizes_differ, steps_vary
from ._statement import statement_failures
from ._record import Record, plain_failure
from ._vocabulary import expression_failure, expressions

__all__ = ["BASE_SIZES", "MIN_D", "MIN_N", "Verdict", "checker_sizes", "compose", "holds", "is_zero",
           "numeric_layers", "verify"]


@dataclass(frozen=True)
class Verdict:
    """Every layer of a lemma's check. ``ok`` only if all pass: the steps at the checker's sizes, the
    rules' patterns, the composition, the lemma's own numeric route and the checker's own sampling of the
    goal (``numeric`` is "" when the numeric layers were skipped, and then ``ok`` is False: not proved)."""
    ok: bool
    sizes: tuple
    steps: int  # steps checked (all sizes)
    failures: tuple[str, ...]
    composed: sp.Expr | None = None
    trail: tuple = ()  # running bound after each estimate
    seconds: float = 0.0
    numeric: str = ""
    symbolic_ok: bool = False
    ignored: tuple = ()
    numeric_ok: bool | None = None  # the numeric layers' own result; None when they did not run

    @property
    def detail(self) -> str:
        where = ", ".join(f"n={a}, d={b}" for a, b in self.sizes)
        head = f"{self.steps} steps verified by sympy at {where}"
        if self.ignored:
            head += " (ignored smaller sizes " + ", ".join(f"n={a}, d={b}" for a, b in self.ignored) + ")"
        if self.composed is not None:
            head += f"; composed bound {self.composed}"
        head += f"; numeric: {self.numeric}" if self.numeric else "; numeric route not run"
        return head if not self.failures else head + "; FAILED: " + "; ".join(self.failures)


CITING = ("lemma", "stacked_rows")  # the rules whose estimate is a cited lemma's goal


def _check_estimate(lemma: Lemma, e: Estimate, known: dict, size=BASE_SIZES[0]) -> str | None:
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
    if e.cite and e.rule not in CITING:
        return f"estimate of {e.lhs} by rule {e.rule!r} carries a citation; only 'lemma' and 'stacked_rows' cite"
    if e.rule == "identity" and (e.rel != "=" or not e.side):
        return f"estimate of {e.lhs} by rule 'identity' needs relation '=' and a side identity"
    why = rule_violation(lemma, e, size)
    if why:
        return why
    if e.cite:
        why = _citation(lemma, e, known)
        if why:
            return f"citation of {e.cite[0]}: {why}"
    for s in e.side:
        if not holds(s.lhs, s.rhs):
            return f"side condition of {e.lhs} fails: {s.claim}"
    return None


_CACHE: dict = {}
_ACTIVE: list = []  # the ids whose verdict is being computed (outermost first): a cycle of requires is a failure


def _rests_on(lemma: Lemma, known: dict) -> tuple:
    """The lemma objects ``lemma`` requires, transitively (what its verdict depends on besides itself)."""
    seen, todo = {}, list(lemma.requires)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen[name] = known.get(name)
        todo += list(getattr(seen[name], "requires", ()))
    return tuple((name, Same(obj)) for name, obj in sorted(seen.items(), key=lambda kv: kv[0]))


def numeric_layers(lemma: Lemma) -> tuple[bool, str]:
    """The lemma's own numeric route (if any) and the checker's own sampling (:mod:`._goals` for a goal,
    :mod:`._points` for identity steps), at 50 digits with seed 0."""
    ok, parts = True, []
    if lemma.numeric is not None and getattr(lemma.numeric, "func", None) is not bound_ratio:
        own = lemma.numeric(context(50), random.Random(0))
        ok &= own.ok
        parts.append(f"lemma's route {'confirmed' if own.ok else 'FAILED'}: {own.detail}")
    mine = goal_ratio(context(50), random.Random(0), lemma) if lemma.goal is not None else steps_at_points(lemma)
    ok &= mine.ok
    parts.append(f"checker's sampling {'confirmed' if mine.ok else 'FAILED'}: {mine.detail}")
    # the identity steps of the second build (n = 3, d = 3, made for size_ignored) are decided nowhere else: a step
    # that reads d to be right at d = 2 only shows here (about 20 s over all lemmas, most in the matrix ones)
    second = steps_at_points(lemma, EXTRA)
    ok &= second.ok
    parts.append(f"checker's sampling of the steps built at n={EXTRA[0]}, d={EXTRA[1]} "
                 f"{'confirmed' if second.ok else 'FAILED'}: {second.detail}")
    return ok, "; ".join(parts)


def verify(lemma: Lemma, sizes, known: dict, *, numeric: bool = True) -> Verdict:
    """Check ``lemma`` at the checker's sizes (:func:`checker_sizes`; ``sizes`` can only add larger ones):
    every step, every rule's pattern, the composition of a bound, and with ``numeric`` the lemma's own
    numeric route and the checker's own sampling. Every lemma it requires must verify too (the same layers),
    or the verdict fails naming it. ``ok`` is True only when every layer ran and passed. ``known`` maps ids to
    the lemmas a citation or a ``requires`` may name (:func:`attnreg.proofs.verify` passes :data:`LEMMAS`)."""
    sizes, ignored = checker_sizes(lemma, tuple(sizes or ()))
    key = (Same(lemma), sizes, _rests_on(lemma, known), numeric)  # by identity: never the lemma's own ==
    why = plain_failure(lemma)
    if why:  # nothing of the lemma is read (no code of it runs) before its types are the checker's
        return Verdict(False, sizes, 0, (f"record: {why}",), None, (), 0.0, "", False, ignored, None)
    before = Record(lemma)
    if key in _CACHE:
        v, record = _CACHE[key]
        if record.same(Record(lemma, built(lemma, tuple(sizes[0])))):
            return v
        return Verdict(False, sizes, 0, ("record: the lemma or its steps changed since they were checked",), None, (),
                       0.0, "", False, ignored, None)
    full = None if numeric else _CACHE.get((*key[:3], True), (None, None))[0]
    if full is not None and full.ok:  # every layer passed with the numeric ones, so the symbolic ones alone do
        _CACHE[key] = (dataclasses.replace(full, ok=False, numeric=""), _CACHE[(*key[:3], True)][1])
        return _CACHE[key][0]
    start, count, failures, estimates = time.perf_counter(), 0, [], []
    for size in sizes:
        steps = list(built(lemma, tuple(size)))
        estimates = [s for s in steps if isinstance(s, Estimate)]
        why = expression_failure(expressions(lemma, steps))  # on the very steps checked below and composed
        if why:
            failures.append(f"at n={size[0]}, d={size[1]}: {why}")
        why = plain_failure(steps, f"the steps at n={size[0]}, d={size[1]}")
        if why:
            failures.append(f"record: {why}")
            continue
        for k, s in enumerate(steps, 1):
            count += 1
            if isinstance(s, Step):
                bad = [u for u in s.uses if u not in lemma.requires]
                if bad or not holds(s.lhs, s.rhs):
                    failures.append(f"step {k} at n={size[0]}, d={size[1]}: {s.claim}"
                                    + (f" (uses {bad}, not in requires)" if bad else ""))
            else:
                why = _check_estimate(lemma, s, known, size)
                if why:
                    failures.append(f"step {k}: {why}")
    failures += [f"for every n: {why}" for why in fixed_size_failures(lemma.id, identities(lemma, sizes[0]))]
    failures += [f"size ignored: {why}" for why in size_ignored(lemma)]
    failures += [f"sizes: {why}" for why in steps_vary(lemma) + sizes_differ(lemma, sizes)]
    small = [s for s in (*lemma.sizes, *lemma.slow_sizes) if s[0] < MIN_N or s[1] < MIN_D]
    if small:
        failures.append("sizes: the lemma declares " + ", ".join(f"n={a}, d={b}" for a, b in small)
                        + f", below the checker's smallest n = {MIN_N}, d = {MIN_D}: never verified there, so a "
                        "text that relies on them says more than is checked")
    if lemma.kind == "identity" and any(isinstance(s, Estimate) for s in built(lemma, tuple(sizes[0]))):
        failures.append("an identity lemma (no goal) has estimate steps, which prove nothing here")
    failures += [f"statement: {why}" for why in statement_failures(lemma, built(lemma, tuple(sizes[0])))]
    composed, trail = None, ()
    late = expression_failure(expressions(lemma, estimates)) if lemma.goal is not None else ""
    if late:  # again just before compose: the lemma's code ran since (other sizes built for the checks above)
        failures.append(f"before composing: {late}")
    if lemma.goal is not None and not late:
        ok, composed, trail, why = compose(lemma.goal, estimates)
        if not ok:
            failures.append(why)
    for name in lemma.requires:
        if name not in known:
            failures.append(f"requires {name}, which is not a known lemma")
            continue
        if name == lemma.id or name in _ACTIVE:
            loop = " → ".join([*_ACTIVE[_ACTIVE.index(name):], lemma.id, name]) if name in _ACTIVE else name
            failures.append(f"requires {name}, a cycle ({loop}): a lemma cannot rest on itself")
            continue
        _ACTIVE.append(lemma.id)
        try:
            sub = verify(known[name], None, known, numeric=numeric)
        finally:
            _ACTIVE.pop()
        if not (sub.ok if numeric else sub.symbolic_ok):
            failures.append(f"requires {name}, which fails")
    symbolic_ok = not failures
    detail, num_ok = "", None
    if numeric:
        try:
            num_ok, detail = numeric_layers(lemma)
        except (ArithmeticError, TypeError, ValueError) as exc:  # e.g. a goal that is not a real number at a point
            num_ok, detail = False, f"the sampling could not evaluate the lemma ({type(exc).__name__}: {exc})"
        if not num_ok:
            failures.append(f"numeric layer: {detail}")
    if not Record(lemma).same(before):  # the lemma's own code (steps, numeric route) rewrote it while checked
        failures.append("record: the lemma changed while it was checked (its code rewrote its own fields)")
    ok = not failures and numeric
    v = Verdict(ok, sizes, count, tuple(failures), composed, trail, time.perf_counter() - start, detail, symbolic_ok,
                ignored, num_ok)
    _CACHE[key] = (v, Record(lemma, built(lemma, tuple(sizes[0]))))
    return v
