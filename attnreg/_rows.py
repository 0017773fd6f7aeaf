r"""Row kernels shared by the matrix and the vector forms.

Both forms reduce to independent rows: row j of the matrix form has logits
``s_j = (A1 X A2ᵀ)[j, :] = A_[j] x`` and target ``b_j = B[j, :]``; the vector form is one row with
``s = A x``. For a block of rows ``S`` (k × n) and targets ``B`` (k × n) these kernels return

* normalized: ``ℓ_j = ½||f_j − b_j||²`` and ``p_j = ∂ℓ_j/∂s_j = (diag(f_j) − f_j f_jᵀ)(f_j − b_j)``;
* rescaled: ``ℓ_j = ½||u_j − α_j b_j||²`` and ``p_j = u_j∘h_j − ⟨h_j, b_j⟩ u_j``;

and, for a direction ``dS`` of the logits, ``dp_j = (∂p_j/∂s_j) ds_j`` (a Hessian-vector product in s).

**Stable forms.** The textbook formulas cancel on saturated rows (one logit far above the rest):
``1 − f_k`` rounds to 0, and so do ``f_k − 1`` (a one-hot target on the argmax) and
``u_k − α b_k``. Every such difference is rewritten as a sum over the *other* entries, computed
by :func:`attnreg._scale.loo` without cancellation (``r = 1 − f`` and ``R = α − u`` per entry):

* ``c_i = f_i − b_i = (u_i(1 − b_i) − b_i R_i)/α``,  ``h_i = u_i(1 − b_i) − b_i R_i``;
* ``p = f∘g``, ``g_i = c_i − ⟨f, c⟩ = r_i c_i − Σ_{j≠i} f_j c_j``   (normalized);
* ``p = u∘g``, ``g_i = h_i − ⟨h, b⟩ = h_i(1 − b_i) − Σ_{j≠i} h_j b_j``   (rescaled);
* HVP: ``df_i = f_i(r_i ds_i − Σ_{j≠i} f_j ds_j)``, ``dp = df∘g + f∘dg``,
  ``dg_i = r_i df_i − Σ_{j≠i} f_j df_j − ⟨df, c⟩`` (normalized); ``du = u∘ds``,
  ``dh_i = du_i(1 − b_i) − b_i Σ_{j≠i} du_j``, ``dp = du∘g + u∘dg``,
  ``dg_i = dh_i(1 − b_i) − Σ_{j≠i} dh_j b_j`` (rescaled).

**Scaling.** A normalized row whose logits could overflow or underflow ``exp`` (outside the window of
:func:`window`) is shifted by its maximum; other rows are not, because the shift costs accuracy
(``fl(s − m)`` carries ``u|s − m|``, which made the softmax 4–18× less accurate on cases Hypothesis found,
verify/checks/accuracy.py). Softmax is shift-invariant, so normalized kernels return true values.
The rescaled values are not shift-invariant and can lie far outside the dtype's range; the rescaled
kernels carry every entry as ``e^t·z`` (:mod:`attnreg._scale`) — ``u_i = e^{s_i}``, ``R_i`` scaled by
the row maximum or, for the argmax itself, by the second largest logit — and return each row as an
integer log-scale and a mantissa of moderate size: ``ℓ_j = e^{t_j} ℓ̃_j``, ``p_j = e^{μ_j} p̃_j``. The
callers combine rows under one common scale chosen from these magnitudes (:mod:`attnreg._sweep`; per bin
of scales, combined entrywise, when they spread wide), so no row whose contribution is within the dtype's
range of the largest is lost. ``h`` and ``g`` are linear and quadratic in ``b`` and the HVP linear in ``ds``: a
row of ``B`` or of ``dS`` past ``e^{0.4·log max}`` is divided by ``e^β`` (β an integer) first, its scale carried the
same way (:func:`_target_scale`, :func:`direction_scale`). One row's ``p̃`` has one scale: entries of a row that
spread past the dtype's range (a simplex target, logit gap 1000 at top 800: ``p`` entries ``e^{1600}`` and ``e^{600}``)
lose the small ones to 0 (a known limit; tests/test_production_edges.py has it as a strict xfail).
"""
from __future__ import annotations

import math

from array_api_compat import device

from ._scale import lin, loo, lowest, others, row_scale, shrink_rows, times_exp
from ._types import Array, Namespace


