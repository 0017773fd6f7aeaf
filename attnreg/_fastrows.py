r"""Buffer-reusing row kernels for NumPy and torch: the same rows as :mod:`attnreg._rows`, fewer passes.

The stable kernels of :mod:`attnreg._rows` write every difference that can cancel as a leave-one-out
sum. Those forms matter only on *dominated* rows, where one softmax entry exceeds ½ (``f_max > ½``, i.e.
``2·e^{s_max} > α``): there ``1 − f_k`` and ``c_k − ⟨f, c⟩`` cancel. On every other row ``r_i = 1 − f_i ≥ ½``
and the textbook forms carry at most a small constant factor more rounding than the stable ones:

* ``c = f − b``, ``g = c − ⟨f, c⟩``, ``p = f∘g`` (normalized);
  ``h = u − α b``, ``g = h − ⟨h, b⟩``, ``p = u∘g`` (rescaled);
* HVP: ``dp = f∘(z − ⟨f, z⟩)`` with ``z = (ds − ⟨f, ds⟩)∘(c + f − ⟨f, c⟩)`` (normalized; equal to the
  textbook ``df∘g + f∘(df − ⟨f, df⟩ − ⟨df, c⟩)``, :func:`normalized_hvp` derives it);
  ``du = u∘ds``, ``dh = du − ⟨du, 1⟩ b``, ``dp = du∘g + u∘(dh − ⟨dh, b⟩)`` (rescaled).

Each kernel works in at most four preallocated buffers of its rows (``exp``, the reciprocal row sum and the
``p`` assembly in place, ``p`` over the logits or their direction; row inner products by ``vecdot``, which forms
no temporary) and returns, with its rows, a per-row flag of the rows it cannot vouch for: dominated rows, and
for the rescaled version rows with a target entry above ½ (there ``h_i − ⟨h, b⟩`` cancels, as ``b_i ≈ 1``) or
whose ``h`` or ``p`` is outside ``e^{±0.4·log(max)}`` (there :func:`attnreg._rows.row_scale` would rescale them).
Flagged rows are recomputed by the stable kernels (:mod:`attnreg._sweep`). The logits are shifted by the row
maximum only on rows outside the safe window of :func:`attnreg._rows.window` (normalized), and only when the
caller could not prove from an O(nd) bound that every row is inside it (``safe``); a rescaled row outside the
window is flagged instead.

**Pass counts, and what they leave of the HVP ÷ loss+grad ratio.** Besides the ``exp``, loss+grad makes 8 passes
over a block (normalized) and 10 (rescaled); the HVP 13 and 18 (row reductions included). A NumPy binary ufunc is
one pass, so an update by a per-row scalar times a vector (``dα b``) costs two, and the HVP's extra terms (``ds −
μ``, ``⟨f, z⟩``, ``dα``, ``κ``, ``du∘g``) do not fold into fewer. Where numba is installed (``attnreg[fast]``),
float64 rows of at least :data:`attnreg._fused.MIN_N` entries take the fused kernels of :mod:`attnreg._fused`
instead: the same operations on each entry, each row's loops run while it is in cache (measured on the Intel VM, n =
2048, d = 128, one thread: loss+grad 1.49–1.57× the floor with these kernels, 1.10–1.14× fused; README,
"Performance"). The figures below are for these NumPy kernels, measured on this project's 2-core AMD EPYC VM (n =
2048, d = 128, float64, one thread, shortest of interleaved runs): one k × n by n × d product per block costs M ≈
27.5 ms per call, the ``exp`` E ≈ 21.4 ms, so the products and ``exp`` alone give ``(3M + E)/(2M + E) ≈ 1.36`` (also
at n = 4096: M ≈ 118, E ≈ 89 ms); the kernels' own work (logits given) is e ≈ 15.9 ms for the rescaled loss+grad and
26.8 ms for its HVP. ``hvp / loss_and_grad ≤ 1.35`` needs ``e_hvp ≤ 1.35 e − 0.3 M + 0.35 E``, i.e. the HVP's extra
kernel work under ≈ 5 ms where it is ≈ 11 ms; measured whole calls give 1.40–1.50.
"""
from __future__ import annotations

