r"""The checker's own numeric route: it samples a lemma's goal from what the goal's symbols mean.

A lemma may bring its own numeric route, but the checker never relies on it alone (the route is the author's
code: it can sample the wrong thing). :func:`goal_ratio` evaluates the *goal* ``lhs rel rhs`` of a bound
lemma at random admissible points, at ≥ 50 digits, with the checker's own evaluation of every symbol in it
(through :mod:`attnreg.reference`):

* a goal with a claims-vocabulary :class:`~._core.Bound` is sampled by :func:`._sample.bound_ratio` (the
  Bound's semantics);
* the logit-space goals (no Bound) by :data:`SAMPLERS`, keyed by the goal's left-hand symbol: each draws a
  point (logits near and far, targets of norm up to 2, near-extremal softmax vectors) and returns the value
  of every symbol the goal may mention, with the parameters at their tightest admissible values (``R`` the
  largest norm the hypotheses bound, ``M`` the largest ``‖s‖_∞`` of the pair, ``n`` the size);
* a goal whose left side the checker cannot evaluate is not proved (:func:`goal_ratio` says why).

A ratio above ``1 + 10⁻⁴⁰`` refutes the goal at a sampled point. Evidence "confirmed", never a proof.
"""
from __future__ import annotations

import sympy as sp

from attnreg.reference import forms, rows

from ._numeric import Numeric, flat, norm2, rand_matrix, rand_vector, spectral, with_norm, within
from ._sample import bound_ratio

SAMPLES, SIZE = 12, 6


def _pair(ctx, rng, k):
    """Logits ``s, s′``: random scales, near and far pairs, and ties near the top (the hard cases)."""
    s = rand_vector(ctx, rng, k, rng.uniform(0.1, 4))
    if rng.random() < 0.3:
        s[1] = s[0] + ctx.mpf(rng.gauss(0, 0.01))
    if rng.random() < 0.3:  # two tied logits far above the rest, moved apart: softmax's steepest direction
        s = [ctx.mpf(rng.gauss(0, 1))] * 2 + [ctx.mpf(-60)] * (k - 2)
        eps = ctx.mpf(10) ** -rng.randint(3, 8)
        return s, [s[0] + eps, s[1] - eps] + s[2:]
    s2 = [a + ctx.mpf(rng.gauss(0, 10 ** -rng.randint(0, 5))) for a in s]
    return s, s2


def _target(ctx, rng, k):
    return with_norm(ctx, rand_vector(ctx, rng, k), ctx.mpf(rng.uniform(0.05, 2)), norm2)


def _diff(a, b):
    return [x - y for x, y in zip(flat(a), flat(b))]


def _logit_pair(kind):
    def draw(ctx, rng, k):
        s, s2 = _pair(ctx, rng, k)
        b = _target(ctx, rng, k)
        val = {
            "f": lambda z: rows.softmax(ctx, z),
            "exp": lambda z: rows.exps(ctx, z),
            "alpha": lambda z: [ctx.fsum(rows.exps(ctx, z))],
            "h": lambda z: [u - ctx.fsum(rows.exps(ctx, z)) * bi for u, bi in zip(rows.exps(ctx, z), b)],
            "g": lambda z: rows.normalized(ctx, z, b)[1],
            "G": lambda z: rows.rescaled(ctx, z, b)[1],
        }[kind]
        return {"lhs": norm2(ctx, _diff(val(s), val(s2))), "‖s − s′‖": norm2(ctx, _diff(s, s2)),
                "M": max(abs(v) for v in s + s2), "‖b‖": norm2(ctx, b), "n": k}
    return draw


def _jacobian(ctx, rng, k):
    s = rand_vector(ctx, rng, k, rng.uniform(0.1, 5))
    if rng.random() < 0.4:  # near (½, ½, 0, …), where the bound ½ is attained
        s = [ctx.mpf(rng.gauss(0, 0.01)), ctx.mpf(rng.gauss(0, 0.01))] + [ctx.mpf(-60)] * (k - 2)
    f = rows.softmax(ctx, s)
    J = ctx.matrix([[(f[i] if i == j else 0) - f[i] * f[j] for j in range(k)] for i in range(k)])
    return {"lhs": max(abs(e) for e in ctx.eigsy(J, eigvals_only=True))}


