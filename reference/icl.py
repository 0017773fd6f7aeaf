"""In-context learning at high precision: the shifted target ``B̃`` and the exactness of the construction.

The production construction is :mod:`attnreg.icl` (its docstring has the mathematics); here ``B̃`` is
built from the reference's ``f``, ``u`` and ``α`` at ``dps + 10`` digits, and :func:`exactness` checks
that the new problem's residual with ``B`` equals the old problem's residual with ``B̃``.
"""
from __future__ import annotations

from attnreg._validate import check_move, check_version

from . import alpha, c, f, h, make_context, u
from .context import check_dps, to_matrix

__all__ = ["shifted_target", "exactness"]


def shifted_target(A1, A2, B, X, *, version, A1_new=None, A2_new=None, X_new=None, dps: int = 50):
    """``B̃`` as an ``mpmath.matrix`` correct to about ``dps`` digits (from ``attnreg.reference``)."""
    version = check_version(version)
    check_move(A1_new, A2_new, X_new)
    check_dps(dps)
    A1n = A1 if A1_new is None else A1_new
    A2n = A2 if A2_new is None else A2_new
    Xn = X if X_new is None else X_new
    ctx = make_context(dps + 10)
    B = to_matrix(ctx, "B", B, (None, None))
    n = len(B)
    if version == "normalized":
        F, Fn = f(A1, A2, X, dps=dps + 10), f(A1n, A2n, Xn, dps=dps + 10)
        out = [[B[j][k] + ctx.mpf(F[j, k]) - ctx.mpf(Fn[j, k]) for k in range(n)] for j in range(n)]
    else:
        U, Un = u(A1, A2, X, dps=dps + 10), u(A1n, A2n, Xn, dps=dps + 10)
        a, an = alpha(A1, A2, X, dps=dps + 10), alpha(A1n, A2n, Xn, dps=dps + 10)
        out = [[(ctx.mpf(U[j, k]) - ctx.mpf(Un[j, k]) + ctx.mpf(an[j]) * B[j][k]) / ctx.mpf(a[j]) for k in range(n)]
               for j in range(n)]
    return ctx.matrix(out)


def exactness(A1, A2, B, X, *, version, A1_new=None, A2_new=None, X_new=None, dps: int = 50):
    """``max |residual_new(B) − residual_old(B̃)| / max |residual_new(B)|`` at ``dps`` digits (an mpf;
    about ``10^{−dps}`` when the construction is exact)."""
    check_move(A1_new, A2_new, X_new)
    check_dps(dps)
    A1n = A1 if A1_new is None else A1_new
    A2n = A2 if A2_new is None else A2_new
    Xn = X if X_new is None else X_new
    Bt = shifted_target(A1, A2, B, X, version=version, A1_new=A1_new, A2_new=A2_new, X_new=X_new, dps=dps)
    residual = c if version == "normalized" else h
    new, old = residual(A1n, A2n, B, Xn, dps=dps), residual(A1, A2, Bt, X, dps=dps)
    diff = max(abs(new[i, j] - old[i, j]) for i in range(new.rows) for j in range(new.cols))
    scale = max(abs(new[i, j]) for i in range(new.rows) for j in range(new.cols))
    return diff / scale if scale else diff

