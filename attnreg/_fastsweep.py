r"""The row sweep: :func:`sweep` picks the fast path on NumPy arrays and torch tensors (buffer-reusing
kernels, lanes of threads, O(1) checks) and the generic one of :mod:`attnreg._sweep` for every other library.

**Shift passes.** ``|S_jk| = |a_jᵀ w_k| ≤ ‖a_j‖·‖w_k‖`` (``a_j`` row j of ``A1``, ``w_k`` column k of
``W = X A2ᵀ``), so one bound ``max_j‖a_j‖ · max_k‖w_k‖`` (O(nd²) work, plus the rounding term below) inside
the safe window of :func:`attnreg._rows.window` proves that no row needs a shift, and the kernels skip the
max/min/subtract passes (:mod:`attnreg._fastrows`).

**Finiteness in O(1) passes.** The bound is computed together with ``0·(max|A1| + max|A2| + ΣX [+ ΣV])``: it
is finite only if ``A1``, ``A2``, ``X`` (and ``V``) are (``0·inf = nan``). ``B`` is not read on its own: every
row of B enters the kernels' row sums (``Σ c²``, ``Σ h²``, ``⟨f, c⟩``), which are finite only where the row
of B is, and those sums are added up as they come. Only when the bound or that sum is not finite are the
inputs scanned (:func:`attnreg._validate.check_finite`), to raise the bad-input error or to find that the
value merely overflowed. On torch this is two scalar reads per call, none per block.

**Logits by block, no d × n product kept.** A block's logits are ``S_b = (A1_b X) A2ᵀ`` (and the HVP's
``dS_b = (A1_b V) A2ᵀ``): the same n·d² multiply-adds over the call as forming ``W = X A2ᵀ`` once, done in the
lanes instead of before them, and no d × n array (d/k blocks: two 64-row blocks at n = 4096, d = 128; four
for the HVP). What the reassociation can cost, and what the probe (:func:`_probe`, O(nd²) work, one scalar read)
does about it, sending the call to the stable kernels (which form ``W``) where it could matter:

* ``A1_b X`` can overflow where ``A1 (X A2ᵀ)`` does not (huge ``X``, tiny ``A2``): ``max_j‖a_j‖·‖X‖_F`` above
  ``max / 2⁸`` (and the same for ``V``).
* Where ``A1_b X`` underflows into subnormals, its absolute error (at most half the least subnormal number ``s``
  per entry) reaches a logit as at most ``d²·s·max|A2|``: ``max|A2|`` above ``u/(d²·s)`` (2¹⁰⁰⁷ in float64,
  2¹¹¹ in float32 at d = 128). A third attack found this premise stated and unchecked.
* The HVP is linear in ``dS``, so a subnormal ``A1_b V`` (a few bits) spoils it relatively, whatever ``A2``: each
  lane looks for a subnormal entry in the ``A1_b V`` it forms, and such a call is redone by the stable kernels
  (a bound such as ``max_j‖a_j‖·‖V‖_F`` misses ``A1`` annihilating the large rows of ``V``).
* The rounding, ``γ_2d·|A1||X||A2|ᵀ``, is that of forming ``W`` in general position, but not where ``X A2ᵀ``
  cancels exactly (``X`` huge along directions ``A2`` annihilates: ``W`` exact, ``(A1_b X) A2ᵀ`` off by
  ``u·|A1_b X||A2|``; before the probe looked, the unshifted ``exp`` overflowed to nan where the loss is O(1)). So
  a column k with ``‖X‖_F·‖a2_k‖ > u^{−1/3}·‖X a2_k‖`` (2^17.7 in float64, 2^8 in float32)
  whose rounding ``4d·u·max_j‖a_j‖·‖X‖_F·‖a2_k‖`` is above ``u^{1/3}`` in absolute terms goes to the stable kernels
  (column by column: one large column must not hide the others; below ``u^{1/3}`` the rounding is of the size the
  dtype gives the logits anyway, and a rank-one ``X`` nearly orthogonal to a row of ``A2`` is not sent there for
  nothing in float32). Not done for the HVP's ``V``: looking costs a second n·d² product per call (3.4 ms at
  n = 2048, d = 128, 2–5% of the HVP), and ``dS`` is not exponentiated, so the cost is accuracy only: within the
  a-priori bound ``γ_2d·|A1||V||A2|ᵀ``, where the stable kernels' exact ``V A2ᵀ`` can do better (a known limit,
  tests/test_fastpath_attack.py).
* Whatever the path, the probe's bound adds ``4d·u·max_j‖a_j‖·‖X‖_F·max_k‖a2_k‖`` for the rounding, so the
  decision to skip the shift covers the computed logits.

The probe's norms are of the matrices divided by their largest entries, the scales kept as base-2 logarithms (a
second attack found the tests vacuous when ``ΣX²`` underflowed or ``max‖a2_k‖²`` overflowed). All this costs about
2 ms a call more than the unscaled probe without these rules (n = 2048 and 4096, d = 128, one thread, medians of 40
interleaved: 5.0 against 3.0 ms, 7.5 against 5.8 ms), 1–4% of a loss+grad call.

**Overflow in ``P_b A2``.** The gradient is accumulated as ``A1_bᵀ (P_b A2)``; ``P_b A2`` can overflow where
``A1ᵀ P A2`` does not (a tiny ``A1``, a huge ``A2``; rescaled rows are vouched for up to ``‖p‖ ≈ e^{284}``). A
gradient (or HVP) with a non-finite entry from finite inputs is therefore recomputed by the stable kernels
(which form ``A1_bᵀ P`` first): twice the work only where an entry overflowed. On a device the finiteness of the
plain partial sums joins the one scalar read after the sweep (the redone flagged blocks come from the stable kernels).

The HVP forms ``[A1_b X; A1_b V] A2ᵀ = [S_b; dS_b]`` as one product into one 2k × n buffer: ``A2`` is read once
for both (0–3% faster than two products at n = 2048 and 4096, d = 128, 1 and 2 threads, interleaved medians of
9; the same bits).

**Accumulation in d × d.** ``∇L = Σ_blocks A1_bᵀ (P_b A2)``: the product ``P_b A2`` (k × d) costs what
``A1_bᵀ P_b`` (d × n) would, and the accumulator is d × d instead of d × n, so the memory besides the inputs
is the kernels' buffers per lane, flat in n for a fixed block size in bytes.

**Half-block scratch.** The kernels leave ``P`` over the logits (``dP`` over their direction ``dS``), and their
elementwise work runs on each half of the block in turn, so the scratch (``C``; ``T`` for the rescaled HVP)
holds half a block: a lane keeps 1.5 blocks for loss+grad (2.5 and 3 for the normalized and rescaled HVP)
instead of 2 (3 and 4). Each row's arithmetic is unchanged (the same bits); one more kernel call per block,
within 1% in time (n = 2048 and 4096, d = 128, 1 and 2 threads, interleaved in one process). The fused kernels
(:mod:`attnreg._fused`, float64 rows of at least ``MIN_N`` entries with numba installed) need no scratch: a
lane then keeps its block (two for the HVP) and the k × d product.

**Rows the fast kernels cannot vouch for** (flagged, see :mod:`attnreg._fastrows`) are recomputed by the
stable kernels of :mod:`attnreg._rows`: at once for NumPy (only those rows; rescaled ones are accumulated
in bins of scales as in :mod:`attnreg._sweep`). On a device, where finding the rows would need a scalar
read per block (a synchronisation), a flagged block adds zero to the sums (selected by ``where`` on the
device) and, after the sweep, the flagged blocks alone are redone by the stable kernels: one read of the
blocks' flags, on calls that have any.

**Torch CPU tensors** take the NumPy sweep on NumPy views of their memory (:func:`host_views`, no copy):
NumPy's ``exp`` is about 2.4× torch's in float64 on CPU and its other passes are no slower, so a tensor
costs what an array costs. The results come back as tensors.

**Fixed partial sums.** The blocks are dealt to :data:`PARTS` partial sums (block ``b`` to part
``b mod PARTS``, each walked in increasing block order), the threads take whole parts, and the parts are
added in part order: loss, gradient and HVP keep their bits for any thread count that leaves each lane's
BLAS one thread (``threads < 2 × parts``; :mod:`attnreg._threads`).
"""
from __future__ import annotations

