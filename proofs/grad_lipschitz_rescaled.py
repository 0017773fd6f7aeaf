r"""Lemma grad_lipschitz_rescaled (rescaled gradient is Lipschitz on the ball): Lip ≤ (3n + 3√n + 2) e^{2R²} R².

Statement
    For L_R(x) = ½ ||u(x) − α(x) b||² with ||A||₂ ≤ R, ||b||₂ ≤ 1 and x, y in the ball ||·||₂ ≤ R:
        ||∇L_R(x) − ∇L_R(y)||₂ ≤ (3n + 3√n + 2) e^{2R²} R² ||x − y||₂.
    The ball matters: L_R = α² L_N has no global Lipschitz gradient (Lemma rescaled_vs_normalized).

Check
    The chain and its side identities by sympy at n = 3, d = 2; numeric: the Bound itself evaluated through
    attnreg.reference.forms.vector_loss_and_grad at 60 digits (n = 6, d = 4) at random admissible pairs
    (_sample.bound_ratio).
"""
from __future__ import annotations

import sympy as sp

from ._chains import DSX, logits_in_x
from ._core import Bound, Goal, Lemma, Step, by, cite, given
from ._forms import p_rescaled, parts
from ._ops import SYM
from .exp_lipschitz_box import BOX
from .rescaled_grad_lipschitz_logits import LEMMA as LOGIT, Q as LQ
from .symbols import M, R, ds, dx, matrix, n, norm_A, norm_b, quantity, vector

DGRAD = quantity("‖∇L_R(x) − ∇L_R(y)‖", r"\|\nabla L_R(x)-\nabla L_R(y)\|")
DGS = quantity("‖G(Ax) − G(Ay)‖", r"\|G(Ax)-G(Ay)\|")
BOUND = Bound(quantity="grad", form="vector", kind="lipschitz", wrt="x",
              value=(3 * n + 3 * sp.sqrt(n) + 2) * sp.exp(2 * R ** 2) * R ** 2, version="rescaled",
              assume=("norm(A) <= R", "norm(x) <= R", "norm(b) <= 1"), lemma="grad_lipschitz_rescaled")


def steps(n_, d):
    A, x, b = matrix("A", n_, d), vector("x", d), vector("b", n_)
    p = parts(SYM, A * x, b)
    side = Step("∇L_R(z) = Aᵀ G(Az) at z = x and at z = y", "Lemma grad_rescaled; the difference follows",
                sp.Matrix([SYM.dot(p.h, p.h) / 2]).jacobian(x).T, A.T * p_rescaled(SYM, p.u, p.h, b),
                uses=("grad_rescaled",))
    return [
        by("submultiplicative", DGRAD, "<=", norm_A * DGS, "‖Aᵀw‖ ≤ ‖Aᵀ‖ ‖w‖ = ‖A‖ ‖w‖", side=(side,),
           uses=("grad_rescaled",)),
        cite(LOGIT, {LQ["DG"]: DGS, ds: DSX, M: R ** 2}, "s = Ax, s′ = Ay in the box of radius R²",
             discharge={BOX: "logit_box"}),
        *logits_in_x(n_, d),
        given(norm_b, "<=", 1, "norm(b) <= 1"),
        given(norm_A, "<=", R, "norm(A) <= R"),
    ]


LEMMA = Lemma(doc=__doc__, steps=steps, requires=("grad_rescaled", "rescaled_grad_lipschitz_logits", "logit_box"),
              goal=Goal.of(BOUND, DGRAD, dx), bound=BOUND)
