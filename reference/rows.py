r"""One softmax row at any precision, ``ctx`` first (the reference mirror of ``attnreg._rows``).

For logits ``s ∈ R^n`` and target ``b ∈ R^n`` (lists of ``ctx.mpf``), in the paper's letters:
``u = exp(s)``, ``α = ⟨u, 1⟩``, ``f = u/α``, ``c = f − b``, ``h = u − α b``;

* normalized ``ℓ = ½||c||²``, ``p = ∂ℓ/∂s = f∘c − ⟨f, c⟩ f``  (= ``(diag f − f fᵀ) c``);
* rescaled ``ℓ = ½||h||²``, ``p = u∘h − ⟨h, b⟩ u``.

The row Hessian ``K = ∂²ℓ/∂s²`` is diagonal plus rank two, ``K = diag(g) − v eᵀ − e vᵀ + κ e eᵀ``
(:func:`hessian_terms`; the one formula of the row Hessian, which the reference's dense and low-rank
Hessians and the statements of the Hessian lemmas in proofs/ use):

* normalized: ``g = f∘(f + c − ⟨f, c⟩)``, ``v = g``, ``e = f``, ``κ = ||f||²``;
* rescaled:   ``g = u∘(h + u − ⟨h, b⟩)``, ``v = u∘b``, ``e = u``, ``κ = ||b||²``.

Both follow by differentiating ``p`` along a unit vector ``e_l`` (``df = J e_l`` with
``J = diag f − f fᵀ``, resp. ``du = u_l e_l``, ``dh = u_l (e_l − b)``): normalized,
``K_kl = J_kl (w_k − ⟨f,c⟩) − f_k f_l (w_l − ⟨f,w⟩)`` with ``w = f + c``, i.e. ``K = diag(g) − g fᵀ − f rᵀ``
with ``r = f∘(w − ⟨f,w⟩)``, and ``g − r = (⟨f,w⟩ − ⟨f,c⟩) f = ||f||² f`` gives the symmetric form;
rescaled, ``K_kl = δ_kl u_l (h_l + u_l − ⟨h,b⟩) − u_k u_l (b_k + b_l − ||b||²)``. proofs/ derives them
symbolically and verify/ checks them against ``ctx.diff``. No shift is needed: mpmath's exponent range is
unbounded. The ``*_terms`` functions use only ``ctx.fdot``, so proofs/ runs them on sympy symbols too.
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


def normalized_terms(ctx, f, c):
    """``(g, v, e, κ)`` of the normalized row Hessian from ``f`` and ``c`` (module docstring)."""
    fc = ctx.fdot(f, c)
    g = [fi * (fi + ci - fc) for fi, ci in zip(f, c)]
    return g, g, f, ctx.fdot(f, f)


def rescaled_terms(ctx, u, h, b):
    """``(g, v, e, κ)`` of the rescaled row Hessian from ``u``, ``h`` and ``b`` (module docstring)."""
    hb = ctx.fdot(h, b)
    return [ui * (hi + ui - hb) for ui, hi in zip(u, h)], [ui * bi for ui, bi in zip(u, b)], u, ctx.fdot(b, b)


def hessian_terms(ctx, s, b, version):
    """``(g, v, e, κ)`` with ``K = diag(g) − v eᵀ − e vᵀ + κ e eᵀ`` for one row (module docstring)."""
    u = exps(ctx, s)
    alpha = ctx.fsum(u)
    if version == "normalized":
        f = [t / alpha for t in u]
        return normalized_terms(ctx, f, [fi - bi for fi, bi in zip(f, b)])
    return rescaled_terms(ctx, u, [ui - alpha * bi for ui, bi in zip(u, b)], b)


def dense(g, v, e, kappa):
    """``diag(g) − v eᵀ − e vᵀ + κ e eᵀ`` as a list of rows."""
    n = len(g)
    return [[(g[k] if k == l else 0) - v[k] * e[l] - e[k] * v[l] + kappa * e[k] * e[l] for l in range(n)]
            for k in range(n)]


def normalized_hessian(ctx, s, b):
    """``K = ∂²ℓ/∂s²`` (n × n list of rows) for the normalized row loss."""
    return dense(*hessian_terms(ctx, s, b, "normalized"))


def rescaled_hessian(ctx, s, b):
    """``K = ∂²ℓ/∂s²`` (n × n list of rows) for the rescaled row loss."""
    return dense(*hessian_terms(ctx, s, b, "rescaled"))


ROW = {"normalized": normalized, "rescaled": rescaled}
ROW_HESSIAN = {"normalized": normalized_hessian, "rescaled": rescaled_hessian}
