r"""The objective protocol of the production solvers: one interface for the matrix and vector forms.

A solver sees a flat iterate ``x`` (``vec(X)`` row-major, or the vector form's ``x``) and asks the
objective for: the loss and gradient, Hessian-vector products, the dense Hessian when it is small,
the scale of the gradient's terms (for the tolerance, :mod:`attnreg.stopping`) and, per row,
``log α_j`` and the normalized loss ``ℓ^N_j = ½||f_j − b_j||²`` (escapes and the kind of point).
The vector form is the matrix form with one row, so both classes implement the same methods and
neither inherits from the other.
"""
from __future__ import annotations

import math
from typing import Protocol

from . import _vector as vector
from . import blocks, matrix
from ._norms import l2
from ._types import Array, Namespace

DENSE_MAX = 256  # variables: up to here the dense Hessian (d⁴ ≤ 65536 entries) is cheap next to a solve


class Objective(Protocol):
    version: str
    xp: Namespace
    rows: int
    size: int
    norms: float
    zero: bool  # the data are zero (A1 or A2, or A): the gradient is 0 everywhere, and norms is 0 truly

    def X(self, x: Array) -> Array: ...
    def flat(self, G: Array) -> Array: ...
    def value_and_grad(self, x: Array) -> tuple[float, Array]: ...
    def hvp(self, x: Array, v: Array) -> Array: ...
    def hessian(self, x: Array) -> Array: ...
    def row_terms(self, x: Array) -> tuple[list[float], list[float]]: ...
    def fitted(self, x: Array) -> bool: ...


def scale(obj: Objective, x: Array) -> float:
    """``||A1||_F ||A2||_F κ`` with ``κ = max_j α_j²`` (rescaled) or 1; inf when it overflows."""
    if obj.version == "normalized":
        return obj.norms
    top = max(obj.row_terms(x)[0])
    try:
        return obj.norms * math.exp(2 * top)
    except OverflowError:
        return math.inf


class MatrixObjective:
    def __init__(self, A1: Array, A2: Array, B: Array, version: str, xp: Namespace) -> None:
        self.A1, self.A2, self.B, self.version, self.xp = A1, A2, B, version, xp
        d = A1.shape[1]
        self.shape, self.rows, self.size = (d, d), A1.shape[0], d * d
        n1, n2 = l2(A1, xp=xp), l2(A2, xp=xp)
        self.norms, self.zero = n1 * n2, n1 == 0 or n2 == 0  # scaled: no overflow of the sum of squares

    def X(self, x: Array) -> Array:
        return self.xp.reshape(x, self.shape)

    def flat(self, G: Array) -> Array:
        return self.xp.reshape(G, (-1,))

    def value_and_grad(self, x: Array) -> tuple[float, Array]:
        loss, G = matrix.loss_and_grad(self.A1, self.A2, self.B, self.X(x), version=self.version)
        return float(loss), self.flat(G)

    def hvp(self, x: Array, v: Array) -> Array:
        return self.flat(matrix.hvp(self.A1, self.A2, self.B, self.X(x), self.X(v), version=self.version))

    def hessian(self, x: Array) -> Array:
        return matrix.hessian(self.A1, self.A2, self.B, self.X(x), version=self.version)

    def fitted(self, x: Array) -> bool:
        """Whether ``c = f − B`` is exactly 0: then ``P``, hence the gradient, is exactly 0 whatever the data's scale (a
        loss of 0 alone can be ``½Σc²`` underflowed)."""
        return bool(self.xp.all(blocks.c(self.A1, self.A2, self.B, self.X(x)) == 0))

    def row_terms(self, x: Array) -> tuple[list[float], list[float]]:
        """``(log α_j, ℓ^N_j)`` for every row, as lists of floats (by row blocks for log α)."""
        xp = self.xp
        lse = blocks.log_alpha(self.A1, self.A2, self.X(x))
        C = blocks.c(self.A1, self.A2, self.B, self.X(x))
        ell = 0.5 * xp.sum(C * C, axis=1)
        return [float(v) for v in lse], [float(v) for v in ell]


class VectorObjective:
    def __init__(self, A: Array, b: Array, version: str, xp: Namespace) -> None:
        self.A, self.b, self.version, self.xp = A, b, version, xp
        self.rows, self.size = 1, A.shape[1]
        self.norms = l2(A, xp=xp)
        self.zero = self.norms == 0

    def X(self, x: Array) -> Array:
        return x

    def flat(self, G: Array) -> Array:
        return G

    def value_and_grad(self, x: Array) -> tuple[float, Array]:
        loss, g = vector.loss_and_grad(self.A, self.b, x, version=self.version)
        return float(loss), g

    def hvp(self, x: Array, v: Array) -> Array:
        return vector.hvp(self.A, self.b, x, v, version=self.version)

    def hessian(self, x: Array) -> Array:
        return vector.hessian(self.A, self.b, x, version=self.version)

    def fitted(self, x: Array) -> bool:
        return bool(self.xp.all(vector.c(self.A, self.b, x) == 0))

    def row_terms(self, x: Array) -> tuple[list[float], list[float]]:
        xp = self.xp
        s = self.A @ x
        m = xp.max(s)
        lse = float(m + xp.log(xp.sum(xp.exp(s - m))))
        return [lse], [float(vector.loss(self.A, self.b, x, version="normalized"))]
