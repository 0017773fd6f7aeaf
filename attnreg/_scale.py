r"""Scaled numbers and cancellation-free sums for the row kernels.

A quantity too large or too small for the dtype is carried as a pair ``(t, z)`` with value ``e^t·z``:
``t`` a log-scale (often an integer, so that differences of scales are exact), ``z`` a mantissa of
moderate size. The tools:

* :func:`loo` — leave-one-out sums ``Σ_{j≠i} w_j`` without cancellation. The textbook
  ``(Σ_j w_j) − w_i`` loses everything when ``w_i`` dominates the row (``1 − f_k`` for a saturated
  softmax). Only one entry of a row can dominate (``|w_i| > Σ_{j≠i}|w_j|``) and it has the row's
  largest ``|w|``; for it the sum is taken over the other entries directly, for every other entry
  ``|w_i| ≤ Σ_{j≠i}|w_j|`` and ``(Σ_j w_j) − w_i`` is within ``2u·Σ_{j≠i}|w_j|`` of the truth. Ties of
  the largest ``|w|`` are summed apart: ``Σ_{ties} w − w_i`` is a sum of ±equal numbers, exact.
* :func:`others` — ``Σ_{j≠i} e^{s_j} w_j`` as ``e^{σ_i} V_i``: the row maximum is the scale except for
  the (unique) argmax itself, whose "others" are scaled by the second largest logit, so they do not
  underflow when the largest logit is far above the rest.
* :func:`times_exp` — ``z·e^t`` with ``e^t`` taken in halves, so that it neither overflows nor
  underflows before the product does; exact zeros stay zero (never ``0·inf``).
* :func:`lin` — ``e^a x + e^b y`` as ``e^κ z``; :func:`row_scale` — a log-scale per row.
* :func:`matmul` — ``G A`` as ``e^κ z`` with no partial sum overflowing (the sweeps' last product by ``A2``).
* :func:`shrink_rows`, :func:`halved` — rows of B, dS or A1 near the range divided by an integer ``e^β``, carried in
  the rows' log-scales.
* :func:`split` — an HVP's direction split into bands whose products could overflow, each scaled down, and the rest.
"""
from __future__ import annotations

import contextlib
import math
import sys

from ._types import Array, Namespace
from ._validate import readable


def lowest(xp: Namespace, dtype: object) -> float:
    """The most negative finite number: a log-scale that stands for "no term" and never makes nan."""
    return float(xp.finfo(dtype).min)


def times_exp(z: Array, t: Array | float, *, xp: Namespace) -> Array:
    """``z·e^t`` (``t`` broadcasts against ``z``): finite whenever the product is, ``0`` for ``z = 0``.

    ``t`` is split as ``t₁ + t₂`` with ``|t₁| ≤ 2H``, ``H = ⌊0.99·log(max)⌋`` (702 in float64, 87 in float32),
    and each part applied as two equal halves (``e^H`` is finite); halving is exact, so an integer ``t``
    costs one rounding per ``exp``. ``|t| > 4H`` only occurs where the product overflows or underflows
    anyway (``|log|z|| ≤ 1.17·log(max)`` for every nonzero ``z``, subnormals included).
    """
    big = math.log(float(xp.finfo(z.dtype).max))
    mag = xp.abs(z)
    nonzero = mag > 0
    # the product overflows: ±inf, without a floating-point warning
    over = nonzero & (xp.log(xp.where(nonzero, mag, xp.ones_like(mag))) + t > big)
    t = xp.where(over, xp.zeros_like(t), t)
    top = 2.0 * math.floor(0.99 * big)
    t1 = xp.clip(t, -top, top)
    t2 = xp.clip(t - t1, -top, top)
    a, b = xp.exp(t1 / 2), xp.exp(t2 / 2)
    inf = xp.full_like(z, math.inf)
    return xp.where(over, xp.where(z < 0, -inf, inf), (((z * a) * a) * b) * b)


def logmag(z: Array, *, xp: Namespace) -> Array:
    """``log|z|`` entrywise, with :func:`lowest` for exact zeros (no warning, no ``-inf``)."""
    mag = xp.abs(z)
    pos = mag > 0
    return xp.where(pos, xp.log(xp.where(pos, mag, xp.ones_like(mag))), lowest(xp, z.dtype))


def loo(W: Array, *, xp: Namespace) -> Array:
    """``Σ_{j≠i} W[r, j]`` for every entry of the k × n array ``W``, without cancellation (module docstring)."""
    mag = xp.abs(W)
    top = mag == xp.max(mag, axis=1, keepdims=True)
    zero = xp.zeros_like(W)
    rest = xp.sum(xp.where(top, zero, W), axis=1, keepdims=True)
    tied = xp.sum(xp.where(top, W, zero), axis=1, keepdims=True)
    return xp.where(top, rest + (tied - W), (rest + tied) - W)


