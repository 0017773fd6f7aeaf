r"""Lemma u_deriv (derivative of u): Du(x) = diag(u(x)) A, and in the data D_A u[V] = u ∘ (V x).

Statement
    For u(x) = exp(Ax) (entrywise), A ∈ R^{n×d}, x ∈ R^d:
        ∂u_i/∂x_k = u_i A[i, k],  i.e.  Du(x) = diag(u(x)) A;
    and with x fixed, the derivative in A along a direction V ∈ R^{n×d} is
        d/dt u(A + tV)|_{t=0} = u ∘ (V x).

Check
    sympy at n = 3, d = 2 (slow: n ∈ {2, 3}, d ∈ {1, 2}); numeric: ctx.diff of attnreg.reference.forms.vector_blocks
    along random directions at 60 digits, n = 6, d = 4.
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
    u = parts(SYM, A * x).u
    return [
        Step("∂u_i/∂x_k = u_i A[i,k]", "chain rule, exp′ = exp", u.jacobian(x),
             sp.Matrix(n, d, lambda i, k: u[i] * A[i, k])),
        Step("Du(x) = diag(u) A", "collect step 1", sp.Matrix(n, d, lambda i, k: u[i] * A[i, k]), SYM.diag(u) * A),
        Step("d/dt u(A + tV)|₀ = u ∘ (V x)", "∂u_i/∂A[j,k] = δ_ij u_i x_k", along(u, A, V), SYM.had(u, V * x)),
    ]


def numeric(ctx, rng):
    return derivative_route(ctx, rng, "u", lambda ops, r, A, v: ops.diag(r.u) * A * v,
                            lambda ops, r, V, x: ops.had(r.u, V * x))


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, sizes=((3, 2),), slow_sizes=((2, 1), (2, 2), (3, 1)))
