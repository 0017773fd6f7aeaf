r"""Lemma f_deriv (softmax derivative, quotient rule): Df(x) = (diag(f) − f fᵀ) A, and D_A f[V] = (diag(f) − f fᵀ) V x.

Statement
    For f(x) = α(x)⁻¹ u(x) (u = exp(Ax), α = ⟨u, 1ₙ⟩) and J = diag(f) − f fᵀ (the softmax Jacobian):
        ∂f/∂x_k = f ∘ A[:, k] − ⟨f, A[:, k]⟩ f,   i.e.   Df(x) = J A;
    with x fixed, d/dt f(A + tV)|₀ = J V x. In the logits s = Ax: ∂f/∂s = J.

Check
    sympy at n = 3, d = 2 (slow: n ∈ {2, 3}, d ∈ {1, 2}); numeric: ctx.diff of the reference softmax along random
    directions at 60 digits, n = 6, d = 4.
"""
from __future__ import annotations

import sympy as sp

from ._core import Lemma, Step
from ._forms import jac, parts
from ._numeric import derivative_route
from ._ops import SYM, along
from .symbols import matrix, vector


def steps(n, d):
    A, x, V = matrix("A", n, d), vector("x", d), matrix("V", n, d)
    r = parts(SYM, A * x)
    u, a, f = r.u, r.alpha, r.f
    Df = f.jacobian(x)
    col = lambda k: A[:, k]  # noqa: E731
    quotient = sp.Matrix.hstack(*[u.diff(x[k]) / a - u * a.diff(x[k]) / a ** 2 for k in range(d)])
    return [
        Step("∂f/∂x_k = (∂u/∂x_k)/α − u (∂α/∂x_k)/α²", "quotient rule", Df, quotient),
        Step("∂f/∂x_k = f ∘ A[:,k] − ⟨f, A[:,k]⟩ f", "Lemmas u_deriv and alpha_deriv, divided by α", quotient,
             sp.Matrix.hstack(*[SYM.had(f, col(k)) - SYM.dot(f, col(k)) * f for k in range(d)]),
             uses=("u_deriv", "alpha_deriv")),
        Step("Df(x) = (diag(f) − f fᵀ) A", "collect step 2", Df, jac(SYM, f) * A),
        Step("d/dt f(A + tV)|₀ = (diag(f) − f fᵀ) V x", "the logits move by V x", along(f, A, V), jac(SYM, f) * V * x),
    ]


def numeric(ctx, rng):
    return derivative_route(ctx, rng, "f", lambda ops, r, A, v: jac(ops, r.f) * A * v,
                            lambda ops, r, V, x: jac(ops, r.f) * V * x)


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("u_deriv", "alpha_deriv"),
              sizes=((3, 2),), slow_sizes=((2, 1), (2, 2), (3, 1)))