import contextlib
import math
import sys
import threading

from . import _fused


class BufferPool:
    """Block buffers kept from one NumPy call to the next, at most :attr:`keep` of them.

    A first touch of fresh memory costs a page fault per page (0.2–0.5 ms per MiB on this project's shared
    CPU machine): four 4-MiB block buffers freshly allocated on each call cost a quarter of a loss+gradient
    at n = 1024. A call takes buffers (:meth:`take`) and gives them back when done (:meth:`give`); calls
    running at the same time get different buffers (the pool grows instead). :meth:`release` frees them;
    at most :attr:`keep` buffers of :attr:`max_bytes` in all are kept (the most recently given first)."""

    def __init__(self, keep=8, max_bytes=2**26):
        self.keep, self.max_bytes, self.free, self.lock = keep, max_bytes, [], threading.Lock()

    def take(self, np, shape, dtype):
        """An array of ``shape`` and ``dtype`` (contents undefined), and the flat buffer it lives in."""
        size = math.prod(shape)
        with self.lock:
            fits = [i for i, b in enumerate(self.free) if b.dtype == dtype and b.size >= size]
            buf = self.free.pop(min(fits, key=lambda i: self.free[i].size)) if fits else None
        if buf is None:
            buf = np.empty(size, dtype=dtype)
        return buf[:size].reshape(shape), buf

    def give(self, bufs):
        with self.lock:
            kept, total = [], 0
            for b in list(bufs) + self.free:
                if len(kept) < self.keep and total + b.nbytes <= self.max_bytes:
                    kept.append(b)
                    total += b.nbytes
            self.free = kept

    def release(self):
        with self.lock:
            self.free = []


LANE_BUFFERS = 4  # the most a lane takes (rescaled HVP): S and dS in one 2k × n, C and T (k/2 × n), the 2k × d product
POOL = BufferPool(keep=LANE_BUFFERS * 8)  # 8 = attnreg._fastsweep.PARTS, the most lanes: no call of any
# thread count re-allocates a buffer the previous call gave back (at keep=8 a 2-thread rescaled HVP, 10
# buffers, allocated two fresh ones on every call: a first touch of 2–4 MiB), within max_bytes in all
DOT_CHUNK = 8192  # entries per BLAS dot call: below OpenBLAS's 10000-entry threshold for threads