def others(S: Array, W: Array, *, xp: Namespace, base: Array, shifted: Array) -> tuple[Array, Array]:
    """``(σ, V)`` with ``Σ_{j≠i} e^{S_rj} W_rj = e^{σ_ri} V_ri`` (k × n each).

    ``base`` (k × 1) is the row's scale: 0 for rows whose exponentials are all comfortably
    representable (then this is :func:`loo` of ``e^S∘W``), the row maximum for the ``shifted`` rows
    (k × 1 booleans). For a shifted row with a unique argmax, the argmax entry's sum is scaled by the second
    largest logit instead (``σ = −∞``, i.e. :func:`lowest`, with ``V = 0`` when ``n = 1``).
    """
    low = lowest(xp, S.dtype)
    m = xp.max(S, axis=1, keepdims=True)
    top = S == m
    unique = xp.sum(xp.astype(top, S.dtype), axis=1, keepdims=True) == 1
    V1 = loo(xp.exp(S - base) * W, xp=xp)
    m2 = xp.max(xp.where(top, low, S), axis=1, keepdims=True)
    m2 = xp.where(m2 > low, m2, xp.zeros_like(m2))  # finite even for n = 1
    E2 = xp.where(top, xp.zeros_like(S), xp.exp(xp.where(top, m2, S) - m2))
    V2 = xp.sum(E2 * W, axis=1, keepdims=True)
    second = top & unique & shifted
    sigma = xp.where(second, xp.where(V2 != 0, m2, low), base)
    return sigma, xp.where(second, V2, V1)


def lin(a: Array, x: Array, b: Array, y: Array, *, xp: Namespace) -> tuple[Array, Array]:
    """``(κ, z)`` with ``e^a x + e^b y = e^κ z``, ``κ`` the larger scale among the nonzero terms (plus ``log 2``
    where the two terms, each representable, add up past the dtype's range: then ``z`` is their half-sum)."""
    low = lowest(xp, x.dtype)
    a = xp.where(x != 0, a, low)
    b = xp.where(y != 0, b, low)
    k = xp.maximum(a, b)
    k = xp.where(k == low, xp.zeros_like(k), k)
    tx, ty = x * xp.exp(a - k), y * xp.exp(b - k)
    z = tx + ty
    over = xp.isinf(z) & xp.isfinite(tx) & xp.isfinite(ty)
    return xp.where(over, k + math.log(2), k), xp.where(over, 0.5 * tx + 0.5 * ty, z)


def row_scale(t: Array, z: Array, *, xp: Namespace, offset: Array | None = None) -> Array:
    """A log-scale per row (k,) for entries ``e^{t + o} z`` (k × n; ``o`` the ``offset`` per row, k × 1, None for 0):
    0 when the row's largest entry is within ``e^{±0.4·log(max)}`` (then nothing needs scaling and no rounding is
    added), else ``⌈max log|e^{t + o} z|⌉`` (an integer when ``o`` is); 0 for an all-zero row."""
    low = lowest(xp, z.dtype)
    top = xp.max(xp.where(z != 0, t + logmag(z, xp=xp), low), axis=1)
    if offset is not None:
        top = top + offset[:, 0]  # low + o stays low: |o| is far below |low|'s ulp
    calm = 0.4 * math.log(float(xp.finfo(z.dtype).max))
    return xp.where((top == low) | (xp.abs(top) < calm), xp.zeros_like(top), xp.ceil(top))


