"""Row-blocked accumulation over the matrix form (docs/design.md §5: no n×n temporaries beyond the inputs).

For each block of rows: ``S_blk = A1_blk (X A2ᵀ)``, the row kernels of ``_rows``, then
``G += A1_blkᵀ P_blk``; at the end ``∇_X L = G A2``. Memory is O(block·n) besides the inputs.

Rescaled rows come as ``e^{t_j}·(scaled value)`` with an integer log-scale ``t_j`` per row and per
quantity (loss, ``p``). They are accumulated under a running common scale ``M = max t_j`` taken over
the rows whose value is nonzero — the magnitude of each row's *contribution*, not its logit shift —
and earlier sums move to the new scale when ``M`` grows (as online softmax does). Every exponent
difference is an integer, so the moves are exact up to one rounding of ``exp``.

**Groups of scales.** One common scale is right for the loss (a sum of nonnegative rows: a row below the
dtype's range relative to the largest is negligible) but not for the d × d gradient and HVP: entry
``(i, k)`` of ``A1ᵀ P A2`` gets no term from a row j with ``A1[j, i] = 0``, so under one scale
``e^M`` the rows far below ``M`` underflow to 0 in entries the large rows never reach (A1 = I, one row
shifted by 800 next to ordinary rows: the ordinary rows' entries came out 0 beside the overflowed ones).
So when the nonzero rows' scales spread over more than :func:`window` (``⌊¼·log(max)⌋``: 177 in float64,
22 in float32) — checked with one comparison of two running scalars, O(1) per block and one read per
call (none under ``jax.jit``, whose traced arrays cannot be read: there the rows keep one common scale; eager JAX
arrays are read, :func:`readable`) —
the rows are put into bins ``⌊t/W⌋`` (:class:`Groups`); each bin is summed under its own running scale (every factor
``e^{t_j − M_g} > e^{−W}``, as in one common scale of a narrow spread), and the bins are combined
**entrywise** in log-scale form, ``e^{κ}·z`` with ``κ`` per entry the largest scale among the bins whose
entry is nonzero (:func:`combine`, :func:`attnreg._scale.lin`). Only the final ``e^κ·z`` can overflow,
to ``inf`` of the sign of ``z``: no ``inf − inf`` is ever formed, so no nan. That includes the product by ``A2``
(``G_scaled A2``, each bin's ``T A2``): :func:`attnreg._scale.matmul` forms it on operands divided by powers of two
and adds its own scale to the rows' (a plain product summed ±inf terms into nan, and overflowed where a small
common scale ``e^M`` would have brought the gradient back into the range). Where the true entry is a
cancellation of terms beyond the range, ``z`` is that cancellation in scaled arithmetic: right to its
condition number (a small result where it cancels to within rounding, never nan).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from . import _rows
from ._scale import halved, lin, lowest, matmul, quiet, times_exp
from ._types import Array, Namespace
from ._validate import readable


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
    G_lo: Array | None = None  # the smallest nonzero row's scale, when the caller checks the spread itself


def right(s: Sweep, A2: Array, *, xp: Namespace) -> tuple[Array | None, Array]:
    """``(M, z)`` with ``A1ᵀ P A2 = e^M z`` (M None: unscaled), whichever way the sweep accumulated it; the
    product ``G_scaled A2`` by :func:`attnreg._scale.matmul`, which adds its own 0-D scale to ``G_M``."""
    if s.G_right:
        return s.G_M, s.G_scaled
    k, z = matmul(s.G_scaled, A2, xp=xp)
    return plus_scales(s.G_M, k), z


def gradient(s: Sweep, A2: Array, *, xp: Namespace) -> Array:
    """``A1ᵀ P A2`` (or ``A1ᵀ dP A2``): finite whenever the true value is representable."""
    M, z = right(s, A2, xp=xp)
    return unscale(z, M, xp=xp)


class Scaled:
    """A running sum of rows ``e^{t_j} v_j`` kept as ``e^M·total``."""

    def __init__(self, xp: Namespace) -> None:
        self.xp: Namespace = xp
        self.M: Array | None = None
        self.total: Array | None = None
        self.lo: Array | None = None  # the smallest scale of a nonzero row: M − lo is the spread

    def wide(self) -> bool:
        """Whether the nonzero rows' scales spread over more than :func:`window` (one scalar read). False for a
        traced (lazy) array, which has no value to read: under ``jax.jit`` the rows keep one common scale."""
        return (self.M is not None and self.total is not None and readable(self.M)
                and _value(self.M - self.lo) > window(self.total.dtype, xp=self.xp))

    def add(self, t: Array, v: Array, reduce: Callable[[Array], Array]) -> None:
        """Add rows ``v`` (k, …) with log-scales ``t`` (k,); ``reduce`` sums the weighted rows."""
        xp = self.xp
        nonzero = xp.any(xp.reshape(v != 0, (v.shape[0], -1)), axis=1)
        # "No term" is the dtype's most negative number halved: minus a positive scale it stays finite
        # (in float16 the most negative number itself minus a scale overflowed, with a warning).
        t = xp.where(nonzero, t, lowest(xp, v.dtype) / 2)
        new = xp.max(t) if self.M is None else xp.maximum(self.M, xp.max(t))
        low = xp.min(xp.where(nonzero, t, -lowest(xp, v.dtype) / 2))  # +big/2 when no row is nonzero
        self.lo = low if self.lo is None else xp.minimum(self.lo, low)
        w = xp.reshape(t - new, (-1,) + (1,) * (v.ndim - 1))
        part = reduce(times_exp(v, w, xp=xp))
        if self.total is not None:
            part = part + times_exp(self.total, self.M - new, xp=xp)
        self.M, self.total = new, part


def _value(x: Array) -> float:
    """A 0-D array's value (detached first where it records a graph: torch warns otherwise)."""
    return float(getattr(x, "detach", lambda: x)())


