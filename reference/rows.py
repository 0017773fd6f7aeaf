r"""One softmax row at any precision, ``ctx`` first (the reference mirror of ``attnreg._rows``).

For logits ``s ∈ R^n`` and target ``b ∈ R^n`` (lists of ``ctx.mpf``), in the paper's letters:
``u = exp(s)``, ``α = ⟨u, 1⟩``, ``f = u/α``, ``c = f − b``, ``h = u − α b``;

* normalized ``ℓ = ½||c||²``, ``p = ∂ℓ/∂s = f∘c − ⟨f, c⟩ f``  (= ``(diag f − f fᵀ) c``),
  ``K = ∂²ℓ/∂s²``, ``K_kl = J_kl (w_k − ⟨f, c⟩) − f_k f_l (w_l − ⟨f, w⟩)`` with ``w = f + c``,
  ``J = diag(f) − f fᵀ``;
* rescaled ``ℓ = ½||h||²``, ``p = u∘h − ⟨h, b⟩ u``,
  ``K_kl = δ_kl u_l (h_l + u_l − ⟨h, b⟩) − u_k u_l (b_k + b_l − ||b||²)``.

Both ``K`` follow by differentiating ``p`` along a unit vector ``e_l`` (``df = J e_l``, resp.
``du = u_l e_l``, ``dh = u_l (e_l − b)``); proofs/ derives them and verify/ checks them against
``ctx.diff``. No shift is needed: mpmath's exponent range is unbounded.
"""
from __future__ import annotations


def dot(ctx, a, b):
    return ctx.fdot(a, b)


def exps(ctx, s):
    return [ctx.exp(v) for v in s]


def softmax(ctx, s):
    u = exps(ctx, s)
    alpha = ctx.fsum(u)
    return [v / alpha for v in u]


def normalized(ctx, s, b):
    """``(ℓ, p)`` for the normalized row loss."""
    f = softmax(ctx, s)
    c = [fi - bi for fi, bi in zip(f, b)]
    fc = dot(ctx, f, c)
    return ctx.fsum(ci * ci for ci in c) / 2, [fi * ci - fc * fi for fi, ci in zip(f, c)]


def rescaled(ctx, s, b):
    """``(ℓ, p)`` for the rescaled row loss."""
    u = exps(ctx, s)
    alpha = ctx.fsum(u)
    h = [ui - alpha * bi for ui, bi in zip(u, b)]
    hb = dot(ctx, h, b)
    return ctx.fsum(hi * hi for hi in h) / 2, [ui * hi - hb * ui for ui, hi in zip(u, h)]


def normalized_hessian(ctx, s, b):
    """``K = ∂²ℓ/∂s²`` (n × n list of rows) for the normalized row loss."""
    f = softmax(ctx, s)
    c = [fi - bi for fi, bi in zip(f, b)]
    w = [fi + ci for fi, ci in zip(f, c)]
    fc, fw = dot(ctx, f, c), dot(ctx, f, w)
    n = len(s)
    return [[(f[k] * (k == l) - f[k] * f[l]) * (w[k] - fc) - f[k] * f[l] * (w[l] - fw) for l in range(n)]
            for k in range(n)]


def rescaled_hessian(ctx, s, b):
    """``K = ∂²ℓ/∂s²`` (n × n list of rows) for the rescaled row loss."""
    u = exps(ctx, s)
    alpha = ctx.fsum(u)
    h = [ui - alpha * bi for ui, bi in zip(u, b)]
    hb, bb = dot(ctx, h, b), dot(ctx, b, b)
    n = len(s)
    return [[(u[l] * (h[l] + u[l] - hb) if k == l else 0) - u[k] * u[l] * (b[k] + b[l] - bb) for l in range(n)]
            for k in range(n)]


ROW = {"normalized": normalized, "rescaled": rescaled}
ROW_HESSIAN = {"normalized": normalized_hessian, "rescaled": rescaled_hessian}