class NumpyOps:
    """In-place primitives on NumPy arrays (``out=`` everywhere); ``lib`` is the numpy module."""

    def __init__(self, lib):
        self.np = lib
        self.taken = []

    def empty(self, shape, like):
        a, buf = POOL.take(self.np, shape, like.dtype)
        self.taken.append(buf)
        return a

    def done(self):
        """Give this call's buffers back to the pool (the call no longer uses them)."""
        POOL.give(self.taken)
        self.taken = []

    def zeros(self, shape, like):
        return self.np.zeros(shape, dtype=like.dtype)

    def quiet(self):
        """Overflow and nan in flagged rows are expected (they are recomputed): no warnings."""
        return self.np.errstate(all="ignore")

    def mm(self, a, b, out):
        return self.np.matmul(a, b, out=out)

    def contiguous(self, a):
        """``a`` row-major and aligned (itself when it is): a BLAS may round a product of the same numbers differently
        by the operands' layout (OpenBLAS's SkylakeX kernels did for a Fortran-order ``A1``), and NumPy does not hand
        an unaligned operand to BLAS at all (``ascontiguousarray`` keeps one: tests/test_redo_attack.py R6)."""
        return self.np.require(a, requirements="CA")

    def _unit(self, a):
        """``a`` itself when its rows are aligned with unit stride, else a row-major copy (:meth:`dot_rows`)."""
        return a if a.strides[-1] == a.itemsize and a.flags.aligned else self.np.require(a, requirements="CA")

    def exp_(self, a):
        self.np.exp(a, out=a)

    def mul(self, a, b, out):
        self.np.multiply(a, b, out=out)

    def sub(self, a, b, out):
        self.np.subtract(a, b, out=out)

    def add(self, a, b, out):
        self.np.add(a, b, out=out)

    def dot_rows(self, a, b):
        """``Σ_k a_jk b_jk`` per row, the same bits for any BLAS thread count: NumPy's ``vecdot`` calls BLAS
        ``dot``, which OpenBLAS (x86_64) splits over its threads above 10000 entries (a row of n = 10001
        summed in another order at 2 BLAS threads than at 1), so longer rows go in pieces of :data:`DOT_CHUNK`
        added left to right. An operand whose rows are not unit-stride and aligned (a block of a Fortran-order or
        reversed ``B``) is copied first: BLAS ``dot`` sums a strided vector in another order (R5 of
        tests/test_redo_attack.py: other last bits for the same numbers)."""
        a, b = self._unit(a), self._unit(b)
        vecdot = getattr(self.np, "vecdot", None)  # numpy ≥ 2: twice as fast as einsum here
        if vecdot is None:
            return self.np.einsum("ij,ij->i", a, b)
        n = a.shape[-1]
        if n <= DOT_CHUNK:
            return vecdot(a, b)
        total = vecdot(a[:, :DOT_CHUNK], b[:, :DOT_CHUNK])
        for s in range(DOT_CHUNK, n, DOT_CHUNK):
            total += vecdot(a[:, s:s + DOT_CHUNK], b[:, s:s + DOT_CHUNK])
        return total

    def rowsum(self, a):
        return a.sum(axis=1)

    def rowmax(self, a):
        return a.max(axis=1)

    def rowmin(self, a):
        return a.min(axis=1)

    def above_half(self, T, tt, half):
        """Rows of ``T`` with an entry ``≥ half`` (per row), given ``tt = Σ T²`` per row: only rows with
        ``tt ≥ half²`` can have one (``max T² ≤ Σ T²``, and rounding keeps both sides' order: a rounded sum of
        non-negative terms is at least its largest term), and only those are read again."""
        high = tt >= half * half
        idx = self.np.flatnonzero(high)
        if idx.size:
            high[idx] = T[idx].max(axis=1) >= half[idx]
        return high

    def exp(self, a):
        return self.np.exp(a)

    def where(self, c, a, b):
        return self.np.where(c, a, b)

    def acc(self, G, AbT, P, A2, tmp, bad=None):
        """``G += AbT (P A2)`` (d × d), ``P A2`` into the reusable k × d ``tmp`` (``bad`` is for torch)."""
        self.np.matmul(P, A2, out=tmp)
        G += AbT @ tmp


class TorchOps(NumpyOps):
    """The same primitives on torch tensors (no host transfers, no scalar reads); ``lib`` is the torch module."""

    def __init__(self, lib):
        self.np = self.t = lib

    def empty(self, shape, like):
        return self.t.empty(shape, dtype=like.dtype, device=like.device)

    def contiguous(self, a):
        return a.contiguous()

    def done(self):
        """Nothing kept: a device's caching allocator already reuses memory."""

    def zeros(self, shape, like):
        return self.t.zeros(shape, dtype=like.dtype, device=like.device)

    def quiet(self):
        return contextlib.nullcontext()

    def exp_(self, a):
        a.exp_()

    def rowsum(self, a):
        return a.sum(dim=1)

    def dot_rows(self, a, b):
        return self.t.linalg.vecdot(a.contiguous(), b.contiguous(), dim=1)  # 3x faster than einsum on CPU; a
        # strided operand (a block of a transposed B) copied first, as for NumPy

    def rowmax(self, a):
        return a.amax(dim=1)

    def rowmin(self, a):
        return a.amin(dim=1)

    def above_half(self, T, tt, half):
        """As for NumPy, without the data-dependent selection (no scalar read on a device)."""
        return (tt >= half * half) & (T.amax(dim=1) >= half)

    def acc(self, G, AbT, P, A2, tmp, bad=None):
        """As for NumPy; a block whose 0-D ``bad`` is true adds zero (no scalar read: a device keeps going)."""
        self.t.matmul(P, A2, out=tmp)
        if bad is not None:
            tmp.masked_fill_(bad, 0)
        G.addmm_(AbT, tmp)


