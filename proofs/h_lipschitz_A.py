r"""Lemma h_lipschitz_A (h is Lipschitz in the data A): ||h(A) − h(A′)|| ≤ (1 + √n) R e^{R²} ||A − A′||₂.

Statement
    With x fixed, for all admissible A, A′ (||A||, ||A′|| ≤ R and ||x|| ≤ R and ||b|| ≤ 1):
        ||h(A) − h(A′)|| ≤ (1 + √n) R e^{R²} ||A − A′||₂.
    The data norm is the spectral norm (a Frobenius-norm version follows, ||·||₂ ≤ ||·||_F).

Derivation
    1. With s = Ax, s′ = A′x: ||h(s) − h(s′)|| ≤ (1 + √n||b||) e^M ||s − s′|| on the box (Lemma h_lipschitz_logits);
       the box radius is M = R² (Lemma logit_box)   [lemma]
    2. Ax − A′x = (A − A′)x, so ||Ax − A′x|| ≤ ||A − A′|| ||x||   [submultiplicative]
    3. ||b|| ≤ 1   [assumption]
    4. ||x|| ≤ R   [assumption]
    Composed: (1 + √n) R e^{R²}.

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself evaluated through
    attnreg.reference.forms at 60 digits (n = 6, d = 4) at random admissible points — norms drawn up to and at
    the limits, near and far pairs — reporting the largest ratio measured / stated (_sample.bound_ratio).
"""
from __future__ import annotations

import sympy as sp

from ._core import Bound, Goal, Lemma, cite, given
from ._chains import DSA, logits_in_A
from .h_lipschitz_logits import DH as H_LIPSCHITZ_LOGITS_LHS, LEMMA as LOGIT
from .symbols import dA, ds, M, n, norm_b, norm_x, quantity, R

DQ = quantity("‖h(A) − h(A′)‖", r"\|h(A)-h(A')\|")
BOUND = Bound(quantity="h", form="vector", kind="lipschitz", wrt="A", value=(1 + sp.sqrt(n)) * R * sp.exp(R ** 2),
              version="rescaled",
              assume=("norm(A) <= R", "norm(x) <= R", "norm(b) <= 1"), lemma="h_lipschitz_A")


def steps(n_, d):
    return [
        cite(LOGIT, {H_LIPSCHITZ_LOGITS_LHS: DQ, ds: DSA, M: R ** 2}, "s = Ax and s′ = A′x",
             discharge={"norm_inf(s) <= M": "logit_box"}),
        *logits_in_A(n_, d),
        given(norm_b, "<=", 1, "norm(b) <= 1"),
        given(norm_x, "<=", R, "norm(x) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("h_lipschitz_logits", "logit_box"),
              goal=Goal.of(BOUND, DQ, dA), bound=BOUND)
