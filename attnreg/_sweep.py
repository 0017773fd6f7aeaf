"""Row-blocked accumulation over the matrix form (DESIGN §5: no n×n temporaries beyond the inputs).

For each block of rows: ``S_blk = A1_blk (X A2ᵀ)``, the row kernels of ``_rows``, then
``G += A1_blkᵀ P_blk``; at the end ``∇_X L = G A2``. Memory is O(block·n) besides the inputs.

Rescaled rows come scaled by ``e^{−2m_j}``; they are accumulated under a running common scale
``e^{2M}``, ``M = max_j m_j`` (rescaling the accumulators when ``M`` grows, as online softmax does),
so every partial sum is at most about ``n²·max ℓ̃`` and nothing overflows before the final
multiplication by ``e^{M}·e^{M}``.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import _rows


@dataclass
class Sweep:
    """``loss = e^{2M}·loss_scaled`` and ``(A1ᵀ P A2) = e^{2M}·G_scaled A2``; ``M`` is None (0) for
    the normalized version. ``loss_scaled`` is None for an HVP sweep, ``G_scaled`` when not asked."""

    loss_scaled: object
    G_scaled: object
    M: object


def sweep(A1, A2, B, X, *, version, xp, block, want_p=True, V=None) -> Sweep:
    n = A1.shape[0]
    W = X @ A2.T
    dW = None if V is None else V @ A2.T
    total = G = M = None
    for start in range(0, n, block):
        stop = min(start + block, n)  # out-of-range slice stops are not in the array API
        Ab, Bb = A1[start:stop, :], B[start:stop, :]
        S = Ab @ W
        m = rows = None
        if version == "normalized":
            if V is None:
                rows, P = _rows.normalized(S, Bb, xp=xp, with_p=want_p)
            else:
                P = _rows.normalized_hvp(S, Bb, Ab @ dW, xp=xp)
        elif V is None:
            m, rows, P = _rows.rescaled(S, Bb, xp=xp, with_p=want_p)
        else:
            m, P = _rows.rescaled_hvp(S, Bb, Ab @ dW, xp=xp)
        if m is not None:
            M, old, w = merge_scale(M, m, xp=xp)
            if old is not None:  # not the first block: earlier sums move to the new scale
                total = None if total is None else total * old
                G = None if G is None else G * old
            rows = None if rows is None else rows * w
            P = None if P is None else P * w[:, None]
        if rows is not None:
            total = xp.sum(rows) if total is None else total + xp.sum(rows)
        if P is not None:
            G = Ab.T @ P if G is None else G + Ab.T @ P
    return Sweep(total, G, M)


def merge_scale(M, m, *, xp):
    """Bring the row shifts ``m`` of a new block under the running scale ``M``.

    Returns ``(M', old, w)``: the new common shift ``M' = max(M, max m)``, the factor ``e^{2(M−M')}``
    for what was accumulated so far (None on the first block) and the row weights ``e^{2(m−M')}``.
    Branch-free, so that lazy (jit-traced) arrays work; ``old == 1`` when ``M`` stays.
    """
    block_max = xp.max(m)
    if M is None:
        return block_max, None, xp.exp(2 * (m - block_max))
    new_M = xp.maximum(M, block_max)
    return new_M, xp.exp(2 * (M - new_M)), xp.exp(2 * (m - new_M))


def unscale(value, M, *, xp):
    """``e^{2M}·value`` as ``(value·e^M)·e^M``: finite whenever the result is representable.

    Exact zeros stay zero even when ``e^M`` overflows (``0·inf`` would be nan)."""
    if M is None:
        return value
    f = xp.exp(M)
    return xp.where(value == 0, value, (value * f) * f)
