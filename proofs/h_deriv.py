r"""Lemma h_deriv (derivative of h): Dh(x) = (diag(u) − b uᵀ) A and D_A h[V] = (diag(u) − b uᵀ) V x.

Statement
    For the rescaled residual h(x) = u(x) − α(x) b (b fixed):
        ∂h/∂x_k = u ∘ A[:, k] − ⟨u, A[:, k]⟩ b,   i.e.   Dh(x) = (diag(u) − b uᵀ) A;
    with x fixed, d/dt h(A + tV)|₀ = (diag(u) − b uᵀ) V x.

Check
    sympy at n = 3, d = 2 (slow: n ∈ {2, 3}, d ∈ {1, 2}); numeric: ctx.diff of the reference h along random
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
    A, x, V, b = matrix("A", n, d), vector("x", d), matrix("V", n, d), vector("b", n)
    r = parts(SYM, A * x, b)
    Dh = r.h.jacobian(x)
    return [
        Step("Dh = Du − b ∇αᵀ", "b is constant", Dh, r.u.jacobian(x) - b * sp.Matrix([r.alpha]).jacobian(x)),
        Step("Dh(x) = diag(u) A − b uᵀ A", "Lemmas u_deriv and alpha_deriv", Dh, SYM.diag(r.u) * A - b * r.u.T * A,
             uses=("u_deriv", "alpha_deriv")),
        Step("d/dt h(A + tV)|₀ = (diag(u) − b uᵀ) V x", "the logits move by V x", along(r.h, A, V),
             (SYM.diag(r.u) - b * r.u.T) * V * x),
    ]


def numeric(ctx, rng):
    J = lambda ops, r: ops.diag(r.u) - r.b * r.u.T  # noqa: E731
    return derivative_route(ctx, rng, "h", lambda ops, r, A, v: J(ops, r) * A * v, lambda ops, r, V,
                            x: J(ops, r) * V * x)


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("u_deriv", "alpha_deriv"),
              sizes=((3, 2),), slow_sizes=((2, 1), (2, 2), (3, 1)))
