"""Review of the formal statement of identity lemmas (proofs/_statement.py): forged lemma modules whose printed claim
states something false or more than was proved. Each one the checker accepted is here: fixed (the test passes), or
open (strict xfail, with the reason)."""
import dataclasses
import re

import pytest

from attnreg.proofs import LEMMAS, Step, verify
from attnreg.proofs._sizes import built
from attnreg.proofs._statement import statement_failures
from attnreg.proofs.render import formal_note, render

pytestmark = pytest.mark.xdist_group("lemmas")  # they verify real lemmas: verified once, on one worker


def why(lemma, *, numeric=False) -> str:
    """The reasons ``lemma`` is rejected ("" would mean it was accepted)."""
    v = verify(lemma, known=dict(LEMMAS, **{lemma.id: lemma}), numeric=numeric)
    return "" if (v.ok if numeric else v.symbolic_ok) else "; ".join(v.failures)


def said(lemma, claim, **fields):
    """``lemma`` with the claim ``claim`` in its docstring head (and other fields replaced); the head is rewritten
    whole, as it may wrap over lines."""
    rest = re.split(r"\n[ \t]*\n", lemma.doc.strip(), maxsplit=1)[1]
    return dataclasses.replace(lemma, doc=f"Lemma {lemma.id} ({lemma.title}): {claim}\n\n{rest}", **fields)


class Liar(str):
    """A claim that shows one text and encodes (so digests as) another."""

    def __new__(cls, shown, digested):
        out = super().__new__(cls, shown)
        out.digested = digested
        return out

    def encode(self, *args, **kwargs):
        return self.digested.encode(*args, **kwargs)


def test_a_claim_that_encodes_the_reviewed_text_but_shows_another_is_refused():
    """Was accepted: row_shift's step 3 with the claim "f(s + t1) = 0" as a str subclass whose ``encode`` gives the
    reviewed "f(s + t1) = f(s)" — the digest pinned the reviewed text, the claim was joined from the shown one, and
    the lemma "f(s + t1) = 0; h(s + t1) = eᵗ h(s); …" was proved."""
    rs = LEMMAS["row_shift"]

    def steps(n_, d_):
        out = list(rs.steps(n_, d_))
        out[2] = dataclasses.replace(out[2], claim=Liar("f(s + t1) = 0", out[2].claim))
        return out
    lem = said(rs, rs.claim.replace("f(s + t1) = f(s);", "f(s + t1) = 0;"), steps=steps)
    assert lem.claim.startswith("f(s + t1) = 0;")
    reasons = why(lem)
    assert "step 3 is a Step whose claim is a Liar: a stated step must be a Step with a plain str claim" in reasons
    assert "step 3 has an index form only for the step it was linked to" in reasons  # the digest fails closed too
    # a subclass of Step, even an honest one, is not a pinned step: its claim could be a property
    sub = type("Sub", (Step,), {})

    def subclassed(n_, d_):
        out = list(rs.steps(n_, d_))
        out[2] = sub(**{f.name: getattr(out[2], f.name) for f in dataclasses.fields(Step)})
        return out
    assert "step 3 is a Sub whose claim is a str" in " ".join(
        statement_failures(dataclasses.replace(rs, steps=subclassed), subclassed(3, 2)))


def test_a_construction_is_a_premise_never_a_conclusion():
    """Was accepted: a module wearing xzw_invariance's id, its real steps, shows (5, 7) and no premise — the claim
    "L_N(X + z wᵀ) = L_N(X); ∇²L_N(X)[z wᵀ] = A1ᵀ dP A2 = 0" for every A2 and w, false in general (steps 2–7 are
    built on A2 solved from A2 w = 1ₙ); or step 1 shown: "A2 w = 1ₙ" claimed as a theorem. The statement check is
    called directly (a verify of a changed xzw_invariance costs about 30 s)."""
    xz = LEMMAS["xzw_invariance"]
    steps = built(xz, (3, 2))
    assert xz.premises == (1,) and statement_failures(xz, steps) == []
    for shows in ((5, 7), (1, 5, 7)):
        lem = said(xz, "; ".join(steps[k - 1].claim for k in shows), shows=shows, premises=())
        assert statement_failures(lem, steps) == [
            "step 1 holds by the construction of the lemma's objects (A2's last column is solved from A2 w = 1ₙ), "
            "which every other step is built on: the claim must state them as premises, never as conclusions or not "
            "at all (proofs/_fixed.py CONSTRUCTIONS)"]
    # a premise added to the real one stays allowed (it only weakens the claim)
    weaker = said(xz, f"if {steps[0].claim}; {steps[7].claim}: {steps[4].claim}; {steps[6].claim}", premises=(1, 8))
    assert statement_failures(weaker, steps) == []