def matmul(G: Array, A: Array, *, xp: Namespace, read: bool = True) -> tuple[Array | None, Array]:
    """``(κ, z)`` with ``G A = e^κ z``, ``κ`` a 0-D integer-valued log-scale (None: 0, the plain product read as
    finite): no partial sum of the product overflows.

    A plain product of operands near the dtype's range overflows in its partial sums, and a BLAS that keeps
    several partial sums adds ``+inf`` to ``−inf``: nan, where the true entry is ±inf or, under a small outer
    scale ``e^M``, finite. Every partial sum of ``m`` terms is at most ``m·max|G|·max|A|``; when that can pass
    ``max/16`` (``g + a > L = ⌊log₂ max − log₂ m − 4⌋``, ``g, a`` the log₂ of the largest entries), the operands
    are divided by powers of two ``2^f``, ``2^e`` (exact, one 0-D scale each, as for the sums they come from) with
    ``f + e = ⌈g + a − L⌉``, the larger operand first down to the other, then both alike: the least scaling that
    bounds the sums, so that small entries underflow no earlier than they must. The factors come back as the integer
    ``κ = ⌊f ln 2⌋ + ⌊e ln 2⌋`` and ``2^f e^{−⌊f ln 2⌋}·2^e e^{−⌊e ln 2⌋} < e²`` applied to ``z`` (each factor formed
    from halves, ``2^p e^{−k} = 2^{⌊p/2⌋}e^{−k/2}·2^{⌈p/2⌉}e^{−k/2}``, so that nothing overflows in float16
    either). Where ``g + a ≤ L``, ``f = e = 0``: ``z`` is the plain product, bit for bit, and ``κ = 0``. The bound
    pairs the largest entries, which the product may never do (``[2⁶⁰⁰, 2⁻¹⁰⁰⁰]·[2⁻⁷⁰⁰, 2¹⁰⁰⁰]ᵀ = 1 + 2⁻¹⁰⁰``:
    scaled, ``2⁻¹⁰⁰⁰`` underflows), so the plain product is kept whenever it is finite (then no partial sum
    overflowed): one scalar read, or, for arrays that cannot be read (``jax.jit``), both products and a ``where``.
    ``read=False``: no read at all (the vector form, whose calls allow one read per input), both products and
    the ``where``.
    """
    with quiet():
        plain = G @ A
    fits = xp.all(xp.isfinite(plain))
    if read and readable(fits) and bool(fits):
        return None, plain
    info = xp.finfo(G.dtype)
    L = math.floor(math.log2(float(info.max)) - math.log2(max(G.shape[-1], 1)) - 4)
    logs = []
    for M in (G, A):
        top = xp.max(xp.abs(M)) if math.prod(M.shape) else xp.zeros((), dtype=M.dtype)
        ok = xp.isfinite(top) & (top > 0)
        logs.append(xp.where(ok, xp.log2(xp.where(ok, top, xp.ones_like(top))), xp.zeros_like(top)))
    g, a = logs
    need = xp.maximum(xp.ceil(g + a - L), xp.zeros_like(g))  # f + e
    level = xp.minimum(need, xp.floor(xp.abs(g - a)))  # the larger operand down to the other first
    rest = need - level
    big, small = level + xp.ceil(rest / 2), xp.floor(rest / 2)
    f, e = xp.where(g >= a, big, small), xp.where(g >= a, small, big)
    scaled = []
    for M, p in ((G, f), (A, e)):
        lo = xp.floor(p / 2)
        hi, k = p - lo, xp.floor(p * math.log(2))
        rho = (2.0 ** lo * xp.exp(-k / 2)) * (2.0 ** hi * xp.exp(-k / 2))  # 2^p e^{−k} in [1, e)
        scaled.append(((M * 2.0 ** -lo) * 2.0 ** -hi, k, rho))  # two exact steps: 2^{−p} alone underflows in float16
    (Gs, kg, rg), (As, ka, ra) = scaled
    z = (Gs @ As) * (rg * ra)
    return xp.where(fits, xp.zeros_like(kg), kg + ka), xp.where(fits, plain, z)


def _factor(beta: Array, *, xp: Namespace) -> Array:
    """``e^{−β}`` for integer ``β`` in ``[0, E]`` as ``e^{−β/2}·e^{−β/2}``: exact arguments, about 1.5 rounding errors,
    a normal number (``E = ⌊−log tiny⌋``, 708 in float64: XLA on CPU flushes subnormals to zero); 1 exactly for 0."""
    half = xp.exp(-beta / 2)
    return half * half


def _cap(dtype: object, *, xp: Namespace) -> float:
    return float(math.floor(-math.log(float(xp.finfo(dtype).smallest_normal))))


def shrink_rows(M: Array, *, xp: Namespace) -> tuple[Array, Array]:
    """``(β, e^{−β})`` per row of ``M`` (k × 1 each): the integer ``β = min(⌈log max|m|⌉, E)`` for the rows whose
    largest entry passes ``e^{0.4·log max}`` (that is 2^409 in float64), else ``β = 0``: the factor 1, and the row keeps
    its bits. Scaled, such a row is at most ``e^{log max − E}`` (below 8.2 in float64, float32 and float16). The
    log-scale is an integer like the kernels' others, so that differences of scales stay exact (a scale ``e·ln 2``
    cost up to 720u, tests/test_scale_attack.py). No value is read (one pass whatever the device)."""
    top = xp.max(xp.abs(M), axis=1, keepdims=True)
    big = top > math.exp(0.4 * math.log(float(xp.finfo(M.dtype).max)))
    beta = xp.where(big, xp.ceil(xp.log(xp.where(big, top, xp.ones_like(top)))), xp.zeros_like(top))
    beta = xp.minimum(beta, xp.full_like(beta, _cap(M.dtype, xp=xp)))
    return beta, _factor(beta, xp=xp)


