"""Convert and validate public inputs of the reference path (same sentences as the production path)."""
from __future__ import annotations

from attnreg._validate import check_version

from .context import check_dps, evaluate, to_matrix, to_vector


def matrix_inputs(ctx, A1, A2, B, X, V=None):
    """``(A1, A2, B, X[, V])`` as lists of rows of ``ctx.mpf``; ``B`` may be None (not needed)."""
    A1 = to_matrix(ctx, "A1", A1, (None, None))
    n, d = len(A1), len(A1[0])
    out = [A1, to_matrix(ctx, "A2", A2, (n, d)), None if B is None else to_matrix(ctx, "B", B, (n, n)),
           to_matrix(ctx, "X", X, (d, d))]
    return out if V is None else [*out, to_matrix(ctx, "V", V, (d, d))]


def vector_inputs(ctx, A, b, x, v=None):
    """``(A, b, x[, v])`` as lists of ``ctx.mpf``; ``b`` may be None (not needed)."""
    A = to_matrix(ctx, "A", A, (None, None))
    n, d = len(A), len(A[0])
    out = [A, None if b is None else to_vector(ctx, "b", b, n), to_vector(ctx, "x", x, d)]
    return out if v is None else [*out, to_vector(ctx, "v", v, d)]


NO_VERSION = object()  # for the building blocks, which have no version


def run(fn, convert, args, dps, version=NO_VERSION):
    """Validate, then ``evaluate(ctx -> fn(ctx, *convert(ctx, *args)[, version]), dps)``."""
    if version is not NO_VERSION:
        check_version(version)
    check_dps(dps)
    tail = () if version is NO_VERSION else (version,)
    return evaluate(lambda ctx: fn(ctx, *convert(ctx, *args), *tail), dps)