def test_a_claim_is_one_text_at_every_size():
    """Was accepted: a module wearing row_shift's id that declares ``sizes=((5, 3),)`` and builds there step 3 with
    the claim "f(s + t1) = 0 for every s" (its true expressions unchanged): every size was verified, only the base
    size's claims were compared with the head, and ``attnreg proofs show --no-check`` rendered that step (it read
    the lemma's own first size)."""
    rs = LEMMAS["row_shift"]

    def steps(n_, d_):
        out = list(rs.steps(n_, d_))
        if (n_, d_) == (5, 3):
            out[2] = dataclasses.replace(out[2], claim="f(s + t1) = 0 for every s")
        return out
    lem = dataclasses.replace(rs, steps=steps, sizes=((5, 3),))
    assert "sizes: the steps built at n=5, d=3 differ from those at n=3, d=2" in why(lem)
    shown = render(lem, "md", None, known=dict(LEMMAS, row_shift=lem))
    assert "\n3. f(s + t1) = f(s)\n" in shown and "f(s + t1) = 0 for every s" not in shown


def test_shows_positions_are_plain_ints():
    """An int subclass whose ``k - 1`` is another position: the listing would say "shows step 5" of a claim taken
    from another step."""
    rs = LEMMAS["row_shift"]

    class Five(int):
        def __sub__(self, other):
            return 0

    lem = dataclasses.replace(rs, shows=(3, Five(5), 7, 8))
    assert statement_failures(lem, built(rs, (3, 2))) == ["its shows names 5, a Five, not a plain int position"]
    assert statement_failures(dataclasses.replace(rs, shows=(True, 3)), built(rs, (3, 2))) == [
        "its shows names True, a bool, not a plain int position"]


def test_a_bound_lemmas_claim_is_its_goal():
    """Was a strict xfail: softmax_jacobian_half with the claim "‖diag(f) − f fᵀ‖₂ ≤ ¼ …" (its goal, ≤ 1/2,
    unchanged) was proved, and ``proofs show`` printed "**Claim.** … ≤ ¼" above the true formal statement; the real
    bound lemmas' prose also dropped hypotheses that their goals carry (h_lipschitz_x's omitted ‖A‖, ‖x‖ ≤ R and
    ‖b‖ ≤ 1). A bound lemma's claim is now its goal with its hypotheses, character for character."""
    sj = LEMMAS["softmax_jacobian_half"]
    lem = said(sj, sj.claim.replace("≤ 1/2", "≤ 1/4"))
    assert "≤ 1/4" in lem.claim
    assert "is not its goal with its hypotheses: it must read '‖diag(f) − f fᵀ‖ ≤ 1/2'" in why(lem)
    hx = LEMMAS["h_lipschitz_x"]
    assert hx.claim.endswith(" if norm(A) <= R, norm(x) <= R, norm(b) <= 1".replace("<=", "≤"))
    dropped = said(hx, hx.claim.replace(", norm(b) ≤ 1", ""))
    assert "is not its goal with its hypotheses" in why(dropped)
    assert not why(said(sj, sj.claim))  # the claim as it is: proved


def retitled(lemma, title):
    return dataclasses.replace(lemma, doc=lemma.doc.replace(f"({lemma.title})", f"({title})", 1))


