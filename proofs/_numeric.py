r"""The numeric second route: statements evaluated at ≥ 50 digits through :mod:`attnreg.reference`.

Every lemma's ``numeric(ctx, rng)`` runs in a local ``MPContext`` of ``dps + 10`` digits (``dps ≥ 50``)
at random points and at sizes larger than the symbolic ones (vector n = 6, d = 4; matrix n = 4,
d = 3), and returns a :class:`Numeric`:

* identities: the largest relative residual ``|lhs − rhs| / max(1, |rhs|)`` over all entries must be
  below ``10^-40`` (measured with seed 0 at 60 digits: from 0 to 4 × 10^-61, lemma kron_norm);
* bounds: the largest ratio measured / stated must not exceed ``1 + 10^-40``; the ratio is reported, so a
  loose constant is visible.

This is evidence "confirmed" (docs/design.md §4), never a proof. Bounds in the claims vocabulary use
:func:`._sample.bound_ratio`, which evaluates the Bound's own semantics.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import sympy as sp

from attnreg.reference import forms, make_context, norms

from ._forms import P, matrix_rows, stack
from ._ops import MpOps, entries, vec
from .symbols import R, d, n

RESIDUAL_DIGITS = 40


@dataclass(frozen=True)
class Numeric:
    ok: bool
    measured: float
    bound: float
    detail: str


def context(dps: int = 50):
    if dps < 50:
        raise ValueError(f"dps must be at least 50 for the numeric route, got {dps}")
    return make_context(dps + 10)


def flat(v):
    return [y for x in v for y in flat(x)] if isinstance(v, list | tuple) else [v]


def rel_residual(ctx, got, want):
    g, w = flat(got), flat(want)
    if len(g) != len(w):
        raise ValueError(f"shapes differ: {len(g)} vs {len(w)} entries")
    scale = max([ctx.one] + [abs(x) for x in w])
    return max(abs(a - b) for a, b in zip(g, w)) / scale


def agree(ctx, pairs, what: str) -> Numeric:
    """Identity route: every ``(got, want)`` pair agrees to ``RESIDUAL_DIGITS`` digits."""
    worst = max(rel_residual(ctx, g, w) for g, w in pairs)
    ok = worst <= ctx.mpf(10) ** -RESIDUAL_DIGITS
    return Numeric(bool(ok), float(worst), 10.0 ** -RESIDUAL_DIGITS,
                   f"{what}; {len(pairs)} comparisons at {ctx.dps} digits, max relative residual {ctx.nstr(worst, 3)}")


def within(ctx, ratios, what: str) -> Numeric:
    """Bound route: every measured/stated ratio is in [0, 1]. A negative ratio is a negative stated bound on a
    norm (or a negative measured one): found in review, ``max(ratios) ≤ 1`` confirmed ``‖Ax‖_∞ ≤ −R²``."""
    worst = max(ratios)
    ok = worst <= 1 + ctx.mpf(10) ** -RESIDUAL_DIGITS and min(ratios) >= 0
    return Numeric(bool(ok), float(worst), 1.0,
                   f"{what}; {len(ratios)} samples at {ctx.dps} digits, max ratio measured/stated {ctx.nstr(worst, 6)}")


# ---- random inputs ------------------------------------------------------------------------------

def rand_matrix(ctx, rng, rows, cols, scale=1.0):
    return [[ctx.mpf(rng.gauss(0, scale)) for _ in range(cols)] for _ in range(rows)]


def rand_vector(ctx, rng, size, scale=1.0):
    return [ctx.mpf(rng.gauss(0, scale)) for _ in range(size)]


norm2 = norms.l2  # ctx-first ℓ2 / Frobenius and spectral norms: one home, reference/norms.py
spectral = norms.spectral


def scaled(v, factor):
    return [scaled(x, factor) for x in v] if isinstance(v, list) else v * factor


def with_norm(ctx, v, target, norm):
    return scaled(v, target / norm(ctx, v))


def simplex(ctx, rng, size):
    w = [ctx.mpf(rng.expovariate(1.0)) for _ in range(size)]
    return scaled(w, 1 / ctx.fsum(w))


def mp(ctx, expr, **values):
    """A sympy constant at ``values`` (n, d, R) as an mpf of ``ctx``'s precision."""
    e = sp.sympify(expr).subs({n: values.get("n", 1), d: values.get("d", 1), R: sp.sympify(values.get("R", 1))})
    return ctx.mpf(str(sp.N(e, ctx.dps + 5)))


def directional(ctx, F, k: int):
    """``d/dt F(t)[i]`` at ``t = 0`` for the ``k`` entries of ``F`` (``ctx.diff``, entry by entry)."""
    return [ctx.diff(lambda t, i=i: flat(F(t))[i], 0) for i in range(k)]


def shifted(p, t, v):
    """``p + t v`` for nested lists."""
    return [shifted(a, t, b) for a, b in zip(p, v)] if isinstance(p, list) else p + t * v


