r"""A-priori first-order forward-error bounds for float computations of the losses and gradients.

The tolerance of a production-vs-reference comparison is ``k · (this bound)`` (the factor ``k`` and
its reason live in :mod:`.tolerances`). The bound is a function of the *exact* quantities (taken
from the reference at high precision), of the unit roundoff ``u`` and of stated condition factors;
it is never derived from the code under test. With ``T = |A1| |X| |A2|ᵀ`` (``|A||x|`` for the vector
form), the steps are standard (Higham, *Accuracy and Stability*, §3; Blanchard–Higham–Higham 2021):

1. logits: ``|δS| ≤ γ T`` with ``γ = (2d + 2)u`` (two matrix products; ``(d + 1)u`` for ``Ax``);
2. normalized rows: every ``F_jk`` has relative error ``ρ_j = u(n + 4 + 2·spread_j) + 2γτ_j``
   (exp of the shifted logit, the row sum, the division; ``spread_j = max s_j − min s_j``,
   ``τ_j = max_k T_jk``; the softmax Jacobian maps ``δs`` into ``≤ 2F_jk max|δs_j|``);
   rescaled rows: every ``U_jk`` and ``α_j`` has relative error ``ρ = u(n + 8) + (γ + 8u)τ`` with
   ``τ = max T``: the exponent of ``e^{s}`` is known to ``γτ`` and any overflow-avoiding scaling by
   ``e^{−m}`` adds rounding proportional to ``|m| ≤ τ``;
3. residuals ``C = F − B`` / ``H = U − αB``, products, row sums (``n u`` per sum of n terms);
4. loss ``½ΣC²``: ``|δL| ≤ Σ|C||δC| + ½Σ δC² + (n² + 2)u L`` (the quadratic term matters when the
   residual is itself at rounding level, e.g. at a realisable point);
5. gradient ``A1ᵀ P A2``: ``|δG| ≤ |A1|ᵀ |δP| |A2| + (2n + 2)u |A1|ᵀ |P| |A2|`` componentwise.

Every entry also carries an absolute ``tiny`` (the smallest normal number) for gradual underflow.
First order means products of two ``δ`` terms are dropped except in step 4; :mod:`.tolerances` allows a factor for them.

**Condition number (the promise at the edges).** For a quantity ``q`` (a scalar, or a vector measured
in the ∞-norm) of the row logits ``S`` and targets ``B`` the relative condition number used throughout is

    κ(q) = max_i Σ_z |∂q_i/∂z|·|z| / max_i |q_i|,      z over the entries of S,

the worst first-order change of ``q`` under componentwise relative perturbations of the logits, relative to
``||q||_∞`` (:func:`condition`, by central differences at high precision). The targets ``B`` are data given
exactly and are not perturbed: the logits are computed (``A1 X A2ᵀ``, with rounding) while ``B`` enters the
kernels only through ``1 − b`` and products, and perturbing ``B`` would call every one-hot target
ill-conditioned (a relative ``u`` on ``b_k = 1`` moves ``f_k − b_k`` by ``u``, far more than ``1 − f_k``
itself at a gap of 40) — exactly the cases where the exact ``B`` makes a stable formula worth having.
A value is *well-conditioned* when ``κ ≤ 10³`` (``WELL_CONDITIONED``); there the production float64 path
must give at least 12 correct
digits (``||q̂ − q||_∞ ≤ 10⁻¹²||q||_∞``), saturated rows and one-hot targets included, where the textbook
formulas have none (``1 − f_k``, ``f_k − 1``, ``u_k − α``: all ``κ``-harmless, all catastrophic in float).
Elsewhere the error must stay within ``16·(κ + n)·u`` (:func:`allowed`, ``vs_condition`` in
:mod:`.tolerances`): ``κ·u`` for an evaluation backward stable in the logits, ``n·u`` for the rounding of the
final n-term sums that no perturbation of the logits accounts for (``κ`` is ~0 where the value hardly
depends on the logits, e.g. a row ``[0, −711]``, yet the loss ``½Σ(f − b)²`` still rounds). Note that ``κ``
grows with ``|S|`` (``∂e^s/∂s·|s| = |s|e^s``): logits of a few thousand are ill-conditioned by this measure
even when the shift-invariant normalized values are not.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attnreg.reference import forms, make_context, rows

from .tolerances import tol

WELL_CONDITIONED = 1e3  # κ at or below which float64 must give 12 correct digits
WELL_CONDITIONED_DIGITS = 12


def allowed(kappa: float, n: int, u: float) -> float:
    """The error allowed for a value with condition number ``κ`` in rows of length ``n`` (module docstring)."""
    bound = tol("vs_condition").factor * (kappa + n) * u
    if u == 2.0**-53 and kappa <= WELL_CONDITIONED:
        bound = min(bound, 10.0**-WELL_CONDITIONED_DIGITS)
    return bound


def condition(q, S, B, ctx) -> float:
    """``κ(q)`` of the module docstring (perturbing the logits ``S``; ``B`` exact): ``q(S, B)`` maps lists of rows
    of mpf (in ``ctx``) to a flat list of mpf; the derivatives are central differences with relative step
    ``10^{-dps/3}`` (error ``~10^{-2dps/3}``)."""
    q0, total = sensitivities(q, S, B, ctx)
    size = max(abs(v) for v in q0)
    return float("inf") if size == 0 else float(max(total) / size)


def sensitivities(q, S, B, ctx) -> tuple[list, list]:
    """``(q(S, B), t)`` with ``t_i = Σ_jk |∂q_i/∂S_jk| |S_jk|`` (mpf): entry i's condition number is
    ``t_i / |q_i|``, the whole value's :func:`condition` is ``max t / max |q|``."""
    S = [[ctx.mpf(v) for v in r] for r in S]
    B = [[ctx.mpf(v) for v in r] for r in B]
    q0 = q(S, B)
    total = [ctx.mpf(0)] * len(q0)
    rel = ctx.mpf(10) ** (-(ctx.dps // 3))
    for row in S:
        for j, z in enumerate(row):
            if z == 0:
                continue
            step = rel * abs(z)
            row[j] = z + step
            plus = q(S, B)
            row[j] = z - step
            minus = q(S, B)
            row[j] = z
            total = [t + abs(p - m) / (2 * step) * abs(z) for t, p, m in zip(total, plus, minus)]
    return q0, total


@dataclass(frozen=True)
class Bounds:
    loss: float  # bound on |δL|
    grad: np.ndarray  # componentwise bound on |δ∇L|


def _to_float(M):
    return np.array([[float(v) for v in r] for r in M], dtype=float)


def _row_bounds(S, B, T, gamma, version, u, tiny):
    """Return ``(|δL| bound, |δP| bound, |P|)`` for logits rows ``S`` (mpf lists) and targets ``B``."""
    ctx = make_context(30)
    n = len(S[0])
    Bf = np.array([[float(v) for v in r] for r in B])
    Sf = _to_float(S)
    dS_rel = gamma * T.max(axis=1, keepdims=True)
    if version == "normalized":
        F = _to_float([rows.softmax(ctx, s) for s in S])
        C = F - Bf
        spread = Sf.max(axis=1, keepdims=True) - Sf.min(axis=1, keepdims=True)
        dF = F * (u * (n + 4 + 2 * spread) + 2 * dS_rel) + tiny
        dC = dF + u * np.abs(C)
        loss = 0.5 * np.sum(C * C)
        dFC = dF * np.abs(C) + F * dC + u * F * np.abs(C)
        r = np.sum(F * C, axis=1, keepdims=True)
        dr = dFC.sum(axis=1, keepdims=True) + n * u * np.sum(F * np.abs(C), axis=1, keepdims=True)
        P = F * C - r * F
        dP = dFC + dr * F + np.abs(r) * dF + u * np.abs(r) * F + u * np.abs(P)
        dL = np.sum(np.abs(C) * dC) + 0.5 * np.sum(dC * dC) + (n * n + 2) * u * loss
        return dL, dP, np.abs(P)
    tau = T.max()
    rho = u * (n + 8) + (gamma + 8 * u) * tau
    with np.errstate(over="ignore", invalid="ignore"):
        U = _to_float([[ctx.exp(v) for v in s] for s in S])
        alpha = U.sum(axis=1, keepdims=True)
        H = U - alpha * Bf
        dU, dalpha = rho * U + tiny, rho * alpha + tiny
        dH = dU + dalpha * np.abs(Bf) + u * alpha * np.abs(Bf) + u * np.abs(H)
        loss = 0.5 * np.sum(H * H)
        s = np.sum(H * Bf, axis=1, keepdims=True)
        ds = np.sum(dH * np.abs(Bf), axis=1, keepdims=True) + n * u * np.sum(np.abs(H * Bf), axis=1, keepdims=True)
        P = U * H - s * U
        dUH = dU * np.abs(H) + U * dH + u * U * np.abs(H)
        dP = dUH + ds * U + np.abs(s) * dU + u * np.abs(s) * U + u * np.abs(P)
        dL = np.sum(np.abs(H) * dH) + 0.5 * np.sum(dH * dH) + (n * n + 2) * u * loss
    return dL, dP, np.abs(P)


def _unit(dtype):
    info = np.finfo(dtype)
    return float(info.eps) / 2, float(info.smallest_normal)


def matrix_bounds(A1, A2, B, X, version, dtype="float64"):
    """Bounds for a computation of the matrix form in ``dtype`` (gradient entries d × d)."""
    u, tiny = _unit(dtype)
    n, d = A1.shape
    ctx = make_context(40)
    A1m, A2m, Xm = ([[ctx.mpf(float(v)) for v in r] for r in M] for M in (A1, A2, X))
    S = forms.logits(ctx, A1m, A2m, Xm)
    T = np.abs(A1) @ np.abs(X) @ np.abs(A2).T
    dL, dP, absP = _row_bounds(S, B.tolist(), T, (2 * d + 2) * u, version, u, tiny)
    with np.errstate(over="ignore", invalid="ignore"):
        dG = np.abs(A1).T @ dP @ np.abs(A2) + (2 * n + 2) * u * (np.abs(A1).T @ absP @ np.abs(A2))
    return Bounds(dL, dG)


def vector_bounds(A, b, x, version, dtype="float64"):
    """Bounds for the vector form in ``dtype`` (gradient entries (d,))."""
    u, tiny = _unit(dtype)
    n, d = A.shape
    ctx = make_context(40)
    s = forms.matvec(ctx, [[ctx.mpf(float(v)) for v in r] for r in A], [ctx.mpf(float(v)) for v in x])
    T = (np.abs(A) @ np.abs(x))[None, :]
    dL, dP, absP = _row_bounds([s], [b.tolist()], T, (d + 1) * u, version, u, tiny)
    with np.errstate(over="ignore", invalid="ignore"):
        dg = np.abs(A).T @ dP[0] + (n + 1) * u * (np.abs(A).T @ absP[0])
    return Bounds(dL, dg)
