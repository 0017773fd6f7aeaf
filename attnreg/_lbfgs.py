r"""L-BFGS search directions (Nocedal & Wright, Alg. 7.4, the two-loop recursion), array-API generic.

From the last ``m`` pairs ``s_k = x_{k+1} − x_k``, ``y_k = ∇L(x_{k+1}) − ∇L(x_k)`` the direction is
``p = −H_k ∇L`` with ``H_k`` the L-BFGS inverse-Hessian approximation, started from
``H⁰ = (sᵀy / yᵀy) I``. Pairs with ``sᵀy ≤ 10⁻¹⁰ ||s|| ||y||`` (no positive curvature measured, e.g.
after an Armijo-only step) are skipped, so ``H_k`` stays positive definite and ``p`` a descent
direction. The first step, with no pairs yet, is ``−∇L / ||∇L||`` (unit length).
"""
from __future__ import annotations

import operator
from collections import deque

from ._norms import l2
from ._types import Array, Namespace


def dot(a: Array, b: Array, *, xp: Namespace) -> float:
    return float(xp.sum(a * b))


class LBFGS:
    name = "lbfgs"
    patience = 30  # polishing below the default tol: steps allowed without halving ||∇L||

    def __init__(self, *, xp: Namespace, memory: int = 10) -> None:
        self.xp = xp
        # index(): an integer-like memory (np.int64(2), validated by the caller) is an int for deque
        self.pairs: deque[tuple[Array, Array, float]] = deque(maxlen=operator.index(memory))

    def direction(self, x: Array, g: Array) -> Array:
        xp = self.xp
        if not self.pairs:
            return -g / l2(g, xp=xp)
        q, alphas = g, list[float]()
        for s, y, rho in reversed(self.pairs):
            a = rho * dot(s, q, xp=xp)
            alphas.append(a)
            q = q - a * y
        s, y, _ = self.pairs[-1]
        r = q * (dot(s, y, xp=xp) / dot(y, y, xp=xp))
        for (s, y, rho), a in zip(self.pairs, reversed(alphas)):
            r = r + s * (a - rho * dot(y, r, xp=xp))
        return -r

    def update(self, s: Array, y: Array) -> None:
        xp = self.xp
        sy = dot(s, y, xp=xp)
        if sy > 1e-10 * l2(s, xp=xp) * l2(y, xp=xp):  # curvature condition, with a relative margin
            self.pairs.append((s, y, 1.0 / sy))

    def reset(self) -> bool:
        """Forget the pairs; True when the last direction was not already ``−∇L`` (a retry along it is new)."""
        had = bool(self.pairs)
        self.pairs.clear()
        return had
