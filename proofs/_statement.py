r"""What a lemma states: an identity lemma's claim is the claims of the steps it shows, a bound lemma's its goal.

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

Found in review (tests/test_proofs_statement_review.py): the claim text is read once per stated step, and that very
text must digest, with the step's expressions, to a linked or reviewed entry (:func:`_pinned`) — a ``str`` subclass
whose ``encode`` showed the digest the reviewed text let "f(s + t1) = 0" be stated as row_shift's step 3. A step that
holds by the construction of the lemma's objects (:data:`._fixed.CONSTRUCTIONS`) must be a premise: xzw_invariance
with no premise stated "L_N(X + z wᵀ) = L_N(X)" for every A2 and w, false in general, and with step 1 shown it
claimed "A2 w = 1ₙ" as a theorem.

The check reads the list of steps once and digests the stated steps (no sympy simplification). A bound lemma must
set neither field: its statement is its goal, and its claim must be that goal with its hypotheses, character for
character (:func:`bound_claim`, ``lhs ≤ rhs if H₁, H₂`` in plain text). Found in review: softmax_jacobian_half
claiming "≤ ¼" beside its goal ≤ 1/2 was proved, and the real bound lemmas' prose left out hypotheses their goals
carry (h_lipschitz_x's omitted ‖A‖, ‖x‖ ≤ R and ‖b‖ ≤ 1). The Statement section and the title stay prose: every
printout shows them as explanation and name, never as the statement, and the title may hold no number, relation or
constant (:mod:`._title`; found in review: row_shift retitled "softmax is ¼-Lipschitz" was proved and listed so).
"""
from __future__ import annotations

import dataclasses


from ._core import Lemma, Step
from ._fixed import construction, has_index_form, reviewed
from ._title import title_failure
from .symbols import hypothesis_failure

SEP = "; "


def formal_claim(lemma: Lemma, steps, texts: dict | None = None) -> str:
    """The claim ``lemma`` must have given its ``shows`` and ``premises`` (positions assumed valid); ``texts``:
    the claims of those steps as read once and pinned (:func:`_pinned`), else read from ``steps``."""
    c = (lambda k: texts[k]) if texts is not None else (lambda k: steps[k - 1].claim)  # noqa: E731
    said = SEP.join(c(k) for k in lemma.shows)
    return f"if {SEP.join(c(k) for k in lemma.premises)}: {said}" if lemma.premises else said


def _pinned(lemma: Lemma, k: int, step) -> tuple[str, str]:
    """``(claim text, why it is not pinned)`` of step ``k``: the text is read once, and that very text, with the
    step's expressions, must have the digest a review linked or listed (:mod:`._fixed`) — the text the claim is
    checked against is the text that was pinned (a ``str`` subclass whose ``encode`` shows the digest other
    characters, a Step subclass whose ``claim`` is a property, or a side effect of digesting that edits the claim
    afterwards, is refused; the first two digest to nothing, :func:`._digest.digest`)."""
    text = step.claim
    label = f"step {k}"
    if type(step) is not Step or type(text) is not str:
        return "", (f"step {k} is a {type(step).__name__} whose claim is a {type(text).__name__}: a stated step must "
                    "be a Step with a plain str claim, the text its digest pins")
    if not (has_index_form(lemma.id, label, step, text) or reviewed(lemma.id, label, step, text)):
        return "", (f"step {k}'s claim {text!r}, with its expressions, is not a step proved for every n and d "
                    "(no linked index form, not reviewed: proofs/_linked.py, proofs/_fixed.py), so it cannot be "
                    "stated")
    return text, ""


def _positions(name: str, ks, steps) -> str:
    """Why the positions ``ks`` of field ``name`` are not identity steps of ``steps``, in increasing order ("")."""
    for k in ks:
        if isinstance(k, int) and type(k) is not int:  # bool, or a subclass whose k - 1 is another position
            return f"its {name} names {k!r}, a {type(k).__name__}, not a plain int position"
        if not isinstance(k, int) or not 1 <= k <= len(steps):
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
    why = title_failure(lemma.title) or next(filter(None, map(hypothesis_failure, lemma.assume)), "")
    if why:
        return [why]
    if lemma.kind == "bound":
        if lemma.shows or lemma.premises:
            return ["a bound lemma states its goal; it must not set shows or premises"]
        want = bound_claim(lemma)
        if lemma.claim != want:
            return [f"its claim {lemma.claim!r} is not its goal with its hypotheses: it must read {want!r}"]
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
    built_on = {k: construction(lemma.id, f"step {k}", s) for k, s in enumerate(steps, 1) if isinstance(s, Step)}
    unstated = [k for k, why in built_on.items() if why and k not in lemma.premises]
    if unstated:
        verb = "holds" if len(unstated) == 1 else "hold"
        return [f"{_steps(unstated)} {verb} by the construction of the lemma's objects "
                f"({'; '.join(str(built_on[k]) for k in unstated)}), which every other step is built on: the claim "
                "must state them as premises, never as conclusions or not at all (proofs/_fixed.py CONSTRUCTIONS)"]
    texts = {}
    for k in (*lemma.premises, *lemma.shows):
        texts[k], why = _pinned(lemma, k, steps[k - 1])
        if why:
            return [why]
    # the joined text must parse back into its parts: a reader splits at "; " and ends the hypothesis at the first
    # ": " (xzw_invariance's step 6, "dP = 0 for V = z wᵀ: its rows … vanish", as a premise before another would
    # move the rest of the hypothesis into what reads as the conclusion)
    for k, text in texts.items():
        if SEP in text or text.startswith("if ") or (k in lemma.premises and ": " in text):
            return [f"step {k}'s claim {text!r} cannot be stated {'as a premise ' if k in lemma.premises else ''}"
                    "without making the joined claim ambiguous (it contains \"; \", begins with \"if \", or is a "
                    "premise containing \": \")"]
    want = formal_claim(lemma, steps, texts)
    if lemma.claim != want:
        return [f"its claim {lemma.claim!r} is not the claims of the steps it shows: it must read {want!r}"]
    return []


def _steps(ks) -> str:
    return ("step " if len(ks) == 1 else "steps ") + ", ".join(map(str, ks))


def _plain(text: str) -> str:
    return text.replace("<=", "≤").replace(">=", "≥").replace("**", "^")


def bound_claim(lemma: Lemma) -> str:
    """The claim a bound lemma must have: its goal, then its hypotheses (``lhs ≤ rhs if H₁, H₂``), in the plain
    text :func:`formal` prints — the statement :func:`._checker.compose` proves, with nothing added or left out."""
    g = lemma.goal
    return _plain(f"{g.lhs} {g.rel} {g.rhs}" + (f" if {', '.join(lemma.assume)}" if lemma.assume else ""))


def stated(lemma: Lemma) -> Lemma:
    """``lemma`` (a bound lemma built from a template) with the head's claim replaced by :func:`bound_claim`."""
    return dataclasses.replace(lemma, doc=lemma.doc.replace(lemma.claim, bound_claim(lemma), 1))


def formal(lemma: Lemma) -> str:
    """What ``lemma`` states formally, in one line of plain text: the steps an identity lemma shows (and its
    premises), or a bound lemma's goal with its hypotheses."""
    if lemma.goal is not None:
        return f"goal {bound_claim(lemma)}"
    if not lemma.shows:
        return "shows no step"
    return f"shows {_steps(lemma.shows)}" + (f" if {_steps(lemma.premises)}" if lemma.premises else "")


__all__ = ["SEP", "bound_claim", "formal", "formal_claim", "stated", "statement_failures"]
