r"""Lemma grad_lipschitz_normalized (normalized gradient is Lipschitz): Lip ≤ 3.25 R² for ||A|| ≤ R, ||b|| ≤ 1.

Statement
    For L_N(x) = ½ ||f(x) − b||² with ||A||₂ ≤ R and ||b||₂ ≤ 1, for all x, y ∈ R^d (no ball, no n, no exp):
        ||∇L_N(x) − ∇L_N(y)||₂ ≤ (13/4) R² ||x − y||₂.
    (With the paper-style objective 2·L_N the constant doubles: loss_scale "full".)

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself evaluated through
    attnreg.reference.forms.vector_loss_and_grad at 60 digits (n = 6, d = 4) at random admissible pairs
    (_sample.bound_ratio).
"""
from __future__ import annotations

import sympy as sp

from ._chains import DSX, logits_in_x
from ._core import Bound, Goal, Lemma, Step, by, cite, given
from ._forms import p_normalized, parts
from ._ops import SYM
from .normalized_grad_lipschitz_logits import LEMMA as LOGIT, Q as LQ
from .symbols import R, ds, dx, matrix, norm_A, norm_b, quantity, vector

DGRAD = quantity("‖∇L_N(x) − ∇L_N(y)‖", r"\|\nabla L_N(x)-\nabla L_N(y)\|")
DGS = quantity("‖g(Ax) − g(Ay)‖", r"\|g(Ax)-g(Ay)\|")
BOUND = Bound(quantity="grad", form="vector", kind="lipschitz", wrt="x", value=sp.Rational(13, 4) * R ** 2,
              version="normalized", assume=("norm(A) <= R", "norm(b) <= 1"), lemma="grad_lipschitz_normalized")


def steps(n, d):
    A, x, b = matrix("A", n, d), vector("x", d), vector("b", n)
    p = parts(SYM, A * x, b)
    side = Step("∇L_N(z) = Aᵀ g(Az) at z = x and at z = y", "Lemma grad_normalized; the difference follows",
                sp.Matrix([SYM.dot(p.c, p.c) / 2]).jacobian(x).T, A.T * p_normalized(SYM, p.f, p.c),
                uses=("grad_normalized",))
    return [
        by("submultiplicative", DGRAD, "<=", norm_A * DGS, "‖Aᵀw‖ ≤ ‖Aᵀ‖ ‖w‖ = ‖A‖ ‖w‖", side=(side,),
           uses=("grad_normalized",)),
        cite(LOGIT, {LQ["DG"]: DGS, ds: DSX}, "s = Ax, s′ = Ay; no box needed"),
        *logits_in_x(n, d),
        given(norm_b, "<=", 1, "norm(b) <= 1"),
        given(norm_A, "<=", R, "norm(A) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("grad_normalized", "normalized_grad_lipschitz_logits"),
              goal=Goal.of(BOUND, DGRAD, dx), bound=BOUND)