def halved(A: Array, t: Array, P: Array, terms: int, *, xp: Namespace, power: int = 1) -> tuple[Array, Array]:
    """Rows of ``A`` (k × d, one per kernel row; ``power`` times in the term) divided by ``e^{β_j}`` and the rows'
    log-scales ``t`` (k,) raised by ``power·β_j``: row j's term ``(A_j)^{power} e^{t_j} P_j`` is unchanged.

    The sweeps' ``A1_blkᵀ P̃`` sums ``terms`` products ``A1[j, i]·p̃_j``; with ``A1`` near the dtype's maximum those
    partial sums overflowed where the rows' small scale ``e^t`` brings the gradient back into the range (a rescaled
    gradient ~2e54 came back inf). ``β_j`` is the least integer that bounds them by ``max/16``:
    ``⌈(power·log max|A_j| + log max|P_j| + log terms − log(max/16))/power⌉`` (and, for ``power`` > 1, at least
    ``⌈(power·log max|A_j| − log(max/16))/power⌉``: the power is formed alone) when positive (capped at ``E``, see
    :func:`_factor`), else 0 and the row keeps its bits: scaling only where an overflow is possible, so that small
    entries of ``A`` are not flushed for nothing (``A2`` subnormal after the product)."""
    info = xp.finfo(A.dtype)
    low = lowest(xp, A.dtype) / 4  # the log of an all-zero row: ``power·low + low`` stays finite for power ≤ 3 (the
    # most negative number itself overflowed in the sum, with a warning on array_api_strict: tests/test_dtype_attack D5)

    def logtop(M: Array) -> Array:
        top = xp.max(xp.abs(M), axis=1, keepdims=True)
        pos = top > 0
        return xp.where(pos, xp.log(xp.where(pos, top, xp.ones_like(top))), low)

    top, room = logtop(A), math.log(float(info.max) / 16)
    need = power * top + logtop(P) + (math.log(max(terms, 1)) - room)
    if power > 1:  # the power itself is formed first (Q = a_j a_jᵀ)
        need = xp.maximum(need, power * top - room)
    beta = xp.where(need > 0, xp.ceil(need / power), xp.zeros_like(need))
    beta = xp.minimum(beta, xp.full_like(beta, _cap(A.dtype, xp=xp)))
    return A * _factor(beta, xp=xp), t + power * beta[:, 0]


def split(V: Array, left: Array | None, right: Array | None, *, xp: Namespace,
          bands: int = 2) -> tuple[list[tuple[Array, Array]], Array]:
    """``([(m_b, V_b·e^{−m_b})], V_lo)`` with ``V = Σ_b V_b + V_lo``, for a direction that enters an HVP only through
    the products ``L V``, ``V Rᵀ`` and ``L V Rᵀ`` (``left`` = ``L``, ``right`` = ``R``, either None): the HVP is
    linear in it, ``H(V) = Σ_b e^{m_b} H(V_b e^{−m_b}) + H(V_lo)``. No value is read.

    Entry ``V_ik`` meets column i of ``L`` and column k of ``R``: every product's partial sums stay below ``max/16``
    if each entry's terms, times their number, do: ``w_ik = v_ik + max(l_i + log₂ d_0, r_k + log₂ d_1,
    l_i + r_k + log₂ d_0 d_1) ≤ log₂ max − 4`` (``v, l, r`` the log₂ of the entry and of the columns' largest
    entries, ``d`` V's shape). An entry that passes needs ``K_ik = ⌈w_ik − (log₂ max − 4)⌉`` powers of two off; the
    others form ``V_lo``, left alone, however small. The entries that need some are taken in ``bands``: each band
    the largest need ``k`` left and every entry that, divided by ``2^k``, stays normal (an ordinary entry divided as
    much as a huge one became subnormal: 5.6% off, tests/test_split_attack.py); the last band takes the rest.
    ``m_b = ⌈k ln 2⌉`` is an integer (scale differences stay exact), applied in four steps of ``e^{−m/4}``, normal
    numbers. Where nothing can overflow every band is 0 and ``V_lo = V``, bit for bit."""
    info = xp.finfo(V.dtype)
    none = -1.0e4  # the log₂ of 0: far below any entry's, and no overflow when three are added
    zero = xp.zeros_like(V)

    def log2cols(M: Array) -> Array:
        top = xp.max(xp.abs(M), axis=0)
        pos = top > 0
        return xp.where(pos, xp.log2(xp.where(pos, top, xp.ones_like(top))), xp.full_like(top, none))

    mag = xp.abs(V)
    v = xp.where(mag > 0, xp.log2(xp.where(mag > 0, mag, xp.ones_like(mag))), xp.full_like(mag, none))
    parts = []
    if left is not None:
        li = log2cols(left) + math.log2(max(V.shape[0], 1))
        parts.append(li[:, None] if V.ndim == 2 else li)
    if right is not None:
        parts.append((log2cols(right) + math.log2(max(V.shape[-1], 1)))[None, :])
    if len(parts) == 2:
        parts.append(parts[0] + parts[1])
    w = parts[0]
    for q in parts[1:]:
        w = xp.maximum(w, q)
    need = xp.ceil(v + w - (math.log2(float(info.max)) - 4))
    rest = need > 0
    floor = -math.log2(float(info.smallest_normal))  # 1022 in float64: 2^{v−k} is normal iff v − k ≥ −1022
    out = []
    for b in range(bands):
        k = xp.max(xp.where(rest, need, zero))
        take = rest if b == bands - 1 else rest & (v - k >= -floor)
        m = xp.ceil(k * math.log(2))
        q = xp.exp(-m / 4)
        out.append((m, (((xp.where(take, V, zero) * q) * q) * q) * q))
        rest = rest & ~take
    return out, xp.where(need > 0, zero, V)


