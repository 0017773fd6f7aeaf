r"""One softmax row in ball arithmetic (python-flint ``arb``), in forms that do not cancel when saturated.

Inputs are lists of ``arb`` (points or balls of any radius: the formulas enclose the true value for
every point of the box, so a later certificate can evaluate them over boxes); the working precision is
flint's (``flint.ctx.workprec``). Letters of :mod:`.rows`: ``u = exp(s)``, ``α = ⟨u, 1⟩``, ``f = u/α``,
``c = f − b``, ``h = u − α b``. Let ``m`` be the index of the largest logit (by midpoint; any index
makes the formulas exact, the largest one makes them accurate) and ``ū = Σ_{j≠m} u_j``,
``f̄ = ū/α = 1 − f_m``. Then, exactly,

* ``c_m = (1 − b_m) − f̄``               (``f_m − b_m`` loses every digit when ``f_m → 1 = b_m``);
* ``h_m = u_m (1 − b_m) − b_m ū``        (``u_m − α b_m`` likewise);
* normalized ``p_k = f_k (c_k − ⟨f, c⟩)`` and ``p_m = f_m (c_m f̄ − Σ_{j≠m} f_j c_j)``
  (because ``c_m − ⟨f, c⟩ = c_m (1 − f_m) − Σ_{j≠m} f_j c_j``);
* rescaled ``p_k = u_k (h_k − ⟨h, b⟩)`` and ``p_m = u_m (h_m (1 − b_m) − Σ_{j≠m} h_j b_j)``;
* the row Hessian ``K = diag(g) − v eᵀ − e vᵀ + κ e eᵀ`` of :func:`.rows.hessian_terms` with
  ``g = f∘f + p`` (normalized; ``v = g``, ``e = f``, ``κ = ||f||²``) or ``g = u∘u + p`` (rescaled;
  ``v = u∘b``, ``e = u``, ``κ = ||b||²``), since ``f∘(f + c − ⟨f,c⟩) = f∘f + p`` and
  ``u∘(h + u − ⟨h,b⟩) = u∘u + p``.

With an exact one-hot target on the argmax, ``1 − b_m`` is an exact 0 and ``f̄``, ``ū`` are sums of
positive terms, so the loss and the gradient keep their relative accuracy at any logit gap (``|S| = 10⁴``
included, where ``e^{−10⁴}`` is far below float64's range; arb's exponents are unbounded). Where a
formula still cancels (the Hessian of a saturated row), the balls widen and :mod:`.balls` raises the
precision until they are narrow enough: cancellation costs time, never digits.
"""
from __future__ import annotations

from dataclasses import dataclass

from flint import arb


def total(xs):
    out = arb(0)
    for x in xs:
        out += x
    return out


def dot(a, b):
    return total(x * y for x, y in zip(a, b))


@dataclass(frozen=True)
class Softmax:
    u: list
    alpha: arb
    f: list
    m: int  # index of the largest logit (by midpoint)
    rest: arb  # ū = Σ_{j≠m} u_j
    fbar: arb  # f̄ = ū / α = 1 − f_m


def softmax(s) -> Softmax:
    m = max(range(len(s)), key=lambda k: s[k].mid())
    u = [t.exp() for t in s]
    rest = total(u[j] for j in range(len(u)) if j != m)
    alpha = u[m] + rest
    f = [t / alpha for t in u]
    if rest.is_zero():  # one term (n = 1, or every other u_j an exact 0): f_m = 1 exactly, not the ball u_m/u_m
        f[m] = arb(1)
    return Softmax(u, alpha, f, m, rest, rest / alpha)


def residual_c(sm: Softmax, b) -> list:
    """``c = f − b`` with ``c_m = (1 − b_m) − f̄``."""
    c = [fk - bk for fk, bk in zip(sm.f, b)]
    c[sm.m] = (1 - b[sm.m]) - sm.fbar
    return c


def residual_h(sm: Softmax, b) -> list:
    """``h = u − α b`` with ``h_m = u_m (1 − b_m) − b_m ū``."""
    h = [uk - sm.alpha * bk for uk, bk in zip(sm.u, b)]
    h[sm.m] = sm.u[sm.m] * (1 - b[sm.m]) - b[sm.m] * sm.rest
    return h


def normalized(s, b, sm: Softmax | None = None):
    """``(ℓ, p)`` of the normalized row loss ``½||c||²`` (``sm``: the row's softmax, if already known)."""
    sm = sm or softmax(s)
    c, m = residual_c(sm, b), sm.m
    fc = dot(sm.f, c)
    p = [fk * (ck - fc) for fk, ck in zip(sm.f, c)]
    p[m] = sm.f[m] * (c[m] * sm.fbar - total(sm.f[j] * c[j] for j in range(len(c)) if j != m))
    return dot(c, c) / 2, p


def rescaled(s, b, sm: Softmax | None = None):
    """``(ℓ, p)`` of the rescaled row loss ``½||h||²`` (``sm`` as in :func:`normalized`)."""
    sm = sm or softmax(s)
    h, m = residual_h(sm, b), sm.m
    hb = dot(h, b)
    p = [uk * (hk - hb) for uk, hk in zip(sm.u, h)]
    p[m] = sm.u[m] * (h[m] * (1 - b[m]) - total(h[j] * b[j] for j in range(len(h)) if j != m))
    return dot(h, h) / 2, p


ROW = {"normalized": normalized, "rescaled": rescaled}


def hessian_terms(s, b, version):
    """``(g, v, e, κ)`` with ``K = diag(g) − v eᵀ − e vᵀ + κ e eᵀ`` (module docstring)."""
    sm = softmax(s)
    _, p = ROW[version](s, b, sm)
    if version == "normalized":
        f = sm.f
        g = [fk * fk + pk for fk, pk in zip(f, p)]
        return g, g, f, dot(f, f)
    u = sm.u
    return [uk * uk + pk for uk, pk in zip(u, p)], [uk * bk for uk, bk in zip(u, b)], u, dot(b, b)


def hessian_times(terms, ds):
    """``K ds`` for one row from its :func:`hessian_terms`."""
    g, v, e, kappa = terms
    e_ds, v_ds = dot(e, ds), dot(v, ds)
    return [gk * dk - vk * e_ds - ek * v_ds + kappa * ek * e_ds for gk, dk, vk, ek in zip(g, ds, v, e)]


def blocks(s, b=None) -> dict:
    """``dict(u, alpha, f[, c, h])`` of one row (``c`` and ``h`` need ``b``)."""
    sm = softmax(s)
    out = dict(u=sm.u, alpha=sm.alpha, f=sm.f)
    if b is not None:
        out.update(c=residual_c(sm, b), h=residual_h(sm, b))
    return out
