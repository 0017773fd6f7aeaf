"""Seventh review of the proof checker (attacking review 6's fixes): a ``Rational`` subclass that prints −10⁻⁶ and
claims to be non-negative, and review 6's function ``Rf`` (a positive integer to sympy, R to evalf) with its
``__module__`` set to a sympy module, each proved a false bound (the second also listed by ``attnreg proofs``,
``proofs check`` and ``bound_lemmas()`` once registered). A lemma's expressions are now built of an exact set of
sympy's classes, compared by identity, at every size the checker builds."""
import dataclasses

import pytest
import sympy as sp

from attnreg.proofs import LEMMAS, Goal, verify
from attnreg.proofs import logit_box as lb
from attnreg.proofs import u_upper as uu
from attnreg.proofs._statement import stated
from attnreg.proofs.symbols import R, n

from _forged import Rf

pytestmark = pytest.mark.xdist_group("lemmas")

VOCABULARY = "which is not in the checker's vocabulary"


def failures(lemma, sizes=None):
    v = verify(lemma, sizes, known=dict(LEMMAS, **{lemma.id: lemma}))
    assert not v.ok
    return " | ".join(v.failures)


class Neg(sp.Rational):
    """Prints and evaluates as −1/1000000; tells sympy's assumptions it is positive; Add keeps it apart."""
    is_Number = False

    def __new__(cls):
        o = sp.Expr.__new__(cls)
        o.p, o.q = -1, 10 ** 6
        return o

    def _eval_is_extended_nonnegative(self):
        return True

    def _eval_is_extended_positive(self):
        return True

    def _eval_is_extended_negative(self):
        return False

    __hash__ = sp.Expr.__hash__

    def __eq__(self, other):
        return self is other


class RfSympy(Rf):
    """Review 6's Rf, claiming to live in sympy."""
    __module__ = "sympy.functions.elementary.miscellaneous"


def test_a_rational_subclass_is_refused():
    """Was proved: ‖Ax‖_∞ ≤ R² − 10⁻⁶ if ‖A‖, ‖x‖ ≤ R (false for every R > 0: A = R e₁e₁ᵀ, x = R e₁ give R²)."""
    lem = stated(dataclasses.replace(LEMMAS["logit_box"], goal=Goal(lb.INF, "<=", R ** 2 + Neg())))
    assert f"Neg, {VOCABULARY}" in failures(lem)


def test_a_function_with_a_sympy_module_name_is_refused():
    """Was proved: ‖u(x)‖ ≤ √n (R/10 + 9/10) e^{R²} if ‖A‖, ‖x‖ ≤ R (false at n = 6, R = 0.1)."""
    value = sp.sqrt(n) * sp.exp(R ** 2) * (1 + (RfSympy(R) - 1) / 10)
    lem = stated(dataclasses.replace(LEMMAS["u_upper"], bound=dataclasses.replace(uu.BOUND, value=value),
                                     goal=Goal(uu.U2, "<=", value)))
    assert f"RfSympy, {VOCABULARY}" in failures(lem)


@pytest.mark.parametrize("node", [sp.Abs(R - 1), sp.Max(R, 1), sp.floor(R), sp.Integral(R, (R, 0, 1)), sp.pi,
                                  sp.UnevaluatedExpr(R), sp.Float(1, 3), sp.oo])
def test_sympy_classes_outside_the_vocabulary_are_refused(node):
    """With a reason, never a traceback (a goal that is complex or infinite at the sampling's points made the
    numeric layer raise)."""
    lem = stated(dataclasses.replace(LEMMAS["logit_box"], goal=Goal(lb.INF, "<=", R ** 2 + node)))
    assert VOCABULARY in failures(lem)


def test_an_odd_node_at_a_size_other_than_the_base_is_refused():
    """The statement check reads the steps built at the base size; compose reads the last size's estimates, so
    every size the checker builds is checked too."""
    lbl = LEMMAS["logit_box"]

    def steps(n_, d_):
        s = list(lbl.steps(n_, d_))
        if (n_, d_) != (3, 2):
            s[-1] = dataclasses.replace(s[-1], rhs=s[-1].rhs + Neg() + sp.Rational(1, 10 ** 6))  # Add keeps Neg
        return s

    why = failures(dataclasses.replace(lbl, steps=steps), sizes=((3, 2), (4, 3)))
    assert f"at n=4, d=3: it holds the node -1/1000000 of class test_proofs_review7.Neg, {VOCABULARY}" in why
