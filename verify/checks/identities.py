"""Identities of docs/design.md §2 as cross-checks between conventions, versions and paths.

* tensor trick, exactly (Python fractions): ``vec_row(A1 X A2ᵀ) = (A1 ⊗ A2) vec_row(X)``,
  ``vec_col(A1 X A2ᵀ) = (A2 ⊗ A1) vec_col(X)``, block j of ``A1 ⊗ A2`` gives row j; the production
  ``kron_operator`` (matvec, rmatvec, dense) agrees with them; and the classic mix-up (column-major vec
  with ``A1 ⊗ A2``) is detected as false;
* ``h = α c``, ``L_R = α² L_N``, ``∇L_R = α² ∇L_N + 2 α L_N Aᵀu`` (vector form, 50 digits);
* shift invariance: ``L_N`` is unchanged by ``X → X + z wᵀ`` when ``A2 w = 1ₙ`` (every row of ``S``
  moves by a constant), the Hessian is singular along ``vec(z wᵀ)``, and ``L_R`` scales by
  ``e^{2t}`` per row instead (vector form with ``A = [A0 | 1]``).
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

import attnreg
from attnreg.reference import forms, make_context
from attnreg.reference._inputs import matrix_inputs, vector_inputs

from ..errormodel import matrix_bounds
from ..registry import Result, check
from ..tolerances import tol

REL = 10.0 ** -(50 - tol("reference.digits").factor)  # agreement to 45 digits at 50-digit evaluation
U = 2.0**-53


def _frac(M):
    return [[Fraction(float(v)) for v in row] for row in np.atleast_2d(M)]


def _mm(P, Q):
    return [[sum(p * q for p, q in zip(row, col)) for col in zip(*Q)] for row in P]


def _kron(P, Q):
    return [[p * q for p in prow for q in qrow] for prow in P for qrow in Q]


def _vec(M, order):
    return [v for row in (M if order == "row" else [list(c) for c in zip(*M)]) for v in row]


@check("identity.tensor_trick", claim="vec_row(A1 X A2ᵀ) = (A1⊗A2) vec_row(X) and vec_col(A1 X A2ᵀ) = (A2⊗A1) "
       "vec_col(X) exactly, block j of A1⊗A2 gives row j, kron_operator agrees, and column-major vec with A1⊗A2 "
       "is detected as false", evidence="confirmed")
def tensor_trick(*, seed):
    rng = np.random.default_rng(seed)
    failures = []
    for n1, n2, d1, d2 in [(3, 4, 2, 3), (2, 2, 2, 2), (5, 3, 1, 2)]:
        A1, A2, X = rng.standard_normal((n1, d1)), rng.standard_normal((n2, d2)), rng.standard_normal((d1, d2))
        F1, F2, FX = _frac(A1), _frac(A2), _frac(X)
        S = _mm(_mm(F1, FX), [list(c) for c in zip(*F2)])
        K12, K21 = _kron(F1, F2), _kron(F2, F1)
        apply = lambda K, x: [sum(k * v for k, v in zip(row, x)) for row in K]  # noqa: E731
        if apply(K12, _vec(FX, "row")) != _vec(S, "row"):
            failures.append("row-major with A1⊗A2")
        if apply(K21, _vec(FX, "col")) != _vec(S, "col"):
            failures.append("column-major with A2⊗A1")
        if any(apply(K12[j * n2:(j + 1) * n2], _vec(FX, "row")) != S[j] for j in range(n1)):
            failures.append("block j gives row j")
        if d1 == d2 and n1 == n2 and apply(K12, _vec(FX, "col")) == _vec(S, "col"):
            failures.append("the wrong pairing (column-major with A1⊗A2) was not detected")
        for order in ("row", "col"):
            op = attnreg.kron_operator(A1, A2, order=order)
            x, y = attnreg.vec(X, order), rng.standard_normal(n1 * n2)
            dense = op.dense()
            scale = np.abs(dense) @ np.abs(x)
            exact = np.asarray(_vec(S, order), dtype=float)
            k = d1 + d2  # the longest chain of sums in A1 X A2ᵀ
            if not np.all(np.abs(op.matvec(x) - exact) <= tol("identity.float64").factor * U * (k + 1) * scale):
                failures.append(f"kron_operator.matvec ({order})")
            if not np.array_equal(dense, np.kron(A1, A2) if order == "row" else np.kron(A2, A1)):
                failures.append(f"kron_operator.dense ({order})")
            k = d1 + d2 + n1 * n2  # a product as above, then an inner product of length n1·n2
            terms = np.abs(x) @ np.abs(dense).T @ np.abs(y)
            if abs(op.matvec(x) @ y - x @ op.rmatvec(y)) > tol("identity.float64").factor * U * (k + 1) * terms:
                failures.append(f"kron_operator adjoint ({order})")
    return Result.of(not failures, detail="exact rational arithmetic on 3 random shapes; production operator "
                     "within the identity.float64 tolerance" + (f"; FAILED: {', '.join(failures)}" if failures else ""))


@check("identity.rescaled_eq_alpha2_normalized", claim="h = α c, L_R = α² L_N and ∇L_R = α²∇L_N + 2αL_N Aᵀu "
       "(vector form) at 50 digits", evidence="confirmed")
def rescaled_vs_normalized(*, seed):
    rng = np.random.default_rng(seed)
    ctx = make_context(60)
    worst = ctx.zero
    for n, d in [(4, 2), (7, 3), (1, 2)]:
        A, b, x = vector_inputs(ctx, rng.standard_normal((n, d)), rng.dirichlet(np.ones(n)), rng.standard_normal(d) * 2)
        blk = forms.vector_blocks(ctx, A, x, b)
        LN, gN = forms.vector_loss_and_grad(ctx, A, b, x, "normalized")
        LR, gR = forms.vector_loss_and_grad(ctx, A, b, x, "rescaled")
        a = blk["alpha"]
        Atu = forms.matvec(ctx, forms.transpose(A), blk["u"])
        pairs = [(h, a * c) for h, c in zip(blk["h"], blk["c"])] + [(LR, a * a * LN)]
        pairs += [(g, a * a * gn + 2 * a * LN * t) for g, gn, t in zip(gR, gN, Atu)]
        worst = max(worst, max(abs(p - q) / (abs(q) or 1) for p, q in pairs))
    return Result.of(worst <= REL, measured=worst, bound=REL,
                     detail=f"3 random vector problems at 60 digits, max relative difference {ctx.nstr(worst, 3)}")


@check("identity.shift_invariance", claim="L_N(X + z wᵀ) = L_N(X) when A2 w = 1ₙ (reference at 50 digits and "
       "production in float64), the normalized Hessian annihilates vec(z wᵀ), and L_R(x + t e) = e^{2t} L_R(x) "
       "when A e = 1ₙ", evidence="confirmed")
def shift_invariance(*, seed):
    rng = np.random.default_rng(seed)
    n, d = 6, 3
    A1 = rng.standard_normal((n, d))
    A2 = np.column_stack([rng.standard_normal((n, d - 1)), np.ones(n)])  # w = e_d: A2 w = 1ₙ
    B, X, z = rng.dirichlet(np.ones(n), size=n), rng.standard_normal((d, d)), rng.standard_normal(d)
    shifted = X + np.outer(z, np.eye(d)[d - 1])
    ctx = make_context(60)
    a1, a2, b, x, xs = matrix_inputs(ctx, A1, A2, B, X, shifted)
    notes, worst = [], ctx.zero
    L0, L1 = forms.matrix_loss(ctx, a1, a2, b, x, "normalized"), forms.matrix_loss(ctx, a1, a2, b, xs, "normalized")
    worst = max(worst, abs(L1 - L0) / L0)
    H = forms.matrix_hessian(ctx, a1, a2, b, x, "normalized")
    direction = [ctx.mpf(float(v)) for v in attnreg.vec(np.outer(z, np.eye(d)[d - 1]))]
    Hz = [ctx.fdot(row, direction) for row in H]
    worst = max(worst, max(abs(v) for v in Hz) / max(abs(v) for row in H for v in row))
    # rescaled, vector form: A = [A0 | 1], moving the last coordinate by t scales L_R by e^{2t}
    A = np.column_stack([rng.standard_normal((n, 2)), np.ones(n)])
    Av, bv, xv = vector_inputs(ctx, A, B[0], X[0])
    t = ctx.mpf(0.75)
    LR0 = forms.vector_loss(ctx, Av, bv, xv, "rescaled")
    LR1 = forms.vector_loss(ctx, Av, bv, [xv[0], xv[1], xv[2] + t], "rescaled")
    worst = max(worst, abs(LR1 - ctx.exp(2 * t) * LR0) / LR1)
    # production: the two float64 losses differ only by rounding of the logits (error model bound)
    p0, p1 = attnreg.loss(A1, A2, B, X, version="normalized"), attnreg.loss(A1, A2, B, shifted, version="normalized")
    allowed = tol("vs_reference").factor * sum(matrix_bounds(A1, A2, B, Y, "normalized").loss for Y in (X, shifted))
    if abs(float(p1) - float(p0)) > allowed:
        notes.append(f"production losses differ by {abs(float(p1) - float(p0)):.2g} > {allowed:.2g}")
    ok = worst <= REL and not notes
    return Result.of(ok, measured=worst, bound=REL,
                     detail=f"n=6, d=3, A2 = [G | 1], w = e_d; 60-digit relative residuals ≤ {ctx.nstr(worst, 3)}; "
                            f"production float64 within its error model" + ("; " + "; ".join(notes) if notes else ""))