def window(dtype: object, *, xp: Namespace) -> int:
    """The spread of row scales one common scale takes: ``⌊¼·log(max)⌋`` (177 in float64, 22 in float32)."""
    return max(1, math.floor(0.25 * math.log(float(xp.finfo(dtype).max))))


def take_rows(a: Array, idx: Array | None, *, xp: Namespace) -> Array:
    """The rows ``idx`` of ``a`` (all of them for None)."""
    return a if idx is None else xp.take(a, idx, axis=0)


class Groups:
    """A running sum of rows ``e^{t_j} v_j`` kept per bin ``⌊t_j/W⌋`` (module docstring, "Groups of scales").

    ``add``'s ``reduce(weighted_rows, idx)`` sums the weighted rows ``idx`` (None: all of the batch). Reads
    the bins of each batch (a scalar read): used where reads are free (NumPy) or the spread is known wide."""

    def __init__(self, xp: Namespace) -> None:
        self.xp: Namespace = xp
        self.bins: dict[float, Scaled] = {}

    def add(self, t: Array, v: Array, reduce: Callable[[Array, Array | None], Array]) -> None:
        xp = self.xp
        nonzero = xp.any(xp.reshape(v != 0, (v.shape[0], -1)), axis=1)
        top = xp.max(xp.where(nonzero, t, lowest(xp, v.dtype) / 2))
        keys = xp.floor(xp.where(nonzero, t, top) / window(v.dtype, xp=xp))  # zero rows go with the top bin
        # a row scale that is nan (logits that overflow although the inputs are finite: t = inf − inf) goes to one bin
        # of its own (nan ≠ nan: such rows matched no key, and an empty selection raised); its sum is nan
        keys = xp.where(xp.isnan(keys), xp.full_like(keys, math.inf), keys)
        values = xp.unique_values(keys)
        if values.shape[0] == 1:
            self._bin(values[0]).add(t, v, lambda w: reduce(w, None))
            return
        for key in values:
            idx = xp.nonzero(keys == key)[0]
            self._bin(key).add(xp.take(t, idx), xp.take(v, idx, axis=0), lambda w: reduce(w, idx))  # at once

    def _bin(self, key: Array) -> Scaled:
        k = _value(key)  # ⌊t/W⌋; huge for the zero rows of an all-zero batch
        if k not in self.bins:
            self.bins[k] = Scaled(self.xp)
        return self.bins[k]

    def pairs(self, post: Callable[[Array], Array] | None = None) -> list[tuple[Array, Array]]:
        """``(M_g, total_g)`` per bin, ``post`` applied to each total."""
        return [(s.M, s.total if post is None else post(s.total)) for s in self.bins.values()]


def combine(xp: Namespace, pairs: list[tuple[Array, Array]], lo: Array | None = None) -> tuple[Array, Array] | None:
    """``(z, κ)`` with ``Σ_g e^{M_g}·total_g = e^κ·z`` entrywise (module docstring, "Groups of scales").

    ``M_g`` 0-D, or entrywise for a pair that is itself such a combination. When every ``M_g`` is 0-D and
    within :func:`window` of the largest, the totals are moved to the largest scale (one common scale, κ 0-D,
    as without groups); otherwise they are combined entrywise by :func:`attnreg._scale.lin`, smallest scale
    first, and κ is an array of the totals' shape. One scalar read decides (a device synchronises once).
    ``lo``: the smallest row scale inside a pair summed under one scale (:class:`Scaled`); if the spread down to
    it is wider than the window, None (that pair must be summed again in bins)."""
    W = window(pairs[0][1].dtype, xp=xp)
    if all(M.ndim == 0 for M, _ in pairs):
        empty = lowest(xp, pairs[0][1].dtype) / 2  # the scale of a sum of zero rows only (Scaled.add)
        Ms = xp.stack([M for M, _ in pairs])
        live = Ms > empty
        top = xp.max(Ms)  # the sums of zero rows only are the smallest (empty) and add 0 below
        bottom = xp.min(xp.where(live, Ms, top))
        spread = top - (bottom if lo is None else xp.minimum(bottom, lo))
        if _value(spread) <= W:
            z = None
            for M, total in pairs:
                part = times_exp(total, M - top, xp=xp)
                z = part if z is None else z + part
            return z, top
        if lo is not None:
            return None
    pairs = sorted(pairs, key=lambda p: _value(xp.max(p[0])))
    k, z = pairs[0][0], pairs[0][1]
    for M, total in pairs[1:]:
        k, z = lin(k, z, M, total, xp=xp)
    return z, k + xp.zeros_like(z)  # an array of its own (a broadcast view is read-only)


