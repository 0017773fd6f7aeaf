r"""Truncated Newton-CG directions (Nocedal & Wright, Alg. 7.1), array-API generic.

Conjugate gradients on ``∇²L p = −∇L`` using only Hessian-vector products (:func:`attnreg.hvp`, exact),
stopped when the residual falls below ``η ||∇L||`` with ``η = min(½, √||∇L||)`` (superlinear
convergence near a nondegenerate minimiser) or after ``max_cg`` products. Negative curvature: when a
CG direction ``v`` has ``vᵀ∇²L v ≤ 0`` the iterate so far is returned (it is a descent
direction), or ``−∇L`` if that happens at the first CG step. CG works in the Krylov space of ``∇L``,
which is orthogonal to the null directions ``z ⊗ w`` of the normalized Hessian (docs/design.md §2), so those
do no harm.

Small problems (``hessian`` given: at most a few hundred variables) take the exact Newton step of the
dense Hessian instead, with every eigenvalue replaced by ``max(|λ|, μ)`` (``μ = 10·m·eps·max|λ|``):
a descent direction at any point, curvature-driven escape from saddles, and no truncation, so
ill-conditioned minimisers (condition numbers of 10⁷ are common on realisable problems) are reached to
the rounding floor where truncated CG crawls.
"""
from __future__ import annotations

import math
from collections.abc import Callable

from ._lbfgs import dot
from ._norms import l2
from ._types import Array, Namespace


class NewtonCG:
    name = "newton-cg"
    patience = 10  # polishing below the default tol: steps allowed without halving ||∇L||

    def __init__(self, hvp: Callable[[Array, Array], Array], *, xp: Namespace, max_cg: int,
                 hessian: Callable[[Array], Array] | None = None) -> None:
        self.hvp, self.xp, self.max_cg, self.hessian = hvp, xp, max_cg, hessian

    def direction(self, x: Array, g: Array) -> Array:
        xp = self.xp
        if self.hessian is not None:
            p = self._dense(x, g)
            if p is not None:
                return p
        gn = l2(g, xp=xp)
        # CG is linear in g: run it on g/||g|| (no underflow for tiny gradients), scale the result back.
        g = g / gn
        stop = min(0.5, math.sqrt(gn))
        z, r, v, rr = None, g, -g, 1.0
        for j in range(self.max_cg):
            Hv = self.hvp(x, v)
            curv = dot(v, Hv, xp=xp)
            if not 0 < curv < math.inf:  # negative or zero curvature, or an HVP past the range (±inf or nan in Hv)
                return gn * (-g if z is None else z)
            a = rr / curv
            z = a * v if z is None else z + a * v
            r = r + a * Hv
            rr_new = dot(r, r, xp=xp)
            if math.sqrt(rr_new) <= stop:
                break
            v, rr = -r + (rr_new / rr) * v, rr_new
        return gn * (-g if z is None else z)  # z is None only when max_cg = 0: the steepest descent

    def _dense(self, x: Array, g: Array) -> Array | None:
        xp, hessian = self.xp, self.hessian
        assert hessian is not None  # direction() calls this only with a Hessian
        H = hessian(x)
        if not bool(xp.all(xp.isfinite(H))):
            return None  # out of float range: truncated CG on Hessian-vector products instead
        lam, V = xp.linalg.eigh((H + H.T) / 2)
        top = float(xp.max(xp.abs(lam)))
        if not math.isfinite(top) or top == 0:
            return None
        mu = 10 * lam.shape[0] * float(xp.finfo(lam.dtype).eps) * top
        w = xp.abs(lam)
        w = xp.where(w > mu, w, xp.full_like(w, mu))
        return -(V @ ((V.T @ g) / w))

    def update(self, s: Array, y: Array) -> None:
        return None

    def reset(self) -> bool:
        return True  # the Newton direction is not −∇L: a retry along −∇L is a new direction
