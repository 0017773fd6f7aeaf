r"""Lemma hessian_normalized (Hessian of the normalized vector loss): ∇²L_N(x) = Aᵀ K_N A.

Statement
    In the logits s = Ax, with f, c = f − b, w = f + c, J = diag(f) − f fᵀ, the row Hessian is
        K_N[k, l] = ∂²ℓ_N/∂s_k∂s_l = J[k, l] (w_k − ⟨f, c⟩) − f_k f_l (w_l − ⟨f, w⟩),
    and ∇²L_N(x) = Aᵀ K_N(Ax) A (K_N is symmetric).

Check
    sympy: the logit Hessian and the chain rule end to end at n = 2, d = 2 (slow tier: n = 3, d = 2 and
    n ∈ {2, 3}, d = 1); numeric: ctx.diff of the reference gradient along a random direction at 60 digits,
    n = 6, d = 4, against Aᵀ K_N A v.
"""
from __future__ import annotations

import sympy as sp

from ._core import Lemma, Step
from ._forms import k_normalized, p_normalized, parts
from ._numeric import hessian_route
from ._ops import SYM
from .symbols import matrix, vector


def steps(n, d):
    A, x, b, s = matrix("A", n, d), vector("x", d), vector("b", n), vector("s", n)
    rs, r = parts(SYM, s, b), parts(SYM, A * x, b)
    K = k_normalized(SYM, rs.f, rs.c)
    grad = sp.Matrix([SYM.dot(r.c, r.c) / 2]).jacobian(x)
    return [
        Step("∂p_N/∂s = K_N", "Lemma grad_normalized (logit form) and Lemma f_deriv, product rule",
             p_normalized(SYM, rs.f, rs.c).jacobian(s), K, uses=("grad_normalized", "f_deriv")),
        Step("K_N = K_Nᵀ", "second derivatives commute", K, K.T),
        Step("∇²L_N(x) = Aᵀ K_N(Ax) A", "chain rule for s = Ax", grad.jacobian(x),
             A.T * k_normalized(SYM, r.f, r.c) * A),
    ]


def numeric(ctx, rng):
    return hessian_route(ctx, rng, "normalized", lambda ops, r, A: A.T * k_normalized(ops, r.f, r.c) * A)


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("grad_normalized", "f_deriv"),
              sizes=((2, 2),), slow_sizes=((3, 2), (2, 1), (3, 1)))
