r"""Lemma grad_normalized (gradient of the normalized vector loss): ∇L_N(x) = Aᵀ (diag(f) − f fᵀ) c.

Statement
    For L_N(x) = ½ ||f(x) − b||² (with the ½, docs/design.md §2) and c = f − b, J = diag(f) − f fᵀ:
        ∇L_N(x) = Aᵀ J c = Aᵀ (f ∘ c − ⟨f, c⟩ f).
    In the logits s = Ax the row gradient is p_N(s) = ∂ℓ_N/∂s = J c = f ∘ c − ⟨f, c⟩ f.

Check
    sympy at n = 3, d = 2 (slow: n ∈ {2, 3}, d ∈ {1, 2}); numeric: ctx.diff of attnreg.reference.forms.vector_loss at
    60 digits along each coordinate, n = 6, d = 4.
"""
from __future__ import annotations

import sympy as sp

from ._core import Lemma, Step
from ._forms import jac, p_normalized, parts
from ._numeric import gradient_route
from ._ops import SYM
from .symbols import matrix, vector


def steps(n, d):
    A, x, b, s = matrix("A", n, d), vector("x", d), vector("b", n), vector("s", n)
    r = parts(SYM, A * x, b)
    J, c, f = jac(SYM, r.f), r.c, r.f
    L = SYM.dot(c, c) / 2
    grad = sp.Matrix([L]).jacobian(x).T
    rs = parts(SYM, s, b)
    return [
        Step("∂L_N/∂x_k = ⟨c, ∂c/∂x_k⟩", "product rule", grad, sp.Matrix(d, 1, lambda k, _: SYM.dot(c, c.diff(x[k])))),
        Step("∂L_N/∂x_k = ⟨c, J A[:,k]⟩", "Lemma c_deriv", grad, sp.Matrix(d, 1, lambda k, _: SYM.dot(c, J * A[:, k])),
             uses=("c_deriv",)),
        Step("J = Jᵀ", "diag(f) − f fᵀ is symmetric", J, J.T),
        Step("∇L_N(x) = Aᵀ (f ∘ c − ⟨f, c⟩ f)", "J c = f ∘ c − ⟨f, c⟩ f", grad,
             A.T * (SYM.had(f, c) - SYM.dot(f, c) * f)),
        Step("p_N(s) = ∂ℓ_N/∂s = J c", "step 3 with A = I", sp.Matrix([SYM.dot(rs.c, rs.c) / 2]).jacobian(s).T,
             p_normalized(SYM, rs.f, rs.c)),
    ]


def numeric(ctx, rng):
    return gradient_route(ctx, rng, "normalized", lambda ops, r, A: A.T * (jac(ops, r.f) * r.c))


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("c_deriv",),
              sizes=((3, 2),), slow_sizes=((2, 1), (2, 2), (3, 1)))
