r"""Lemma f_lipschitz_x (f is Lipschitz in x): ||f(x) − f(y)|| ≤ R/2 ||x − y||₂ when ||A|| ≤ R.

Statement
    With A fixed, for all admissible x, y (||A|| ≤ R):
        ||f(x) − f(y)|| ≤ R/2 ||x − y||₂.

Derivation
    1. With s = Ax, s′ = Ay: ||f(s) − f(s′)|| ≤ ½ ||s − s′|| for all s, s′ (Lemma softmax_lipschitz_logits)   [lemma]
    2. Ax − Ay = A(x − y), so ||Ax − Ay|| ≤ ||A|| ||x − y||   [submultiplicative]
    3. ||A|| ≤ R   [assumption]
    Composed: R/2.

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself evaluated through
    attnreg.reference.forms at 60 digits (n = 6, d = 4) at random admissible points — norms drawn up to and at
    the limits, near and far pairs — reporting the largest ratio measured / stated (_sample.bound_ratio).
"""
from __future__ import annotations


from ._core import Bound, Goal, Lemma, cite, given
from ._chains import DSX, logits_in_x
from .softmax_lipschitz_logits import DF as SOFTMAX_LIPSCHITZ_LOGITS_LHS, LEMMA as LOGIT
from .symbols import ds, dx, norm_A, quantity, R

DQ = quantity("‖f(x) − f(y)‖", r"\|f(x)-f(y)\|")
BOUND = Bound(quantity="f", form="vector", kind="lipschitz", wrt="x", value=R / 2,
              assume=("norm(A) <= R",), lemma="f_lipschitz_x")


def steps(n_, d):
    return [
        cite(LOGIT, {SOFTMAX_LIPSCHITZ_LOGITS_LHS: DQ, ds: DSX}, "s = Ax and s′ = Ay"),
        *logits_in_x(n_, d),
        given(norm_A, "<=", R, "norm(A) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("softmax_lipschitz_logits",),
              goal=Goal.of(BOUND, DQ, dx), bound=BOUND)
