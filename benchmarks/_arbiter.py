r"""The gradient arbiter: ``∇L = A1ᵀ P A2`` about 2000× more accurately than float64, at BLAS speed.

What it is, and why it is honest:

1. ``S = A1 X A2ᵀ`` is computed in float64 and is **exact** on the benchmark's dyadic data (``_data``).
2. Row by row (blocks of rows), ``exp``, row sums and ``P`` (``F∘C − ⟨f, c⟩F`` normalized,
   ``U∘H − ⟨h, b⟩U`` rescaled) are evaluated in NumPy ``longdouble`` — x87 extended precision on x86-64
   Linux, unit roundoff ``u = 2⁻⁶⁴ ≈ 5.4e-20``, 2048× below float64's. No shift is needed: the data's
   logits are O(1) and the extended exponent range is huge.
3. The two contractions ``T = A1ᵀ P`` and ``G = T A2`` are done **exactly** with float64 BLAS (the Ozaki
   splitting): the extended-precision factor is scaled per contraction column by a power of two and cut
   into slices of ``b`` bits, ``b = 52 − 8 − ⌈log₂ K⌉`` for a contraction of length ``K``; each slice times
   the 8-bit dyadic ``A`` is a product of integers whose every partial sum stays below 2⁵³, so BLAS returns
   it exactly, in any order. The slices' products are summed in extended precision.

So the arbiter's error is that of an extended-precision evaluation of ``P`` (a few ``n·u_ext`` relative)
plus one extended rounding per slice and block: far below any float64 contender's error, which it is used
to measure. It is checked against the 50-digit ``attnreg.reference`` in tests/test_benchmarks.py. Where
``longdouble`` is only float64 (Windows, macOS on ARM), :func:`available` is False and errors are not
reported.
"""
from __future__ import annotations

import math

import numpy as np

from _data import A_BITS, A_SCALE

LD = np.longdouble
BLOCK_ROWS = 256


def available() -> bool:
    return float(np.finfo(LD).eps) <= 2.0**-60


def exact_matmul(Q: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``Q @ Y`` in extended precision for ``Q`` on the 8-bit grid of ``_data`` and ``Y`` extended (or float64).

    Exact up to one extended rounding per slice: each slice product is an exact float64 BLAS product.
    """
    q = Q * A_SCALE
    if not (np.all(q == np.round(q)) and np.max(np.abs(q)) <= 2.0**A_BITS):
        raise ValueError("exact_matmul needs the left factor on the benchmark's dyadic grid")
    K = Q.shape[1]
    b = 52 - A_BITS - max(1, math.ceil(math.log2(K)))
    Y = np.asarray(Y, dtype=LD)
    top = np.max(np.abs(Y), axis=0)
    e = np.where(top > 0, np.ceil(np.log2(np.where(top > 0, top, 1))), 0).astype(int)
    scale = np.ldexp(np.ones(Y.shape[1], dtype=LD), e)   # |Y[:, k]| ≤ 2^e_k
    Z = Y / scale                                          # exact: division by a power of two
    out = np.zeros((Q.shape[0], Y.shape[1]), dtype=LD)
    step = 0
    while np.any(Z != 0):
        step += b
        if step > 4 * 64:
            raise RuntimeError("exact_matmul: the slices did not exhaust the extended significand")
        I = np.round(np.ldexp(Z, step))                    # |I| ≤ 2^b: integers, exact in float64
        Z = Z - np.ldexp(I, -step)                          # exact: the low bits that remain
        prod = q @ I.astype(np.float64)                     # integers below 2^53: exact in BLAS
        out += np.ldexp(prod.astype(LD), -step)
    return out * scale / LD(A_SCALE)


def _rows_p(S, B, version):
    E = np.exp(S.astype(LD))
    alpha = E.sum(axis=1, keepdims=True)
    if version == "normalized":
        F = E / alpha
        C = F - B
        return F * C - (F * C).sum(axis=1, keepdims=True) * F
    H = E - alpha * B
    return E * H - (H * B).sum(axis=1, keepdims=True) * E


def gradient(A1, A2, B, X, version: str) -> np.ndarray:
    """The arbiter's ``∇_X L`` (the ½ convention) as a longdouble d × d array, from float64 copies of the inputs."""
    A1, A2, B, X = (np.asarray(a, dtype=np.float64) for a in (A1, A2, B, X))
    n, d = A1.shape
    W = X @ A2.T                                            # exact on the dyadic grid (see _data)
    T = np.zeros((d, n), dtype=LD)
    for start in range(0, n, BLOCK_ROWS):
        rows = slice(start, min(start + BLOCK_ROWS, n))
        S = A1[rows] @ W                                    # exact
        T += exact_matmul(A1[rows].T, _rows_p(S, B[rows], version))
    return exact_matmul(A2.T, T.T).T


def relative_error(G, G_star) -> float:
    """``‖G − G*‖_F / ‖G*‖_F``, the difference taken in extended precision."""
    G_star = np.asarray(G_star, dtype=LD)
    diff = np.asarray(G, dtype=np.float64).astype(LD) - G_star
    return float(np.sqrt(np.sum(diff * diff)) / np.sqrt(np.sum(G_star * G_star)))