def lift(V: Array, left: Array | None, right: Array | None, *, xp: Namespace,
         read: bool = False) -> tuple[Array | None, Array]:
    """``(m, V·e^m)`` with ``m`` a 0-D integer, ``m > 0`` for a direction so small that its products with ``L`` and
    ``R`` (as in :func:`split`) could fall into the subnormals, else ``m = 0`` and ``V`` bit for bit (``e^0`` is 1). The
    HVP is linear in ``V``: ``H(V) = e^{−m}·H(V·e^m)``. No value is read unless ``read`` (then ``(None, V)`` when no
    lift is needed); ``(None, V)`` for a ``V`` that cannot be read (``jax.jit``: a lifted first pass that overflows
    could not be redone there).

    ``V`` is lifted when ``σ = max|V|·min(1, max|L|, max|R|)`` — the largest entry of ``V`` times the smaller of the
    operands' largest entries, or alone — is below ``tiny/ε`` (``2^{−970}`` in float64, ``2^{−103}`` in float32): then a
    term of ``V Rᵀ`` or ``L V`` made with ``V``'s largest entry may keep fewer bits than the dtype has. ``m = ⌈−log σ⌉``
    brings ``σ`` to ``[1, e)``; a product that then overflows is :func:`split`'s to handle. With
    ``A1 = [[1e300], [0.7]]``, ``A2 = [[1], [−0.5]]`` and ``V = [[3.3e-320]]``, ``V A2ᵀ`` kept 13 bits and the HVP came
    out 5e-5 off (tests/test_dtype_attack.py D2). Entries of ``V`` far below its largest are not lifted further (a
    known limit)."""
    if not readable(V) or math.prod(V.shape) == 0:
        return None, V
    info = xp.finfo(V.dtype)
    top = xp.max(xp.abs(V))
    one = xp.ones_like(top)
    log_size = xp.log(xp.where(top > 0, top, one))  # in logs: σ itself can underflow
    for M in (left, right):
        if M is not None and math.prod(M.shape):
            mx = xp.maximum(xp.max(M), -xp.min(M))  # max|M| without an |M| temporary (n × d)
            log_size = log_size + xp.minimum(xp.log(xp.where(mx > 0, mx, one)), 0 * one)
    small = (top > 0) & (top < math.inf) & (log_size < math.log(float(info.smallest_normal) / float(info.eps)))
    if read and not bool(small):  # NumPy: a read is free, and an ordinary call skips the scaling of its result
        return None, V
    m = xp.where(small, xp.ceil(-log_size), 0 * one)
    return m, times_exp(V, m, xp=xp)


def quiet() -> contextlib.AbstractContextManager[object]:
    """NumPy's overflow warnings off (thread-local) where NumPy is loaded: an overflow in :func:`matmul`'s plain
    product, or in an HVP's first pass that :func:`split` redoes, is expected and handled, and NumPy-backed
    libraries (NumPy, array_api_strict) would warn of it."""
    np = sys.modules.get("numpy")  # not imported here: the core stays array-API only
    return contextlib.nullcontext() if np is None else np.errstate(over="ignore", invalid="ignore")
