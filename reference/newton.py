r"""Damped Newton at one working precision, ``ctx`` first, on flat lists (``x = vec(X)``, row-major).

Step. ``(∇²L + μI) p = −∇L`` by Cholesky, with the Levenberg–Marquardt shift ``μ = θ·||∇L||``:
positive, so the singular directions of the normalized Hessian (``z ⊗ w`` when ``A2 w = 1ₙ``,
docs/design.md §2) and indefinite Hessians (rescaled, or far from a minimiser) still give a descent
direction; ``μ`` is raised tenfold until the factorisation succeeds. Near a nondegenerate minimiser
``μ = O(||∇L||)`` keeps Newton's quadratic convergence; ``θ`` shrinks after full steps and grows after
backtracking (Levenberg–Marquardt's trust rule).

Line search. Backtracking from ``t = 1`` on the Armijo condition ``L(x+tp) ≤ L(x) + 10⁻⁴ t ⟨∇L, p⟩``.
Near a minimiser with ``L > 0`` the decrease ``O(||∇L||²)`` drowns in the rounding of ``L`` (which
cancellation in ``c`` or ``h`` makes much larger than ``eps·L``); a step that halves ``||∇L||`` and
raises ``L`` by at most ``√eps·L`` is accepted instead (any genuine increase of a Newton step there is
far larger than the rounding yet far smaller than ``√eps·L``).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Iterate:
    x: list
    loss: object
    grad: list
    grad_norm: object


def at(ctx, problem, x) -> Iterate:
    loss, g = problem.loss_and_grad(ctx, x)
    return Iterate(x, loss, g, ctx.sqrt(ctx.fdot(g, g)))


def shifted_cholesky_solve(ctx, H, g, mu):
    """``p`` with ``(H + μI) p = −g``; None when ``H + μI`` is not safely positive definite."""
    m = len(g)
    floor = ctx.eps * m * max(abs(H[i][i]) for i in range(m))
    L = [[ctx.zero] * m for _ in range(m)]
    for i in range(m):
        Li = L[i]
        for j in range(i + 1):
            s = H[i][j] - ctx.fdot(Li[:j], L[j][:j])
            if i == j:
                s += mu
                if not s > floor:  # also catches nan
                    return None
                Li[i] = ctx.sqrt(s)
            else:
                Li[j] = s / L[j][j]
    y = []
    for i in range(m):
        y.append((-g[i] - ctx.fdot(L[i][:i], y)) / L[i][i])
    p = [ctx.zero] * m
    for i in reversed(range(m)):
        p[i] = (y[i] - ctx.fdot([L[k][i] for k in range(i + 1, m)], p[i + 1:])) / L[i][i]
    return p


def step(ctx, problem, it: Iterate, theta):
    """One damped Newton step: ``(new_iterate, t, θ')``, or ``(None, reason, θ')`` when no step is found."""
    H = problem.hessian(ctx, it.x)
    mu = theta * it.grad_norm
    for _ in range(60):
        p = shifted_cholesky_solve(ctx, H, it.grad, mu)
        if p is not None:
            break
        mu = max(10 * mu, ctx.eps * max(abs(r[i]) for i, r in enumerate(H)) * 1000, ctx.ldexp(1, -1000))
    else:
        return None, "the shifted Hessian could not be factorised (non-finite values?)", theta
    slope = ctx.fdot(it.grad, p)
    t = ctx.one
    for _ in range(60):
        trial = at(ctx, problem, [xi + t * pi for xi, pi in zip(it.x, p)])
        if not (ctx.isnan(trial.loss) or ctx.isinf(trial.loss)):
            if trial.loss <= it.loss + t * slope / 10_000:
                return trial, t, theta / 4 if t == 1 else min(theta * 4, ctx.mpf(10) ** 12)
            near = trial.loss <= it.loss + ctx.sqrt(ctx.eps) * abs(it.loss)
            if near and trial.grad_norm <= it.grad_norm / 2:
                return trial, t, theta
        t /= 2
    return None, "the line search found no decrease of the loss along the damped Newton direction", theta * 4