def ops_for(xp, array):
    """The in-place primitives for ``array``'s library when it is NumPy or torch (the library module is taken
    from the array's type, not imported here: the core stays array-API only), else None."""
    name = getattr(xp, "__name__", "")
    lib = sys.modules.get(type(array).__module__.split(".")[0])
    if name.endswith("numpy") and "strict" not in name and "jax" not in name and "cupy" not in name:
        return NumpyOps(lib)
    if name.endswith("torch"):
        return TorchOps(lib)
    return None


def limits(dtype_max, dtype_tiny, n, version):
    """The safe window ``[lo, hi]`` of :func:`attnreg._rows.window`, as numbers."""
    lo, hi = math.log(dtype_tiny) + 1, math.log(dtype_max) - math.log(n) - 1
    if version == "rescaled":
        lo, hi = lo / 2, hi / 2 - math.log(n)
    return lo, hi


def _softmax_(o, S, *, safe, lo, hi):
    """``S ← f`` (softmax rows) in place; returns the rows' dominated flags."""
    m = o.rowmax(S)
    if not safe:  # shift only the rows outside the window (the shift costs accuracy elsewhere)
        c = o.where((m > hi) | (o.rowmin(S) < lo), m, 0 * m)
        o.sub(S, c[:, None], S)
        m = m - c
    o.exp_(S)
    total = o.rowsum(S)
    dominated = 2 * o.exp(m) > total
    o.mul(S, (1 / total)[:, None], S)
    return dominated


def _fusable(o, S, Bb, dS=None):
    """Whether these NumPy rows take the fused kernels of :mod:`attnreg._fused` (numba, float64, long rows). A
    kernel given no scratch (``C`` None: the sweep chose the fused kernels) takes them whatever this says now."""
    return type(o) is NumpyOps and _fused.usable(S, Bb, dS)


def _window(o, S, *, safe, lo, hi, shift):
    """Rows outside the safe window (None when ``safe``): shifted by their maximum in place (``shift``) or returned
    as flags; then ``S ← exp(S)``. The fused kernels' start (the dominated flags are theirs)."""
    out = None
    if not safe:
        m = o.rowmax(S)
        outside = (m > hi) | (o.rowmin(S) < lo)
        if shift:
            o.sub(S, o.where(outside, m, 0 * m)[:, None], S)
        else:
            out = outside
    o.exp_(S)
    return out


def normalized(o, S, Bb, C, *, safe, lo, hi, with_p=True):
    """Rows ``ℓ`` (k,), ``P`` (in ``S``, over ``F``; ``S`` is ``F`` when ``with_p`` is false, ``exp`` of the
    logits in the fused kernels) and the flags; ``S`` holds the logits on entry, ``C`` is scratch."""
    if C is None or _fusable(o, S, Bb):
        _window(o, S, safe=safe, lo=lo, hi=hi, shift=True)
        return _fused.normalized(o.np, S, Bb, with_p=with_p)
    flags = _softmax_(o, S, safe=safe, lo=lo, hi=hi)
    o.sub(S, Bb, C)
    loss = 0.5 * o.dot_rows(C, C)
    flags = flags | ~(loss < math.inf)  # Σc² overflowed (or B's row is not finite): the stable kernel's ½ comes first
    if with_p:
        s = o.dot_rows(S, C)
        o.sub(C, s[:, None], C)
        o.mul(C, S, S)
    return loss, flags


