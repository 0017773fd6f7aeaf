r"""Lemma hessian_rescaled (Hessian of the rescaled vector loss): ∇²L_R(x) = Aᵀ K_R A.

Statement
    In the logits s = Ax, with u = exp(s), h = u − α b, the row Hessian is
        K_R[k, l] = δ_kl u_l (h_l + u_l − ⟨h, b⟩) − u_k u_l (b_k + b_l − ||b||²),
    and ∇²L_R(x) = Aᵀ K_R(Ax) A (K_R is symmetric).

Check
    sympy: the logit Hessian and the chain rule end to end at n = 2, d = 2 (slow tier: n = 3, d = 2 and
    n ∈ {2, 3}, d = 1); numeric: ctx.diff of the reference gradient along a random direction at 60 digits,
    n = 6, d = 4, against Aᵀ K_R A v.
"""
from __future__ import annotations

import sympy as sp

from ._core import Lemma, Step
from ._forms import k_rescaled, p_rescaled, parts
from ._numeric import hessian_route
from ._ops import SYM
from .symbols import matrix, vector


def steps(n, d):
    A, x, b, s = matrix("A", n, d), vector("x", d), vector("b", n), vector("s", n)
    rs, r = parts(SYM, s, b), parts(SYM, A * x, b)
    K = k_rescaled(SYM, rs.u, rs.h, b)
    grad = sp.Matrix([SYM.dot(r.h, r.h) / 2]).jacobian(x)
    return [
        Step("∂p_R/∂s = K_R", "Lemma grad_rescaled (logit form), Lemmas u_deriv and h_deriv, product rule",
             p_rescaled(SYM, rs.u, rs.h, b).jacobian(s), K, uses=("grad_rescaled", "u_deriv", "h_deriv")),
        Step("K_R = K_Rᵀ", "second derivatives commute", K, K.T),
        Step("∇²L_R(x) = Aᵀ K_R(Ax) A", "chain rule for s = Ax", grad.jacobian(x),
             A.T * k_rescaled(SYM, r.u, r.h, b) * A),
    ]


def numeric(ctx, rng):
    return hessian_route(ctx, rng, "rescaled", lambda ops, r, A: A.T * k_rescaled(ops, r.u, r.h, r.b) * A)


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("grad_rescaled", "u_deriv", "h_deriv"),
              sizes=((2, 2),), slow_sizes=((3, 2), (2, 1), (3, 1)))
