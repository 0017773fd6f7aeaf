"""Row-blocked accumulation over the matrix form (docs/design.md §5: no n×n temporaries beyond the inputs).

For each block of rows: ``S_blk = A1_blk (X A2ᵀ)``, the row kernels of ``_rows``, then
``G += A1_blkᵀ P_blk``; at the end ``∇_X L = G A2``. Memory is O(block·n) besides the inputs.

Rescaled rows come as ``e^{t_j}·(scaled value)`` with an integer log-scale ``t_j`` per row and per
quantity (loss, ``p``). They are accumulated under a running common scale ``M = max t_j`` taken over
the rows whose value is nonzero — the magnitude of each row's *contribution*, not its logit shift —
and earlier sums move to the new scale when ``M`` grows (as online softmax does). A row is then lost
only when its contribution is below the dtype's range relative to the largest one; every exponent
difference is an integer, so the moves are exact up to one rounding of ``exp``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from . import _rows
from ._scale import lowest, times_exp
from ._types import Array, Namespace


def row_blocks(n: int, block: int, starts: Iterable[int] | None = None) -> Iterator[slice]:
    """The rows ``0..n-1`` in consecutive slices of ``block`` rows (the last one shorter): the one row-block
    loop of the generic sweep, the blocked building blocks and the dense Hessian. Each stop is within
    range (out-of-range slice stops are not in the array API). ``starts``: only the blocks starting there."""
    for start in range(0, n, block) if starts is None else starts:
        yield slice(start, min(start + block, n))


@dataclass
class Sweep:
    """``loss = e^{loss_M}·loss_scaled`` and ``A1ᵀ P A2 = e^{G_M}·G_scaled A2``; the scales are None for
    the normalized version. ``loss_scaled`` is None for an HVP sweep, ``G_scaled`` when not asked."""

    loss_scaled: Array | None
    G_scaled: Array | None
    loss_M: Array | None = None
    G_M: Array | None = None
    G_right: bool = False  # G_scaled is already ``A1ᵀ P A2`` (d × d), not ``A1ᵀ P``


def right(s: Sweep, A2: Array) -> Array:
    """``G_scaled A2`` (the scaled ``A1ᵀ P A2``), whichever way the sweep accumulated it."""
    return s.G_scaled if s.G_right else s.G_scaled @ A2


class Scaled:
    """A running sum of rows ``e^{t_j} v_j`` kept as ``e^M·total``."""

    def __init__(self, xp: Namespace) -> None:
        self.xp: Namespace = xp
        self.M: Array | None = None
        self.total: Array | None = None

    def add(self, t: Array, v: Array, reduce: Callable[[Array], Array]) -> None:
        """Add rows ``v`` (k, …) with log-scales ``t`` (k,); ``reduce`` sums the weighted rows."""
        xp = self.xp
        nonzero = xp.any(xp.reshape(v != 0, (v.shape[0], -1)), axis=1)
        # "No term" is the dtype's most negative number halved: minus a positive scale it stays finite
        # (in float16 the most negative number itself minus a scale overflowed, with a warning).
        t = xp.where(nonzero, t, lowest(xp, v.dtype) / 2)
        new = xp.max(t) if self.M is None else xp.maximum(self.M, xp.max(t))
        w = xp.reshape(t - new, (-1,) + (1,) * (v.ndim - 1))
        part = reduce(times_exp(v, w, xp=xp))
        if self.total is not None:
            part = part + times_exp(self.total, self.M - new, xp=xp)
        self.M, self.total = new, part


def _generic(A1: Array, A2: Array, B: Array, X: Array, *, version: str, xp: Namespace, block: int,
             want_p: bool = True, V: Array | None = None, starts: Iterable[int] | None = None) -> Sweep:
    """The stable kernels of :mod:`attnreg._rows`, block after block (every library); ``starts``: only
    the blocks that start at these rows (default: all)."""
    n = A1.shape[0]
    W = X @ A2.T
    dW = None if V is None else V @ A2.T
    if version == "normalized":
        total = G = None
        for sl in row_blocks(n, block, starts):
            Ab, Bb = A1[sl, :], B[sl, :]
            S = Ab @ W
            if V is None:
                rows, P = _rows.normalized(S, Bb, xp=xp, with_p=want_p)
                total = xp.sum(rows) if total is None else total + xp.sum(rows)
            else:
                P = _rows.normalized_hvp(S, Bb, Ab @ dW, xp=xp)
            if P is not None:
                G = Ab.T @ P if G is None else G + Ab.T @ P
        return Sweep(total, G)
    loss, grad = Scaled(xp), Scaled(xp)
    for sl in row_blocks(n, block, starts):
        Ab, Bb = A1[sl, :], B[sl, :]
        S = Ab @ W
        if V is None:
            t, rows, mu, P = _rows.rescaled(S, Bb, xp=xp, with_p=want_p)
            loss.add(t, rows, xp.sum)
        else:
            mu, P = _rows.rescaled_hvp(S, Bb, Ab @ dW, xp=xp)
        if P is not None:
            grad.add(mu, P, lambda Pw: Ab.T @ Pw)  # called at once: the loop variable is current
    return Sweep(loss.total, grad.total, loss.M, grad.M)


def unscale(value: Array, M: Array | None, *, xp: Namespace) -> Array:
    """``e^M·value``: finite whenever the result is representable; exact zeros stay zero."""
    return value if M is None else times_exp(value, M, xp=xp)