def derivative_route(ctx, rng, name, along_x, along_A, n=6, d=4):
    """Directional derivatives of the reference block ``name`` in x (along v) and in A (along V), by
    ``ctx.diff``, against the formulas ``along_x(ops, r, A, v)`` and ``along_A(ops, r, V, x)``."""


    ops = MpOps(ctx)
    A, V = rand_matrix(ctx, rng, n, d), rand_matrix(ctx, rng, n, d)
    b, x, v = rand_vector(ctx, rng, n, 0.5), rand_vector(ctx, rng, d), rand_vector(ctx, rng, d)
    base = forms.vector_blocks(ctx, A, x, b)
    r = SimpleNamespace(alpha=base["alpha"], b=ops.col(b), **{k: ops.col(base[k]) for k in ("u", "f", "c", "h")})
    k = 1 if name == "alpha" else n
    gx = directional(ctx, lambda t: forms.vector_blocks(ctx, A, shifted(x, t, v), b)[name], k)
    gA = directional(ctx, lambda t: forms.vector_blocks(ctx, shifted(A, t, V), x, b)[name], k)
    wx, wA = along_x(ops, r, ops.matrix(A), ops.col(v)), along_A(ops, r, ops.matrix(V), ops.col(x))
    flat_ = lambda w: entries(w) if hasattr(w, "rows") else [w]  # noqa: E731
    return agree(ctx, [(gx, flat_(wx)), (gA, flat_(wA))],
                 f"d{name} along random directions in x and in A (ctx.diff of attnreg.reference.forms.vector_blocks) "
                 f"vs the formula, n={n}, d={d}")


def vector_point(ctx, rng, n=6, d=4):
    """Random ``A, b, x`` (lists of mpf) and the reference blocks as ``ops`` columns."""


    ops = MpOps(ctx)
    A, b, x = rand_matrix(ctx, rng, n, d), rand_vector(ctx, rng, n, 0.5), rand_vector(ctx, rng, d)
    base = forms.vector_blocks(ctx, A, x, b)
    r = SimpleNamespace(alpha=base["alpha"], b=ops.col(b), **{k: ops.col(base[k]) for k in ("u", "f", "c", "h")})
    return ops, A, b, x, r


def gradient_route(ctx, rng, version, formula, n=6, d=4):
    """``ctx.diff`` of the reference vector loss along each coordinate vs ``formula(ops, r, A)``."""


    ops, A, b, x, r = vector_point(ctx, rng, n, d)
    got = [ctx.diff(lambda t, k=k: forms.vector_loss(ctx, A, b, [xi + (t if i == k else 0) for i, xi in enumerate(x)],
                                                      version), 0) for k in range(d)]
    return agree(ctx, [(got, entries(formula(ops, r, ops.matrix(A))))],
                 f"ctx.diff of attnreg.reference.forms.vector_loss ({version}) along each coordinate vs the formula, "
                 f"n={n}, d={d}")


def hessian_route(ctx, rng, version, formula, n=6, d=4):
    """``ctx.diff`` of the reference vector gradient along a random v vs ``formula(ops, r, A) v``."""


    ops, A, b, x, r = vector_point(ctx, rng, n, d)
    v = rand_vector(ctx, rng, d)
    got = directional(ctx, lambda t: forms.vector_loss_and_grad(ctx, A, b, shifted(x, t, v), version)[1], d)
    return agree(ctx, [(got, entries(formula(ops, r, ops.matrix(A)) * ops.col(v)))],
                 f"ctx.diff of the reference gradient ({version}) along a random v vs ∇²L v from the formula, "
                 f"n={n}, d={d}")


def matrix_point(ctx, rng, n=4, d=3):
    """Random ``A1, A2, B, X`` as ``ops`` matrices (B rows of norm about 0.5)."""
    ops = MpOps(ctx)
    A1, A2, X = (ops.matrix(rand_matrix(ctx, rng, r, c, 0.7)) for r, c in ((n, d), (n, d), (d, d)))
    B = ops.matrix(rand_matrix(ctx, rng, n, n, 0.3))
    return ops, A1, A2, B, X


def matrix_gradient_route(ctx, rng, version, n=4, d=3):
    """``ctx.diff`` of the reference matrix loss along each X entry, and the sum of per-row reference
    vector gradients with data A_[j] = A1[j,:] ⊗ A2, against ``A1ᵀ P A2`` (rows p_j from the lemma)."""


    ops, A1, A2, B, X = matrix_point(ctx, rng, n, d)
    L = lambda Y: forms.matrix_loss(ctx, A1.tolist(), A2.tolist(), B.tolist(), Y, version)  # noqa: E731
    Xl = X.tolist()
    got = [ctx.diff(lambda t, i=i, k=k: L([[v + (t if (a, c) == (i, k) else 0) for c, v in enumerate(rw)]
                                           for a, rw in enumerate(Xl)]), 0) for i in range(d) for k in range(d)]
    _, rows = matrix_rows(ops, A1, A2, X, B)
    want = entries(A1.T * stack(ops, [P[version](ops, r) for r in rows]) * A2)
    x = [[v] for v in entries(vec(X, ops))]
    per_row = [0] * (d * d)
    for j in range(n):
        Aj = ops.kron(A1[j, :], A2).tolist()
        g = forms.vector_loss_and_grad(ctx, Aj, entries(B[j, :]), [v[0] for v in x], version)[1]
        per_row = [a + b for a, b in zip(per_row, g)]
    return agree(ctx, [(got, want), (per_row, want)],
                 f"ctx.diff of attnreg.reference.forms.matrix_loss ({version}) per X entry, and Σ_j of reference "
                 f"vector gradients with data A1[j,:] ⊗ A2, vs A1ᵀ P A2, n={n}, d={d}")
