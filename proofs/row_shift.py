r"""Lemma row_shift (shift of the logits): f(s + t1) = f(s); h(s + t1) = eᵗ h(s); (diag f − f fᵀ) 1 = 0; K_N 1 = 0

Statement
    For logits s ∈ Rⁿ and t ∈ R:  u(s + t1) = eᵗ u(s), α(s + t1) = eᵗ α(s), so
        f(s + t1) = f(s),   ℓ_N(s + t1) = ℓ_N(s),   h(s + t1) = eᵗ h(s),   ℓ_R(s + t1) = e^{2t} ℓ_R(s).
    Differentiating in t: J 1 = 0 (J = diag f − f fᵀ) and K_N 1 = 0, so 1 spans a null direction of the
    normalized row Hessian. In matrix form each row of S may be shifted by its own t_j. The normalized
    production path relies on this (subtract the row max before exp); the rescaled loss has no such
    invariance (it scales by e^{2t_j} per row).

Check
    sympy at n = 3 with t a free symbol; numeric: attnreg.reference.forms.vector_blocks with
    A = I at s and s + t1, 60 digits, n = 8.
"""
from __future__ import annotations

import sympy as sp

from attnreg.reference import forms

from ._core import Lemma, Step
from ._forms import LOSS, jac, k_normalized, parts
from ._numeric import agree, rand_vector
from ._ops import SYM
from .symbols import vector


def steps(n, d):
    s, b, t = vector("s", n), vector("b", n), sp.Symbol("t", real=True)
    r, q = parts(SYM, s, b), parts(SYM, s + t * SYM.ones(n), b)
    return [
        Step("u(s + t1) = eᵗ u(s)", "exp(s_i + t) = eᵗ exp(s_i)", q.u, sp.exp(t) * r.u),
        Step("α(s + t1) = eᵗ α(s)", "sum of step 1", q.alpha, sp.exp(t) * r.alpha),
        Step("f(s + t1) = f(s)", "eᵗ cancels in u/α", q.f, r.f),
        Step("ℓ_N(s + t1) = ℓ_N(s)", "c = f − b", LOSS["normalized"](SYM, q), LOSS["normalized"](SYM, r)),
        Step("h(s + t1) = eᵗ h(s)", "h = u − α b", q.h, sp.exp(t) * r.h),
        Step("ℓ_R(s + t1) = e^{2t} ℓ_R(s)", "step 5", LOSS["rescaled"](SYM, q),
             sp.exp(2 * t) * LOSS["rescaled"](SYM, r)),
        Step("(diag f − f fᵀ) 1 = 0", "⟨f, 1⟩ = 1", jac(SYM, r.f) * SYM.ones(n), sp.zeros(n, 1)),
        Step("K_N 1 = 0", "ℓ_N is constant along 1", k_normalized(SYM, r.f, r.c) * SYM.ones(n), sp.zeros(n, 1)),
    ]


def numeric(ctx, rng):
    n = 8
    eye = [[ctx.one if i == j else ctx.zero for j in range(n)] for i in range(n)]
    s, b, t = rand_vector(ctx, rng, n, 2), rand_vector(ctx, rng, n, 0.4), ctx.mpf(rng.uniform(-3, 3))
    p, q = forms.vector_blocks(ctx, eye, s, b), forms.vector_blocks(ctx, eye, [v + t for v in s], b)
    lN = lambda z: forms.vector_loss(ctx, eye, b, z, "normalized")  # noqa: E731
    lR = lambda z: forms.vector_loss(ctx, eye, b, z, "rescaled")  # noqa: E731
    st = [v + t for v in s]
    return agree(ctx, [(q["f"], p["f"]), (q["h"], [ctx.exp(t) * v for v in p["h"]]), ([lN(st)], [lN(s)]),
                       ([lR(st)], [ctx.exp(2 * t) * lR(s)])],
                 "reference f, h, ℓ_N, ℓ_R at s + t1 vs the shifted forms, n=8, t in [-3, 3]")


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, shows=(3, 5, 7, 8))
