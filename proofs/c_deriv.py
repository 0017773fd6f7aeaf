r"""Lemma c_deriv (derivative of c): Dc(x) = (diag(f) − f fᵀ) A and D_A c[V] = (diag(f) − f fᵀ) V x.

Statement
    For the normalized residual c(x) = f(x) − b (b fixed): Dc = Df = J A with J = diag(f) − f fᵀ, and
    with x fixed, d/dt c(A + tV)|₀ = J V x.

Check
    sympy at n = 3, d = 2 (slow: n ∈ {2, 3}, d ∈ {1, 2}); numeric: ctx.diff of the reference c along random
    directions at 60 digits, n = 6, d = 4.
"""
from __future__ import annotations

from ._core import Lemma, Step
from ._forms import jac, parts
from ._numeric import derivative_route
from ._ops import SYM, along
from .symbols import matrix, vector


def steps(n, d):
    A, x, V, b = matrix("A", n, d), vector("x", d), matrix("V", n, d), vector("b", n)
    r = parts(SYM, A * x, b)
    return [
        Step("Dc(x) = Df(x)", "b is constant", r.c.jacobian(x), r.f.jacobian(x)),
        Step("Dc(x) = (diag(f) − f fᵀ) A", "Lemma f_deriv", r.c.jacobian(x), jac(SYM, r.f) * A, uses=("f_deriv",)),
        Step("d/dt c(A + tV)|₀ = (diag(f) − f fᵀ) V x", "Lemma f_deriv", along(r.c, A, V), jac(SYM, r.f) * V * x,
             uses=("f_deriv",)),
    ]


def numeric(ctx, rng):
    return derivative_route(ctx, rng, "c", lambda ops, r, A, v: jac(ops, r.f) * A * v,
                            lambda ops, r, V, x: jac(ops, r.f) * V * x)


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, requires=("f_deriv",),
              sizes=((3, 2),), slow_sizes=((2, 1), (2, 2), (3, 1)))