import dataclasses
import math
import sys

from array_api_compat import array_namespace, device

from . import _fastrows, _fused, _rows, _threads
from ._scale import halved, lin
from ._sweep import Groups, Scaled, Sweep, _generic, combine, right, take_rows
from ._validate import check_finite


def _probe(o, A1, A2, X, V, xp, rows, info):
    """``(max_j‖a_j‖ · (max_k‖w_k‖ + 4d·u·‖X‖_F·max_k‖a2_k‖))² + 0·(…)`` as a 0-D array: a bound on the computed
    logits ``fl((A1_b X) A2ᵀ)`` (module docstring; the second term bounds the reassociation's rounding,
    ``γ_2d·|A1||X||A2|ᵀ``), or −1 when the reassociated products cannot be trusted:

    * ``A1_b X`` or ``A1_b V`` might overflow (``max_j‖a_j‖ · ‖X‖_F`` above ``max / 2⁸``, or not finite);
    * a column of ``X A2ᵀ`` cancels: ``‖X‖_F·‖a2_k‖ > u^{−1/3}·‖X a2_k‖`` (2^17.7 in float64, 2^8 in
      float32) while that column's rounding, ``4d·u·max_j‖a_j‖·‖X‖_F·‖a2_k‖``, exceeds ``u^{1/3}`` in absolute terms
      (2^−17.7, 2^−8: below that the rounding is of the size the dtype gives the logits anyway);
    * ``A2`` is so large that a subnormal entry of ``A1_b X`` (absolute error up to half the least subnormal
      number) could move a logit by more than ``u``: ``d²·max|A2|`` times the least subnormal above ``u``;

    (A subnormal entry of ``A1_b V`` is looked for in the lanes, where ``A1_b V`` is formed: the HVP is linear in
    ``dS``, so its relative accuracy is that of ``A1_b V``; such a call is redone by the stable kernels.)

    Every norm is taken of the matrix divided by its largest entry and the scales are carried as base-2
    logarithms, so no test is lost to a square that under- or overflows. Rows are taken ``rows`` at a time
    (``w_k = X a2_k`` as ``A2_c Xᵀ``, rows × d): no n × d temporaries."""
    n, d = A2.shape
    u, normal = float(info.eps) / 2, float(info.smallest_normal)
    cancel2, log_4du, log_floor = u ** (-2 / 3), math.log2(4 * d * u), math.log2(u) / 3
    log_big = math.log2(float(info.max)) - 8
    log_a2_max = math.log2(u) - math.log2(normal * float(info.eps)) - 2 * math.log2(d)  # the subnormal rule
    chunks = [slice(s, s + rows) for s in range(0, n, rows)]

    def top(M, parts):  # max |M| over the row chunks (1 where M is 0), and its log2
        m = xp.max(xp.stack([xp.maximum(xp.max(M[c]), -xp.min(M[c])) for c in parts]))
        m = xp.where(m > 0, m, xp.ones_like(m))
        return m, xp.log2(m)

    def sq(M):  # ‖row‖² of each row
        return o.dot_rows(M, M)

    s1, l1 = top(A1, chunks)
    s2, l2 = top(A2, chunks)
    r1 = xp.max(xp.stack([xp.max(sq(A1[c] / s1)) for c in chunks]))  # max_j‖a_j‖², scaled (÷ s1, not × 1/s1: 1/s
    # overflows for a subnormal s)
    sx, lx = top(X, [slice(0, d)])
    Xn = X / sx
    inner_x = xp.sum(Xn * Xn)
    # column k's rounding 4d·u·max‖a_j‖·‖X‖_F·‖a2_k‖ (scales restored) above u^{1/3} ⟺ ‖a2_k‖² (scaled) above this
    floor = xp.exp2(2 * (log_floor - log_4du - l1 - lx - l2)) / (r1 * inner_x)
    a2max, wmax, bad = None, None, None
    for c in chunks:
        A2c = A2[c] / s2
        a2, ww = sq(A2c), sq(A2c @ Xn.T)  # ‖a2_k‖², ‖X a2_k‖² (scaled)
        a2max = xp.max(a2) if a2max is None else xp.maximum(a2max, xp.max(a2))
        wmax = xp.max(ww) if wmax is None else xp.maximum(wmax, xp.max(ww))
        hit = xp.any((inner_x * a2 > cancel2 * ww) & (a2 > floor))
        bad = hit if bad is None else bad | hit
    ok = (l1 + lx + 0.5 * xp.log2(r1 * inner_x) <= log_big) & ~bad & (l2 <= log_a2_max)
    extra = s1 + s2 + xp.sum(X)
    if V is not None:
        sv, lv = top(V, [slice(0, d)])
        ok = ok & (l1 + lv + 0.5 * xp.log2(r1 * xp.sum((V / sv) * (V / sv))) <= log_big)
        extra = extra + xp.sum(V)
    log_bound = l1 + lx + l2 + xp.log2(xp.sqrt(r1) * (xp.sqrt(wmax) + (4 * d * u) * xp.sqrt(inner_x * a2max)))
    bound = xp.exp2(2 * log_bound)  # inf when it overflows (no shift is then skipped), 0 when it underflows
    return xp.where(ok, bound + 0 * extra, -xp.ones_like(r1))


