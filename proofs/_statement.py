r"""What an identity lemma states: its claim is the claims of the steps it shows, not prose.

A bound lemma's conclusion is its goal, which :func:`._checker.compose` derives from its chain. An identity lemma
(no goal) had none: it was proved when its steps were, and its claim — the docstring head that ``attnreg proofs``,
``proofs show``, the LaTeX, the Coq export and ``attnreg verify`` print — was read by nothing. A module wearing
``row_shift``'s id with that lemma's first two (real, linked) steps and the claim "0 = 1 for every n" was proved
by every layer. Now (the rule is stated in :class:`._core.Lemma`) the claim must be, character for character,

    ``[if P(premises): ] C(shows[0]); C(shows[1]); …``

with ``C(k)`` the claim of step k as built at the checker's base size. A step's claim text is tied to its
expressions: an identity step is accepted only with the digest of its label, claim and both expression trees that
a review linked to an index form (:mod:`._linked`) or listed as a fixed-size step (:mod:`._fixed`), so a real step
with another claim text is refused. The claim of an accepted identity lemma is therefore a conjunction of reviewed
statements of proved steps; an author chooses only which of them to state, and which to state as the hypothesis
(a premise holds by the construction of the lemma's objects; stating it only weakens the claim).

The check reads the list of steps once (O(steps), no sympy). A bound lemma must set neither field: its
statement is its goal.
"""
from __future__ import annotations

from ._core import Lemma, Step

SEP = "; "


def formal_claim(lemma: Lemma, steps) -> str:
    """The claim ``lemma`` must have given its ``shows`` and ``premises`` (positions assumed valid)."""
    said = SEP.join(steps[k - 1].claim for k in lemma.shows)
    return f"if {SEP.join(steps[k - 1].claim for k in lemma.premises)}: {said}" if lemma.premises else said


def _positions(name: str, ks, steps) -> str:
    """Why the positions ``ks`` of field ``name`` are not identity steps of ``steps``, in increasing order ("")."""
    for k in ks:
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= len(steps):
            return (f"its {name} names step {k!r}, which does not exist (the lemma has {len(steps)} steps, "
                    "counted from 1)")
        if not isinstance(steps[k - 1], Step):
            return f"its {name} names step {k}, which is an estimate, not an identity step"
    if list(ks) != sorted(set(ks)):
        return f"its {name} {tuple(ks)} is not in strictly increasing order"
    return ""


def statement_failures(lemma: Lemma, steps) -> list[str]:
    """Why ``lemma``'s claim is not what its ``steps`` (built at the checker's base size) state; [] when it is."""
    steps = list(steps)
    if lemma.kind == "bound":
        if lemma.shows or lemma.premises:
            return ["a bound lemma states its goal; it must not set shows or premises"]
        return []
    if not lemma.shows:
        return ["an identity lemma must name in shows the steps its claim states; it names none, so its claim "
                "is prose that nothing checks"]
    for name, ks in (("shows", lemma.shows), ("premises", lemma.premises)):
        why = _positions(name, ks, steps)
        if why:
            return [why]
    both = sorted(set(lemma.shows) & set(lemma.premises))
    if both:
        return [f"steps {both} are in both shows and premises: a step is the conclusion or its hypothesis"]
    want = formal_claim(lemma, steps)
    if lemma.claim != want:
        return [f"its claim {lemma.claim!r} is not the claims of the steps it shows: it must read {want!r}"]
    return []


def _steps(ks) -> str:
    return ("step " if len(ks) == 1 else "steps ") + ", ".join(map(str, ks))


def _plain(text: str) -> str:
    return text.replace("<=", "≤").replace(">=", "≥").replace("**", "^")


def formal(lemma: Lemma) -> str:
    """What ``lemma`` states formally, in one line of plain text: the steps an identity lemma shows (and its
    premises), or a bound lemma's goal with its hypotheses."""
    if lemma.goal is not None:
        g = lemma.goal
        return _plain(f"goal {g.lhs} {g.rel} {g.rhs}" + (f" if {', '.join(lemma.assume)}" if lemma.assume else ""))
    if not lemma.shows:
        return "shows no step"
    return f"shows {_steps(lemma.shows)}" + (f" if {_steps(lemma.premises)}" if lemma.premises else "")


__all__ = ["SEP", "formal", "formal_claim", "statement_failures"]
