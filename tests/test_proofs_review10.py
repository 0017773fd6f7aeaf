"""Tenth review of the proof checker (attacking review 9's fixes): a genuine ``Add`` (100 − R) whose own fact store
was replaced by one saying positive proved ‖Ax‖_∞ ≤ R² + R(100 − R) if ‖A‖, ‖x‖ ≤ R (false for R > 100: A = R e₁e₁ᵀ,
x = R e₁ give R²), ``compose`` reading the gap R(100 − R) as non-negative. Every node's told facts are now compared
with those of the same node made anew, bottom up, on the steps checked and again just before composing."""
import dataclasses

import pytest
import sympy as sp

from attnreg.proofs import LEMMAS, Goal, verify
from attnreg.proofs._statement import stated
from _forged import fresh_sympy_cache  # noqa: F401  (autouse)
from attnreg.proofs._vocabulary import expression_failure
from attnreg.proofs.symbols import R

pytestmark = pytest.mark.xdist_group("lemmas")

ALTERED = "its facts were altered after it was made"


def told_positive(node):
    node._assumptions = node.default_assumptions.copy()  # this instance only
    node._assumptions.update(positive=True, nonnegative=True, negative=False, nonpositive=False, zero=False,
                             nonzero=True, extended_positive=True, extended_nonnegative=True, extended_negative=False,
                             extended_nonpositive=False, extended_nonzero=True)
    return node


@pytest.mark.parametrize("cached", [False, True], ids=["made outside the cache", "from sympy's cache"])
def test_a_node_whose_facts_were_altered_is_refused(cached):
    B = told_positive(sp.Add(100, -R) if cached else sp.Add._from_args((sp.Integer(100), -R)))
    assert B.is_positive and sp.Add(50, -R).is_positive is None  # the edit is this object's alone
    real = LEMMAS["logit_box"]
    forged = stated(dataclasses.replace(real, goal=Goal(real.goal.lhs, "<=", R ** 2 + R * B)))
    v = verify(forged, known=dict(LEMMAS, **{forged.id: forged}))
    assert not v.ok and any(ALTERED in f for f in v.failures), v.failures


def test_altered_numbers_and_powers_are_refused_and_genuine_ones_pass():
    third = sp.Rational(1, 3)
    genuine = [R ** 2 + R * (100 - R), (R - 3) ** 2, sp.exp(R - 1) * third, sp.Integer(10 ** 30) * R]
    assert all(expression_failure([e]) == "" for e in genuine)
    p = sp.Basic.__new__(sp.Pow, R - 3, sp.Integer(3))
    p.is_commutative = True
    assert ALTERED in expression_failure([R + told_positive(p)])
    q = sp.Expr.__new__(sp.Rational)
    q.p, q.q = -1, 7
    assert ALTERED in expression_failure([sp.Add._from_args((R, told_positive(q)))])  # kept as it is in the tree
