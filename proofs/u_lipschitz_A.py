r"""Lemma u_lipschitz_A (u is Lipschitz in the data A): ||u(A) − u(A′)|| ≤ R e^{R²} ||A − A′||₂.

Statement
    With x fixed, for all admissible A, A′ (||A||, ||A′|| ≤ R and ||x|| ≤ R):
        ||u(A) − u(A′)|| ≤ R e^{R²} ||A − A′||₂.
    The data norm is the spectral norm (a Frobenius-norm version follows, ||·||₂ ≤ ||·||_F).

Derivation
    1. With s = Ax, s′ = A′x: ||exp(s) − exp(s′)|| ≤ e^M ||s − s′|| on the box (Lemma exp_lipschitz_box); the box
       radius is M = R² (Lemma logit_box)   [lemma]
    2. Ax − A′x = (A − A′)x, so ||Ax − A′x|| ≤ ||A − A′|| ||x||   [submultiplicative]
    3. ||x|| ≤ R   [assumption]
    Composed: R e^{R²}.

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself evaluated through
    attnreg.reference.forms at 60 digits (n = 6, d = 4) at random admissible points — norms drawn up to and at
    the limits, near and far pairs — reporting the largest ratio measured / stated (_sample.bound_ratio).
"""
from __future__ import annotations

import sympy as sp

from ._core import Bound, Goal, Lemma, cite, given
from ._chains import DSA, logits_in_A
from .exp_lipschitz_box import DU as EXP_LIPSCHITZ_BOX_LHS, LEMMA as LOGIT
from .symbols import dA, ds, M, norm_x, quantity, R

DQ = quantity("‖u(A) − u(A′)‖", r"\|u(A)-u(A')\|")
BOUND = Bound(quantity="u", form="vector", kind="lipschitz", wrt="A", value=R * sp.exp(R ** 2),
              assume=("norm(A) <= R", "norm(x) <= R"), lemma="u_lipschitz_A")


def steps(n_, d):
    return [
        cite(LOGIT, {EXP_LIPSCHITZ_BOX_LHS: DQ, ds: DSA, M: R ** 2}, "s = Ax and s′ = A′x",
             discharge={"norm_inf(s) <= M": "logit_box"}),
        *logits_in_A(n_, d),
        given(norm_x, "<=", R, "norm(x) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("exp_lipschitz_box", "logit_box"),
              goal=Goal.of(BOUND, DQ, dA), bound=BOUND)
