r"""Array norms, written once (array API, keyword ``xp``; the mpmath twins are in ``reference/norms.py``).

* :func:`l2` — ``||a||₂`` of all entries (the Frobenius norm of a matrix), scaled by ``max|a|``: the plain
  ``sqrt(Σ a²)`` is 0 below about 1e-154 in float64 and inf above about 1e154 (it once made a solver report
  convergence at a gradient of 1e-174); scaled, it is finite and accurate wherever ``||a||`` is.
* :func:`spectral` — ``||M||₂ = σ₁(M)``, the largest singular value (the library's SVD-based matrix norm;
  0 for an empty matrix).
* :func:`power_iteration` — ``σ₁²`` of an operator ``J`` given only by ``N = JᵀJ`` (``v ↦ Jᵀ(J v)``), for
  operators too large or too structured to form (``A1'⊗A2' − A1⊗A2``, a Jacobian). From a unit start ``v``,
  ``v ← N v / ||N v||``; ``λ = ||N v||`` for unit ``v`` satisfies ``||J v||² ≤ λ ≤ σ₁²`` (Cauchy–Schwarz and
  ``||N|| = σ₁²``), so ``√λ`` is a lower estimate of ``σ₁`` at every step, and it increases to ``σ₁`` when the
  start is not orthogonal to the top singular vector (the error after ``k`` steps is of order
  ``(σ₂/σ₁)^{2k}``: slow exactly when the top singular values are close).
"""
from __future__ import annotations

import math
from collections.abc import Callable

from ._types import Array, Namespace


def l2(a: Array, *, xp: Namespace) -> float:
    """``||a||₂`` over all entries (Frobenius for a matrix), scaled by ``max|a|`` (module docstring)."""
    if math.prod(a.shape) == 0:
        return 0.0
    top = float(xp.max(xp.abs(a)))
    if top == 0 or not math.isfinite(top):
        return top
    z = a / top
    return top * math.sqrt(float(xp.sum(z * z)))


def spectral(M: Array, *, xp: Namespace) -> float:
    """``||M||₂``, the largest singular value of the matrix ``M`` (0 when ``M`` is empty; like :func:`l2`, inf
    for an inf entry and nan for a nan entry, where the SVD would fail or return nan)."""
    if math.prod(M.shape) == 0:
        return 0.0
    top = float(xp.max(xp.abs(M)))
    if not math.isfinite(top):
        return math.nan if bool(xp.any(xp.isnan(M))) else math.inf
    return float(xp.linalg.matrix_norm(M, ord=2))


def power_iteration(normal: Callable[[Array], Array], v: Array, *, xp: Namespace, iterations: int,
                    rtol: float = 0.0) -> tuple[float, Array]:
    """``(λ, v)`` after at most ``iterations`` steps ``v ← N v / ||N v||`` from the unit vector ``v``
    (``normal`` is ``N = JᵀJ``; ``λ = ||N v||`` of the last step, ``≤ σ₁(J)²``; module docstring). Stops early
    when ``λ`` changes by at most ``rtol·λ`` between two steps, and at ``λ = 0`` (then ``J v = 0``)."""
    lam = 0.0
    for _ in range(iterations):
        w = normal(v)
        g = l2(w, xp=xp)
        if g == 0.0:
            return 0.0, v
        v, lam, previous = w / g, g, lam
        if abs(lam - previous) <= rtol * lam:
            break
    return lam, v
