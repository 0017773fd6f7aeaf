r"""The row sweep: :func:`sweep` picks the fast path on NumPy arrays and torch tensors (buffer-reusing
kernels, lanes of threads, O(1) checks) and the generic one of :mod:`attnreg._sweep` for every other library.

**Shift passes.** ``|S_jk| = |a_jᵀ w_k| ≤ ‖a_j‖·‖w_k‖`` (``a_j`` row j of ``A1``, ``w_k`` column k of
``W = X A2ᵀ``), so one O(nd) bound ``max_j‖a_j‖ · max_k‖w_k‖`` inside the safe window of
:func:`attnreg._rows.window` proves that no row needs a shift, and the kernels skip the max/min/subtract
passes (:mod:`attnreg._fastrows`).

**Finiteness in O(1) passes.** The bound is computed together with ``0·(Σ‖A2 row‖² + ΣX [+ ΣV])``: it is
finite only if ``A1``, ``A2``, ``X`` (and ``V``) are (``0·inf = nan``). ``B`` is not read on its own: every
row of B enters the kernels' row sums (``Σ c²``, ``Σ h²``, ``⟨df, c⟩``), which are finite only where the row
of B is, and those sums are added up as they come. Only when the bound or that sum is not finite are the
inputs scanned (:func:`attnreg._validate.check_finite`), to raise the bad-input error or to find that the
value merely overflowed. On torch this is two scalar reads per call, none per block.

**Accumulation in d × d.** ``∇L = Σ_blocks A1_bᵀ (P_b A2)``: the product ``P_b A2`` (k × d) costs what
``A1_bᵀ P_b`` (d × n) would, and the accumulator is d × d instead of d × n, so the memory besides the inputs
is the kernels' k × n buffers per lane, flat in n for a fixed block size in bytes.

**Rows the fast kernels cannot vouch for** (flagged, see :mod:`attnreg._fastrows`) are recomputed by the
stable kernels of :mod:`attnreg._rows`: at once for NumPy (only those rows; rescaled ones are accumulated
under a common scale as in :mod:`attnreg._sweep`), and for torch by running the stable sweep for the whole
call when any row of any block was flagged (deciding per block would need a scalar read per block, a
device synchronisation on a GPU).
"""
from __future__ import annotations

import math

from . import _fastrows, _rows, _threads
from ._sweep import Scaled, Sweep, _generic
from ._validate import check_finite


def _probe(A1, A2, X, V, W, xp):
    """``max_j‖a_j‖² · max_k‖w_k‖² + 0·(…)`` as a 0-D array (module docstring)."""
    r1 = xp.max(xp.sum(A1 * A1, axis=1))
    r2 = xp.max(xp.sum(W * W, axis=0))
    extra = xp.max(xp.sum(A2 * A2, axis=1)) + xp.sum(X)
    if V is not None:
        extra = extra + xp.sum(V)
    return r1 * r2 + 0 * extra


def sweep(A1, A2, B, X, *, version, xp, block, want_p=True, V=None, threads=None, checked=True) -> Sweep:
    """Loss and/or ``A1ᵀP`` (or ``A1ᵀ dP`` along ``V``) over row blocks of ``block`` rows.

    NumPy and torch take the buffer-reusing kernels of :mod:`attnreg._fastrows` on ``threads`` lanes
    (:mod:`attnreg._threads`); every other library the stable kernels one block after another. When
    ``checked`` is False the inputs' finiteness is this function's to check (in O(1) passes, see
    :mod:`attnreg._fastsweep`)."""
    fast = run(A1, A2, B, X, version=version, xp=xp, block=block, want_p=want_p, V=V,
                          threads=threads, checked=checked)
    if fast is not None:
        return fast
    if not checked:
        check_finite(xp, **{k: a for k, a in dict(A1=A1, A2=A2, B=B, X=X, V=V).items() if a is not None})
    return _generic(A1, A2, B, X, version=version, xp=xp, block=block, want_p=want_p, V=V)


