r"""Truncated Newton-CG directions (Nocedal & Wright, Alg. 7.1), array-API generic.

Conjugate gradients on ``∇²L p = −∇L`` using only Hessian-vector products (:func:`attnreg.hvp`, exact),
stopped when the residual falls below ``η ||∇L||`` with ``η = min(½, √||∇L||)`` (superlinear
convergence near a nondegenerate minimiser) or after ``max_cg`` products. Negative curvature: when a
CG direction ``v`` has ``vᵀ∇²L v ≤ 0`` the iterate so far is returned (it is a descent
direction), or ``−∇L`` if that happens at the first CG step. CG works in the Krylov space of ``∇L``,
which is orthogonal to the null directions ``z ⊗ w`` of the normalized Hessian (DESIGN §2), so those
do no harm.
"""
from __future__ import annotations

import math

from ._lbfgs import dot, norm


class NewtonCG:
    name = "newton-cg"
    patience = 10  # polishing below the default tol: steps allowed without halving ||∇L||

    def __init__(self, hvp, *, xp, max_cg: int):
        self.hvp, self.xp, self.max_cg = hvp, xp, max_cg

    def direction(self, x, g):
        xp = self.xp
        gn = norm(g, xp=xp)
        # CG is linear in g: run it on g/||g|| (no underflow for tiny gradients), scale the result back.
        g = g / gn
        stop = min(0.5, math.sqrt(gn))
        z, r, v, rr = None, g, -g, 1.0
        for j in range(self.max_cg):
            Hv = self.hvp(x, v)
            curv = dot(v, Hv, xp=xp)
            if not curv > 0:  # negative or zero curvature (or nan)
                return gn * (-g if z is None else z)
            a = rr / curv
            z = a * v if z is None else z + a * v
            r = r + a * Hv
            rr_new = dot(r, r, xp=xp)
            if math.sqrt(rr_new) <= stop:
                break
            v, rr = -r + (rr_new / rr) * v, rr_new
        return gn * z

    def update(self, s, y) -> None:
        return None

    def reset(self) -> bool:
        return True  # the Newton direction is not −∇L: a retry along −∇L is a new direction
