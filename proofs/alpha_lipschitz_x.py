r"""Lemma alpha_lipschitz_x (α is Lipschitz in x): |α(x) − α(y)| ≤ √n R e^{R²} ||x − y||₂ on the ball.

Statement
    With A fixed, for all admissible x, y (||A|| ≤ R and ||x||, ||y|| ≤ R):
        |α(x) − α(y)| ≤ √n R e^{R²} ||x − y||₂.

Derivation
    1. With s = Ax, s′ = Ay: |α(s) − α(s′)| ≤ √n e^M ||s − s′|| on the box (Lemma alpha_lipschitz_logits); the box
       radius is M = R² (Lemma logit_box)   [lemma]
    2. Ax − Ay = A(x − y), so ||Ax − Ay|| ≤ ||A|| ||x − y||   [submultiplicative]
    3. ||A|| ≤ R   [assumption]
    Composed: √n R e^{R²}.

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself evaluated through
    attnreg.reference.forms at 60 digits (n = 6, d = 4) at random admissible points — norms drawn up to and at
    the limits, near and far pairs — reporting the largest ratio measured / stated (_sample.bound_ratio).
"""
from __future__ import annotations

import sympy as sp

from ._core import Bound, Goal, Lemma, cite, given
from ._chains import DSX, logits_in_x
from .alpha_lipschitz_logits import DALPHA as ALPHA_LIPSCHITZ_LOGITS_LHS, LEMMA as LOGIT
from .symbols import ds, dx, M, n, norm_A, quantity, R

DQ = quantity("|α(x) − α(y)|", r"|\alpha(x)-\alpha(y)|")
BOUND = Bound(quantity="alpha", form="vector", kind="lipschitz", wrt="x", value=sp.sqrt(n) * R * sp.exp(R ** 2),
              assume=("norm(A) <= R", "norm(x) <= R"), lemma="alpha_lipschitz_x")


def steps(n_, d):
    return [
        cite(LOGIT, {ALPHA_LIPSCHITZ_LOGITS_LHS: DQ, ds: DSX, M: R ** 2}, "s = Ax and s′ = Ay",
             discharge={"norm_inf(s) <= M": "logit_box"}),
        *logits_in_x(n_, d),
        given(norm_A, "<=", R, "norm(A) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("alpha_lipschitz_logits", "logit_box"),
              goal=Goal.of(BOUND, DQ, dx), bound=BOUND)