def _generic(A1: Array, A2: Array, B: Array, X: Array, *, version: str, xp: Namespace, block: int,
             want_p: bool = True, V: Array | None = None, starts: Iterable[int] | None = None,
             grouped: bool = False, check_wide: bool = True, plain: Array | None = None) -> Sweep:
    """The stable kernels of :mod:`attnreg._rows`, block after block (every library); ``starts``: only
    the blocks that start at these rows (default: all). The rescaled ``A1ᵀ P`` is summed under one common
    scale (no scalar read per block); if the rows' scales turn out to spread wider than :func:`window` (one
    read at the end), the sweep is redone with ``grouped`` bins (module docstring) and the gradient comes
    back as ``A1ᵀ P A2`` with an entrywise scale. ``check_wide=False``: no read; the caller gets ``G_lo`` and
    checks the spread itself (:func:`combine`'s ``lo``).

    The normalized ``A1ᵀ P`` is summed plainly (its rows carry no scale, :func:`_plain_normalized`). Where that sum
    is not finite and can be read, the sweep is redone: each row with log-scale 0, raised where its terms
    ``A1[j, i]·p_j`` could overflow (:func:`attnreg._scale.halved`) and where its row of B (gradient,
    :func:`attnreg._rows.normalized_p_scaled`) or of ``dS`` and B (HVP, :func:`attnreg._rows.normalized_hvp_scaled`)
    is near the range; summed as the rescaled rows are (in bins when the scales spread wide), and put together with
    the plain sum by :func:`_patched`. With A1 ~ 1.6e308 the plain sum alone gave ``+inf`` for a gradient entry of
    −3.6e306, and nan for an HVP whose true entries are ±inf. Under ``jax.jit`` (nothing can be read) the plain sum
    stands."""
    again = dict(version=version, xp=xp, block=block, want_p=want_p, V=V, starts=starts)
    normalized = version == "normalized"
    if normalized and plain is None:
        s = _plain_normalized(A1, A2, B, X, **again)
        if s.G_scaled is not None and readable(s.G_scaled) and not bool(xp.all(xp.isfinite(s.G_scaled))):
            return _generic(A1, A2, B, X, plain=s.G_scaled, **again)  # A1ᵀP overflowed on the way
        return s
    loss, total, grad = _scaled_rows(A1, A2, B, X, grouped=grouped, **again)
    if normalized:  # the redo of a plain sum that was not finite
        assert plain is not None
        if not isinstance(grad, Groups) and grad.wide():
            return _generic(A1, A2, B, X, grouped=True, plain=plain, **again)
        z, k = _patched(plain, grad, A2, xp=xp)
        return Sweep(total, z, None, k, G_right=True)
    if isinstance(grad, Groups):
        out = combine(xp, [_shifted(M, matmul(T, A2, xp=xp)) for M, T in grad.pairs()])
        assert out is not None  # no lo: combine always answers
        return Sweep(loss.total, out[0], loss.M, out[1], G_right=True)
    if not check_wide:
        return Sweep(loss.total, grad.total, loss.M, grad.M, G_lo=grad.lo)
    if grad.wide():
        return _generic(A1, A2, B, X, grouped=True, **again)
    return Sweep(loss.total, grad.total, loss.M, grad.M)


def _plain_normalized(A1: Array, A2: Array, B: Array, X: Array, *, version: str, xp: Namespace, block: int,
                      want_p: bool, V: Array | None, starts: Iterable[int] | None) -> Sweep:
    """The normalized loss and ``A1ᵀ P`` (or ``A1ᵀ dP``) summed plainly, rows unscaled (may overflow: see
    :func:`_generic`)."""
    W = X @ A2.T
    dW = None if V is None else V @ A2.T
    total = G = None
    for sl in row_blocks(A1.shape[0], block, starts):
        Ab, Bb = A1[sl, :], B[sl, :]
        S = Ab @ W
        if V is None:
            with quiet():  # ½Σc² overflows where the loss is truly inf (B near the range), as quietly as the fast
                rows, P = _rows.normalized(S, Bb, xp=xp, with_p=want_p)  # kernels; an overflowed P is redone
            total = xp.sum(rows) if total is None else total + xp.sum(rows)
        else:
            P = _rows.normalized_hvp(S, Bb, Ab @ dW, xp=xp)
        if P is not None:
            with quiet():  # an overflow here is redone by the caller
                G = Ab.T @ P if G is None else G + Ab.T @ P
    return Sweep(total, G)


