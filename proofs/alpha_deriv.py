r"""Lemma alpha_deriv (derivative of α): ∇α(x) = Aᵀ u(x), and in the data D_A α[V] = ⟨u, V x⟩.

Statement
    For α(x) = ⟨exp(Ax), 1ₙ⟩: ∇α(x) = Aᵀ u(x) (u = exp(Ax)); with x fixed, the derivative in A
    along V is ⟨u, V x⟩.

Check
    sympy at n = 3, d = 2 (slow: n ∈ {2, 3}, d ∈ {1, 2}); numeric: ctx.diff of the reference α along random
    directions at 60 digits, n = 6, d = 4.
"""
from __future__ import annotations

import sympy as sp

from ._core import Lemma, Step
from ._forms import parts
from ._numeric import derivative_route
from ._ops import SYM, along
from .symbols import matrix, vector


def steps(n, d):
    A, x, V = matrix("A", n, d), vector("x", d), matrix("V", n, d)
    r = parts(SYM, A * x)
    grad = sp.Matrix([r.alpha]).jacobian(x).T
    return [
        Step("∂α/∂x_k = Σ_i u_i A[i,k]", "α = Σ_i u_i and Lemma u_deriv", grad,
             sp.Matrix(d, 1, lambda k, _: sum(r.u[i] * A[i, k] for i in range(n))), uses=("u_deriv",)),
        Step("∇α(x) = Aᵀ u", "collect step 1", grad, A.T * r.u),
        Step("d/dt α(A + tV)|₀ = ⟨u, V x⟩", "⟨1ₙ, u ∘ (V x)⟩ by Lemma u_deriv", along(r.alpha, A, V),
             SYM.dot(r.u, V * x), uses=("u_deriv",)),
    ]


def numeric(ctx, rng):
    return derivative_route(ctx, rng, "alpha", lambda ops, r, A, v: ops.dot(A.T * r.u, v),
                            lambda ops, r, V, x: ops.dot(r.u, V * x))


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("u_deriv",),
              sizes=((3, 2),), slow_sizes=((2, 1), (2, 2), (3, 1)))
