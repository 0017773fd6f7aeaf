"""Ninth review of the proof checker (attacking review 8's fixes): a ``str`` subclass printing "<=" / "upper" but
comparing as ">=" / "lower" in a goal's relation and a Bound's kind, the same as a Symbol's name, and a numeric route
that rewrote its own frozen lemma after the symbolic layers each left a false statement "proved". A lemma's record
is now made of the checker's plain types, and a record changed while or after it was checked is refused."""
import dataclasses

import pytest
import sympy as sp

from attnreg.proofs import LEMMAS, Goal, verify
from attnreg.proofs._sample import bound_ratio
from attnreg.proofs._statement import bound_claim, stated

pytestmark = pytest.mark.xdist_group("lemmas")


class Liar(str):
    def __new__(cls, shown, means):
        o = str.__new__(cls, shown)
        o.means = means
        return o

    def __eq__(self, other):
        return self.means == (other.means if isinstance(other, Liar) else other)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self.means)


def failures(lemma):
    v = verify(lemma, known=dict(LEMMAS, **{lemma.id: lemma}))
    assert not v.ok
    return " | ".join(v.failures)


def test_a_relation_that_prints_one_way_and_compares_another_is_refused():
    """Was proved and shown by ``proofs show`` as "Statement (formal, checked). α(x) ≤ n*exp(-R^2)…" (false: α(0)
    = n), every check seeing ≥."""
    real = LEMMAS["alpha_lower"]
    forged = stated(dataclasses.replace(real, doc=real.doc.replace("(lower bound on α)", "(upper bound on α)"),
                                        goal=Goal(real.goal.lhs, Liar("<=", ">="), real.goal.rhs),
                                        bound=dataclasses.replace(real.bound, kind=Liar("upper", "lower"))))
    assert "record: the lemma's goal's rel is a" in failures(forged)


def test_a_symbol_name_that_prints_one_way_and_compares_another_is_refused():
    """Was proved: max_i u_i(x) ≥ n e^{−R²} (false for n ≥ 2 at x = 0), every check seeing α(x)."""
    real = LEMMAS["alpha_lower"]
    lhs = sp.Symbol.__xnew__(sp.Symbol, Liar("max_i u_i(x)", "α(x)"), positive=True)
    forged = stated(dataclasses.replace(real, goal=Goal(lhs, real.goal.rel, real.goal.rhs)))
    assert "has a name of class Liar, not str" in failures(forged)


def test_a_lemma_whose_code_rewrites_it_while_checked_is_refused():
    """Was proved, and stayed so in the cache: the numeric route set u_upper's goal to a tenth of its constant
    (‖u(x)‖ ≤ √n e^{R²}/10, false at n = 1) after the symbolic layers."""
    cell = {}

    def route(ctx, rng):
        lem = cell["lem"]
        object.__setattr__(lem, "goal", Goal(lem.goal.lhs, lem.goal.rel, lem.goal.rhs / 10))
        claim = bound_claim(lem)
        object.__setattr__(lem, "doc", lem.doc.replace(lem.claim, claim, 1))
        object.__setattr__(lem, "claim", claim)
        return bound_ratio(ctx, rng, lem.bound)

    forged = cell["lem"] = dataclasses.replace(LEMMAS["u_upper"], numeric=route)
    assert "the lemma changed while it was checked" in failures(forged)
    assert not verify(forged, known=dict(LEMMAS, u_upper=forged)).ok


def test_a_lemma_changed_after_its_verdict_is_not_served_from_the_cache():
    real = LEMMAS["logit_box"]
    copy = dataclasses.replace(real)
    assert verify(copy, known=dict(LEMMAS, logit_box=copy)).ok
    object.__setattr__(copy, "goal", Goal(copy.goal.lhs, copy.goal.rel, copy.goal.rhs / 2))
    v = verify(copy, known=dict(LEMMAS, logit_box=copy))
    assert not v.ok and "changed since they were checked" in v.failures[0]
