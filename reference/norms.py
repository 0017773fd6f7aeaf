r"""Norms at any precision, ``ctx`` first (the mpmath twins of ``attnreg/_norms.py``).

* :func:`l2` — ``||v||₂`` of all entries (the Frobenius norm of a matrix), ``sqrt(Σ v²)`` at ``ctx``'s
  precision; mpmath's exponent range is unbounded, so no scaling is needed.
* :func:`spectral` — ``||M||₂ = σ₁(M)``, the largest of mpmath's singular values (``svd_r``) at ``ctx``'s
  precision.

Inputs: a number, nested lists, an mpmath matrix or a NumPy array (of floats or of mpf); entries are taken
into ``ctx`` with ``ctx.mpf`` (floats exactly).
"""
from __future__ import annotations


def entries(v) -> list:
    """The entries of ``v`` row-major, flattened (a number is one entry)."""
    if hasattr(v, "rows") and hasattr(v, "cols"):  # an mpmath matrix
        return [v[i, j] for i in range(v.rows) for j in range(v.cols)]
    if hasattr(v, "ravel"):  # a NumPy array
        return list(v.ravel())
    if isinstance(v, (list, tuple)):
        return [x for r in v for x in entries(r)]
    return [v]


def l2(ctx, v):
    """``||v||₂`` over all entries (Frobenius for a matrix) at ``ctx``'s precision."""
    xs = [ctx.mpf(x) for x in entries(v)]
    return ctx.sqrt(ctx.fsum(x * x for x in xs))


def spectral(ctx, M):
    """``||M||₂``, the largest singular value of the matrix ``M`` (rows) at ``ctx``'s precision (0 if empty)."""
    if hasattr(M, "rows") and hasattr(M, "cols"):
        rows = [[ctx.mpf(M[i, j]) for j in range(M.cols)] for i in range(M.rows)]
    else:
        rows = [[ctx.mpf(x) for x in entries(r)] for r in M]
    if not rows or not rows[0]:
        return ctx.zero
    return max(ctx.svd_r(ctx.matrix(rows), compute_uv=False))