def normalized_hvp(o, S, Bb, C, dS, *, safe, lo, hi):
    r"""``dP`` (in ``dS``), the flags and ``r = ⟨f, c⟩`` per row (non-finite when the row of B is); ``S``,
    ``dS`` hold the logits and their direction on entry (both overwritten), ``C`` is scratch.

    With ``μ = ⟨f, ds⟩``, ``q = df = f∘(ds − μ)`` and ``r = ⟨f, c⟩`` the derivative of ``p = f∘(c − r)`` is
    ``dp = q∘(c − r) + f∘(q − β)`` with ``β = ⟨q, c⟩ + ⟨f, q⟩ = ⟨q, c + f⟩``. Both terms carry the factor
    ``f∘(ds − μ)`` or ``f``, so ``dp = f∘(z − β)`` with ``z = (ds − μ)∘y`` and ``y = c + f − r``; and since
    ``Σ q = μ − μ·Σ f = 0``, ``β = ⟨q, y⟩ + r·Σ q = ⟨f, z⟩``:

        ``dp = f∘(z − ⟨f, z⟩)``,   ``z = (ds − μ)∘(c + f − r)``,

    the gradient's own form ``p = f∘(c − ⟨f, c⟩)`` with ``c`` replaced by ``z``. Passes over the k × n block
    besides the softmax: ``c`` (the one read of B), ``y`` (two), ``ds − μ``, ``z``, ``z − ⟨f, z⟩``, ``·f`` and
    three row inner products (``r``, ``μ``, ``⟨f, z⟩``); no ``df`` or ``dg`` is formed (the textbook form took
    four more). On the rows the kernel vouches for (``f_max ≤ ½``) every term is of the size of the textbook
    form's terms, so the rounding is of the same order (tests/test_fast_kernels.py holds it to the stable
    kernel's error against the 40-digit reference)."""
    if C is None or _fusable(o, S, Bb, dS):
        _window(o, S, safe=safe, lo=lo, hi=hi, shift=True)
        flags, r = _fused.normalized_hvp(o.np, S, Bb, dS)
        return dS, flags, r
    flags = _softmax_(o, S, safe=safe, lo=lo, hi=hi)
    o.sub(S, Bb, C)                                    # c
    r = o.dot_rows(S, C)
    o.add(C, S, C)
    o.sub(C, r[:, None], C)                            # y = c + f − r
    o.sub(dS, o.dot_rows(S, dS)[:, None], dS)          # ds − μ
    o.mul(dS, C, dS)                                   # z
    o.sub(dS, o.dot_rows(S, dS)[:, None], dS)          # z − ⟨f, z⟩
    o.mul(dS, S, dS)                                   # dp
    return dS, flags, r


def _calm(o, ss, n, big):
    """Rows whose largest ``|z|`` is surely inside ``e^{±0.4·log(max)}``, from ``ss = Σ z²`` (max² ∈ [ss/n, ss])."""
    calm = 0.4 * math.log(big)
    return (ss < math.exp(2 * calm)) & (ss > n * math.exp(-2 * calm))


def _rescaled_u(o, S, Bb, *, safe, lo, hi):
    """``S ← u = e^S`` in place; returns ``α`` and the flags of rows that are dominated, outside the window
    (not looked for when ``safe``) or, when ``Bb`` is given, have a target entry above ½."""
    m = o.rowmax(S)
    window = 0 * m > 1 if safe else (m > hi) | (o.rowmin(S) < lo)
    o.exp_(S)
    total = o.rowsum(S)
    flags = (2 * o.exp(m) > total) | window
    return total, flags if Bb is None else flags | (o.rowmax(Bb) > 0.5)


def rescaled(o, S, Bb, C, *, safe, lo, hi, big, with_p=True):
    """Rows ``ℓ`` at log-scale 0, ``P`` (in ``S``, log-scale 0, over ``u``; ``S`` is ``u`` when ``with_p`` is
    false) and the flags; ``C`` is scratch."""
    if C is None or _fusable(o, S, Bb):
        window = _window(o, S, safe=safe, lo=lo, hi=hi, shift=False)
        loss, flags = _fused.rescaled(o.np, S, Bb, big=big, with_p=with_p)
        return loss, flags if window is None else flags | window
    n = S.shape[1]
    total, flags = _rescaled_u(o, S, Bb, safe=safe, lo=lo, hi=hi)
    o.mul(Bb, total[:, None], C)
    o.sub(S, C, C)                                     # h = u − α b
    hh = o.dot_rows(C, C)
    loss = 0.5 * hh
    flags = flags | ~_calm(o, hh, n, big)
    if with_p:
        o.sub(C, o.dot_rows(C, Bb)[:, None], C)
        o.mul(C, S, S)                                 # p = u∘g
        flags = flags | ~_calm(o, o.dot_rows(S, S), n, big)
    return loss, flags


