r"""Arithmetic as a parameter: the formulas of the lemmas are written once against ``ops`` and run both
symbolically (:data:`SYM`, sympy matrices of symbols) and at high precision (:class:`MpOps`, mpmath
matrices in a local context). Matrices are sympy ``Matrix`` or ``ctx.matrix``; vectors are columns.
"""
from __future__ import annotations

import sympy as sp


class SymOps:
    """sympy: exact, symbolic."""

    def matrix(self, rows):
        return sp.Matrix(rows)

    def col(self, v):
        return sp.Matrix(list(v))

    def diag(self, v):
        return sp.diag(*entries(v))

    def had(self, a, b):
        return a.multiply_elementwise(b)

    def exp(self, v):
        return v.applyfunc(sp.exp)

    def dot(self, a, b):
        return (a.T * b)[0, 0]

    def ones(self, k):
        return sp.ones(k, 1)

    def zeros(self, r, c):
        return sp.zeros(r, c)

    def kron(self, P, Q):
        # the definition: (P ⊗ Q)[i·q_r + k, j·q_c + m] = P[i, j] Q[k, m]
        return sp.Matrix(P.rows * Q.rows, P.cols * Q.cols,
                         lambda r, c: P[r // Q.rows, c // Q.cols] * Q[r % Q.rows, c % Q.cols])


class MpOps:
    """mpmath: a local ``MPContext`` (never the global ``mp``)."""

    def __init__(self, ctx):
        self.ctx = ctx

    def matrix(self, rows):
        return self.ctx.matrix([list(r) for r in rows])

    def col(self, v):
        return self.ctx.matrix([[x] for x in v])

    def diag(self, v):
        return self.ctx.diag(entries(v))

    def had(self, a, b):
        out = self.ctx.matrix(a.rows, a.cols)
        for i in range(a.rows):
            for j in range(a.cols):
                out[i, j] = a[i, j] * b[i, j]
        return out

    def exp(self, v):
        return v.apply(self.ctx.exp)

    def dot(self, a, b):
        return self.ctx.fdot(entries(a), entries(b))

    def ones(self, k):
        return self.ctx.ones(k, 1)

    def zeros(self, r, c):
        return self.ctx.zeros(r, c)

    def kron(self, P, Q):
        out = self.ctx.matrix(P.rows * Q.rows, P.cols * Q.cols)
        for i in range(P.rows):
            for j in range(P.cols):
                for k in range(Q.rows):
                    for m in range(Q.cols):
                        out[i * Q.rows + k, j * Q.cols + m] = P[i, j] * Q[k, m]
        return out


SYM = SymOps()


def entries(M) -> list:
    """Row-major entries of a sympy or mpmath matrix (or a list)."""
    if isinstance(M, list | tuple):
        return list(M)
    return [M[i, j] for i in range(M.rows) for j in range(M.cols)]


def row(M, j):
    """Row ``j`` of ``M`` as a column vector."""
    return M[j, :].T


def vec(X, ops):
    """Row-major ``vec``: ``x[i·cols + k] = X[i, k]``."""
    return ops.col(entries(X))


def unvec(x, rows, cols, ops):
    e = entries(x)
    return ops.matrix([e[i * cols:(i + 1) * cols] for i in range(rows)])


def along(expr, P, V):
    """Directional derivative of ``expr`` (sympy) in the symbols of ``P`` along ``V``: Σ V_ij ∂expr/∂P_ij."""
    return sum((V[i, j] * expr.diff(P[i, j]) for i in range(P.rows) for j in range(P.cols)), 0 * expr)