def _kron(ctx, rng, k):
    A1, A2 = rand_matrix(ctx, rng, 3, 2), rand_matrix(ctx, rng, 2, 3)
    K = [[a * b for a in ra for b in rb] for ra in A1 for rb in A2]
    return {"lhs": spectral(ctx, K), "‖A1‖": spectral(ctx, A1), "‖A2‖": spectral(ctx, A2)}


def _box(ctx, rng, k):
    A, x = rand_matrix(ctx, rng, k, 4), rand_vector(ctx, rng, 4)
    if rng.random() < 0.5:  # x along the top right singular vector of A: ‖Ax‖ = ‖A‖ ‖x‖
        _, S, V = ctx.svd_r(ctx.matrix(A))
        top = max(range(len(S)), key=lambda i: S[i])
        x = [V[top, j] * ctx.mpf(rng.uniform(0.5, 2)) for j in range(4)]
    s = [ctx.fsum(a * xi for a, xi in zip(row, x)) for row in A]
    return {"lhs": max(abs(v) for v in s), "R": max(spectral(ctx, A), norm2(ctx, x))}


def _matrix_box(ctx, rng, k):
    A1, A2, X = rand_matrix(ctx, rng, 4, 3), rand_matrix(ctx, rng, 4, 3), rand_matrix(ctx, rng, 3, 3)
    S = forms.logits(ctx, A1, A2, X)
    return {"lhs": max(abs(v) for v in flat(S)), "R": max(spectral(ctx, A1) * spectral(ctx, A2), norm2(ctx, X))}


SAMPLERS = {
    "‖A1 ⊗ A2‖": _kron, "‖diag(f) − f fᵀ‖": _jacobian, "‖Ax‖_∞": _box, "max_j ‖A_[j] x‖_∞": _matrix_box,
    "‖f(s) − f(s′)‖": _logit_pair("f"), "‖exp(s) − exp(s′)‖": _logit_pair("exp"),
    "|α(s) − α(s′)|": _logit_pair("alpha"), "‖h(s) − h(s′)‖": _logit_pair("h"),
    "‖g(s) − g(s′)‖": _logit_pair("g"), "‖G(s) − G(s′)‖": _logit_pair("G"),
}


def goal_ratio(ctx, rng, lemma) -> Numeric:
    """The checker's sampling of ``lemma``'s goal (see the module docstring)."""
    goal = lemma.goal
    if lemma.bound is not None:
        try:
            return bound_ratio(ctx, rng, lemma.bound)
        except ValueError as exc:  # a hypothesis it cannot draw points for: not confirmed, not a crash
            return Numeric(False, float("inf"), 1.0, f"{exc}, so the goal is not confirmed by its own sampling")
    draw = SAMPLERS.get(goal.lhs.name)
    if draw is None:
        return Numeric(False, float("inf"), 1.0, f"the checker cannot evaluate {goal.lhs} itself, so the goal is "
                                                 "not confirmed by its own sampling")
    ratios = []
    for _ in range(SAMPLES):
        vals = draw(ctx, rng, SIZE)
        subs = {}
        for sym in goal.rhs.free_symbols:
            if sym.name not in vals:
                return Numeric(False, float("inf"), 1.0, f"the goal mentions {sym}, which the checker's sampler "
                                                         f"for {goal.lhs} does not evaluate")
            subs[sym] = sp.Float(str(vals[sym.name]), ctx.dps)
        rhs = ctx.mpf(str(sp.N(goal.rhs.subs(subs), ctx.dps + 5)))
        lhs = vals["lhs"]
        if goal.rel in ("<=", "="):
            ratios.append(lhs / rhs if rhs else (ctx.inf if lhs else ctx.zero))
        if goal.rel in (">=", "="):
            ratios.append(rhs / lhs if lhs else (ctx.inf if rhs else ctx.zero))
    return within(ctx, ratios, f"checker's own sampling of the goal {goal.lhs} {goal.rel} {goal.rhs} (n={SIZE})")
