r"""Row kernels shared by the matrix and the vector forms.

Both forms reduce to independent rows: row j of the matrix form has logits
``s_j = (A1 X A2ᵀ)[j, :] = A_[j] x`` and target ``b_j = B[j, :]``; the vector form is one row with
``s = A x``. For a block of rows ``S`` (k × n) and targets ``B`` (k × n) these kernels return

* normalized: ``ℓ_j = ½||f_j − b_j||²`` and ``p_j = ∂ℓ_j/∂s_j = (diag(f_j) − f_j f_jᵀ)(f_j − b_j)``
  (computed as ``f∘c − ⟨f, c⟩ f``), with ``f_j = softmax(s_j)``, ``c_j = f_j − b_j``;
* rescaled: ``ℓ_j = ½||u_j − α_j b_j||²`` and ``p_j = u_j∘h_j − ⟨h_j, b_j⟩ u_j``, with
  ``u_j = exp(s_j)``, ``α_j = ⟨u_j, 1⟩``, ``h_j = u_j − α_j b_j``,

and, for a direction ``dS`` of the logits, ``dp_j = (∂p_j/∂s_j) ds_j`` (a Hessian-vector product in s).

Numerics (DESIGN §5). A row whose logits could overflow or underflow ``exp`` (outside the
dtype-dependent window of :func:`shift`) is shifted by its maximum ``m_j`` before ``exp``; other
rows are not shifted (``c_j = 0``), because the shift itself costs accuracy: ``fl(s − m)`` carries an
absolute error up to ``u|s − m|``, i.e. a relative error ``u·spread`` in ``exp``, which made the
softmax 4–18× less accurate than the unshifted formula on cases Hypothesis found (see
verify/checks/accuracy.py). Softmax is invariant under the shift, so the normalized kernels return
true values. The rescaled residual is homogeneous, ``h(s + c1) = e^c h(s)``, so the rescaled kernels
return the row shifts ``c_j`` and the *scaled* values ``ℓ̃_j = e^{−2c_j} ℓ_j``, ``p̃_j = e^{−2c_j} p_j``;
the callers combine rows under one common scale so that results are finite whenever the true value
is representable.
"""
from __future__ import annotations

import math

from array_api_compat import device


def shift(S, *, xp, version):
    """Return ``(c, exp(S − c))`` with ``c_j = 0`` for rows inside the safe window, else ``max_k S_jk``.

    Safe window (``n`` = row length, dtype range ``[tiny, big]``): normalized ``log(tiny) + 1 ≤ s ≤
    log(big) − log(n) − 1`` (entries and row sums stay normal and finite); rescaled half of both ends and
    another ``log n`` off the top (products ``u_k h_k``, squares ``h_k²`` and their n-term sums stay normal
    and finite). Branch-free (``xp.where``).
    """
    info = xp.finfo(S.dtype)
    n = S.shape[1]
    lo, hi = math.log(float(info.smallest_normal)) + 1, math.log(float(info.max)) - math.log(n) - 1
    if version == "rescaled":
        lo, hi = lo / 2, hi / 2 - math.log(n)
    m = xp.max(S, axis=1, keepdims=True)
    safe = (m <= hi) & (xp.min(S, axis=1, keepdims=True) >= lo)
    c = xp.where(safe, xp.zeros_like(m), m)
    return c, xp.exp(S - c)


def normalized(S, B, *, xp, with_p=True):
    """Return ``(ℓ, P)`` for the normalized loss; ``P`` is None unless ``with_p``."""
    _, E = shift(S, xp=xp, version="normalized")
    F = E / xp.sum(E, axis=1, keepdims=True)
    C = F - B
    loss = 0.5 * xp.sum(C * C, axis=1)
    if not with_p:
        return loss, None
    FC = F * C
    return loss, FC - xp.sum(FC, axis=1, keepdims=True) * F


def normalized_hvp(S, B, dS, *, xp):
    """Return ``dP`` with ``dp = dF∘c + f∘dF − (⟨dF, c⟩ + ⟨f, dF⟩) f − ⟨f, c⟩ dF``, ``dF = J ds``."""
    _, E = shift(S, xp=xp, version="normalized")
    F = E / xp.sum(E, axis=1, keepdims=True)
    C = F - B
    dF = F * dS - xp.sum(F * dS, axis=1, keepdims=True) * F
    rowsum = lambda Z: xp.sum(Z, axis=1, keepdims=True)  # noqa: E731
    return dF * C + F * dF - (rowsum(dF * C) + rowsum(F * dF)) * F - rowsum(F * C) * dF


def rescaled(S, B, *, xp, with_p=True):
    """Return ``(c, ℓ̃, P̃)``: row shifts (k,), scaled row losses (k,), scaled ``P`` (or None)."""
    m, U = shift(S, xp=xp, version="rescaled")
    H = U - xp.sum(U, axis=1, keepdims=True) * B
    loss = 0.5 * xp.sum(H * H, axis=1)
    if not with_p:
        return m[:, 0], loss, None
    return m[:, 0], loss, U * H - xp.sum(H * B, axis=1, keepdims=True) * U


def rescaled_hvp(S, B, dS, *, xp):
    """Return ``(m, dP̃)`` with ``dp = du∘h + u∘dh − ⟨dh, b⟩ u − ⟨h, b⟩ du``, ``du = u∘ds``,
    ``dh = du − ⟨du, 1⟩ b``; ``dP̃ = e^{−2m} dP`` row by row."""
    m, U = shift(S, xp=xp, version="rescaled")
    rowsum = lambda Z: xp.sum(Z, axis=1, keepdims=True)  # noqa: E731
    H = U - rowsum(U) * B
    dU = U * dS
    dH = dU - rowsum(dU) * B
    return m[:, 0], dU * H + U * dH - rowsum(dH * B) * U - rowsum(H * B) * dU


def row_hessians(S, B, *, version, xp):
    """Per-row Hessians ``K_j = ∂²ℓ_j/∂s_j²`` (k × n × n), from the HVP kernel applied to the unit
    vectors (``K_j`` is symmetric, so row i of ``K_j`` is ``K_j e_i``). For ``rescaled`` also returns
    the row shifts ``m`` with ``K_j = e^{2m_j} K̃_j``; for ``normalized`` ``m`` is None."""
    k, n = S.shape
    eye = xp.eye(n, dtype=S.dtype, device=device(S))
    # Row (j, i) of the stacked problem is row j of S with direction e_i.
    Sr = xp.reshape(xp.broadcast_to(S[:, None, :], (k, n, n)), (k * n, n))
    Br = xp.reshape(xp.broadcast_to(B[:, None, :], (k, n, n)), (k * n, n))
    dS = xp.reshape(xp.broadcast_to(eye[None, :, :], (k, n, n)), (k * n, n))
    if version == "normalized":
        return None, xp.reshape(normalized_hvp(Sr, Br, dS, xp=xp), (k, n, n))
    m, dP = rescaled_hvp(Sr, Br, dS, xp=xp)
    return xp.reshape(m, (k, n))[:, 0], xp.reshape(dP, (k, n, n))