def test_a_lemmas_title_is_checked():
    """Was a strict xfail: row_shift titled "softmax is ¼-Lipschitz" was proved; ``attnreg proofs`` listed it as
    "row_shift  proved  softmax is ¼-Lipschitz — shows steps 3, 5, 7, 8". A title now names and claims nothing
    (proofs/_title.py), and the printouts show the formal claim as the statement."""
    rs = LEMMAS["row_shift"]
    lem = retitled(rs, "softmax is ¼-Lipschitz")
    assert lem.title == "softmax is ¼-Lipschitz"
    assert "its title 'softmax is ¼-Lipschitz' holds '¼' (VULGAR FRACTION ONE QUARTER): a title names the lemma " \
           "and claims nothing" in why(lem)


@pytest.mark.parametrize("title, reason", [
    ("softmax is 4 times smoother", "holds '4' (DIGIT FOUR)"),             # a digit outside a name
    ("softmax is 1/4 Lipschitz", "holds '1' (DIGIT ONE)"),
    ("f ≤ f", "holds '≤' (LESS-THAN OR EQUAL TO)"),                     # a relation symbol
    ("shift = 0", "holds '=' (EQUALS SIGN)"),
    ("‖J‖ bound", "holds '‖' (DOUBLE VERTICAL LINE)"),
    ("softmax is ½ Lipschitz", "holds '½' (VULGAR FRACTION ONE HALF)"),   # a vulgar fraction
    ("α²", "holds '²' (SUPERSCRIPT TWO)"),
    ("softmax is half Lipschitz", "holds the word 'half'"),             # a number word
    ("α at most R", "holds the word 'most'"),                           # a relation word
    ("softmax is R-Lipschitz", "writes a constant before \"Lipschitz\""),
    # look-alikes and words outside the list (each was accepted before proofs/_title.py's ASCII/Greek rule and word
    # list: letters of any script, digits of any script after a letter, no ordinals, -ed forms or trust-base words)
    ("softmax Jacobian ǁJǁ ᐸ ǀ", "holds 'ǁ' (LATIN LETTER LATERAL CLICK)"),    # reads ‖J‖ < |
    ("α ᐸ R ᕀ ᒿ", "holds 'ᐸ' (CANADIAN SYLLABICS PA)"),                       # reads α < R + 2
    ("softmax Lipschitz 二 一", "holds '二' (CJK UNIFIED IDEOGRAPH-4E8C)"),     # "two", "one"; read = −
    ("Lipschitz L ꓽ R ᐟ Ꮞ", "holds 'ꓽ' (LISU LETTER TONE MYA JEU)"),           # reads L : R/4
    ("α R ᶾ", "holds 'ᶾ' (MODIFIER LETTER SMALL EZH)"),                        # reads R³
    ("ｈａｌｆ Lipschitz", "holds 'ｈ' (FULLWIDTH LATIN SMALL LETTER H)"),     # a listed word, fullwidth
    ("hаlf Lipschitz", "holds 'а' (CYRILLIC SMALL LETTER A)"),                 # a listed word, Cyrillic а
    ("R٤ Lipschitz", "holds '٤' (ARABIC-INDIC DIGIT FOUR)"),                   # a digit of another script
    ("hαlf Lipschitz", "holds the word 'hαlf', which mixes Greek and Latin"),  # a listed word, Greek α
    ("softmax Lipschitz a fourth", "holds the word 'fourth'"),                 # words outside the list
    ("softmax Jacobian halved", "holds the word 'halved'"),
    ("α Lipschitz modulus R squared", "holds the word 'squared'"),
    ("proved for all n, d (Coq", "holds the word 'proved'"),                   # the trust base's words
    ("all n, d (Coq", "holds the word 'all'"),
    ("checked by z3", "holds the word 'checked'"),
    ("softmax is R_Lipschitz", 'writes a constant before "Lipschitz"'),     # an underscore, not a hyphen
])
def test_a_title_that_claims_is_refused(title, reason):
    """Variants: a digit, a relation or norm symbol, a vulgar fraction or superscript, a number or relation word, a
    constant before "Lipschitz" — each refused by the statement check with one reason sentence."""
    sj = LEMMAS["softmax_jacobian_half"]
    lem = retitled(sj, title)
    assert lem.title == title
    failures = statement_failures(lem, built(sj, (3, 2)))
    assert len(failures) == 1 and f"its title {title!r} {reason}" in failures[0], failures