def window(S: Array, *, xp: Namespace, version: str) -> Array:
    """Rows (k × 1 booleans) that must be shifted: some logit outside the safe window.

    Safe window (``n`` = row length, dtype range ``[tiny, big]``): normalized ``log(tiny) + 1 ≤ s ≤
    log(big) − log(n) − 1`` (entries and row sums stay normal and finite); rescaled half of both ends and
    another ``log n`` off the top (products ``u_k h_k``, squares ``h_k²`` and their n-term sums stay normal
    and finite).
    """
    info = xp.finfo(S.dtype)
    n = S.shape[1]
    lo, hi = math.log(float(info.smallest_normal)) + 1, math.log(float(info.max)) - math.log(n) - 1
    if version == "rescaled":
        lo, hi = lo / 2, hi / 2 - math.log(n)
    return (xp.max(S, axis=1, keepdims=True) > hi) | (xp.min(S, axis=1, keepdims=True) < lo)


def shift(S: Array, *, xp: Namespace, version: str) -> tuple[Array, Array]:
    """Return ``(c, exp(S − c))`` with ``c_j`` the row maximum on the rows :func:`window` marks, else 0."""
    m = xp.max(S, axis=1, keepdims=True)
    c = xp.where(window(S, xp=xp, version=version), m, xp.zeros_like(m))
    return c, xp.exp(S - c)


def _softmax_parts(S: Array, B: Array, *, xp: Namespace) -> tuple[Array, Array, Array]:
    """``(f, r, c)``: softmax, ``r = 1 − f`` and ``c = f − b``, each without cancellation."""
    _, E = shift(S, xp=xp, version="normalized")
    total = xp.sum(E, axis=1, keepdims=True)
    F, r = E / total, loo(E, xp=xp) / total
    return F, r, F * (1 - B) - B * r  # f(1 − b) − b·r, not (e(1 − b) − b·R)/α: no product above |b| (b near max)


def normalized(S: Array, B: Array, *, xp: Namespace, with_p: bool = True) -> tuple[Array, Array | None]:
    """Return ``(ℓ, P)`` for the normalized loss; ``P`` is None unless ``with_p``."""
    F, r, C = _softmax_parts(S, B, xp=xp)
    loss = xp.sum(C * (0.5 * C), axis=1)  # = ½Σc² term by term (the ½ exact): finite while the loss is
    if not with_p:
        return loss, None
    return loss, F * (r * C - loo(F * C, xp=xp))


def normalized_p_scaled(S: Array, B: Array, *, xp: Namespace) -> tuple[Array, Array]:
    """``(β, P̃)`` with ``P = e^β P̃`` per row: ``P`` is linear in ``c = f(1 − b) − b·r``, so rows of B past
    ``e^{0.4·log max}`` enter ``c`` divided by ``e^β`` (:func:`attnreg._scale.shrink_rows`; the other rows keep their
    bits). A target row at ±1.7e308 overflowed ``r∘c − loo(f∘c)`` (3.06e308) where ``p`` is 3.06e307."""
    F, r, _ = _softmax_parts(S, B, xp=xp)
    beta, factor = shrink_rows(B, xp=xp)
    C = F * ((1 - B) * factor) - (B * factor) * r
    return beta[:, 0], F * (r * C - loo(F * C, xp=xp))


def normalized_hvp(S: Array, B: Array, dS: Array, *, xp: Namespace) -> Array:
    """Return ``dP`` (stable forms in the module docstring)."""
    F, r, C = _softmax_parts(S, B, xp=xp)
    G = r * C - loo(F * C, xp=xp)
    dF = F * (r * dS - loo(F * dS, xp=xp))
    dG = r * dF - loo(F * dF, xp=xp) - xp.sum(dF * C, axis=1, keepdims=True)
    return dF * G + F * dG


