"""The tests' high-precision oracle: :mod:`verify.oracle` (mpmath straight from the definitions, not
attnreg.reference), and what the tests add to it: the loss with its context, and the normwise error of a
float result against the exact values.

Rows are given by their logits ``S`` (k × n) and targets ``B``; with ``A1 = A2 = I`` the matrix form's
gradient in ``X = S`` is ``P`` itself and its Hessian is block diagonal with the row Hessians ``K_j`` (the
HVP by central differences of the gradient, an independent route to the second derivative).
tests/test_oracle.py checks the oracle against attnreg.reference's ctx route.
"""
from __future__ import annotations

import numpy as np

from attnreg.verify.oracle import context, mp_rows, quantity, row


__all__ = ["context", "mp_rows", "quantity", "row", "loss", "flat", "relerr"]


def loss(S, B, version):
    """``(L, ctx)``: the loss of the rows at the precision :func:`context` chooses."""
    ctx = context(S)
    return quantity(ctx, "loss", version)(mp_rows(ctx, S), mp_rows(ctx, B))[0], ctx


def flat(exact):
    """Entries of a scalar, list or list of lists of mpf, flattened row-major."""
    if not isinstance(exact, list):
        return [exact]
    return [x for r in exact for x in (r if isinstance(r, list) else [r])]


def relerr(value, exact, ctx) -> float:
    """Largest entrywise error relative to the largest exact entry (normwise in the ∞-norm), in ``ctx``."""
    v = np.asarray(value, dtype=float).ravel().tolist()
    e = flat(exact)
    assert len(v) == len(e), (len(v), len(e))
    scale = max(abs(x) for x in e)
    err = max(abs(ctx.mpf(vi) - ei) if np.isfinite(vi) else ctx.inf for vi, ei in zip(v, e))
    return float(err) if scale == 0 else float(err / scale)
