r"""Lemma u_lipschitz_x (u is Lipschitz in x): ||u(x) − u(y)|| ≤ R e^{R²} ||x − y||₂ on the ball ||x|| ≤ R.

Statement
    With A fixed, for all admissible x, y (||A|| ≤ R and ||x||, ||y|| ≤ R):
        ||u(x) − u(y)|| ≤ R e^{R²} ||x − y||₂.

Derivation
    1. With s = Ax, s′ = Ay: ||exp(s) − exp(s′)|| ≤ e^M ||s − s′|| on the box (Lemma exp_lipschitz_box); the box
       radius is M = R² (Lemma logit_box)   [lemma]
    2. Ax − Ay = A(x − y), so ||Ax − Ay|| ≤ ||A|| ||x − y||   [submultiplicative]
    3. ||A|| ≤ R   [assumption]
    Composed: R e^{R²}.

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself evaluated through
    attnreg.reference.forms at 60 digits (n = 6, d = 4) at random admissible points — norms drawn up to and at
    the limits, near and far pairs — reporting the largest ratio measured / stated (_sample.bound_ratio).
"""
from __future__ import annotations

import sympy as sp

from ._core import Bound, Goal, Lemma, cite, given
from ._chains import DSX, logits_in_x
from .exp_lipschitz_box import DU as EXP_LIPSCHITZ_BOX_LHS, LEMMA as LOGIT
from .symbols import ds, dx, M, norm_A, quantity, R

DQ = quantity("‖u(x) − u(y)‖", r"\|u(x)-u(y)\|")
BOUND = Bound(quantity="u", form="vector", kind="lipschitz", wrt="x", value=R * sp.exp(R ** 2),
              assume=("norm(A) <= R", "norm(x) <= R"), lemma="u_lipschitz_x")


def steps(n_, d):
    return [
        cite(LOGIT, {EXP_LIPSCHITZ_BOX_LHS: DQ, ds: DSX, M: R ** 2}, "s = Ax and s′ = Ay",
             discharge={"norm_inf(s) <= M": "logit_box"}),
        *logits_in_x(n_, d),
        given(norm_A, "<=", R, "norm(A) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("exp_lipschitz_box", "logit_box"),
              goal=Goal.of(BOUND, DQ, dx), bound=BOUND)
