r"""Lemma grad_rescaled (gradient of the rescaled vector loss): ∇L_R(x) = Aᵀ (u ∘ h − ⟨h, b⟩ u).

Statement
    For L_R(x) = ½ ||u(x) − α(x) b||² (with the ½) and h = u − α b:
        ∇L_R(x) = Aᵀ (diag(u) − u bᵀ) h = Aᵀ (u ∘ h − ⟨h, b⟩ u).
    In the logits s = Ax the row gradient is p_R(s) = u ∘ h − ⟨h, b⟩ u.

Check
    sympy at n = 3, d = 2 (slow: n ∈ {2, 3}, d ∈ {1, 2}); numeric: ctx.diff of attnreg.reference.forms.vector_loss at
    60 digits along each coordinate, n = 6, d = 4.
"""
from __future__ import annotations

import sympy as sp

from ._core import Lemma, Step
from ._forms import p_rescaled, parts
from ._numeric import gradient_route
from ._ops import SYM
from .symbols import matrix, vector


def steps(n, d):
    A, x, b, s = matrix("A", n, d), vector("x", d), vector("b", n), vector("s", n)
    r = parts(SYM, A * x, b)
    h, u = r.h, r.u
    grad = sp.Matrix([SYM.dot(h, h) / 2]).jacobian(x).T
    rs = parts(SYM, s, b)
    return [
        Step("∂L_R/∂x_k = ⟨h, ∂h/∂x_k⟩", "product rule", grad, sp.Matrix(d, 1, lambda k, _: SYM.dot(h, h.diff(x[k])))),
        Step("∇L_R(x) = Aᵀ (diag(u) − u bᵀ) h", "Lemma h_deriv: ∂h/∂x_k = (diag(u) − b uᵀ) A[:,k]", grad,
             A.T * (SYM.diag(u) - u * b.T) * h, uses=("h_deriv",)),
        Step("∇L_R(x) = Aᵀ (u ∘ h − ⟨h, b⟩ u)", "(diag(u) − u bᵀ) h = u ∘ h − ⟨b, h⟩ u", grad,
             A.T * p_rescaled(SYM, u, h, b)),
        Step("p_R(s) = ∂ℓ_R/∂s = u ∘ h − ⟨h, b⟩ u", "step 3 with A = I",
             sp.Matrix([SYM.dot(rs.h, rs.h) / 2]).jacobian(s).T,
             p_rescaled(SYM, rs.u, rs.h, b)),
    ]


def numeric(ctx, rng):
    return gradient_route(ctx, rng, "rescaled", lambda ops, r, A: A.T * p_rescaled(ops, r.u, r.h, r.b))


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("h_deriv",),
              sizes=((3, 2),), slow_sizes=((2, 1), (2, 2), (3, 1)))
