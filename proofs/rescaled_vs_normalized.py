r"""Lemma rescaled_vs_normalized (the rescaled and the normalized loss and their gradients): L_R = α² L_N;
∇L_R = α² ∇L_N + 2 α L_N Aᵀ u

Statement
    Vector form, both losses with the ½: L_R(x) = α(x)² L_N(x), and
        ∇L_R(x) = α(x)² ∇L_N(x) + 2 α(x) L_N(x) Aᵀ u(x).
    (So without a bound on x, L_R → 0 as α → 0 with no fit to b: the ball ||x|| ≤ R matters.)

Check
    sympy at n = 3, d = 2; numeric: attnreg.reference.forms.vector_loss_and_grad of
    both versions at 60 digits, n = 6, d = 4.
"""
from __future__ import annotations

import sympy as sp

from attnreg.reference import forms

from ._core import Lemma, Step
from ._forms import jac, p_rescaled, parts
from ._numeric import agree, vector_point
from ._ops import SYM, entries
from .symbols import matrix, vector


def steps(n, d):
    A, x, b = matrix("A", n, d), vector("x", d), vector("b", n)
    r = parts(SYM, A * x, b)
    LN, LR = SYM.dot(r.c, r.c) / 2, SYM.dot(r.h, r.h) / 2
    gN, gR = sp.Matrix([LN]).jacobian(x).T, sp.Matrix([LR]).jacobian(x).T
    ga = sp.Matrix([r.alpha]).jacobian(x).T
    return [
        Step("L_R = α² L_N", "Lemma h_alpha_c", LR, r.alpha ** 2 * LN, uses=("h_alpha_c",)),
        Step("∇L_R = α² ∇L_N + 2 α L_N ∇α", "product rule", gR, r.alpha ** 2 * gN + 2 * r.alpha * LN * ga),
        Step("∇L_R = α² ∇L_N + 2 α L_N Aᵀ u", "Lemma alpha_deriv", gR, r.alpha ** 2 * gN + 2 * r.alpha * LN * A.T * r.u,
             uses=("alpha_deriv",)),
        Step("Aᵀ(u∘h − ⟨h,b⟩u) = α² Aᵀ J c + α ||c||² Aᵀ u", "Lemmas grad_normalized and grad_rescaled",
             A.T * p_rescaled(SYM, r.u, r.h, b),
             r.alpha ** 2 * A.T * jac(SYM, r.f) * r.c + r.alpha * SYM.dot(r.c, r.c) * A.T * r.u,
             uses=("grad_normalized", "grad_rescaled")),
    ]


def numeric(ctx, rng):
    ops, A, b, x, r = vector_point(ctx, rng)
    LN, gN = forms.vector_loss_and_grad(ctx, A, b, x, "normalized")
    LR, gR = forms.vector_loss_and_grad(ctx, A, b, x, "rescaled")
    a = r.alpha
    want = entries(a ** 2 * ops.col(gN) + 2 * a * LN * ops.matrix(A).T * r.u)
    return agree(ctx, [([LR], [a ** 2 * LN]), (gR, want)],
                 "reference rescaled loss and gradient vs α² L_N and α² ∇L_N + 2 α L_N Aᵀu, n=6, d=4")


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric,
              requires=("h_alpha_c", "alpha_deriv", "grad_normalized", "grad_rescaled"),
              sizes=((3, 2),), shows=(1, 3))