def normalized_hvp_scaled(S: Array, B: Array, dS: Array, *, xp: Namespace) -> tuple[Array, Array]:
    """``(t, dP̃)`` with ``dP = e^t dP̃`` per row, ``t = β + δ``: rows of ``dS`` near the range divided by ``e^δ``
    (:func:`direction_scale`: ``dP`` is linear in ``ds``) and rows of B near the range by ``e^β`` as in
    :func:`normalized_p_scaled`. In ``dP = dF∘G + F∘dG``, ``G = r∘c − loo(f∘c)`` is linear in ``c`` and
    ``dG = (r∘dF − loo(f∘dF)) − ⟨dF, c⟩`` affine: the part free of ``c`` is multiplied by ``e^{−β}`` with ``c``.
    Where ``β = δ = 0`` the row is :func:`normalized_hvp`'s, bit for bit. A target row at 4e300 times an ordinary
    ``ds`` overflowed in ``dF∘G`` (nan where the HVP is −5.5e289, tests/test_dtype_attack.py D1)."""
    F, r, _ = _softmax_parts(S, B, xp=xp)
    beta, factor = shrink_rows(B, xp=xp)
    delta, dS = direction_scale(dS, xp=xp)
    C = F * ((1 - B) * factor) - (B * factor) * r
    G = r * C - loo(F * C, xp=xp)
    dF = F * (r * dS - loo(F * dS, xp=xp))
    dG = (r * dF - loo(F * dF, xp=xp)) * factor - xp.sum(dF * C, axis=1, keepdims=True)
    return (beta + delta)[:, 0], dF * G + F * dG


def _target_scale(B: Array, *, xp: Namespace) -> tuple[Array, Array, Array]:
    """``(β, B̂, Ĉ)`` with ``B = e^β B̂`` and ``1 − B = e^β Ĉ`` per row (β k × 1, :func:`attnreg._scale.shrink_rows`).

    ``h`` and ``g`` are linear and quadratic in ``b`` (``h = u(1 − b) − b R``, ``g = h(1 − b) − Σ_{j≠i} h_j b_j``),
    so a row of ``B`` near the dtype's maximum made the products ``H b`` overflow before any scale applied
    (``+inf − inf``: nan, where the true gradient is ±inf or, under a small ``e^λ``, finite)."""
    beta, c = shrink_rows(B, xp=xp)
    return beta, B * c, (1 - B) * c


def direction_scale(dS: Array, *, xp: Namespace) -> tuple[Array, Array]:
    """``(δ, dŜ)`` with ``dS = e^δ dŜ`` per row (:func:`attnreg._scale.shrink_rows`). Both HVPs are linear in ``ds``:
    the rescaled ``u∘ds`` overflowed where ``ds`` alone did not (nan where the truth is ±inf), and the normalized
    ``dF∘G`` likewise (:func:`normalized_hvp_scaled`, which the normalized redos call, scales B's rows too)."""
    delta, c = shrink_rows(dS, xp=xp)
    return delta, dS * c


def _rescaled_parts(S: Array, B: Array, *, xp: Namespace, scale_b: bool = True) -> dict[str, Array]:
    """Per-entry pieces of a rescaled row: ``u = e^a x``, ``h = e^λ H = e^{k+β} hh``, ``g = e^{λ+β} Ĝ`` (λ, β per
    row; ``B = e^β B̂``, ``1 − B = e^β Ĉ`` from :func:`_target_scale`)."""
    shifted = window(S, xp=xp, version="rescaled")
    base = xp.where(shifted, xp.max(S, axis=1, keepdims=True), xp.zeros_like(S[:, :1]))
    a = xp.where(shifted, S, xp.zeros_like(S))
    x = xp.exp(S - a)
    # scale_b=False (h entrywise, attnreg.blocks / icl): B as it is; divided by e^β, its small entries underflowed
    beta, Bs, Cs = _target_scale(B, xp=xp) if scale_b else (xp.zeros_like(S[:, :1]), B, 1 - B)
    sigma, R = others(S, xp.ones_like(S), xp=xp, base=base, shifted=shifted)
    k, hh = lin(a, x * Cs, sigma, -Bs * R, xp=xp)  # h = e^{k+β} hh
    lam = row_scale(k, hh, xp=xp, offset=beta)
    H = times_exp(hh, k - (lam[:, None] - beta), xp=xp)
    return dict(shifted=shifted, base=base, a=a, x=x, lam=lam, H=H, G=H * Cs - loo(H * Bs, xp=xp), k=k, hh=hh,
                beta=beta, Bs=Bs, Cs=Cs)


def _scaled_rows(t: Array, z: Array, *, xp: Namespace, offset: Array | None = None) -> tuple[Array, Array]:
    """Rows ``e^{t + o} z`` (t k × n or k × 1, ``o`` k × 1 or None) as ``(μ, e^{t + o − μ} z)``, μ per row."""
    mu = row_scale(t, z, xp=xp, offset=offset)
    return mu, times_exp(z, t - (mu[:, None] if offset is None else mu[:, None] - offset), xp=xp)