def run(A1, A2, B, X, *, version, xp, block, want_p, V, threads, checked):
    """A :class:`attnreg._sweep.Sweep` for NumPy / torch inputs, None for other libraries."""
    o = _fastrows.ops_for(xp, A1)
    if o is None:
        return None
    inputs = {k: a for k, a in dict(A1=A1, A2=A2, X=X, V=V).items() if a is not None}
    torch_mod = o.t if isinstance(o, _fastrows.TorchOps) else None
    if torch_mod is not None and torch_mod.is_grad_enabled() and any(a.requires_grad for a in (B, *inputs.values())):
        return None  # in-place kernels do not record a graph: op-by-op autograd takes the stable kernels
    cpu = torch_mod is None or A1.device.type == "cpu"
    n, d = A1.shape
    info = xp.finfo(A1.dtype)
    W = X @ A2.T
    dW = None if V is None else V @ A2.T
    bound = float(_probe(A1, A2, X, V, W, xp))  # the one scalar read before the sweep
    if not math.isfinite(bound) and not checked:
        check_finite(xp, **inputs)  # raises for a non-finite input; else the bound merely overflowed
    lo, hi = _fastrows.limits(float(info.max), float(info.smallest_normal), n, version)
    safe = math.isfinite(bound) and math.sqrt(bound) * (1 + 2**-20) <= min(hi, -lo)
    starts = list(range(0, n, block))
    lanes = _threads.resolve(threads, len(starts), cpu=cpu)
    fix_now = torch_mod is None
    hvp, with_p = V is not None, want_p or V is not None
    normalized = version == "normalized"
    big = float(info.max)

    def lane(i):
        k0 = min(block, n)
        S, C = o.empty((k0, n), A1), o.empty((k0, n), A1)
        dS = o.empty((k0, n), A1) if hvp else None
        T = o.empty((k0, n), A1) if hvp and not normalized else None
        G = o.zeros((d, d), A1) if with_p else None
        tmp = o.empty((k0, d), A1) if with_p else None
        sums, witness, flagged = {}, 0.0, False
        sl, sg = Scaled(xp), Scaled(xp)
        with o.quiet():
            for b in range(i, len(starts), lanes):
                start = starts[b]
                stop = min(start + block, n)
                k = stop - start
                Ab, Bb, Sk, Ck = A1[start:stop, :], B[start:stop, :], S[:k], C[:k]
                o.mm(Ab, W, Sk)
                rows = None
                if not hvp:
                    if normalized:
                        rows, flags = _fastrows.normalized(o, Sk, Bb, Ck, safe=safe, lo=lo, hi=hi, with_p=want_p)
                    else:
                        rows, flags = _fastrows.rescaled(o, Sk, Bb, Ck, lo=lo, hi=hi, big=big, with_p=want_p)
                    wit = xp.sum(rows)
                else:
                    o.mm(Ab, dW, dS[:k])
                    if normalized:
                        flags, w = _fastrows.normalized_hvp(o, Sk, Bb, Ck, dS[:k], safe=safe, lo=lo, hi=hi)
                    else:
                        flags, w = _fastrows.rescaled_hvp(o, Sk, Bb, Ck, dS[:k], T[:k], lo=lo, hi=hi, big=big)
                    wit = xp.sum(w)
                witness = witness + wit
                if fix_now:
                    idx = o.np.flatnonzero(flags)
                    if idx.size:
                        _fix(idx, Ab, Bb, rows, Ck, sl, sg, xp=xp, W=W, dW=dW, A2=A2, normalized=normalized,
                             want_p=want_p)
                else:
                    flagged = flagged | xp.any(flags)
                if rows is not None:
                    sums[b] = xp.sum(rows)
                if with_p:
                    o.acc(G, Ab.T, Ck, A2, tmp[:k])
        return sums, G, witness, flagged, sl, sg

    with _threads.limited(lanes, torch_mod):
        parts = _threads.run_lanes(lane, lanes)
    witness = sum((p[2] for p in parts[1:]), parts[0][2])
    flagged = parts[0][3]
    for p in parts[1:]:
        flagged = flagged | p[3]
    if torch_mod is not None:
        if bool(flagged | ~torch_mod.isfinite(witness)):  # the one scalar read after the sweep
            if not checked and not bool(torch_mod.isfinite(witness)):
                check_finite(xp, B=B)
            if bool(flagged):
                return _generic(A1, A2, B, X, version=version, xp=xp, block=block, want_p=want_p, V=V)
    elif not checked and not math.isfinite(float(witness)):
        check_finite(xp, B=B)
    loss = None
    if not hvp:
        sums = {b: s for p in parts for b, s in p[0].items()}
        loss = sums[0]
        for b in range(1, len(starts)):  # block order: the same bits for any thread count
            loss = loss + sums[b]
    G = None
    if with_p:
        G = parts[0][1]
        for p in parts[1:]:
            G += p[1]
    if normalized:
        return Sweep(loss, G, G_right=True)
    loss, loss_M = _merge(xp, loss, [p[4] for p in parts], A1)
    G, G_M = _merge(xp, G, [p[5] for p in parts], A1)
    return Sweep(loss, G, loss_M, G_M, G_right=True)


def _fix(idx, Ab, Bb, rows, Ck, sl, sg, *, xp, W, dW, A2, normalized, want_p):
    """Recompute the flagged rows ``idx`` of a NumPy block with the stable kernels."""
    Ax, Bx = Ab[idx, :], Bb[idx, :]
    Sx = Ax @ W
    if normalized:
        if rows is not None:
            rows[idx], P = _rows.normalized(Sx, Bx, xp=xp, with_p=want_p)
        else:
            P = _rows.normalized_hvp(Sx, Bx, Ax @ dW, xp=xp)
        if P is not None:
            Ck[idx] = P
        return
    Ck[idx] = 0
    if rows is not None:
        rows[idx] = 0
        t, lr, mu, P = _rows.rescaled(Sx, Bx, xp=xp, with_p=want_p)
        sl.add(t, lr, xp.sum)
    else:
        mu, P = _rows.rescaled_hvp(Sx, Bx, Ax @ dW, xp=xp)
    if P is not None:
        sg.add(mu, P, lambda Pw: Ax.T @ (Pw @ A2))


def _merge(xp, plain, parts, like):
    """``plain`` (log-scale 0) plus the lanes' scaled sums, as ``(total, M)``; M None when nothing was scaled."""
    if plain is None or all(p.M is None for p in parts):
        return plain, None
    acc = Scaled(xp)
    acc.add(xp.zeros((1,), dtype=like.dtype), plain[None, ...], lambda v: v[0])
    for p in parts:
        if p.M is not None:
            acc.add(xp.reshape(p.M, (1,)), p.total[None, ...], lambda v: v[0])
    return acc.total, acc.M
