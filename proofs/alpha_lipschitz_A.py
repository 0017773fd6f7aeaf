r"""Lemma alpha_lipschitz_A (α is Lipschitz in the data A): |α(A) − α(A′)| ≤ √n R e^{R²} ||A − A′||₂.

Statement
    With x fixed, for all admissible A, A′ (||A||, ||A′|| ≤ R and ||x|| ≤ R):
        |α(A) − α(A′)| ≤ √n R e^{R²} ||A − A′||₂.
    The data norm is the spectral norm (a Frobenius-norm version follows, ||·||₂ ≤ ||·||_F).

Derivation
    1. With s = Ax, s′ = A′x: |α(s) − α(s′)| ≤ √n e^M ||s − s′|| on the box (Lemma alpha_lipschitz_logits); the box
       radius is M = R² (Lemma logit_box)   [lemma]
    2. Ax − A′x = (A − A′)x, so ||Ax − A′x|| ≤ ||A − A′|| ||x||   [submultiplicative]
    3. ||x|| ≤ R   [assumption]
    Composed: √n R e^{R²}.

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself evaluated through
    attnreg.reference.forms at 60 digits (n = 6, d = 4) at random admissible points — norms drawn up to and at
    the limits, near and far pairs — reporting the largest ratio measured / stated (_sample.bound_ratio).
"""
from __future__ import annotations

import sympy as sp

from ._core import Bound, Goal, Lemma, cite, given
from ._chains import DSA, logits_in_A
from .alpha_lipschitz_logits import DALPHA as ALPHA_LIPSCHITZ_LOGITS_LHS, LEMMA as LOGIT
from .symbols import dA, ds, M, n, norm_x, quantity, R

DQ = quantity("|α(A) − α(A′)|", r"|\alpha(A)-\alpha(A')|")
BOUND = Bound(quantity="alpha", form="vector", kind="lipschitz", wrt="A", value=sp.sqrt(n) * R * sp.exp(R ** 2),
              assume=("norm(A) <= R", "norm(x) <= R"), lemma="alpha_lipschitz_A")


def steps(n_, d):
    return [
        cite(LOGIT, {ALPHA_LIPSCHITZ_LOGITS_LHS: DQ, ds: DSA, M: R ** 2}, "s = Ax and s′ = A′x",
             discharge={"norm_inf(s) <= M": "logit_box"}),
        *logits_in_A(n_, d),
        given(norm_x, "<=", R, "norm(x) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("alpha_lipschitz_logits", "logit_box"),
              goal=Goal.of(BOUND, DQ, dA), bound=BOUND)