def rescaled(S: Array, B: Array, *, xp: Namespace,
             with_p: bool = True) -> tuple[Array, Array, Array | None, Array | None]:
    """Return ``(t, ℓ̃, μ, P̃)`` with ``ℓ_j = e^{t_j} ℓ̃_j`` and ``p_j = e^{μ_j} p̃_j`` (``μ, P̃`` None unless
    ``with_p``); ``t, μ`` are integer-valued log-scales (k,)."""
    q = _rescaled_parts(S, B, xp=xp)
    loss = 0.5 * xp.sum(q["H"] * q["H"], axis=1)
    if not with_p:
        return 2 * q["lam"], loss, None, None
    mu, P = _scaled_rows(q["a"] + q["lam"][:, None], q["x"] * q["G"], xp=xp, offset=q["beta"])
    return 2 * q["lam"], loss, mu, P


def rescaled_hvp(S: Array, B: Array, dS: Array, *, xp: Namespace) -> tuple[Array, Array]:
    """Return ``(μ, dP̃)`` with ``dp_j = e^{μ_j} dp̃_j`` (stable forms in the module docstring)."""
    q = _rescaled_parts(S, B, xp=xp)
    a, x, beta, Bs, Cs = q["a"], q["x"], q["beta"], q["Bs"], q["Cs"]
    delta, dS = direction_scale(dS, xp=xp)  # everything below is linear in dS
    sigma, dR = others(S, dS, xp=xp, base=q["base"], shifted=q["shifted"])
    k, dhh = lin(a, x * dS * Cs, sigma, -Bs * dR, xp=xp)  # dh = e^{k+β} dhh
    lam2 = row_scale(k, dhh, xp=xp, offset=beta)
    dH = times_exp(dhh, k - (lam2[:, None] - beta), xp=xp)
    dG = dH * Cs - loo(dH * Bs, xp=xp)
    k3, w = lin(q["lam"][:, None] + beta, dS * q["G"], lam2[:, None] + beta, dG, xp=xp)  # ds∘g + dg, scaled
    return _scaled_rows(a + k3, x * w, xp=xp, offset=delta)


def row_hvps(S: Array, B: Array, D: Array, *, version: str, xp: Namespace) -> tuple[Array | None, Array]:
    """``K_j D[j, i, :]`` for every row j and direction i (D is k × r × n), ``K_j = ∂²ℓ_j/∂s_j²``.

    Returns ``(t, Y)`` with ``K_j D[j, i, :] = e^{t_j} Y[j, i, :]`` for ``rescaled`` (one log-scale per
    row j), ``t`` None for ``normalized``."""
    k, r, n = D.shape
    Sr = xp.reshape(xp.broadcast_to(S[:, None, :], (k, r, n)), (k * r, n))
    Br = xp.reshape(xp.broadcast_to(B[:, None, :], (k, r, n)), (k * r, n))
    Dr = xp.reshape(D, (k * r, n))
    if version == "normalized":
        return None, xp.reshape(normalized_hvp(Sr, Br, Dr, xp=xp), (k, r, n))
    mu, Y = rescaled_hvp(Sr, Br, Dr, xp=xp)
    mu, Y = xp.reshape(mu, (k, r)), xp.reshape(Y, (k, r, n))
    low = lowest(xp, S.dtype)
    live = xp.where(xp.any(Y != 0, axis=2), mu, low)
    t = xp.max(live, axis=1)
    t = xp.where(t == low, xp.zeros_like(t), t)
    return t, times_exp(Y, (live - t[:, None])[:, :, None], xp=xp)


def row_hessians(S: Array, B: Array, *, version: str, xp: Namespace) -> tuple[Array | None, Array]:
    """Per-row Hessians ``K_j`` (k × n × n) as :func:`row_hvps` along the unit vectors (``K_j`` is
    symmetric, so row i of ``K_j`` is ``K_j e_i``); ``(t, K̃)`` with ``K_j = e^{t_j} K̃_j`` for rescaled."""
    k, n = S.shape
    eye = xp.eye(n, dtype=S.dtype, device=device(S))
    return row_hvps(S, B, xp.broadcast_to(eye[None, :, :], (k, n, n)), version=version, xp=xp)

