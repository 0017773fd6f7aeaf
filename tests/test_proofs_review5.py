"""Fifth review of the proof checker (a reviewer writing false lemmas into a copy of the package): each forgery
below was proved by ``verify``, listed as proved by ``attnreg proofs`` and, for two, compiled in Coq. Each is now
refused with a reason, with variants."""
import dataclasses

import pytest
import sympy as sp

from attnreg.proofs import LEMMAS, Goal, Lemma, verify
from attnreg.proofs import logit_box as lb
from attnreg.proofs._core import cite, given
from attnreg.proofs._statement import stated
from attnreg.proofs._vocabulary import expression_failure
from attnreg.proofs.symbols import R, hypothesis_failure, norm_A, norm_x

pytestmark = pytest.mark.xdist_group("lemmas")

LB = LEMMAS["logit_box"]
DOC = "Lemma logit_box_small (small logits): X\n\nStatement\n    s\n\nCheck\n    c\n"


def with_hypotheses(hyps, bounds=(R, R)):
    """logit_box with its two hypotheses spelled ``hyps`` (norm(A), norm(x)), each assumed as it is written."""
    return stated(dataclasses.replace(LB, assume=hyps, steps=lambda n, d: [
        *lb.steps(n, d)[:2], given(norm_A, "<=", bounds[0], hyps[0]), given(norm_x, "<=", bounds[1], hyps[1])]))


def failures(lemma, **known):
    v = verify(lemma, known=dict(LEMMAS, **known))
    assert not v.ok
    return " | ".join(v.failures)


@pytest.mark.parametrize("spelling", ["Symbol('\\x52', positive=True)", "Symbol('R', positive=True)", "1*R",
                                      " R", "(R)"])
def test_a_hypothesis_spelled_other_than_sympy_prints_it_is_refused(spelling):
    """Was proved: hypotheses "norm(A) <= Symbol('\\x52', positive=True)" (R to sympy, but no "R" in the text)
    were neither discharged nor renamed when a citation set R := 3R/5, so ‖Ax‖_∞ ≤ (9/25)R² if ‖A‖, ‖x‖ ≤ R
    (false: A = R e₁e₁ᵀ, x = R e₁ give R²) passed, its sampling at ratio 0.98. Now a hypothesis is in sympy's
    printed spelling, and which parameters it mentions is read from its parse."""
    hyps = (f"norm(A) <= {spelling}", f"norm(x) <= {spelling}")
    spelled = with_hypotheses(hyps)
    small = stated(Lemma(doc=DOC, steps=lambda n, d: [cite(spelled, {R: sp.Rational(3, 5) * R})],
                         requires=("logit_box",), goal=Goal(lb.INF, "<=", sp.Rational(9, 25) * R ** 2), assume=hyps))
    why = failures(small, logit_box=spelled, logit_box_small=small)
    assert "is not of the form '<norm> <= E' with E an expression in n, d, R, M written as sympy prints it" in why
    assert "not of the form" in failures(spelled, logit_box=spelled)


def test_a_renamed_parameter_in_a_canonical_hypothesis_must_still_be_discharged():
    small = stated(Lemma(doc=DOC, steps=lambda n, d: [cite(LB, {R: sp.Rational(3, 5) * R})], requires=("logit_box",),
                         goal=Goal(lb.INF, "<=", sp.Rational(9, 25) * R ** 2), assume=LB.assume))
    assert "mentions R, which the citation renames, so it must be discharged" in failures(small)


@pytest.mark.parametrize("twin, reason", [
    (sp.Symbol("R", positive=True, integer=True), "a symbol named R (positive=True, integer=True) that is not the "
                                                  "parameter R"),
    (sp.Symbol("R", zero=True), "a symbol named R (zero=True) that is not the parameter R"),
    (sp.Symbol("R", real=True), "a symbol named R (real=True) that is not the parameter R"),
    (sp.Symbol("‖x‖", positive=True, integer=True), "its symbol ‖x‖ is made with positive=True, integer=True"),
    (sp.Symbol("‖x‖", real=True), "two different symbols are both named ‖x‖"),
])
def test_a_symbol_printed_as_the_checkers_with_other_assumptions_is_refused(twin, reason):
    """Was proved: ``‖Ax‖_∞ ≤ R·R²`` with one R made integer (compose used R ≥ 1; false for R < 1; the sampling
    set it to R's value by name), and ``‖Ax‖_∞ ≤ R² − R·R²/2`` with one R made zero (``R·R² = 0`` to is_zero)."""
    other = norm_x if twin.name == "‖x‖" else R
    goal = Goal(lb.INF, "<=", R ** 2 * twin / other)
    lem = stated(dataclasses.replace(LB, goal=goal))
    assert reason in failures(lem, logit_box=lem)


@pytest.mark.parametrize("bound", [-R, R - R, sp.S.Zero, -R ** 2 + 0 * R])
def test_a_hypothesis_no_point_satisfies_is_refused(bound):
    """Was proved: ‖Ax‖_∞ ≤ −R² if norm(x) ≤ R and norm(A) ≤ −R (vacuous), its sampling "confirmed" at ratio
    −0.12 (only max ratio ≤ 1 was tested)."""
    hyps = ("norm(x) <= R", f"norm(A) <= {bound}")
    lem = stated(dataclasses.replace(with_hypotheses((hyps[1], hyps[0]), (bound, R)), goal=Goal(lb.INF, "<=", -R ** 2)))
    assert f"bounds a norm by {bound}, which is not shown positive" in failures(lem, logit_box=lem)
    assert hypothesis_failure(f"norm(A) <= {bound}") and not hypothesis_failure("norm(A) <= R")


def test_a_negative_stated_bound_fails_the_checkers_sampling():
    lem = stated(dataclasses.replace(LB, goal=Goal(lb.INF, "<=", -R ** 2)))
    assert "checker's sampling FAILED" in failures(lem, logit_box=lem)


def test_the_real_lemmas_use_the_checkers_symbols_and_hypotheses():
    from attnreg.proofs._sizes import built
    from attnreg.proofs._vocabulary import expressions

    for lemma in LEMMAS.values():
        assert expression_failure(expressions(lemma, built(lemma, lemma.sizes[0]))) == "", lemma.id
        assert all(hypothesis_failure(h) == "" for h in lemma.assume), lemma.id


def test_an_undecidable_square_constant_gives_a_reason_not_a_traceback():
    """``½ − (√(10⁸⁰⁰+1) − 10⁴⁰⁰)`` (about ½ − 5·10⁻⁴⁰¹) in place of ½: the rule's ``a > 0`` as a Relational raised
    TypeError inside verify; now an undecided sign is a refusal with the rule's reason."""
    sj = LEMMAS["softmax_jacobian_half"]
    c = sp.Rational(1, 2) - (sp.sqrt(10 ** 800 + 1) - 10 ** 400)

    def steps(n, d):
        s = list(sj.steps(n, d))
        s[2] = dataclasses.replace(s[2], rhs=c)
        return s

    lem = stated(dataclasses.replace(sj, steps=steps, goal=Goal(sj.goal.lhs, "<=", c)))
    why = failures(lem, softmax_jacobian_half=lem)
    assert "rule 'square_nonnegative'" in why
