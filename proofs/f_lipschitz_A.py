r"""Lemma f_lipschitz_A (f is Lipschitz in the data A): ||f(A) − f(A′)|| ≤ R/2 ||A − A′||₂ when ||x|| ≤ R.

Statement
    With x fixed, for all admissible A, A′ (||x|| ≤ R):
        ||f(A) − f(A′)|| ≤ R/2 ||A − A′||₂.
    The data norm is the spectral norm (a Frobenius-norm version follows, ||·||₂ ≤ ||·||_F).

Derivation
    1. With s = Ax, s′ = A′x: ||f(s) − f(s′)|| ≤ ½ ||s − s′|| for all s, s′ (Lemma softmax_lipschitz_logits)   [lemma]
    2. Ax − A′x = (A − A′)x, so ||Ax − A′x|| ≤ ||A − A′|| ||x||   [submultiplicative]
    3. ||x|| ≤ R   [assumption]
    Composed: R/2.

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself evaluated through
    attnreg.reference.forms at 60 digits (n = 6, d = 4) at random admissible points — norms drawn up to and at
    the limits, near and far pairs — reporting the largest ratio measured / stated (_sample.bound_ratio).
"""
from __future__ import annotations


from ._core import Bound, Goal, Lemma, cite, given
from ._chains import DSA, logits_in_A
from .softmax_lipschitz_logits import DF as SOFTMAX_LIPSCHITZ_LOGITS_LHS, LEMMA as LOGIT
from .symbols import dA, ds, norm_x, quantity, R

DQ = quantity("‖f(A) − f(A′)‖", r"\|f(A)-f(A')\|")
BOUND = Bound(quantity="f", form="vector", kind="lipschitz", wrt="A", value=R / 2,
              assume=("norm(x) <= R",), lemma="f_lipschitz_A")


def steps(n_, d):
    return [
        cite(LOGIT, {SOFTMAX_LIPSCHITZ_LOGITS_LHS: DQ, ds: DSA}, "s = Ax and s′ = A′x"),
        *logits_in_A(n_, d),
        given(norm_x, "<=", R, "norm(x) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("softmax_lipschitz_logits",),
              goal=Goal.of(BOUND, DQ, dA), bound=BOUND)
