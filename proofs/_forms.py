r"""The paper's objects, written once against ``ops`` (sympy or mpmath), in the paper's letters.

For logits ``s`` (a column) and target ``b``: ``u = exp(s)``, ``α = ⟨u, 1⟩``, ``f = u/α``, ``c = f − b``,
``h = u − α b``; ``J = diag(f) − f fᵀ``. Row gradients ``p`` and Hessians ``K`` of the row losses
``ℓ_N = ½||c||²`` and ``ℓ_R = ½||h||²`` in the logits (the statements of the gradient and Hessian lemmas).
"""
from __future__ import annotations

from types import SimpleNamespace

from attnreg.reference import rows

from ._ops import entries


def parts(ops, s, b=None):
    """``u, alpha, f`` (and ``c, h`` when ``b`` is given) at logits ``s``."""
    u = ops.exp(s)
    alpha = sum(entries(u))
    f = u / alpha
    out = SimpleNamespace(s=s, u=u, alpha=alpha, f=f, b=b)
    if b is not None:
        out.c, out.h = f - b, u - alpha * b
    return out


def jac(ops, f):
    """``J = diag(f) − f fᵀ``, the softmax Jacobian."""
    return ops.diag(f) - f * f.T


def p_normalized(ops, f, c):
    """``∂ℓ_N/∂s = (diag(f) − f fᵀ) c``."""
    return jac(ops, f) * c


def p_rescaled(ops, u, h, b):
    """``∂ℓ_R/∂s = u ∘ h − ⟨h, b⟩ u``."""
    return ops.had(u, h) - ops.dot(h, b) * u


class _Dots:
    """The one ``ctx`` method the row-Hessian formula of reference/rows.py uses, for any ``ops``."""

    def __init__(self, ops):
        self.ops = ops

    def fdot(self, a, b):
        return self.ops.dot(self.ops.col(a), self.ops.col(b))


def k_normalized(ops, f, c):
    """``K_kl = J_kl (w_k − ⟨f, c⟩) − f_k f_l (w_l − ⟨f, w⟩)``, ``w = f + c`` (the derivative, entry by entry)."""
    k = len(entries(f))
    w = f + c
    fc, fw = ops.dot(f, c), ops.dot(f, w)
    J = jac(ops, f)
    return ops.matrix([[J[a, l] * (w[a] - fc) - f[a] * f[l] * (w[l] - fw) for l in range(k)] for a in range(k)])


def k_rescaled(ops, u, h, b):
    """``K_kl = δ_kl u_l (h_l + u_l − ⟨h, b⟩) − u_k u_l (b_k + b_l − ||b||²)`` (the derivative, entry by entry)."""
    k = len(entries(u))
    hb, bb = ops.dot(h, b), ops.dot(b, b)
    return ops.matrix([[(u[l] * (h[l] + u[l] - hb) if a == l else 0) - u[a] * u[l] * (b[a] + b[l] - bb)
                        for l in range(k)] for a in range(k)])


def k_low_rank(ops, version, r):
    """``K`` as the reference evaluates it — diagonal plus rank two, ``reference/rows.py``'s one formula
    (``diag(g) − v eᵀ − e vᵀ + κ e eᵀ``) — for the lemma that proves it equal to :func:`k_normalized` /
    :func:`k_rescaled` (Lemma hessian_normalized / hessian_rescaled, step 3)."""
    if version == "normalized":
        terms = rows.normalized_terms(_Dots(ops), entries(r.f), entries(r.c))
    else:
        terms = rows.rescaled_terms(_Dots(ops), entries(r.u), entries(r.h), entries(r.b))
    return ops.matrix(rows.dense(*terms))


P = {"normalized": lambda ops, r: p_normalized(ops, r.f, r.c), "rescaled": lambda ops,
     r: p_rescaled(ops, r.u, r.h, r.b)}
K = {"normalized": lambda ops, r: k_normalized(ops, r.f, r.c), "rescaled": lambda ops,
     r: k_rescaled(ops, r.u, r.h, r.b)}
LOSS = {"normalized": lambda ops, r: ops.dot(r.c, r.c) / 2, "rescaled": lambda ops, r: ops.dot(r.h, r.h) / 2}


def matrix_rows(ops, A1, A2, X, B=None):
    """``S = A1 X A2ᵀ`` and the parts of each row ``s_j`` (target ``b_j`` = row j of B)."""
    S = A1 * X * A2.T
    return S, [parts(ops, S[j, :].T, None if B is None else B[j, :].T) for j in range(S.rows)]


def stack(ops, cols):
    """The matrix whose rows are the given columns."""
    return ops.matrix([entries(c) for c in cols])