def test_a_clean_renaming_is_accepted_and_shown_as_a_name():
    """A title that only names (letters, a name with an index such as A1) is accepted, and ``proofs show`` prints the
    formal claim as the statement, the title as a name and the Statement section as unchecked explanation."""
    sj = LEMMAS["softmax_jacobian_half"]
    lem = retitled(sj, "the softmax Jacobian's row sums, for A1 and α_j")
    assert statement_failures(lem, built(sj, (3, 2))) == []
    assert not why(lem)
    shown = render(lem, "md", None)
    assert shown.startswith("# Lemma softmax_jacobian_half (the softmax Jacobian's row sums, for A1 and α_j)\n\n"
                            "**Statement (formal, checked).** ‖diag(f) − f fᵀ‖ ≤ 1/2\n")
    assert "The title is a name, not a claim" in shown and "## Explanation (prose, not checked)\n" in shown
    assert "## Statement" not in shown


def test_every_real_title_is_a_name():
    from attnreg.proofs._title import title_failure

    assert {i: title_failure(lem.title) for i, lem in LEMMAS.items() if title_failure(lem.title)} == {}


def test_the_formal_note_says_by_construction_only_of_a_reviewed_construction():
    """``proofs show`` said of every premise "it holds by the construction of the lemma's objects"; a premise of a
    forged lemma (row_shift's u(s + t1) = eᵗ u(s), an identity for every s) is only the claim's hypothesis."""
    rs = LEMMAS["row_shift"]
    note = formal_note(dataclasses.replace(rs, premises=(1,)), "md")
    assert note.startswith("if the claim of step 1 (a premise: the hypothesis of what follows), then")
    assert "construction" not in note
    assert "step 1 holds by the construction of the lemma's objects, reviewed so" in formal_note(
        LEMMAS["xzw_invariance"], "md")


def test_the_joined_claim_parses_back_into_its_steps():
    """Premises (1, 6) of xzw_invariance read "if A2 w = 1ₙ; dP = 0 for V = z wᵀ: its rows dp_j = K_j ds_j vanish:
    L_N(X + z wᵀ) = L_N(X)": a reader ends the hypothesis at the first ": " and reads part of a premise as proved.
    (Every stated step is proved under the construction, so no false statement came of it; refused as ambiguous.)"""
    xz = LEMMAS["xzw_invariance"]
    steps = built(xz, (3, 2))
    lem = said(xz, f"if {steps[0].claim}; {steps[5].claim}: {steps[4].claim}", premises=(1, 6), shows=(5,))
    assert statement_failures(lem, steps) == [
        "step 6's claim 'dP = 0 for V = z wᵀ: its rows dp_j = K_j ds_j vanish' cannot be stated as a premise without "
        "making the joined claim ambiguous (it contains \"; \", begins with \"if \", or is a premise containing "
        "\": \")"]
    shown = said(xz, f"if {steps[0].claim}: {steps[4].claim}; {steps[5].claim}", shows=(5, 6))
    assert statement_failures(shown, steps) == []  # as a conclusion it reads as one


def test_a_claim_cannot_end_its_coq_comment():
    """The Coq export writes a lemma's claim (and its atoms) inside ``(* … *)``: a claim containing ``*)`` ended the
    comment and the rest became Coq text (found in review; only chains sympy composed are exported, so no false
    chain came of it). Comment delimiters in the text are now broken apart; ``(*`` would open a nested comment."""
    from attnreg.proofs.export_coq import _comment

    text = _comment("‖q‖ ≤ 1 *) Axiom absurd : False. (* and (*nested*)")
    assert "*)" not in text and "(*" not in text and "Axiom absurd : False." in text