PIECES = 2  # the elementwise work of a block runs on this many pieces of its rows in turn (n = 2048, d = 128,
# rescaled, 1 and 2 threads, medians of 8 interleaved: 1, 2, 4, 8, 16 pieces took 53.3, 53.2, 56.1, 56.4, 61.9 ms for
# loss+grad at 2 threads and 77.9, 78.9, 82.6, 85.1, 98.2 ms for the HVP: the scratch halves within 1.3%, smaller
# pieces only add calls)
PROBE_ROWS = 256  # rows per chunk of the probe's O(nd) passes (64–512 timed at n = 2048, 4096, d = 128: 256 fastest)
REDO = object()  # run(): the gradient overflowed on the way, or A1_b V was subnormal: the stable kernels redo the call
PARTS = 8  # fixed partial sums over the blocks (independent of the thread count); at most this many lanes


def sweep(A1, A2, B, X, *, version, xp, block, want_p=True, V=None, threads=None, checked=True) -> Sweep:
    """Loss and/or ``A1ᵀP`` (or ``A1ᵀ dP`` along ``V``) over row blocks of ``block`` rows.

    NumPy and torch take the buffer-reusing kernels of :mod:`attnreg._fastrows` on ``threads`` lanes
    (:mod:`attnreg._threads`); every other library the stable kernels one block after another. When
    ``checked`` is False the inputs' finiteness is this function's to check (in O(1) passes, see
    :mod:`attnreg._fastsweep`)."""
    fast = run(A1, A2, B, X, version=version, xp=xp, block=block, want_p=want_p, V=V,
                          threads=threads, checked=checked)
    if fast is REDO:  # G overflowed on the way (P_b A2 before A1_bᵀ) or A1_b V was subnormal: the stable kernels,
        # quietly (run() has checked the inputs: what overflows there is the true value, as in the fast kernels)
        with _fastrows.ops_for(xp, A1).quiet():
            g = _generic(A1, A2, B, X, version=version, xp=xp, block=block, want_p=want_p, V=V)
            M, z = right(g, A2, xp=xp)
            return dataclasses.replace(g, G_scaled=z, G_M=M, G_right=True)
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
    if torch_mod is not None:
        host = host_views(torch_mod, A1, A2, B, X, V)
        if host is not None:
            s = run(*host[:4], version=version, xp=array_namespace(host[0]), block=block, want_p=want_p,
                    V=host[4], threads=threads, checked=checked)
            if s is None or s is REDO:
                return s  # the stable kernels, on the tensors
            np = sys.modules[type(host[0]).__module__.split(".")[0]]
            return Sweep(*(None if v is None else torch_mod.from_numpy(np.asarray(v))
                           for v in (s.loss_scaled, s.G_scaled, s.loss_M, s.G_M)), G_right=s.G_right)
    A1, A2, X, V = (None if a is None else o.contiguous(a) for a in (A1, A2, X, V))  # O(nd): the same bits for
    # any layout; B (n × n) is not copied: read elementwise, and a strided block of it copied by dot_rows alone
    cpu = torch_mod is None or A1.device.type == "cpu"
    n, d = A1.shape
    info = xp.finfo(A1.dtype)
    starts = list(range(0, n, block))
    parts = min(len(starts), PARTS)
    lanes, inner = _threads.resolve(threads, parts, cpu=cpu)
    fix_now = torch_mod is None
    hvp, with_p = V is not None, want_p or V is not None
    normalized = version == "normalized"
    big, normal = float(info.max), float(info.smallest_normal)
    fused = type(o) is _fastrows.NumpyOps and _fused.wanted(A1.dtype, B.dtype, n)  # attnreg._fused

    def lane(i):
        k0 = min(block, n)
        half = -(-k0 // PIECES)
        SD = o.empty(((2 if hvp else 1) * k0, n), A1)  # S_b, and dS_b below it (one product for both)
        C = None if fused else o.empty((half, n), A1)  # the fused kernels need no scratch
        T = o.empty((half, n), A1) if hvp and not normalized and not fused else None
        tmp = o.empty(((2 if hvp else 1) * k0, d), A1)  # A1_b X (and A1_b V below it), then P_b A2
        out = {}
        with o.quiet():
            for q in range(i, parts, lanes):  # part q: blocks q, q + parts, …, in increasing order
                G = o.zeros((d, d), A1) if with_p else None
                sums, bad, witness, sl, sg = {}, {}, 0.0, Scaled(xp), Groups(xp)
                subnormal = None
                for b in range(q, len(starts), parts):
                    start = starts[b]
                    stop = min(start + block, n)
                    k = stop - start
                    Ab, Bb, Sk = A1[start:stop, :], B[start:stop, :], SD[:k]
                    dSk = SD[k:2 * k] if hvp else None
                    o.mm(Ab, X, tmp[:k])
                    if hvp:
                        Y = o.mm(Ab, V, tmp[k:2 * k])
                        sub = xp.any((Y != 0) & (xp.abs(Y) < normal))  # a subnormal A1_b V: the stable kernels
                        subnormal = sub if subnormal is None else subnormal | sub
                    rows2 = 2 * k if hvp else k  # S_b = (A1_b X) A2ᵀ, no d × n W kept; [S_b; dS_b] in one product
                    o.mm(tmp[:rows2], A2.T, SD[:rows2])
                    got = [_kernel(o, Sk[r:r + half], Bb[r:r + half], C, None if dSk is None else dSk[r:r + half], T,
                                   hvp=hvp, normalized=normalized, safe=safe, lo=lo, hi=hi, big=big, want_p=want_p)
                           for r in range(0, k, half)]  # the elementwise work in halves: C, T hold half a block
                    w, flags = (p[0] if len(got) == 1 else xp.concat(p) for p in zip(*got))
                    Pk = dSk if hvp else Sk  # P (or dP) is written over the logits (or their direction)
                    rows = None if hvp else w  # loss+grad: the rows' losses are the witness
                    witness = witness + xp.sum(w)
                    if fix_now:
                        idx = o.np.flatnonzero(flags)
                        if idx.size:
                            _fix(idx, Ab, Bb, rows, Pk, sl, sg, xp=xp, X=X, V=V, A2=A2, normalized=normalized,
                                 want_p=want_p)
                    else:  # no scalar read per block: a flagged block counts zero here, redone after the sweep
                        bad[b] = xp.any(flags)
                    if rows is not None:
                        sums[b] = xp.sum(rows)
                        if not fix_now:
                            sums[b] = xp.where(bad[b], xp.zeros_like(sums[b]), sums[b])
                    if with_p:
                        o.acc(G, Ab.T, Pk, A2, tmp[:k], None if fix_now else bad[b])
                out[q] = (sums, G, witness, bad, sl, sg, subnormal)
        return out

    with _threads.limited(lanes, inner, torch_mod):  # before the first product: attnreg._threads (idle BLAS)
        with o.quiet():  # an overflowing bound is an answer here, not a warning
            bound = float(_probe(o, A1, A2, X, V, xp, PROBE_ROWS, info))  # the one scalar read before the sweep
        if bound == -1:
            return None  # the reassociated products cannot be trusted (_probe): the stable kernels
        if not math.isfinite(bound) and not checked:
            check_finite(xp, **inputs)  # raises for a non-finite input; else the bound merely overflowed
        lo, hi = _fastrows.limits(float(info.max), float(info.smallest_normal), n, version)
        safe = math.isfinite(bound) and math.sqrt(bound) * (1 + 2**-20) <= min(hi, -lo)
        try:
            done = _threads.run_lanes(lane, lanes)
        finally:
            o.done()
    got = {q: r for part in done for q, r in part.items()}
    ordered = [got[q] for q in range(parts)]  # parts in a fixed order: the same bits for any lane count
    witness = sum((p[2] for p in ordered[1:]), ordered[0][2])
    G = None
    if with_p:
        with o.quiet():  # inf + (−inf) where P_b A2 overflowed: that G is not used
            G = ordered[0][1]
            for p in ordered[1:]:
                G += p[1]
    if torch_mod is not None:
        order = [b for p in ordered for b in p[3]]
        bad = xp.stack([p[3][b] for p in ordered for b in p[3]])
        flagged = []
        code = xp.any(bad).long() + 2 * (~torch_mod.isfinite(witness)).long()
        if G is not None:
            code = code + 4 * (~xp.all(xp.isfinite(G))).long()
        subs = [p[6] for p in ordered if p[6] is not None]
        if subs:
            code = code + 8 * xp.any(xp.stack(subs)).long()
        # the one scalar read after the sweep: flagged blocks (1), witness (2) or G (4) not finite, subnormal A1_b V (8)
        code = int(code)
        if code & 2 and not checked:
            check_finite(xp, B=B)
        if code & 12:
            return REDO
        if code & 1:
            flagged = sorted(b for b, f in zip(order, bad.tolist()) if f)  # one transfer, flagged calls only
    else:
        if not checked and not math.isfinite(float(witness)):
            check_finite(xp, B=B)
        if any(bool(p[6]) for p in ordered if p[6] is not None):
            return REDO
        flagged = []
    loss = None
    if not hvp:
        sums = {b: s for p in ordered for b, s in p[0].items()}
        loss = sums[0]
        for b in range(1, len(starts)):  # block order
            loss = loss + sums[b]
    with o.quiet():  # an overflowed G (inf + −inf: nan) is redone by the stable kernels in sweep(): no warning
        done = _finish(xp, ordered, A1, A2, B, X, V, G, version=version, block=block, want_p=want_p, starts=starts,
                       flagged=flagged, loss=loss, normalized=normalized)
    if torch_mod is None and done.G_scaled is not None and not o.np.isfinite(done.G_scaled).all():
        return REDO  # NumPy: the merged G too (the flagged rows' P̃ A2); on a device only the plain part is read
    return done


def _finish(xp, ordered, A1, A2, B, X, V, G, *, version, block, want_p, starts, flagged, loss, normalized):
    """The flagged blocks redone (torch), the scaled sums merged into the plain ``G`` (the parts' sum)."""
    sl, sg = [p[4] for p in ordered], [p[5] for p in ordered]
    extra, lo = [], None
    if flagged:  # torch: the flagged blocks by the stable kernels, after the sweep
        redo = [starts[b] for b in flagged]
        g = _generic(A1, A2, B, X, version=version, xp=xp, block=block, want_p=want_p, V=V, starts=redo,
                     check_wide=False)  # the spread is checked with the merge below: one read
        gl = Scaled(xp)
        gl.M, gl.total = g.loss_M, g.loss_scaled
        gM, gG = (None, None) if g.G_scaled is None else right(g, A2, xp=xp)
        if normalized:
            loss = loss if gl.total is None else loss + gl.total
            if gG is not None and gM is not None:  # kept scaled, entrywise: e^{gM} gG may pass the range where the
                # caller's own scale brings it back (a lifted HVP direction, attnreg._scale.lift)
                k, G = lin(xp.zeros_like(G), G, gM + xp.zeros_like(gG), gG, xp=xp)
                return Sweep(loss, G, None, k, G_right=True)
            G = G if gG is None else G + gG
        else:
            sl = sl + [gl]  # right() adds one 0-D scale to the pair: lo (a row scale inside it) moves with it
            extra, lo = ([], None) if gG is None else ([(gM, gG)], g.G_lo + (gM - g.G_M))
    if normalized:
        return Sweep(loss, G, G_right=True)
    loss, loss_M = _merge(xp, loss, sl, A1)
    pairs = [q for p in sg for q in p.pairs()]
    merged = _merge_groups(xp, G, pairs + extra, lo)
    if merged is None:  # the redone rows' scales spread wide: sum them again in bins (rare; reads allowed)
        g = _generic(A1, A2, B, X, version=version, xp=xp, block=block, want_p=want_p, V=V, starts=redo,
                     grouped=True)
        merged = _merge_groups(xp, G, pairs + [right(g, A2, xp=xp)])
    G, G_M = merged
    return Sweep(loss, G, loss_M, G_M, G_right=True)


def _kernel(o, S, Bb, C, dS, T, *, hvp, normalized, safe, lo, hi, big, want_p):
    """One run of the fast row kernel on the rows of ``S`` (``C``, ``T``: scratch of at least as many rows):
    ``(witness, flags)``, the witness being the rows' losses (loss+grad) or ``Σ h²`` / ``⟨f, c⟩`` (HVP), finite only
    where the rows of B are; ``P`` (or ``dP``) is left in ``S`` (or ``dS``)."""
    m = S.shape[0]
    C = None if C is None else C[:m]
    if not hvp:
        kernel = _fastrows.normalized if normalized else _fastrows.rescaled
        extra = {} if normalized else {"big": big}
        rows, flags = kernel(o, S, Bb, C, safe=safe, lo=lo, hi=hi, with_p=want_p, **extra)
        return rows, flags
    if normalized:
        _, flags, w = _fastrows.normalized_hvp(o, S, Bb, C, dS, safe=safe, lo=lo, hi=hi)
    else:
        T = None if T is None else T[:m]
        _, flags, w = _fastrows.rescaled_hvp(o, S, Bb, C, dS, T, safe=safe, lo=lo, hi=hi, big=big)
    return w, flags


def host_views(torch, *arrays):
    """NumPy views of CPU tensors (``Tensor.numpy()`` shares the memory: nothing is copied), or None for
    tensors on another device or of a dtype NumPy lacks. On CPU NumPy's kernels are the faster ones (its
    ``exp`` about 2.4× torch's in float64, its reductions no slower), so torch CPU tensors take the NumPy
    sweep and get their results back as tensors; devices keep torch's own in-place kernels."""
    present = [a for a in arrays if a is not None]
    if any(a.device.type != "cpu" or a.dtype not in (torch.float32, torch.float64) or a.layout != torch.strided
           or a.is_conj() or a.is_neg() for a in present):
        return None
    return [None if a is None else a.detach().numpy() for a in arrays]


def _fix(idx, Ab, Bb, rows, Pk, sl, sg, *, xp, X, V, A2, normalized, want_p):
    """Recompute the flagged rows ``idx`` of a NumPy block with the stable kernels (``P`` or ``dP`` into ``Pk``)."""
    Ax, Bx = Ab[idx, :], Bb[idx, :]
    Sx = (Ax @ X) @ A2.T
    if normalized:
        if rows is not None:
            rows[idx], P = _rows.normalized(Sx, Bx, xp=xp, with_p=want_p)
        else:
            P = _rows.normalized_hvp(Sx, Bx, (Ax @ V) @ A2.T, xp=xp)
        if P is not None:
            Pk[idx] = P
        return
    Pk[idx] = 0
    if rows is not None:
        rows[idx] = 0
        t, lr, mu, P = _rows.rescaled(Sx, Bx, xp=xp, with_p=want_p)
        sl.add(t, lr, xp.sum)
    else:
        mu, P = _rows.rescaled_hvp(Sx, Bx, (Ax @ V) @ A2.T, xp=xp)
    if P is not None:
        Axs, mu = halved(Ax, mu, P, A2.shape[0], xp=xp)
        sg.add(mu, P, lambda Pw, i: take_rows(Axs, i, xp=xp).T @ (Pw @ A2))


def _merge_groups(xp, plain, pairs, lo=None):
    """``plain`` (log-scale 0) plus the scaled pairs ``(M, total)`` of the lanes' bins (and of the redone blocks),
    as ``(total, M)`` by :func:`attnreg._sweep.combine` (M entrywise when the scales spread wide); M None when
    nothing was scaled; None when ``lo`` (see :func:`attnreg._sweep.combine`) shows a spread too wide."""
    if plain is None or not pairs:
        return plain, None
    return combine(xp, [(xp.zeros((), dtype=plain.dtype, device=device(plain)), plain)] + pairs, lo)


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
