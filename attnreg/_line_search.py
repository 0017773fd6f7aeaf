r"""Line search for the production solvers: strong Wolfe conditions (Nocedal & Wright, Alg. 3.5–3.6).

Along ``φ(t) = L(x + t p)`` with ``φ'(0) < 0``, find ``t`` with

* sufficient decrease  ``φ(t) ≤ φ(0) + c₁ t φ'(0)``, and
* curvature            ``|φ'(t)| ≤ c₂ |φ'(0)|``  (``c₁ = 10⁻⁴``, ``c₂ = 0.9``).

Near a minimiser with ``L > 0`` the decrease ``φ(0) − φ(t)`` drowns in float rounding, so the
sufficient-decrease test alone would fail there; as in Hager & Zhang's approximate Wolfe conditions,
a step is also accepted when ``φ(t) ≤ φ(0) + ε|φ(0)|`` (``ε`` a few hundred ulps) and
``φ'(t) ≤ (2c₁ − 1) φ'(0)``, which is what the first condition says for a quadratic. A non-finite
``φ(t)`` (rescaled overflow) counts as "too far". Scalars are Python floats; ``φ`` returns
``(φ(t), φ'(t), payload)`` and the payload of the accepted step is handed back, so nothing is
evaluated twice.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

P = TypeVar("P")  # the payload that phi hands back with φ(t), φ'(t)
Phi = Callable[[float], tuple[float, float, P]]
Trial = tuple[float, float, float, P | None]  # (t, φ(t), φ'(t), payload); no payload at t = 0

C1, C2 = 1e-4, 0.9
EPS = 2.0**-52


def _ok(f: float, f0: float, d: float, d0: float, t: float, tiny: float) -> bool:
    armijo = f <= f0 + C1 * t * d0
    approx = f <= f0 + tiny and d <= (2 * C1 - 1) * d0
    return armijo or approx


def wolfe(phi: Phi[P], f0: float, d0: float, t: float = 1.0, *, max_evals: int = 40,
          eps: float = EPS) -> tuple[float, P] | None:
    """Return ``(t, payload)`` satisfying the (approximate) strong Wolfe conditions; when the bracket
    collapses first, the best point found that has sufficient decrease (Armijo only); None if there is none."""
    tiny = 256 * eps * abs(f0)
    lo: Trial[P] = (0.0, f0, d0, None)
    for i in range(max_evals):
        f, d, pay = phi(t)
        if not math.isfinite(f) or not _ok(f, f0, d, d0, t, tiny) or (i > 0 and f >= lo[1]):
            return _zoom(phi, lo, (t, f, d, pay), f0, d0, tiny, max_evals - i - 1)
        if abs(d) <= -C2 * d0:
            return t, pay
        if d >= 0:
            return _zoom(phi, (t, f, d, pay), lo, f0, d0, tiny, max_evals - i - 1)
        lo, t = (t, f, d, pay), 2 * t
    return None


def _zoom(phi: Phi[P], lo: Trial[P], hi: Trial[P], f0: float, d0: float, tiny: float,
          evals: int) -> tuple[float, P] | None:
    """Shrink ``[lo, hi]`` (``lo`` the best point that satisfies the decrease test) by safeguarded
    cubic interpolation, bisection when the cubic is unusable or ``hi`` is non-finite."""
    for _ in range(max(evals, 0)):
        t = _cubic(lo, hi)
        f, d, pay = phi(t)
        if not math.isfinite(f) or not _ok(f, f0, d, d0, t, tiny) or f >= lo[1]:
            hi = (t, f, d, pay)
            continue
        if abs(d) <= -C2 * d0:
            return t, pay
        if d * (hi[0] - lo[0]) >= 0:
            hi = lo
        lo = (t, f, d, pay)
        if abs(hi[0] - lo[0]) <= 1e-12 * max(abs(lo[0]), 1e-300):
            break
    return (lo[0], lo[3]) if lo[3] is not None else None


def _cubic(lo: Trial[P], hi: Trial[P]) -> float:
    (a, fa, da, _), (b, fb, db, _) = lo, hi
    mid, width = (a + b) / 2, abs(b - a)
    if a == b or not (math.isfinite(fb) and math.isfinite(db)):
        return mid
    d1 = da + db - 3 * (fa - fb) / (a - b)
    rad = d1 * d1 - da * db
    if rad < 0:
        return mid
    d2 = math.copysign(math.sqrt(rad), b - a)
    denom = db - da + 2 * d2
    if denom == 0:
        return mid
    t = b - (b - a) * (db + d2 - d1) / denom
    lo_edge, hi_edge = min(a, b) + 0.1 * width, max(a, b) - 0.1 * width
    return t if lo_edge <= t <= hi_edge else mid