def _scaled_rows(A1: Array, A2: Array, B: Array, X: Array, *, version: str, xp: Namespace, block: int,
                 want_p: bool, V: Array | None, starts: Iterable[int] | None,
                 grouped: bool) -> tuple[Scaled, Array | None, Scaled | Groups]:
    """``(loss, total, grad)``: the rescaled loss rows summed under their scales (``loss``), the normalized loss
    plainly (``total``), and ``A1ᵀ P`` (or ``A1ᵀ dP``) with each row's log-scale, under one running scale or in
    bins (``grouped``)."""
    n = A1.shape[0]
    W = X @ A2.T
    dW = None if V is None else V @ A2.T
    normalized = version == "normalized"
    loss = Scaled(xp)
    total = None
    grad: Scaled | Groups = Groups(xp) if grouped else Scaled(xp)
    for sl in row_blocks(n, block, starts):
        Ab, Bb = A1[sl, :], B[sl, :]
        S = Ab @ W
        if normalized and V is None:  # no shift: each row is 1·(its value); rows of B near the range scaled
            with quiet():
                rows, _ = _rows.normalized(S, Bb, xp=xp, with_p=False)
            total = xp.sum(rows) if total is None else total + xp.sum(rows)
            mu, P = _rows.normalized_p_scaled(S, Bb, xp=xp) if want_p else (None, None)
        elif normalized:  # rows of dS (dP is linear in dS) and of B near the range scaled (dF∘G overflowed)
            mu, P = _rows.normalized_hvp_scaled(S, Bb, Ab @ dW, xp=xp)
        elif V is None:
            t, rows, mu, P = _rows.rescaled(S, Bb, xp=xp, with_p=want_p)
            loss.add(t, rows, xp.sum)
        else:
            mu, P = _rows.rescaled_hvp(S, Bb, Ab @ dW, xp=xp)
        if P is None:
            continue
        As, mu = halved(Ab, mu, P, n, xp=xp)  # rows of A1 near the range: their sums with P̃ overflow
        if isinstance(grad, Groups):
            grad.add(mu, P, lambda Pw, i: take_rows(As, i, xp=xp).T @ Pw)  # called at once, as below
        else:
            grad.add(mu, P, lambda Pw: As.T @ Pw)  # called at once: the loop variable is current
    return loss, total, grad


def _patched(plain: Array, grad: Scaled | Groups, A2: Array, *, xp: Namespace) -> tuple[Array, Array]:
    """``(z, κ)`` with ``A1ᵀ P A2 = e^κ·z`` entrywise: the ``plain`` sum (d × n) where it is finite, the redone scaled
    one (``grad``) elsewhere. A finite entry of the plain sum had no partial sum overflow and is right, however small
    (one common scale for all rows flushed entries that only ordinary rows reach, tests/test_redo_attack.py R1); the
    two parts are multiplied by ``A2`` separately and combined entrywise (:func:`combine`)."""
    keep = xp.isfinite(plain)
    zero = xp.zeros_like(plain)
    pairs = [(M, xp.where(keep, zero, T)) for M, T in (grad.pairs() if isinstance(grad, Groups) else
                                                       [(grad.M, grad.total)])]
    k, z = matmul(xp.where(keep, plain, zero), A2, xp=xp)
    kept = (xp.zeros_like(z) if k is None else k + xp.zeros_like(z), z)  # entrywise: combined entry by entry
    out = combine(xp, [kept] + [_shifted(M, matmul(T, A2, xp=xp)) for M, T in pairs])
    assert out is not None  # no lo: combine always answers
    return out


def _shifted(M: Array, product: tuple[Array | None, Array]) -> tuple[Array, Array]:
    """A pair ``(M, T)`` times a matrix, ``e^M·e^κ z``, as the pair ``(M + κ, z)``."""
    k, z = product
    return M if k is None else M + k, z


def plus_scales(M: Array | None, k: Array | None) -> Array | None:
    """The sum of two log-scales, None standing for 0."""
    return k if M is None else M if k is None else M + k


def unscale(value: Array, M: Array | None, *, xp: Namespace) -> Array:
    """``e^M·value``: finite whenever the result is representable; exact zeros stay zero."""
    return value if M is None else times_exp(value, M, xp=xp)