def rescaled_hvp(o, S, Bb, C, dS, T, *, safe, lo, hi, big):
    r"""``dP`` (in ``dS``, log-scale 0), the flags and ``Σ h²`` per row; buffers ``S, C, dS, T`` (k × n; ``C``
    and ``T`` scratch).

    ``du = u∘ds``, ``dα = Σ du``, ``κ = ⟨dh, b⟩ = ⟨du, b⟩ − dα·⟨b, b⟩``, ``dp = du∘g + u∘(du − dα b − κ)``.

    B is read once, into ``T = α b`` (needed for ``h = u − α b``); every later use of ``b`` reads ``T``, a
    buffer this block has just written, instead: ``⟨h, b⟩ = ⟨h, T⟩/α``, ``⟨b, b⟩ = ⟨T, T⟩/α²``,
    ``⟨du, b⟩ = ⟨du, T⟩/α`` and ``dα b = (dα/α)·T`` in place. Each costs at most two roundings more per
    term than the form with ``b`` (relative, of ``1/α``'s and the product's), the same order as the form's
    own; where ``α b_i`` is subnormal, ``T_i`` is off by at most half the least subnormal, negligible beside the
    ``h`` and ``dp`` of the rows the kernel vouches for (calm: above ``e^{−0.4·log(max)}``).
    B is an n × n input far larger than the caches, so each read of a block of it comes from memory (the
    form with ``b`` read it five times). Measured on the kernel alone (logits given; 2 MiB blocks, d = 128,
    float64, one core, shortest of 61 / 21 interleaved runs on a shared machine): the elementwise work besides
    the ``exp`` went from 28.6 to 26.8 ms per call at n = 2048 and from 115.8 to 109.5 ms at n = 4096.

    Target flag: a row with ``b_i > ½`` has ``T_i = fl(α b_i) ≥ α/2`` (``α/2`` is representable and
    rounding is monotone), so rows with ``max T ≥ α/2`` are flagged (a row whose largest ``b_i`` is ½ may
    be flagged too: only time). Only rows with ``⟨T, T⟩ ≥ (α/2)²`` are looked at (``max T² ≤ ⟨T, T⟩``, and a
    sum of non-negative terms rounds to at least its largest term, :meth:`NumpyOps.above_half`)."""
    if C is None or _fusable(o, S, Bb, dS):
        window = _window(o, S, safe=safe, lo=lo, hi=hi, shift=False)
        flags, hh = _fused.rescaled_hvp(o.np, S, Bb, dS, big=big)
        return dS, flags if window is None else flags | window, hh
    n = S.shape[1]
    total, flags = _rescaled_u(o, S, None, safe=safe, lo=lo, hi=hi)   # α; the target flag below
    inv = 1 / total
    o.mul(Bb, total[:, None], T)                       # α b: the one read of B
    o.sub(S, T, C)                                     # h
    hh = o.dot_rows(C, C)
    tt = o.dot_rows(T, T)                              # α² ⟨b, b⟩
    flags = flags | o.above_half(T, tt, 0.5 * total)
    o.sub(C, (o.dot_rows(C, T) * inv)[:, None], C)     # g = h − ⟨h, b⟩
    o.mul(dS, S, dS)                                   # du
    dalpha = o.rowsum(dS)
    kappa = (o.dot_rows(dS, T) - dalpha * (tt * inv)) * inv   # ⟨dh, b⟩
    o.mul(C, dS, C)                                    # du∘g
    o.mul(T, (dalpha * inv)[:, None], T)               # dα b
    o.sub(dS, T, dS)                                   # dh
    o.sub(dS, kappa[:, None], dS)                      # dg
    o.mul(dS, S, dS)                                   # u∘dg
    o.add(C, dS, dS)                                   # dp
    flags = flags | ~_calm(o, hh, n, big) | ~_calm(o, o.dot_rows(dS, dS), n, big)
    return dS, flags, hh
