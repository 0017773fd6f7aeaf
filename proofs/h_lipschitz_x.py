r"""Lemma h_lipschitz_x (h is Lipschitz in x): ||h(x) − h(y)|| ≤ (1 + √n) R e^{R²} ||x − y||₂ on the ball.

Statement
    With A fixed, for all admissible x, y (||A|| ≤ R and ||x||, ||y|| ≤ R and ||b|| ≤ 1):
        ||h(x) − h(y)|| ≤ (1 + √n) R e^{R²} ||x − y||₂.

Derivation
    1. With s = Ax, s′ = Ay: ||h(s) − h(s′)|| ≤ (1 + √n||b||) e^M ||s − s′|| on the box (Lemma h_lipschitz_logits);
       the box radius is M = R² (Lemma logit_box)   [lemma]
    2. Ax − Ay = A(x − y), so ||Ax − Ay|| ≤ ||A|| ||x − y||   [submultiplicative]
    3. ||b|| ≤ 1   [assumption]
    4. ||A|| ≤ R   [assumption]
    Composed: (1 + √n) R e^{R²}.

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself evaluated through
    attnreg.reference.forms at 60 digits (n = 6, d = 4) at random admissible points — norms drawn up to and at
    the limits, near and far pairs — reporting the largest ratio measured / stated (_sample.bound_ratio).
"""
from __future__ import annotations

import sympy as sp

from ._core import Bound, Goal, Lemma, cite, given
from ._chains import DSX, logits_in_x
from .h_lipschitz_logits import DH as H_LIPSCHITZ_LOGITS_LHS, LEMMA as LOGIT
from .symbols import ds, dx, M, n, norm_A, norm_b, quantity, R

DQ = quantity("‖h(x) − h(y)‖", r"\|h(x)-h(y)\|")
BOUND = Bound(quantity="h", form="vector", kind="lipschitz", wrt="x", value=(1 + sp.sqrt(n)) * R * sp.exp(R ** 2),
              version="rescaled",
              assume=("norm(A) <= R", "norm(x) <= R", "norm(b) <= 1"), lemma="h_lipschitz_x")


def steps(n_, d):
    return [
        cite(LOGIT, {H_LIPSCHITZ_LOGITS_LHS: DQ, ds: DSX, M: R ** 2}, "s = Ax and s′ = Ay",
             discharge={"norm_inf(s) <= M": "logit_box"}),
        *logits_in_x(n_, d),
        given(norm_b, "<=", 1, "norm(b) <= 1"),
        given(norm_A, "<=", R, "norm(A) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("h_lipschitz_logits", "logit_box"),
              goal=Goal.of(BOUND, DQ, dx), bound=BOUND)
