r"""The ratio rule's baseline: a straightforward same-dtype implementation, shifted by the row max.

Normalized: ``F = exp(S − m)/Σexp(S − m)`` with ``m`` the row max, ``C = F − B``, ``L = ½ΣC²``,
``∇ = A1ᵀ(F∘C − rowsum(F∘C)F)A2``. Rescaled: with ``Ê = exp(S − m)``, ``U = e^{m}Ê`` and
``H = e^{m}Ĥ``, ``Ĥ = Ê − (Σ_k Ê)B``, so ``L = ½Σ_j exp(2m_j + log‖Ĥ_j‖²)`` and
``P = e^{2m}(Ê∘Ĥ − rowsum(Ĥ∘B)Ê)`` (the scale is applied through ``exp(2m + log|·|)``, which is
what a careful user writes first). Every operation runs in the requested dtype: NumPy for float64 and
float32, torch (or NumPy with ml_dtypes) for float16 and bfloat16 (:mod:`.dtypes`).
"""
from __future__ import annotations

import numpy as np

from .dtypes import numpy_dtype, provider


def _lib(dtype: str):
    if provider(dtype) == "torch":
        import torch  # deferred: torch, an optional dependency

        t = getattr(torch, dtype)
        return (lambda a: torch.asarray(np.asarray(a, dtype=np.float64)).to(t)), torch, \
            (lambda a: a.to(torch.float64).numpy())
    nd = numpy_dtype(dtype)
    return (lambda a: np.asarray(a, dtype=np.float64).astype(nd)), np, (lambda a: np.asarray(a).astype(np.float64))


def _rows(xp, S, B, version):
    m = S.max(axis=-1, keepdims=True) if xp is np else S.amax(dim=-1, keepdim=True)
    E = xp.exp(S - m)
    rs = (lambda Z: Z.sum(axis=-1, keepdims=True)) if xp is np else (lambda Z: Z.sum(dim=-1, keepdim=True))
    if version == "normalized":
        F = E / rs(E)
        C = F - B
        return 0.5 * (C * C).sum(), F * C - rs(F * C) * F
    H = E - rs(E) * B
    r = rs(H * H)
    loss = 0.5 * xp.exp(2 * m + xp.log(r)).sum()
    Ph = E * H - rs(H * B) * E
    return loss, xp.sign(Ph) * xp.exp(2 * m + xp.log(xp.abs(Ph)))


def loss_and_grad(args, form: str, version: str, dtype: str):
    """``(loss, grad)`` as float64 NumPy values, computed in ``dtype``.

    NumPy with ml_dtypes returns float32 from a bfloat16 matrix product; each product is rounded back to
    ``dtype`` so that the baseline really rounds like the dtype.
    """
    to, xp, back = _lib(dtype)
    mm = (lambda a, b: a @ b) if xp is not np else (lambda a, b: (a @ b).astype(a.dtype))
    with np.errstate(all="ignore"):
        if form == "matrix":
            A1, A2, B, X = (to(a) for a in args)
            S = mm(mm(A1, X), A2.T)
            loss, P = _rows(xp, S, B, version)
            G = mm(mm(A1.T, P), A2)
        else:
            A, b, x = (to(a) for a in args)
            loss, p = _rows(xp, mm(A, x)[None, :], b[None, :], version)
            G = mm(A.T, p[0])
        return float(back(loss)), back(G)
