"""Eleventh review of the proof checker (attacking review 10's fixes): a genuine ``Add`` whose fact store is a
``dict`` subclass that holds nothing but answers "positive" proved ‖Ax‖_∞ ≤ R² + R(100 − R) (false for R > 100);
and an ``Add``'s arguments replaced in place after its lemma was proved kept the cached verdict on a goal that then
printed the false bound. Fact stores must be sympy's own, and the record compares the statement as sympy writes
it out."""
import dataclasses

import pytest
import sympy as sp

from attnreg.proofs import LEMMAS, Goal, verify
from attnreg.proofs._statement import stated
from _forged import fresh_sympy_cache  # noqa: F401  (autouse)
from attnreg.proofs.symbols import R

pytestmark = pytest.mark.xdist_group("lemmas")

POS = dict(positive=True, nonnegative=True, negative=False, nonpositive=False, zero=False, nonzero=True,
           extended_positive=True, extended_nonnegative=True, extended_negative=False, extended_nonpositive=False,
           extended_nonzero=True)


class Hidden(dict):
    """Holds nothing (``dict(store)`` is empty) but answers the facts in POS."""

    def __getitem__(self, k):
        if k in POS:
            return POS[k]
        raise KeyError(k)

    def copy(self):
        return self


def forged_with(B):
    real = LEMMAS["logit_box"]
    return stated(dataclasses.replace(real, goal=Goal(real.goal.lhs, "<=", R ** 2 + R * B)))


def test_a_fact_store_that_hides_what_it_answers_is_refused():
    B = sp.Add._from_args((sp.Integer(100), -R))
    B._assumptions = Hidden()
    assert B.is_positive and dict(B._assumptions) == {}
    lem = forged_with(B)
    assert any(a is B for a in sp.preorder_traversal(lem.goal.rhs))
    v = verify(lem, known=dict(LEMMAS, **{lem.id: lem}))
    assert not v.ok and any("keeps its facts in a Hidden, not sympy's own store" in f for f in v.failures), v.failures


def test_arguments_replaced_after_the_verdict_are_not_served_from_the_cache():
    B = sp.Add._from_args((sp.Integer(100), R))
    lem = forged_with(B)
    known = dict(LEMMAS, **{lem.id: lem})
    assert verify(lem, known=known).ok  # R² + R(100 + R): true
    B._args = (sp.Integer(100), -R)
    B._assumptions = B.default_assumptions.copy()
    assert str(lem.goal.rhs) == "R**2 + R*(100 - R)"
    v = verify(lem, known=known)
    assert not v.ok and "changed since they were checked" in v.failures[0]
