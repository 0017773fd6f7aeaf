"""The reference's analytic derivatives against numerical differentiation at high precision.

Two independent routes (docs/design.md §7): the gradient ``A1ᵀ P A2`` (``Aᵀ p``) of :mod:`reference.forms`
against ``ctx.diff`` of the reference loss along every coordinate; the Hessian-vector product
(``A1ᵀ dP A2`` with ``dp_j = K_j ds_j``) against ``ctx.diff`` of every gradient entry along a random
direction; and the dense Hessian against the HVP on that direction, plus its symmetry. Everything
runs in a local 60-digit context; agreement is required to ``10^-(50-5)`` relative to the size of the
compared quantity (tolerance ``reference.digits``).
"""
from __future__ import annotations

import numpy as np

import attnreg
from attnreg.reference import forms, make_context
from attnreg.reference._inputs import matrix_inputs, vector_inputs

from .. import cases
from ..registry import Result, check
from ..tolerances import tol

DPS = 60


def _sample(form, seed, count=3):
    rng = np.random.default_rng(seed)
    make = cases.make_matrix if form == "matrix" else cases.make_vector
    for _ in range(count):
        yield make(int(rng.integers(2, 5)), int(rng.integers(1, 3)), float(rng.choice([0.5, 3.0, 12.0])),
                   str(rng.choice(["simplex", "real", "onehot"])), int(rng.integers(2**32)))


def _problem(ctx, form, case, seed):
    """Inputs as mpf lists plus a random direction; ``move(X, t, V) = X + tV`` in that form."""
    rng = np.random.default_rng(seed)
    if form == "matrix":
        A1, A2, B, X = matrix_inputs(ctx, *case.arrays)
        V = [[ctx.mpf(float(v)) for v in row] for row in rng.standard_normal(case.X.shape)]
        loss = lambda X, version: forms.matrix_loss(ctx, A1, A2, B, X, version)  # noqa: E731
        grad = lambda X, version: forms.matrix_loss_and_grad(ctx, A1, A2, B, X, version)[1]  # noqa: E731
        hvp = lambda X, V, version: forms.matrix_hvp(ctx, A1, A2, B, X, V, version)  # noqa: E731
        hess = lambda X, version: forms.matrix_hessian(ctx, A1, A2, B, X, version)  # noqa: E731
        move = lambda X, t, V: [[x + t * v for x, v in zip(xr, vr)] for xr, vr in zip(X, V)]  # noqa: E731
        return X, V, loss, grad, hvp, hess, move
    A, b, x = vector_inputs(ctx, *case.arrays)
    v = [ctx.mpf(float(t)) for t in rng.standard_normal(case.x.shape)]
    return (x, v, lambda x, ver: forms.vector_loss(ctx, A, b, x, ver),
            lambda x, ver: [[g] for g in forms.vector_loss_and_grad(ctx, A, b, x, ver)[1]],
            lambda x, v, ver: [[g] for g in forms.vector_hvp(ctx, A, b, x, v, ver)],
            lambda x, ver: forms.vector_hessian(ctx, A, b, x, ver),
            lambda x, t, v: [xi + t * vi for xi, vi in zip(x, v)])


def _units(X):
    """Unit directions E_ik shaped like X (matrix: lists of rows; vector: a list)."""
    if isinstance(X[0], list):
        d = len(X)
        return [[[float(i == a and k == c) for c in range(d)] for a in range(d)] for i in range(d) for k in range(d)]
    return [[float(i == j) for j in range(len(X))] for i in range(len(X))]


def _flat(M):
    return [v for row in M for v in row] if isinstance(M[0], list) else list(M)


def compare(form, version, seed, what) -> Result:
    ctx = make_context(DPS)
    rel = ctx.mpf(10) ** -(50 - tol("reference.digits").factor)
    worst = ctx.zero
    for i, case in enumerate(_sample(form, seed)):
        X, V, loss, grad, hvp, hess, move = _problem(ctx, form, case, seed + i)
        G = _flat(grad(X, version))
        if what == "grad":
            got = G
            want = [ctx.diff(lambda t: loss(move(X, t, E), version), 0) for E in _units(X)]
        elif what == "hvp":
            got = _flat(hvp(X, V, version))
            want = [ctx.diff(lambda t: _flat(grad(move(X, t, V), version))[k], 0) for k in range(len(G))]
        else:  # dense Hessian: H vec(V) = hvp(V) and H = Hᵀ
            H, v = hess(X, version), _flat(V)
            got = [ctx.fdot(row, v) for row in H] + _flat(H)
            want = _flat(hvp(X, V, version)) + [H[j][i] for i in range(len(H)) for j in range(len(H))]
        size = max(abs(w) for w in want) or ctx.one
        worst = max(worst, max(abs(g - w) for g, w in zip(got, want)) / size)
    ok = worst <= rel
    return Result.of(ok, measured=worst, bound=rel,
                     detail=f"3 cases (n ≤ 4, d ≤ 2, max|S| up to 12), {DPS}-digit context, max relative "
                            f"difference {ctx.nstr(worst, 3)}")


def _register(form, version):
    @check(f"ref.{form}.{version}.grad_vs_diff",
           claim=f"the reference {version} {form} gradient equals ctx.diff of the reference loss along every "
                 "coordinate, to 45 digits", evidence="confirmed")
    def grad(*, seed):
        return compare(form, version, seed, "grad")

    @check(f"ref.{form}.{version}.hvp_vs_diff",
           claim=f"the reference {version} {form} Hessian-vector product equals ctx.diff of every gradient entry "
                 "along the direction, to 45 digits", evidence="confirmed")
    def hvp(*, seed):
        return compare(form, version, seed, "hvp")

    @check(f"ref.{form}.{version}.hessian_vs_hvp",
           claim=f"the reference {version} {form} dense Hessian is symmetric and reproduces the HVP, to 45 digits",
           evidence="confirmed")
    def hessian(*, seed):
        return compare(form, version, seed, "hessian")


for _form in ("matrix", "vector"):
    for _version in attnreg.VERSIONS:
        _register(_form, _version)
