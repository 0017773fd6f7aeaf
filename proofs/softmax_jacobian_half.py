r"""Lemma softmax_jacobian_half (softmax Jacobian bound): ‖diag(f) − f fᵀ‖ ≤ 1/2

Statement
    For every f ∈ Rⁿ with f ≥ 0 and Σ_i f_i = 1 — in particular f = softmax(s) for any logits s — the
    softmax Jacobian J = diag(f) − f fᵀ (Lemma f_deriv: ∂f/∂s = J) satisfies ||J||₂ ≤ ½, for every n.
    The constant is attained: f = (½, ½, 0, …, 0) gives the eigenvalue ½ on (1, −1, 0, …, 0).

Check
    Side identities by sympy at n = 3 with f = u/Σu, u_i > 0 symbols, so that sympy itself takes the absolute
    values |J_ij| of the factored entries; this covers every f > 0, and a probability vector with
    zeros is a limit of those, where both sides of each identity are continuous. Numeric: eigenvalues
    (mpmath eigsy, 60 digits) of J at softmax vectors from attnreg.reference.forms.vector_blocks (n = 8,
    random logits and near-extremal ones, s = (0, 0, −60, …)); the largest ratio ||J||/½ is reported.
"""
from __future__ import annotations

import sympy as sp

from attnreg.reference import forms

from ._core import Goal, Lemma, Step, by
from ._forms import jac
from ._numeric import rand_vector, within
from ._ops import SYM, MpOps
from .symbols import quantity

NJ = quantity("‖diag(f) − f fᵀ‖", r"\|\operatorname{diag}(f)-ff^\top\|")
ROWSUM = quantity("max_i Σ_j |J_ij|", r"\max_i\sum_j|J_{ij}|")
PEAK = quantity("max_i 2 f_i (1 − f_i)", r"\max_i 2f_i(1-f_i)")


def steps(n, d):
    u = sp.Matrix(n, 1, lambda i, _: sp.Symbol(f"u_{i}", positive=True))
    f = u / sum(u)  # every probability vector with f > 0 (f = softmax(log u))
    J, t = jac(SYM, f), sp.Symbol("t", real=True)
    # |J_ij| of the factored entries: sympy decides each sign from u > 0 (J_ii ≥ 0, J_ij ≤ 0 for i ≠ j)
    rows = sp.Matrix([sum(sp.Abs(sp.factor(J[i, j])) for j in range(n)) for i in range(n)])
    return [
        by("schur_test", NJ, "<=", ROWSUM, "J is symmetric", side=(Step("J = Jᵀ", "diag(f) − f fᵀ", J, J.T),)),
        by("identity", ROWSUM, "=", PEAK, "J_ii = f_i(1 − f_i) ≥ 0 and J_ij = −f_i f_j ≤ 0 for i ≠ j (rule "
           "probability), so Σ_j |J_ij| = J_ii − Σ_{j≠i} J_ij",
           side=(Step("Σ_j |J_ij| = 2 f_i (1 − f_i)", "f = u/Σu with u > 0; Σ_{j≠i} f_j = 1 − f_i", rows,
                      sp.Matrix([2 * f[i] * (1 - f[i]) for i in range(n)])),)),
        by("square_nonnegative", PEAK, "<=", sp.Rational(1, 2), "½ − 2t(1 − t) = 2(t − ½)² ≥ 0 with t = f_i",
           side=(Step("½ − 2t(1 − t) = 2(t − ½)²", "expand", sp.Rational(1, 2) - 2 * t * (1 - t),
                      2 * (t - sp.Rational(1, 2)) ** 2),)),
    ]


def numeric(ctx, rng):
    ops, n, ratios = MpOps(ctx), 8, []
    eye = [[ctx.one if i == j else ctx.zero for j in range(n)] for i in range(n)]
    logits = [rand_vector(ctx, rng, n, rng.uniform(0.1, 5)) for _ in range(10)]
    logits += [[ctx.mpf(rng.gauss(0, 0.01)), ctx.mpf(rng.gauss(0, 0.01))] + [ctx.mpf(-60)] * (n - 2) for _ in range(3)]
    for s in logits:
        f = ops.col(forms.vector_blocks(ctx, eye, s)["f"])
        eig = ctx.eigsy(jac(ops, f), eigvals_only=True)
        ratios.append(max(abs(e) for e in eig) / ctx.mpf(0.5))
    return within(ctx, ratios,
                  "||J||₂ by mpmath eigsy at reference softmax vectors (n=8), random and near (½, ½, 0, …)")


LEMMA = Lemma(doc=__doc__, steps=steps, numeric=numeric, goal=Goal(NJ, "<=", sp.Rational(1, 2)),
              )
